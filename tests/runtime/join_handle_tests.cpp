// Tests for pollscope/join_handle.hpp: JoinHandle<T> as a future of a task's
// output, detaching, abort(), is_finished(), id(), join() and awaiting twice.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/count.hpp>
#include <pollscope/join_handle.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using pollscope::Async;
using pollscope::Context;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::LocalExecutor;
using pollscope::Poll;
using pollscope::TaskAborted;
using pollscope::TaskId;
using pollscope::TraceRecorder;
using pollscope_test::carrying;
using pollscope_test::Gate;
using pollscope_test::LifeCounts;
using pollscope_test::report_text;
using pollscope_test::take_lines;
using pollscope_test::take_output;
using pollscope_test::Tracked;
using Lines = std::vector<std::string>;

namespace {

constexpr const char* kSecondAwait = "pollscope::JoinHandle awaited or joined a second time";

ExecutorOptions traced_virtual(TraceRecorder& recorder) {
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  return options;
}

Async<int> half_after_yield(int doubled) {
  co_await pollscope::yield_now();
  co_return doubled / 2;
}

Async<int> twice(JoinHandle<int> handle) {
  const int value = co_await std::move(handle);
  co_return value * 2;
}

Async<> sets_after_yield(int& flag) {
  co_await pollscope::yield_now();
  flag = 1;
}

// Awaits `handle` (by reference) and says how that went.
Async<std::string> outcome_of(JoinHandle<void>& handle) {
  try {
    co_await handle;
    co_return "completed";
  } catch (const TaskAborted& e) {
    co_return e.what();
  }
}

Async<> aborts(std::optional<JoinHandle<std::uint64_t>>& victim, const LifeCounts& victim_counts,
               int& drops_seen) {
  victim->abort();
  drops_seen = victim_counts.drops();
  co_return;
}

Async<int> throws_out_of_range() {
  co_await pollscope::yield_now();
  throw std::out_of_range("index 7 is out of range");
}

// Aborts its own task through `handle` during its poll, wakes itself, then returns
// Ready(5) if `then_ready`, else Pending. Records the drops of its token seen then.
class AbortsItself {
 public:
  using Output = int;
  AbortsItself(std::optional<JoinHandle<int>>& handle, LifeCounts& counts, bool then_ready,
               int& drops_seen)
      : handle_(&handle),
        counts_(&counts),
        then_ready_(then_ready),
        drops_seen_(&drops_seen),
        token_(counts) {}
  Poll<int> poll(Context& cx) {
    (*handle_)->abort();
    cx.waker().wake_by_ref();
    *drops_seen_ = counts_->drops();
    if (then_ready_) return pollscope::ready(5);
    return pollscope::pending;
  }

 private:
  std::optional<JoinHandle<int>>* handle_;
  LifeCounts* counts_;
  bool then_ready_;
  int* drops_seen_;
  Tracked token_;
};

}  // namespace

TEST_CASE("A JoinHandle is a future of the task's output that another task can await",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<int> first = ex.spawn(half_after_yield(42));
  JoinHandle<int> second = ex.spawn(twice(std::move(first)));

  REQUIRE(report_text(ex.run()) == "completed, 4 polls, stuck {}");
  REQUIRE(take_output(second) == 42);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] spawn task 2",
                                      "[0ns] enqueue task 2 (queue: 2)",
                                      "[0ns] dequeue task 1 (queue: 1)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] enqueue task 1 (queue: 2)",
                                      "[0ns] dequeue task 2 (queue: 1)",
                                      "[0ns] poll task 2",
                                      "[0ns] waker of task 2 cloned (1 alive)",
                                      "[0ns] poll task 2 -> Pending",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                      "[0ns] task 2 woken by task 1",
                                      "[0ns] enqueue task 2 (queue: 1)",
                                      "[0ns] dequeue task 2 (queue: 0)",
                                      "[0ns] poll task 2",
                                      "[0ns] poll task 2 -> Ready",
                                      "[0ns] task 2 complete",
                                  });
}

TEST_CASE("Dropping a JoinHandle detaches the task, which keeps running and completes",
          "[join_handle]") {
  LocalExecutor ex;
  LifeCounts future_counts;
  int flag = 0;
  { JoinHandle<void> dropped = ex.spawn(carrying(sets_after_yield(flag), future_counts)); }
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(flag == 1);
  REQUIRE(future_counts.drops() == 1);
}

TEST_CASE("Move-assigning a JoinHandle detaches the task it held", "[join_handle]") {
  LocalExecutor ex;
  JoinHandle<std::uint64_t> handle = ex.spawn(pollscope::count(2));
  handle = ex.spawn(pollscope::count(3));
  REQUIRE(handle.id() == 2);

  REQUIRE(report_text(ex.run()) == "completed, 5 polls, stuck {}");
  REQUIRE(take_output(handle) == 3);
}

TEST_CASE("abort() on a queued task destroys its future before abort() returns", "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  LifeCounts future_counts;
  JoinHandle<std::uint64_t> handle = ex.spawn(carrying(pollscope::count(3), future_counts));
  REQUIRE_FALSE(handle.is_finished());

  handle.abort();
  REQUIRE(future_counts.drops() == 1);
  REQUIRE(handle.is_finished());
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] task 1 aborted",
                                  });

  handle.abort();  // a second abort changes nothing
  REQUIRE(future_counts.drops() == 1);
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(recorder.size() == 0);  // the queue entry is skipped without a trace

  try {
    (void)take_output(handle);
    FAIL("awaiting an aborted task returned");
  } catch (const TaskAborted& e) {
    REQUIRE(std::string(e.what()) == "pollscope task 1 was aborted");
    REQUIRE(e.task() == 1);
  }
}

TEST_CASE("abort() on a task waiting for a wake destroys its future at once", "[join_handle]") {
  LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
  LifeCounts future_counts;
  Gate gate;
  JoinHandle<void> handle = ex.spawn(carrying(gate.wait(), future_counts));
  REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");

  handle.abort();
  REQUIRE(future_counts.drops() == 1);
  REQUIRE(handle.is_finished());
  gate.open();  // its kept waker now wakes an aborted task
  REQUIRE(report_text(ex.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(gate.polls() == 1);
}

TEST_CASE("A task that aborts itself during its poll is stopped right after that poll",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  LifeCounts future_counts;
  int drops_seen_in_poll = -1;
  std::optional<JoinHandle<int>> handle;
  handle.emplace(
      ex.spawn(AbortsItself(handle, future_counts, /*then_ready=*/false, drops_seen_in_poll)));

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(drops_seen_in_poll == 0);  // not destroyed while it was being polled
  REQUIRE(future_counts.drops() == 1);
  REQUIRE(handle->is_finished());
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Pending (woke itself)",
                                      "[0ns] task 1 aborted",
                                  });
  REQUIRE_THROWS_MATCHES(take_output(*handle), TaskAborted,
                         Catch::Matchers::Message("pollscope task 1 was aborted"));
}

TEST_CASE("A task that aborts itself in a poll that completes it keeps its output",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  LifeCounts future_counts;
  int drops_seen_in_poll = -1;
  std::optional<JoinHandle<int>> handle;
  handle.emplace(
      ex.spawn(AbortsItself(handle, future_counts, /*then_ready=*/true, drops_seen_in_poll)));

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(drops_seen_in_poll == 0);
  REQUIRE(future_counts.drops() == 1);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] dequeue task 1 (queue: 0)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 1 woken by itself (wake_by_ref)",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
  REQUIRE(take_output(*handle) == 5);
}

TEST_CASE("A task can abort another, queued task from its poll, destroying that future at once",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  LifeCounts victim_counts;
  int drops_seen_in_poll = -1;
  std::optional<JoinHandle<std::uint64_t>> victim;
  JoinHandle<void> aborter = ex.spawn(aborts(victim, victim_counts, drops_seen_in_poll));
  victim.emplace(ex.spawn(carrying(pollscope::count(3), victim_counts)));

  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(drops_seen_in_poll == 1);
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] spawn task 1",
                                      "[0ns] enqueue task 1 (queue: 1)",
                                      "[0ns] spawn task 2",
                                      "[0ns] enqueue task 2 (queue: 2)",
                                      "[0ns] dequeue task 1 (queue: 1)",
                                      "[0ns] poll task 1",
                                      "[0ns] task 2 aborted",
                                      "[0ns] poll task 1 -> Ready",
                                      "[0ns] task 1 complete",
                                  });
}

TEST_CASE("Aborting a task wakes the task awaiting its handle, which gets TaskAborted",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  Gate gate;
  JoinHandle<void> waiting = ex.spawn(gate.wait());
  JoinHandle<std::string> awaiting = ex.spawn(outcome_of(waiting));
  REQUIRE(report_text(ex.run()) == "stalled, 2 polls, stuck {1, 2}");
  recorder.clear();

  waiting.abort();
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_output(awaiting) == "pollscope task 1 was aborted");
  REQUIRE(take_lines(recorder) == Lines{
                                      "[0ns] task 1 aborted",
                                      "[0ns] task 2 woken by code outside any task",
                                      "[0ns] enqueue task 2 (queue: 1)",
                                      "[0ns] dequeue task 2 (queue: 0)",
                                      "[0ns] poll task 2",
                                      "[0ns] poll task 2 -> Ready",
                                      "[0ns] task 2 complete",
                                  });
}

TEST_CASE("is_finished() turns true at the poll that completes the task", "[join_handle]") {
  LocalExecutor ex(ExecutorOptions{.max_polls = 1});
  JoinHandle<std::uint64_t> handle = ex.spawn(pollscope::count(3));

  REQUIRE_FALSE(handle.is_finished());
  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE_FALSE(handle.is_finished());
  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE_FALSE(handle.is_finished());
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(handle.is_finished());
  REQUIRE(take_output(handle) == 3);
  REQUIRE(handle.is_finished());  // still true once the output was taken
}

TEST_CASE("Each JoinHandle's id() is unique, never 0, and names its task in the trace",
          "[join_handle]") {
  TraceRecorder recorder;
  LocalExecutor ex(traced_virtual(recorder));
  JoinHandle<std::uint64_t> a = ex.spawn(pollscope::count(1));
  JoinHandle<void> b = ex.spawn(pollscope::yield_now());
  JoinHandle<std::uint64_t> c = ex.spawn(pollscope::count(2));
  REQUIRE(report_text(ex.run()) == "completed, 5 polls, stuck {}");

  std::vector<TaskId> spawned;
  for (const auto& e : pollscope_test::events_of(recorder.events(), EventKind::spawn))
    spawned.push_back(e.task);
  REQUIRE(std::vector<TaskId>{a.id(), b.id(), c.id()} == spawned);
  REQUIRE(spawned == std::vector<TaskId>{1, 2, 3});
  std::vector<TaskId> completed;
  for (const auto& e : pollscope_test::events_of(recorder.events(), EventKind::complete))
    completed.push_back(e.task);
  REQUIRE(completed == std::vector<TaskId>{a.id(), b.id(), c.id()});
}

TEST_CASE("join() on a LocalExecutor task throws std::logic_error instead of deadlocking",
          "[join_handle]") {
  LocalExecutor ex;
  JoinHandle<std::uint64_t> handle = ex.spawn(pollscope::count(2));

  REQUIRE_THROWS_MATCHES(
      handle.join(), std::logic_error,
      Catch::Matchers::Message("JoinHandle::join() would block the only thread that runs this "
                               "task; co_await the handle or use LocalExecutor::block_on(handle)"));
  // The handle is untouched, and the advice in the message works.
  REQUIRE_FALSE(handle.is_finished());
  REQUIRE(ex.block_on(handle) == 2);
}

TEST_CASE("Awaiting or joining a JoinHandle a second time throws std::logic_error",
          "[join_handle]") {
  LocalExecutor ex;
  JoinHandle<std::uint64_t> handle = ex.spawn(pollscope::count(1));
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_output(handle) == 1);

  REQUIRE_THROWS_MATCHES(take_output(handle), std::logic_error,
                         Catch::Matchers::Message(kSecondAwait));
  REQUIRE_THROWS_MATCHES(handle.join(), std::logic_error, Catch::Matchers::Message(kSecondAwait));
  REQUIRE(handle.id() == 1);  // the id outlives the output
}

TEST_CASE(
    "A moved-from JoinHandle throws std::logic_error when awaited, while the moved-to one works",
    "[join_handle]") {
  LocalExecutor ex;
  JoinHandle<std::uint64_t> original = ex.spawn(pollscope::count(1));
  JoinHandle<std::uint64_t> moved = std::move(original);
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");

  REQUIRE(moved.id() == 1);
  REQUIRE(take_output(moved) == 1);
  REQUIRE_THROWS_MATCHES(take_output(original), std::logic_error,
                         Catch::Matchers::Message(kSecondAwait));
}

TEST_CASE(
    "Awaiting the handle of a task that threw rethrows the task's exception, type and message",
    "[join_handle]") {
  LocalExecutor ex;
  JoinHandle<int> handle = ex.spawn(throws_out_of_range());
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(handle.is_finished());
  REQUIRE_THROWS_MATCHES(take_output(handle), std::out_of_range,
                         Catch::Matchers::Message("index 7 is out of range"));
  REQUIRE_THROWS_MATCHES(take_output(handle), std::logic_error,
                         Catch::Matchers::Message(kSecondAwait));
}
