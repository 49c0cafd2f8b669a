#pragma once
/// Test helpers around wakers and polling (header-only, shared by every test file):
///  - CountingWaker: wakers whose RawWakerVTable counts clone / wake / wake_by_ref /
///    drop calls, so a test can assert exactly what a future did with cx.waker();
///  - poll_once / poll_loop: polling a future by hand, without any executor;
///  - count_events / event_names: reading a TraceRecorder's events;
///  - kHasThreads: whether this build can start a std::thread.
/// Only add to this file (other test files use what is here).
#include <atomic>
#include <initializer_list>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <pollscope/context.hpp>
#include <pollscope/future.hpp>
#include <pollscope/poll.hpp>
#include <pollscope/task_id.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/waker.hpp>

namespace pollscope_test {

/// False in a build without threads (single-threaded Emscripten), where constructing a
/// std::thread throws. Tests that start threads return early there, with a warning:
///   if (!kHasThreads) { WARN("skipped: this build has no threads"); return; }
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
inline constexpr bool kHasThreads = false;
#else
inline constexpr bool kHasThreads = true;
#endif

// --- CountingWaker -------------------------------------------------------------

/// How many times each function of a CountingWaker's vtable ran.
struct WakerCalls {
  int clone = 0;
  int wake = 0;
  int wake_by_ref = 0;
  int drop = 0;
  bool operator==(const WakerCalls&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const WakerCalls& c) {
  return os << "{clone " << c.clone << ", wake " << c.wake << ", wake_by_ref " << c.wake_by_ref
            << ", drop " << c.drop << "}";
}

/// Makes Wakers whose vtable counts every call. Every waker it makes, and every
/// clone of one, has this object as its data, so they all will_wake each other.
/// `waker()` hands out a new reference without calling the vtable (nothing is
/// counted); the CountingWaker must outlive every waker it made. The counters are
/// atomic: its wakers may be cloned, woken and dropped from any thread.
///
///   CountingWaker cw;
///   pollscope::Waker w = cw.waker();
///   pollscope::Context cx(w);
///   ... future.poll(cx) ...
///   REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});  // the future kept one clone
class CountingWaker {
 public:
  CountingWaker() = default;
  CountingWaker(const CountingWaker&) = delete;
  CountingWaker& operator=(const CountingWaker&) = delete;

  /// A new waker (one more live reference; not a clone).
  pollscope::Waker waker() noexcept;

  /// The calls so far.
  WakerCalls calls() const noexcept {
    return WakerCalls{clone_.load(), wake_.load(), wake_by_ref_.load(), drop_.load()};
  }
  /// Wakes of either kind so far.
  int wakes() const noexcept { return wake_.load() + wake_by_ref_.load(); }
  /// Wakers alive now: made by waker() or clone, not yet consumed by wake or drop.
  int live() const noexcept { return made_.load() + clone_.load() - wake_.load() - drop_.load(); }

  /// True when `w` is one of this object's wakers.
  bool owns(const pollscope::Waker& w) const noexcept;

  static pollscope::RawWaker clone_fn(const void* data) noexcept;
  static void wake_fn(const void* data) noexcept;
  static void wake_by_ref_fn(const void* data) noexcept;
  static void drop_fn(const void* data) noexcept;

 private:
  static CountingWaker& self(const void* data) {
    return *static_cast<CountingWaker*>(const_cast<void*>(data));
  }
  std::atomic<int> made_{0};
  std::atomic<int> clone_{0};
  std::atomic<int> wake_{0};
  std::atomic<int> wake_by_ref_{0};
  std::atomic<int> drop_{0};
};

inline constexpr pollscope::RawWakerVTable counting_waker_vtable{
    &CountingWaker::clone_fn, &CountingWaker::wake_fn, &CountingWaker::wake_by_ref_fn,
    &CountingWaker::drop_fn};

inline pollscope::Waker CountingWaker::waker() noexcept {
  made_.fetch_add(1);
  return pollscope::Waker::from_raw(pollscope::RawWaker{this, &counting_waker_vtable});
}
inline bool CountingWaker::owns(const pollscope::Waker& w) const noexcept {
  return w.as_raw().data == this && w.as_raw().vtable == &counting_waker_vtable;
}
inline pollscope::RawWaker CountingWaker::clone_fn(const void* data) noexcept {
  self(data).clone_.fetch_add(1);
  return pollscope::RawWaker{data, &counting_waker_vtable};
}
inline void CountingWaker::wake_fn(const void* data) noexcept {
  self(data).wake_.fetch_add(1);
}
inline void CountingWaker::wake_by_ref_fn(const void* data) noexcept {
  self(data).wake_by_ref_.fetch_add(1);
}
inline void CountingWaker::drop_fn(const void* data) noexcept {
  self(data).drop_.fetch_add(1);
}

// --- polling by hand -----------------------------------------------------------

/// Polls `future` once, in place, with a Context lending `waker`.
template <class F>
auto poll_once(F& future, const pollscope::Waker& waker) {
  pollscope::Context cx(waker);
  return future.poll(cx);
}

/// What poll_loop returns: the output (void as std::monostate) and the number of
/// polls it took, the Ready one included.
template <class F>
struct LoopResult {
  pollscope::value_or_monostate_t<pollscope::output_t<F>> output;
  int polls;
};

/// A hand-written poll loop, no executor: polls `future` in place with `waker`
/// until it is Ready (whether or not anything woke it). Throws std::runtime_error
/// after `max_polls` Pending polls.
template <class F>
LoopResult<F> poll_loop(F& future, const pollscope::Waker& waker, int max_polls = 100000) {
  pollscope::Context cx(waker);
  for (int polls = 1; polls <= max_polls; ++polls) {
    auto p = future.poll(cx);
    if (p.is_ready()) {
      if constexpr (std::is_void_v<pollscope::output_t<F>>) {
        return LoopResult<F>{std::monostate{}, polls};
      } else {
        return LoopResult<F>{std::move(p).value(), polls};
      }
    }
  }
  throw std::runtime_error("poll_loop: the future was still Pending after max_polls polls");
}

// --- reading traces ------------------------------------------------------------

/// The events of `kind` (of task `task`, unless it is 0).
inline std::vector<pollscope::Event> events_of(const std::vector<pollscope::Event>& events,
                                               pollscope::EventKind kind,
                                               pollscope::TaskId task = 0) {
  std::vector<pollscope::Event> out;
  for (const auto& e : events) {
    if (e.kind == kind && (task == 0 || e.task == task)) out.push_back(e);
  }
  return out;
}

/// How many events of `kind` (of task `task`, unless it is 0).
inline int count_events(const std::vector<pollscope::Event>& events, pollscope::EventKind kind,
                        pollscope::TaskId task = 0) {
  return static_cast<int>(events_of(events, kind, task).size());
}

/// The kinds of `events`, by name (`to_string(EventKind)`), in order: compares and
/// prints readably in a REQUIRE.
inline std::vector<std::string> event_names(const std::vector<pollscope::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.emplace_back(pollscope::to_string(e.kind));
  return out;
}

/// The names of the events whose kind is one of `kinds`, in order.
inline std::vector<std::string> event_names(const std::vector<pollscope::Event>& events,
                                            std::initializer_list<pollscope::EventKind> kinds) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    for (auto k : kinds) {
      if (e.kind == k) out.emplace_back(pollscope::to_string(e.kind));
    }
  }
  return out;
}

}  // namespace pollscope_test
