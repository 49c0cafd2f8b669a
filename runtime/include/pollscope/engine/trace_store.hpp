#pragma once
/// TraceStore: the engine's recording of one run, compact enough that a run of
/// 1,000,000 events fits comfortably in a browser tab.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pollscope/trace.hpp"

namespace pollscope::engine {

/// One runtime event, packed (40 bytes instead of an Event's ~90). Its index in
/// the store is its step number: step k shows the state after events [0, k).
struct PackedEvent {
  std::int64_t time_ns = 0;
  std::int64_t deadline_ns = 0;
  std::uint64_t value = 0;
  std::uint32_t other = 0;
  std::uint32_t thread = 0;
  std::uint32_t task = 0;
  EventKind kind = EventKind::spawn;
  WakeSource source = WakeSource::none;
  bool operator==(const PackedEvent&) const = default;
};

/// Where a task's code is: in function `function` (a scenario task's index) at
/// source line `line`, `depth` calls deep (0: the task's own function). Recorded
/// when the interpreter reaches an operation; line 0 means the function returned.
struct LineMark {
  std::uint32_t at_step = 0;  ///< applies from this step on
  std::uint32_t task = 0;
  std::uint16_t depth = 0;
  std::uint16_t function = 0;
  std::uint32_t line = 0;
  bool operator==(const LineMark&) const = default;
};

/// A Tracer that packs events, stops storing at a budget, and keeps the line marks
/// and the map from runtime task ids to scenario functions.
/// Threading: record() and mark() may come from several threads (real-thread
/// executors): a mutex orders them. The accessors are for after the run.
class TraceStore final : public Tracer {
 public:
  explicit TraceStore(std::uint64_t max_events) : max_events_(max_events) {}

  void record(const Event& event) override;
  /// The interpreter reached `line` of `function` in `task` (`depth` calls deep).
  void mark(std::uint32_t task, std::uint16_t depth, std::uint16_t function, std::uint32_t line);
  /// Runtime task `task` runs scenario function `function`.
  void name_task(std::uint32_t task, std::uint16_t function);

  const std::vector<PackedEvent>& events() const noexcept { return events_; }
  const std::vector<LineMark>& marks() const noexcept { return marks_; }
  /// Scenario function of each runtime task, indexed by task id (index 0 unused).
  const std::vector<int>& task_functions() const noexcept { return task_functions_; }
  /// The message of each task_error event, by step.
  const std::map<std::uint32_t, std::string>& messages() const noexcept { return messages_; }
  /// True when the run produced more events than the budget (the rest were dropped).
  bool truncated() const noexcept { return truncated_; }
  std::uint64_t max_events() const noexcept { return max_events_; }

 private:
  std::uint64_t max_events_;
  std::mutex mutex_;
  bool truncated_ = false;
  std::vector<PackedEvent> events_;
  std::vector<LineMark> marks_;
  std::vector<int> task_functions_;
  std::map<std::uint32_t, std::string> messages_;
};

/// Back to the runtime's Event (seq = step index).
Event unpack(const PackedEvent& packed, std::uint64_t seq);

}  // namespace pollscope::engine
