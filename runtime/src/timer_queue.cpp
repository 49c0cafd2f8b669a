#include "pollscope/detail/timer_queue.hpp"

#include "pollscope/detail/executor_core.hpp"

namespace pollscope::detail {

void TimerQueue::insert(TimerEntry& entry, std::chrono::nanoseconds deadline, Waker waker, TaskId task) {
  entry.deadline = deadline;
  entry.id = next_id_++;
  entry.task = task;
  entry.queue = this;
  entry.waker.emplace(std::move(waker));
  entries_.insert(&entry);
  if (core_.tracing()) {
    Event e;
    e.kind = EventKind::timer_register;
    e.task = task;
    e.value = entry.id;
    e.deadline = deadline;
    e.thread = tls_scope.core == &core_ ? tls_scope.thread : 0;
    core_.emit(std::move(e));
  }
}

void TimerQueue::cancel(TimerEntry& entry) {
  if (entry.queue != this) return;
  entries_.erase(&entry);
  entry.queue = nullptr;
  std::optional<Waker> waker = std::move(entry.waker);
  entry.waker.reset();
  if (core_.tracing()) core_.emit(EventKind::timer_cancel, entry.task, entry.id);
}

std::optional<std::chrono::nanoseconds> TimerQueue::next_deadline() const noexcept {
  if (entries_.empty()) return std::nullopt;
  return (*entries_.begin())->deadline;
}

std::size_t TimerQueue::fire_due(std::chrono::nanoseconds now) {
  std::size_t fired = 0;
  const bool was_firing = tls_scope.firing_timers;
  tls_scope.firing_timers = true;
  while (!entries_.empty() && (*entries_.begin())->deadline <= now) {
    TimerEntry* entry = *entries_.begin();
    entries_.erase(entries_.begin());
    entry->queue = nullptr;
    Waker waker = std::move(*entry->waker);
    entry->waker.reset();
    if (core_.tracing()) core_.emit(EventKind::timer_fire, entry->task, entry->id);
    ++fired;
    std::move(waker).wake();
  }
  tls_scope.firing_timers = was_firing;
  return fired;
}

void TimerQueue::clear() noexcept {
  for (TimerEntry* entry : entries_) {
    entry->queue = nullptr;
    entry->waker.reset();
  }
  entries_.clear();
}

}  // namespace pollscope::detail
