#include "pollscope/local_executor.hpp"

#include <stdexcept>

namespace pollscope {

namespace detail {

LocalCore::LocalCore(const ExecutorOptions& options) : ExecutorCore(options) {
  traces_wakers.store(tracing(), std::memory_order_relaxed);
}

void LocalCore::submit(TaskHeader* task) {
  task->retain();  // the registry's reference
  live_.push_back(task);
  if (tracing()) {
    Event e;
    e.kind = EventKind::spawn;
    e.task = task->id;
    e.other = tls_scope.core == this ? tls_scope.polling : 0;
    emit(std::move(e));
  }
  task->state.fetch_or(task_state::scheduled, std::memory_order_relaxed);
  task->retain();  // the queue's reference
  push(task);
}

void LocalCore::push(TaskHeader* task) {
  queue_.push_back(task);
  if (tracing()) emit(EventKind::enqueue, task->id, queue_.size());
}

void LocalCore::trace_wake(TaskHeader* task, EventKind how, WakeSource source, std::uint64_t other,
                           std::uint32_t thread) {
  Event e;
  e.kind = how;
  e.task = task->id;
  e.source = source;
  e.other = other;
  e.thread = thread;
  emit(std::move(e));
}

void LocalCore::wake(TaskHeader* task, EventKind how) {
  if (tls_scope.core == this) {
    // On our own thread, inside run(): no locking.
    if (shut_down_) return;
    const bool enqueue = task->try_schedule();
    if (tracing()) {
      std::uint64_t other = 0;
      const WakeSource source = classify_wake(task->id, other);
      if (source == WakeSource::self) tls_scope.woke_self = true;
      trace_wake(task, how, source, other, 0);
    } else if (tls_scope.polling == task->id) {
      tls_scope.woke_self = true;
    }
    if (enqueue) {
      task->retain();
      push(task);
    }
    return;
  }
  std::lock_guard<std::mutex> lock(remote_mutex_);
  if (closed_) return;
  const bool enqueue = task->try_schedule();
  if (!enqueue && !tracing()) return;
  std::uint64_t other = 0;
  task->retain();
  remote_.push_back(RemoteWake{task, how, classify_wake(task->id, other), enqueue});
  remote_pending_.store(true, std::memory_order_release);
  remote_cv_.notify_one();
}

void LocalCore::drain_remote() {
  std::vector<RemoteWake> wakes;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    wakes.swap(remote_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (const RemoteWake& w : wakes) {
    if (tracing()) {
      trace_wake(w.task, w.how, w.source, 0, w.source == WakeSource::thread ? kExternalThread : 0);
    }
    if (w.enqueue) {
      push(w.task);  // the reference moves into the queue
    } else {
      w.task->release();
    }
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
        if (tracing()) emit(EventKind::budget_exhausted, 0, report.polls);
        return report;
      }
      TaskHeader* task = queue_.front();
      queue_.pop_front();
      if (!task->try_start_running()) {
        task->release();  // closed while it was queued
        continue;
      }
      if (tracing()) emit(EventKind::dequeue, task->id, queue_.size());
      ++report.polls;
      poll_task(task);
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
      wait_for_remote(std::nullopt);
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
  // The queue's reference now backs the poll and the waker lent to it.
  tls_scope.polling = task->id;
  tls_scope.woke_self = false;
  if (tracing()) emit(EventKind::poll_start, task->id);
  Waker waker = WakerAccess::borrow(borrowed_task_waker(task));
  Context cx(waker);
  const bool done = task->vtable->poll(task, cx);
  WakerAccess::forget(waker);
  if (done) {
    complete(task);
    tls_scope.polling = 0;
    task->release();
    return;
  }
  tls_scope.polling = 0;
  if (tracing()) {
    Event e;
    e.kind = EventKind::poll_pending;
    e.task = task->id;
    e.source = tls_scope.woke_self ? WakeSource::self : WakeSource::none;
    emit(std::move(e));
  }
  const std::uint32_t s = task->state.fetch_and(~task_state::running, std::memory_order_acq_rel);
  if (s & task_state::closed) {
    close(task, /*destroy_future=*/true);  // aborted during its own poll
    task->release();
  } else if (s & task_state::scheduled) {
    push(task);  // woken during the poll: exactly one more poll
  } else {
    task->release();
  }
}

void LocalCore::complete(TaskHeader* task) {
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    std::uint32_t s = task->state.load(std::memory_order_relaxed);
    // An abort that raced with this last poll loses: the output stands.
    while (!task->state.compare_exchange_weak(
        s, (s & ~(task_state::running | task_state::scheduled | task_state::closed)) | task_state::completed,
        std::memory_order_acq_rel)) {
    }
    awaiter.swap(task->awaiter);
  }
  if (tracing()) {
    emit(EventKind::poll_ready, task->id);
    if (task->error) {
      Event e;
      e.kind = EventKind::task_error;
      e.task = task->id;
      try {
        std::rethrow_exception(task->error);
      } catch (const std::exception& ex) {
        e.message = ex.what();
      } catch (...) {
        e.message = "unknown exception";
      }
      emit(std::move(e));
    }
    emit(EventKind::complete, task->id);
  }
  live_.remove(task);
  task->release();  // the registry's reference (the caller still holds the queue's)
  if (awaiter) std::move(*awaiter).wake();
}

void LocalCore::close(TaskHeader* task, bool destroy_future) {
  if (destroy_future) task->vtable->destroy_future(task);
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    awaiter.swap(task->awaiter);
  }
  if (tracing()) emit(EventKind::abort, task->id);
  live_.remove(task);
  task->release();  // the registry's reference
  if (awaiter) std::move(*awaiter).wake();
}

void LocalCore::abort(TaskHeader* task) {
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  do {
    if (s & task_state::finished) return;
  } while (!task->state.compare_exchange_weak(s, s | task_state::closed, std::memory_order_acq_rel));
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
    alive += t->wakers.load(std::memory_order_acquire);
    std::lock_guard<SpinLock> lock(t->lock);
    if (t->awaiter && t->awaiter->as_raw().vtable == &task_waker_vtable) {
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

void LocalCore::shutdown() noexcept {
  ScopeGuard scope(ThreadScope{this, 0, 0, false, false});
  shut_down_ = true;
  // Destroying a future runs arbitrary destructors (which may drop wakers, handles,
  // even abort other tasks), so take the tasks one at a time from the front.
  while (!live_.empty()) {
    TaskHeader* task = live_.front();
    task->state.fetch_or(task_state::closed, std::memory_order_acq_rel);
    task->retain();
    close(task, /*destroy_future=*/true);
    task->release();
  }
  for (TaskHeader* task : queue_) task->release();
  queue_.clear();
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

}  // namespace detail

LocalExecutor::LocalExecutor(ExecutorOptions options) : core_(new detail::LocalCore(options)) {}

LocalExecutor::~LocalExecutor() {
  core_->shutdown();
  core_->release();
}

RunReport LocalExecutor::run() { return core_->run(nullptr); }

}  // namespace pollscope
