#pragma once
/// Test helpers for executor tests (header-only, shared by every test file):
///  - lines / untimed_lines / take_lines: a trace as `format_event` lines;
///  - report_text: a RunReport as one comparable line (status, polls, stuck tasks);
///  - take_output: the output of a finished task, through its JoinHandle;
///  - Gate: a leaf future opened from outside (by the test, another task or thread);
///  - ForgetsWaker: Pending once without keeping (or waking) its waker, then Ready;
///  - WakesItself: wakes itself N times during its first poll, Ready at the second;
///  - Carrying: wraps a future with a Tracked token, so its destruction is counted;
///  - task_of / state_text / counts_text: a task's state bits and counts, as text;
///  - Steps: a future that runs the test's next step at each poll;
///  - HandOff / HandsOffWaker / ParkAfterPending: a waker handed to another thread,
///    for the stall tests across threads;
///  - Relay / RelayedWakes: wakes from another thread racing the end of each poll;
///  - status_text / eventually: a report without its poll count; waiting for another
///    thread's progress;
///  - HeldBlocking / release_after_children: a blocking call inside a poll that lasts
///    until the test releases it, once the children its task spawned have finished.
/// Builds on counted.hpp and test_wakers.hpp. Only add to this file.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pollscope/blocking.hpp>
#include <pollscope/context.hpp>
#include <pollscope/detail/task.hpp>
#include <pollscope/detail/threaded_core.hpp>
#include <pollscope/future.hpp>
#include <pollscope/join_handle.hpp>
#include <pollscope/poll.hpp>
#include <pollscope/run_report.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/waker.hpp>

#include "counted.hpp"

namespace pollscope_test {

// --- traces as text --------------------------------------------------------------

/// `format_event` of each event, in order.
inline std::vector<std::string> lines(const std::vector<pollscope::Event>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) out.push_back(pollscope::format_event(e));
  return out;
}

/// Like `lines`, without the leading "[time] " (for runs on the real clock).
inline std::vector<std::string> untimed_lines(const std::vector<pollscope::Event>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    std::string line = pollscope::format_event(e);
    out.push_back(line.substr(line.find("] ") + 2));
  }
  return out;
}

/// The lines recorded since the last call (clears the recorder, not the executor's
/// sequence numbers): lets a test assert the trace step by step.
inline std::vector<std::string> take_lines(pollscope::TraceRecorder& recorder) {
  std::vector<std::string> out = lines(recorder.events());
  recorder.clear();
  return out;
}

// --- run reports ------------------------------------------------------------------

/// "stalled, 3 polls, stuck {2, 4}", "completed, 10 polls, stuck {}".
inline std::string report_text(const pollscope::RunReport& report) {
  std::string text = pollscope::to_string(report.status);
  text += ", " + std::to_string(report.polls) + " polls, stuck {";
  for (std::size_t i = 0; i < report.stuck_tasks.size(); ++i) {
    if (i != 0) text += ", ";
    text += std::to_string(report.stuck_tasks[i]);
  }
  return text + "}";
}

/// "stalled, stuck {2, 4}": a report without its poll count (for runs whose number of
/// polls is not the point, e.g. a stall found after an extra poll).
inline std::string status_text(const pollscope::RunReport& report) {
  std::string text = pollscope::to_string(report.status);
  text += ", stuck {";
  for (std::size_t i = 0; i < report.stuck_tasks.size(); ++i) {
    if (i != 0) text += ", ";
    text += std::to_string(report.stuck_tasks[i]);
  }
  return text + "}";
}

/// Polls `condition` until it holds or `limit` passed; returns its last value. For
/// waiting on another thread's progress; assert the exact state afterwards.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

// --- join handles ------------------------------------------------------------------

/// Polls `handle` once with a no-op waker and returns the output: for tasks that
/// already finished. Throws what awaiting the handle throws (the task's exception,
/// pollscope::TaskAborted, std::logic_error the second time), and std::logic_error
/// (from Poll::value) if the task has not finished.
template <class T>
T take_output(pollscope::JoinHandle<T>& handle) {
  const pollscope::Waker noop = pollscope::Waker::noop();
  pollscope::Context cx(noop);
  return handle.poll(cx).value();
}

// --- leaf futures --------------------------------------------------------------------

/// A manual gate: `wait()` is a future that is Pending, keeping a clone of its
/// latest waker in the gate, until someone calls `open()`, which wakes that waker.
/// One waiter at a time. Thread-safe: open() may be called from any thread.
class Gate {
  struct State {
    std::mutex mutex;
    bool open = false;
    std::optional<pollscope::Waker> waker;
    int polls = 0;
  };

 public:
  class Wait {
   public:
    using Output = void;
    explicit Wait(std::shared_ptr<State> state) : state_(std::move(state)) {}
    pollscope::Poll<void> poll(pollscope::Context& cx) {
      std::optional<pollscope::Waker> replaced;  // dropped after the lock
      std::lock_guard<std::mutex> lock(state_->mutex);
      ++state_->polls;
      if (state_->open) return pollscope::ready();
      if (!state_->waker || !state_->waker->will_wake(cx.waker())) {
        replaced.swap(state_->waker);
        state_->waker.emplace(cx.waker());
      }
      return pollscope::pending;
    }

   private:
    std::shared_ptr<State> state_;
  };

  Gate() : state_(std::make_shared<State>()) {}

  Wait wait() const { return Wait(state_); }

  /// Opens the gate and wakes (consumes) the kept waker, if any. True if it woke one.
  bool open() {
    std::optional<pollscope::Waker> waker;
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->open = true;
      waker.swap(state_->waker);
    }
    if (!waker) return false;
    std::move(*waker).wake();
    return true;
  }

  /// A clone of the kept waker (empty if none): lets a test hold a waker of the task.
  std::optional<pollscope::Waker> clone_waker() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->waker;
  }

  /// Drops the kept waker without waking it.
  void forget_waker() {
    std::optional<pollscope::Waker> waker;
    std::lock_guard<std::mutex> lock(state_->mutex);
    waker.swap(state_->waker);
  }

  bool holds_waker() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->waker.has_value();
  }

  int polls() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->polls;
  }

 private:
  std::shared_ptr<State> state_;
};

/// Pending at its first poll without keeping or waking the waker (the classic lost
/// wakeup), Ready(value) at any later poll. Counts its polls in `polls()`.
class ForgetsWaker {
 public:
  using Output = int;
  explicit ForgetsWaker(int value = 0) noexcept : value_(value) {}
  pollscope::Poll<int> poll(pollscope::Context&) {
    if (++polls_ == 1) return pollscope::pending;
    return pollscope::ready(value_);
  }
  int polls() const noexcept { return polls_; }

 private:
  int value_;
  int polls_ = 0;
};

/// At its first poll wakes itself `wakes` times by reference and returns Pending;
/// Ready(polls so far) at the next poll.
class WakesItself {
 public:
  using Output = int;
  explicit WakesItself(int wakes) noexcept : wakes_(wakes) {}
  pollscope::Poll<int> poll(pollscope::Context& cx) {
    if (++polls_ > 1) return pollscope::ready(polls_);
    for (int i = 0; i < wakes_; ++i) cx.waker().wake_by_ref();
    return pollscope::pending;
  }

 private:
  int wakes_;
  int polls_ = 0;
};

/// Forwards to `F` and carries a Tracked token of `counts`: the token dies exactly
/// when this future does, so `counts.drops()` counts destructions of the future.
template <class F>
class Carrying {
 public:
  using Output = pollscope::output_t<F>;
  Carrying(F future, LifeCounts& counts) : future_(std::move(future)), token_(counts) {}
  pollscope::Poll<Output> poll(pollscope::Context& cx) { return future_.poll(cx); }

 private:
  F future_;
  Tracked token_;
};

template <class F>
Carrying<F> carrying(F future, LifeCounts& counts) {
  return Carrying<F>(std::move(future), counts);
}

// --- task state (detail/task.hpp) ----------------------------------------------------

/// The task cell behind a handle (null once its output was taken).
template <class T>
pollscope::detail::TaskHeader* task_of(const pollscope::JoinHandle<T>& handle) {
  return pollscope::detail::JoinHandleAccess::peek(handle);
}

/// State bits as text, in bit order: "SCHEDULED|RUNNING", "COMPLETED", "idle" for none.
inline std::string state_text(std::uint32_t s) {
  namespace ts = pollscope::detail::task_state;
  static constexpr std::pair<std::uint32_t, const char*> kBits[] = {
      {ts::scheduled, "SCHEDULED"},
      {ts::running, "RUNNING"},
      {ts::completed, "COMPLETED"},
      {ts::closed, "CLOSED"},
      {pollscope::detail::kCancelRequested, "CANCEL_REQUESTED"},
  };
  std::string out;
  for (const auto& [bit, name] : kBits) {
    if (s & bit) {
      if (!out.empty()) out += "|";
      out += name;
      s &= ~bit;
    }
  }
  if (s != 0) out += (out.empty() ? "" : "|") + std::string("unknown bits ") + std::to_string(s);
  return out.empty() ? "idle" : out;
}
inline std::string state_text(const pollscope::detail::TaskHeader* task) { return state_text(task->state.load()); }

/// The two halves of a task's counts: "refs 2, wakers 1".
inline std::string counts_text(const pollscope::detail::TaskHeader* task) {
  const std::uint64_t c = task->counts_now();
  return "refs " + std::to_string(c & 0xFFFFFFFFu) + ", wakers " + std::to_string(c >> 32);
}

/// A future that runs the test's next step at each poll (a function of the Context
/// returning the Poll), so a test can act on the task, and look at it, from inside a
/// poll. Polling past the last step throws std::out_of_range. Carries a Tracked of
/// `counts`: its destruction shows in counts.drops().
class Steps {
 public:
  using Output = int;
  using Step = std::function<pollscope::Poll<int>(pollscope::Context&)>;
  Steps(LifeCounts& counts, std::vector<Step> steps) : token_(counts), steps_(std::move(steps)) {}
  pollscope::Poll<int> poll(pollscope::Context& cx) { return steps_.at(polls_++)(cx); }

 private:
  Tracked token_;
  std::vector<Step> steps_;
  std::size_t polls_ = 0;
};

// --- a waker handed to another thread (stall tests) ------------------------------------

/// Where a HandsOffWaker puts the clone of its waker for another thread, and how the
/// test gets the task going again without holding a waker of its own.
struct HandOff {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<pollscope::Waker> waker;  // the handed-over clone, until taken
  pollscope::RawWaker raw{nullptr, nullptr};  // the lent waker, uncounted
  std::atomic<bool> rescued{false};
  std::atomic<int> polls{0};

  /// Waits until the waker was handed over, then drops it unwoken on the calling thread.
  void drop_when_handed() {
    std::optional<pollscope::Waker> taken;
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return waker.has_value(); });
      taken.swap(waker);
    }
  }
  /// Lets the future complete and wakes it through a new clone of the lent raw waker
  /// (counted, so the task or parker stays alive during the wake). The caller makes
  /// sure the task (or the block_on call's parker) is still alive when it clones.
  void rescue() {
    rescued.store(true);
    pollscope::RawWaker r;
    {
      std::lock_guard<std::mutex> lock(mutex);
      r = raw;
    }
    pollscope::Waker::from_raw(r.vtable->clone(r.data)).wake();
  }
};

/// At its first poll hands a clone of its waker to `HandOff::waker` and is Pending.
/// At later polls: Ready(polls) once `rescued`, else Pending without keeping a waker.
class HandsOffWaker {
 public:
  using Output = int;
  explicit HandsOffWaker(HandOff& hand_off) noexcept : h_(&hand_off) {}
  pollscope::Poll<int> poll(pollscope::Context& cx) {
    const int n = ++h_->polls;
    if (n == 1) {
      {
        std::lock_guard<std::mutex> lock(h_->mutex);
        h_->raw = cx.waker().as_raw();
        h_->waker.emplace(cx.waker());
      }
      h_->cv.notify_all();
      return pollscope::pending;
    }
    if (h_->rescued.load()) return pollscope::ready(n);
    return pollscope::pending;
  }

 private:
  HandOff* h_;
};

/// A tracer that records everything and tells a waiting thread when the executor
/// parks after a Pending poll (i.e. waits for a wake from outside).
class ParkAfterPending final : public pollscope::Tracer {
 public:
  void record(const pollscope::Event& event) override {
    recorder.record(event);
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.kind == pollscope::EventKind::poll_pending) pending_seen_ = true;
    if (event.kind == pollscope::EventKind::park && pending_seen_) {
      parked_ = true;
      cv_.notify_all();
    }
  }
  /// Waits (at most `limit`) for a park after a Pending poll; false on timeout.
  bool wait_for_park(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return parked_; });
  }

  pollscope::TraceRecorder recorder;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool pending_seen_ = false;
  bool parked_ = false;
};

// --- wakes racing the end of a poll -------------------------------------------------------

/// A waker passed from a future to a thread that wakes it as soon as it gets it.
struct Relay {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<pollscope::Waker> waker;
  bool done = false;

  /// The waking thread's loop: wake() each waker handed over, until finish().
  void wake_each() {
    for (;;) {
      std::optional<pollscope::Waker> w;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return waker.has_value() || done; });
        if (!waker) return;
        w.swap(waker);
      }
      std::move(*w).wake();
    }
  }
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      done = true;
    }
    cv.notify_all();
  }
};

/// Pending `rounds` times, each time handing a clone of its waker to `relay` as the
/// last thing before returning (so the wake races the end of the poll); then
/// Ready(number of polls).
class RelayedWakes {
 public:
  using Output = int;
  RelayedWakes(Relay& relay, int rounds) : relay_(&relay), rounds_(rounds) {}
  pollscope::Poll<int> poll(pollscope::Context& cx) {
    if (++polls_ > rounds_) return pollscope::ready(polls_);
    {
      std::lock_guard<std::mutex> lock(relay_->mutex);
      relay_->waker.emplace(cx.waker());
    }
    relay_->cv.notify_one();
    return pollscope::pending;
  }

 private:
  Relay* relay_;
  int rounds_;
  int polls_ = 0;
};

// --- a blocking call held by the test ---------------------------------------------------

/// A blocking call (pollscope::blocking_call) that lasts until the test calls
/// release(), not for a fixed time: a test that needs a thread held inside a poll
/// while something else happens (another worker stealing its queue, say) holds it for
/// exactly as long as that takes, however slow the machine. A fixed duration would
/// end early under a sanitizer on a loaded machine, and the test would then see
/// what happens after the call instead. block() runs inside a poll: it makes 1 ms
/// blocking calls (each one traced as a `blocking` event, each one handing the
/// worker's queued tasks over as a blocking call does) until released. Release it
/// before any assertion that can fail, or the executor's destructor waits forever.
class HeldBlocking {
 public:
  void block() {
    while (!released_.load(std::memory_order_acquire)) pollscope::blocking_call(std::chrono::milliseconds(1));
  }
  void release() { released_.store(true, std::memory_order_release); }

 private:
  std::atomic<bool> released_{false};
};

/// What a test of stealing sees: a root task, holding its worker with `hold`, spawned
/// `children` onto that worker's queue.
struct HeldRootOutcome {
  bool children_finished;   // all of them, while the root still held its worker
  bool root_still_blocked;  // so only another worker, by stealing, can have run them
};
/// Waits (as `eventually` does) until every child finished, notes whether the root is
/// still blocked, then releases it: before the test asserts anything, since the
/// executor's destructor waits for the blocked poll.
template <class Children, class Root>
HeldRootOutcome release_after_children(const Children& children, const Root& root, HeldBlocking& hold) {
  HeldRootOutcome outcome{};
  outcome.children_finished =
      eventually([&] { return std::all_of(children.begin(), children.end(), [](const auto& c) { return c.is_finished(); }); });
  outcome.root_still_blocked = !root.is_finished();
  hold.release();
  return outcome;
}

}  // namespace pollscope_test
