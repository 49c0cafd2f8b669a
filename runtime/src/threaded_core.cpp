#include "pollscope/detail/threaded_core.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

namespace pollscope::detail {

namespace {
ExecutorOptions on_real_clock(ExecutorOptions options) {
  options.virtual_clock = false;  // real threads run on the real clock
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

ThreadedCore::ThreadedCore(const ExecutorOptions& options, std::uint32_t timer_thread_number,
                           std::uint32_t sole_pollers)
    : ExecutorCore(on_real_clock(options)),
      timer_thread_number_(timer_thread_number),
      sole_pollers_(sole_pollers),
      poll_counts_(std::make_unique<PollCount[]>(sole_pollers + kSharedPollCounts)),
      budget_(options.max_polls) {
  serialize_events();
  timers().make_thread_safe();
  (void)now();  // starts the clock before any other thread reads it
  traces_wakers.store(tracing(), std::memory_order_relaxed);
}

void ThreadedCore::register_task(TaskHeader* task, std::uint32_t thread) {
  task->retain();  // the registry's reference
  {
    RegistryShard& shard = shard_of(task);
    std::lock_guard<SpinLock> lock(shard.lock);
    shard.live.insert(task);
  }
  if (tracing()) {
    Event e;
    e.kind = EventKind::spawn;
    e.task = task->id;
    e.other = tls_scope.core == this ? tls_scope.polling : 0;
    e.thread = thread;
    emit(std::move(e));
  }
}

namespace {
bool by_id(const TaskHeader* a, const TaskHeader* b) noexcept { return a->id < b->id; }
}  // namespace

void ThreadedCore::unregister(TaskHeader* task) {
  RegistryShard& shard = shard_of(task);
  bool emptied = false;
  {
    std::lock_guard<SpinLock> lock(shard.lock);
    shard.live.erase(task);
    emptied = shard.live.empty();
  }
  // No lost notification: a waiter counts itself (idle_waiters_) BEFORE it checks
  // this shard under the shard's lock. If its check came after our removal, it saw
  // the shard empty. If before, its increment happens before its unlock of the
  // shard, which synchronises with our lock of it, so this load (after our unlock)
  // sees the increment; we then notify under idle_mutex_, which the waiter holds
  // from its check until it sleeps. (Seq_cst is not needed for that, the shard lock
  // orders it; it costs nothing on a load.)
  if (emptied && idle_waiters_.load(std::memory_order_seq_cst) != 0) {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    idle_cv_.notify_all();
  }
}

bool ThreadedCore::registry_empty() {
  for (RegistryShard& shard : shards_) {
    std::lock_guard<SpinLock> lock(shard.lock);
    if (!shard.live.empty()) return false;
  }
  return true;
}

std::vector<TaskHeader*> ThreadedCore::live_tasks() {
  std::vector<TaskHeader*> tasks;
  for (RegistryShard& shard : shards_) {
    std::lock_guard<SpinLock> lock(shard.lock);
    shard.live.for_each([&](TaskHeader* t) {
      t->retain();
      tasks.push_back(t);
    });
  }
  std::sort(tasks.begin(), tasks.end(), by_id);  // spawn order
  return tasks;
}

bool ThreadedCore::has_live_tasks() { return !registry_empty(); }

RunReport ThreadedCore::wait_idle() {
  if (tls_scope.core == this) throw std::logic_error("waiting for a threaded executor from inside one of its tasks would deadlock it");
  std::unique_lock<std::mutex> lock(idle_mutex_);
  // Counted before the first check of the shards (see unregister). Relaxed would do
  // (the shard locks order it); seq_cst documents that it pairs with that load.
  idle_waiters_.fetch_add(1, std::memory_order_seq_cst);
  idle_cv_.wait(lock, [&] { return registry_empty(); });
  idle_waiters_.fetch_sub(1, std::memory_order_relaxed);
  RunReport report = failures_.value_or(RunReport{});
  failures_.reset();
  report.polls = polls();
  return report;
}

bool ThreadedCore::count_poll(std::uint32_t thread) {
  if (budget_ == 0) {
    if (thread < sole_pollers_) {
      std::atomic<std::uint64_t>& n = poll_counts_[thread].n;
      n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
      poll_counts_[sole_pollers_ + thread % kSharedPollCounts].n.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }
  const std::uint64_t n = polls_.fetch_add(1, std::memory_order_relaxed);
  if (n < budget_) return true;
  polls_.fetch_sub(1, std::memory_order_relaxed);
  exhaust(thread);
  return false;
}

std::exception_ptr ThreadedCore::budget_error() const {
  return std::make_exception_ptr(RunError(RunReport{RunStatus::budget_exhausted, {}, budget_}));
}

void ThreadedCore::exhaust(std::uint32_t thread) {
  if (exhausted_.exchange(true, std::memory_order_acq_rel)) return;
  if (tracing()) emit(EventKind::budget_exhausted, 0, budget_, thread);
  const RunReport report{RunStatus::budget_exhausted, {}, budget_};
  {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    if (!failures_) failures_ = report;
  }
  for (TaskHeader* t : live_tasks()) {
    fail(t, report, thread);
    t->release();
  }
}

bool ThreadedCore::poll_once(TaskHeader* task, std::uint32_t thread) {
  tls_scope.polling = task->id;
  tls_scope.woke_self = false;
  if (tracing()) emit(EventKind::poll_start, task->id, 0, thread);
  Waker waker = WakerAccess::borrow(borrowed_task_waker(task));
  Context cx(waker);
  const bool done = task->vtable->poll(task, cx);
  WakerAccess::forget(waker);
  if (done) {
    complete(task, thread);  // the awaiter's wake comes from this task
    tls_scope.polling = 0;
    return true;
  }
  tls_scope.polling = 0;
  if (tracing()) {
    Event e;
    e.kind = EventKind::poll_pending;
    e.task = task->id;
    e.source = tls_scope.woke_self ? WakeSource::self : WakeSource::none;
    e.thread = thread;
    emit(std::move(e));
  }
  return false;
}

ThreadedCore::AfterPoll ThreadedCore::settle(TaskHeader* task, std::uint32_t thread) {
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & (kCancelRequested | task_state::closed)) {
      // The poller still owns the task: the error goes in before anyone can see it closed.
      if (exhausted() && !task->error) task->error = budget_error();
      const std::uint32_t closed =
          (s & ~(task_state::running | task_state::scheduled | kCancelRequested)) | task_state::closed;
      if (task->state.compare_exchange_weak(s, closed, std::memory_order_acq_rel)) {
        close(task, /*destroy_future=*/true, thread);
        return AfterPoll::closed;
      }
      continue;
    }
    if (task->state.compare_exchange_weak(s, s & ~task_state::running, std::memory_order_acq_rel)) {
      return (s & task_state::scheduled) ? AfterPoll::rescheduled : AfterPoll::idle;
    }
  }
}

void ThreadedCore::fail_owned(TaskHeader* task, std::uint32_t thread) {
  if (!task->error) task->error = budget_error();
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  while (!task->state.compare_exchange_weak(
      s, (s & ~(task_state::running | task_state::scheduled | kCancelRequested)) | task_state::closed,
      std::memory_order_acq_rel)) {
  }
  close(task, /*destroy_future=*/true, thread);
}

void ThreadedCore::fail(TaskHeader* task, const RunReport& report, std::uint32_t thread) {
  {
    std::lock_guard<SpinLock> lock(task->lock);  // a JoinHandle sees CLOSED only with the error
    std::uint32_t s = task->state.load(std::memory_order_acquire);
    for (;;) {
      if (s & task_state::finished) return;
      if (s & task_state::running) {
        // Its poller closes it (and adds the budget's error) when the poll returns.
        if (task->state.compare_exchange_weak(s, s | kCancelRequested, std::memory_order_acq_rel)) return;
        continue;
      }
      if (task->state.compare_exchange_weak(s, s | task_state::closed, std::memory_order_acq_rel)) break;
    }
    task->error = std::make_exception_ptr(RunError(report));
  }
  close(task, /*destroy_future=*/true, thread);
}

void ThreadedCore::complete(TaskHeader* task, std::uint32_t thread) {
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    std::uint32_t s = task->state.load(std::memory_order_relaxed);
    // An abort that raced with this last poll loses: the output stands.
    while (!task->state.compare_exchange_weak(
        s,
        (s & ~(task_state::running | task_state::scheduled | task_state::closed | kCancelRequested)) |
            task_state::completed,
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
  unregister(task);
  task->release();  // the registry's reference (the caller still holds its own)
  if (awaiter) std::move(*awaiter).wake();
}

void ThreadedCore::close(TaskHeader* task, bool destroy_future, std::uint32_t thread) {
  if (destroy_future) task->vtable->destroy_future(task);
  std::optional<Waker> awaiter;
  {
    std::lock_guard<SpinLock> lock(task->lock);
    awaiter.swap(task->awaiter);
  }
  if (tracing()) emit(EventKind::abort, task->id, 0, thread);
  unregister(task);
  after_close(task);
  task->release();  // the registry's reference
  if (awaiter) std::move(*awaiter).wake();
}

void ThreadedCore::abort(TaskHeader* task) {
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  for (;;) {
    if (s & task_state::finished) return;
    if (s & task_state::running) {
      // Polled right now on another thread (or this one): closed when that poll returns.
      if (task->state.compare_exchange_weak(s, s | kCancelRequested, std::memory_order_acq_rel)) return;
      continue;
    }
    if (task->state.compare_exchange_weak(s, s | task_state::closed, std::memory_order_acq_rel)) break;
  }
  task->retain();  // keep the cell alive while its future is destroyed
  close(task, /*destroy_future=*/true, event_thread());
  task->release();
}

bool ThreadedCore::check_stall(std::uint32_t thread) {
  if (!timers().empty()) return false;  // the timer thread will wake someone
  std::vector<TaskHeader*> stuck;
  {
    // Every shard locked (in index order, the only place that holds more than one):
    // no task is registered or unregistered between the two passes.
    struct AllShards {
      RegistryShard* shards;
      explicit AllShards(RegistryShard* s) : shards(s) {
        for (std::uint32_t i = 0; i < kRegistryShards; ++i) shards[i].lock.lock();
      }
      ~AllShards() {
        for (std::uint32_t i = kRegistryShards; i-- > 0;) shards[i].lock.unlock();
      }
    } all_locked(shards_);
    bool any = false;
    for (const RegistryShard& shard : shards_) any = any || !shard.live.empty();
    if (!any) return false;
    struct {
      const RegistryShard* shards;
      void for_each(const std::function<void(TaskHeader*)>& fn) const {
        for (std::uint32_t i = 0; i < kRegistryShards; ++i) shards[i].live.for_each(fn);
      }
    } live_{shards_};
    // Wakers first, states second: a wake in flight keeps its waker counted until
    // the task is scheduled (task_waker_wake), so one of the two passes sees it.
    std::uint64_t alive = 0;
    std::uint64_t internal = 0;
    live_.for_each([&](TaskHeader* t) {
      alive += t->live_wakers();
      std::lock_guard<SpinLock> task_lock(t->lock);
      if (t->awaiter && is_task_waker(t->awaiter->as_raw())) {
        auto* waiter = static_cast<const TaskHeader*>(t->awaiter->as_raw().data);
        if (waiter->scheduler == this) ++internal;
      }
    });
    if (alive > internal) return false;  // something outside may still wake a task
    bool busy = false;
    live_.for_each([&](TaskHeader* t) {
      if (t->state.load(std::memory_order_acquire) &
          (task_state::scheduled | task_state::running | kCancelRequested)) {
        busy = true;
      }
    });
    if (busy) return false;
    live_.for_each([&](TaskHeader* t) {
      t->retain();
      stuck.push_back(t);
    });
  }
  std::sort(stuck.begin(), stuck.end(), by_id);  // spawn order
  RunReport report{RunStatus::stalled, {}, polls()};
  for (TaskHeader* t : stuck) report.stuck_tasks.push_back(t->id);
  if (tracing()) {
    for (TaskHeader* t : stuck) emit(EventKind::stall, t->id, 0, thread);
  }
  {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    if (!failures_) {
      failures_ = report;
    } else {
      failures_->status = RunStatus::stalled;
      failures_->stuck_tasks.insert(failures_->stuck_tasks.end(), report.stuck_tasks.begin(),
                                    report.stuck_tasks.end());
    }
  }
  for (TaskHeader* t : stuck) {
    fail(t, report, thread);
    t->release();
  }
  return true;
}

void ThreadedCore::stall_one(TaskHeader* task, std::uint32_t thread) {
  RunReport report{RunStatus::stalled, {task->id}, polls()};
  if (tracing()) emit(EventKind::stall, task->id, 0, thread);
  {
    std::lock_guard<std::mutex> lock(idle_mutex_);
    if (!failures_) {
      failures_ = report;
    } else {
      failures_->status = RunStatus::stalled;
      failures_->stuck_tasks.push_back(task->id);
    }
  }
  fail(task, report, thread);
}

void ThreadedCore::waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) {
  if (tls_scope.core != this || !tracing()) return;  // other threads' clones go untraced
  emit(kind, task->id, live, tls_scope.thread);
}

void ThreadedCore::timer_armed(std::chrono::nanoseconds) {
  std::lock_guard<std::mutex> lock(timer_mutex_);
  if (timer_stop_) return;
  if (!timer_thread_.joinable()) timer_thread_ = std::thread([this] { timer_main(); });
  timer_cv_.notify_one();
}

void ThreadedCore::timer_main() {
  ScopeGuard scope(ThreadScope{this, 0, timer_thread_number_, false, false});
  std::unique_lock<std::mutex> lock(timer_mutex_);
  while (!timer_stop_) {
    const std::optional<std::chrono::nanoseconds> next = timers().next_deadline();
    if (!next) {
      timer_cv_.wait(lock);
    } else if (now() < *next) {
      timer_cv_.wait_until(lock, clock().real_time_of(*next));
    } else {
      lock.unlock();
      timers().fire_due(now());
      lock.lock();
    }
  }
}

void ThreadedCore::stop_timer_thread() noexcept {
  {
    std::lock_guard<std::mutex> lock(timer_mutex_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
}

void ThreadedCore::close_remaining(std::uint32_t thread) noexcept {
  // Destroying a future runs arbitrary destructors (which may drop wakers, handles,
  // abort or even spawn tasks), so check each task is still registered before
  // closing it.
  for (;;) {
    // In spawn order; a destructor may close (or spawn) tasks meanwhile: those it
    // closed are skipped, those it spawned come in the next round.
    const std::vector<TaskHeader*> tasks = live_tasks();
    if (tasks.empty()) break;
    for (TaskHeader* task : tasks) {
      bool registered = false;
      {
        RegistryShard& shard = shard_of(task);
        std::lock_guard<SpinLock> lock(shard.lock);
        registered = shard.live.contains(task);
      }
      if (registered) close_one(task, thread);
      task->release();
    }
  }
}

void ThreadedCore::close_one(TaskHeader* task, std::uint32_t thread) noexcept {
  std::uint32_t s = task->state.load(std::memory_order_acquire);
  while (!task->state.compare_exchange_weak(
      s, (s & ~(task_state::scheduled | kCancelRequested)) | task_state::closed, std::memory_order_acq_rel)) {
  }
  close(task, /*destroy_future=*/!(s & task_state::finished), thread);
}

void ThreadedCore::finish_shutdown() noexcept {
  timers().clear();
  traces_wakers.store(false, std::memory_order_relaxed);
  detach_tracer();
}

}  // namespace pollscope::detail
