#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>

#include "pollscope/task_id.hpp"
#include "pollscope/waker.hpp"

namespace pollscope::detail {

class ExecutorCore;
class TimerQueue;

/// One registered timer. It lives inside the future that registered it (a `Sleep`),
/// which never moves once polled, so the queue can point at it without allocating.
struct TimerEntry {
  std::chrono::nanoseconds deadline{0};
  std::uint64_t id = 0;           ///< per queue, in registration order: breaks deadline ties
  TaskId task = 0;                ///< the task that registered it (for traces)
  TimerQueue* queue = nullptr;    ///< where it is registered; null once fired or cancelled
  std::optional<Waker> waker;
};

/// Pending timers of one executor, fired in deadline order (ties in registration
/// order). Not thread-safe: used by the thread that drives the executor.
class TimerQueue {
 public:
  explicit TimerQueue(ExecutorCore& core) noexcept : core_(core) {}
  ~TimerQueue() { clear(); }
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  void insert(TimerEntry& entry, std::chrono::nanoseconds deadline, Waker waker, TaskId task);
  void cancel(TimerEntry& entry);
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  std::optional<std::chrono::nanoseconds> next_deadline() const noexcept;

  /// Fires every timer whose deadline is at or before `now`; returns how many.
  std::size_t fire_due(std::chrono::nanoseconds now);

  /// Forgets every timer without waking it (executor shutdown).
  void clear() noexcept;

 private:
  struct ByDeadline {
    bool operator()(const TimerEntry* a, const TimerEntry* b) const noexcept {
      return a->deadline != b->deadline ? a->deadline < b->deadline : a->id < b->id;
    }
  };
  ExecutorCore& core_;
  std::set<TimerEntry*, ByDeadline> entries_;
  std::uint64_t next_id_ = 1;
};

}  // namespace pollscope::detail
