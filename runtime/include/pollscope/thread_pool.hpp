#pragma once
/// ThreadPool: a work-stealing multi-threaded executor.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "pollscope/block_on.hpp"
#include "pollscope/detail/threaded_core.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/future.hpp"
#include "pollscope/join_handle.hpp"
#include "pollscope/run_report.hpp"

namespace pollscope {

namespace detail {
/// The pool's state (src/thread_pool.cpp); starts its workers.
ThreadedCore* make_thread_pool_core(std::uint32_t workers, const ExecutorOptions& options);
}  // namespace detail

/// `workers` threads polling tasks, with the policy of detail/work_stealing_policy.hpp
/// (shared with SimulatedPool): a local run queue per worker plus a shared injection
/// queue, the injection queue checked every 61 polls, stealing of the oldest half of
/// another worker's queue, workers that search for work, then park (announcing it and
/// re-checking every queue first, so no wakeup is lost). New work unparks a worker only
/// when none is searching.
///
///  - spawn from a worker (a task spawning) goes to its local queue, from any other
///    thread to the injection queue; likewise wakes (timer wakes: injection queue).
///  - one thing SimulatedPool does not do: a task spawned or woken by the task a
///    worker is polling goes to that worker's LIFO slot and is polled next, as in
///    Tokio (the other end of a channel runs while the message is in the cache), at
///    most 16 times in a row and not when the injection queue is due; a task the
///    current poll re-queues (it woke itself: a yield) goes to the back. The slot's
///    task cannot be stolen, so it moves to the queue when another task takes the
///    slot and when the poll makes a blocking call (blocking_call). Traces show the
///    slot as part of the worker's queue (a dequeue that is not the oldest task).
///  - an untraced pool runs each worker's queue lock-free (detail/local_run_queue.hpp,
///    256 tasks, after Tokio's): the owner pushes with a store and pops with one
///    compare-exchange; a thief takes the oldest half of a queue (a queue another thief
///    is taking from right now counts as empty); a push to a full queue moves its older
///    half, then the task, to the injection queue, and a worker whose queue ran dry
///    takes a fair share of the injection queue (length / workers + 1, at most 128)
///    into its own queue. A traced pool keeps the policy's locked queues, so that the
///    events of each queue come in order with their exact lengths (the trace semantics
///    above and below are unchanged).
///  - a task is never polled by two threads at once; a wake during a poll means
///    exactly one more poll; wakers work from any thread.
///  - timers run on the real clock (ExecutorOptions::virtual_clock is ignored), fired
///    by a timer thread started with the first timer.
///  - ExecutorOptions::max_polls counts the polls of the whole pool; once it is
///    reached the pool emits budget_exhausted and every unfinished task (and any
///    spawned later) is failed with a RunError (status budget_exhausted).
///  - stall detection: when every worker is parked, no timer is pending, no task is
///    scheduled and no waker of an unfinished task is alive outside the pool, the
///    unfinished tasks are stuck: traced as `stall` events (spawn order) and failed
///    with a RunError (status stalled) that their JoinHandles rethrow.
///  - tracing: events carry their thread: worker w is thread w, the timer thread is
///    thread `workers`, any other thread kExternalThread; the tracer's calls are
///    serialised (seq order, no gaps). Waker clone/drop events are traced only on the
///    pool's own threads.
///
/// Threading: spawn, block_on, wait and JoinHandles work from any thread; the
/// destructor must not race with other calls on the pool.
class ThreadPool {
 public:
  /// Starts `workers` threads. Throws std::invalid_argument when `workers` is 0 (or
  /// absurdly large), std::system_error when a thread cannot be started.
  explicit ThreadPool(std::size_t workers, ExecutorOptions options = {});
  /// Stops the workers (each finishes its current poll), cancels unfinished tasks
  /// (each future is destroyed exactly once) and joins every thread.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Queues `future` as a new task. The handle can be awaited by tasks (of any
  /// executor) and joined (blocking) from threads outside the pool; join() from a
  /// pool task throws std::logic_error (it could deadlock the pool).
  template <Future F>
  JoinHandle<output_t<F>> spawn(F future) {
    static_assert(!std::is_reference_v<F>);
    detail::TaskHeader* task = detail::allocate_task(std::move(future), core_, core_->next_task_id());
    core_->submit(task);
    return detail::JoinHandleAccess::adopt<output_t<F>>(task);
  }

  /// Polls `future` on the calling thread (not a worker: tasks it spawns go to the
  /// injection queue) with pollscope::block_on, parking between polls, and returns
  /// its output. The future itself is not a pool task (and not in the pool's trace).
  /// Throws std::logic_error when called from inside a pool task.
  template <FutureOrRef F>
  output_t<F> block_on(F&& future) {
    if (core_->on_own_thread()) {
      throw std::logic_error(
          "ThreadPool::block_on called from inside one of its tasks: it would block a worker and could "
          "deadlock the pool; co_await the future instead");
    }
    return pollscope::block_on(std::forward<F>(future));
  }

  /// Blocks until every task finished. The report says `stalled` (naming the stuck
  /// tasks) or `budget_exhausted` when tasks were failed for that reason since the
  /// last wait(); `polls` counts every poll of the pool so far. Throws
  /// std::logic_error from inside a pool task.
  RunReport wait();

  /// Real time since the pool was created.
  std::chrono::nanoseconds now() const noexcept { return core_->now(); }
  std::size_t workers() const noexcept { return workers_; }
  /// Polls made so far, by every worker.
  std::uint64_t polls() const noexcept { return core_->polls(); }

 private:
  detail::ThreadedCore* core_;
  std::size_t workers_;
};

}  // namespace pollscope
