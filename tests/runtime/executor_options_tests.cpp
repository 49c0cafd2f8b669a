// Tests for pollscope/executor_options.hpp: defaults, virtual_clock, max_polls and
// tracer, as LocalExecutor and block_on honour them.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/block_on.hpp>
#include <pollscope/count.hpp>
#include <pollscope/executor_options.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::Async;
using pollscope::ExecutorOptions;
using pollscope::LocalExecutor;
using pollscope::RunError;
using pollscope::TraceRecorder;
using pollscope_test::report_text;

static_assert(std::is_aggregate_v<ExecutorOptions>);

namespace {

Async<> yields_times(int n) {
  for (int i = 0; i < n; ++i) co_await pollscope::yield_now();
}

}  // namespace

TEST_CASE("Default options: real clock, no poll limit, no tracer", "[executor_options]") {
  const ExecutorOptions options;
  REQUIRE_FALSE(options.virtual_clock);
  REQUIRE(options.max_polls == 0);
  REQUIRE(options.tracer == nullptr);

  constexpr ExecutorOptions designated{.virtual_clock = true, .max_polls = 9};
  static_assert(designated.virtual_clock && designated.max_polls == 9 &&
                designated.tracer == nullptr);
}

TEST_CASE("On the virtual clock time stands still while tasks are runnable", "[executor_options]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{.virtual_clock = true, .tracer = &recorder});
  (void)ex.spawn(pollscope::count(500));
  (void)ex.spawn(yields_times(500));

  REQUIRE(report_text(ex.run()) == "completed, 1001 polls, stuck {}");
  REQUIRE(ex.now() == 0ns);
  for (const auto& e : recorder.events()) REQUIRE(e.time == 0ns);
}

TEST_CASE(
    "On the virtual clock a day-long sleep takes no real time and now() reads its deadline exactly",
    "[executor_options]") {
  LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
  (void)ex.spawn(pollscope::sleep(24h));
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(ex.now() == 24h);
}

TEST_CASE("On the real clock now() follows real time", "[executor_options]") {
  LocalExecutor ex;
  const auto before = ex.now();
  std::this_thread::sleep_for(2ms);
  REQUIRE(ex.now() - before >= 2ms);
}

TEST_CASE("max_polls limits each run() call separately", "[executor_options]") {
  LocalExecutor ex(ExecutorOptions{.max_polls = 3});
  (void)ex.spawn(pollscope::count(3));
  REQUIRE(report_text(ex.run()) == "completed, 3 polls, stuck {}");
  (void)ex.spawn(pollscope::count(3));
  REQUIRE(report_text(ex.run()) == "completed, 3 polls, stuck {}");
  (void)ex.spawn(pollscope::count(4));
  REQUIRE(report_text(ex.run()) == "budget exhausted, 3 polls, stuck {}");
}

TEST_CASE("max_polls limits each block_on call separately", "[executor_options]") {
  const ExecutorOptions options{.max_polls = 3};
  REQUIRE(pollscope::block_on(pollscope::count(3), options) == 3);
  REQUIRE(pollscope::block_on(pollscope::count(3), options) == 3);
  REQUIRE_THROWS_MATCHES(
      pollscope::block_on(pollscope::count(4), options), RunError,
      Catch::Matchers::Message("pollscope run ended budget exhausted after 3 polls"));
}

TEST_CASE("max_polls 0 sets no limit", "[executor_options]") {
  LocalExecutor ex;
  (void)ex.spawn(pollscope::count(100000));
  REQUIRE(report_text(ex.run()) == "completed, 100000 polls, stuck {}");
  REQUIRE(pollscope::block_on(pollscope::count(100000)) == 100000);
}

TEST_CASE("A tracer receives the events of its own executor only", "[executor_options]") {
  TraceRecorder first_trace;
  TraceRecorder second_trace;
  LocalExecutor first(ExecutorOptions{.virtual_clock = true, .tracer = &first_trace});
  LocalExecutor second(ExecutorOptions{.virtual_clock = true, .tracer = &second_trace});
  (void)first.spawn(pollscope::count(1));
  (void)second.spawn(pollscope::count(2));
  REQUIRE(report_text(second.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(report_text(first.run()) == "completed, 1 polls, stuck {}");

  REQUIRE(pollscope_test::event_names(first_trace.events()) ==
          std::vector<std::string>{"spawn", "enqueue", "dequeue", "poll_start", "poll_ready",
                                   "complete"});
  REQUIRE(pollscope_test::event_names(second_trace.events()) ==
          std::vector<std::string>{"spawn", "enqueue", "dequeue", "poll_start", "wake_by_ref",
                                   "poll_pending", "enqueue", "dequeue", "poll_start", "poll_ready",
                                   "complete"});
}
