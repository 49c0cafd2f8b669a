// Tests for pollscope/count.hpp: count(n), the article's Counter future.
#include <cstdint>
#include <type_traits>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/test_wakers.hpp"

using namespace pollscope;
using pollscope_test::count_events;
using pollscope_test::CountingWaker;
using pollscope_test::events_of;
using pollscope_test::WakerCalls;

namespace {

Async<std::uint64_t> await_count(std::uint64_t n) {
  co_return co_await count(n);
}

static_assert(std::is_same_v<Count::Output, std::uint64_t>);

}  // namespace

TEST_CASE("count(10) is polled ten times and wakes itself by reference nine times", "[count]") {
  Count c = count(10);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  for (int i = 1; i <= 9; ++i) {
    INFO("poll " << i);
    REQUIRE(c.poll(cx).is_pending());
    REQUIRE(c.polls() == static_cast<std::uint64_t>(i));
    REQUIRE(cw.calls() == WakerCalls{0, 0, i, 0});
  }
  Poll<std::uint64_t> last = c.poll(cx);
  REQUIRE(last.value() == std::uint64_t{10});
  REQUIRE(c.polls() == std::uint64_t{10});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 9, 0});  // the Ready poll does not wake
}

TEST_CASE("count(0) is Ready(0) at its first poll without waking", "[count]") {
  Count c = count(0);
  CountingWaker cw;
  Poll<std::uint64_t> p = pollscope_test::poll_once(c, cw.waker());
  REQUIRE(p.value() == std::uint64_t{0});
  REQUIRE(c.polls() == std::uint64_t{1});
  REQUIRE(cw.wakes() == 0);
}

TEST_CASE("count(1) is Ready(1) at its first poll without waking", "[count]") {
  Count c = count(1);
  CountingWaker cw;
  Poll<std::uint64_t> p = pollscope_test::poll_once(c, cw.waker());
  REQUIRE(p.value() == std::uint64_t{1});
  REQUIRE(c.polls() == std::uint64_t{1});
  REQUIRE(cw.wakes() == 0);
}

TEST_CASE("count(2) is Pending once with one wake_by_ref, then Ready(2)", "[count]") {
  Count c = count(2);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(c.poll(cx).is_pending());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  REQUIRE(c.poll(cx).value() == std::uint64_t{2});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
}

TEST_CASE("a fresh count has been polled zero times", "[count]") {
  REQUIRE(count(5).polls() == std::uint64_t{0});
  REQUIRE(Count(0).polls() == std::uint64_t{0});
}

TEST_CASE("count(n) under block_on is polled max(n, 1) times, in place", "[count]") {
  Count c0 = count(0);
  Count c1 = count(1);
  Count c7 = count(7);
  REQUIRE(block_on(c0) == std::uint64_t{0});
  REQUIRE(block_on(c1) == std::uint64_t{1});
  REQUIRE(block_on(c7) == std::uint64_t{7});
  REQUIRE(c0.polls() == std::uint64_t{1});
  REQUIRE(c1.polls() == std::uint64_t{1});
  REQUIRE(c7.polls() == std::uint64_t{7});
}

TEST_CASE("count(4) under block_on_busy wakes the no-op waker three times, each a self-wake",
          "[count]") {
  TraceRecorder recorder;
  Count c = count(4);
  REQUIRE(block_on_busy(c, ExecutorOptions{true, 0, &recorder}) == std::uint64_t{4});
  REQUIRE(c.polls() == std::uint64_t{4});
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 4);
  const auto wakes = events_of(events, EventKind::wake_by_ref);
  REQUIRE(wakes.size() == 3u);
  for (const auto& e : wakes) REQUIRE(e.source == WakeSource::self);
}

TEST_CASE("two tasks awaiting count(10) and count(23) on a LocalExecutor take 10 and 23 polls",
          "[count]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  JoinHandle<std::uint64_t> h10 = ex.spawn(await_count(10));
  JoinHandle<std::uint64_t> h23 = ex.spawn(await_count(23));
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == std::uint64_t{33});
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start, h10.id()) == 10);
  REQUIRE(count_events(events, EventKind::poll_start, h23.id()) == 23);
  const auto wakes = events_of(events, EventKind::wake_by_ref);
  REQUIRE(wakes.size() == 31u);  // 9 + 22
  for (const auto& e : wakes) REQUIRE(e.source == WakeSource::self);
  // The run queue is FIFO: the two tasks alternate until the shorter one finishes.
  const auto polls = events_of(events, EventKind::poll_start);
  REQUIRE(polls.size() == 33u);
  for (int i = 0; i < 20; ++i)
    REQUIRE(polls[static_cast<std::size_t>(i)].task == (i % 2 == 0 ? h10.id() : h23.id()));
  for (std::size_t i = 20; i < polls.size(); ++i) REQUIRE(polls[i].task == h23.id());
}
