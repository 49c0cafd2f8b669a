#pragma once
/// How a run of an executor ended.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "pollscope/task_id.hpp"

namespace pollscope {

enum class RunStatus {
  completed,         ///< every task finished
  stalled,           ///< tasks are unfinished and nothing can ever wake them
  budget_exhausted,  ///< ExecutorOptions::max_polls polls were made; the tasks are intact
};

struct RunReport {
  RunStatus status = RunStatus::completed;
  /// The unfinished tasks of a stalled run, in spawn order (empty otherwise).
  std::vector<TaskId> stuck_tasks;
  /// Polls made during this call.
  std::uint64_t polls = 0;
};

const char* to_string(RunStatus status) noexcept;

/// Thrown by block_on when the run stalls or exhausts its budget before the future completes.
class RunError : public std::runtime_error {
 public:
  explicit RunError(RunReport report);
  const RunReport& report() const noexcept { return report_; }

 private:
  RunReport report_;
};

/// Thrown when awaiting or joining a task that was aborted (or cancelled because
/// its executor was destroyed).
class TaskAborted : public std::runtime_error {
 public:
  explicit TaskAborted(TaskId id);
  TaskId task() const noexcept { return task_; }

 private:
  TaskId task_;
};

}  // namespace pollscope
