#pragma once
/// Engine: runs a scenario on the real runtime, records every event, and answers
/// what the page must draw at any step — forwards or backwards.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pollscope/engine/snapshot.hpp"
#include "pollscope/engine/trace_store.hpp"
#include "pollscope/scenario.hpp"

namespace pollscope::engine {

struct LoadOptions {
  /// Whether this build can run `threads real` (the pthread build, cross-origin isolated).
  bool real_threads_available = false;
  /// Overrides the scenario's `max_events` when non-zero (1..1,000,000).
  std::uint64_t max_events = 0;
};

/// How a run ended. `failed`: a task threw (a task_error event); it wins over the
/// others, since a throw is what the reader must see first (the tasks that waited for
/// the one that threw may also stall, or the run may hit its budget later).
enum class EndStatus : std::uint8_t { completed, stalled, budget_exhausted, failed };
const char* to_string(EndStatus status) noexcept;

/// A task left unfinished by a stalled run, with where and why it waits.
struct StuckTask {
  std::uint32_t task = 0;
  int function = -1;
  std::uint32_t line = 0;  ///< the operation it waits at (0: unknown)
  std::string reason;      ///< one sentence, e.g. why nothing can wake it
  bool operator==(const StuckTask&) const = default;
};

/// A task whose future threw: its task_error event.
struct TaskFailure {
  std::uint32_t task = 0;
  std::uint64_t step = 0;  ///< index of the task_error event
  std::string message;     ///< what() of the exception
  bool operator==(const TaskFailure&) const = default;
};

struct Outcome {
  EndStatus status = EndStatus::completed;
  std::vector<StuckTask> stuck;
  std::vector<TaskFailure> failures;  ///< every task that threw, in event order
  /// one line: "completed in 42 events", "stalled: b can never be woken",
  /// "failed: a threw an exception: <what()>"
  std::string summary;
};

/// The ending of a run whose `store` recorded task_error events: `failed`, one
/// TaskFailure per event, and a summary naming the first task that threw (by
/// `name_of`) and its what(), with how many failed when more did. nullopt when no
/// task threw. Engine::load uses it for every run.
std::optional<Outcome> failed_outcome(const TraceStore& store,
                                      const std::function<std::string(std::uint32_t)>& name_of);

class Engine {
 public:
  Engine();
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Parses and runs `text`, replacing any earlier run. The result carries every
  /// diagnostic (warnings too); on errors nothing is run and the previous run is
  /// kept, so the page never loses what it shows.
  scenario::ParseResult load(std::string_view text, const LoadOptions& options = {});

  bool loaded() const noexcept { return run_ != nullptr; }
  const scenario::Scenario& scenario() const;
  std::uint64_t event_count() const;
  /// The event at `index` (0-based; step index + 1 shows its effect).
  Event event(std::uint64_t index) const;
  /// The state after `step` events.
  Snapshot snapshot(std::uint64_t step) const;
  const Outcome& outcome() const;
  /// Name of a runtime task: its scenario task's name ("task 7" if unknown).
  std::string task_name(std::uint32_t task) const;
  /// The event log line of event `index`, with task names.
  std::string describe(std::uint64_t index) const;
  /// One plain sentence about step `step` (what its last event did and why).
  std::string caption(std::uint64_t step) const;
  /// The operation at `line` of scenario task `function` (null if none).
  const scenario::Op* op_at(int function, std::uint32_t line) const;
  /// The recorded line marks and message of a task_error event, for exports.
  const TraceStore& store() const;

 private:
  struct Run;
  std::unique_ptr<Run> run_;
};

}  // namespace pollscope::engine
