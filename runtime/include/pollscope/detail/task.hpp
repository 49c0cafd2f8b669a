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
#include "pollscope/detail/block_cache.hpp"
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
  /// Two counts in one word, so that a waker's clone, wake or drop is one atomic
  /// operation. Low half: references (the executor's registry until finished, run
  /// queue entries, the JoinHandle, each live Waker); the cell is freed when they
  /// reach zero. High half: live Waker clones (not counting the one lent to each
  /// poll), which tells whether anything outside could still wake the task (stall
  /// detection). Starts at one reference, the creator's.
  std::atomic<std::uint64_t> counts{kRef};
  static constexpr std::uint64_t kRef = 1;
  static constexpr std::uint64_t kWaker = std::uint64_t{1} << 32;
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

  void retain() noexcept { counts.fetch_add(kRef, std::memory_order_relaxed); }
  /// Drops `n` references at once (one atomic operation).
  void release(std::uint32_t n = 1) noexcept { drop(n * kRef); }
  /// Live Waker clones of the task.
  std::uint32_t live_wakers() const noexcept {
    return static_cast<std::uint32_t>(counts.load(std::memory_order_acquire) >> 32);
  }
  /// A new Waker: one more reference and one more live waker. Returns the live wakers.
  std::uint32_t add_waker() noexcept {
    return static_cast<std::uint32_t>((counts.fetch_add(kRef + kWaker, std::memory_order_relaxed) >> 32) + 1);
  }
  /// A Waker gone (dropped, or consumed by wake()) with its reference.
  void drop_waker() noexcept { drop(kRef + kWaker); }
  /// A Waker gone, keeping its reference for the caller to release. Returns the live wakers.
  std::uint32_t forget_waker() noexcept {
    return static_cast<std::uint32_t>((counts.fetch_sub(kWaker, std::memory_order_acq_rel) >> 32) - 1);
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

 private:
  /// Subtracts `amount` from the counts; frees the cell when no reference is left.
  void drop(std::uint64_t amount) noexcept {
    if (((counts.fetch_sub(amount, std::memory_order_acq_rel) - amount) & 0xFFFFFFFFu) == 0) {
      TaskScheduler* s = scheduler;
      vtable->deallocate(this);
      s->release();
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
  static void deallocate(TaskHeader* h) {
    auto* self = static_cast<TaskCell*>(h);
    self->~TaskCell();
    free_memory(self);
  }

  /// Memory for a cell: from the thread's block cache unless it is over-aligned.
  static void* allocate_memory() {
    if constexpr (kCached) {
      return block_alloc(sizeof(TaskCell));
    } else {
      return ::operator new(sizeof(TaskCell), std::align_val_t{alignof(TaskCell)});
    }
  }
  static void free_memory(void* memory) noexcept {
    if constexpr (kCached) {
      block_free(memory, sizeof(TaskCell));
    } else {
      ::operator delete(memory, std::align_val_t{alignof(TaskCell)});
    }
  }
  static constexpr bool kCached = alignof(TaskCell) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;

  static constexpr TaskVTable kVTable{&poll, &destroy_future, &deallocate};
};

/// Allocates a cell for `f`, owned by one reference (the caller's).
template <Future F>
TaskHeader* allocate_task(F&& f, TaskScheduler* scheduler, TaskId id) {
  void* memory = TaskCell<F>::allocate_memory();
  TaskCell<F>* cell;
  try {
    cell = new (memory) TaskCell<F>(std::move(f));
  } catch (...) {
    TaskCell<F>::free_memory(memory);
    throw;
  }
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

/// True when cloning `waker` runs nothing but a reference count: a task's waker whose
/// executor does not trace waker clones. Such a clone may be made under a SpinLock;
/// any other clone may run arbitrary code (a tracer, a user-defined waker) and is made
/// outside it.
inline bool clone_runs_no_user_code(const Waker& waker) noexcept {
  const RawWaker& raw = waker.as_raw();
  return raw.vtable == &task_waker_vtable &&
         !static_cast<const TaskHeader*>(raw.data)->scheduler->traces_wakers.load(std::memory_order_relaxed);
}

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
