// Tests for pollscope/join.hpp: join(f...) and join_all(futures).
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
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
using pollscope_test::count_events;
using pollscope_test::CountingWaker;
using pollscope_test::Fails;
using pollscope_test::poll_counted;
using pollscope_test::poll_logged;
using pollscope_test::PollCounted;
using pollscope_test::WakerCalls;

namespace {

Async<char> after(std::chrono::nanoseconds d, char c) {
  co_await sleep(d);
  co_return c;
}

}  // namespace

TEST_CASE("join yields the outputs in argument order once every future is Ready", "[join]") {
  auto j = join(ready_future(1), ready_future(std::string("b")), count(2));
  static_assert(std::is_same_v<decltype(j)::Output, std::tuple<int, std::string, std::uint64_t>>);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(j.poll(cx).is_pending());  // count(2) is Pending
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  // The two ready_futures are not polled again (a second poll of one would throw).
  auto p = j.poll(cx);
  REQUIRE(p.value() == std::tuple<int, std::string, std::uint64_t>{1, "b", 2});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
}

TEST_CASE("join gives a void output as std::monostate", "[join]") {
  auto j = join(ready_future(3), yield_now(), ready_future());
  static_assert(
      std::is_same_v<decltype(j)::Output, std::tuple<int, std::monostate, std::monostate>>);
  CountingWaker cw;
  auto result = pollscope_test::poll_loop(j, cw.waker());
  REQUIRE(result.polls == 2);
  REQUIRE(result.output == std::tuple<int, std::monostate, std::monostate>{3, {}, {}});
}

TEST_CASE("join does not poll a finished future again", "[join]") {
  int fast_polls = 0;
  int slow_polls = 0;
  auto j = join(poll_counted(count(1), fast_polls), poll_counted(count(3), slow_polls));
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(j.poll(cx).is_pending());
  REQUIRE(fast_polls == 1);
  REQUIRE(slow_polls == 1);
  REQUIRE(j.poll(cx).is_pending());
  REQUIRE(fast_polls == 1);
  REQUIRE(slow_polls == 2);
  REQUIRE(j.poll(cx).value() == std::tuple<std::uint64_t, std::uint64_t>{1, 3});
  REQUIRE(fast_polls == 1);
  REQUIRE(slow_polls == 3);
}

TEST_CASE("join polls its unfinished futures in argument order on every poll", "[join]") {
  std::vector<std::string> log;
  auto j = join(poll_logged(count(3), log, "a"), poll_logged(count(2), log, "b"),
                poll_logged(count(1), log, "c"));
  CountingWaker cw;
  const Waker w = cw.waker();
  auto result = pollscope_test::poll_loop(j, w);
  REQUIRE(result.polls == 3);
  REQUIRE(log == std::vector<std::string>{"a", "b", "c", "a", "b", "a"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 0});  // count(3) twice, count(2) once
}

TEST_CASE("join of no futures is Ready with an empty tuple at its first poll", "[join]") {
  auto j = join();
  static_assert(std::is_same_v<decltype(j)::Output, std::tuple<>>);
  CountingWaker cw;
  REQUIRE(pollscope_test::poll_once(j, cw.waker()).is_ready());
}

TEST_CASE("an exception from a joined future propagates out of join's poll", "[join]") {
  auto j = join(ready_future(1), Fails<int>("joined future failed", 1));
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(j.poll(cx).is_pending());
  REQUIRE_THROWS_MATCHES(j.poll(cx), std::runtime_error, Message("joined future failed"));
}

TEST_CASE("join of two sleeps under a virtual-clock LocalExecutor is one task woken by each timer",
          "[join]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  auto out = ex.block_on(join(after(3ms, 'a'), after(1ms, 'b')));
  REQUIRE(out == std::tuple<char, char>{'a', 'b'});
  REQUIRE(ex.now() == 3ms);  // concurrent, not 4ms
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::spawn) == 1);
  REQUIRE(count_events(events, EventKind::poll_start, 1) == 3);  // first poll, then one per timer
  REQUIRE(count_events(events, EventKind::timer_fire) == 2);
}

TEST_CASE("join_all of counts returns their outputs in order and polls each until it is Ready",
          "[join]") {
  std::vector<Count> counts{count(3), count(1), count(2)};
  auto j = join_all(std::move(counts));
  static_assert(std::is_same_v<decltype(j)::Output, std::vector<std::uint64_t>>);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(j.poll(cx).is_pending());  // 3: Pending, 1: Ready, 2: Pending
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
  REQUIRE(j.poll(cx).is_pending());  // 3: Pending, 2: Ready
  REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 0});
  auto p = j.poll(cx);
  REQUIRE(p.value() == std::vector<std::uint64_t>{3, 1, 2});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 0});
}

TEST_CASE("join_all does not poll a finished future again", "[join]") {
  int polls[3] = {0, 0, 0};
  std::vector<PollCounted<Count>> futures;
  futures.push_back(poll_counted(count(2), polls[0]));
  futures.push_back(poll_counted(count(4), polls[1]));
  futures.push_back(poll_counted(count(1), polls[2]));
  auto j = join_all(std::move(futures));
  CountingWaker cw;
  auto result = pollscope_test::poll_loop(j, cw.waker());
  REQUIRE(result.polls == 4);
  REQUIRE(result.output == std::vector<std::uint64_t>{2, 4, 1});
  REQUIRE(polls[0] == 2);
  REQUIRE(polls[1] == 4);
  REQUIRE(polls[2] == 1);
}

TEST_CASE("join_all of ten counts(1..10) under block_on takes ten polls", "[join]") {
  std::vector<Count> counts;
  for (std::uint64_t n = 1; n <= 10; ++n) counts.push_back(count(n));
  TraceRecorder recorder;
  std::vector<std::uint64_t> out =
      block_on(join_all(std::move(counts)), ExecutorOptions{false, 0, &recorder});
  REQUIRE(out == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  REQUIRE(count_events(recorder.events(), EventKind::poll_start) == 10);
}

TEST_CASE("join_all of an empty vector is Ready with an empty vector at its first poll", "[join]") {
  auto j = join_all(std::vector<Count>{});
  CountingWaker cw;
  auto p = pollscope_test::poll_once(j, cw.waker());
  REQUIRE(p.is_ready());
  REQUIRE(p.value().empty());
}

TEST_CASE("join_all gives void outputs as std::monostate", "[join]") {
  auto j = join_all(std::vector<YieldNow>(3));
  static_assert(std::is_same_v<decltype(j)::Output, std::vector<std::monostate>>);
  CountingWaker cw;
  const Waker w = cw.waker();
  auto result = pollscope_test::poll_loop(j, w);
  REQUIRE(result.polls == 2);
  REQUIRE(result.output.size() == 3u);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 0});
}

TEST_CASE("an exception from a future in join_all propagates out of its poll", "[join]") {
  std::vector<Fails<int>> futures;
  futures.emplace_back("first fails", 0);
  futures.emplace_back("second fails", 0);
  auto j = join_all(std::move(futures));
  CountingWaker cw;
  REQUIRE_THROWS_MATCHES(pollscope_test::poll_once(j, cw.waker()), std::runtime_error,
                         Message("first fails"));
}
