#pragma once
/// LocalExecutor: a single-threaded cooperative executor with a FIFO run queue,
/// timers, and stall detection.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/ring.hpp"
#include "pollscope/detail/task.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/future.hpp"
#include "pollscope/join_handle.hpp"
#include "pollscope/run_report.hpp"
#include "pollscope/waker.hpp"

namespace pollscope {

namespace detail {

/// Polls a future that lives elsewhere, in place (LocalExecutor::block_on).
template <Future F>
struct FutureRef {
  using Output = output_t<F>;
  F* future;
  Poll<Output> poll(Context& cx) { return future->poll(cx); }
};

/// The state of a LocalExecutor, shared with its tasks (reference counted through
/// TaskScheduler) so that wakers outliving the executor find it closed, not freed.
///
/// Task states are written by the owner thread only, with plain loads and stores. A
/// wake from another thread (or from this one outside run()) never touches the state:
/// wake_remote() hands the task over in remote_, and run() schedules it when it takes
/// it from there (a task woken from another thread during its poll is re-queued when
/// that poll returns, like one that woke itself).
///
/// Counts: the scheduler's references and each task's references and wakers are
/// biased to the owner thread (see kBias in detail/task.hpp): inside run(), clones,
/// wakes and drops of wakers and spawns cost no atomic read-modify-write. A task's
/// counts are folded when the registry drops its reference, the scheduler's at
/// shutdown.
///
/// References: the registry (live_) holds one to each unfinished task, which also
/// backs its run-queue entry and its polls. A task that is not RUNNING is SCHEDULED
/// exactly while an entry for it waits in the queue. When a task finishes, the
/// registry's reference is dropped, unless such an entry is still pending (a task
/// closed while SCHEDULED): then the entry owns it until run() pops it, or shutdown()
/// drops it. Each entry of remote_ holds a reference of its own.
///
/// TaskScheduler is the first base so that a wake (a virtual call through it) needs
/// no this-adjusting thunk.
class LocalCore final : public TaskScheduler, public ExecutorCore {
 public:
  explicit LocalCore(const ExecutorOptions& options);

  TaskId next_task_id() noexcept { return next_id_++; }
  /// Registers a freshly allocated task and queues it for its first poll.
  void submit(TaskHeader* task);
  /// Runs until every task finished (`target` null) or until `target` finished.
  RunReport run(TaskHeader* target);
  /// Cancels every unfinished task; afterwards wakes are no-ops.
  void shutdown() noexcept;

  void wake(TaskHeader* task, EventKind how) override;
  void abort(TaskHeader* task) override;
  void waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) override;
  bool single_threaded() const noexcept override { return true; }
  void outside_wakers_gone() noexcept override;

 private:
  struct RemoteWake {
    TaskHeader* task;  // holds a reference of its own
    EventKind how;
    WakeSource source;
  };

  // The wakes of local_task_waker_vtable (task.hpp), which inline wake_here.
  friend void local_task_waker_wake(const void* data) noexcept;
  friend void local_task_waker_wake_by_ref(const void* data) noexcept;
  /// wake()'s body, inlined into the wakers of local_task_waker_vtable.
  [[gnu::always_inline]] inline void wake_here(TaskHeader* task, EventKind how);
  void push(TaskHeader* task);  // a SCHEDULED task (see the class comment for references)
  /// A wake from another thread, or from this one outside run(): handed over to run().
  /// Out of line: the common wake, on the owner thread, then needs no large prologue.
  [[gnu::noinline]] void wake_remote(TaskHeader* task, EventKind how);
  /// Schedules (and traces) the wakes handed over by wake_remote().
  void drain_remote();
  /// True while a wake from another thread waits in remote_ for `task`.
  bool remote_wake_queued(const TaskHeader* task);
  void poll_task(TaskHeader* task);
  void complete(TaskHeader* task);
  void close(TaskHeader* task, bool destroy_future);
  void wait_for_remote(std::optional<std::chrono::nanoseconds> deadline);
  void wait_for_outside_wakers();
  bool wakers_alive_outside() const;
  // Tracing. trace() is out of line: even the one-word path into an open batch
  // (emit_short) inlined costs some untraced hot paths register saves (push()). Not
  // marked cold: with a tracer attached these are the hot path, and cold code is
  // optimised for size. trace_inline() is for the hottest events where inlining
  // costs the untraced path nothing (run(), poll_task(), measured in instructions
  // per yield with callgrind) and for code that only runs traced.
  [[gnu::noinline]] void trace(EventKind kind, TaskId task, std::uint64_t value = 0,
                               WakeSource source = WakeSource::none, std::uint64_t other = 0);
  void trace_inline(EventKind kind, TaskId task, std::uint64_t value = 0, WakeSource source = WakeSource::none,
                    std::uint64_t other = 0) {
    if (!emit_short(kind, task, value, source, other)) emit_fields(kind, task, value, source, other);
  }
  [[gnu::noinline]] void trace_own_wake(TaskHeader* task, EventKind how);
  // A poll's dequeue and poll_start; its poll_pending and enqueue when a wake during
  // it queued the task again. One word each in a batch (trace_words' paired words).
  void trace_poll_opening(TaskId task, std::uint64_t queued);
  void trace_poll_requeued(TaskId task, WakeSource woken_by, std::uint64_t queued);
  [[gnu::noinline]] void trace_completion(TaskHeader* task);

  Ring<TaskHeader*> queue_;        // the run queue
  TaskList live_;                  // unfinished tasks; the list holds a reference to each
  TaskId next_id_ = 1;
  bool running_ = false;
  bool shut_down_ = false;
  // The waker lent to the task being polled, and the Context around it: members, not
  // locals of poll_task, since a Context's address is taken (every poll gets a
  // reference), and in wasm that puts a local in linear memory at every poll. The
  // waker owns nothing (WakerAccess::lend); forgotten when the core goes.
  struct LentWaker {
    Waker waker = Waker::noop();
    ~LentWaker() { WakerAccess::forget(waker); }
  } lent_;
  Context lent_cx_{lent_.waker};

  // Wakes from other threads (or from this thread outside run()), with each task's
  // remote_wake_queued flag.
  std::mutex remote_mutex_;
  std::condition_variable remote_cv_;
  std::vector<RemoteWake> remote_;
  std::atomic<bool> remote_pending_{false};
  bool closed_ = false;  // under remote_mutex_
  // Set by outside_wakers_gone() while run() waits for outside wakers: re-check them.
  bool outside_gone_ = false;  // under remote_mutex_
};

}  // namespace detail

/// A single-threaded executor. spawn() queues a task; run() polls queued tasks in
/// FIFO order until every task finished, the run stalls, or the poll budget runs out.
///
/// Threading: spawn, run, block_on, abort and destruction happen on one thread.
/// Wakers of its tasks may be woken, cloned and dropped from any thread, even after
/// the executor is gone. Wakes from other threads are picked up by run(), which
/// waits for them on the real clock while a waker of an unfinished task is alive.
class LocalExecutor {
 public:
  explicit LocalExecutor(ExecutorOptions options = {});
  /// Cancels unfinished tasks: each future is destroyed exactly once.
  ~LocalExecutor();
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  /// Queues `future` as a new task. Every task has its own output type.
  template <Future F>
  JoinHandle<output_t<F>> spawn(F future) {
    static_assert(!std::is_reference_v<F>);
    detail::TaskHeader* task = detail::allocate_task(std::move(future), core_, core_->next_task_id());
    core_->submit(task);
    return detail::JoinHandleAccess::adopt<output_t<F>>(task);
  }

  /// Polls tasks until all finished (completed), nothing can make progress
  /// (stalled, naming the stuck tasks), or ExecutorOptions::max_polls polls were
  /// made in this call (budget_exhausted; a later run() continues).
  /// Throws std::logic_error when called from inside one of its tasks.
  RunReport run();

  /// Runs the executor until `future` (polled in place, as a task) completes and
  /// returns its output. Other tasks run meanwhile and stay queued afterwards.
  /// Throws RunError if the run stalls or exhausts its budget first, and
  /// std::logic_error (like run()) when called from inside one of its tasks.
  template <FutureOrRef F>
  output_t<F> block_on(F&& future) {
    using Plain = std::remove_reference_t<F>;
    JoinHandle<output_t<F>> handle = spawn(detail::FutureRef<Plain>{&future});
    RunReport report;
    try {
      report = core_->run(detail::JoinHandleAccess::peek(handle));
    } catch (...) {
      // E.g. called from inside a task (std::logic_error): the task must not
      // outlive this call, its future is the caller's.
      handle.abort();
      throw;
    }
    if (!handle.is_finished()) {
      handle.abort();  // the future is the caller's: stop polling it before returning
      throw RunError(std::move(report));
    }
    Waker noop = Waker::noop();
    Context cx(noop);
    return handle.poll(cx).value();
  }

  /// Time on the executor's clock: virtual time, or real time since the clock was first
  /// read (a real clock starts at its first reading, which costs nothing until needed).
  std::chrono::nanoseconds now() const noexcept { return core_->now(); }

 private:
  detail::LocalCore* core_;
};

}  // namespace pollscope
