// Tests for pollscope/ready_future.hpp: ready_future(v), Ready at its first poll.
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/counted.hpp"
#include "../support/test_wakers.hpp"

using namespace pollscope;
using pollscope_test::CountingWaker;
using pollscope_test::LifeCounts;
using pollscope_test::poll_once;
using pollscope_test::Tracked;
using pollscope_test::WakerCalls;

namespace {
constexpr const char* kPolledAfterCompletion = "pollscope::ReadyFuture polled after it completed";
}  // namespace

TEST_CASE("ready_future(v) is Ready(v) at its first poll and touches no waker", "[ready_future]") {
  ReadyFuture<int> f = ready_future(5);
  CountingWaker cw;
  {
    const Waker w = cw.waker();
    Context cx(w);
    Poll<int> p = f.poll(cx);
    REQUIRE(p.value() == 5);
  }
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});  // only the test's own waker's drop
}

TEST_CASE("polling ready_future(v) a second time throws std::logic_error", "[ready_future]") {
  ReadyFuture<int> f = ready_future(5);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(f.poll(cx).value() == 5);
  REQUIRE_THROWS_AS(f.poll(cx), std::logic_error);
  REQUIRE_THROWS_WITH(f.poll(cx), kPolledAfterCompletion);
}

TEST_CASE("ready_future() is a Ready Poll<void> at its first poll and throws when polled again",
          "[ready_future]") {
  ReadyFuture<void> f = ready_future();
  static_assert(std::is_same_v<decltype(f)::Output, void>);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(f.poll(cx).is_ready());
  REQUIRE_THROWS_AS(f.poll(cx), std::logic_error);
  REQUIRE_THROWS_WITH(f.poll(cx), kPolledAfterCompletion);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("ready_future decays its argument and copies an lvalue", "[ready_future]") {
  static_assert(std::is_same_v<decltype(ready_future(std::declval<const std::string&>())),
                               ReadyFuture<std::string>>);
  static_assert(std::is_same_v<decltype(ready_future("text")), ReadyFuture<const char*>>);
  std::string source = "kept";
  ReadyFuture<std::string> f = ready_future(source);
  CountingWaker cw;
  REQUIRE(poll_once(f, cw.waker()).value() == "kept");
  REQUIRE(source == "kept");
}

TEST_CASE("ready_future hands over a move-only value", "[ready_future]") {
  ReadyFuture<std::unique_ptr<int>> f = ready_future(std::make_unique<int>(9));
  std::unique_ptr<int> out = block_on(f);
  REQUIRE(out != nullptr);
  REQUIRE(*out == 9);
}

TEST_CASE(
    "ready_future moves its value out: no copy is made between construction and the Ready poll",
    "[ready_future]") {
  LifeCounts counts;
  ReadyFuture<Tracked> f = ready_future(Tracked(counts, 3));
  CountingWaker cw;
  {
    Poll<Tracked> p = poll_once(f, cw.waker());
    REQUIRE(p.value().value() == 3);
    REQUIRE(counts.copies() == 0);
    REQUIRE(counts.live() == 1);  // the value now lives in the Poll, nowhere else
  }
  REQUIRE(counts.drops() == 1);
  REQUIRE(counts.copies() == 0);
}

TEST_CASE("ready_future(v) under block_on takes one poll", "[ready_future]") {
  TraceRecorder recorder;
  REQUIRE(block_on(ready_future(std::string("x")), ExecutorOptions{false, 0, &recorder}) == "x");
  REQUIRE(pollscope_test::count_events(recorder.events(), EventKind::poll_start) == 1);
}
