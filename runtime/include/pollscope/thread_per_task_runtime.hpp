#pragma once
/// ThreadPerTaskRuntime: the article's TaskRuntime, done right: one OS thread per
/// task, each parking between polls.
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "pollscope/detail/threaded_core.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/future.hpp"
#include "pollscope/join_handle.hpp"
#include "pollscope/run_report.hpp"

namespace pollscope {

/// The handle of a ThreadPerTaskRuntime task: the same JoinHandle every executor
/// returns. join() blocks the calling thread until the output is there (rethrowing
/// the task's exception; TaskAborted if it was cancelled); it is also a Future, so a
/// task can co_await another; id(), is_finished() and abort() as for any JoinHandle.
template <class T>
using TaskHandle = JoinHandle<T>;

namespace detail {
ThreadedCore* make_thread_per_task_core(const ExecutorOptions& options);
}  // namespace detail

/// spawn() starts a thread for the task right away. The thread polls the task with
/// the task's waker; when the poll is Pending it parks until a wake unparks it (a task
/// that woke itself during the poll is polled again at once). Unlike the article's
/// runtime every task has its own output type, a task that panics (throws) hands the
/// exception to join(), and dropping the runtime does not hang: it cancels the tasks
/// that have not finished (one inside a poll, e.g. a blocking call, is waited for),
/// then joins every thread.
///
///  - timers run on the real clock (ExecutorOptions::virtual_clock is ignored), fired
///    by the runtime's own thread (thread 0), started with the first timer.
///  - a task that is Pending while no waker of it is alive anywhere (and so can never
///    be woken) is failed with a RunError (status stalled), like block_on does.
///  - ExecutorOptions::max_polls counts the polls of all tasks; once it is reached
///    every unfinished task is failed with a RunError (status budget_exhausted).
///  - tracing: task i runs on thread i (task ids start at 1) and traces poll, park and
///    unpark events there; thread 0 is the runtime's own thread (timers, and spawns and
///    wakes from the thread that created the runtime); other threads kExternalThread.
///
/// Threading: spawn, wait and handles work from any thread; the destructor must not
/// race with other calls on the runtime.
class ThreadPerTaskRuntime {
 public:
  explicit ThreadPerTaskRuntime(ExecutorOptions options = {});
  ~ThreadPerTaskRuntime();
  ThreadPerTaskRuntime(const ThreadPerTaskRuntime&) = delete;
  ThreadPerTaskRuntime& operator=(const ThreadPerTaskRuntime&) = delete;

  /// Starts `future` on a new thread. Throws std::system_error when no thread can be
  /// started (the task is then cancelled).
  template <Future F>
  TaskHandle<output_t<F>> spawn(F future) {
    static_assert(!std::is_reference_v<F>);
    detail::TaskHeader* task = detail::allocate_task(std::move(future), core_, core_->next_task_id());
    TaskHandle<output_t<F>> handle = detail::JoinHandleAccess::adopt<output_t<F>>(task);
    core_->submit(task);  // if it throws, the handle releases the cell
    return handle;
  }

  /// Blocks until every task finished (see ThreadPool::wait for the report).
  RunReport wait();

  /// Real time since the runtime was created.
  std::chrono::nanoseconds now() const noexcept { return core_->now(); }
  std::uint64_t polls() const noexcept { return core_->polls(); }

 private:
  detail::ThreadedCore* core_;
};

}  // namespace pollscope
