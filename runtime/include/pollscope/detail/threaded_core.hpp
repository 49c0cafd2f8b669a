#pragma once
/// The machinery shared by the executors that run on real threads (ThreadPool,
/// ThreadPerTaskRuntime): a registry of unfinished tasks (sharded, a spin lock per
/// shard), task
/// completion and cancellation from any thread, serialised tracing, a timer thread,
/// a pool-wide poll budget, and the failure of tasks that can never finish (a stall
/// or an exhausted budget), which their JoinHandles report as a RunError.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/detail/task.hpp"
#include "pollscope/detail/task_slots.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/run_report.hpp"

namespace pollscope::detail {

/// A task state bit private to the threaded executors: abort (or a failure) was
/// requested while the task was RUNNING on another thread. Its poller closes it when
/// the poll returns. (Setting `closed` directly would let a JoinHandle see the task
/// finished, and read its output slot, while the poll is still writing it.)
inline constexpr std::uint32_t kCancelRequested = 1u << 16;

class ThreadedCore : public ExecutorCore, public TaskScheduler {
 public:
  /// `timer_thread_number`: the `thread` of events on the timer thread.
  /// `sole_pollers`: threads 0 .. sole_pollers - 1 each run on one OS thread for the
  /// executor's whole life (a pool's workers), so each counts its polls alone.
  ThreadedCore(const ExecutorOptions& options, std::uint32_t timer_thread_number, std::uint32_t sole_pollers = 0);

  TaskId next_task_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed); }
  /// Registers a freshly allocated task (one reference owned by the caller's
  /// JoinHandle) and starts it.
  virtual void submit(TaskHeader* task) = 0;
  /// Cancels every unfinished task and joins every thread; afterwards wakes are no-ops.
  virtual void shutdown() noexcept = 0;
  /// True on the executor's own threads (workers, task threads, timer thread).
  bool on_own_thread() const noexcept { return tls_scope.core == this; }

  void abort(TaskHeader* task) override;
  void waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) override;
  /// Wakes (and on first use starts) the timer thread.
  void timer_armed(std::chrono::nanoseconds deadline) override;

  /// Blocks until no task is unfinished. The report says `stalled` (with the stuck
  /// tasks) or `budget_exhausted` when tasks were failed for that reason since the
  /// previous wait_idle(); `polls` counts every poll so far.
  RunReport wait_idle();

  /// Polls made so far by every thread.
  std::uint64_t polls() const noexcept {
    std::uint64_t n = polls_.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < sole_pollers_ + kSharedPollCounts; ++i) {
      n += poll_counts_[i].n.load(std::memory_order_relaxed);
    }
    return n;
  }

 protected:
  /// Called at the end of close() (a thread-per-task runtime unparks the task's thread).
  virtual void after_close(TaskHeader* task) noexcept { (void)task; }
  /// The `thread` of events from code outside the executor's threads on the calling thread.
  virtual std::uint32_t outside_thread() const noexcept = 0;
  /// The `thread` of an event on the calling thread.
  std::uint32_t event_thread() const noexcept { return tls_scope.core == this ? tls_scope.thread : outside_thread(); }

  /// Registers a new task (one reference for the registry) and traces its spawn.
  /// False when the executor shuts down: the task is closed right away.
  void register_task(TaskHeader* task, std::uint32_t thread);

  /// Counts a poll against the budget. False when the budget is exhausted: the
  /// caller must not poll and calls fail_owned() instead.
  bool count_poll(std::uint32_t thread);
  /// True once the budget is exhausted.
  bool exhausted() const noexcept { return exhausted_.load(std::memory_order_acquire); }

  /// Polls `task` (RUNNING, a reference held by the caller) once, traced on
  /// `thread`. Returns true when it is done (completed, and then traced as such).
  bool poll_once(TaskHeader* task, std::uint32_t thread);

  /// After a Pending poll: clears RUNNING. `closed`: a cancel was requested during
  /// the poll and the task is now closed (the caller releases its reference);
  /// `rescheduled`: it was woken during the poll and must be polled once more.
  enum class AfterPoll { idle, rescheduled, closed };
  AfterPoll settle(TaskHeader* task, std::uint32_t thread);

  /// Completes `task` after a Ready poll (its awaiter is woken).
  void complete(TaskHeader* task, std::uint32_t thread);
  /// Closes `task` (CLOSED already set by the caller, not RUNNING): destroys the
  /// future if asked, unregisters it and wakes the awaiter.
  void close(TaskHeader* task, bool destroy_future, std::uint32_t thread);
  /// Fails a task this thread polls (RUNNING, not done) with the budget's RunError.
  void fail_owned(TaskHeader* task, std::uint32_t thread);

  /// The stall check, for a thread that found every worker idle: if no timer is
  /// pending, no unfinished task is scheduled or running and no waker of one is
  /// alive outside the executor, every unfinished task is stuck: traced (spawn
  /// order) and failed with a RunError naming them. Returns whether it stalled.
  bool check_stall(std::uint32_t thread);
  /// Fails one task (idle, polled by the caller until now) that nothing can wake.
  void stall_one(TaskHeader* task, std::uint32_t thread);

  /// Shutdown helpers (call once every thread but the caller's is gone).
  void close_remaining(std::uint32_t thread) noexcept;
  /// Closes one registered task at shutdown (close_remaining).
  void close_one(TaskHeader* task, std::uint32_t thread) noexcept;
  void stop_timer_thread() noexcept;
  void finish_shutdown() noexcept;
  /// True after shutdown began: wakes are ignored.
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  void mark_closed() noexcept { closed_.store(true, std::memory_order_release); }

  /// Snapshot of the unfinished tasks in spawn order, each retained.
  std::vector<TaskHeader*> live_tasks();
  bool has_live_tasks();

 private:
  /// Fails an unfinished task (not polled by the caller) with a RunError of
  /// `report`: a task being polled elsewhere is closed by its poller, others here.
  void fail(TaskHeader* task, const RunReport& report, std::uint32_t thread);
  std::exception_ptr budget_error() const;
  void exhaust(std::uint32_t thread);
  void timer_main();
  void unregister(TaskHeader* task);

  std::atomic<TaskId> next_id_{1};
  std::uint32_t timer_thread_number_;

  /// The registry of unfinished tasks, sharded by task id: spawns on one worker and
  /// completions on another then mostly take different locks on different cache
  /// lines (one mutex for all was ~12% of a spawn-heavy profile). A shard is a
  /// TaskSlots, not a linked list: unregistering a task on one worker then never
  /// writes the links of neighbours another worker has just registered. Views of the
  /// whole registry (live_tasks, check_stall, close_remaining) sort by id, i.e.
  /// spawn order.
  static constexpr std::uint32_t kRegistryShards = 16;
  struct alignas(64) RegistryShard {
    SpinLock lock;
    TaskSlots live;  // under lock; holds a reference to each
  };
  RegistryShard& shard_of(const TaskHeader* task) noexcept { return shards_[task->id % kRegistryShards]; }
  bool registry_empty();  // locks each shard in turn
  RegistryShard shards_[kRegistryShards];

  /// wait_idle's sleep: a waiter counts itself in idle_waiters_, then checks the
  /// shards; an unregister that empties a shard checks idle_waiters_ after its shard
  /// lock (see unregister for why no notification is lost).
  std::mutex idle_mutex_;
  std::condition_variable idle_cv_;
  std::atomic<std::uint32_t> idle_waiters_{0};
  std::optional<RunReport> failures_;    // under idle_mutex_: for wait_idle

  /// Polls counted against a budget (one counter: the budget is pool-wide and exact).
  std::atomic<std::uint64_t> polls_{0};
  /// Polls without a budget, counted per thread (by number): one shared counter
  /// would move its cache line between the workers at every poll. The first
  /// `sole_pollers_` counters have one writer each, which adds with a load and a
  /// store (no read-modify-write); the other threads share kSharedPollCounts
  /// counters (by number modulo kSharedPollCounts) with fetch_add. Relaxed: polls()
  /// is a statistic, read without ordering against anything else.
  struct alignas(64) PollCount {
    std::atomic<std::uint64_t> n{0};
  };
  static constexpr std::uint32_t kSharedPollCounts = 8;
  std::uint32_t sole_pollers_;
  std::unique_ptr<PollCount[]> poll_counts_;
  std::uint64_t budget_;
  std::atomic<bool> exhausted_{false};
  std::atomic<bool> closed_{false};

  std::mutex timer_mutex_;
  std::condition_variable timer_cv_;
  std::thread timer_thread_;  // started by the first timer
  bool timer_stop_ = false;   // under timer_mutex_
};

/// One thread's sleeping place: a flag, a mutex and a condition variable. The
/// unparker says why (source/other), for the thread's unpark event.
class ThreadParker {
 public:
  void unpark(WakeSource source, std::uint64_t other) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (notified_) return;
      notified_ = true;
      source_ = source;
      other_ = other;
    }
    cv_.notify_one();
  }
  /// Consumes a pending notification without sleeping.
  bool take() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(notified_, false);
  }
  /// Sleeps until unparked. When a notification was already pending it returns at
  /// once without tracing; else `on_park()` runs before sleeping and
  /// `on_unpark(source, other)` after waking (both under the parker's lock).
  template <class OnPark, class OnUnpark>
  void park(OnPark&& on_park, OnUnpark&& on_unpark) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (std::exchange(notified_, false)) return;
    on_park();
    cv_.wait(lock, [&] { return notified_; });
    notified_ = false;
    on_unpark(source_, other_);
  }

  /// Like park(), for a thread that waits for wakers alive outside the executor: a
  /// poke() (a last waker dropped unwoken somewhere) makes it run `recheck()` (outside
  /// the lock, untraced unless it reports a stall), which returns true to stop waiting.
  /// Returns false then, after on_unpark(thread, 0); true when unparked. A poke that
  /// comes before it sleeps is kept, so none is lost between the caller's own check
  /// and the sleep.
  template <class OnPark, class OnUnpark, class Recheck>
  bool park_or_recheck(OnPark&& on_park, OnUnpark&& on_unpark, Recheck&& recheck) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (std::exchange(notified_, false)) return true;
    on_park();
    for (;;) {
      cv_.wait(lock, [&] { return notified_ || poked_; });
      if (notified_) break;
      poked_ = false;
      lock.unlock();
      const bool stop = recheck();
      lock.lock();
      if (stop && !notified_) {
        on_unpark(WakeSource::thread, 0);
        return false;
      }
    }
    notified_ = false;
    on_unpark(source_, other_);
    return true;
  }
  /// Asks a thread in (or about to enter) park_or_recheck() to run its re-check.
  void poke() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      poked_ = true;
    }
    cv_.notify_one();
  }
  /// Forgets a poke (after the thread stopped waiting for outside wakers).
  void clear_poke() {
    std::lock_guard<std::mutex> lock(mutex_);
    poked_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool notified_ = false;
  bool poked_ = false;
  WakeSource source_ = WakeSource::none;
  std::uint64_t other_ = 0;
};

}  // namespace pollscope::detail
