// Tests for pollscope/local_executor.hpp: LocalExecutor — FIFO polling, wakes,
// task lifetimes, timers, stall detection, poll budgets, block_on.
// Tests that start a std::thread live in local_executor_threads_tests.cpp.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/count.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::Async;
using pollscope::Context;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::LocalExecutor;
using pollscope::Poll;
using pollscope::RunError;
using pollscope::TaskId;
using pollscope::TraceRecorder;
using pollscope::Waker;
using pollscope_test::Carrying;
using pollscope_test::carrying;
using pollscope_test::events_of;
using pollscope_test::Fails;
using pollscope_test::ForgetsWaker;
using pollscope_test::Gate;
using pollscope_test::LifeCounts;
using pollscope_test::lines;
using pollscope_test::PendingForever;
using pollscope_test::report_text;
using pollscope_test::take_lines;
using pollscope_test::take_output;
using pollscope_test::Tracked;
using pollscope_test::WakesItself;
using Lines = std::vector<std::string>;

namespace {

// The article's async_fn / async_fn2: an async function awaiting count(n).
Async<std::uint64_t> count_to(std::uint64_t n) {
  const std::uint64_t res = co_await pollscope::count(n);
  co_return res;
}

// The article's nested call: async_main awaits async_fn, which is ready at once.
Async<int> answer() {
  co_return 42;
}
Async<int> ask() {
  const int res = co_await answer();
  co_return res;
}

// The ids of the polled tasks, in poll order.
std::vector<TaskId> poll_order(const std::vector<pollscope::Event>& events) {
  std::vector<TaskId> ids;
  for (const auto& e : events_of(events, EventKind::poll_start)) ids.push_back(e.task);
  return ids;
}

// Wakes task 1 (waiting on `gate`) three times from inside task 2's poll: by the
// gate (consuming its waker), then twice through a clone of it.
Async<> wake_three_times(Gate gate) {
  std::optional<Waker> w = gate.clone_waker();
  gate.open();
  w->wake_by_ref();
  std::move(*w).wake();
  co_return;
}

// Pending forever, keeping a clone of its own waker inside itself: a reference
// cycle (task -> future -> waker -> task) that only destroying the future breaks.
class KeepsOwnWaker {
 public:
  using Output = void;
  explicit KeepsOwnWaker(LifeCounts& counts) : token_(counts) {}
  Poll<void> poll(Context& cx) {
    waker_ = std::make_unique<Waker>(cx.waker());
    return pollscope::pending;
  }

 private:
  // (Not std::optional: g++ 12 -O2 warns maybe-uninitialized when moving an empty one.)
  std::unique_ptr<Waker> waker_;
  Tracked token_;
};

// Sleeps `d`, then logs "<name>@<now>".
Async<> sleeper(LocalExecutor& ex, std::string name, std::chrono::nanoseconds d, Lines& log) {
  co_await pollscope::sleep(d);
  log.push_back(name + "@" + pollscope::format_duration(ex.now()));
}

Async<Tracked> make_tracked(LifeCounts& counts, int value) {
  co_await pollscope::yield_now();
  co_return Tracked(counts, value);
}

// Calls ex.run() from inside its own poll and keeps what that threw.
Async<> runs_its_executor(LocalExecutor& ex, std::string& error) {
  try {
    (void)ex.run();
  } catch (const std::logic_error& e) {
    error = e.what();
  }
  co_return;
}

// Calls ex.block_on(...) from inside its own poll and keeps what that threw.
Async<> blocks_on_its_executor(LocalExecutor& ex, std::string& error) {
  try {
    (void)ex.block_on(pollscope::count(3));
  } catch (const std::logic_error& e) {
    error = e.what();
  }
  co_return;
}

ExecutorOptions traced_virtual(TraceRecorder& recorder) {
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  return options;
}

}  // namespace

// --- the article's experiments -------------------------------------------------------

TEST_CASE(
    "Two tasks counting to 10 and 23 finish with 10 and 23 after exactly 10 and 23 polls, "
    "interleaved FIFO",
    "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<std::uint64_t> first = ex.spawn(count_to(10));
  JoinHandle<std::uint64_t> second = ex.spawn(count_to(23));

  REQUIRE(report_text(ex.run()) == "completed, 33 polls, stuck {}");
  REQUIRE(take_output(first) == 10);
  REQUIRE(take_output(second) == 23);

  // Each pending poll re-queues its task at the back: 1, 2, 1, 2... until task 1
  // is done at its 10th poll, then task 2 alone for its last 13.
  std::vector<TaskId> expected;
  for (int i = 0; i < 10; ++i) expected.insert(expected.end(), {1, 2});
  expected.insert(expected.end(), 13, 2);
  REQUIRE(poll_order(recorder.events()) == expected);
}

TEST_CASE("A nested async call costs no executor poll of its own", "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<int> handle = ex.spawn(ask());

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_output(handle) == 42);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

// --- wakes -------------------------------------------------------------------------

TEST_CASE("A task woken three times during its poll is polled exactly once more",
          "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<int> handle = ex.spawn(WakesItself(3));

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(take_output(handle) == 2);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("A LocalExecutor task's waker and its clones are local task wakers, and a clone's wake re-polls the task",
          "[local_executor]") {
  // Records the vtables of the waker it is lent and of a clone, then wakes itself
  // through the clone (by value, consuming it) and is Ready at its second poll.
  struct RecordsWakers {
    using Output = int;
    const pollscope::RawWakerVTable* lent = nullptr;
    const pollscope::RawWakerVTable* cloned = nullptr;
    int polls = 0;
    Poll<int> poll(Context& cx) {
      if (++polls == 2) return pollscope::ready(polls);
      Waker clone = cx.waker();
      lent = cx.waker().as_raw().vtable;
      cloned = clone.as_raw().vtable;
      REQUIRE(pollscope::detail::is_task_waker(clone.as_raw()));
      std::move(clone).wake();
      return pollscope::pending;
    }
  };
  LocalExecutor ex;
  RecordsWakers future;
  REQUIRE(ex.block_on(future) == 2);
  REQUIRE(future.lent == &pollscope::detail::local_task_waker_vtable);
  REQUIRE(future.cloned == &pollscope::detail::local_task_waker_vtable);
}

TEST_CASE("A task woken again while it is already queued is queued only once", "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Gate gate;
  JoinHandle<void> waiter = ex.spawn(gate.wait());
  JoinHandle<void> waker = ex.spawn(wake_three_times(gate));

  REQUIRE(report_text(ex.run()) == "completed, 3 polls, stuck {}");
  REQUIRE(gate.polls() == 2);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] spawn task 2",
                                      "[0ns] enqueue task 2 (queue: 2)",
                                      "[0ns] dequeue task 1 (queue: 1)",
                                      "[0ns] poll task 1",
                                      "[0ns] waker of task 1 cloned (1 alive)",
                                      "[0ns] poll task 1 -> Pending",
                                      "[0ns] dequeue task 2 (queue: 0)",
                                      "[0ns] poll task 2",
                                      "[0ns] waker of task 1 cloned (2 alive)",
                                      "[0ns] task 1 woken by task 2",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] task 1 woken by task 2 (wake_by_ref)",
                                      "[0ns] task 1 woken by task 2",
                                      "[0ns] poll task 2 -> Ready",
                                      "[0ns] task 2 complete",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("A wake from outside run() queues the task for the next run()", "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Gate gate;
  JoinHandle<void> handle = ex.spawn(gate.wait());
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  recorder.clear();

  REQUIRE(gate.open());
  REQUIRE(recorder.size() == 0);  // noticed by the next run(), not by open()
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] task 1 woken by code outside any task",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("A wake after its task completed or was aborted is a harmless no-op",
          "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Gate completes;
  Gate aborted;
  JoinHandle<void> first = ex.spawn(completes.wait());
  JoinHandle<void> second = ex.spawn(aborted.wait());
  REQUIRE(report_text(ex.run()) == "stalled, 2 polls, stuck {1, 2}");
  std::optional<Waker> waker_of_first = completes.clone_waker();
  std::optional<Waker> waker_of_second = aborted.clone_waker();

  second.abort();
  completes.open();
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(first.is_finished());
  REQUIRE(second.is_finished());
  recorder.clear();

  waker_of_first->wake_by_ref();
  std::move(*waker_of_first).wake();
  waker_of_second->wake_by_ref();
  std::move(*waker_of_second).wake();
  aborted.open();  // wakes the waker the gate kept for task 2

  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] task 1 woken by code outside any task (wake_by_ref)",
                                      "[0ns] task 1 woken by code outside any task",
                                      "[0ns] task 2 woken by code outside any task (wake_by_ref)",
                                      "[0ns] task 2 woken by code outside any task",
                                      "[0ns] task 2 woken by code outside any task",
                                  });
  REQUIRE(completes.polls() == 2);
  REQUIRE(aborted.polls() == 1);
}

TEST_CASE(
    "Wakers stay safe to clone, wake and drop after their task finished and after their executor "
    "is gone",
    "[local_executor]") {
  TraceRecorder recorder;
  Gate gate;
  std::optional<Waker> kept;
  {
    LocalExecutor ex(traced_virtual(recorder));
    JoinHandle<void> handle = ex.spawn(gate.wait());
    REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
    kept = gate.clone_waker();
    gate.open();
    REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
    REQUIRE(handle.is_finished());
    recorder.clear();

    Waker copy = *kept;  // a clone outside run(): not traced
    copy.wake_by_ref();
    std::move(copy).wake();
    REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
    REQUIRE(take_lines(recorder) == Lines{
                                        "[0ns] task 1 woken by code outside any task (wake_by_ref)",
                                        "[0ns] task 1 woken by code outside any task",
                                    });
  }
  // The executor is gone, the task cell lives on in `kept` (ASan checks the rest).
  REQUIRE(recorder.size() == 0);  // nothing to cancel: the task had finished
  Waker clone = *kept;
  REQUIRE(clone.will_wake(*kept));
  clone.wake_by_ref();
  kept->wake_by_ref();
  std::move(clone).wake();
  { Waker dropped_unused = *kept; }
  std::move(*kept).wake();
  kept.reset();
  REQUIRE(recorder.size() == 0);  // the tracer was detached with the executor
}

// --- lifetimes of futures and outputs ------------------------------------------------

TEST_CASE("A task's future is destroyed as soon as it completes, before anyone takes the output",
          "[local_executor]") {
  LifeCounts future_counts;
  {
    LocalExecutor ex;
    JoinHandle<std::uint64_t> handle = ex.spawn(carrying(pollscope::count(2), future_counts));
    REQUIRE(future_counts.drops() == 0);

    REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
    REQUIRE(future_counts.drops() == 1);
    REQUIRE(take_output(handle) == 2);
    REQUIRE(future_counts.drops() == 1);
  }
  REQUIRE(future_counts.drops() == 1);  // not again when the executor goes
  REQUIRE(future_counts.live() == 0);
}

TEST_CASE(
    "Destroying the executor destroys each unfinished future exactly once, kept handle or not",
    "[local_executor]") {
  TraceRecorder recorder;
  LifeCounts kept_counts;
  LifeCounts detached_counts;
  std::optional<JoinHandle<void>> kept;
  {
    LocalExecutor ex(traced_virtual(recorder));
    kept.emplace(ex.spawn(PendingForever<void>(kept_counts)));
    (void)ex.spawn(PendingForever<void>(detached_counts));  // handle dropped at once: detached
    REQUIRE(report_text(ex.run()) == "stalled, 2 polls, stuck {1, 2}");
    REQUIRE(kept_counts.drops() == 0);
    REQUIRE(detached_counts.drops() == 0);
    recorder.clear();
  }
  REQUIRE(kept_counts.drops() == 1);
  REQUIRE(detached_counts.drops() == 1);
  REQUIRE(kept_counts.live() == 0);
  REQUIRE(detached_counts.live() == 0);
  REQUIRE(take_lines(recorder) == Lines{"[0ns] task 1 aborted", "[0ns] task 2 aborted"});

  // The handle outlives the executor and reports the cancellation.
  REQUIRE(kept->is_finished());
  REQUIRE_THROWS_MATCHES(take_output(*kept), pollscope::TaskAborted,
                         Catch::Matchers::Message("pollscope task 1 was aborted"));
}

TEST_CASE("A future that holds its own waker is freed when its executor is destroyed",
          "[local_executor]") {
  LifeCounts counts;
  {
    LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
    (void)ex.spawn(KeepsOwnWaker(counts));
    REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
    REQUIRE(counts.drops() == 0);
  }
  // The future (and with it the waker that kept its task alive) is gone;
  // LeakSanitizer checks that the task cell and the executor state were freed too.
  REQUIRE(counts.drops() == 1);
}

TEST_CASE("A task's output is destroyed by whoever took it from the JoinHandle",
          "[local_executor]") {
  LifeCounts outputs;
  LocalExecutor ex;
  JoinHandle<Tracked> handle = ex.spawn(make_tracked(outputs, 7));
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(outputs.live() == 1);  // stored in the task, waiting for the handle
  {
    Tracked taken = take_output(handle);
    REQUIRE(taken.value() == 7);
    REQUIRE(outputs.live() == 1);  // moved out, not copied
    REQUIRE(outputs.copies() == 0);
  }
  REQUIRE(outputs.drops() == 1);
  REQUIRE(outputs.live() == 0);
}

TEST_CASE("A task's output that nobody took is destroyed with the task, when its last handle goes",
          "[local_executor]") {
  LifeCounts dropped_handle_output;
  LifeCounts kept_handle_output;
  std::optional<JoinHandle<Tracked>> kept;
  {
    LocalExecutor ex;
    kept.emplace(ex.spawn(make_tracked(kept_handle_output, 1)));
    {
      JoinHandle<Tracked> dropped = ex.spawn(make_tracked(dropped_handle_output, 2));
      REQUIRE(report_text(ex.run()) == "completed, 4 polls, stuck {}");
      REQUIRE(dropped_handle_output.live() == 1);
    }
    REQUIRE(dropped_handle_output.drops() == 1);  // the handle was the last reference
    REQUIRE(kept_handle_output.live() == 1);
  }
  REQUIRE(kept_handle_output.live() == 1);  // the executor is gone, the handle still owns the task
  kept.reset();
  REQUIRE(kept_handle_output.drops() == 1);
  REQUIRE(kept_handle_output.live() == 0);
  REQUIRE(kept_handle_output.copies() == 0);
}

TEST_CASE("An exception thrown by a detached task is recorded in the trace", "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  (void)ex.spawn(Fails<int>("disk on fire", 1));

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 threw: disk on fire",
                                      "[0ns] task 1 complete",
                                  });
}

// --- timers --------------------------------------------------------------------------

TEST_CASE("On the virtual clock time jumps to the next deadline when nothing is runnable",
          "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Lines log;
  (void)ex.spawn(sleeper(ex, "sleeper", 5ms, log));

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(log == Lines{"sleeper@5ms"});
  REQUIRE(ex.now() == 5ms);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] waker of task 1 cloned (1 alive)",
                                      "[0ns] timer 1 set for task 1 at 5ms",
                                      "[0ns] poll task 1 -> Pending",
                                      "[5ms] timer 1 fired for task 1",
                                      "[5ms] task 1 woken by a timer",
                                      "[5ms] enqueue task 1 (queue: 1)",
                                      "[5ms] dequeue task 1 (queue: 0)",
                                      "[5ms] poll task 1",
                                      "[5ms] poll task 1 -> Ready",
                                      "[5ms] task 1 complete",
                                  });
}

TEST_CASE(
    "Timers fire in deadline order, ties in registration order, each at its exact virtual deadline",
    "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Lines log;
  (void)ex.spawn(sleeper(ex, "a", 30ms, log));
  (void)ex.spawn(sleeper(ex, "b", 10ms, log));
  (void)ex.spawn(sleeper(ex, "c", 10ms, log));
  (void)ex.spawn(sleeper(ex, "d", 1500us, log));

  REQUIRE(report_text(ex.run()) == "completed, 8 polls, stuck {}");
  REQUIRE(log == Lines{"d@1.5ms", "b@10ms", "c@10ms", "a@30ms"});
  REQUIRE(lines(pollscope_test::events_of(recorder.events(), EventKind::timer_fire)) ==
          Lines{
              "[1.5ms] timer 4 fired for task 4",
              "[10ms] timer 2 fired for task 2",
              "[10ms] timer 3 fired for task 3",
              "[30ms] timer 1 fired for task 1",
          });
}

TEST_CASE("On the real clock run() sleeps until the next deadline instead of polling",
          "[local_executor]") {
  LocalExecutor ex;  // real clock
  Lines log;
  (void)ex.spawn(sleeper(ex, "sleeper", 2ms, log));

  const auto start = std::chrono::steady_clock::now();
  REQUIRE(report_text(ex.run()) ==
          "completed, 2 polls, stuck {}");  // no busy re-polls while waiting
  REQUIRE(std::chrono::steady_clock::now() - start >= 2ms);
  REQUIRE(ex.now() >= 2ms);
  REQUIRE(log.size() == 1);
}

// --- stalls ----------------------------------------------------------------------------

TEST_CASE(
    "run() reports a stall at once, naming the unfinished tasks in spawn order, when no waker is "
    "alive",
    "[local_executor]") {
  TraceRecorder recorder;
  ExecutorOptions options;  // real clock: a stall must not wait for anything
  options.tracer = &recorder;
  LocalExecutor ex(options);
  JoinHandle<std::uint64_t> done_first = ex.spawn(pollscope::count(2));
  JoinHandle<int> lost_second = ex.spawn(ForgetsWaker(2));
  JoinHandle<std::uint64_t> done_third = ex.spawn(pollscope::count(1));
  JoinHandle<int> lost_fourth = ex.spawn(ForgetsWaker(4));

  REQUIRE(report_text(ex.run()) == "stalled, 5 polls, stuck {2, 4}");
  REQUIRE(done_first.is_finished());
  REQUIRE_FALSE(lost_second.is_finished());
  REQUIRE(done_third.is_finished());
  REQUIRE_FALSE(lost_fourth.is_finished());
  const Lines trace = pollscope_test::untimed_lines(recorder.events());
  REQUIRE(Lines(trace.end() - 2, trace.end()) == Lines{
                                                     "stalled: task 2 can never be woken",
                                                     "stalled: task 4 can never be woken",
                                                 });
}

TEST_CASE(
    "On the virtual clock run() reports a stall while a waker is alive but nothing can fire it",
    "[local_executor]") {
  LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
  Gate gate;  // the test owns the waker the task keeps
  JoinHandle<void> handle = ex.spawn(gate.wait());

  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(gate.holds_waker());
  REQUIRE_FALSE(handle.is_finished());

  // A stall is not the end: once woken, a later run() finishes the task.
  gate.open();
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(handle.is_finished());
}

TEST_CASE("A task awaiting a stuck task is stuck too, even on the real clock", "[local_executor]") {
  // Task 2's waker sits in task 1's JoinHandle slot: alive, but only task 1 could
  // fire it, so run() must not wait for it.
  LocalExecutor ex;
  JoinHandle<int> stuck = ex.spawn(ForgetsWaker(1));
  JoinHandle<int> awaiting = ex.spawn(std::move(stuck));

  REQUIRE(report_text(ex.run()) == "stalled, 2 polls, stuck {1, 2}");
  REQUIRE_FALSE(awaiting.is_finished());
}

// --- poll budget ---------------------------------------------------------------------

TEST_CASE(
    "With max_polls N run() stops after exactly N polls, leaving the tasks intact for a later "
    "run()",
    "[local_executor]") {
  TraceRecorder recorder;
  ExecutorOptions options = traced_virtual(recorder);
  options.max_polls = 5;
  LifeCounts second_future;
  LocalExecutor ex(options);
  JoinHandle<std::uint64_t> first = ex.spawn(pollscope::count(3));
  JoinHandle<std::uint64_t> second = ex.spawn(carrying(pollscope::count(4), second_future));

  // Polls 1, 2, 1, 2, 1: task 1 completes at the 5th poll, task 2 has had 2 of its 4.
  REQUIRE(report_text(ex.run()) == "budget exhausted, 5 polls, stuck {}");
  REQUIRE(first.is_finished());
  REQUIRE_FALSE(second.is_finished());
  REQUIRE(second_future.drops() == 0);
  REQUIRE(poll_order(recorder.events()) == std::vector<TaskId>{1, 2, 1, 2, 1});
  REQUIRE(lines(recorder.events()).back() == "[0ns] budget exhausted after 5 polls");
  recorder.clear();

  // The budget is per run() call.
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(poll_order(recorder.events()) == std::vector<TaskId>{2, 2});
  REQUIRE(second_future.drops() == 1);
  REQUIRE(take_output(first) == 3);
  REQUIRE(take_output(second) == 4);
}

TEST_CASE("A budget of exactly the polls needed completes the run", "[local_executor]") {
  LocalExecutor ex(ExecutorOptions{.max_polls = 7});
  (void)ex.spawn(pollscope::count(3));
  (void)ex.spawn(pollscope::count(4));
  REQUIRE(report_text(ex.run()) == "completed, 7 polls, stuck {}");
}

// --- reentrancy ----------------------------------------------------------------------

TEST_CASE("run() called from inside one of the executor's tasks throws std::logic_error",
          "[local_executor]") {
  LocalExecutor ex;
  std::string error;
  JoinHandle<void> handle = ex.spawn(runs_its_executor(ex, error));

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(error == "LocalExecutor::run() called from inside one of its own tasks");
  REQUIRE(handle.is_finished());
}

TEST_CASE(
    "block_on() called from inside one of the executor's tasks throws std::logic_error and leaves "
    "no task behind",
    "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  std::string error;
  (void)ex.spawn(blocks_on_its_executor(ex, error));

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(error == "LocalExecutor::run() called from inside one of its own tasks");
  // The task block_on spawned for the caller's future is aborted before the
  // exception leaves block_on: that future (a temporary) is gone by then.
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] spawn task 2 (from task 1)",
                                      "[0ns] enqueue task 2 (queue: 1)",
                                      "[0ns] task 2 aborted",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
}

// --- block_on ------------------------------------------------------------------------

TEST_CASE("LocalExecutor::block_on runs the other tasks meanwhile and returns the future's output",
          "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<std::uint64_t> other = ex.spawn(pollscope::count(5));

  REQUIRE(ex.block_on(pollscope::count(2)) == 2);
  REQUIRE(poll_order(recorder.events()) == std::vector<TaskId>{1, 2, 1, 2});
  REQUIRE_FALSE(other.is_finished());  // it stays queued
  recorder.clear();

  REQUIRE(report_text(ex.run()) == "completed, 3 polls, stuck {}");
  REQUIRE(poll_order(recorder.events()) == std::vector<TaskId>{1, 1, 1});
  REQUIRE(take_output(other) == 5);
}

TEST_CASE("LocalExecutor::block_on polls a future passed by reference in place",
          "[local_executor]") {
  LocalExecutor ex;
  pollscope::Count counter = pollscope::count(4);
  REQUIRE(ex.block_on(counter) == 4);
  REQUIRE(counter.polls() == 4);
}

TEST_CASE("LocalExecutor::block_on throws RunError carrying the report when the run stalls",
          "[local_executor]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  ForgetsWaker lost(1);

  try {
    (void)ex.block_on(lost);
    FAIL("block_on returned");
  } catch (const RunError& e) {
    REQUIRE(report_text(e.report()) == "stalled, 1 polls, stuck {1}");
    REQUIRE(std::string(e.what()) == "pollscope run ended stalled after 1 polls; stuck tasks: 1");
  }
  REQUIRE(lost.polls() == 1);  // the future is the caller's, and no longer polled by the executor
  REQUIRE(lines(recorder.events()).back() == "[0ns] task 1 aborted");
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
}

TEST_CASE(
    "LocalExecutor::block_on throws RunError on budget exhaustion, and the caller's future can be "
    "driven on",
    "[local_executor]") {
  LocalExecutor ex(ExecutorOptions{.max_polls = 3});
  pollscope::Count counter = pollscope::count(10);

  for (int attempt = 1; attempt <= 3; ++attempt) {
    try {
      (void)ex.block_on(counter);
      FAIL("block_on returned");
    } catch (const RunError& e) {
      REQUIRE(report_text(e.report()) == "budget exhausted, 3 polls, stuck {}");
      REQUIRE(std::string(e.what()) == "pollscope run ended budget exhausted after 3 polls");
    }
    REQUIRE(counter.polls() == static_cast<std::uint64_t>(3 * attempt));
  }
  REQUIRE(ex.block_on(counter) == 10);
  REQUIRE(counter.polls() == 10);
}

TEST_CASE("LocalExecutor::block_on rethrows the future's exception", "[local_executor]") {
  LocalExecutor ex;
  REQUIRE_THROWS_MATCHES(ex.block_on(Fails<int>("bad input", 2)), std::runtime_error,
                         Catch::Matchers::Message("bad input"));
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
}

// --- the task state machine, step by step ---------------------------------------------
// Each test drives one transition of a task's state (detail/task.hpp) on a
// LocalExecutor, mostly one poll per run() (max_polls = 1), and asserts the state bits
// and both halves of the counts after every step. References: the handle's, the
// registry's (which also backs the queue entry and each poll), one per live Waker, and
// one per wake from outside run() not yet picked up. The table in
// docs/hardening-notes.md maps each transition to its test.

namespace {

using pollscope::TaskAborted;
using pollscope::detail::TaskHeader;
using pollscope_test::counts_text;
using pollscope_test::CountingWaker;
using pollscope_test::state_text;
using pollscope_test::Steps;
using pollscope_test::task_of;
using pollscope_test::WakerCalls;

ExecutorOptions one_poll_per_run() {
  ExecutorOptions options;
  options.virtual_clock = true;
  options.max_polls = 1;
  return options;
}

Poll<int> stays_pending(Context&) { return pollscope::pending; }

/// "<state>; <counts>" of a task.
std::string snapshot(const TaskHeader* t) { return state_text(t) + "; " + counts_text(t); }

}  // namespace

TEST_CASE("A spawned LocalExecutor task is SCHEDULED with two references, its handle's and the registry's, and "
          "no live waker",
          "[local_executor][task_state]") {
  LifeCounts futures;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> first = ex.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(1); }}));
  JoinHandle<int> second = ex.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(2); }}));
  REQUIRE(snapshot(task_of(first)) == "SCHEDULED; refs 2, wakers 0");
  REQUIRE(snapshot(task_of(second)) == "SCHEDULED; refs 2, wakers 0");
  REQUIRE(task_of(first)->id == 1);
  REQUIRE(task_of(second)->id == 2);
  REQUIRE(futures.live() == 2);

  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");  // FIFO: the first one
  REQUIRE(snapshot(task_of(first)) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(snapshot(task_of(second)) == "SCHEDULED; refs 2, wakers 0");
}

TEST_CASE("A dequeued task is RUNNING during its poll with the lent waker uncounted; a Pending poll nobody woke "
          "leaves it idle and out of the queue",
          "[local_executor][task_state]") {
  LifeCounts futures;
  std::string in_poll;
  TaskHeader* t = nullptr;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      in_poll = snapshot(t) + "; live " +
                                                                std::to_string(t->live_wakers()) + "; lent " +
                                                                (cx.waker().as_raw().data == t ? "yes" : "no");
                                                      return pollscope::pending;
                                                    }}));
  t = task_of(handle);

  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(in_poll == "RUNNING; refs 2, wakers 0; live 0; lent yes");
  REQUIRE(snapshot(t) == "idle; refs 2, wakers 0");
  REQUIRE(report_text(ex.run()) == "stalled, 0 polls, stuck {1}");  // not queued: not polled
  REQUIRE(snapshot(t) == "idle; refs 2, wakers 0");
  REQUIRE(futures.live() == 1);
}

TEST_CASE("A wake of an idle task inside run() sets SCHEDULED and queues it; a second wake of the SCHEDULED task "
          "changes nothing, and it is polled exactly once",
          "[local_executor][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  TaskHeader* waiting = nullptr;
  Lines seen;
  int waiting_polls = 0;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> first = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                     ++waiting_polls;
                                                     kept.emplace(cx.waker());
                                                     return pollscope::pending;
                                                   },
                                                   [&](Context&) -> Poll<int> {
                                                     ++waiting_polls;
                                                     return pollscope::ready(1);
                                                   }}));
  JoinHandle<int> second = ex.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                      kept->wake_by_ref();
                                                      seen.push_back(snapshot(waiting));
                                                      kept->wake_by_ref();
                                                      seen.push_back(snapshot(waiting));
                                                      return pollscope::ready(2);
                                                    }}));
  waiting = task_of(first);

  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(snapshot(waiting) == "idle; refs 3, wakers 1");  // handle, registry, kept waker
  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(seen == Lines{"SCHEDULED; refs 3, wakers 1", "SCHEDULED; refs 3, wakers 1"});
  REQUIRE(snapshot(waiting) == "SCHEDULED; refs 3, wakers 1");
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(waiting_polls == 2);
  // Queued twice, the second entry would have dropped a reference it does not own.
  REQUIRE(snapshot(waiting) == "COMPLETED; refs 2, wakers 1");
  kept.reset();
  REQUIRE(snapshot(waiting) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(take_output(first) == 1);
}

TEST_CASE("A wake of an idle task from outside run() leaves its state to run(): it holds a reference of its "
          "own until the next run() makes the task SCHEDULED and queues it",
          "[local_executor][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      kept.emplace(cx.waker());
                                                      return pollscope::pending;
                                                    },
                                                    [](Context&) -> Poll<int> { return pollscope::ready(3); }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(snapshot(t) == "idle; refs 3, wakers 1");

  SECTION("by wake_by_ref") {
    kept->wake_by_ref();
    REQUIRE(snapshot(t) == "idle; refs 4, wakers 1");  // + the pending wake's reference
    kept->wake_by_ref();                                // already pending: nothing
    REQUIRE(snapshot(t) == "idle; refs 4, wakers 1");
    REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
    REQUIRE(snapshot(t) == "COMPLETED; refs 2, wakers 1");
  }
  SECTION("by wake, which consumes the waker") {
    std::move(*kept).wake();
    REQUIRE(snapshot(t) == "idle; refs 3, wakers 0");
    REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
    REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  }
  REQUIRE(take_output(handle) == 3);
}

TEST_CASE("A wake of a running task sets SCHEDULED and the task is polled exactly once more",
          "[local_executor][task_state]") {
  LifeCounts futures;
  TaskHeader* t = nullptr;
  Lines seen;
  int polls = 0;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      ++polls;
                                                      cx.waker().wake_by_ref();
                                                      seen.push_back(snapshot(t));
                                                      cx.waker().wake_by_ref();
                                                      seen.push_back(snapshot(t));
                                                      Waker clone = cx.waker();
                                                      seen.push_back(snapshot(t));
                                                      std::move(clone).wake();
                                                      seen.push_back(snapshot(t));
                                                      return pollscope::pending;
                                                    },
                                                    [&](Context&) -> Poll<int> {
                                                      ++polls;
                                                      seen.push_back(snapshot(t));
                                                      return pollscope::ready(4);
                                                    }}));
  t = task_of(handle);

  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(seen == Lines{
                      "SCHEDULED|RUNNING; refs 2, wakers 0",
                      "SCHEDULED|RUNNING; refs 2, wakers 0",
                      "SCHEDULED|RUNNING; refs 3, wakers 1",
                      "SCHEDULED|RUNNING; refs 2, wakers 0",
                  });
  REQUIRE(snapshot(t) == "SCHEDULED; refs 2, wakers 0");  // re-queued once by its poller
  seen.clear();
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(seen == Lines{"RUNNING; refs 2, wakers 0"});
  REQUIRE(polls == 2);
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
}

TEST_CASE("A Ready poll makes the task COMPLETED, wakes its awaiter, drops the registry's reference and destroys "
          "the future; taking the output drops the handle's",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      kept.emplace(cx.waker());
                                                      return pollscope::ready(7);
                                                    }}));
  TaskHeader* t = task_of(handle);
  CountingWaker awaiter;
  const Waker awaiter_waker = awaiter.waker();
  Context awaiter_cx(awaiter_waker);
  REQUIRE(handle.poll(awaiter_cx).is_pending());
  REQUIRE(awaiter.calls() == WakerCalls{1, 0, 0, 0});

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 2, wakers 1");  // the handle's and the kept waker's
  REQUIRE(futures.drops() == 1);
  REQUIRE(awaiter.calls() == WakerCalls{1, 1, 0, 0});  // the stored clone, consumed by wake()
  REQUIRE(handle.is_finished());

  REQUIRE(handle.poll(awaiter_cx).value() == 7);
  REQUIRE(task_of(handle) == nullptr);
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 1");  // only the kept waker holds the cell
  REQUIRE(handle.is_finished());
  REQUIRE(awaiter.calls() == WakerCalls{1, 1, 0, 0});
  kept.reset();  // frees the cell (ASan checks)
}

TEST_CASE("A poll that throws makes the task COMPLETED with the exception stored, which awaiting rethrows",
          "[local_executor][task_state]") {
  LifeCounts futures;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(
      Steps(futures, {[](Context&) -> Poll<int> { throw std::invalid_argument("step failed"); }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  auto* cell = static_cast<pollscope::detail::TaskOutput<int>*>(t);
  REQUIRE_FALSE(cell->output.has_value());
  REQUIRE(cell->error != nullptr);
  REQUIRE_THROWS_MATCHES(take_output(handle), std::invalid_argument, Catch::Matchers::Message("step failed"));
}

TEST_CASE("A wake of a COMPLETED task, from inside or outside run(), changes neither its state nor its counts",
          "[local_executor][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> done = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                    kept.emplace(cx.waker());
                                                    return pollscope::ready(1);
                                                  }}));
  TaskHeader* t = task_of(done);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 2, wakers 1");

  kept->wake_by_ref();  // outside run()
  REQUIRE(snapshot(t) == "COMPLETED; refs 2, wakers 1");
  std::string inside;
  JoinHandle<int> waker_task = ex.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                          kept->wake_by_ref();  // inside run()
                                                          inside = snapshot(t);
                                                          return pollscope::ready(2);
                                                        }}));
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(inside == "COMPLETED; refs 2, wakers 1");
  std::move(*kept).wake();  // only the waker's own reference goes
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(take_output(done) == 1);
}

TEST_CASE("abort() of an idle task makes it CLOSED, destroys its future, wakes its awaiter and drops the "
          "registry's reference before it returns; later wakes change nothing",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      kept.emplace(cx.waker());
                                                      return pollscope::pending;
                                                    }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  CountingWaker awaiter;
  const Waker awaiter_waker = awaiter.waker();
  Context awaiter_cx(awaiter_waker);
  REQUIRE(handle.poll(awaiter_cx).is_pending());
  REQUIRE(snapshot(t) == "idle; refs 3, wakers 1");

  handle.abort();
  REQUIRE(snapshot(t) == "CLOSED; refs 2, wakers 1");
  REQUIRE(futures.drops() == 1);
  REQUIRE(awaiter.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(handle.is_finished());

  kept->wake_by_ref();
  REQUIRE(snapshot(t) == "CLOSED; refs 2, wakers 1");
  handle.abort();  // again: nothing
  REQUIRE(snapshot(t) == "CLOSED; refs 2, wakers 1");
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  REQUIRE_THROWS_AS(handle.poll(awaiter_cx), TaskAborted);
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 1");
}

TEST_CASE("abort() of a queued task makes it SCHEDULED|CLOSED and destroys its future; the queue entry keeps the "
          "registry's reference until run() pops it, without a poll",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {stays_pending}));
  TaskHeader* t = task_of(handle);
  handle.abort();
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 2, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(handle.is_finished());

  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  // The entry was dropped with its reference; the stale SCHEDULED bit is harmless on a
  // finished task (nothing can set or read it as "queued" any more).
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 1, wakers 0");
  REQUIRE_THROWS_AS(take_output(handle), TaskAborted);
}

TEST_CASE("abort() during the task's own poll sets CLOSED while RUNNING and keeps the future until the poll "
          "returns Pending; then the task is CLOSED, its future destroyed and the registry's reference dropped",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<JoinHandle<int>> handle;
  TaskHeader* t = nullptr;
  std::string in_poll;
  LocalExecutor ex(one_poll_per_run());
  handle.emplace(ex.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                            handle->abort();
                                            in_poll = snapshot(t) + "; future drops " +
                                                      std::to_string(futures.drops()) + "; finished " +
                                                      (handle->is_finished() ? "yes" : "no");
                                            return pollscope::pending;
                                          }})));
  t = task_of(*handle);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(in_poll == "RUNNING|CLOSED; refs 2, wakers 0; future drops 0; finished yes");
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE_THROWS_AS(take_output(*handle), TaskAborted);
}

TEST_CASE("A task woken and then aborted during its own poll is CLOSED after it and never polled again",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<JoinHandle<int>> handle;
  TaskHeader* t = nullptr;
  std::string in_poll;
  LocalExecutor ex(one_poll_per_run());
  handle.emplace(ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                            cx.waker().wake_by_ref();
                                            handle->abort();
                                            in_poll = snapshot(t);
                                            return pollscope::pending;
                                          }})));
  t = task_of(*handle);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");  // a second poll would throw out_of_range
  REQUIRE(in_poll == "SCHEDULED|RUNNING|CLOSED; refs 2, wakers 0");
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
}

TEST_CASE("abort() during a poll that returns Ready loses: the task is COMPLETED, not CLOSED, and its output "
          "stands",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<JoinHandle<int>> handle;
  TaskHeader* t = nullptr;
  std::string in_poll;
  LocalExecutor ex(one_poll_per_run());
  handle.emplace(ex.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                            handle->abort();
                                            in_poll = snapshot(t);
                                            return pollscope::ready(5);
                                          }})));
  t = task_of(*handle);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(in_poll == "RUNNING|CLOSED; refs 2, wakers 0");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(take_output(*handle) == 5);
}

TEST_CASE("abort() of a COMPLETED task changes nothing: state, counts and output stay",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(6); }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  handle.abort();
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(take_output(handle) == 6);
}

TEST_CASE("abort() of a task whose wake from outside run() is pending makes it CLOSED and drops the registry's "
          "reference; run() drops the pending wake's without a poll",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      kept.emplace(cx.waker());
                                                      return pollscope::pending;
                                                    }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  kept->wake_by_ref();
  REQUIRE(snapshot(t) == "idle; refs 4, wakers 1");

  handle.abort();
  REQUIRE(snapshot(t) == "CLOSED; refs 3, wakers 1");
  REQUIRE(futures.drops() == 1);
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");  // a poll would throw out_of_range
  REQUIRE(snapshot(t) == "CLOSED; refs 2, wakers 1");
  kept.reset();
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
}

TEST_CASE("Destroying the executor closes idle, queued and remotely woken tasks, releasing every reference it "
          "held; wakes afterwards change nothing",
          "[local_executor][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept_idle;
  std::optional<Waker> kept_woken;
  std::optional<JoinHandle<int>> idle;
  std::optional<JoinHandle<int>> woken;
  std::optional<JoinHandle<int>> queued;
  {
    LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
    idle.emplace(ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                            kept_idle.emplace(cx.waker());
                                            return pollscope::pending;
                                          }})));
    woken.emplace(ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                             kept_woken.emplace(cx.waker());
                                             return pollscope::pending;
                                           }})));
    REQUIRE(report_text(ex.run()) == "stalled, 2 polls, stuck {1, 2}");
    queued.emplace(ex.spawn(Steps(futures, {stays_pending})));
    kept_woken->wake_by_ref();
    REQUIRE(snapshot(task_of(*idle)) == "idle; refs 3, wakers 1");
    REQUIRE(snapshot(task_of(*woken)) == "idle; refs 4, wakers 1");  // + the pending wake's reference
    REQUIRE(snapshot(task_of(*queued)) == "SCHEDULED; refs 2, wakers 0");
    REQUIRE(futures.live() == 3);
  }
  REQUIRE(futures.drops() == 3);
  REQUIRE(snapshot(task_of(*idle)) == "CLOSED; refs 2, wakers 1");
  REQUIRE(snapshot(task_of(*woken)) == "CLOSED; refs 2, wakers 1");
  REQUIRE(snapshot(task_of(*queued)) == "SCHEDULED|CLOSED; refs 1, wakers 0");

  kept_idle->wake_by_ref();
  kept_woken->wake_by_ref();
  REQUIRE(snapshot(task_of(*idle)) == "CLOSED; refs 2, wakers 1");
  REQUIRE(snapshot(task_of(*woken)) == "CLOSED; refs 2, wakers 1");
  std::move(*kept_woken).wake();
  REQUIRE(snapshot(task_of(*woken)) == "CLOSED; refs 1, wakers 0");
  REQUIRE_THROWS_AS(take_output(*idle), TaskAborted);
  REQUIRE_THROWS_AS(take_output(*woken), TaskAborted);
  REQUIRE_THROWS_AS(take_output(*queued), TaskAborted);
  kept_idle.reset();  // the last reference of a task whose executor is gone (ASan checks)
}

TEST_CASE("Polling the handle of an unfinished task stores one clone of the awaiter's waker; the same waker again "
          "clones nothing; another waker replaces it, and the old clone is dropped",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> handle = ex.spawn(Steps(futures, {stays_pending, [](Context&) -> Poll<int> {
                                                      return pollscope::ready(8);
                                                    }}));
  TaskHeader* t = task_of(handle);
  CountingWaker first;
  CountingWaker second;
  const Waker first_waker = first.waker();
  const Waker second_waker = second.waker();
  Context first_cx(first_waker);
  Context second_cx(second_waker);

  REQUIRE(handle.poll(first_cx).is_pending());
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(handle.poll(first_cx).is_pending());
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 0});  // will_wake: kept as it is
  REQUIRE(handle.poll(second_cx).is_pending());
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 1});
  REQUIRE(snapshot(t) == "SCHEDULED; refs 2, wakers 0");  // a foreign awaiter is no waker of the task

  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 0});  // not woken by a Pending poll
  handle.abort();  // (the quickest way to finish it) wakes the stored awaiter
  REQUIRE(second.calls() == WakerCalls{1, 1, 0, 0});
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 1});
}

TEST_CASE("Dropping the handle of an unfinished task detaches it: its stored awaiter is dropped unwoken and the "
          "handle's reference released; the task still completes",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  std::optional<JoinHandle<int>> handle;
  handle.emplace(ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                            kept.emplace(cx.waker());
                                            return pollscope::pending;
                                          },
                                          [](Context&) -> Poll<int> { return pollscope::ready(9); }})));
  TaskHeader* t = task_of(*handle);
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
  CountingWaker awaiter;
  const Waker awaiter_waker = awaiter.waker();
  Context awaiter_cx(awaiter_waker);
  REQUIRE(handle->poll(awaiter_cx).is_pending());
  REQUIRE(snapshot(t) == "idle; refs 3, wakers 1");

  handle.reset();
  REQUIRE(awaiter.calls() == WakerCalls{1, 0, 0, 1});
  REQUIRE(snapshot(t) == "idle; refs 2, wakers 1");
  kept->wake_by_ref();
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 1");  // the output waits in the cell for nobody
  REQUIRE(futures.drops() == 1);
  kept.reset();  // frees the cell and the unclaimed output (ASan checks)
}

TEST_CASE("A task awaiting another's handle counts one live waker, held in the awaited task's slot, until that "
          "task completes and wakes it",
          "[local_executor][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  LocalExecutor ex(one_poll_per_run());
  JoinHandle<int> awaited = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                       kept.emplace(cx.waker());
                                                       return pollscope::pending;
                                                     },
                                                     [](Context&) -> Poll<int> { return pollscope::ready(10); }}));
  TaskHeader* a = task_of(awaited);
  JoinHandle<int> awaiting = ex.spawn(std::move(awaited));
  TaskHeader* b = task_of(awaiting);

  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1, 2}");
  REQUIRE(snapshot(b) == "idle; refs 3, wakers 1");  // its waker sits in a's awaiter slot
  REQUIRE(snapshot(a) == "idle; refs 3, wakers 1");  // b's handle, the registry, kept

  kept->wake_by_ref();
  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");  // a completes, wakes b
  REQUIRE(snapshot(a) == "COMPLETED; refs 2, wakers 1");
  REQUIRE(snapshot(b) == "SCHEDULED; refs 2, wakers 0");
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_output(awaiting) == 10);
  REQUIRE(snapshot(a) == "COMPLETED; refs 1, wakers 1");  // b took the output and dropped its handle
  kept.reset();
}
