// Tests for pollscope/run_report.hpp: RunStatus names, RunReport, RunError and
// TaskAborted.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include <pollscope/run_report.hpp>

using pollscope::RunError;
using pollscope::RunReport;
using pollscope::RunStatus;
using pollscope::TaskAborted;

static_assert(std::is_base_of_v<std::runtime_error, RunError>);
static_assert(std::is_base_of_v<std::runtime_error, TaskAborted>);

TEST_CASE("to_string names each run status", "[run_report]") {
  REQUIRE(std::string(pollscope::to_string(RunStatus::completed)) == "completed");
  REQUIRE(std::string(pollscope::to_string(RunStatus::stalled)) == "stalled");
  REQUIRE(std::string(pollscope::to_string(RunStatus::budget_exhausted)) == "budget exhausted");
}

TEST_CASE("A default RunReport is a completed run with no polls and no stuck tasks",
          "[run_report]") {
  const RunReport report;
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.stuck_tasks.empty());
  REQUIRE(report.polls == 0);
}

TEST_CASE("RunError::what() names the status and the polls, and the stuck tasks of a stall",
          "[run_report]") {
  const RunError stalled(RunReport{RunStatus::stalled, {2, 5}, 3});
  REQUIRE(std::string(stalled.what()) ==
          "pollscope run ended stalled after 3 polls; stuck tasks: 2 5");

  const RunError exhausted(RunReport{RunStatus::budget_exhausted, {}, 7});
  REQUIRE(std::string(exhausted.what()) == "pollscope run ended budget exhausted after 7 polls");

  const RunError completed(RunReport{});
  REQUIRE(std::string(completed.what()) == "pollscope run ended completed after 0 polls");
}

TEST_CASE("RunError carries the whole report it was made from", "[run_report]") {
  const RunError error(RunReport{RunStatus::stalled, {1, 4, 9}, 12});
  REQUIRE(error.report().status == RunStatus::stalled);
  REQUIRE(error.report().stuck_tasks == std::vector<pollscope::TaskId>{1, 4, 9});
  REQUIRE(error.report().polls == 12);
}

TEST_CASE("RunError and TaskAborted print 64-bit counts and ids in full", "[run_report]") {
  // On wasm32 std::size_t is 32 bits: a count squeezed through it would wrap.
  const RunError error(RunReport{RunStatus::stalled, {std::uint64_t{1} << 40}, 5'000'000'000});
  REQUIRE(std::string(error.what()) ==
          "pollscope run ended stalled after 5000000000 polls; stuck tasks: 1099511627776");

  const TaskAborted aborted(UINT64_MAX);
  REQUIRE(std::string(aborted.what()) == "pollscope task 18446744073709551615 was aborted");
  REQUIRE(aborted.task() == UINT64_MAX);
}

TEST_CASE("TaskAborted names the aborted task in what() and task()", "[run_report]") {
  const TaskAborted aborted(42);
  REQUIRE(std::string(aborted.what()) == "pollscope task 42 was aborted");
  REQUIRE(aborted.task() == 42);
}
