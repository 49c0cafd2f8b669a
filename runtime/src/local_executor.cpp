#include "pollscope/local_executor.hpp"

#include <stdexcept>

namespace pollscope {

namespace detail {

namespace {
// A task's state is written by the owner thread only (see LocalCore): plain loads and
// stores. Stores are release: other threads read the state (TaskHeader::is_finished,
// JoinHandle::poll).
std::uint32_t load_state(const TaskHeader* t) noexcept { return t->state.load(std::memory_order_acquire); }
void store_state(TaskHeader* t, std::uint32_t s) noexcept { t->state.store(s, std::memory_order_release); }

/// A wake: true when the task was idle and must be queued now; false when it is
/// finished, already scheduled, or running (its poller re-queues it).
bool schedule(TaskHeader* t) noexcept {
  const std::uint32_t s = load_state(t);
  if (s & (task_state::finished | task_state::scheduled)) return false;
  store_state(t, s | task_state::scheduled);
  return (s & task_state::running) == 0;
}

/// A dequeue: SCHEDULED -> RUNNING; false when the task was closed while queued.
bool start_running(TaskHeader* t) noexcept {
  const std::uint32_t s = load_state(t);
  if (s & task_state::finished) return false;
  store_state(t, (s & ~task_state::scheduled) | task_state::running);
  return true;
}
}  // namespace

LocalCore::LocalCore(const ExecutorOptions& options) : ExecutorCore(options) {
  bias_to(this);
  traces_wakers.store(tracing(), std::memory_order_relaxed);
}

void LocalCore::submit(TaskHeader* task) {
  // spawn() hands over a task that no other thread can see yet: plain stores add the
  // registry's reference to the caller's (its JoinHandle's), bias its counts to this
  // thread and make it SCHEDULED.
  task->bias(2);
  task->state.store(task_state::scheduled, std::memory_order_relaxed);
  live_.push_back(task);
  if (tracing()) trace(EventKind::spawn, task->id, 0, WakeSource::none, tls_scope.core == this ? tls_scope.polling : 0);
  push(task);
}

void LocalCore::push(TaskHeader* task) {
  queue_.push_back(task);
  if (tracing()) trace(EventKind::enqueue, task->id, queue_.size());
}

void LocalCore::trace(EventKind kind, TaskId task, std::uint64_t value, WakeSource source, std::uint64_t other) {
  trace_inline(kind, task, value, source, other);
}

void LocalCore::trace_own_wake(TaskHeader* task, EventKind how) {
  std::uint64_t other = 0;
  const WakeSource source = classify_wake(task->id, other);
  if (source == WakeSource::self) tls_scope.woke_self = true;
  trace_inline(how, task->id, 0, source, other);
}

inline void LocalCore::wake_here(TaskHeader* task, EventKind how) {
  if (tls_scope.core != this) {
    wake_remote(task, how);
    return;
  }
  // On our own thread, inside run(): no locking.
  if (shut_down_) return;
  const bool enqueue = schedule(task);
  if (!tracing()) {
    if (tls_scope.polling == task->id) tls_scope.woke_self = true;
  } else if (tls_scope.polling == task->id && !tls_scope.firing_timers) {
    // The polled task woke itself (a yield): classify_wake's answer, known here.
    tls_scope.woke_self = true;
    trace_inline(how, task->id, 0, WakeSource::self, task->id);
  } else {
    trace_own_wake(task, how);
  }
  if (enqueue) push(task);
}

void LocalCore::wake(TaskHeader* task, EventKind how) { wake_here(task, how); }

// local_task_waker_vtable (task.hpp): the generic task waker's operations, with the
// wakes calling LocalCore (final) directly.
namespace {
TaskHeader* local_task(const void* data) noexcept { return static_cast<TaskHeader*>(const_cast<void*>(data)); }
LocalCore* local_core(const TaskHeader* t) noexcept { return static_cast<LocalCore*>(t->scheduler); }
}  // namespace

RawWaker local_task_waker_clone(const void* data) noexcept { return clone_task_waker(data, &local_task_waker_vtable); }

void local_task_waker_wake(const void* data) noexcept {
  TaskHeader* t = local_task(data);
  local_core(t)->wake_here(t, EventKind::wake);
  t->drop_waker();  // after the wake: see task_waker_wake
}

void local_task_waker_wake_by_ref(const void* data) noexcept {
  TaskHeader* t = local_task(data);
  local_core(t)->wake_here(t, EventKind::wake_by_ref);
}

void LocalCore::wake_remote(TaskHeader* task, EventKind how) {
  std::lock_guard<std::mutex> lock(remote_mutex_);
  if (closed_) return;
  if (!tracing()) {
    // Only the trace needs every wake: one waiting entry schedules the task.
    if (task->remote_wake_queued || task->is_finished()) return;
  }
  task->remote_wake_queued = true;
  std::uint64_t other = 0;
  task->retain();
  remote_.push_back(RemoteWake{task, how, classify_wake(task->id, other)});
  remote_pending_.store(true, std::memory_order_release);
  remote_cv_.notify_one();
}

bool LocalCore::remote_wake_queued(const TaskHeader* task) {
  std::lock_guard<std::mutex> lock(remote_mutex_);
  return task->remote_wake_queued;
}

void LocalCore::drain_remote() {
  std::vector<RemoteWake> wakes;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    wakes.swap(remote_);
    for (const RemoteWake& w : wakes) w.task->remote_wake_queued = false;
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (const RemoteWake& w : wakes) {
    // A task woken during its last poll is SCHEDULED already (poll_task re-queued it).
    const bool enqueue = schedule(w.task);
    if (tracing()) {
      emit(w.how, w.task->id, 0, w.source == WakeSource::thread ? kExternalThread : 0, w.source);
    }
    if (enqueue) push(w.task);
    w.task->release();  // the wake's own reference (the registry's backs the entry)
  }
}

void LocalCore::waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) {
  if (tls_scope.core != this || !tracing()) return;  // other threads' clones go untraced
  emit(kind, task->id, live);
}

RunReport LocalCore::run(TaskHeader* target) {
  if (running_) throw std::logic_error("LocalExecutor::run() called from inside one of its own tasks");
  running_ = true;
  ScopeGuard scope(ThreadScope{this, 0, 0, false, false});
  TraceBatchScope batch(*this);
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{running_};

  RunReport report;
  const std::uint64_t budget = options().max_polls;
  auto finished = [&] { return target ? target->is_finished() : live_.empty(); };
  for (;;) {
    if (remote_pending_.load(std::memory_order_acquire)) drain_remote();
    if (!timers().empty() && *timers().next_deadline() <= now()) timers().fire_due(now());
    if (!queue_.empty()) {
      if (budget != 0 && report.polls >= budget) {
        report.status = RunStatus::budget_exhausted;
        if (tracing()) trace(EventKind::budget_exhausted, 0, report.polls);
        return report;
      }
      TaskHeader* task = queue_.pop_front();
      if (!start_running(task)) {
        task->fold_and_release();  // closed while it was queued: the entry owned the reference
        continue;
      }
      if (tracing()) {
        hold_time();
        trace_poll_opening(task->id, queue_.size());
      }
      ++report.polls;
      poll_task(task);
      release_time();
      if (target && target->is_finished()) return report;
      continue;
    }
    if (finished()) return report;
    if (auto deadline = timers().next_deadline()) {
      if (clock().is_virtual()) {
        clock().advance_to(*deadline);
      } else {
        wait_for_remote(*deadline);
      }
      continue;
    }
    if (!clock().is_virtual() && wakers_alive_outside()) {
      wait_for_outside_wakers();
      continue;
    }
    // A waker may have fired on another thread since the top of the loop, and been
    // dropped since: its wake is in the remote queue, so this is no stall.
    if (remote_pending_.load(std::memory_order_acquire)) continue;
    report.status = RunStatus::stalled;
    live_.for_each([&](TaskHeader* t) {
      report.stuck_tasks.push_back(t->id);
      if (tracing()) emit(EventKind::stall, t->id);
    });
    return report;
  }
}

void LocalCore::poll_task(TaskHeader* task) {
  // The registry's reference backs the poll and the waker lent to it.
  tls_scope.polling = task->id;
  tls_scope.woke_self = false;
  WakerAccess::lend(lent_.waker, RawWaker{task, &local_task_waker_vtable});
  const bool done = task->vtable->poll(task, lent_cx_);
  if (done) {
    complete(task);
    tls_scope.polling = 0;
    return;
  }
  tls_scope.polling = 0;
  const WakeSource woken_by = tls_scope.woke_self ? WakeSource::self : WakeSource::none;
  std::uint32_t s = load_state(task);
  // Woken from another thread during the poll: re-queued now, like a wake of its own
  // (run() traces that wake when it takes it from remote_, and finds it SCHEDULED).
  if (!(s & task_state::scheduled) && remote_pending_.load(std::memory_order_acquire) && remote_wake_queued(task)) {
    s |= task_state::scheduled;
  }
  if (s & task_state::closed) {
    // Aborted during its own poll.
    if (tracing()) trace_inline(EventKind::poll_pending, task->id, 0, woken_by);
    store_state(task, s & ~(task_state::running | task_state::scheduled));
    close(task, /*destroy_future=*/true);
    return;
  }
  // Woken during the poll: exactly one more poll. (push(), with its event paired
  // with poll_pending: a task that yields comes back here every time.)
  store_state(task, s & ~task_state::running);
  if (s & task_state::scheduled) {
    queue_.push_back(task);
    if (tracing()) trace_poll_requeued(task->id, woken_by, queue_.size());
  } else if (tracing()) {
    trace_inline(EventKind::poll_pending, task->id, 0, woken_by);
  }
}

void LocalCore::trace_poll_opening(TaskId task, std::uint64_t queued) {
  if (trace_words::fits_word(task, queued) && emit_pair(trace_words::poll_opening(task, queued))) return;
  trace(EventKind::dequeue, task, queued);
  trace(EventKind::poll_start, task);
}

void LocalCore::trace_poll_requeued(TaskId task, WakeSource woken_by, std::uint64_t queued) {
  if (trace_words::fits_word(task, queued) && emit_pair(trace_words::poll_requeued(task, woken_by, queued))) return;
  trace(EventKind::poll_pending, task, 0, woken_by);
  trace(EventKind::enqueue, task, queued);
}

void LocalCore::complete(TaskHeader* task) {
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    // An abort during this last poll loses: the output stands.
    store_state(task, (load_state(task) & ~(task_state::running | task_state::scheduled | task_state::closed)) |
                          task_state::completed);
    awaiter.swap(task->awaiter);
  }
  if (tracing()) trace_completion(task);
  live_.remove(task);
  task->fold_and_release();  // the registry's reference, which backed this poll
  if (awaiter) std::move(*awaiter).wake();
}

void LocalCore::trace_completion(TaskHeader* task) {
  trace(EventKind::poll_ready, task->id);
  if (task->error) {
    Event e;
    e.kind = EventKind::task_error;
    e.task = task->id;
    try {
      std::rethrow_exception(*task->error);
    } catch (const std::exception& ex) {
      e.message = ex.what();
    } catch (...) {
      e.message = "unknown exception";
    }
    emit(std::move(e));
  }
  trace(EventKind::complete, task->id);
}

void LocalCore::close(TaskHeader* task, bool destroy_future) {
  if (destroy_future) task->vtable->destroy_future(task);
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    awaiter.swap(task->awaiter);
  }
  if (tracing()) trace(EventKind::abort, task->id);
  live_.remove(task);
  // A queue entry still pending keeps the registry's reference until it is popped.
  if (!(load_state(task) & task_state::scheduled)) task->fold_and_release();
  if (awaiter) std::move(*awaiter).wake();
}

void LocalCore::abort(TaskHeader* task) {
  const std::uint32_t s = load_state(task);
  if (s & task_state::finished) return;
  store_state(task, s | task_state::closed);
  if (s & task_state::running) return;  // poll_task closes it when the poll returns
  task->retain();  // keep the cell alive while its future is destroyed
  close(task, /*destroy_future=*/true);
  task->release();
}

bool LocalCore::wakers_alive_outside() const {
  // Wakers parked in another unfinished task's JoinHandle slot are inside the
  // executor: they can only fire when that task finishes.
  std::uint64_t alive = 0;
  std::uint64_t internal = 0;
  live_.for_each([&](TaskHeader* t) {
    alive += t->live_wakers();
    std::lock_guard<SpinLock> lock(t->lock);
    if (t->awaiter && is_task_waker(t->awaiter->as_raw())) {
      auto* waiter = static_cast<const TaskHeader*>(t->awaiter->as_raw().data);
      if (waiter->scheduler == this) ++internal;
    }
  });
  return alive > internal;
}

void LocalCore::wait_for_remote(std::optional<std::chrono::nanoseconds> deadline) {
  if (tracing()) {
    Event e;
    e.kind = EventKind::park;
    e.deadline = deadline.value_or(std::chrono::nanoseconds::zero());
    emit(std::move(e));
  }
  bool woken_by_thread = false;
  {
    std::unique_lock<std::mutex> lock(remote_mutex_);
    auto pending = [&] { return remote_pending_.load(std::memory_order_relaxed); };
    if (deadline) {
      woken_by_thread = remote_cv_.wait_until(lock, clock().real_time_of(*deadline), pending);
    } else {
      remote_cv_.wait(lock, pending);
      woken_by_thread = true;
    }
  }
  if (tracing()) {
    Event e;
    e.kind = EventKind::unpark;
    e.source = woken_by_thread ? WakeSource::thread : WakeSource::timer;
    emit(std::move(e));
  }
}

void LocalCore::outside_wakers_gone() noexcept {
  // Called under the registry lock of begin_outside_wait (never under remote_mutex_).
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    outside_gone_ = true;
  }
  remote_cv_.notify_one();
}

void LocalCore::wait_for_outside_wakers() {
  // Like wait_for_remote(no deadline), but it also ends when the last waker alive
  // outside is dropped unwoken (then nothing can wake a task: run() reports the stall
  // without polling again). Dropping threads see a task's true live-waker count in
  // their RMW's result only without an owner's part: flush it first (this thread
  // counts nothing while it sleeps). Then register, THEN re-read the counts: the
  // handshake of begin_outside_wait (task.hpp) guarantees that a drop the re-read
  // misses notifies us (outside_wakers_gone).
  live_.for_each([](TaskHeader* t) { t->flush_owner_counts(); });
  begin_outside_wait(this);
  if (!wakers_alive_outside()) {
    // Gone since run()'s check (a remote wake then is in remote_, which run() checks).
    end_outside_wait(this);
    return;
  }
  if (tracing()) emit(EventKind::park, 0);
  {
    std::unique_lock<std::mutex> lock(remote_mutex_);
    for (;;) {
      remote_cv_.wait(lock, [&] { return remote_pending_.load(std::memory_order_relaxed) || outside_gone_; });
      if (remote_pending_.load(std::memory_order_relaxed)) break;
      outside_gone_ = false;
      // Re-check outside the lock (wakers_alive_outside takes the tasks' locks): a drop
      // of one task's last waker may leave others alive. Untraced, so a re-check that
      // finds wakers alive leaves no trace.
      lock.unlock();
      const bool alive = wakers_alive_outside();
      lock.lock();
      if (!alive) break;
    }
  }
  end_outside_wait(this);
  {
    // A notification that raced end_outside_wait is stale now.
    std::lock_guard<std::mutex> lock(remote_mutex_);
    outside_gone_ = false;
  }
  if (tracing()) {
    Event e;
    e.kind = EventKind::unpark;
    e.source = WakeSource::thread;
    emit(std::move(e));
  }
}

void LocalCore::shutdown() noexcept {
  {
    ScopeGuard scope(ThreadScope{this, 0, 0, false, false});
  TraceBatchScope batch(*this);
    shut_down_ = true;
    // Destroying a future runs arbitrary destructors (which may drop wakers, handles,
    // even abort other tasks), so take the tasks one at a time from the front.
    while (!live_.empty()) {
      TaskHeader* task = live_.front();
      store_state(task, load_state(task) | task_state::closed);
      task->retain();
      close(task, /*destroy_future=*/true);
      task->release();
    }
    // Every task is closed now: each pending entry owns its task's registry reference.
    while (!queue_.empty()) queue_.pop_front()->fold_and_release();
    timers().clear();
    std::vector<RemoteWake> wakes;
    {
      std::lock_guard<std::mutex> lock(remote_mutex_);
      closed_ = true;
      wakes.swap(remote_);
    }
    for (const RemoteWake& w : wakes) w.task->release();
    traces_wakers.store(false, std::memory_order_relaxed);
    detach_tracer();
  }
  // Outside the scope: nothing counts on the owner's side any more.
  unbias();
}

}  // namespace detail

LocalExecutor::LocalExecutor(ExecutorOptions options) : core_(new detail::LocalCore(options)) {}

LocalExecutor::~LocalExecutor() {
  core_->shutdown();
  core_->release();
}

RunReport LocalExecutor::run() { return core_->run(nullptr); }

}  // namespace pollscope
