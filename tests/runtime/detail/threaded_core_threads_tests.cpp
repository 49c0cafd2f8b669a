// Tests for pollscope/detail/threaded_core.hpp, the task state machine shared by
// ThreadPool and ThreadPerTaskRuntime: abort() of a task RUNNING on another thread
// (CANCEL_REQUESTED, then CLOSED by its poller, or COMPLETED if that poll is Ready),
// of a queued task (SCHEDULED|CLOSED, the queue's reference dropped by the worker
// that pops it), of an idle and of a completed task; a wake of a RUNNING task from
// another thread (exactly one more poll); wakes racing the end of each poll; and
// the stall check once the last waker held outside is dropped. After every step the
// state bits and both halves of the counts are asserted (references: the handle's,
// the registry's, the queue entry's or task thread's, one per live Waker).
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include <pollscope/thread_per_task_runtime.hpp>
#include <pollscope/thread_pool.hpp>

#include "../../support/counted.hpp"
#include "../../support/executor_helpers.hpp"

using namespace std::chrono_literals;
using pollscope::Context;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::Poll;
using pollscope::RunError;
using pollscope::TaskAborted;
using pollscope::ThreadPerTaskRuntime;
using pollscope::ThreadPool;
using pollscope::Waker;
using pollscope::detail::TaskHeader;
using pollscope_test::counts_text;
using pollscope_test::eventually;
using pollscope_test::Gate;
using pollscope_test::LifeCounts;
using pollscope_test::state_text;
using pollscope_test::Steps;
using pollscope_test::task_of;

namespace {

std::string snapshot(const TaskHeader* t) { return state_text(t) + "; " + counts_text(t); }

/// Waits until the task looks like `expected` (another thread is still finishing its
/// part) and returns what it looks like then: compare it with `expected`.
std::string settled(const TaskHeader* t, const std::string& expected) {
  (void)eventually([&] { return snapshot(t) == expected; });
  return snapshot(t);
}

/// Lets a test hold a task inside its poll: the poll calls `enter()`, which signals
/// `entered` and waits for `release()`.
struct Hold {
  std::promise<void> entered;
  std::promise<void> released;
  std::shared_future<void> release_signal = released.get_future().share();
  void enter() {
    entered.set_value();
    release_signal.wait();
  }
  void wait_entered() { entered.get_future().wait(); }
  void release() { released.set_value(); }
};

}  // namespace

// --- abort ----------------------------------------------------------------------------------

TEST_CASE("ThreadPool: abort() of a task running on a worker sets CANCEL_REQUESTED, not CLOSED; the poller closes "
          "it when the poll returns Pending",
          "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  Hold hold;
  ThreadPool pool(1);
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                        hold.enter();
                                                        return pollscope::pending;
                                                      }}));
  TaskHeader* t = task_of(handle);
  hold.wait_entered();
  REQUIRE(snapshot(t) == "RUNNING; refs 3, wakers 0");  // handle, registry, the worker's (queue) reference

  handle.abort();
  REQUIRE(snapshot(t) == "RUNNING|CANCEL_REQUESTED; refs 3, wakers 0");
  REQUIRE_FALSE(handle.is_finished());  // a JoinHandle must not read the output slot yet
  REQUIRE(futures.drops() == 0);        // its poll is still running
  handle.abort();                       // again: nothing more
  REQUIRE(snapshot(t) == "RUNNING|CANCEL_REQUESTED; refs 3, wakers 0");

  hold.release();
  REQUIRE(settled(t, "CLOSED; refs 1, wakers 0") == "CLOSED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(handle.is_finished());
  REQUIRE_THROWS_AS(handle.join(), TaskAborted);
  REQUIRE(pollscope_test::report_text(pool.wait()) == "completed, 1 polls, stuck {}");
}

TEST_CASE("ThreadPool: abort() during a poll that returns Ready loses: the task is COMPLETED and join() returns its "
          "output",
          "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  Hold hold;
  ThreadPool pool(1);
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                        hold.enter();
                                                        return pollscope::ready(11);
                                                      }}));
  TaskHeader* t = task_of(handle);
  hold.wait_entered();
  handle.abort();
  REQUIRE(snapshot(t) == "RUNNING|CANCEL_REQUESTED; refs 3, wakers 0");
  hold.release();
  REQUIRE(settled(t, "COMPLETED; refs 1, wakers 0") == "COMPLETED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE(handle.join() == 11);
}

TEST_CASE("ThreadPool: abort() of a task queued behind a busy worker makes it SCHEDULED|CLOSED and destroys its "
          "future at once; the worker drops the queue's reference without polling it",
          "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  LifeCounts queued_futures;
  Hold hold;
  int queued_polls = 0;
  ThreadPool pool(1);
  JoinHandle<int> busy = pool.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                      hold.enter();
                                                      return pollscope::ready(1);
                                                    }}));
  hold.wait_entered();  // the only worker is inside that poll
  JoinHandle<int> queued = pool.spawn(Steps(queued_futures, {[&](Context&) -> Poll<int> {
                                                               ++queued_polls;
                                                               return pollscope::ready(2);
                                                             }}));
  TaskHeader* t = task_of(queued);
  REQUIRE(snapshot(t) == "SCHEDULED; refs 3, wakers 0");  // handle, registry, injection queue

  queued.abort();
  REQUIRE(snapshot(t) == "SCHEDULED|CLOSED; refs 2, wakers 0");
  REQUIRE(queued_futures.drops() == 1);
  REQUIRE(queued.is_finished());

  hold.release();
  REQUIRE(busy.join() == 1);
  REQUIRE(settled(t, "SCHEDULED|CLOSED; refs 1, wakers 0") == "SCHEDULED|CLOSED; refs 1, wakers 0");
  REQUIRE(queued_polls == 0);
  REQUIRE_THROWS_AS(queued.join(), TaskAborted);
  REQUIRE(pool.polls() == 1);
}

TEST_CASE("ThreadPool: abort() of an idle task makes it CLOSED and destroys its future before abort() returns",
          "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  Gate gate;
  ThreadPool pool(2);
  JoinHandle<void> handle = pool.spawn(pollscope_test::carrying(gate.wait(), futures));
  TaskHeader* t = task_of(handle);
  // Idle: polled once, RUNNING cleared, the worker's reference dropped; the gate holds a waker.
  REQUIRE(settled(t, "idle; refs 3, wakers 1") == "idle; refs 3, wakers 1");

  handle.abort();
  REQUIRE(snapshot(t) == "CLOSED; refs 2, wakers 1");
  REQUIRE(futures.drops() == 1);
  REQUIRE(handle.is_finished());
  REQUIRE(gate.open());  // wakes a closed task: nothing
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
  REQUIRE(gate.polls() == 1);
  REQUIRE_THROWS_AS(handle.join(), TaskAborted);
}

TEST_CASE("ThreadPool: abort() of a COMPLETED task changes nothing", "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  ThreadPool pool(1);
  JoinHandle<int> handle =
      pool.spawn(Steps(futures, {[](Context&) -> Poll<int> { return pollscope::ready(12); }}));
  TaskHeader* t = task_of(handle);
  REQUIRE(settled(t, "COMPLETED; refs 1, wakers 0") == "COMPLETED; refs 1, wakers 0");
  handle.abort();
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
  REQUIRE(handle.join() == 12);
}

TEST_CASE("ThreadPerTaskRuntime: abort() of a task running on its thread sets CANCEL_REQUESTED; the thread closes "
          "it when the poll returns Pending, and ends",
          "[thread_per_task_runtime][task_state][threads]") {
  LifeCounts futures;
  Hold hold;
  ThreadPerTaskRuntime runtime;
  JoinHandle<int> handle = runtime.spawn(Steps(futures, {[&](Context&) -> Poll<int> {
                                                           hold.enter();
                                                           return pollscope::pending;
                                                         }}));
  TaskHeader* t = task_of(handle);
  hold.wait_entered();
  REQUIRE(snapshot(t) == "RUNNING; refs 3, wakers 0");  // handle, registry, the task thread's
  handle.abort();
  REQUIRE(snapshot(t) == "RUNNING|CANCEL_REQUESTED; refs 3, wakers 0");
  REQUIRE(futures.drops() == 0);
  hold.release();
  REQUIRE(settled(t, "CLOSED; refs 1, wakers 0") == "CLOSED; refs 1, wakers 0");
  REQUIRE(futures.drops() == 1);
  REQUIRE_THROWS_AS(handle.join(), TaskAborted);
  REQUIRE(pollscope_test::report_text(runtime.wait()) == "completed, 1 polls, stuck {}");
}

TEST_CASE("ThreadPerTaskRuntime: abort() of a parked task makes it CLOSED and destroys its future before abort() "
          "returns; its thread drops its reference and ends",
          "[thread_per_task_runtime][task_state][threads]") {
  LifeCounts futures;
  Gate gate;
  ThreadPerTaskRuntime runtime;
  JoinHandle<void> handle = runtime.spawn(pollscope_test::carrying(gate.wait(), futures));
  TaskHeader* t = task_of(handle);
  REQUIRE(settled(t, "idle; refs 4, wakers 1") == "idle; refs 4, wakers 1");  // + the parked thread's

  handle.abort();
  REQUIRE(futures.drops() == 1);
  REQUIRE(handle.is_finished());
  REQUIRE(settled(t, "CLOSED; refs 2, wakers 1") == "CLOSED; refs 2, wakers 1");
  REQUIRE(gate.open());
  REQUIRE(snapshot(t) == "CLOSED; refs 1, wakers 0");
  REQUIRE(gate.polls() == 1);
  REQUIRE(pollscope_test::report_text(runtime.wait()) == "completed, 1 polls, stuck {}");
}

// --- wakes ----------------------------------------------------------------------------------

TEST_CASE("ThreadPool: a wake from another thread of a task running on a worker sets SCHEDULED, and the task is "
          "polled exactly once more",
          "[thread_pool][task_state][threads]") {
  LifeCounts futures;
  Hold hold;
  std::promise<Waker> waker_out;
  int polls = 0;
  ThreadPool pool(1);
  JoinHandle<int> handle = pool.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                        ++polls;
                                                        waker_out.set_value(cx.waker());
                                                        hold.enter();
                                                        return pollscope::pending;
                                                      },
                                                      [&](Context&) -> Poll<int> {
                                                        ++polls;
                                                        return pollscope::ready(polls);
                                                      }}));
  TaskHeader* t = task_of(handle);
  hold.wait_entered();
  Waker w = waker_out.get_future().get();
  REQUIRE(snapshot(t) == "RUNNING; refs 4, wakers 1");
  w.wake_by_ref();
  REQUIRE(snapshot(t) == "SCHEDULED|RUNNING; refs 4, wakers 1");  // no queue entry: its poller re-queues it
  w.wake_by_ref();
  REQUIRE(snapshot(t) == "SCHEDULED|RUNNING; refs 4, wakers 1");
  hold.release();
  REQUIRE(handle.join() == 2);
  REQUIRE(polls == 2);
  REQUIRE(pool.polls() == 2);
}

TEST_CASE("ThreadPool: a wake from another thread racing the end of each poll is never lost and never doubles a "
          "poll",
          "[thread_pool][task_state][threads]") {
  constexpr int kRounds = 2000;
  pollscope_test::Relay relay;
  std::thread waker_thread([&] { relay.wake_each(); });
  int output = 0;
  std::uint64_t polls = 0;
  {
    ThreadPool pool(2);
    JoinHandle<int> handle = pool.spawn(pollscope_test::RelayedWakes(relay, kRounds));
    output = handle.join();
    polls = pool.polls();
  }
  relay.finish();
  waker_thread.join();
  REQUIRE(output == kRounds + 1);
  REQUIRE(polls == static_cast<std::uint64_t>(kRounds + 1));
}

TEST_CASE("ThreadPerTaskRuntime: a wake from another thread racing the end of each poll is never lost and never "
          "doubles a poll",
          "[thread_per_task_runtime][task_state][threads]") {
  constexpr int kRounds = 2000;
  pollscope_test::Relay relay;
  std::thread waker_thread([&] { relay.wake_each(); });
  int output = 0;
  std::uint64_t polls = 0;
  {
    ThreadPerTaskRuntime runtime;
    JoinHandle<int> handle = runtime.spawn(pollscope_test::RelayedWakes(relay, kRounds));
    output = handle.join();
    polls = runtime.polls();
  }
  relay.finish();
  waker_thread.join();
  REQUIRE(output == kRounds + 1);
  REQUIRE(polls == static_cast<std::uint64_t>(kRounds + 1));
}

// --- stall detection ------------------------------------------------------------------------

namespace {
/// Pending at every poll, keeping no waker: nothing can ever wake it. Its first poll
/// waits until `may_return` is set, so that the test can spawn more tasks before the
/// pool finds it stuck (a stall check between the two spawns would rightly report
/// this task alone).
struct Stuck {
  using Output = int;
  const std::atomic<bool>* may_return;
  Poll<int> poll(Context&) {
    while (!may_return->load(std::memory_order_acquire)) std::this_thread::yield();
    return pollscope::pending;
  }
};
}  // namespace

TEST_CASE("ThreadPool: a task awaiting a stuck task is stuck too: its waker, parked in that task's handle slot, "
          "does not count as alive outside",
          "[thread_pool][stall][threads]") {
  ThreadPool pool(1);
  std::atomic<bool> both_spawned{false};
  JoinHandle<int> stuck = pool.spawn(Stuck{&both_spawned});
  JoinHandle<int> awaiting = pool.spawn(std::move(stuck));
  both_spawned.store(true, std::memory_order_release);
  try {
    (void)awaiting.join();
    FAIL("join() returned");
  } catch (const RunError& e) {
    REQUIRE(pollscope_test::status_text(e.report()) == "stalled, stuck {1, 2}");
  }
  REQUIRE(pollscope_test::status_text(pool.wait()) == "stalled, stuck {1, 2}");
}


namespace {

/// Spawns a HandsOffWaker on `executor`, waits until the executor parks after its
/// Pending poll, drops the handed-over waker on this thread, and returns what
/// join() ended with ("returned N" or the RunError's status_text), rescuing the task
/// after `patience` if join() is still blocked (then `stopped` is false). Make it as
/// long as the wait for the park: a loaded machine under TSan may take seconds to
/// schedule the threads involved; only a broken executor needs the rescue.
template <class Executor>
std::string join_after_last_waker_dropped(Executor& executor, pollscope_test::ParkAfterPending& tracer,
                                          bool& stopped, std::chrono::milliseconds patience) {
  pollscope_test::HandOff hand_off;
  JoinHandle<int> handle = executor.spawn(pollscope_test::HandsOffWaker(hand_off));
  // A reference of the test's own (no waker): the cell outlives join() for the rescue.
  TaskHeader* task = task_of(handle);
  task->retain();
  std::promise<std::string> result;
  std::future<std::string> result_future = result.get_future();
  std::thread joiner([&] {
    try {
      result.set_value("returned " + std::to_string(handle.join()));
    } catch (const RunError& e) {
      result.set_value(pollscope_test::status_text(e.report()));
    } catch (...) {
      result.set_value("other exception");
    }
  });
  const bool parked = tracer.wait_for_park(10s);
  hand_off.drop_when_handed();  // unwoken: nothing can wake the task any more
  stopped = parked && result_future.wait_for(patience) == std::future_status::ready;
  if (result_future.wait_for(0s) != std::future_status::ready) hand_off.rescue();
  std::string text = result_future.get();
  joiner.join();
  task->release();
  return text;
}

}  // namespace

TEST_CASE("ThreadPool fails a task as stalled once another thread drops its last waker without waking it",
          "[thread_pool][stall][threads]") {
  pollscope_test::ParkAfterPending tracer;
  ExecutorOptions options;
  options.tracer = &tracer;
  ThreadPool pool(1, options);
  bool stopped = false;
  const std::string result = join_after_last_waker_dropped(pool, tracer, stopped, 10s);
  CHECK(stopped);
  REQUIRE(result == "stalled, stuck {1}");
}

TEST_CASE("ThreadPerTaskRuntime fails a task as stalled once another thread drops its last waker without waking it",
          "[thread_per_task_runtime][stall][threads]") {
  pollscope_test::ParkAfterPending tracer;
  ExecutorOptions options;
  options.tracer = &tracer;
  ThreadPerTaskRuntime runtime(options);
  bool stopped = false;
  const std::string result = join_after_last_waker_dropped(runtime, tracer, stopped, 10s);
  CHECK(stopped);
  REQUIRE(result == "stalled, stuck {1}");
}

#endif  // threads available
