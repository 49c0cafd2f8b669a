// Words for the event log and the caption: the engine's events, told with the
// scenario's task names and operations.
#include <string>

#include "pollscope/engine/engine.hpp"

namespace pollscope::engine {

using scenario::ExecutorKind;
using scenario::OpKind;
using scenario::ThreadsKind;

namespace {

std::string op_text(const scenario::Op& op) {
  switch (op.kind) {
    case OpKind::count: return "count(" + std::to_string(op.amount) + ")";
    case OpKind::yield: return op.amount == 1 ? "yield_now()" : "yield_now() x" + std::to_string(op.amount);
    case OpKind::sleep: return "sleep(" + format_duration(op.duration) + ")";
    case OpKind::block: return "a blocking call of " + format_duration(op.duration);
    case OpKind::spawn: return "spawn(" + op.target + ")";
    case OpKind::join: return "the JoinHandle of " + op.target;
    case OpKind::call: return op.target + "()";
    case OpKind::send: return op.target + ".send(" + std::to_string(op.value) + ")";
    case OpKind::recv: return op.target + ".recv()";
    case OpKind::lose_waker: return "lose_waker()";
  }
  return "?";
}

}  // namespace

std::string Engine::describe(std::uint64_t index) const {
  const Event e = event(index);
  const std::string t = task_name(static_cast<std::uint32_t>(e.task));
  std::string line = "[" + format_duration(e.time) + "] ";
  const ExecutorKind kind = scenario().settings.executor;
  const bool threaded = kind == ExecutorKind::thread_pool || kind == ExecutorKind::thread_per_task;
  if (e.thread == kExternalThread) {
    line += "outside thread: ";
  } else if (threaded) {
    line += (kind == ExecutorKind::thread_pool ? "worker " : "thread ") + std::to_string(e.thread) + ": ";
  }
  auto queue = [&](std::uint64_t number) -> std::string {
    if (kind != ExecutorKind::thread_pool) return "the run queue";
    return number == kInjectionQueue ? "the injection queue" : "worker " + std::to_string(number - 1) + "'s queue";
  };
  auto who = [&]() -> std::string {
    switch (e.source) {
      case WakeSource::self: return "itself";
      case WakeSource::task: return task_name(static_cast<std::uint32_t>(e.other));
      case WakeSource::timer: return "a timer";
      case WakeSource::thread: return "another thread";
      case WakeSource::outside: return "code outside any task";
      case WakeSource::none: break;
    }
    return "someone";
  };
  switch (e.kind) {
    case EventKind::spawn:
      return line + "spawn " + t + (e.other ? " (from " + task_name(static_cast<std::uint32_t>(e.other)) + ")" : "");
    case EventKind::enqueue: return line + t + " enters " + queue(e.other) + " (" + std::to_string(e.value) + " queued)";
    case EventKind::dequeue: return line + t + " leaves " + queue(e.other) + " (" + std::to_string(e.value) + " queued)";
    case EventKind::poll_start: return line + "polling " + t;
    case EventKind::poll_pending:
      return line + t + " is pending" + (e.source == WakeSource::self ? " (it woke itself)" : "");
    case EventKind::poll_ready: return line + t + " is ready";
    case EventKind::wake: return line + t + " woken by " + who();
    case EventKind::wake_by_ref: return line + t + " woken by " + who() + " (wake_by_ref)";
    case EventKind::waker_clone: return line + t + "'s waker cloned (" + std::to_string(e.value) + " alive)";
    case EventKind::waker_drop: return line + t + "'s waker dropped (" + std::to_string(e.value) + " alive)";
    case EventKind::timer_register:
      return line + "timer " + std::to_string(e.value) + " set for " + t + " at " + format_duration(e.deadline);
    case EventKind::timer_fire: return line + "timer " + std::to_string(e.value) + " fires";
    case EventKind::timer_cancel: return line + "timer " + std::to_string(e.value) + " cancelled";
    case EventKind::park:
      return line + "park until " + (e.deadline.count() ? format_duration(e.deadline) : std::string("woken"));
    case EventKind::unpark: return line + "unpark (" + std::string(to_string(e.source)) + ")";
    case EventKind::complete: return line + t + " completed";
    case EventKind::abort: return line + t + " aborted";
    case EventKind::stall: return line + "stalled: " + t + " can never be woken";
    case EventKind::budget_exhausted: return line + "budget exhausted";
    case EventKind::task_error: return line + t + " failed: " + e.message;
    case EventKind::steal:
      return line + "stole " + std::to_string(e.value) + " tasks from worker " + std::to_string(e.other);
    case EventKind::search: return line + "searching for work";
    case EventKind::blocking: return line + t + " blocks the thread for " + format_duration(e.deadline);
  }
  return line + "?";
}

std::string Engine::caption(std::uint64_t step) const {
  if (!loaded()) return "Nothing is loaded.";
  const std::string root = scenario().tasks.front().name;
  if (step == 0) return "Nothing has run yet: step forward to watch the executor start " + root + ".";
  step = std::min(step, event_count());
  const Event e = event(step - 1);
  const std::string t = task_name(static_cast<std::uint32_t>(e.task));
  const Snapshot s = snapshot(step);
  const ExecutorKind kind = scenario().settings.executor;
  auto at = [&]() -> std::string {
    if (e.task == 0 || e.task > s.tasks.size() || s.tasks[e.task - 1].stack.empty()) return "";
    const Frame& f = s.tasks[e.task - 1].stack.back();
    const scenario::Op* op = op_at(f.function, f.line);
    return op ? " at " + op_text(*op) + " (line " + std::to_string(f.line) + ")" : "";
  };
  auto current_op = [&]() -> const scenario::Op* {
    if (e.task == 0 || e.task > s.tasks.size() || s.tasks[e.task - 1].stack.empty()) return nullptr;
    const Frame& f = s.tasks[e.task - 1].stack.back();
    return op_at(f.function, f.line);
  };
  // The real ThreadPool has a LIFO slot per worker (thread_pool.hpp), which the
  // simulated one does not model: its queue order is not strictly first in, first out.
  const bool real_pool = kind == ExecutorKind::thread_pool && scenario().settings.threads == ThreadsKind::real;
  const std::string queue = kind == ExecutorKind::thread_pool
                                ? (e.other == kInjectionQueue ? "the injection queue"
                                                              : "worker " + std::to_string(e.other - 1) + "'s queue")
                                : "the run queue";
  switch (e.kind) {
    case EventKind::spawn:
      return t + " is spawned" + (e.other ? " by " + task_name(static_cast<std::uint32_t>(e.other)) : "") +
             ": it becomes a task of its own and waits for its first poll.";
    case EventKind::enqueue:
      if (real_pool && e.other != kInjectionQueue) {
        return t + " joins " + queue + " (" + std::to_string(e.value) +
               " queued): into the worker's LIFO slot, to run next, if the task being polled made it "
               "runnable; else at the back.";
      }
      return t + " joins the back of " + queue + " (" + std::to_string(e.value) +
             " queued); it is polled when it reaches the front.";
    case EventKind::dequeue:
      if (real_pool && e.other != kInjectionQueue) {
        return "The worker takes " + t + " from " + queue +
               " to poll it: its LIFO slot first (the task its last poll woke or spawned), else the front.";
      }
      return "The executor takes " + t + " from the front of " + queue + " to poll it.";
    case EventKind::poll_start:
      return "The executor polls " + t + ": its code runs" + at() + " until an await returns Pending or the task ends.";
    case EventKind::poll_pending: {
      if (e.source == WakeSource::self) {
        return t + " returned Pending" + at() +
               ", but woke itself first, so it is polled again soon although nothing changed: a wasted poll.";
      }
      const scenario::Op* op = current_op();
      if (op && op->kind == OpKind::lose_waker) {
        return t + " returned Pending" + at() + " without keeping its waker: nothing will ever wake it.";
      }
      if (kind == ExecutorKind::block_on_busy) {
        return t + " returned Pending" + at() + "; the busy loop will poll it again anyway after a short sleep.";
      }
      return t + " returned Pending" + at() + " and left its waker with whatever it waits for; it sleeps until woken.";
    }
    case EventKind::poll_ready: return t + " returned Ready: its async function ran to the end.";
    case EventKind::wake:
    case EventKind::wake_by_ref: {
      std::string how = e.kind == EventKind::wake ? "wake()" : "wake_by_ref()";
      switch (e.source) {
        case WakeSource::self:
          if (kind == ExecutorKind::block_on_busy) {
            return t + " called " + how + " on its own waker, a no-op waker here: the busy loop ignores it.";
          }
          return t + " called " + how + " on its own waker during its poll: it asks to be polled again.";
        case WakeSource::timer: return "A timer fired: it calls " + how + " on " + t + "'s waker, so " + t + " can run again.";
        case WakeSource::task:
          return task_name(static_cast<std::uint32_t>(e.other)) + " woke " + t + " (" + how + "), so " + t +
                 " can run again.";
        case WakeSource::thread: return "Another thread woke " + t + " (" + how + ").";
        default: return t + " was woken (" + how + ") from outside any task.";
      }
    }
    case EventKind::waker_clone:
      return "A clone of " + t + "'s waker was stored by what it awaits, so something can wake it later (" +
             std::to_string(e.value) + " alive).";
    case EventKind::waker_drop:
      return "A clone of " + t + "'s waker was dropped (" + std::to_string(e.value) + " alive).";
    case EventKind::timer_register:
      return t + " registered timer " + std::to_string(e.value) + " for " + format_duration(e.deadline) +
             ": the executor will wake it then, instead of polling it in a loop.";
    case EventKind::timer_fire:
      return "The clock reached " + format_duration(e.time) + ": timer " + std::to_string(e.value) + " fires.";
    case EventKind::timer_cancel: return "Timer " + std::to_string(e.value) + " was cancelled before it fired.";
    case EventKind::park:
      return "Nothing is runnable, so the thread parks " +
             (e.deadline.count() ? "until " + format_duration(e.deadline) + ", the next timer."
                                 : std::string("until something wakes it."));
    case EventKind::unpark: return "The thread wakes up (" + std::string(to_string(e.source)) + ") and looks for work.";
    case EventKind::complete: return t + " is complete; whoever awaits its JoinHandle is woken.";
    case EventKind::abort: return t + " was aborted: its future is destroyed without finishing.";
    case EventKind::stall:
      for (const StuckTask& stuck : outcome().stuck) {
        if (stuck.task == e.task) return "Stall: " + t + " waits forever: " + stuck.reason + ".";
      }
      return "Stall: " + t + " waits forever.";
    case EventKind::budget_exhausted:
      return "The run hit its poll budget and stopped; left alone it might never end (a busy loop?).";
    case EventKind::task_error: return t + " threw an exception: " + e.message + ".";
    case EventKind::steal:
      return "Worker " + std::to_string(e.thread) + " ran out of work and stole " + std::to_string(e.value) +
             " tasks from worker " + std::to_string(e.other) + "'s queue.";
    case EventKind::search:
      return "Worker " + std::to_string(e.thread) + " has no work left and searches the other queues before parking.";
    case EventKind::blocking:
      return t + " made a blocking call inside poll: the thread does nothing else for " + format_duration(e.deadline) +
             ", and every task queued behind it waits.";
  }
  return "";
}

}  // namespace pollscope::engine
