#include "pollscope/detail/sim_core.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace pollscope::detail {

namespace {
ExecutorOptions on_virtual_clock(ExecutorOptions options) {
  options.virtual_clock = true;  // simulations always run on the virtual clock
  return options;
}

std::string error_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

SimCore::SimCore(const ExecutorOptions& options, std::uint64_t seed)
    : ExecutorCore(on_virtual_clock(options)), seed_(seed), rng_(seed) {
  traces_wakers.store(tracing(), std::memory_order_relaxed);
}

void SimCore::set_current_thread(std::uint32_t thread) noexcept {
  current_thread_ = thread;
  if (tls_scope.core == this) tls_scope.thread = thread == kNoThread ? outside_thread() : thread;
}

std::uint32_t SimCore::event_thread() const noexcept {
  if (current_thread_ != kNoThread) return current_thread_;
  if (tls_scope.core == this && tls_scope.firing_timers) return timer_thread();
  return outside_thread();
}

void SimCore::trace_wake(TaskHeader* task, EventKind how, WakeSource source, std::uint64_t other,
                         std::uint32_t thread) {
  Event e;
  e.kind = how;
  e.task = task->id;
  e.source = source;
  e.other = other;
  e.thread = thread;
  emit(std::move(e));
}

void SimCore::submit(TaskHeader* task) {
  task->retain();  // the registry's reference
  live_.push_back(task);
  if (tracing()) {
    Event e;
    e.kind = EventKind::spawn;
    e.task = task->id;
    e.other = tls_scope.core == this ? tls_scope.polling : 0;
    e.thread = tls_scope.core == this ? event_thread() : outside_thread();
    emit(std::move(e));
  }
  task->state.fetch_or(task_state::scheduled, std::memory_order_relaxed);
  task->retain();  // the reference of its first poll
  schedule_spawned(task);
}

void SimCore::wake(TaskHeader* task, EventKind how) {
  if (tls_scope.core == this) {
    if (shut_down_) return;
    const bool enqueue = task->try_schedule();
    std::uint64_t other = 0;
    const WakeSource source = classify_wake(task->id, other);
    if (source == WakeSource::self) tls_scope.woke_self = true;
    if (tracing()) trace_wake(task, how, source, other, event_thread());
    if (enqueue) {
      task->retain();
      schedule_woken(task, source, other);
    }
    return;
  }
  // Another thread, or this one outside run(): picked up by the next step of run().
  std::lock_guard<std::mutex> lock(remote_mutex_);
  if (closed_) return;
  const bool enqueue = task->try_schedule();
  if (!enqueue && !tracing()) return;
  std::uint64_t other = 0;
  task->retain();
  remote_.push_back(RemoteWake{task, how, classify_wake(task->id, other), enqueue});
  remote_pending_.store(true, std::memory_order_release);
}

void SimCore::drain_remote() {
  std::vector<RemoteWake> wakes;
  {
    std::lock_guard<std::mutex> lock(remote_mutex_);
    wakes.swap(remote_);
    remote_pending_.store(false, std::memory_order_relaxed);
  }
  for (const RemoteWake& w : wakes) {
    if (tracing()) {
      trace_wake(w.task, w.how, w.source, 0, w.source == WakeSource::thread ? kExternalThread : outside_thread());
    }
    if (w.enqueue) {
      schedule_woken(w.task, w.source, 0);  // the reference moves on
    } else {
      w.task->release();
    }
  }
}

void SimCore::waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) {
  if (tls_scope.core != this || !tracing()) return;  // other threads' clones go untraced
  emit(kind, task->id, live, event_thread());
}

void SimCore::block_thread(std::chrono::nanoseconds d) {
  if (current_thread_ == kNoThread) {
    ExecutorCore::block_thread(d);  // outside any virtual thread: the whole simulation waits
    return;
  }
  Busy& b = busy_[current_thread_];
  b.until = std::max(b.until, now()) + d;
}

void SimCore::check_not_running() const {
  if (running_) throw std::logic_error("a simulated executor's run() was called from inside one of its own tasks");
}

RunReport SimCore::run(TaskHeader* target) {
  check_not_running();
  running_ = true;
  ScopeGuard scope(ThreadScope{this, 0, outside_thread(), false, false});
  RunReport report;
  struct Reset {
    bool& flag;
    std::uint64_t*& polls;
    ~Reset() {
      flag = false;
      polls = nullptr;
    }
  } reset{running_, polls_};
  polls_ = &report.polls;

  const std::uint64_t budget = options().max_polls;
  auto finished = [&] { return target ? target->is_finished() : live_.empty(); };
  for (;;) {
    if (remote_pending_.load(std::memory_order_acquire)) drain_remote();
    if (auto due = timers().next_deadline(); due && *due <= now()) {
      tls_scope.thread = timer_thread();
      timers().fire_due(now());
      tls_scope.thread = outside_thread();
    }
    release_busy();
    if (finished()) return report;
    if (budget != 0 && report.polls >= budget && work_queued()) {
      report.status = RunStatus::budget_exhausted;
      if (tracing()) emit(EventKind::budget_exhausted, 0, report.polls, outside_thread());
      return report;
    }
    candidates_.clear();
    candidates(candidates_);
    if (!candidates_.empty()) {
      const std::uint32_t pick = candidates_[rng_.below(static_cast<std::uint32_t>(candidates_.size()))];
      StepScope step_scope(*this, pick);
      step(pick);
      continue;
    }
    // No virtual thread can act now: move time to the next thing that happens.
    std::optional<std::chrono::nanoseconds> next = timers().next_deadline();
    for (const auto& [thread, b] : busy_) {
      if (!next || b.until < *next) next = b.until;
    }
    if (next) {
      clock().advance_to(*next);
      continue;
    }
    before_stall();
    report.status = RunStatus::stalled;
    live_.for_each([&](TaskHeader* t) {
      report.stuck_tasks.push_back(t->id);
      if (tracing()) emit(EventKind::stall, t->id, 0, stall_thread());
    });
    return report;
  }
}

std::size_t SimCore::release_busy() {
  std::size_t released = 0;
  for (auto it = busy_.begin(); it != busy_.end();) {
    if (it->second.until > now()) {
      ++it;
      continue;
    }
    const std::uint32_t thread = it->first;
    const Busy b = it->second;
    it = busy_.erase(it);
    ++released;
    if (b.task) {
      StepScope step_scope(*this, thread);
      finish_poll(b.task, thread, b.done, b.woke_self);
    }
  }
  return released;
}

void SimCore::poll_task(TaskHeader* task, std::uint32_t thread) {
  tls_scope.polling = task->id;
  tls_scope.woke_self = false;
  if (tracing()) emit(EventKind::poll_start, task->id, 0, thread);
  Waker waker = WakerAccess::borrow(borrowed_task_waker(task));
  Context cx(waker);
  const bool done = task->vtable->poll(task, cx);
  WakerAccess::forget(waker);
  tls_scope.polling = 0;
  const bool woke_self = tls_scope.woke_self;
  if (polls_) ++*polls_;
  auto it = busy_.find(thread);
  if (it != busy_.end() && it->second.until > now()) {
    // Blocking calls made during the poll: the thread returns from it only later.
    it->second.task = task;
    it->second.done = done;
    it->second.woke_self = woke_self;
    return;
  }
  finish_poll(task, thread, done, woke_self);
}

bool SimCore::is_busy(std::uint32_t thread) const { return busy_.count(thread) != 0; }

void SimCore::finish_poll(TaskHeader* task, std::uint32_t thread, bool done, bool woke_self) {
  if (done) {
    // The awaiter's wake comes from this task (as on LocalExecutor).
    const TaskId saved = std::exchange(tls_scope.polling, task->id);
    complete(task, thread);
    tls_scope.polling = saved;
    task->release();
    after_finished(thread);
    return;
  }
  if (tracing()) {
    Event e;
    e.kind = EventKind::poll_pending;
    e.task = task->id;
    e.source = woke_self ? WakeSource::self : WakeSource::none;
    e.thread = thread;
    emit(std::move(e));
  }
  const std::uint32_t s = task->state.fetch_and(~task_state::running, std::memory_order_acq_rel);
  if (s & task_state::closed) {
    close(task, /*destroy_future=*/true, thread);  // aborted during its own poll
    task->release();
    after_finished(thread);
  } else if (s & task_state::scheduled) {
    after_pending(task, thread, true);  // woken during the poll: exactly one more poll
  } else {
    after_pending(task, thread, false);
    task->release();
  }
}

void SimCore::complete(TaskHeader* task, std::uint32_t thread) {
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
    emit(EventKind::poll_ready, task->id, 0, thread);
    if (task->error) {
      Event e;
      e.kind = EventKind::task_error;
      e.task = task->id;
      e.thread = thread;
      e.message = error_message(*task->error);
      emit(std::move(e));
    }
    emit(EventKind::complete, task->id, 0, thread);
  }
  live_.remove(task);
  task->release();  // the registry's reference (the caller still holds the poll's)
  if (awaiter) std::move(*awaiter).wake();
}

void SimCore::close(TaskHeader* task, bool destroy_future, std::uint32_t thread) {
  if (destroy_future) task->vtable->destroy_future(task);
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    awaiter.swap(task->awaiter);
  }
  if (tracing()) emit(EventKind::abort, task->id, 0, thread);
  live_.remove(task);
  task->release();  // the registry's reference
  if (awaiter) std::move(*awaiter).wake();
}

void SimCore::abort(TaskHeader* task) {
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  do {
    if (s & task_state::finished) return;
  } while (!task->state.compare_exchange_weak(s, s | task_state::closed, std::memory_order_acq_rel));
  if (s & task_state::running) return;  // closed when its poll ends
  task->retain();  // keep the cell alive while its future is destroyed
  close(task, /*destroy_future=*/true, tls_scope.core == this ? event_thread() : outside_thread());
  task->release();
}

void SimCore::shutdown() noexcept {
  ScopeGuard scope(ThreadScope{this, 0, outside_thread(), false, false});
  shut_down_ = true;
  // Polls cut short by blocking calls end first: their futures may be gone already.
  while (!busy_.empty()) {
    const std::uint32_t thread = busy_.begin()->first;
    const Busy b = busy_.begin()->second;
    busy_.erase(busy_.begin());
    if (b.task) {
      StepScope step_scope(*this, thread);
      finish_poll(b.task, thread, b.done, b.woke_self);
    }
  }
  // Destroying a future runs arbitrary destructors (which may drop wakers, handles,
  // even abort other tasks), so take the tasks one at a time from the front.
  while (!live_.empty()) {
    TaskHeader* task = live_.front();
    task->state.fetch_or(task_state::closed, std::memory_order_acq_rel);
    task->retain();
    close(task, /*destroy_future=*/true, outside_thread());
    task->release();
  }
  drop_queued();
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

}  // namespace pollscope::detail
