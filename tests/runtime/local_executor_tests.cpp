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
