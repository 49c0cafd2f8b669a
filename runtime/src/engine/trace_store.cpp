#include "pollscope/engine/trace_store.hpp"

namespace pollscope::engine {

void TraceStore::record(const Event& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (events_.size() >= max_events_) {
    truncated_ = true;
    return;
  }
  PackedEvent p;
  p.time_ns = event.time.count();
  p.deadline_ns = event.deadline.count();
  p.value = event.value;
  p.other = static_cast<std::uint32_t>(event.other);
  p.thread = event.thread;
  p.task = static_cast<std::uint32_t>(event.task);
  p.kind = event.kind;
  p.source = event.source;
  // Every task_error has an entry, an empty what() too: the engine finds the tasks
  // that threw here, without scanning the events.
  if (event.kind == EventKind::task_error || !event.message.empty()) {
    messages_[static_cast<std::uint32_t>(events_.size())] = event.message;
  }
  events_.push_back(p);
}

void TraceStore::mark(std::uint32_t task, std::uint16_t depth, std::uint16_t function, std::uint32_t line) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (truncated_) return;
  marks_.push_back(LineMark{static_cast<std::uint32_t>(events_.size()), task, depth, function, line});
}

void TraceStore::name_task(std::uint32_t task, std::uint16_t function) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (task_functions_.size() <= task) task_functions_.resize(task + 1, -1);
  task_functions_[task] = function;
}

Event unpack(const PackedEvent& p, std::uint64_t seq) {
  Event e;
  e.seq = seq;
  e.time = std::chrono::nanoseconds(p.time_ns);
  e.deadline = std::chrono::nanoseconds(p.deadline_ns);
  e.value = p.value;
  e.other = p.other;
  e.thread = p.thread;
  e.task = p.task;
  e.kind = p.kind;
  e.source = p.source;
  return e;
}

}  // namespace pollscope::engine
