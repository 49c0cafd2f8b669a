#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
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
  /// Where it is registered; null once fired or cancelled. Atomic because a
  /// thread-safe queue fires it on one thread while its future may be dropped on another.
  std::atomic<TimerQueue*> queue{nullptr};
  std::optional<Waker> waker;
};

/// Pending timers of one executor, fired in deadline order (ties in registration
/// order). Not thread-safe by default: used by the thread that drives the executor.
/// Threaded executors call make_thread_safe() first: every operation then takes an
/// internal lock, and wakers are woken and dropped outside it.
class TimerQueue {
 public:
  explicit TimerQueue(ExecutorCore& core) noexcept : core_(core) {}
  ~TimerQueue() { clear(); }
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Call before any other thread uses the queue.
  void make_thread_safe() noexcept { shared_ = true; }

  void insert(TimerEntry& entry, std::chrono::nanoseconds deadline, Waker waker, TaskId task);
  void cancel(TimerEntry& entry);
  /// Inline for the unshared queue: executors check it on every turn of their loop.
  bool empty() const noexcept { return shared_ ? empty_locked() : entries_.empty(); }
  std::size_t size() const noexcept;
  std::optional<std::chrono::nanoseconds> next_deadline() const noexcept;

  /// What a Sleep does on every Pending poll: registers `entry` here when it is not
  /// registered anywhere, else makes sure its stored waker will wake `waker`'s task.
  void arm(TimerEntry& entry, std::chrono::nanoseconds deadline, const Waker& waker, TaskId task);
  /// Cancels `entry` in whatever queue it is registered (no-op when it is not).
  static void disarm(TimerEntry& entry) {
    if (TimerQueue* q = entry.queue.load(std::memory_order_acquire)) q->cancel(entry);
  }

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
  std::unique_lock<std::mutex> guard() const {
    return shared_ ? std::unique_lock<std::mutex>(mutex_) : std::unique_lock<std::mutex>();
  }
  std::uint32_t event_thread() const noexcept;
  bool empty_locked() const noexcept;

  ExecutorCore& core_;
  std::set<TimerEntry*, ByDeadline> entries_;
  std::uint64_t next_id_ = 1;
  bool shared_ = false;
  mutable std::mutex mutex_;
};

}  // namespace pollscope::detail
