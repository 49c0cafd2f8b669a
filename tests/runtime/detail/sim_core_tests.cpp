// Tests for pollscope/detail/sim_core.hpp: the task state machine of the simulated
// threaded executors (SimCore, here through SimulatedPool with one worker and one poll
// per run()), step by step, asserting the state bits and both halves of the counts
// after every step. References: the handle's, the registry's, one per queue entry
// (or poll in progress), one per live Waker, one per wake from outside run() not yet
// picked up.
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <pollscope/simulated_pool.hpp>

#include "../../support/counted.hpp"
#include "../../support/executor_helpers.hpp"

using pollscope::Context;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::Poll;
using pollscope::SimulatedPool;
using pollscope::TaskAborted;
using pollscope::Waker;
using pollscope::detail::TaskHeader;
using pollscope_test::counts_text;
using pollscope_test::LifeCounts;
using pollscope_test::report_text;
using pollscope_test::state_text;
using pollscope_test::Steps;
using pollscope_test::take_output;
using pollscope_test::task_of;

namespace {

std::string snapshot(const TaskHeader* t) { return state_text(t) + "; " + counts_text(t); }

ExecutorOptions one_poll_per_run() {
  ExecutorOptions options;
  options.max_polls = 1;
  return options;
}

Poll<int> stays_pending(Context&) { return pollscope::pending; }

}  // namespace

TEST_CASE("SimulatedPool: a spawned task is SCHEDULED with three references (handle, registry, queue entry); a "
          "Pending poll nobody woke leaves it idle with the entry's reference dropped",
          "[simulated_pool][task_state]") {
  LifeCounts futures;
  TaskHeader* t = nullptr;
  std::string in_poll;
  SimulatedPool pool(1, 7, one_poll_per_run());
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                        in_poll = snapshot(t);
                                                        return pollscope::pending;
                                                      }}));
  t = task_of(handle);
  REQUIRE(snapshot(t) == "SCHEDULED; refs 3, wakers 0");
  REQUIRE(report_text(pool.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(in_poll == "RUNNING; refs 3, wakers 0");
  REQUIRE(snapshot(t) == "idle; refs 2, wakers 0");
  REQUIRE(report_text(pool.run()) == "stalled, 0 polls, stuck {1}");
}

TEST_CASE("SimulatedPool: a wake of a running task sets SCHEDULED and the task is polled exactly once more",
          "[simulated_pool][task_state]") {
  LifeCounts futures;
  TaskHeader* t = nullptr;
  std::string in_poll;
  SimulatedPool pool(1, 7, one_poll_per_run());
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                        cx.waker().wake_by_ref();
                                                        cx.waker().wake_by_ref();
                                                        in_poll = snapshot(t);
                                                        return pollscope::pending;
                                                      },
                                                      [](Context&) -> Poll<int> { return pollscope::ready(3); }}));
  t = task_of(handle);
  REQUIRE(report_text(pool.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(in_poll == "SCHEDULED|RUNNING; refs 3, wakers 0");
  REQUIRE(snapshot(t) == "SCHEDULED; refs 3, wakers 0");  // re-queued with the poll's reference
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(take_output(handle) == 3);
}

TEST_CASE("SimulatedPool: a wake of an idle task from another task sets SCHEDULED and queues it with a reference "
          "of its own; a second wake changes nothing",
          "[simulated_pool][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  TaskHeader* waiting = nullptr;
  std::string after_first;
  std::string after_second;
  SimulatedPool pool(1, 7, one_poll_per_run());
  JoinHandle<int> first = pool.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                       kept.emplace(cx.waker());
                                                       return pollscope::pending;
                                                     },
                                                     [](Context&) -> Poll<int> { return pollscope::ready(1); }}));
  JoinHandle<int> second = pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                        kept->wake_by_ref();
                                                        after_first = snapshot(waiting);
                                                        kept->wake_by_ref();
                                                        after_second = snapshot(waiting);
                                                        return pollscope::ready(2);
                                                      }}));
  waiting = task_of(first);
  REQUIRE(report_text(pool.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(snapshot(waiting) == "idle; refs 3, wakers 1");  // handle, registry, kept
  REQUIRE(report_text(pool.run()) == "budget exhausted, 1 polls, stuck {}");
  REQUIRE(after_first == "SCHEDULED; refs 4, wakers 1");
  REQUIRE(after_second == "SCHEDULED; refs 4, wakers 1");
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(waiting) == "COMPLETED; refs 2, wakers 1");
  kept.reset();
  REQUIRE(snapshot(waiting) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(take_output(second) == 2);
}

TEST_CASE("SimulatedPool: a wake of an idle task from outside run() sets SCHEDULED at once and holds a reference "
          "that run() hands on to the queue",
          "[simulated_pool][task_state]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  SimulatedPool pool(1, 7, one_poll_per_run());
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                        kept.emplace(cx.waker());
                                                        return pollscope::pending;
                                                      },
                                                      [](Context&) -> Poll<int> { return pollscope::ready(4); }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(report_text(pool.run()) == "stalled, 1 polls, stuck {1}");
  REQUIRE(snapshot(t) == "idle; refs 3, wakers 1");
  kept->wake_by_ref();
  REQUIRE(snapshot(t) == "SCHEDULED; refs 4, wakers 1");
  kept->wake_by_ref();  // untraced and already SCHEDULED: nothing
  REQUIRE(snapshot(t) == "SCHEDULED; refs 4, wakers 1");
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "COMPLETED; refs 2, wakers 1");
  REQUIRE(take_output(handle) == 4);
}

TEST_CASE("SimulatedPool: abort() during the task's own poll sets CLOSED while RUNNING; when the poll returns "
          "Pending the task is closed and its future destroyed",
          "[simulated_pool][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<JoinHandle<int>> handle;
  TaskHeader* t = nullptr;
  std::string in_poll;
  SimulatedPool pool(1, 7, one_poll_per_run());
  handle.emplace(pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                              handle->abort();
                                              in_poll = snapshot(t) + "; drops " + std::to_string(futures.drops());
                                              return pollscope::pending;
                                            }})));
  t = task_of(*handle);
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(in_poll == "RUNNING|CLOSED; refs 3, wakers 0; drops 0");
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE_THROWS_AS(take_output(*handle), TaskAborted);
}

TEST_CASE("SimulatedPool: abort() during a poll that returns Ready loses: the task is COMPLETED and its output "
          "stands",
          "[simulated_pool][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<JoinHandle<int>> handle;
  TaskHeader* t = nullptr;
  std::string in_poll;
  SimulatedPool pool(1, 7, one_poll_per_run());
  handle.emplace(pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                              handle->abort();
                                              in_poll = snapshot(t);
                                              return pollscope::ready(5);
                                            }})));
  t = task_of(*handle);
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(in_poll == "RUNNING|CLOSED; refs 3, wakers 0");
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(take_output(*handle) == 5);
}

TEST_CASE("SimulatedPool: abort() of a queued task makes it SCHEDULED|CLOSED and destroys its future; the entry "
          "keeps its reference until a worker pops it, without a poll",
          "[simulated_pool][task_state][join_handle]") {
  LifeCounts futures;
  SimulatedPool pool(1, 7, one_poll_per_run());
  JoinHandle<int> handle = pool.spawn(Steps(futures, {stays_pending}));
  TaskHeader* t = task_of(handle);
  handle.abort();
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 2, wakers 0");
  REQUIRE(futures.drops() == 1);
  // Nothing unfinished: run() ends before any worker looks at the queue.
  REQUIRE(report_text(pool.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 2, wakers 0");
  // The next task is queued behind the entry: the worker pops and drops it first.
  JoinHandle<int> next = pool.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(1); }}));
  REQUIRE(report_text(pool.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 1, wakers 0");
  REQUIRE(take_output(next) == 1);
  REQUIRE_THROWS_AS(take_output(handle), TaskAborted);
}

TEST_CASE("SimulatedPool: abort() of an idle task makes it CLOSED and destroys its future before abort() returns; "
          "abort() of a COMPLETED one changes nothing",
          "[simulated_pool][task_state][join_handle]") {
  LifeCounts futures;
  std::optional<Waker> kept;
  SimulatedPool pool(1, 7);
  JoinHandle<int> idle = pool.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      kept.emplace(cx.waker());
                                                      return pollscope::pending;
                                                    }}));
  JoinHandle<int> done = pool.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(6); }}));
  REQUIRE(report_text(pool.run()) == "stalled, 2 polls, stuck {1}");
  REQUIRE(snapshot(task_of(idle)) == "idle; refs 3, wakers 1");
  REQUIRE(snapshot(task_of(done)) == "COMPLETED; refs 1, wakers 0");

  idle.abort();
  REQUIRE(snapshot(task_of(idle)) == "CLOSED; refs 2, wakers 1");
  REQUIRE(futures.drops() == 2);
  done.abort();
  REQUIRE(snapshot(task_of(done)) == "COMPLETED; refs 1, wakers 0");
  kept->wake_by_ref();  // a wake of a CLOSED task: nothing
  REQUIRE(snapshot(task_of(idle)) == "CLOSED; refs 2, wakers 1");
  REQUIRE(report_text(pool.run()) == "completed, 0 polls, stuck {}");
  REQUIRE(take_output(done) == 6);
  REQUIRE_THROWS_AS(take_output(idle), TaskAborted);
}
