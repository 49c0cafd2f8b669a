#pragma once
/// SimulatedThreadPerTask: the article's thread-per-task runtime (ThreadPerTaskRuntime),
/// simulated on one thread: one virtual thread per task, interleaved by a seeded
/// scheduler, on the virtual clock.
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "pollscope/detail/sim_core.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/future.hpp"
#include "pollscope/join_handle.hpp"
#include "pollscope/local_executor.hpp"
#include "pollscope/run_report.hpp"

namespace pollscope {

namespace detail {
SimCore* make_simulated_thread_per_task_core(std::uint64_t seed, const ExecutorOptions& options);
}  // namespace detail

/// Every task gets a virtual thread of its own that polls it, parks while it is
/// Pending and unparks when it is woken (no run queues: the operating system's
/// scheduler is the only queue, and here that is a seeded PRNG choosing which
/// runnable thread goes next). Park and unpark events show each thread sleeping and
/// waking; a task that wakes itself during its poll is polled again without parking.
///
/// Thread numbering: thread 0 is the runtime's own thread: spawns and wakes from
/// outside any task, and timers, happen there; task i runs on thread i (task ids
/// start at 1). Wakes from other OS threads carry kExternalThread.
///
/// Always on the virtual clock; polls take no virtual time; `blocking_call(d)` makes
/// only the calling task's thread busy for `d`. Same seed, same interleaving and
/// trace, on every platform.
///
/// The interface is LocalExecutor's: spawn, run (RunReport; max_polls per run()
/// call; stalled names the stuck tasks in spawn order), block_on, now.
/// Threading: like LocalExecutor (one thread drives it; wakers work from any thread).
class SimulatedThreadPerTask {
 public:
  explicit SimulatedThreadPerTask(std::uint64_t seed, ExecutorOptions options = {});
  /// Cancels unfinished tasks: each future is destroyed exactly once.
  ~SimulatedThreadPerTask();
  SimulatedThreadPerTask(const SimulatedThreadPerTask&) = delete;
  SimulatedThreadPerTask& operator=(const SimulatedThreadPerTask&) = delete;

  /// Starts `future` as a new task on a new virtual thread.
  template <Future F>
  JoinHandle<output_t<F>> spawn(F future) {
    static_assert(!std::is_reference_v<F>);
    detail::TaskHeader* task = detail::allocate_task(std::move(future), core_, core_->next_task_id());
    core_->submit(task);
    return detail::JoinHandleAccess::adopt<output_t<F>>(task);
  }

  /// Runs the virtual threads until every task finished, the run stalled, or
  /// max_polls polls were made in this call. Throws std::logic_error from inside a task.
  RunReport run();

  /// Runs until `future` (polled in place, as a task on a thread of its own)
  /// completes and returns its output. Throws RunError if the run stalls or exhausts
  /// its budget first; std::logic_error from inside one of the runtime's tasks.
  template <FutureOrRef F>
  output_t<F> block_on(F&& future) {
    using Plain = std::remove_reference_t<F>;
    core_->check_not_running();  // before spawning: nothing must be left behind
    JoinHandle<output_t<F>> handle = spawn(detail::FutureRef<Plain>{&future});
    RunReport report = core_->run(detail::JoinHandleAccess::peek(handle));
    if (!handle.is_finished()) {
      handle.abort();
      throw RunError(std::move(report));
    }
    Waker noop = Waker::noop();
    Context cx(noop);
    return handle.poll(cx).value();
  }

  /// Virtual time since the runtime was created.
  std::chrono::nanoseconds now() const noexcept { return core_->now(); }
  std::uint64_t seed() const noexcept { return core_->seed(); }

 private:
  detail::SimCore* core_;
};

}  // namespace pollscope
