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
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/future.hpp"
#include "pollscope/task_id.hpp"
#include "pollscope/trace.hpp"
#include "pollscope/waker.hpp"

namespace pollscope::detail {

struct TaskHeader;

/// Owner-thread ("biased") reference counting, after Choi et al., "Biased Reference
/// Counting" (PACT 2018). A count that one thread changes far more often than the
/// others is split in two: an atomic shared part that every thread may change, and a
/// plain part that only the owner thread changes, while it runs its executor (while
/// `tls_scope.core` is the biased-to executor). The true count is their sum. The shared
/// part carries an extra kBias that nobody owns while the split lasts, so that other
/// threads' decrements (which may undo increments counted on the owner's side) never
/// take it to zero: only the owner's fold, which ends the split by adding its part and
/// removing kBias in one atomic operation, can. kBias exceeds any number of references
/// that can exist at once.
inline constexpr std::uint32_t kBias = 1u << 30;

/// True when the calling thread is running `bias` (a non-null executor): it may then
/// use the owner's side of a biased count.
inline bool owns_bias(const ExecutorCore* bias) noexcept { return bias != nullptr && bias == tls_scope.core; }

class TaskScheduler;

/// Stall detection while an executor waits for wakers alive outside it (real clock).
/// An executor that found a waker alive outside and is about to sleep until a wake
/// registers its scheduler here (begin_outside_wait), THEN reads the live-waker counts
/// again (seq_cst) before and while it sleeps. A thread that drops a task's last waker
/// unwoken decrements the count (a seq_cst RMW), THEN reads g_outside_waits (seq_cst)
/// only when its RMW returned zero live wakers. Both pairs are in the single total
/// order S of seq_cst operations: if the executor's read of a count missed the
/// decrement, that read precedes the RMW in S, so the registration (before the read)
/// precedes the dropper's load, which therefore sees it and notifies the scheduler
/// (outside_wakers_gone, under the registry lock, so a registered scheduler is alive:
/// it unregisters under the same lock before it goes on). Either the executor sees
/// the count at zero or it is notified: no stall is missed. The registry is global
/// because after its RMW the dropper holds no reference any more: the task, and its
/// scheduler, may be freed at any time, so it only compares the scheduler's address
/// under the lock (a reused address at worst causes a spurious re-check).
/// The hot paths pay nothing new: clone and wake are unchanged, a drop branches on the
/// value its RMW returns (seq_cst instead of acq_rel: the same instruction on x86).
void begin_outside_wait(TaskScheduler* scheduler);
void end_outside_wait(TaskScheduler* scheduler) noexcept;
/// Number of registered waits; read by droppers whose RMW found zero live wakers.
inline std::atomic<std::uint32_t> g_outside_waits{0};
/// Slow path of a drop to zero live wakers: notifies `scheduler` if registered.
[[gnu::noinline]] void outside_waker_gone(const TaskScheduler* scheduler) noexcept;
/// After a drop whose RMW returned `counts` (the task's counts after it): the check
/// described above. `scheduler` was read before the RMW (the task may be gone now).
inline void check_outside_wakers_gone(std::uint64_t counts, const TaskScheduler* scheduler) noexcept {
  if ((counts >> 32) == 0 && g_outside_waits.load(std::memory_order_seq_cst) != 0) [[unlikely]] {
    outside_waker_gone(scheduler);
  }
}

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

  /// True on the thread that runs the executor this scheduler is biased to.
  bool owner_side() const noexcept { return owns_bias(bias_.load(std::memory_order_relaxed)); }

  void retain() noexcept {
    if (owner_side()) {
      ++owner_refs_;
    } else {
      refs_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  void release() noexcept {
    if (owner_side()) {
      --owner_refs_;  // never the last reference: kBias is still in refs_
    } else if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      delete this;
    }
  }

  /// Set while a tracer is attached and the executor is alive (read on every clone/drop).
  std::atomic<bool> traces_wakers{false};

  /// Called, under the registry lock of outside_waits (task.cpp), when a waker drop on
  /// any thread took a task's live-waker count to zero while this scheduler was
  /// registered there (begin_outside_wait): its waiting executor must re-run its stall
  /// check. It must not block on anything a waker drop may hold; it only notifies.
  virtual void outside_wakers_gone() noexcept {}

 protected:
  virtual ~TaskScheduler() = default;

  /// Starts owner-thread counting for `core`'s thread (before anyone else can see the
  /// scheduler). The owner must call unbias() before the executor goes away.
  void bias_to(const ExecutorCore* core) noexcept {
    refs_.fetch_add(kBias, std::memory_order_relaxed);
    bias_.store(core, std::memory_order_relaxed);
  }
  /// Ends owner-thread counting: folds the owner's part into refs_ (owner thread,
  /// outside any use of the owner's side).
  void unbias() noexcept {
    bias_.store(nullptr, std::memory_order_relaxed);
    refs_.fetch_sub(kBias - owner_refs_, std::memory_order_acq_rel);
    owner_refs_ = 0;
  }

 private:
  std::atomic<std::uint32_t> refs_{1};
  /// The executor whose thread counts in owner_refs_ (null: no split). Written only
  /// before other threads see the scheduler and by unbias(), which runs after the last
  /// use on the owner's side; other threads read it but never match their own scope.
  std::atomic<const ExecutorCore*> bias_{nullptr};
  /// The owner thread's part of the count, modulo 2^32 (may be "negative").
  std::uint32_t owner_refs_ = 0;
};

/// Task state bits. Transitions are CAS loops on TaskHeader::state, except on
/// LocalExecutor, whose owner thread alone writes its tasks' states (local_executor.hpp).
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
  /// Free for the executor's bookkeeping (e.g. the worker a pool task last ran on).
  std::uint32_t executor_slot = 0;
  /// Two counts in one word, so that a waker's clone, wake or drop is one atomic
  /// operation. Low half: references (the executor's registry until finished, run
  /// queue entries, the JoinHandle, each live Waker); the cell is freed when they
  /// reach zero. High half: live Waker clones (not counting the one lent to each
  /// poll), which tells whether anything outside could still wake the task (stall
  /// detection). Starts at one reference, the creator's. While `biased`, this is
  /// the shared part of a biased count (see kBias): the true counts are
  /// counts + owner_counts - kBias references, modulo 2^64 (see counts_now()).
  std::atomic<std::uint64_t> counts{kRef};
  static constexpr std::uint64_t kRef = 1;
  static constexpr std::uint64_t kWaker = std::uint64_t{1} << 32;
  const TaskVTable* vtable = nullptr;
  TaskScheduler* scheduler = nullptr;
  /// The owner thread's part of the counts while `biased`, modulo 2^64.
  std::uint64_t owner_counts = 0;
  TaskId id = 0;
  /// Guards `awaiter` and the handover of the final state to a JoinHandle.
  SpinLock lock;
  /// Set while the thread that runs the scheduler's executor (see
  /// TaskScheduler::owner_side) counts this task's references and wakers in
  /// `owner_counts`. Set by the executor before other threads see the task, cleared by
  /// fold_and_release() on that thread; other threads read it but never count there.
  std::atomic<bool> biased{false};
  /// LocalExecutor only, under its remote-wake lock: a wake from another thread waits
  /// in its queue for this task (further untraced ones add nothing until it is taken).
  bool remote_wake_queued = false;
  /// The waker of whoever awaits this task's JoinHandle (a task or a blocked thread).
  std::optional<Waker> awaiter;
  /// What the future threw (or the executor failed it with). Optional: libc++ (the
  /// wasm builds) destroys even an empty std::exception_ptr with an out-of-line call,
  /// and every task cell destroys this.
  std::optional<std::exception_ptr> error;
  /// Links in the executor's registry of unfinished tasks (owner thread only).
  TaskHeader* prev = nullptr;
  TaskHeader* next = nullptr;

  static constexpr std::uint64_t kBiasRefs = kBias * kRef;

  void retain() noexcept {
    if (owner_side()) {
      owner_counts += kRef;
    } else {
      counts.fetch_add(kRef, std::memory_order_relaxed);
    }
  }
  /// Drops `n` references at once (one atomic operation).
  void release(std::uint32_t n = 1) noexcept { drop(n * kRef); }
  /// The true counts (references in the low half, live wakers in the high half). On a
  /// biased task, call it only on the owner thread (or while that thread is stopped).
  std::uint64_t counts_now() const noexcept {
    // seq_cst: a stall check's read in the handshake described at begin_outside_wait.
    const std::uint64_t shared = counts.load(std::memory_order_seq_cst);
    return biased.load(std::memory_order_relaxed) ? shared + owner_counts - kBiasRefs : shared;
  }
  /// Live Waker clones of the task (see counts_now() for biased tasks).
  std::uint32_t live_wakers() const noexcept { return static_cast<std::uint32_t>(counts_now() >> 32); }
  /// A new Waker: one more reference and one more live waker. Returns the live wakers.
  std::uint32_t add_waker() noexcept {
    if (owner_side()) {
      owner_counts += kRef + kWaker;
      return live_wakers();
    }
    return static_cast<std::uint32_t>((counts.fetch_add(kRef + kWaker, std::memory_order_relaxed) >> 32) + 1);
  }
  /// A Waker consumed by wake(), with its reference (the wake itself tells the executor).
  void drop_waker() noexcept { drop(kRef + kWaker); }
  /// A Waker dropped unwoken, with its reference: when that leaves no live waker, an
  /// executor waiting for outside wakers is told (check_outside_wakers_gone). On the
  /// owner's side nothing is checked: the owner thread is running its executor, which
  /// is not waiting then (and flushes the owner's part before it waits, see
  /// flush_owner_counts).
  void drop_unwoken_waker() noexcept {
    if (owner_side()) {
      owner_counts -= kRef + kWaker;
      return;
    }
    const TaskScheduler* s = scheduler;  // read while our reference keeps the cell alive
    constexpr std::uint64_t amount = kRef + kWaker;
    const std::uint64_t left = counts.fetch_sub(amount, std::memory_order_seq_cst) - amount;
    check_outside_wakers_gone(left, s);
    if ((left & 0xFFFFFFFFu) == 0) free_cell();
  }
  /// A Waker gone unwoken, keeping its reference for the caller to release. Returns the
  /// live wakers (and tells a waiting executor, like drop_unwoken_waker).
  std::uint32_t forget_waker() noexcept {
    if (owner_side()) {
      owner_counts -= kWaker;
      return live_wakers();
    }
    const std::uint64_t left = counts.fetch_sub(kWaker, std::memory_order_seq_cst) - kWaker;
    check_outside_wakers_gone(left, scheduler);  // our reference keeps the cell alive
    return static_cast<std::uint32_t>(left >> 32);
  }
  /// On the owner thread of a biased task, before its executor waits for outside
  /// wakers: moves the owner's part into `counts` (keeping the split and kBias), so
  /// that another thread's drop sees the true live-waker count in the value its RMW
  /// returns. The owner's part stays zero while the owner thread sleeps.
  void flush_owner_counts() noexcept {
    if (!biased.load(std::memory_order_relaxed) || owner_counts == 0) return;
    counts.fetch_add(std::exchange(owner_counts, 0), std::memory_order_seq_cst);
  }
  bool is_finished() const noexcept { return (state.load(std::memory_order_acquire) & task_state::finished) != 0; }

  /// Starts owner-thread counting, with `refs` references (the task must not be
  /// visible to other threads yet; its scheduler must be biased).
  void bias(std::uint32_t refs) noexcept {
    counts.store(kBiasRefs + refs * kRef, std::memory_order_relaxed);
    owner_counts = 0;
    biased.store(true, std::memory_order_relaxed);
  }
  /// On the owner thread: ends owner-thread counting (the owner's part and the removal
  /// of kBias go into `counts` in one atomic operation) and drops one reference.
  void fold_and_release() noexcept {
    const std::uint64_t amount = kBiasRefs + kRef - owner_counts;
    owner_counts = 0;
    biased.store(false, std::memory_order_relaxed);
    drop(amount);
  }

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
  /// True on the thread that runs the executor this task's counts are biased to.
  bool owner_side() const noexcept { return biased.load(std::memory_order_relaxed) && scheduler->owner_side(); }

  /// Subtracts `amount` from the counts; frees the cell when no reference is left.
  /// On the owner's side it never frees: kBias is still in `counts`.
  void drop(std::uint64_t amount) noexcept {
    if (owner_side()) {
      owner_counts -= amount;
      return;
    }
    if (((counts.fetch_sub(amount, std::memory_order_acq_rel) - amount) & 0xFFFFFFFFu) == 0) free_cell();
  }
  void free_cell() noexcept {
    TaskScheduler* s = scheduler;
    vtable->deallocate(this);
    s->release();
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
/// A clone of a task's waker (of either vtable below), with that vtable.
RawWaker clone_task_waker(const void* data, const RawWakerVTable* vtable) noexcept;
RawWaker task_waker_clone(const void* data) noexcept;
void task_waker_wake(const void* data) noexcept;
void task_waker_wake_by_ref(const void* data) noexcept;
void task_waker_drop(const void* data) noexcept;
inline constexpr RawWakerVTable task_waker_vtable{&task_waker_clone, &task_waker_wake, &task_waker_wake_by_ref,
                                                  &task_waker_drop};

/// The waker lent to one poll of `task`, backed by the poller's reference.
inline RawWaker borrowed_task_waker(TaskHeader* task) noexcept { return RawWaker{task, &task_waker_vtable}; }

/// The waker of a LocalExecutor's task: the same waker, except that its wakes call
/// LocalCore's wake directly rather than TaskScheduler's virtual one. A yield wakes
/// at every step, and in wasm each indirect call is a table check and a frame of its
/// own. Clones keep this vtable. The functions are defined in local_executor.cpp.
RawWaker local_task_waker_clone(const void* data) noexcept;
void local_task_waker_wake(const void* data) noexcept;
void local_task_waker_wake_by_ref(const void* data) noexcept;
inline constexpr RawWakerVTable local_task_waker_vtable{&local_task_waker_clone, &local_task_waker_wake,
                                                        &local_task_waker_wake_by_ref, &task_waker_drop};

/// True for the waker of a task (any executor's): its data is a TaskHeader.
inline bool is_task_waker(const RawWaker& raw) noexcept {
  return raw.vtable == &task_waker_vtable || raw.vtable == &local_task_waker_vtable;
}

/// True when cloning `waker` runs nothing but a reference count: a task's waker whose
/// executor does not trace waker clones. Such a clone may be made under a SpinLock;
/// any other clone may run arbitrary code (a tracer, a user-defined waker) and is made
/// outside it.
inline bool clone_runs_no_user_code(const Waker& waker) noexcept {
  const RawWaker& raw = waker.as_raw();
  return is_task_waker(raw) &&
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
