#pragma once
/// SimulatedPool: the work-stealing ThreadPool's scheduling policy, run on one
/// thread with virtual workers interleaved by a seeded scheduler.
#include <chrono>
#include <cstddef>
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
/// The simulation of the pool (src/simulated_pool.cpp).
SimCore* make_simulated_pool_core(std::uint32_t workers, std::uint64_t seed, const ExecutorOptions& options);
}  // namespace detail

/// N virtual workers with the ThreadPool's policy (detail/work_stealing_policy.hpp,
/// the same code): a local run queue per worker plus a shared injection queue,
/// stealing of the oldest half of another worker's queue, searching and parking
/// workers. A seeded scheduler picks which virtual worker takes the next step (poll
/// a task, a search round, announcing a park, parking), so the same seed gives the
/// same interleaving and the same trace, on every platform; another seed gives
/// another interleaving. Always on the virtual clock (ExecutorOptions::virtual_clock
/// is ignored). Polls take no virtual time; `blocking_call(d)` makes only the calling
/// worker busy for `d` while the others go on (and may steal its queued tasks).
///
/// Threads in events: worker w is thread w; timers fire on thread `workers()` (the
/// pool's timer thread); spawns and wakes from outside the pool carry
/// kExternalThread. Spawns and wakes from a worker go to its local queue
/// (queue local_queue_of(w)), all others to the injection queue (kInjectionQueue).
///
/// The interface is LocalExecutor's: spawn, run (RunReport; max_polls per run()
/// call; stalled names the stuck tasks in spawn order), block_on, now.
/// Threading: like LocalExecutor (one thread drives it; wakers work from any thread).
class SimulatedPool {
 public:
  /// Throws std::invalid_argument when `workers` is 0 (or absurdly large).
  SimulatedPool(std::size_t workers, std::uint64_t seed, ExecutorOptions options = {});
  /// Cancels unfinished tasks: each future is destroyed exactly once.
  ~SimulatedPool();
  SimulatedPool(const SimulatedPool&) = delete;
  SimulatedPool& operator=(const SimulatedPool&) = delete;

  /// Queues `future` as a new task (on the spawning worker's queue when a task
  /// spawns it, else on the injection queue).
  template <Future F>
  JoinHandle<output_t<F>> spawn(F future) {
    static_assert(!std::is_reference_v<F>);
    detail::TaskHeader* task = detail::allocate_task(std::move(future), core_, core_->next_task_id());
    core_->submit(task);
    return detail::JoinHandleAccess::adopt<output_t<F>>(task);
  }

  /// Runs the virtual workers until every task finished, the run stalled, or
  /// max_polls polls were made in this call. Throws std::logic_error from inside a task.
  RunReport run();

  /// Runs until `future` (polled in place, as a task spawned from outside) completes
  /// and returns its output. Throws RunError if the run stalls or exhausts its budget
  /// first; std::logic_error from inside one of the pool's tasks.
  template <FutureOrRef F>
  output_t<F> block_on(F&& future) {
    using Plain = std::remove_reference_t<F>;
    core_->check_not_running();  // before spawning: nothing must be left behind
    JoinHandle<output_t<F>> handle = spawn(detail::FutureRef<Plain>{&future});
    RunReport report = core_->run(detail::JoinHandleAccess::peek(handle));
    if (!handle.is_finished()) {
      handle.abort();  // the future is the caller's: stop polling it before returning
      throw RunError(std::move(report));
    }
    Waker noop = Waker::noop();
    Context cx(noop);
    return handle.poll(cx).value();
  }

  /// Virtual time since the pool was created.
  std::chrono::nanoseconds now() const noexcept { return core_->now(); }
  std::size_t workers() const noexcept { return workers_; }
  std::uint64_t seed() const noexcept { return core_->seed(); }

 private:
  detail::SimCore* core_;
  std::size_t workers_;
};

}  // namespace pollscope
