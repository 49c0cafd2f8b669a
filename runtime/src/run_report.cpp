#include "pollscope/run_report.hpp"

namespace pollscope {

const char* to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::completed: return "completed";
    case RunStatus::stalled: return "stalled";
    case RunStatus::budget_exhausted: return "budget exhausted";
  }
  return "unknown";
}

namespace {
std::string describe(const RunReport& report) {
  std::string text = "pollscope run ended ";
  text += to_string(report.status);
  text += " after " + std::to_string(report.polls) + " polls";
  if (!report.stuck_tasks.empty()) {
    text += "; stuck tasks:";
    for (TaskId id : report.stuck_tasks) text += " " + std::to_string(id);
  }
  return text;
}
}  // namespace

RunError::RunError(RunReport report) : std::runtime_error(describe(report)), report_(std::move(report)) {}

TaskAborted::TaskAborted(TaskId id)
    : std::runtime_error("pollscope task " + std::to_string(id) + " was aborted"), task_(id) {}

}  // namespace pollscope
