#include "pollscope/trace.hpp"

#include <mutex>

#include "pollscope/detail/trace_words.hpp"

namespace pollscope {

std::vector<Event> TraceBatch::decode() const {
  return detail::trace_words::decode_all(words, events,
                                         detail::trace_words::Decoder(first_seq, std::chrono::nanoseconds(0)));
}

void Tracer::record_batch(const TraceBatch& batch) {
  for (const Event& e : batch.decode()) record(e);
}

void TraceRecorder::record(const Event& event) {
  std::lock_guard<detail::SpinLock> lock(lock_);
  if (event.seq != next_seq_) detail::trace_words::append_seq(words_, event.seq);
  if (time_ != event.time) detail::trace_words::append_time(words_, event.time.count());
  detail::trace_words::append_event(words_, event);
  next_seq_ = event.seq + 1;
  time_ = event.time;
  ++events_;
}

void TraceRecorder::record_batch(const TraceBatch& batch) {
  std::lock_guard<detail::SpinLock> lock(lock_);
  if (batch.first_seq != next_seq_) detail::trace_words::append_seq(words_, batch.first_seq);
  words_.insert(words_.end(), batch.words.begin(), batch.words.end());
  next_seq_ = batch.first_seq + batch.events;
  time_.reset();  // the batch's last time mark, which only a decode would tell
  events_ += batch.events;
}

std::vector<Event> TraceRecorder::events() const {
  std::lock_guard<detail::SpinLock> lock(lock_);
  return detail::trace_words::decode_all(words_, events_, detail::trace_words::Decoder());
}

std::size_t TraceRecorder::size() const {
  std::lock_guard<detail::SpinLock> lock(lock_);
  return events_;
}

void TraceRecorder::clear() {
  std::lock_guard<detail::SpinLock> lock(lock_);
  words_.clear();
  events_ = 0;
  next_seq_ = 0;
  time_ = std::chrono::nanoseconds(0);
}

const char* to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::spawn: return "spawn";
    case EventKind::poll_start: return "poll_start";
    case EventKind::poll_pending: return "poll_pending";
    case EventKind::poll_ready: return "poll_ready";
    case EventKind::wake: return "wake";
    case EventKind::wake_by_ref: return "wake_by_ref";
    case EventKind::waker_clone: return "waker_clone";
    case EventKind::waker_drop: return "waker_drop";
    case EventKind::enqueue: return "enqueue";
    case EventKind::dequeue: return "dequeue";
    case EventKind::timer_register: return "timer_register";
    case EventKind::timer_fire: return "timer_fire";
    case EventKind::timer_cancel: return "timer_cancel";
    case EventKind::park: return "park";
    case EventKind::unpark: return "unpark";
    case EventKind::complete: return "complete";
    case EventKind::abort: return "abort";
    case EventKind::stall: return "stall";
    case EventKind::budget_exhausted: return "budget_exhausted";
    case EventKind::task_error: return "task_error";
    case EventKind::steal: return "steal";
    case EventKind::search: return "search";
    case EventKind::blocking: return "blocking";
  }
  return "unknown";
}

const char* to_string(WakeSource source) noexcept {
  switch (source) {
    case WakeSource::none: return "none";
    case WakeSource::self: return "self";
    case WakeSource::task: return "task";
    case WakeSource::timer: return "timer";
    case WakeSource::thread: return "thread";
    case WakeSource::outside: return "outside";
  }
  return "unknown";
}

std::string format_duration(std::chrono::nanoseconds d) {
  const long long ns = d.count();
  struct Unit {
    long long size;
    const char* name;
  };
  static constexpr Unit units[] = {{3'600'000'000'000LL, "h"}, {1'000'000'000LL, "s"}, {1'000'000LL, "ms"},
                                   {1'000LL, "us"}};
  for (const Unit& u : units) {
    if (ns >= u.size || ns <= -u.size) {
      const long long whole = ns / u.size;
      long long frac = (ns % u.size) * 1000 / u.size;  // three decimals, trailing zeros cut
      if (frac < 0) frac = -frac;
      std::string text = std::to_string(whole);
      if (frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 3 - digits.size(), '0');
        while (digits.back() == '0') digits.pop_back();
        text += "." + digits;
      }
      return text + u.name;
    }
  }
  return std::to_string(ns) + "ns";
}

namespace {
std::string task_name(TaskId id) { return "task " + std::to_string(id); }

std::string who(const Event& e) {
  switch (e.source) {
    case WakeSource::self: return "itself";
    case WakeSource::task: return task_name(e.other);
    case WakeSource::timer: return "a timer";
    case WakeSource::thread: return "another thread";
    case WakeSource::outside: return "code outside any task";
    case WakeSource::none: break;
  }
  return "someone";
}
}  // namespace

std::string format_event(const Event& e) {
  std::string line = "[" + format_duration(e.time) + "] ";
  if (e.thread == kExternalThread) {
    line += "(outside thread) ";
  } else if (e.thread != 0) {
    line += "(thread " + std::to_string(e.thread) + ") ";
  }
  const std::string t = task_name(e.task);
  switch (e.kind) {
    case EventKind::spawn:
      return line + "spawn " + t + (e.other ? " (from " + task_name(e.other) + ")" : "");
    case EventKind::poll_start: return line + "poll " + t;
    case EventKind::poll_pending:
      return line + "poll " + t + " -> Pending" + (e.source == WakeSource::self ? " (woke itself)" : "");
    case EventKind::poll_ready: return line + "poll " + t + " -> Ready";
    case EventKind::wake: return line + t + " woken by " + who(e);
    case EventKind::wake_by_ref: return line + t + " woken by " + who(e) + " (wake_by_ref)";
    case EventKind::waker_clone: return line + "waker of " + t + " cloned (" + std::to_string(e.value) + " alive)";
    case EventKind::waker_drop: return line + "waker of " + t + " dropped (" + std::to_string(e.value) + " alive)";
    case EventKind::enqueue: return line + "enqueue " + t + " (queue: " + std::to_string(e.value) + ")";
    case EventKind::dequeue: return line + "dequeue " + t + " (queue: " + std::to_string(e.value) + ")";
    case EventKind::timer_register:
      return line + "timer " + std::to_string(e.value) + " set for " + t + " at " + format_duration(e.deadline);
    case EventKind::timer_fire: return line + "timer " + std::to_string(e.value) + " fired for " + t;
    case EventKind::timer_cancel: return line + "timer " + std::to_string(e.value) + " cancelled";
    case EventKind::park:
      return line + "park" + (e.deadline.count() ? " until " + format_duration(e.deadline) : std::string(" until woken"));
    case EventKind::unpark: return line + "unpark (" + to_string(e.source) + ")";
    case EventKind::complete: return line + t + " complete";
    case EventKind::abort: return line + t + " aborted";
    case EventKind::stall: return line + "stalled: " + t + " can never be woken";
    case EventKind::budget_exhausted: return line + "budget exhausted after " + std::to_string(e.value) + " polls";
    case EventKind::task_error: return line + t + " threw: " + e.message;
    case EventKind::steal:
      return line + "stole " + std::to_string(e.value) + " tasks from worker " + std::to_string(e.other);
    case EventKind::search: return line + "searching for work";
    case EventKind::blocking: return line + t + " blocked the thread for " + format_duration(e.deadline);
  }
  return line + "unknown event";
}

}  // namespace pollscope
