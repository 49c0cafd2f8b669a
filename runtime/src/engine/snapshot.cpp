#include "pollscope/engine/snapshot.hpp"

#include <algorithm>

namespace pollscope::engine {

const char* to_string(TaskState state) noexcept {
  switch (state) {
    case TaskState::not_started: return "not started";
    case TaskState::scheduled: return "scheduled";
    case TaskState::running: return "running";
    case TaskState::waiting: return "waiting";
    case TaskState::done: return "done";
    case TaskState::aborted: return "aborted";
  }
  return "unknown";
}

const char* to_string(ThreadState state) noexcept {
  switch (state) {
    case ThreadState::idle: return "idle";
    case ThreadState::running: return "running";
    case ThreadState::searching: return "searching";
    case ThreadState::parked: return "parked";
    case ThreadState::blocked: return "blocked";
  }
  return "unknown";
}

namespace {

TaskView* task_of(Snapshot& s, std::uint32_t id) {
  if (id == 0 || id > s.tasks.size()) return nullptr;
  return &s.tasks[id - 1];
}

/// The lane of a logical thread; events from threads outside the executor have none.
ThreadView* thread_of(Snapshot& s, std::uint32_t thread) {
  if (thread == kExternalThread) return nullptr;
  if (s.threads.size() <= thread) s.threads.resize(thread + 1);
  return &s.threads[thread];
}

void set_thread(Snapshot& s, std::uint32_t thread, ThreadState state, std::uint32_t task, std::int64_t until_ns) {
  if (ThreadView* th = thread_of(s, thread)) *th = ThreadView{state, task, until_ns};
}

std::vector<std::uint32_t>& queue_of(Snapshot& s, std::uint64_t number) {
  if (s.queues.size() <= number) s.queues.resize(number + 1);
  return s.queues[number];
}

void remove_task(std::vector<std::uint32_t>& queue, std::uint32_t task) {
  auto it = std::find(queue.begin(), queue.end(), task);
  if (it != queue.end()) queue.erase(it);
}

}  // namespace

SnapshotIndex::SnapshotIndex(const TraceStore& store, std::uint32_t interval)
    : store_(store), interval_(std::max<std::uint32_t>(interval, 1)) {
  Snapshot s;
  const std::vector<int>& functions = store.task_functions();
  for (std::size_t id = 1; id < functions.size(); ++id) {
    TaskView t;
    t.id = static_cast<std::uint32_t>(id);
    t.function = functions[id];
    s.tasks.push_back(std::move(t));
  }
  s.threads.resize(1);
  s.queues.resize(1);
  std::size_t next_mark = 0;
  apply_marks(s, next_mark);
  checkpoints_.push_back(s);
  mark_cursor_.push_back(next_mark);
  const std::uint64_t total = steps();
  while (s.step < total) {
    advance(s, next_mark);
    if (s.step % interval_ == 0) {
      checkpoints_.push_back(s);
      mark_cursor_.push_back(next_mark);
    }
  }
}

Snapshot SnapshotIndex::at(std::uint64_t step) const {
  step = std::min<std::uint64_t>(step, steps());
  const std::size_t c = static_cast<std::size_t>(step / interval_);
  Snapshot s = checkpoints_[c];
  std::size_t next_mark = mark_cursor_[c];
  while (s.step < step) advance(s, next_mark);
  return s;
}

void SnapshotIndex::apply_marks(Snapshot& s, std::size_t& next_mark) const {
  const std::vector<LineMark>& marks = store_.marks();
  while (next_mark < marks.size() && marks[next_mark].at_step <= s.step) {
    const LineMark& m = marks[next_mark++];
    if (TaskView* t = task_of(s, m.task)) {
      t->stack.resize(std::min<std::size_t>(t->stack.size(), m.depth));
      if (m.line == 0) continue;  // that function returned
      t->stack.push_back(Frame{m.function, m.line});
    }
  }
}

void SnapshotIndex::advance(Snapshot& s, std::size_t& next_mark) const {
  const PackedEvent& e = store_.events()[s.step];
  s.time_ns = e.time_ns;
  TaskView* t = task_of(s, e.task);
  switch (e.kind) {
    case EventKind::spawn:
      if (t) t->state = TaskState::scheduled;
      break;
    case EventKind::enqueue:
      queue_of(s, e.other).push_back(e.task);
      if (t && t->state != TaskState::running) t->state = TaskState::scheduled;
      break;
    case EventKind::dequeue: {
      auto& q = queue_of(s, e.other);
      if (!q.empty() && q.front() == e.task) {
        q.erase(q.begin());
      } else {
        remove_task(q, e.task);
      }
      break;
    }
    case EventKind::steal: {
      auto& victim = queue_of(s, local_queue_of(e.other));
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(e.value), victim.size());
      std::vector<std::uint32_t> moved(victim.begin(), victim.begin() + static_cast<std::ptrdiff_t>(n));
      victim.erase(victim.begin(), victim.begin() + static_cast<std::ptrdiff_t>(n));
      auto& thief = queue_of(s, local_queue_of(e.thread));
      thief.insert(thief.end(), moved.begin(), moved.end());
      break;
    }
    case EventKind::poll_start: {
      if (t) {
        t->state = TaskState::running;
        ++t->counters.polls;
        ++s.totals.polls;
      }
      set_thread(s, e.thread, ThreadState::running, e.task, 0);
      break;
    }
    case EventKind::poll_pending: {
      if (t) {
        ++t->counters.pending_polls;
        ++s.totals.pending_polls;
        if (e.source == WakeSource::self) {
          ++t->counters.wasted_polls;
          ++s.totals.wasted_polls;
          t->state = TaskState::scheduled;
        } else if (t->state == TaskState::running) {
          t->state = TaskState::waiting;
        }
      }
      set_thread(s, e.thread, ThreadState::idle, 0, 0);
      break;
    }
    case EventKind::poll_ready:
      set_thread(s, e.thread, ThreadState::idle, 0, 0);
      break;
    case EventKind::wake:
    case EventKind::wake_by_ref:
      if (t) {
        ++t->counters.wakes;
        ++s.totals.wakes;
        if (e.source == WakeSource::self) {
          ++t->counters.self_wakes;
          ++s.totals.self_wakes;
        }
        if (e.kind == EventKind::wake && t->live_wakers > 0) --t->live_wakers;
        if (t->state == TaskState::waiting) t->state = TaskState::scheduled;
      }
      break;
    case EventKind::waker_clone:
    case EventKind::waker_drop:
      if (t) t->live_wakers = static_cast<std::int64_t>(e.value);
      break;
    case EventKind::timer_register: {
      TimerView timer{e.value, e.task, e.deadline_ns};
      auto it = std::lower_bound(s.timers.begin(), s.timers.end(), timer, [](const TimerView& a, const TimerView& b) {
        return a.deadline_ns != b.deadline_ns ? a.deadline_ns < b.deadline_ns : a.id < b.id;
      });
      s.timers.insert(it, timer);
      break;
    }
    case EventKind::timer_fire:
    case EventKind::timer_cancel:
      s.timers.erase(std::remove_if(s.timers.begin(), s.timers.end(),
                                    [&](const TimerView& timer) { return timer.id == e.value; }),
                     s.timers.end());
      break;
    case EventKind::park:
      set_thread(s, e.thread, ThreadState::parked, 0, e.deadline_ns);
      break;
    case EventKind::unpark:
      set_thread(s, e.thread, ThreadState::idle, 0, 0);
      break;
    case EventKind::search:
      set_thread(s, e.thread, ThreadState::searching, 0, 0);
      break;
    case EventKind::blocking:
      set_thread(s, e.thread, ThreadState::blocked, e.task, e.time_ns + e.deadline_ns);
      break;
    case EventKind::complete:
      if (t) t->state = TaskState::done;
      break;
    case EventKind::abort:
      if (t) t->state = TaskState::aborted;
      for (auto& q : s.queues) remove_task(q, e.task);
      break;
    case EventKind::stall:
    case EventKind::budget_exhausted:
    case EventKind::task_error:
      break;
  }
  ++s.step;
  apply_marks(s, next_mark);
}

}  // namespace pollscope::engine
