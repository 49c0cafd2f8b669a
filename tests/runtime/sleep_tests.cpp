// Tests for pollscope/sleep.hpp: sleep(d), on the polling executor's clock.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/pollscope.hpp>

#include "../support/counted.hpp"
#include "../support/test_wakers.hpp"

using namespace pollscope;
using namespace std::chrono_literals;
using pollscope_test::count_events;
using pollscope_test::CountingWaker;
using pollscope_test::event_names;
using pollscope_test::events_of;
using pollscope_test::poll_counted;
using pollscope_test::WakerCalls;
using std::chrono::nanoseconds;

namespace {

Async<nanoseconds> sleep_then_read_clock(LocalExecutor& ex, nanoseconds d) {
  co_await sleep(d);
  co_return ex.now();
}

Async<nanoseconds> sleep_created_before_another(LocalExecutor& ex) {
  Sleep later = sleep(3ms);  // created at 0ms, first polled at 2ms
  co_await sleep(2ms);
  co_await later;
  co_return ex.now();
}

/// The output of a finished task, taken through its handle.
template <class T>
T output_of(JoinHandle<T>& handle) {
  return pollscope_test::poll_once(handle, Waker::noop()).value();
}

/// Polls its Sleep once (Pending: it registers a timer), then drops it and is Ready.
struct DropSleepAfterFirstPoll {
  using Output = void;
  std::optional<Sleep> sleep;
  Poll<void> poll(Context& cx) {
    const bool was_pending = sleep->poll(cx).is_pending();
    sleep.reset();
    if (!was_pending) throw std::logic_error("the sleep was expected to be Pending");
    return ready();
  }
};

/// First poll: polls its Sleep with the task's waker and wakes itself. Later polls:
/// polls the Sleep through a Context lending `other` instead, and stays Pending.
struct RepollsSleepWithOtherWaker {
  using Output = void;
  Sleep sleep{5ms};
  const Waker* other;
  Poll<void> poll(Context& cx) {
    if (!first_done) {
      first_done = true;
      (void)sleep.poll(cx);
      cx.waker().wake_by_ref();
      return pending;
    }
    Context other_cx(*other);
    return sleep.poll(other_cx);
  }
  bool first_done = false;
};

}  // namespace

TEST_CASE("sleep(0) is Ready at its first poll, takes no deadline and wakes nobody", "[sleep]") {
  Sleep s = sleep(0ns);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(s.poll(cx).is_ready());
  REQUIRE_FALSE(s.deadline().has_value());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("a negative sleep is Ready at its first poll, takes no deadline and wakes nobody",
          "[sleep]") {
  Sleep s = sleep(-5ms);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(s.poll(cx).is_ready());
  REQUIRE_FALSE(s.deadline().has_value());
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("sleep(0) and a negative sleep under a LocalExecutor complete in one poll with no timer",
          "[sleep]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  ex.spawn(sleep(0ns));
  ex.spawn(sleep(-1s));
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == 2u);
  REQUIRE(ex.now() == 0ns);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::timer_register) == 0);
  REQUIRE(count_events(events, EventKind::poll_start) == 2);
  REQUIRE(count_events(events, EventKind::waker_clone) == 0);
}

TEST_CASE("a sleep polled outside any executor checks the real clock and wakes itself by reference",
          "[sleep]") {
  Sleep s = sleep(1h);
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE_FALSE(s.deadline().has_value());
  REQUIRE(s.poll(cx).is_pending());
  REQUIRE(s.deadline().has_value());
  const nanoseconds deadline = *s.deadline();
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  REQUIRE(s.poll(cx).is_pending());
  REQUIRE(s.deadline() == deadline);  // taken once, at the first poll
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
}

TEST_CASE(
    "sleep(5ms) under a virtual-clock LocalExecutor ends at exactly 5ms after two polls and one "
    "timer wake",
    "[sleep]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  JoinHandle<nanoseconds> h = ex.spawn(sleep_then_read_clock(ex, 5ms));
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == 2u);
  REQUIRE(output_of(h) == 5ms);
  REQUIRE(ex.now() == 5ms);

  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start, 1) == 2);
  const auto wakes = events_of(events, EventKind::wake);
  REQUIRE(wakes.size() == 1u);
  REQUIRE(wakes[0].task == 1u);
  REQUIRE(wakes[0].source == WakeSource::timer);
  REQUIRE(wakes[0].time == 5ms);
  REQUIRE(count_events(events, EventKind::wake_by_ref) == 0);
  const auto registered = events_of(events, EventKind::timer_register);
  REQUIRE(registered.size() == 1u);
  REQUIRE(registered[0].deadline == 5ms);
  REQUIRE(registered[0].time == 0ns);
  const auto fired = events_of(events, EventKind::timer_fire);
  REQUIRE(fired.size() == 1u);
  REQUIRE(fired[0].value == registered[0].value);
  REQUIRE(events_of(events, EventKind::complete)[0].time == 5ms);
}

TEST_CASE(
    "timers fire in deadline order, ties in registration order (3ms, 1ms, 1ms complete as 2, 3, 1)",
    "[sleep]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  JoinHandle<void> h1 = ex.spawn(sleep(3ms));
  JoinHandle<void> h2 = ex.spawn(sleep(1ms));
  JoinHandle<void> h3 = ex.spawn(sleep(1ms));
  REQUIRE(h1.id() == 1u);
  REQUIRE(h2.id() == 2u);
  REQUIRE(h3.id() == 3u);
  REQUIRE(ex.run().status == RunStatus::completed);

  const auto events = recorder.events();
  const auto fired = events_of(events, EventKind::timer_fire);
  const auto completed = events_of(events, EventKind::complete);
  REQUIRE(fired.size() == 3u);
  REQUIRE(completed.size() == 3u);
  REQUIRE(std::vector<TaskId>{fired[0].task, fired[1].task, fired[2].task} ==
          std::vector<TaskId>{2, 3, 1});
  REQUIRE(std::vector<TaskId>{completed[0].task, completed[1].task, completed[2].task} ==
          std::vector<TaskId>{2, 3, 1});
  REQUIRE(std::vector<nanoseconds>{completed[0].time, completed[1].time, completed[2].time} ==
          std::vector<nanoseconds>{1ms, 1ms, 3ms});
  REQUIRE(ex.now() == 3ms);
}

TEST_CASE("a sleep's deadline is taken at its first poll, not when it is created", "[sleep]") {
  LocalExecutor ex(ExecutorOptions{true, 0, nullptr});
  REQUIRE(ex.block_on(sleep_created_before_another(ex)) == 5ms);  // 2ms, then 3ms more
}

TEST_CASE(
    "block_on_busy on a virtual clock polls sleep(50us) six times: at 0, 10, 20, 30, 40 and 50us",
    "[sleep]") {
  // No timers under block_on_busy: each Pending poll wakes itself by reference, and the
  // driver moves the virtual clock kBusyPollInterval (10us) between polls.
  static_assert(kBusyPollInterval == 10us);
  TraceRecorder recorder;
  int polls = 0;
  block_on_busy(poll_counted(sleep(50us), polls), ExecutorOptions{true, 0, &recorder});
  REQUIRE(polls == 6);
  const auto events = recorder.events();
  const auto starts = events_of(events, EventKind::poll_start);
  REQUIRE(starts.size() == 6u);
  for (std::size_t i = 0; i < starts.size(); ++i)
    REQUIRE(starts[i].time == 10us * static_cast<int>(i));
  const auto wakes = events_of(events, EventKind::wake_by_ref);
  REQUIRE(wakes.size() == 5u);
  for (const auto& e : wakes) REQUIRE(e.source == WakeSource::self);
  REQUIRE(count_events(events, EventKind::timer_register) == 0);
}

TEST_CASE(
    "sleep(5ms) under block_on with a virtual clock completes from a timer at 5ms without parking",
    "[sleep]") {
  TraceRecorder recorder;
  Sleep s = sleep(5ms);
  block_on(s, ExecutorOptions{true, 0, &recorder});
  REQUIRE(s.deadline() == 5ms);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 2);
  REQUIRE(count_events(events, EventKind::park) == 0);
  const auto wakes = events_of(events, EventKind::wake);
  REQUIRE(wakes.size() == 1u);
  REQUIRE(wakes[0].source == WakeSource::timer);
  REQUIRE(events_of(events, EventKind::complete)[0].time == 5ms);
}

TEST_CASE(
    "sleep(2ms) under block_on on the real clock completes no earlier than 2ms later, from its "
    "timer",
    "[sleep]") {
  TraceRecorder recorder;
  const auto start = std::chrono::steady_clock::now();
  block_on(sleep(2ms), ExecutorOptions{false, 0, &recorder});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(elapsed >= 2ms);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::poll_start) == 2);
  REQUIRE(count_events(events, EventKind::timer_fire) == 1);
  const auto wakes = events_of(events, EventKind::wake);
  REQUIRE(wakes.size() == 1u);
  REQUIRE(wakes[0].source == WakeSource::timer);
  REQUIRE(wakes[0].time >= 2ms);
}

TEST_CASE("dropping a registered sleep cancels its timer and drops the waker the timer held",
          "[sleep]") {
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  ex.spawn(DropSleepAfterFirstPoll{sleep(1s)});
  RunReport report = ex.run();
  REQUIRE(report.status == RunStatus::completed);
  REQUIRE(report.polls == 1u);
  REQUIRE(ex.now() == 0ns);  // nothing was left to advance the virtual clock to

  const auto events = recorder.events();
  REQUIRE(
      event_names(events, {EventKind::waker_clone, EventKind::waker_drop, EventKind::timer_register,
                           EventKind::timer_fire, EventKind::timer_cancel}) ==
      std::vector<std::string>{"waker_clone", "timer_register", "timer_cancel", "waker_drop"});
  REQUIRE(events_of(events, EventKind::timer_cancel)[0].value ==
          events_of(events, EventKind::timer_register)[0].value);
  REQUIRE(events_of(events, EventKind::waker_drop)[0].value ==
          0u);  // no clone of the task waker is left
}

TEST_CASE("a sleep re-polled with another task's waker hands its timer that waker", "[sleep]") {
  CountingWaker other;
  const Waker other_waker = other.waker();
  TraceRecorder recorder;
  LocalExecutor ex(ExecutorOptions{true, 0, &recorder});
  ex.spawn(RepollsSleepWithOtherWaker{Sleep(5ms), &other_waker});
  RunReport report = ex.run();

  // Poll 1 registered the task's waker; poll 2 swapped in a clone of `other` (the task's
  // clone is dropped); at 5ms the timer woke `other`, not the task, which is now stuck.
  REQUIRE(other.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(report.status == RunStatus::stalled);
  REQUIRE(report.stuck_tasks == std::vector<TaskId>{1});
  REQUIRE(report.polls == 2u);
  REQUIRE(ex.now() == 5ms);
  const auto events = recorder.events();
  REQUIRE(count_events(events, EventKind::timer_register) == 1);
  REQUIRE(count_events(events, EventKind::timer_fire) == 1);
  REQUIRE(count_events(events, EventKind::wake) == 0);
  REQUIRE(event_names(events, {EventKind::waker_clone, EventKind::waker_drop}) ==
          std::vector<std::string>{"waker_clone", "waker_drop"});
}
