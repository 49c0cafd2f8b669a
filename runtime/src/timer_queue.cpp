#include "pollscope/detail/timer_queue.hpp"

#include <vector>

#include "pollscope/detail/executor_core.hpp"

namespace pollscope::detail {

// Thread-safe mode (make_thread_safe): events are emitted under the queue's lock, so
// a timer's register, fire and cancel events reach the tracer in the order they
// happened; wakers are woken and dropped after the lock is released (either may run
// arbitrary code, including this queue's operations).

std::uint32_t TimerQueue::event_thread() const noexcept { return tls_scope.core == &core_ ? tls_scope.thread : 0; }

void TimerQueue::insert(TimerEntry& entry, std::chrono::nanoseconds deadline, Waker waker, TaskId task) {
  bool earliest = false;
  {
    auto lock = guard();
    entry.deadline = deadline;
    entry.id = next_id_++;
    entry.task = task;
    entry.waker.emplace(std::move(waker));
    entries_.insert(&entry);
    entry.queue.store(this, std::memory_order_release);
    earliest = *entries_.begin() == &entry;
    if (core_.tracing()) {
      Event e;
      e.kind = EventKind::timer_register;
      e.task = task;
      e.value = entry.id;
      e.deadline = deadline;
      e.thread = event_thread();
      core_.emit(std::move(e));
    }
  }
  if (earliest) core_.timer_armed(deadline);
}

void TimerQueue::cancel(TimerEntry& entry) {
  std::optional<Waker> waker;
  {
    auto lock = guard();
    if (entry.queue.load(std::memory_order_relaxed) != this) return;
    entries_.erase(&entry);
    entry.queue.store(nullptr, std::memory_order_release);
    waker = std::move(entry.waker);
    entry.waker.reset();
    if (core_.tracing()) core_.emit(EventKind::timer_cancel, entry.task, entry.id, event_thread());
  }
}

bool TimerQueue::empty_locked() const noexcept {
  auto lock = guard();
  return entries_.empty();
}

std::size_t TimerQueue::size() const noexcept {
  auto lock = guard();
  return entries_.size();
}

std::optional<std::chrono::nanoseconds> TimerQueue::next_deadline() const noexcept {
  auto lock = guard();
  if (entries_.empty()) return std::nullopt;
  return (*entries_.begin())->deadline;
}

void TimerQueue::arm(TimerEntry& entry, std::chrono::nanoseconds deadline, const Waker& waker, TaskId task) {
  TimerQueue* q = entry.queue.load(std::memory_order_acquire);
  if (q != nullptr) {
    std::optional<Waker> replaced;
    {
      auto lock = q->guard();
      if (entry.queue.load(std::memory_order_relaxed) == q) {
        if (!entry.waker->will_wake(waker)) {
          replaced.emplace(waker);
          entry.waker.swap(replaced);
        }
        return;  // the replaced waker is dropped after the lock
      }
    }
    // It fired (or was cancelled) meanwhile on another thread: register it again.
  }
  insert(entry, deadline, waker, task);
}

std::size_t TimerQueue::fire_due(std::chrono::nanoseconds now) {
  std::size_t fired = 0;
  const bool was_firing = tls_scope.firing_timers;
  tls_scope.firing_timers = true;
  for (;;) {
    std::optional<Waker> waker;
    {
      auto lock = guard();
      if (entries_.empty() || (*entries_.begin())->deadline > now) break;
      TimerEntry* entry = *entries_.begin();
      entries_.erase(entries_.begin());
      waker = std::move(entry->waker);
      entry->waker.reset();
      const TaskId task = entry->task;
      const std::uint64_t id = entry->id;
      // After this store the entry's future may be dropped by another thread: do not
      // touch `entry` again.
      entry->queue.store(nullptr, std::memory_order_release);
      if (core_.tracing()) core_.emit(EventKind::timer_fire, task, id, event_thread());
    }
    ++fired;
    std::move(*waker).wake();
  }
  tls_scope.firing_timers = was_firing;
  return fired;
}

void TimerQueue::clear() noexcept {
  if (!shared_) {
    for (TimerEntry* entry : entries_) {
      entry->queue.store(nullptr, std::memory_order_relaxed);
      entry->waker.reset();
    }
    entries_.clear();
    return;
  }
  // Dropping a waker may run arbitrary code (the last reference of a task frees its
  // cell, and with it maybe another Sleep): drop them after the lock.
  std::vector<Waker> dropped;
  {
    auto lock = guard();
    dropped.reserve(entries_.size());
    for (TimerEntry* entry : entries_) {
      dropped.push_back(std::move(*entry->waker));
      entry->waker.reset();
      entry->queue.store(nullptr, std::memory_order_release);
    }
    entries_.clear();
  }
}

}  // namespace pollscope::detail
