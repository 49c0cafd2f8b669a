#include "pollscope/thread_pool.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pollscope/detail/local_run_queue.hpp"
#include "pollscope/detail/shake.hpp"
#include "pollscope/detail/work_stealing_policy.hpp"

namespace pollscope {

namespace detail {

namespace {

constexpr std::size_t kMaxWorkers = 1024;

class PoolCore final : public ThreadedCore {
 public:
  PoolCore(std::uint32_t workers, const ExecutorOptions& options)
      : ThreadedCore(options, /*timer_thread_number=*/workers, /*sole_pollers=*/workers),
        traced_(options.tracer != nullptr),
        policy_(workers) {
    for (std::uint32_t w = 0; w < workers; ++w) {
      workers_.push_back(std::make_unique<Worker>(0x5EED0000ull + w));
    }
  }

  /// Starts the worker threads (after construction: they use the whole object).
  void start() {
    for (std::uint32_t w = 0; w < policy_.workers(); ++w) {
      workers_[w]->thread = std::thread([this, w] { worker_main(w); });
    }
  }

  void submit(TaskHeader* task) override {
    const bool from_worker = is_worker_thread();
    const std::uint32_t thread = event_thread();
    // No other thread knows the task yet, so a store sets its state (no
    // read-modify-write); the registry shard's lock and the queue push (a release or
    // stronger) publish it. SCHEDULED before the task is registered: a stall check
    // that sees it in the registry then sees it scheduled too.
    task->state.store(task_state::scheduled, std::memory_order_relaxed);
    task->retain();  // the queue's reference
    register_task(task, thread);
    if (from_worker) {
      push_next(tls_scope.thread, task, WakeSource::task, tls_scope.polling);
    } else {
      push_injection(task, outside_source(), 0);
    }
  }

  void wake(TaskHeader* task, EventKind how) override {
    if (closed()) return;
    shake_point();
    const bool enqueue = task->try_schedule();
    std::uint64_t other = 0;
    WakeSource source = classify_wake(task->id, other);
    if (on_own_thread() && source == WakeSource::self) tls_scope.woke_self = true;
    if (tracing()) {
      Event e;
      e.kind = how;
      e.task = task->id;
      e.source = source;
      e.other = other;
      e.thread = event_thread();
      emit(std::move(e));
    }
    if (!enqueue) return;
    task->retain();  // the queue's reference
    if (source == WakeSource::self) {
      source = WakeSource::task;
      other = task->id;
    }
    if (is_worker_thread() && !tls_scope.firing_timers) {
      push_next(tls_scope.thread, task, source, other);
    } else {
      push_injection(task, source, other);
    }
  }

  /// join() from a worker would block the thread that may be needed to finish the task.
  bool single_threaded() const noexcept override { return is_worker_thread(); }

  /// A worker about to block hands its next task over: the LIFO slot's task goes to
  /// its queue, and an idle worker is woken to steal whatever is queued there.
  void block_thread(std::chrono::nanoseconds d) override {
    if (is_worker_thread()) {
      const std::uint32_t w = tls_scope.thread;
      if (TaskHeader* t = std::exchange(workers_[w]->lifo, nullptr)) push_local(w, t, WakeSource::task, t->id, false);
      if (local_length(w) != 0) notify_work(WakeSource::task, tls_scope.polling);
    }
    ThreadedCore::block_thread(d);
  }

  void shutdown() noexcept override {
    stopping_.store(true, std::memory_order_release);
    for (auto& w : workers_) w->parker.unpark(WakeSource::none, 0);
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
    stop_timer_thread();
    mark_closed();
    {
      ScopeGuard scope(ThreadScope{this, 0, kExternalThread, false, false});
      close_remaining(kExternalThread);
    }
    for (TaskHeader* t : policy_.close_and_drain()) t->release();
    for (auto& w : workers_) {
      w->queue.drain([](TaskHeader* t) { t->release(); });
      if (w->lifo) w->lifo->release();
    }
    finish_shutdown();
  }

 protected:
  std::uint32_t outside_thread() const noexcept override { return kExternalThread; }

 private:
  /// Capacity of a worker's lock-free queue (Tokio's); a push to a full queue moves
  /// its older half to the injection queue.
  static constexpr std::uint32_t kLocalCapacity = 256;
  /// Cache-line aligned: the fields after `thread` are written by their worker at
  /// every poll and must not share a line with another worker's.
  struct alignas(64) Worker {
    explicit Worker(std::uint64_t seed) : rng(seed) {}
    ThreadParker parker;
    std::thread thread;
    /// Set while it waits for wakers alive outside the pool (see begin_waiting_outside).
    std::atomic<bool> waiting_outside{false};
    std::uint64_t tick = 0;
    SplitMix64 rng;
    std::vector<TaskHeader*> refused;
    /// The LIFO slot (owner only, so no synchronisation): the task that the task being
    /// polled spawned or woke last, polled next (message passing: the receiver runs
    /// right after the sender, while its data is in this core's cache). Only this
    /// worker can take it, so it holds a task only until the end of the poll that put
    /// it there (or until that poll blocks, block_thread); pop() then runs it or moves
    /// it to the queue. In the trace it belongs to the worker's queue: it enters the
    /// queue and leaves it ahead of the tasks queued before it.
    TaskHeader* lifo = nullptr;
    /// Polls in a row taken from the LIFO slot (at most kLifoLimit).
    std::uint32_t lifo_run = 0;
    /// The worker's run queue when the pool is not traced (lock-free; its head and
    /// tail are on cache lines of their own). A traced pool uses the policy's locked
    /// queues instead (see traced_).
    LocalRunQueue<TaskHeader*, kLocalCapacity> queue;
  };
  using Policy = WorkStealingPolicy<MultiThreadedSync>;
  using Sync = MultiThreadedSync;
  /// Polls in a row from the LIFO slot before the slot's task goes to the back of the
  /// queue: two tasks waking each other take turns in the slot, and would otherwise
  /// keep every queued task waiting (those a thief cannot steal).
  static constexpr std::uint32_t kLifoLimit = 16;

  bool is_worker_thread() const noexcept { return on_own_thread() && tls_scope.thread < policy_.workers(); }
  WakeSource outside_source() const noexcept {
    return std::this_thread::get_id() == owner() ? WakeSource::outside : WakeSource::thread;
  }

  void trace_queue(EventKind kind, TaskHeader* task, std::uint64_t queue, std::uint64_t length,
                   std::uint32_t thread) {
    Event e;
    e.kind = kind;
    e.task = task->id;
    e.other = queue;
    e.value = length;
    e.thread = thread;
    emit(std::move(e));
  }

  /// Appends `task` (adopting a reference) to worker `w`'s queue, from worker `w`.
  /// `traced`: false when the task is already in the worker's queue as far as the
  /// trace is concerned (it leaves the LIFO slot for the back of the queue).
  void push_local(std::uint32_t w, TaskHeader* task, WakeSource source, std::uint64_t other, bool traced = true) {
    Worker& k = *workers_[w];
    const std::uint64_t in_slot = k.lifo != nullptr ? 1 : 0;
    if (!traced_) {
      if (!k.queue.try_push(task)) {
        overflow(w, task, source, other);
        return;
      }
      // The push was a seq_cst store, so may_notify's seq_cst read of the idle state
      // cannot miss a worker that re-checks the queues before parking (see try_push).
      // Read first: it is a cache hit, while the length needs the head of the queue,
      // a line that thieves write.
      if (policy_.may_notify() && k.queue.owner_length() + in_slot > 1) notify_work(source, other);
      return;
    }
    std::uint64_t length = 0;
    policy_.push_local(w, task, [&](std::uint64_t queue, std::uint64_t len) {
      length = len + in_slot;
      if (traced && tracing()) trace_queue(EventKind::enqueue, task, queue, length, w);
    });
    // A worker with a single task to run runs it itself; with more, it wakes an idle
    // worker to come and steal.
    if (length > 1) notify_work(source, other);
  }

  /// A task spawned or woken on worker `w` (adopting a reference): into the LIFO slot
  /// when the task being polled made it runnable; the slot's previous task goes to
  /// the back of the queue. Otherwise (no poll running: e.g. a close after a poll
  /// wakes its awaiter) to the back of the queue.
  void push_next(std::uint32_t w, TaskHeader* task, WakeSource source, std::uint64_t other) {
    if (tls_scope.polling == 0) {
      push_local(w, task, source, other);
      return;
    }
    Worker& k = *workers_[w];
    if (tracing()) {
      trace_queue(EventKind::enqueue, task, local_queue_of(w), policy_.local_length(w) + 1 + (k.lifo ? 1 : 0), w);
    }
    if (TaskHeader* previous = std::exchange(k.lifo, task)) push_local(w, previous, source, other, false);
  }

  /// Worker `w`'s lock-free queue is full: its older half and `task` go to the
  /// injection queue in one batch (one lock for Capacity / 2 + 1 tasks), as in Tokio.
  /// When a thief is taking from the queue right now, `task` alone goes there.
  void overflow(std::uint32_t w, TaskHeader* task, WakeSource source, std::uint64_t other) {
    Worker& k = *workers_[w];
    TaskHeader* batch[kLocalCapacity / 2 + 1];
    const std::uint32_t n = k.queue.take_half_for_overflow(batch);
    batch[n] = task;
    if (!policy_.push_injection_batch(batch, n + 1)) {  // shut down
      for (std::uint32_t i = 0; i <= n; ++i) batch[i]->release();
      return;
    }
    notify_work(source, other);
  }

  /// Tasks in worker `w`'s queue (from worker `w`; exact unless a thief is at work).
  std::uint64_t local_length(std::uint32_t w) {
    return traced_ ? policy_.local_length(w) : workers_[w]->queue.owner_length();
  }

  /// True when any queue holds a task: the re-check before parking (seq_cst loads
  /// of the lock-free queues, see LocalRunQueue::try_push).
  bool has_work() {
    if (policy_.has_work()) return true;
    if (traced_) return false;
    for (auto& k : workers_) {
      if (k->queue.has_tasks()) return true;
    }
    return false;
  }

  void push_injection(TaskHeader* task, WakeSource source, std::uint64_t other) {
    const std::uint32_t thread = event_thread();
    const bool queued = policy_.push_injection(task, [&](std::uint64_t queue, std::uint64_t len) {
      if (tracing()) trace_queue(EventKind::enqueue, task, queue, len, thread);
    });
    if (!queued) {  // shut down
      task->release();
      return;
    }
    notify_work(source, other);
  }

  void notify_work(WakeSource source, std::uint64_t other) {
    if (auto w = policy_.worker_to_notify()) workers_[*w]->parker.unpark(source, other);
  }

  /// SCHEDULED -> RUNNING under the queue lock, then the dequeue event; a task
  /// aborted while queued is set aside and released after the lock.
  auto on_pop(std::uint32_t w) {
    return [this, w](TaskHeader* t, std::uint64_t queue, std::uint64_t len) {
      if (!t->try_start_running()) {
        workers_[w]->refused.push_back(t);
        return false;
      }
      if (tracing()) trace_queue(EventKind::dequeue, t, queue, len, w);
      return true;
    };
  }

  void release_refused(std::uint32_t w) {
    std::vector<TaskHeader*>& refused = workers_[w]->refused;
    for (TaskHeader* t : refused) t->release();
    refused.clear();
  }

  /// The next task for worker `w`: the LIFO slot's, unless it has had kLifoLimit
  /// polls in a row or the injection queue is due (policy_.pop looks there first
  /// every kInjectionInterval ticks); then that task goes to the back of the queue.
  TaskHeader* pop(std::uint32_t w) {
    Worker& k = *workers_[w];
    if (TaskHeader* t = std::exchange(k.lifo, nullptr)) {
      if (k.lifo_run < kLifoLimit && k.tick % Policy::kInjectionInterval != 0) {
        if (t->try_start_running()) {
          ++k.lifo_run;
          if (tracing()) trace_queue(EventKind::dequeue, t, local_queue_of(w), policy_.local_length(w), w);
          return t;
        }
        t->release();  // closed while in the slot
      } else {
        push_local(w, t, WakeSource::task, t->id, false);
      }
    }
    k.lifo_run = 0;
    if (!traced_) {
      // The policy's pop order, with the lock-free queue as the local one.
      if (k.tick % Policy::kInjectionInterval == 0) {
        if (TaskHeader* t = pop_injection(w)) return t;
      }
      TaskHeader* t = nullptr;
      while (k.queue.pop(t)) {
        if (t->try_start_running()) return t;
        t->release();  // closed while queued
      }
      return refill_from_injection(w);
    }
    TaskHeader* t = policy_.pop(w, k.tick, on_pop(w));
    release_refused(w);
    return t;
  }

  /// Untraced pools, worker `w`'s local queue empty: takes a fair share of the
  /// injection queue (one lock), runs the first task that is not closed and moves the
  /// rest to its local queue (where other workers can steal them).
  TaskHeader* refill_from_injection(std::uint32_t w) {
    Worker& k = *workers_[w];
    TaskHeader* batch[kLocalCapacity / 2];
    const std::size_t n = policy_.pop_injection_batch(batch, kLocalCapacity / 2);
    std::size_t i = 0;
    TaskHeader* run = nullptr;
    for (; i < n && run == nullptr; ++i) {
      if (batch[i]->try_start_running()) {
        run = batch[i];
      } else {
        batch[i]->release();  // closed while queued
      }
    }
    if (i < n) {
      const std::uint32_t rest = static_cast<std::uint32_t>(n - i);
      const std::uint32_t moved = k.queue.push_batch(batch + i, rest);
      // No room only while a thief still copies out of the queue: back they go.
      if (moved < rest && !policy_.push_injection_batch(batch + i + moved, rest - moved)) {
        for (std::size_t j = i + moved; j < n; ++j) batch[j]->release();  // shut down
      }
      if (moved > 0) notify_work(WakeSource::task, 0);
    }
    return run;
  }

  TaskHeader* pop_injection(std::uint32_t w) {
    TaskHeader* t = policy_.pop_injection(on_pop(w));
    release_refused(w);
    return t;
  }

  std::uint64_t steal(std::uint32_t w) {
    const std::uint32_t first = workers_[w]->rng.below(policy_.workers());
    if (!traced_) {
      // The policy's order of victims; a victim another thief is stealing from right
      // now counts as empty.
      const std::uint32_t n = policy_.workers();
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t victim = (first + i) % n;
        if (victim == w) continue;
        Sync::shake();
        if (const std::uint32_t count = workers_[victim]->queue.steal_into(workers_[w]->queue)) return count;
      }
      return 0;
    }
    return policy_.steal(w, first, [&](std::uint32_t victim, std::uint64_t count) {
      if (tracing()) {
        Event e;
        e.kind = EventKind::steal;
        e.other = victim;
        e.value = count;
        e.thread = w;
        emit(std::move(e));
      }
    });
  }

  /// A searching worker found work. The last searcher wakes another worker to look
  /// for more (there may be more where this came from).
  void found_work(bool& searching) {
    if (!searching) return;
    searching = false;
    if (policy_.stop_searching()) notify_work(WakeSource::thread, 0);
  }

  void run_task(std::uint32_t w, TaskHeader* task) {
    if (!count_poll(w)) {
      fail_owned(task, w);
      task->release();
      return;
    }
    ++workers_[w]->tick;
    if (poll_once(task, w)) {
      task->release();
      return;
    }
    shake_point();
    switch (settle(task, w)) {
      case AfterPoll::rescheduled:
        push_local(w, task, WakeSource::task, task->id);  // woken during its poll: one more poll
        break;
      case AfterPoll::closed:
      case AfterPoll::idle:
        task->release();
        break;
    }
  }

  void worker_main(std::uint32_t w) {
    ScopeGuard scope(ThreadScope{this, 0, w, false, false});
    Worker& k = *workers_[w];
    bool searching = false;
    while (!stopping_.load(std::memory_order_acquire)) {
      if (TaskHeader* t = pop(w)) {
        found_work(searching);
        run_task(w, t);
        continue;
      }
      if (!searching && policy_.start_searching()) {
        searching = true;
        if (tracing()) emit(EventKind::search, 0, 0, w);
      }
      if (searching) {
        bool found = false;
        for (int round = 0; round < Policy::kSearchRounds && !found; ++round) {
          if (steal(w) != 0) {
            found_work(searching);
            found = true;
          } else if (TaskHeader* t = pop_injection(w)) {
            found_work(searching);
            run_task(w, t);
            found = true;
          } else {
            std::this_thread::yield();  // spin briefly before parking
          }
        }
        if (found) continue;
      }
      // Announce the intent to park, re-check every queue, then park.
      const bool all_parked = policy_.announce_park(w, searching);
      searching = false;
      if (has_work() || stopping_.load(std::memory_order_acquire)) {
        policy_.cancel_park(w);  // either way it counts as searching now
        searching = true;
        continue;
      }
      // The last one to park checks for a stall (stuck tasks are failed; then it
      // parks as usual: nothing is queued).
      auto on_park = [&] {
        if (tracing()) emit(EventKind::park, 0, 0, w);
      };
      auto on_unpark = [&](WakeSource source, std::uint64_t other) {
        if (tracing()) {
          Event e;
          e.kind = EventKind::unpark;
          e.source = source;
          e.other = other;
          e.thread = w;
          emit(std::move(e));
        }
      };
      if (all_parked) {
        // Registered for outside waker drops BEFORE the check (the handshake of
        // begin_outside_wait, task.hpp; the check reads the counts seq_cst): when a
        // waker alive outside keeps the pool from stalling and is then dropped
        // unwoken, the drop pokes this worker, which runs the check again (untraced
        // unless it stalls) instead of sleeping on forever. No poll is added.
        begin_waiting_outside(w);
        checked_stall(w);
        k.parker.park_or_recheck(on_park, on_unpark, [&] {
          checked_stall(w);
          return false;  // stuck tasks are failed now; sleep on until new work comes
        });
        end_waiting_outside(w);
      } else {
        k.parker.park(on_park, on_unpark);
      }
      // Unparked by new work (the notifier counted it as searching), or by a stale
      // notification while it was still in the parked list: leave it, as a searcher.
      policy_.cancel_park(w);
      searching = true;
    }
    if (searching) policy_.stop_searching();
  }

  void outside_wakers_gone() noexcept override {
    // Under the registry lock of begin_outside_wait: wake the workers registered
    // there (the dropper cannot tell which task it was any more) to re-check.
    for (auto& k : workers_) {
      if (k->waiting_outside.load(std::memory_order_relaxed)) k->parker.poke();
    }
  }
  void begin_waiting_outside(std::uint32_t w) {
    // Set before registering, cleared after unregistering: outside_wakers_gone, which
    // runs under the registry lock, sees it whenever this worker is registered.
    workers_[w]->waiting_outside.store(true, std::memory_order_relaxed);
    begin_outside_wait(this);
  }
  void end_waiting_outside(std::uint32_t w) {
    end_outside_wait(this);  // no poke after this
    workers_[w]->waiting_outside.store(false, std::memory_order_relaxed);
    workers_[w]->parker.clear_poke();
  }
  /// check_stall, one at a time: a poked worker may re-check while another worker,
  /// the last to park, checks, and each would fail (and report) the same stuck tasks.
  void checked_stall(std::uint32_t w) {
    std::lock_guard<std::mutex> lock(stall_check_mutex_);
    check_stall(w);
  }

  /// Traced pools keep the policy's locked local queues, whose lock orders each
  /// queue's events with its pushes, pops and steals (exact lengths in the trace);
  /// untraced pools use the lock-free LocalRunQueue of each worker. Fixed for the
  /// pool's life (the tracer is given at construction).
  const bool traced_;
  Policy policy_;
  std::mutex stall_check_mutex_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

ThreadedCore* make_thread_pool_core(std::uint32_t workers, const ExecutorOptions& options) {
  auto* core = new PoolCore(workers, options);
  try {
    core->start();
  } catch (...) {
    core->shutdown();
    core->release();
    throw;
  }
  return core;
}

}  // namespace detail

namespace {
std::uint32_t checked_workers(std::size_t workers) {
  if (workers == 0 || workers > detail::kMaxWorkers) {
    throw std::invalid_argument("ThreadPool needs 1 to " + std::to_string(detail::kMaxWorkers) + " workers (got " +
                                std::to_string(workers) + ")");
  }
  return static_cast<std::uint32_t>(workers);
}
}  // namespace

ThreadPool::ThreadPool(std::size_t workers, ExecutorOptions options)
    : core_(detail::make_thread_pool_core(checked_workers(workers), options)), workers_(workers) {}

ThreadPool::~ThreadPool() {
  core_->shutdown();
  core_->release();
}

RunReport ThreadPool::wait() { return core_->wait_idle(); }

}  // namespace pollscope
