// Tests for pollscope/yield_now.hpp: yield_now(), one Pending with a self-wake.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/test_wakers.hpp"

using namespace pollscope;
using pollscope_test::count_events;
using pollscope_test::CountingWaker;
using pollscope_test::events_of;
using pollscope_test::WakerCalls;

namespace {

Async<> log_around_yield(std::vector<std::string>& log, std::string name) {
  log.push_back(name + " before");
  co_await yield_now();
  log.push_back(name + " after");
}

Async<> log_once(std::vector<std::string>& log, std::string name) {
  log.push_back(name);
  co_return;
}

}  // namespace

TEST_CASE("yield_now() is Pending once with exactly one wake_by_ref, then Ready", "[yield_now]") {
  YieldNow y = yield_now();
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(y.poll(cx).is_pending());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  REQUIRE(y.poll(cx).is_ready());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
}

TEST_CASE("yield_now() stays Ready once it has yielded, without waking again", "[yield_now]") {
  YieldNow y = yield_now();
  CountingWaker cw;
  auto result = pollscope_test::poll_loop(y, cw.waker());
  REQUIRE(result.polls == 2);
  REQUIRE(pollscope_test::poll_once(y, cw.waker()).is_ready());
  REQUIRE(cw.wakes() == 1);
}

TEST_CASE("yield_now() under block_on costs exactly two polls and one self-wake", "[yield_now]") {
  TraceRecorder recorder;
  block_on(yield_now(), ExecutorOptions{false, 0, &recorder});
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 2);
  const auto wakes = events_of(events, EventKind::wake_by_ref);
  REQUIRE(wakes.size() == 1u);
  REQUIRE(wakes[0].source == WakeSource::self);
  REQUIRE(count_events(events, EventKind::park) == 0);  // the self-wake is pending: no parking
}

TEST_CASE("yield_now() sends the task to the back of the LocalExecutor's run queue",
          "[yield_now]") {
  std::vector<std::string> log;
  LocalExecutor ex;
  ex.spawn(log_around_yield(log, "a"));
  ex.spawn(log_once(log, "b"));
  ex.spawn(log_around_yield(log, "c"));
  REQUIRE(ex.run().status == RunStatus::completed);
  REQUIRE(log == std::vector<std::string>{"a before", "b", "c before", "a after", "c after"});
}
