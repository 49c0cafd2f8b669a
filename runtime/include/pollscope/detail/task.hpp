#pragma once
/// The heap cell behind every spawned task, its state machine and its waker.
#include <atomic>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/future.hpp"
#include "pollscope/task_id.hpp"
#include "pollscope/trace.hpp"
#include "pollscope/waker.hpp"

namespace pollscope::detail {

struct TaskHeader;

/// The executor side of a task: where its wakes go. Reference counted: the
/// executor holds one reference and every task holds one, so a waker that outlives
/// its executor still finds a live (closed) scheduler to talk to.
class TaskScheduler {
 public:
  /// A waker of `task` fired (`how` is wake or wake_by_ref). Thread-safe.
  virtual void wake(TaskHeader* task, EventKind how) = 0;
  /// Cancels `task` (JoinHandle::abort).
  virtual void abort(TaskHeader* task) = 0;
  /// Tracing of waker clones and drops; called only while `traces_wakers` is set.
  virtual void waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) = 0;
  /// True for executors whose tasks all run on the thread that calls join():
  /// blocking on a task there would deadlock.
  virtual bool single_threaded() const noexcept = 0;

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  /// Set while a tracer is attached and the executor is alive (read on every clone/drop).
  std::atomic<bool> traces_wakers{false};

 protected:
  virtual ~TaskScheduler() = default;

 private:
  std::atomic<std::uint32_t> refs_{1};
};

/// Task state bits. Transitions are CAS loops on TaskHeader::state.
namespace task_state {
/// The task will be polled: it sits in a run queue, or it is RUNNING and the poller
/// re-queues it when the poll returns. Never newly set once COMPLETED or CLOSED.
inline constexpr std::uint32_t scheduled = 1u << 0;
/// A thread is polling the future right now; at most one thread sets it at a time,
/// so a task is never polled concurrently.
inline constexpr std::uint32_t running = 1u << 1;
/// The future returned Ready (or threw): it is destroyed and the output (or the
/// exception) is stored until the JoinHandle takes it. Excludes CLOSED.
inline constexpr std::uint32_t completed = 1u << 2;
/// Aborted or cancelled: the future is destroyed (or will be, right after the
/// current poll, while RUNNING) and no output will ever come. Excludes COMPLETED.
inline constexpr std::uint32_t closed = 1u << 3;
inline constexpr std::uint32_t finished = completed | closed;
}  // namespace task_state

struct TaskVTable {
  /// Polls the future once. When it is done (Ready or threw) stores the output or
  /// the exception, destroys the future and returns true.
  bool (*poll)(TaskHeader*, Context&);
  /// Destroys a future that will never complete (abort, shutdown).
  void (*destroy_future)(TaskHeader*);
  /// Destroys any output nobody took and frees the cell.
  void (*deallocate)(TaskHeader*);
};

struct TaskHeader {
  std::atomic<std::uint32_t> state{0};
  /// References: the executor's registry (until finished), a run queue entry, the
  /// JoinHandle, and each live Waker. The cell is freed when it reaches zero.
  std::atomic<std::uint32_t> refs{1};
  /// Live Waker clones (not counting the one lent to each poll): tells whether
  /// anything outside could still wake the task (stall detection).
  std::atomic<std::uint32_t> wakers{0};
  const TaskVTable* vtable = nullptr;
  TaskScheduler* scheduler = nullptr;
  TaskId id = 0;
  /// Guards `awaiter` and the handover of the final state to a JoinHandle.
  SpinLock lock;
  /// The waker of whoever awaits this task's JoinHandle (a task or a blocked thread).
  std::optional<Waker> awaiter;
  std::exception_ptr error;
  /// Links in the executor's registry of unfinished tasks (owner thread only).
  TaskHeader* prev = nullptr;
  TaskHeader* next = nullptr;
  /// Free for the executor's bookkeeping (e.g. the worker a pool task last ran on).
  std::uint32_t executor_slot = 0;

  void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      TaskScheduler* s = scheduler;
      vtable->deallocate(this);
      s->release();
    }
  }
  bool is_finished() const noexcept { return (state.load(std::memory_order_acquire) & task_state::finished) != 0; }

  /// The wake transition: returns true when the caller must put the task in a run
  /// queue (it was idle); false when it is finished, already scheduled, or running
  /// (the poller then re-queues it once the poll returns).
  bool try_schedule() noexcept {
    std::uint32_t s = state.load(std::memory_order_acquire);
    for (;;) {
      if (s & (task_state::finished | task_state::scheduled)) return false;
      if (state.compare_exchange_weak(s, s | task_state::scheduled, std::memory_order_acq_rel)) {
        return (s & task_state::running) == 0;
      }
    }
  }

  /// The dequeue transition: SCHEDULED -> RUNNING. False when the task was closed
  /// while it sat in the queue (the caller then just drops the queue's reference).
  bool try_start_running() noexcept {
    std::uint32_t s = state.load(std::memory_order_acquire);
    for (;;) {
      if (s & task_state::finished) return false;
      if (state.compare_exchange_weak(s, (s & ~task_state::scheduled) | task_state::running,
                                      std::memory_order_acq_rel)) {
        return true;
      }
    }
  }
};

/// The output half of a cell: what a JoinHandle<T> reads without knowing the future.
template <class T>
struct TaskOutput : TaskHeader {
  std::optional<value_or_monostate_t<T>> output;
};

template <Future F>
struct TaskCell final : TaskOutput<output_t<F>> {
  union {
    F future;
  };

  explicit TaskCell(F&& f) : future(std::move(f)) {}
  ~TaskCell() {}  // the future is destroyed explicitly, exactly once, by the vtable

  static bool poll(TaskHeader* h, Context& cx) {
    auto* self = static_cast<TaskCell*>(h);
    try {
      auto p = self->future.poll(cx);
      if (p.is_pending()) return false;
      if constexpr (std::is_void_v<output_t<F>>) {
        self->output.emplace();
      } else {
        self->output.emplace(std::move(p).value());
      }
    } catch (...) {
      self->error = std::current_exception();
    }
    self->future.~F();
    return true;
  }
  static void destroy_future(TaskHeader* h) { static_cast<TaskCell*>(h)->future.~F(); }
  static void deallocate(TaskHeader* h) { delete static_cast<TaskCell*>(h); }

  static constexpr TaskVTable kVTable{&poll, &destroy_future, &deallocate};
};

/// Allocates a cell for `f`, owned by one reference (the caller's).
template <Future F>
TaskHeader* allocate_task(F&& f, TaskScheduler* scheduler, TaskId id) {
  auto* cell = new TaskCell<F>(std::move(f));
  cell->vtable = &TaskCell<F>::kVTable;
  cell->scheduler = scheduler;
  cell->id = id;
  scheduler->retain();
  return cell;
}

// The waker of a task: data is the TaskHeader, each Waker holds one reference.
RawWaker task_waker_clone(const void* data);
void task_waker_wake(const void* data);
void task_waker_wake_by_ref(const void* data);
void task_waker_drop(const void* data);
inline constexpr RawWakerVTable task_waker_vtable{&task_waker_clone, &task_waker_wake, &task_waker_wake_by_ref,
                                                  &task_waker_drop};

/// The waker lent to one poll of `task`, backed by the poller's reference.
inline RawWaker borrowed_task_waker(TaskHeader* task) noexcept { return RawWaker{task, &task_waker_vtable}; }

/// Unfinished tasks of an executor in spawn order (intrusive, owner thread only).
class TaskList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  TaskHeader* front() const noexcept { return head_; }
  void push_back(TaskHeader* t) noexcept {
    t->prev = tail_;
    t->next = nullptr;
    (tail_ ? tail_->next : head_) = t;
    tail_ = t;
  }
  void remove(TaskHeader* t) noexcept {
    (t->prev ? t->prev->next : head_) = t->next;
    (t->next ? t->next->prev : tail_) = t->prev;
    t->prev = t->next = nullptr;
  }
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (TaskHeader* t = head_; t; t = t->next) fn(t);
  }

 private:
  TaskHeader* head_ = nullptr;
  TaskHeader* tail_ = nullptr;
};

}  // namespace pollscope::detail
