#pragma once
/// Test helpers for executor tests (header-only, shared by every test file):
///  - lines / untimed_lines / take_lines: a trace as `format_event` lines;
///  - report_text: a RunReport as one comparable line (status, polls, stuck tasks);
///  - take_output: the output of a finished task, through its JoinHandle;
///  - Gate: a leaf future opened from outside (by the test, another task or thread);
///  - ForgetsWaker: Pending once without keeping (or waking) its waker, then Ready;
///  - WakesItself: wakes itself N times during its first poll, Ready at the second;
///  - Carrying: wraps a future with a Tracked token, so its destruction is counted.
/// Builds on counted.hpp and test_wakers.hpp. Only add to this file.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pollscope/context.hpp>
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

}  // namespace pollscope_test
