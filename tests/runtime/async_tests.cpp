// Tests for pollscope/async.hpp: Async<T>, the coroutine type of async functions.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
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
using pollscope_test::event_names;
using pollscope_test::events_of;
using pollscope_test::Fails;
using pollscope_test::LifeCounts;
using pollscope_test::PendingForever;
using pollscope_test::poll_counted;
using pollscope_test::poll_once;
using pollscope_test::Tracked;
using pollscope_test::WakerCalls;

namespace {

constexpr const char* kPolledAfterCompletion = "pollscope::Async polled after it completed";

// --- async functions used by the tests ---

Async<int> answer() {
  co_return 42;
}

Async<int> plus_one_of_answer() {
  int v = co_await answer();
  co_return v + 1;
}

Async<int> answer_counted(int& inner_polls) {
  int v = co_await poll_counted(answer(), inner_polls);
  co_return v;
}

Async<int> three_levels_deep() {
  int a = co_await plus_one_of_answer();  // itself awaits answer()
  int b = co_await ready_future(100);
  co_return a + b;
}

Async<std::uint64_t> await_count(std::uint64_t n) {
  co_return co_await count(n);
}

Async<std::uint64_t> await_count_by_reference(Count& c) {
  co_return co_await c;
}

Async<std::uint64_t> await_counted_temporary(int& polls) {
  co_return co_await poll_counted(count(3), polls);
}

Async<int> sets_flag(bool& ran) {
  ran = true;
  co_return 1;
}

Async<> logs_progress(std::vector<std::string>& log) {
  log.push_back("start");
  co_await count(2);
  log.push_back("after count");
  co_await yield_now();
  log.push_back("end");
}

Async<int> with_locals(LifeCounts& counts, Tracked param) {
  Tracked local(counts, 2);
  co_await yield_now();
  co_return param.value() + local.value();
}

Async<int> throws_after_yield(LifeCounts& counts) {
  Tracked local(counts);
  co_await yield_now();
  throw std::runtime_error("body failed");
}

Async<int> throws_at_once() {
  throw std::runtime_error("inner failed");
  co_return 0;
}

Async<std::string> catches_leaf_failure(int pending_polls) {
  try {
    co_await Fails<int>("leaf failed", pending_polls);
  } catch (const std::runtime_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not reached";
}

Async<std::string> catches_nested_async_failure() {
  try {
    co_await throws_at_once();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not reached";
}

Async<int> does_not_catch() {
  int v = co_await Fails<int>("uncaught leaf failure", 1);
  co_return v;
}

Async<> waits_forever(LifeCounts& counts) {
  Tracked local(counts, 1);
  co_await PendingForever<>(counts);
}

Async<> sleeps_one_second() {
  co_await sleep(1s);
}

Async<std::unique_ptr<int>> makes_pointer() {
  co_return std::make_unique<int>(7);
}

Async<std::uint64_t> returns_int_as_u64() {
  co_return 5;
}

// Pending at its first poll (waking by reference), Ready at every later one; counts
// its polls. `Repoll` says whether it declares ready_on_repoll.
template <bool Repoll>
struct PendingOnceCounted {
  using Output = void;
  static constexpr bool ready_on_repoll = Repoll;
  int* polls;
  Poll<void> poll(Context& cx) noexcept {
    if (++*polls > 1) return ready();
    cx.waker().wake_by_ref();
    return pending;
  }
};

template <bool Repoll>
Async<int> awaits_pending_once(int& polls, std::vector<std::string>& log) {
  log.push_back("before");
  co_await PendingOnceCounted<Repoll>{&polls};
  log.push_back("after");
  co_return polls;
}

// Polls an Async once (it must be Pending), then drops it and is Ready.
struct DropAfterFirstPoll {
  using Output = void;
  std::optional<Async<>> inner;
  Poll<void> poll(Context& cx) {
    const bool was_pending = inner->poll(cx).is_pending();
    inner.reset();
    if (!was_pending) throw std::logic_error("the inner Async was expected to be Pending");
    return ready();
  }
};

}  // namespace

TEST_CASE("calling an async function runs nothing until its first poll", "[async]") {
  bool ran = false;
  Async<int> a = sets_flag(ran);
  REQUIRE_FALSE(ran);
  REQUIRE_FALSE(a.is_done());
  CountingWaker cw;
  Poll<int> p = poll_once(a, cw.waker());
  REQUIRE(ran);
  REQUIRE(p.value() == 1);
  REQUIRE(a.is_done());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});  // only the lent waker's own drop
}

TEST_CASE("block_on_busy polls an Async awaiting count(10) ten times (the DumbRuntime experiment)",
          "[async]") {
  TraceRecorder recorder;
  std::uint64_t out = block_on_busy(await_count(10), ExecutorOptions{true, 0, &recorder});
  REQUIRE(out == std::uint64_t{10});
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 10);
  REQUIRE(count_events(events, EventKind::poll_pending) == 9);
  REQUIRE(count_events(events, EventKind::poll_ready) == 1);
  // Each Pending poll is preceded by count's wake_by_ref on the no-op waker: a self-wake.
  const auto wakes = events_of(events, EventKind::wake_by_ref);
  REQUIRE(wakes.size() == 9u);
  for (const auto& e : wakes) REQUIRE(e.source == WakeSource::self);
  REQUIRE(count_events(events, EventKind::wake) == 0);
}

TEST_CASE("block_on_busy on the real clock polls an Async awaiting count(10) exactly ten times",
          "[async]") {
  int polls = 0;
  std::uint64_t out = block_on_busy(poll_counted(await_count(10), polls));
  REQUIRE(out == std::uint64_t{10});
  REQUIRE(polls == 10);
}

TEST_CASE("a nested async call that is immediately ready costs the executor one poll", "[async]") {
  TraceRecorder recorder;
  REQUIRE(block_on_busy(plus_one_of_answer(), ExecutorOptions{true, 0, &recorder}) == 43);
  REQUIRE(count_events(recorder.events(), EventKind::poll_start) == 1);
}

TEST_CASE("a nested async call polls the inner future once, within the outer future's only poll",
          "[async]") {
  int outer_polls = 0;
  int inner_polls = 0;
  REQUIRE(block_on_busy(poll_counted(answer_counted(inner_polls), outer_polls)) == 42);
  REQUIRE(outer_polls == 1);
  REQUIRE(inner_polls == 1);
}

TEST_CASE("three levels of ready nested awaits complete within one LocalExecutor poll", "[async]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  REQUIRE(ex.block_on(three_levels_deep()) == 143);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 1);
  REQUIRE(count_events(events, EventKind::poll_start, 1) == 1);
  REQUIRE(count_events(events, EventKind::complete, 1) == 1);
}

TEST_CASE("co_await on an lvalue future polls that very object in place", "[async]") {
  Count c = count(3);
  REQUIRE(block_on(await_count_by_reference(c)) == std::uint64_t{3});
  REQUIRE(c.polls() == std::uint64_t{3});  // not a copy: the caller's Count was polled
}

TEST_CASE("co_await on a temporary future keeps it in the frame across polls until it is Ready",
          "[async]") {
  int polls = 0;
  Async<std::uint64_t> a = await_counted_temporary(polls);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);

  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(polls == 1);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});

  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(polls == 2);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});

  Poll<std::uint64_t> p = a.poll(cx);
  REQUIRE(p.value() == std::uint64_t{3});  // the same Count reached 3: it was not recreated
  REQUIRE(polls == 3);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
}

TEST_CASE("an Async re-polls the awaited future first and resumes its body only once that is Ready",
          "[async]") {
  std::vector<std::string> log;
  Async<> a = logs_progress(log);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(log.empty());

  REQUIRE(a.poll(cx).is_pending());  // count(2): Pending
  REQUIRE(log == std::vector<std::string>{"start"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});

  REQUIRE(a.poll(cx).is_pending());  // count(2): Ready; yield_now: Pending
  REQUIRE(log == std::vector<std::string>{"start", "after count"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});

  REQUIRE(a.poll(cx).is_ready());  // yield_now: Ready; body ends
  REQUIRE(log == std::vector<std::string>{"start", "after count", "end"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
}

TEST_CASE("a future declaring ready_on_repoll is polled once: the next poll resumes the body at once",
          "[async]") {
  static_assert(ReadyOnRepoll<YieldNow>);
  static_assert(ReadyOnRepoll<PendingOnceCounted<true>>);
  static_assert(!ReadyOnRepoll<PendingOnceCounted<false>>);
  static_assert(!ReadyOnRepoll<Count>);  // no declaration
  int polls = 0;
  std::vector<std::string> log;
  Async<int> a = awaits_pending_once<true>(polls, log);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);

  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(polls == 1);
  REQUIRE(log == std::vector<std::string>{"before"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});

  Poll<int> p = a.poll(cx);
  REQUIRE(p.value() == 1);  // the body read the count: no second poll was made
  REQUIRE(polls == 1);
  REQUIRE(log == std::vector<std::string>{"before", "after"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
}

TEST_CASE("the same future without ready_on_repoll is polled again before the body resumes", "[async]") {
  int polls = 0;
  std::vector<std::string> log;
  Async<int> a = awaits_pending_once<false>(polls, log);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);

  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(polls == 1);
  Poll<int> p = a.poll(cx);
  REQUIRE(p.value() == 2);
  REQUIRE(polls == 2);
  REQUIRE(log == std::vector<std::string>{"before", "after"});
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
}

TEST_CASE("parameters and locals are destroyed as soon as the body completes, before the Async is",
          "[async]") {
  LifeCounts counts;
  {
    Async<int> a = with_locals(counts, Tracked(counts, 1));
    REQUIRE(counts.made() == 1);  // the parameter, now in the frame
    REQUIRE(counts.drops() == 0);

    CountingWaker cw;
    const Waker w = cw.waker();
    Context cx(w);
    REQUIRE(a.poll(cx).is_pending());
    REQUIRE(counts.made() == 2);  // the local too
    REQUIRE(counts.drops() == 0);

    Poll<int> p = a.poll(cx);
    REQUIRE(p.value() == 3);
    // `a` is still alive, its frame is not: both Tracked values are gone already.
    REQUIRE(counts.drops() == 2);
    REQUIRE(counts.live() == 0);
    REQUIRE(a.is_done());
  }
  REQUIRE(counts.drops() == 2);
  REQUIRE(counts.copies() == 0);
}

TEST_CASE("an exception escaping the body is rethrown by poll and the frame is destroyed",
          "[async]") {
  LifeCounts counts;
  Async<int> a = throws_after_yield(counts);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(counts.live() == 1);

  REQUIRE_THROWS_MATCHES(a.poll(cx), std::runtime_error, Message("body failed"));
  REQUIRE(counts.drops() == 1);
  REQUIRE(a.is_done());
  // Afterwards it is an Async that completed.
  REQUIRE_THROWS_MATCHES(a.poll(cx), std::logic_error, Message(kPolledAfterCompletion));
}

TEST_CASE("an exception escaping the body propagates out of block_on", "[async]") {
  LifeCounts counts;
  REQUIRE_THROWS_MATCHES(block_on(throws_after_yield(counts)), std::runtime_error,
                         Message("body failed"));
  REQUIRE(counts.made() == 1);
  REQUIRE(counts.drops() == 1);
}

TEST_CASE("polling an Async after it returned Ready throws std::logic_error", "[async]") {
  Async<int> a = answer();
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(a.poll(cx).value() == 42);
  REQUIRE_THROWS_AS(a.poll(cx), std::logic_error);
  REQUIRE_THROWS_WITH(a.poll(cx), kPolledAfterCompletion);
}

TEST_CASE("polling a moved-from Async throws std::logic_error and the moved-to one runs the body",
          "[async]") {
  Async<int> a = answer();
  Async<int> b = std::move(a);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(a.is_done());  // NOLINT(bugprone-use-after-move): the documented moved-from state
  REQUIRE_THROWS_MATCHES(a.poll(cx), std::logic_error, Message(kPolledAfterCompletion));
  REQUIRE(b.poll(cx).value() == 42);
}

TEST_CASE("move-assigning an Async destroys the frame it replaced", "[async]") {
  LifeCounts counts;
  Async<int> a = with_locals(counts, Tracked(counts, 1));
  Async<int> b = with_locals(counts, Tracked(counts, 10));
  REQUIRE(counts.live() == 2);
  a = std::move(b);
  REQUIRE(counts.drops() == 1);  // the parameter of a's first frame
  REQUIRE(b.is_done());          // NOLINT(bugprone-use-after-move): the documented moved-from state
  CountingWaker cw;
  REQUIRE(pollscope_test::poll_loop(a, cw.waker()).output == 12);
  REQUIRE(counts.drops() == 3);
  REQUIRE(counts.live() == 0);
}

TEST_CASE(
    "an exception thrown by an awaited future surfaces at the co_await and the body can catch it",
    "[async]") {
  Async<std::string> a = catches_leaf_failure(0);
  CountingWaker cw;
  Poll<std::string> p = poll_once(a, cw.waker());
  REQUIRE(p.value() == "caught: leaf failed");
}

TEST_CASE(
    "an awaited future throwing after being Pending surfaces at the co_await on the later poll",
    "[async]") {
  Async<std::string> a = catches_leaf_failure(2);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(a.poll(cx).is_pending());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
  Poll<std::string> p = a.poll(cx);
  REQUIRE(p.value() == "caught: leaf failed");
}

TEST_CASE("an exception escaping a nested Async is caught at the outer co_await", "[async]") {
  CountingWaker cw;
  Async<std::string> a = catches_nested_async_failure();
  REQUIRE(poll_once(a, cw.waker()).value() == "caught: inner failed");
}

TEST_CASE(
    "an awaited future's exception that the body does not catch is rethrown by the outer poll",
    "[async]") {
  Async<int> a = does_not_catch();
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(a.poll(cx).is_pending());
  REQUIRE_THROWS_MATCHES(a.poll(cx), std::runtime_error, Message("uncaught leaf failure"));
  REQUIRE(a.is_done());
}

TEST_CASE("dropping an unfinished Async destroys its frame and the future it was awaiting",
          "[async]") {
  LifeCounts counts;
  CountingWaker cw;
  {
    Async<> a = waits_forever(counts);
    REQUIRE(poll_once(a, cw.waker()).is_pending());
    REQUIRE(counts.made() == 2);  // the local and the awaited PendingForever's token
    REQUIRE(counts.drops() == 0);
  }
  REQUIRE(counts.drops() == 2);
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});  // nothing kept the waker
}

TEST_CASE(
    "dropping an unfinished Async cancels its registered sleep: the timer is cancelled, never "
    "fired",
    "[async]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  JoinHandle<void> h = ex.spawn(DropAfterFirstPoll{sleeps_one_second()});
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == std::uint64_t{1});
  REQUIRE(h.is_finished());
  REQUIRE(ex.now() == 0ns);  // the virtual clock never moved towards the 1s deadline

  const auto events = recorder.events();
  REQUIRE(
      event_names(events, {EventKind::waker_clone, EventKind::waker_drop, EventKind::timer_register,
                           EventKind::timer_fire, EventKind::timer_cancel}) ==
      std::vector<std::string>{"waker_clone", "timer_register", "timer_cancel", "waker_drop"});
  const auto registered = events_of(events, EventKind::timer_register);
  const auto cancelled = events_of(events, EventKind::timer_cancel);
  REQUIRE(registered[0].task == 1u);
  REQUIRE(registered[0].deadline == 1s);
  REQUIRE(cancelled[0].task == 1u);
  REQUIRE(cancelled[0].value == registered[0].value);  // the same timer
  // The timer's clone of the task waker was the only one, and it is gone.
  REQUIRE(events_of(events, EventKind::waker_drop)[0].value == 0u);
}

TEST_CASE("an Async can return a move-only value", "[async]") {
  std::unique_ptr<int> p = block_on(makes_pointer());
  REQUIRE(p != nullptr);
  REQUIRE(*p == 7);
}

TEST_CASE("co_return converts its operand to the Async's output type", "[async]") {
  static_assert(std::is_same_v<decltype(block_on(returns_int_as_u64())), std::uint64_t>);
  REQUIRE(block_on(returns_int_as_u64()) == std::uint64_t{5});
}
