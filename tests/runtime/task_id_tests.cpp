// Tests for pollscope/task_id.hpp: how tasks are numbered, and how ids appear in
// handles and traces.
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/block_on.hpp>
#include <pollscope/count.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/task_id.hpp>
#include <pollscope/trace.hpp>

#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using pollscope::Async;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::LocalExecutor;
using pollscope::TaskId;
using pollscope::TraceRecorder;
using pollscope_test::report_text;
using pollscope_test::take_lines;
using Lines = std::vector<std::string>;

// 64 bits on every target (std::size_t is 32 bits on wasm32).
static_assert(std::is_same_v<TaskId, std::uint64_t>);

namespace {

Async<> spawns_child(LocalExecutor& ex, std::optional<JoinHandle<std::uint64_t>>& child) {
  child.emplace(ex.spawn(pollscope::count(1)));
  co_return;
}

}  // namespace

TEST_CASE("Task ids are 1, 2, 3... in spawn order, never 0 and never reused", "[task_id]") {
  LocalExecutor ex;
  JoinHandle<std::uint64_t> first = ex.spawn(pollscope::count(1));
  JoinHandle<std::uint64_t> second = ex.spawn(pollscope::count(1));
  REQUIRE(first.id() == 1);
  REQUIRE(second.id() == 2);
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");

  // Both tasks are gone; the next one still gets a fresh id.
  JoinHandle<std::uint64_t> third = ex.spawn(pollscope::count(1));
  REQUIRE(third.id() == 3);
}

TEST_CASE("Each executor numbers its own tasks from 1", "[task_id]") {
  LocalExecutor a;
  LocalExecutor b;
  JoinHandle<std::uint64_t> a1 = a.spawn(pollscope::count(1));
  JoinHandle<std::uint64_t> b1 = b.spawn(pollscope::count(1));
  JoinHandle<std::uint64_t> a2 = a.spawn(pollscope::count(1));
  REQUIRE(a1.id() == 1);
  REQUIRE(b1.id() == 1);
  REQUIRE(a2.id() == 2);
}

TEST_CASE("A task spawned by a task takes the next id, and its spawn event names the spawner",
          "[task_id]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  std::optional<JoinHandle<std::uint64_t>> child;
  JoinHandle<void> parent = ex.spawn(spawns_child(ex, child));

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(parent.id() == 1);
  REQUIRE(child->id() == 2);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] spawn task 2 (from task 1)",
                                      "[0ns] enqueue task 2 (queue: 1)",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                      "[0ns] dequeue task 2 (queue: 0)",
                                      "[0ns] poll task 2",
                                      "[0ns] poll task 2 -> Ready",
                                      "[0ns] task 2 complete",
                                  });
}

TEST_CASE("Events about no task in particular carry task id 0", "[task_id]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.max_polls = 1;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  (void)ex.spawn(pollscope::count(2));
  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");

  const auto exhausted = pollscope_test::events_of(recorder.events(), EventKind::budget_exhausted);
  REQUIRE(exhausted.size() == 1);
  REQUIRE(exhausted[0].task == 0);
  REQUIRE(exhausted[0].value == 1);
}

TEST_CASE("block_on traces its future as task 1", "[task_id]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.tracer = &recorder;
  REQUIRE(pollscope::block_on(pollscope::count(2), options) == 2);
  for (const auto& e : recorder.events()) {
    CAPTURE(pollscope::format_event(e));
    CHECK(e.task == 1);
  }
}
