// Tests for pollscope/select.hpp: select(a, b), the first of two futures to finish.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/counted.hpp"
#include "../support/test_wakers.hpp"

using namespace pollscope;
using namespace std::chrono_literals;
using Catch::Matchers::Message;
using pollscope_test::CountingWaker;
using pollscope_test::drop_logged;
using pollscope_test::events_of;
using pollscope_test::Fails;
using pollscope_test::LifeCounts;
using pollscope_test::PendingForever;
using pollscope_test::poll_counted;
using pollscope_test::WakerCalls;

namespace {

constexpr const char* kPolledAfterCompletion = "pollscope::Select polled after it completed";

Async<char> after(std::chrono::nanoseconds d, char c) {
  co_await sleep(d);
  co_return c;
}

}  // namespace

TEST_CASE(
    "select polls the left future first: when both are Ready the left wins and the right is never "
    "polled",
    "[select]") {
  int right_polls = 0;
  auto s = select(ready_future(1), poll_counted(ready_future(2), right_polls));
  CountingWaker cw;
  auto p = pollscope_test::poll_once(s, cw.waker());
  REQUIRE(p.value().index() == 0u);
  REQUIRE(std::get<0>(p.value()) == 1);
  REQUIRE(right_polls == 0);
}

TEST_CASE("select is Ready with index 1 and the right output when only the right is Ready",
          "[select]") {
  auto s = select(PendingForever<int>(), ready_future(std::string("right")));
  static_assert(std::is_same_v<decltype(s)::Output, std::variant<int, std::string>>);
  CountingWaker cw;
  auto p = pollscope_test::poll_once(s, cw.waker());
  REQUIRE(p.value().index() == 1u);
  REQUIRE(std::get<1>(p.value()) == "right");
}

TEST_CASE("select polls both futures, left then right, on every poll while both are Pending",
          "[select]") {
  int left_polls = 0;
  int right_polls = 0;
  auto s =
      select(poll_counted(PendingForever<int>(), left_polls), poll_counted(count(3), right_polls));
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(s.poll(cx).is_pending());
  REQUIRE(left_polls == 1);
  REQUIRE(right_polls == 1);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  REQUIRE(s.poll(cx).is_pending());
  REQUIRE(left_polls == 2);
  REQUIRE(right_polls == 2);
  auto p = s.poll(cx);
  REQUIRE(p.value().index() == 1u);
  REQUIRE(std::get<1>(p.value()) == std::uint64_t{3});
  REQUIRE(left_polls == 3);
  REQUIRE(right_polls == 3);
}

TEST_CASE("the loser is destroyed before select returns Ready, not when the select is destroyed",
          "[select]") {
  LifeCounts counts;
  {
    auto s = select(PendingForever<int>(counts), count(2));
    CountingWaker cw;
    const Waker w = cw.waker();
    Context cx(w);
    REQUIRE(s.poll(cx).is_pending());
    REQUIRE(counts.drops() == 0);
    auto p = s.poll(cx);
    REQUIRE(p.value().index() == 1u);
    REQUIRE(counts.drops() == 1);  // the select object is still alive here
  }
  REQUIRE(counts.drops() == 1);  // and it does not destroy the loser a second time
  REQUIRE(counts.live() == 0);
}

TEST_CASE("a winning select releases both futures, the loser first, within its Ready poll",
          "[select]") {
  std::vector<std::string> log;
  auto s =
      select(drop_logged(PendingForever<int>(), log, "left"), drop_logged(count(1), log, "right"));
  CountingWaker cw;
  auto p = pollscope_test::poll_once(s, cw.waker());
  log.push_back("select returned");
  REQUIRE(std::get<1>(p.value()) == std::uint64_t{1});
  REQUIRE(log == std::vector<std::string>{"left dropped", "right dropped", "select returned"});
}

TEST_CASE("when the left wins, the right loser is destroyed first, within the Ready poll",
          "[select]") {
  std::vector<std::string> log;
  auto s = select(drop_logged(ready_future(5), log, "left"),
                  drop_logged(PendingForever<int>(), log, "right"));
  CountingWaker cw;
  auto p = pollscope_test::poll_once(s, cw.waker());
  log.push_back("select returned");
  REQUIRE(std::get<0>(p.value()) == 5);
  REQUIRE(log == std::vector<std::string>{"right dropped", "left dropped", "select returned"});
}

TEST_CASE("polling a select after it completed throws std::logic_error", "[select]") {
  auto s = select(ready_future(1), ready_future(2));
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(s.poll(cx).is_ready());
  REQUIRE_THROWS_AS(s.poll(cx), std::logic_error);
  REQUIRE_THROWS_WITH(s.poll(cx), kPolledAfterCompletion);
}

TEST_CASE("select gives a void output as std::monostate", "[select]") {
  int right_polls = 0;
  auto s = select(yield_now(), poll_counted(count(5), right_polls));
  static_assert(std::is_same_v<decltype(s)::Output, std::variant<std::monostate, std::uint64_t>>);
  CountingWaker cw;
  const Waker w = cw.waker();
  auto result = pollscope_test::poll_loop(s, w);
  REQUIRE(result.polls == 2);
  REQUIRE(result.output.index() == 0u);
  REQUIRE(std::holds_alternative<std::monostate>(result.output));
  REQUIRE(right_polls == 1);  // the second poll finished on the left before reaching the right
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
}

TEST_CASE(
    "an exception from the left future propagates out of select's poll before the right is polled",
    "[select]") {
  int right_polls = 0;
  auto s = select(Fails<int>("left failed"), poll_counted(PendingForever<int>(), right_polls));
  CountingWaker cw;
  REQUIRE_THROWS_MATCHES(pollscope_test::poll_once(s, cw.waker()), std::runtime_error,
                         Message("left failed"));
  REQUIRE(right_polls == 0);
}

TEST_CASE("select of a 10ms sleep and a 2ms one ends at 2ms and cancels the losing timer",
          "[select]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  auto out = ex.block_on(select(sleep(10ms), after(2ms, 'x')));
  REQUIRE(out.index() == 1u);
  REQUIRE(std::get<1>(out) == 'x');
  REQUIRE(ex.now() == 2ms);
  const auto events = recorder.events();
  const auto registered = events_of(events, EventKind::timer_register);
  REQUIRE(registered.size() == 2u);
  REQUIRE(registered[0].deadline == 10ms);
  REQUIRE(registered[1].deadline == 2ms);
  const auto fired = events_of(events, EventKind::timer_fire);
  REQUIRE(fired.size() == 1u);
  REQUIRE(fired[0].value == registered[1].value);
  const auto cancelled = events_of(events, EventKind::timer_cancel);
  REQUIRE(cancelled.size() == 1u);
  REQUIRE(cancelled[0].value == registered[0].value);
  REQUIRE(cancelled[0].time == 2ms);
}
