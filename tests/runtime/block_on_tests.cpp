// Tests for pollscope/block_on.hpp: block_on (parks the thread) and block_on_busy
// (the article's DumbRuntime). Tests that start a std::thread live in
// local_executor_threads_tests.cpp.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/block_on.hpp>
#include <pollscope/count.hpp>
#include <pollscope/join.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/ready_future.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/trace.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::block_on;
using pollscope::block_on_busy;
using pollscope::Context;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::Poll;
using pollscope::RunError;
using pollscope::TraceRecorder;
using pollscope::Waker;
using pollscope_test::count_events;
using pollscope_test::Fails;
using pollscope_test::ForgetsWaker;
using pollscope_test::lines;
using pollscope_test::PendingForever;
using pollscope_test::report_text;
using pollscope_test::take_lines;
using Lines = std::vector<std::string>;

namespace {

ExecutorOptions traced_virtual(TraceRecorder& recorder) {
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  return options;
}

// Wakes its own (outer) waker by reference, then drives `inner` with a nested
// block_on on the same thread, and returns Pending. Ready with the inner output
// at the next poll. If `wake_first` is false it does not wake itself.
class NestsBlockOn {
 public:
  using Output = std::uint64_t;
  NestsBlockOn(std::uint64_t inner_count, bool wake_first)
      : inner_count_(inner_count), wake_first_(wake_first) {}
  Poll<std::uint64_t> poll(Context& cx) {
    if (++polls_ > 1) return pollscope::ready(inner_output_);
    if (wake_first_) cx.waker().wake_by_ref();
    inner_output_ = block_on(pollscope::count(inner_count_));
    return pollscope::pending;
  }
  int polls() const noexcept { return polls_; }

 private:
  std::uint64_t inner_count_;
  bool wake_first_;
  std::uint64_t inner_output_ = 0;
  int polls_ = 0;
};

// Keeps a clone of its waker in `slot` and completes at its first poll.
class LeavesWakerBehind {
 public:
  using Output = void;
  explicit LeavesWakerBehind(std::optional<Waker>& slot) : slot_(&slot) {}
  Poll<void> poll(Context& cx) {
    slot_->emplace(cx.waker());
    return pollscope::ready();
  }

 private:
  std::optional<Waker>* slot_;
};

// Pending at its first poll after waking `other` (not its own waker); Ready after.
class WakesSomeoneElse {
 public:
  using Output = void;
  explicit WakesSomeoneElse(Waker& other) : other_(&other) {}
  Poll<void> poll(Context&) {
    if (++polls_ > 1) return pollscope::ready();
    other_->wake_by_ref();
    return pollscope::pending;
  }
  int polls() const noexcept { return polls_; }

 private:
  Waker* other_;
  int polls_ = 0;
};

}  // namespace

// --- block_on ------------------------------------------------------------------------

TEST_CASE("block_on returns the output of a future that is ready at once, after one poll",
          "[block_on]") {
  TraceRecorder recorder;
  REQUIRE(block_on(pollscope::ready_future(std::string("hello")), traced_virtual(recorder)) ==
          "hello");
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("block_on traces count(3) as task 1: three polls, the Pending ones self-woken",
          "[block_on]") {
  TraceRecorder recorder;
  REQUIRE(block_on(pollscope::count(3), traced_virtual(recorder)) == 3);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("block_on polls a future passed by reference in place", "[block_on]") {
  pollscope::Count counter = pollscope::count(5);
  REQUIRE(block_on(counter) == 5);
  REQUIRE(counter.polls() == 5);
}

TEST_CASE("block_on throws RunError stalled, stuck task 1, when nothing can wake the future",
          "[block_on]") {
  TraceRecorder recorder;
  ExecutorOptions options;  // real clock: with no waker alive it must not wait
  options.tracer = &recorder;
  ForgetsWaker lost(9);

  try {
    (void)block_on(lost, options);
    FAIL("block_on returned");
  } catch (const RunError& e) {
    REQUIRE(report_text(e.report()) == "stalled, 1 polls, stuck {1}");
    REQUIRE(std::string(e.what()) == "pollscope run ended stalled after 1 polls; stuck tasks: 1");
  }
  REQUIRE(lost.polls() == 1);
  REQUIRE(pollscope_test::untimed_lines(recorder.events()) ==
          Lines{
              "spawn task 1",
              "poll task 1",
              "poll task 1 -> Pending",
              "stalled: task 1 can never be woken",
          });
}

TEST_CASE(
    "block_on on the virtual clock stalls even while a waker is alive, if nothing can fire it",
    "[block_on]") {
  pollscope_test::Gate gate;
  REQUIRE_THROWS_MATCHES(
      block_on(gate.wait(), ExecutorOptions{.virtual_clock = true}), RunError,
      Catch::Matchers::Message("pollscope run ended stalled after 1 polls; stuck tasks: 1"));
  REQUIRE(gate.holds_waker());
}

TEST_CASE("block_on throws RunError budget_exhausted after exactly max_polls polls", "[block_on]") {
  TraceRecorder recorder;
  ExecutorOptions options = traced_virtual(recorder);
  options.max_polls = 4;
  pollscope::Count counter = pollscope::count(10);

  try {
    (void)block_on(counter, options);
    FAIL("block_on returned");
  } catch (const RunError& e) {
    REQUIRE(report_text(e.report()) == "budget exhausted, 4 polls, stuck {}");
    REQUIRE(std::string(e.what()) == "pollscope run ended budget exhausted after 4 polls");
  }
  REQUIRE(counter.polls() == 4);
  REQUIRE(count_events(recorder.events(), EventKind::poll_start) == 4);
  REQUIRE(lines(recorder.events()).back() == "[0ns] budget exhausted after 4 polls");
}

TEST_CASE("block_on rethrows the future's exception and traces it", "[block_on]") {
  TraceRecorder recorder;
  REQUIRE_THROWS_MATCHES(block_on(Fails<int>("no such file"), traced_virtual(recorder)),
                         std::runtime_error, Catch::Matchers::Message("no such file"));
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 threw: no such file",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("block_on on the virtual clock jumps to the deadline: a one-hour sleep completes at once",
          "[block_on]") {
  TraceRecorder recorder;
  block_on(pollscope::sleep(1h), traced_virtual(recorder));
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] poll task 1",
                                      "[0ns] waker of task 1 cloned (1 alive)",
                                      "[0ns] timer 1 set for task 1 at 1h",
                                      "[0ns] poll task 1 -> Pending",
                                      "[1h] timer 1 fired for task 1",
                                      "[1h] task 1 woken by a timer",
                                      "[1h] poll task 1",
                                      "[1h] poll task 1 -> Ready",
                                      "[1h] task 1 complete",
                                  });
}

TEST_CASE("block_on fires timers in deadline order, each at its exact virtual deadline",
          "[block_on]") {
  TraceRecorder recorder;
  block_on(pollscope::join(pollscope::sleep(30ms), pollscope::sleep(10ms), pollscope::sleep(10ms)),
           traced_virtual(recorder));
  REQUIRE(lines(pollscope_test::events_of(recorder.events(), EventKind::timer_fire)) ==
          Lines{
              "[10ms] timer 2 fired for task 1",
              "[10ms] timer 3 fired for task 1",
              "[30ms] timer 1 fired for task 1",
          });
  REQUIRE(count_events(recorder.events(), EventKind::poll_start) == 3);
}

TEST_CASE("block_on on the real clock parks until the timer's deadline", "[block_on]") {
  int polls = 0;
  const auto start = std::chrono::steady_clock::now();
  block_on(pollscope_test::poll_counted(pollscope::sleep(2ms), polls));
  REQUIRE(std::chrono::steady_clock::now() - start >= 2ms);
  REQUIRE(polls == 2);  // parked in between, not polled again and again
}

TEST_CASE("A nested block_on on the same thread cannot consume the outer block_on's wake",
          "[block_on]") {
  // The outer future wakes itself, then runs a nested block_on whose own future
  // wakes itself twice. If both calls shared one parker, the inner polls would
  // consume the outer's notification and the outer would stall.
  NestsBlockOn outer(3, /*wake_first=*/true);
  REQUIRE(block_on(outer) == 3);
  REQUIRE(outer.polls() == 2);
}

TEST_CASE("A nested block_on's wakes do not wake the outer block_on", "[block_on]") {
  NestsBlockOn outer(3, /*wake_first=*/false);
  REQUIRE_THROWS_MATCHES(
      block_on(outer), RunError,
      Catch::Matchers::Message("pollscope run ended stalled after 1 polls; stuck tasks: 1"));
  REQUIRE(outer.polls() == 1);
}

TEST_CASE("A waker kept from a finished block_on cannot wake a later block_on on the same thread",
          "[block_on]") {
  std::optional<Waker> stale;
  block_on(LeavesWakerBehind(stale));
  REQUIRE(stale.has_value());

  WakesSomeoneElse second(*stale);
  REQUIRE_THROWS_MATCHES(
      block_on(second), RunError,
      Catch::Matchers::Message("pollscope run ended stalled after 1 polls; stuck tasks: 1"));
  REQUIRE(second.polls() == 1);
}

TEST_CASE("A block_on nested in a LocalExecutor task drives its own future within that task's poll",
          "[block_on]") {
  pollscope::LocalExecutor ex;
  pollscope::JoinHandle<std::uint64_t> handle = ex.spawn(
      pollscope::ready_future(std::uint64_t{0}));  // task 1, so the nested one is not the only task
  struct Nested {
    using Output = std::uint64_t;
    Poll<std::uint64_t> poll(Context&) { return pollscope::ready(block_on(pollscope::count(4))); }
  };
  pollscope::JoinHandle<std::uint64_t> nested = ex.spawn(Nested{});
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(pollscope_test::take_output(nested) == 4);
  REQUIRE(pollscope_test::take_output(handle) == 0);
}

// --- block_on_busy ---------------------------------------------------------------------

TEST_CASE("block_on_busy, the DumbRuntime, polls count(10) exactly 10 times", "[block_on]") {
  TraceRecorder recorder;
  REQUIRE(block_on_busy(pollscope::count(10), traced_virtual(recorder)) == 10);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 10);
  REQUIRE(count_events(events, EventKind::wake_by_ref) == 9);
  // On the virtual clock each Pending poll is followed by a kBusyPollInterval pause.
  REQUIRE(lines(events).back() == "[90us] task 1 complete");
}

TEST_CASE(
    "block_on_busy traces its no-op waker's wakes and moves the virtual clock by the busy interval",
    "[block_on]") {
  TraceRecorder recorder;
  REQUIRE(block_on_busy(pollscope::count(3), traced_virtual(recorder)) == 3);
  REQUIRE(pollscope::kBusyPollInterval == 10us);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[10us] poll task 1",
                                      "[10us] task 1 woken by itself (wake_by_ref)",
                                      "[10us] poll task 1 -> Pending (woke itself)",
                                      "[20us] poll task 1",
                                      "[20us] poll task 1 -> Ready",
                                      "[20us] task 1 complete",
                                  });
}

TEST_CASE(
    "A future that loses its waker completes under block_on_busy but stalls under block_on and "
    "LocalExecutor",
    "[block_on]") {
  ForgetsWaker busy(7);
  REQUIRE(block_on_busy(busy) == 7);
  REQUIRE(busy.polls() == 2);

  ForgetsWaker parked(7);
  REQUIRE_THROWS_AS(block_on(parked), RunError);
  REQUIRE(parked.polls() == 1);

  pollscope::LocalExecutor ex;
  pollscope::JoinHandle<int> handle = ex.spawn(ForgetsWaker(7));
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE_FALSE(handle.is_finished());
}

TEST_CASE("block_on_busy never stalls: only max_polls stops a future that is never ready",
          "[block_on]") {
  PendingForever<int> forever;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.max_polls = 5;
  REQUIRE_THROWS_MATCHES(
      block_on_busy(forever, options), RunError,
      Catch::Matchers::Message("pollscope run ended budget exhausted after 5 polls"));
  REQUIRE(forever.polls() == 5);
}

TEST_CASE("A sleep under block_on_busy has no timer: it checks the clock at every busy poll",
          "[block_on]") {
  TraceRecorder recorder;
  block_on_busy(pollscope::sleep(50us), traced_virtual(recorder));
  const auto events = recorder.events();
  // Polled at 0, 10, 20, 30, 40 and 50us; Ready at 50us.
  REQUIRE(count_events(events, EventKind::poll_start) == 6);
  REQUIRE(count_events(events, EventKind::timer_register) == 0);
  REQUIRE(lines(events).back() == "[50us] task 1 complete");
}
