#pragma once
/// The scheduling policy of the work-stealing pools, written once and used twice:
/// by ThreadPool on real threads (MultiThreadedSync: locks and atomics) and by
/// SimulatedPool on one thread (SingleThreadedSync: the same code with no-op locks
/// and plain integers), so the simulation shows exactly what the real pool does.
///
/// The policy (after Tokio's scheduler):
///  - each worker has a local FIFO run queue; there is one shared injection queue;
///  - a worker takes work from its own queue, but every kInjectionInterval-th time it
///    looks at the injection queue first, so that queue cannot starve;
///  - a worker that runs dry becomes "searching" (unless half the workers search
///    already): it steals the oldest half of another worker's queue, moving those
///    tasks in order to the back of its own, or takes from the injection queue;
///  - after kSearchRounds fruitless rounds it announces that it will park (it enters
///    the parked list), re-checks every queue, and only then parks. New work unparks
///    a parked worker only when no worker is searching (the unparked worker counts as
///    searching from then on). The producer reads the idle state after it queued the
///    work; the parking worker announces its intent (a read-modify-write of the idle
///    state) before it re-checks the queues. Both touch the queue under that queue's
///    lock, so one of the two critical sections comes first: if the parking worker's,
///    its announcement happens before the producer's read, which sees it; if the
///    producer's, the re-check sees the work. No wakeup is lost. ThreadPool's untraced
///    lock-free local queues (detail/local_run_queue.hpp) have no lock to order the
///    two sides: there the push is a seq_cst store, the producer's read of the idle
///    state a seq_cst load, the announcement a seq_cst read-modify-write and the
///    re-check seq_cst loads, and the single total order of seq_cst operations gives
///    the same either-or.
///
/// The queues hold task references; the policy never touches task state. Callbacks
/// passed to queue operations run while that queue's lock is held (executors trace
/// there, so events about one queue appear in the order they happened).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "pollscope/detail/shake.hpp"
#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/detail/task.hpp"

namespace pollscope::detail {

/// splitmix64: a tiny, fast PRNG whose sequence is the same on every platform.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// A number in [0, n) for 0 < n < 2^32: the high 32 bits scaled by n (Lemire's
  /// multiply-shift, in 64-bit arithmetic so that every build computes the same).
  std::uint32_t below(std::uint32_t n) noexcept {
    return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }

 private:
  std::uint64_t state_;
};

/// Single-threaded instantiation: locks do nothing, "atomics" are plain values.
struct SingleThreadedSync {
  template <class T>
  class Atomic {
   public:
    explicit Atomic(T v = T{}) noexcept : v_(v) {}
    T load(std::memory_order = std::memory_order_seq_cst) const noexcept { return v_; }
    void store(T v, std::memory_order = std::memory_order_seq_cst) noexcept { v_ = v; }
    T fetch_add(T d, std::memory_order = std::memory_order_seq_cst) noexcept { return std::exchange(v_, v_ + d); }
    T fetch_sub(T d, std::memory_order = std::memory_order_seq_cst) noexcept { return std::exchange(v_, v_ - d); }

   private:
    T v_;
  };
  struct Lock {
    void lock() noexcept {}
    void unlock() noexcept {}
  };
  using Mutex = Lock;
  static void shake() noexcept {}
};

/// Real threads: a spin lock per queue, a mutex for the idle state.
struct MultiThreadedSync {
  template <class T>
  using Atomic = std::atomic<T>;
  using Lock = SpinLock;
  using Mutex = std::mutex;
  static void shake() noexcept { shake_point(); }
};

template <class Sync>
class WorkStealingPolicy {
 public:
  /// Every this many polls a worker looks at the injection queue before its own.
  static constexpr std::uint64_t kInjectionInterval = 61;
  /// Fruitless search rounds (steal attempts over every other worker, then the
  /// injection queue) before a worker parks: the "spin briefly" part of idling.
  static constexpr int kSearchRounds = 2;

  explicit WorkStealingPolicy(std::uint32_t workers) : workers_(workers), locals_(workers) {}
  WorkStealingPolicy(const WorkStealingPolicy&) = delete;
  WorkStealingPolicy& operator=(const WorkStealingPolicy&) = delete;

  std::uint32_t workers() const noexcept { return workers_; }

  // ---------------------------------------------------------------- queues

  /// Appends `task` to worker `w`'s queue; `on_push(queue number, length after)`.
  template <class OnPush>
  void push_local(std::uint32_t w, TaskHeader* task, OnPush&& on_push) {
    Queue& q = locals_[w];
    Sync::shake();
    std::lock_guard<typename Sync::Lock> lock(q.lock);
    q.tasks.push_back(task);
    on_push(local_queue_of(w), static_cast<std::uint64_t>(q.tasks.size()));
  }

  /// Appends `task` to the injection queue; false (nothing done) once it is closed.
  template <class OnPush>
  bool push_injection(TaskHeader* task, OnPush&& on_push) {
    Sync::shake();
    std::lock_guard<typename Sync::Lock> lock(injection_.lock);
    if (injection_closed_) return false;
    injection_.tasks.push_back(task);
    on_push(kInjectionQueue, static_cast<std::uint64_t>(injection_.tasks.size()));
    return true;
  }

  /// The next task for worker `w` without stealing: the injection queue first on
  /// every kInjectionInterval-th `tick`, else its own queue, then the injection queue.
  /// `on_pop(task, queue number, length after)` returns false to refuse the task:
  /// the callback then owns its reference (e.g. stashes it to release it after the
  /// lock) and the pop goes on with the next task.
  template <class OnPop>
  TaskHeader* pop(std::uint32_t w, std::uint64_t tick, OnPop&& on_pop) {
    if (tick % kInjectionInterval == 0) {
      if (TaskHeader* t = pop_from(injection_, kInjectionQueue, on_pop)) return t;
    }
    if (TaskHeader* t = pop_from(locals_[w], local_queue_of(w), on_pop)) return t;
    return pop_from(injection_, kInjectionQueue, on_pop);
  }

  /// Appends `n` tasks, in order, to the injection queue under one lock (ThreadPool:
  /// the overflow of a full lock-free local queue); false (nothing done) once closed.
  bool push_injection_batch(TaskHeader* const* tasks, std::size_t n) {
    Sync::shake();
    std::lock_guard<typename Sync::Lock> lock(injection_.lock);
    if (injection_closed_) return false;
    injection_.tasks.insert(injection_.tasks.end(), tasks, tasks + n);
    return true;
  }

  /// Takes the oldest tasks of the injection queue, in order, into `out`: its
  /// length / workers + 1 (a fair share), at most `max`. Returns the count (ThreadPool:
  /// refills a worker's lock-free local queue with one lock instead of one per task).
  std::size_t pop_injection_batch(TaskHeader** out, std::size_t max) {
    Sync::shake();
    std::lock_guard<typename Sync::Lock> lock(injection_.lock);
    const std::size_t n = std::min<std::size_t>(max, injection_.tasks.size() / workers_ + 1);
    std::size_t taken = 0;
    while (taken < n && !injection_.tasks.empty()) {
      out[taken++] = injection_.tasks.front();
      injection_.tasks.pop_front();
    }
    return taken;
  }

  template <class OnPop>
  TaskHeader* pop_injection(OnPop&& on_pop) {
    return pop_from(injection_, kInjectionQueue, on_pop);
  }

  /// Worker `thief` tries the other workers in order, starting at `first` (a random
  /// index; the thief itself is skipped), and moves the oldest half (rounded up) of
  /// the first non-empty queue, in order, to the back of its own queue.
  /// `on_steal(victim, count)` runs under the thief's queue lock. Returns the count.
  template <class OnSteal>
  std::uint64_t steal(std::uint32_t thief, std::uint32_t first, OnSteal&& on_steal) {
    for (std::uint32_t i = 0; i < workers_; ++i) {
      const std::uint32_t victim = (first + i) % workers_;
      if (victim == thief) continue;
      Queue& from = locals_[victim];
      Sync::shake();
      std::vector<TaskHeader*>& batch = locals_[thief].steal_buffer;
      {
        std::lock_guard<typename Sync::Lock> lock(from.lock);
        const std::size_t n = from.tasks.size();
        if (n == 0) continue;
        const std::size_t take = n - n / 2;
        batch.assign(from.tasks.begin(), from.tasks.begin() + static_cast<std::ptrdiff_t>(take));
        from.tasks.erase(from.tasks.begin(), from.tasks.begin() + static_cast<std::ptrdiff_t>(take));
      }
      // In transit the tasks are in no queue; the thief is not parked, so nobody
      // concludes from the empty queues that the pool is idle.
      Sync::shake();
      Queue& to = locals_[thief];
      std::lock_guard<typename Sync::Lock> lock(to.lock);
      to.tasks.insert(to.tasks.end(), batch.begin(), batch.end());
      const std::uint64_t count = batch.size();
      batch.clear();
      on_steal(victim, count);
      return count;
    }
    return 0;
  }

  /// True when any queue holds a task (the re-check before parking).
  bool has_work() {
    Sync::shake();
    if (!empty(injection_)) return true;
    for (Queue& q : locals_) {
      if (!empty(q)) return true;
    }
    return false;
  }

  std::uint64_t local_length(std::uint32_t w) {
    std::lock_guard<typename Sync::Lock> lock(locals_[w].lock);
    return locals_[w].tasks.size();
  }

  /// Shutdown: refuses further injections and hands back every queued reference.
  std::vector<TaskHeader*> close_and_drain() {
    std::vector<TaskHeader*> out;
    {
      std::lock_guard<typename Sync::Lock> lock(injection_.lock);
      injection_closed_ = true;
      out.assign(injection_.tasks.begin(), injection_.tasks.end());
      injection_.tasks.clear();
    }
    for (Queue& q : locals_) {
      std::lock_guard<typename Sync::Lock> lock(q.lock);
      out.insert(out.end(), q.tasks.begin(), q.tasks.end());
      q.tasks.clear();
    }
    return out;
  }

  // ---------------------------------------------------------------- idle state
  // `state_` packs the number of searching workers (low half) and of parked
  // workers (high half); the parked list itself is under `idle_mutex_`.

  /// A worker that ran dry asks to search. False when half the awake workers (at
  /// least one) search already: it should park instead.
  bool start_searching() {
    Sync::shake();
    std::lock_guard<typename Sync::Mutex> lock(idle_mutex_);
    const std::uint64_t s = state_.load(std::memory_order_relaxed);
    const std::uint64_t awake = workers_ - parked_of(s);
    if (2 * searching_of(s) >= std::max<std::uint64_t>(awake, 1)) return false;
    state_.fetch_add(1, std::memory_order_acq_rel);
    return true;
  }

  /// A searching worker found work (or gives up). True when it was the last one
  /// searching: then it should wake another worker to look for more.
  bool stop_searching() {
    Sync::shake();
    return searching_of(state_.fetch_sub(1, std::memory_order_acq_rel)) == 1;
  }

  /// The first test of worker_to_notify alone (one seq_cst load, see there): false
  /// when it would certainly find no worker to unpark. Lets a pusher skip working out
  /// whether its push deserves a notification.
  bool may_notify() const noexcept {
    const std::uint64_t s = state_.load(std::memory_order_seq_cst);
    return searching_of(s) == 0 && parked_of(s) != 0;
  }

  /// Called after new work was queued: the worker to unpark, if one should be —
  /// none when a worker is searching already (it will find the work) or none is
  /// parked. The chosen worker leaves the parked list and counts as searching.
  std::optional<std::uint32_t> worker_to_notify() {
    // A plain load suffices (the queue lock orders it against a parking worker's
    // announcement, see the header comment). Seq_cst rather than relaxed for queues
    // without a lock (ThreadPool's lock-free local queues, detail/local_run_queue.hpp):
    // their push is a seq_cst store, the announcement a seq_cst read-modify-write and
    // the re-check seq_cst loads, so the single total order of seq_cst operations
    // gives the same either-or (a seq_cst load is a plain load on x86 and ARMv8's
    // ldar; nothing changes for SimulatedPool's plain integers). The decision is
    // re-checked under idle_mutex_. It must not be a read-modify-write: one on every
    // push would move this cache line between the workers that are pushing.
    const std::uint64_t s = state_.load(std::memory_order_seq_cst);
    if (searching_of(s) != 0 || parked_of(s) == 0) return std::nullopt;
    Sync::shake();
    std::lock_guard<typename Sync::Mutex> lock(idle_mutex_);
    const std::uint64_t now = state_.load(std::memory_order_relaxed);
    if (searching_of(now) != 0 || parked_.empty()) return std::nullopt;
    const std::uint32_t w = parked_.back();  // the most recently parked: its cache is warmest
    parked_.pop_back();
    state_.fetch_add(1 - kParkedOne, std::memory_order_acq_rel);
    return w;
  }

  /// A worker announces that it will park (and stops searching if it was). Returns
  /// true when every worker is now in the parked list. The caller must re-check every
  /// queue (has_work) before it actually parks.
  bool announce_park(std::uint32_t w, bool was_searching) {
    Sync::shake();
    std::lock_guard<typename Sync::Mutex> lock(idle_mutex_);
    parked_.push_back(w);
    const std::uint64_t delta = kParkedOne - (was_searching ? 1 : 0);
    // Seq_cst: the announcement of the either-or in worker_to_notify (lock-free
    // queues); the same locked instruction as acq_rel on x86.
    const std::uint64_t s = state_.fetch_add(delta, std::memory_order_seq_cst) + delta;
    return parked_of(s) == workers_;
  }

  /// The re-check found work: true when `w` was still in the parked list (it is
  /// now removed and counts as searching); false when a notifier took it out first
  /// (it counts as searching already, and a notification is on its way).
  bool cancel_park(std::uint32_t w) {
    Sync::shake();
    std::lock_guard<typename Sync::Mutex> lock(idle_mutex_);
    auto it = std::find(parked_.begin(), parked_.end(), w);
    if (it == parked_.end()) return false;
    parked_.erase(it);
    state_.fetch_add(1 - kParkedOne, std::memory_order_acq_rel);
    return true;
  }

  std::uint64_t searching() const noexcept { return searching_of(state_.load(std::memory_order_acquire)); }
  std::uint64_t parked() const noexcept { return parked_of(state_.load(std::memory_order_acquire)); }

 private:
  /// On a cache line of its own: a worker's pushes and pops must not invalidate
  /// another worker's queue (nor the idle state) in the other core's cache.
  struct alignas(64) Queue {
    typename Sync::Lock lock;
    std::deque<TaskHeader*> tasks;
    std::vector<TaskHeader*> steal_buffer;  // the owner's scratch space when it steals
  };
  static constexpr std::uint64_t kParkedOne = std::uint64_t{1} << 32;
  static std::uint64_t searching_of(std::uint64_t s) noexcept { return s & 0xFFFFFFFFu; }
  static std::uint64_t parked_of(std::uint64_t s) noexcept { return s >> 32; }

  bool empty(Queue& q) {
    std::lock_guard<typename Sync::Lock> lock(q.lock);
    return q.tasks.empty();
  }

  template <class OnPop>
  TaskHeader* pop_from(Queue& q, std::uint64_t number, OnPop& on_pop) {
    Sync::shake();
    std::lock_guard<typename Sync::Lock> lock(q.lock);
    while (!q.tasks.empty()) {
      TaskHeader* t = q.tasks.front();
      q.tasks.pop_front();
      if (on_pop(t, number, static_cast<std::uint64_t>(q.tasks.size()))) return t;
    }
    return nullptr;
  }

  const std::uint32_t workers_;
  std::vector<Queue> locals_;
  Queue injection_;
  bool injection_closed_ = false;  // under injection_.lock
  /// Read at every push (worker_to_notify), written only when a worker starts or
  /// stops searching or parking: on its own line, so that those reads hit the cache.
  alignas(64) typename Sync::template Atomic<std::uint64_t> state_{0};
  typename Sync::Mutex idle_mutex_;
  std::vector<std::uint32_t> parked_;  // under idle_mutex_
};

}  // namespace pollscope::detail
