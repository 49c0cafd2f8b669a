#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "pollscope/engine/engine.hpp"

using namespace pollscope;
using namespace pollscope::engine;

namespace {

const char* const kCounters = R"(executor local

task main
  spawn a
  spawn b
  join a
  join b

task a
  count 3

task b
  count 2
)";

std::vector<std::string> log_of(const Engine& engine) {
  std::vector<std::string> lines;
  for (std::uint64_t i = 0; i < engine.event_count(); ++i) lines.push_back(engine.describe(i));
  return lines;
}

Engine loaded(const char* text, LoadOptions options = {}) {
  Engine engine;
  const auto result = engine.load(text, options);
  REQUIRE(result.ok());
  return engine;
}

}  // namespace

TEST_CASE("two counting tasks on the local executor complete with exact totals") {
  Engine engine;
  REQUIRE(engine.load(kCounters).ok());
  CHECK(engine.outcome().status == EndStatus::completed);
  const Snapshot last = engine.snapshot(engine.event_count());
  REQUIRE(last.tasks.size() == 3u);
  CHECK(engine.task_name(1) == "main");
  CHECK(engine.task_name(2) == "a");
  CHECK(engine.task_name(3) == "b");
  CHECK(last.tasks[1].counters == TaskCounters{3, 2, 2, 2, 2});
  CHECK(last.tasks[2].counters == TaskCounters{2, 1, 1, 1, 1});
  // main: the first poll ends at "join a"; a's completion wakes it, and b is done by then.
  CHECK(last.tasks[0].counters == TaskCounters{2, 1, 1, 0, 0});
  for (const TaskView& t : last.tasks) CHECK(t.state == TaskState::done);
  CHECK(last.totals.polls == 7u);
  CHECK(engine.outcome().summary == "completed in " + std::to_string(engine.event_count()) + " events");
}

TEST_CASE("the event log of the first poll names tasks and queue lengths") {
  Engine engine;
  REQUIRE(engine.load(kCounters).ok());
  const std::vector<std::string> log = log_of(engine);
  REQUIRE(log.size() >= 12u);
  const std::vector<std::string> first(log.begin(), log.begin() + 12);
  CHECK(first == std::vector<std::string>{
                     "[0ns] spawn main",
                     "[0ns] main enters the run queue (1 queued)",
                     "[0ns] main leaves the run queue (0 queued)",
                     "[0ns] polling main",
                     "[0ns] spawn a (from main)",
                     "[0ns] a enters the run queue (1 queued)",
                     "[0ns] spawn b (from main)",
                     "[0ns] b enters the run queue (2 queued)",
                     "[0ns] main's waker cloned (1 alive)",
                     "[0ns] main is pending",
                     "[0ns] a leaves the run queue (1 queued)",
                     "[0ns] polling a",
                 });
}

TEST_CASE("step 0 shows every task not started and nothing queued") {
  const Engine engine = loaded(kCounters);
  const Snapshot s = engine.snapshot(0);
  CHECK(s.step == 0u);
  REQUIRE(s.tasks.size() == 3u);
  for (const TaskView& t : s.tasks) {
    CHECK(t.state == TaskState::not_started);
    CHECK(t.stack.empty());
  }
  REQUIRE(s.queues.size() == 1u);
  CHECK(s.queues[0].empty());
  CHECK(engine.caption(0) == "Nothing has run yet: step forward to watch the executor start main.");
}

TEST_CASE("the run queue at a step lists the queued tasks in order") {
  const Engine engine = loaded(kCounters);
  const Snapshot s = engine.snapshot(8);  // after "b enters the run queue (2 queued)"
  CHECK(s.queues[0] == std::vector<std::uint32_t>{2, 3});
  CHECK(s.tasks[0].state == TaskState::running);
  CHECK(s.tasks[1].state == TaskState::scheduled);
  CHECK(s.tasks[2].state == TaskState::scheduled);
  // spawn is not an await: by the time b is queued, main has moved on to "join a".
  CHECK(s.tasks[0].stack == std::vector<Frame>{{0, 6}});
  CHECK(engine.snapshot(6).tasks[0].stack == std::vector<Frame>{{0, 5}});
  CHECK(s.threads.size() == 1u);
  CHECK(s.threads[0].state == ThreadState::running);
  CHECK(s.threads[0].task == 1u);
}

TEST_CASE("captions explain a self-wake as a wasted poll") {
  const Engine engine = loaded(kCounters);
  // Events 11..13: polling a, a woken by itself, a is pending (it woke itself).
  CHECK(engine.describe(13) == "[0ns] a is pending (it woke itself)");
  CHECK(engine.caption(14) ==
        "a returned Pending at count(3) (line 10), but woke itself first, so it is polled again soon although "
        "nothing changed: a wasted poll.");
  CHECK(engine.caption(13) == "a called wake_by_ref() on its own waker during its poll: it asks to be polled again.");
}

TEST_CASE("a nested call shows one frame per call on the task's stack") {
  const Engine engine = loaded(R"(executor block_on

task main
  call outer
  count 1

task outer
  call inner

task inner
  count 2
)");
  // Event 1 is the first poll_start; after it the interpreter is inside inner's count.
  const Snapshot s = engine.snapshot(2);
  REQUIRE(s.tasks.size() == 1u);
  CHECK(s.tasks[0].stack == std::vector<Frame>{{0, 4}, {1, 8}, {2, 11}});
  const Snapshot done = engine.snapshot(engine.event_count());
  CHECK(done.tasks[0].stack.empty());
  CHECK(done.tasks[0].counters.polls == 2u);
}

TEST_CASE("a lost waker stalls the run and names the line and the reason") {
  Engine engine;
  REQUIRE(engine.load(R"(task main
  spawn worker
  join worker

task worker
  count 2
  lose_waker
)").ok());
  const Outcome& out = engine.outcome();
  CHECK(out.status == EndStatus::stalled);
  CHECK(out.summary == "stalled: main, worker can never be woken");
  REQUIRE(out.stuck.size() == 2u);
  CHECK(out.stuck[0] == StuckTask{1, 0, 3, "it waits for worker to finish, which is stuck too"});
  CHECK(out.stuck[1] ==
        StuckTask{2, 1, 7, "it returned Pending from lose_waker without keeping its waker; nothing can wake it"});
}

TEST_CASE("lose_waker completes under the busy loop of block_on_busy") {
  const Engine engine = loaded(R"(executor block_on_busy

task main
  lose_waker
  count 1
)");
  CHECK(engine.outcome().status == EndStatus::completed);
  CHECK(engine.snapshot(engine.event_count()).tasks[0].counters.polls == 2u);
}

TEST_CASE("a recv that nothing will ever satisfy is a stall with its reason") {
  Engine engine;
  REQUIRE(engine.load("channel c\ntask main\n  recv c\n").ok());
  REQUIRE(engine.outcome().stuck.size() == 1u);
  CHECK(engine.outcome().stuck[0].reason == "it waits on channel \"c\", but no task will ever send to it");
  CHECK(engine.outcome().stuck[0].line == 3u);
}

namespace {

Event task_event(EventKind kind, std::uint32_t task, std::string message = {}) {
  Event e;
  e.kind = kind;
  e.task = task;
  e.message = std::move(message);
  return e;
}

std::string named(std::uint32_t task) { return task == 1 ? "main" : task == 2 ? "a" : "task " + std::to_string(task); }

}  // namespace

TEST_CASE("a run in which a task threw ends failed, naming the task and what() it threw") {
  TraceStore store(100);
  store.record(task_event(EventKind::poll_start, 2));
  store.record(task_event(EventKind::poll_ready, 2));
  store.record(task_event(EventKind::task_error, 2, "resource unavailable"));
  store.record(task_event(EventKind::complete, 2));
  const std::optional<Outcome> out = failed_outcome(store, named);
  REQUIRE(out.has_value());
  CHECK(out->status == EndStatus::failed);
  CHECK(std::string(to_string(out->status)) == "failed");
  CHECK(out->failures == std::vector<TaskFailure>{{2, 2, "resource unavailable"}});
  CHECK(out->summary == "failed: a threw an exception: resource unavailable");
  CHECK(out->stuck.empty());
}

TEST_CASE("when several tasks threw, the summary names the first and counts them all") {
  TraceStore store(100);
  store.record(task_event(EventKind::task_error, 2, "boom"));
  store.record(task_event(EventKind::complete, 2));
  // main joined a and rethrew its exception; a third task threw with an empty what().
  store.record(task_event(EventKind::task_error, 1, "boom"));
  store.record(task_event(EventKind::task_error, 3));
  const std::optional<Outcome> out = failed_outcome(store, named);
  REQUIRE(out.has_value());
  CHECK(out->failures == std::vector<TaskFailure>{{2, 0, "boom"}, {1, 2, "boom"}, {3, 3, ""}});
  CHECK(out->summary == "failed: a threw an exception: boom (3 tasks failed)");
}

TEST_CASE("a run without a task_error is not failed") {
  TraceStore store(100);
  store.record(task_event(EventKind::poll_start, 1));
  store.record(task_event(EventKind::complete, 1));
  CHECK_FALSE(failed_outcome(store, named).has_value());
  const Engine engine = loaded(kCounters);
  CHECK(engine.outcome().status == EndStatus::completed);
  CHECK(engine.outcome().failures.empty());
  CHECK(engine.outcome().summary.rfind("completed in ", 0) == 0);
}

TEST_CASE("the event budget stops a run at exactly max_events events") {
  const Engine engine = loaded("max_events 50\ntask main\n  count 1000000\n");
  CHECK(engine.event_count() == 50u);
  CHECK(engine.outcome().status == EndStatus::budget_exhausted);
  CHECK(engine.outcome().summary == "budget exhausted: stopped after 50 events");
  CHECK(engine.store().truncated());
}

TEST_CASE("the load option max_events overrides the scenario's budget") {
  LoadOptions options;
  options.max_events = 20;
  const Engine engine = loaded("task main\n  count 1000\n", options);
  CHECK(engine.event_count() == 20u);
  CHECK(engine.outcome().status == EndStatus::budget_exhausted);
}

TEST_CASE("an hour-long block on the virtual clock costs no real time") {
  const Engine engine = loaded("task main\n  block 3600s\n  sleep 1s\n");
  CHECK(engine.outcome().status == EndStatus::completed);
  CHECK(engine.snapshot(engine.event_count()).time_ns == 3'601'000'000'000LL);
}

TEST_CASE("timers are pending in the snapshot between registration and firing") {
  const Engine engine = loaded("task main\n  sleep 5ms\n");
  std::uint64_t registered = 0;
  for (std::uint64_t i = 0; i < engine.event_count(); ++i) {
    if (engine.event(i).kind == EventKind::timer_register) registered = i + 1;
  }
  REQUIRE(registered != 0u);
  const Snapshot s = engine.snapshot(registered);
  REQUIRE(s.timers.size() == 1u);
  CHECK(s.timers[0] == TimerView{1, 1, 5'000'000});
  CHECK(engine.snapshot(engine.event_count()).timers.empty());
  CHECK(engine.snapshot(engine.event_count()).time_ns == 5'000'000);
}

TEST_CASE("a scenario with errors keeps the previous run loaded") {
  Engine engine;
  REQUIRE(engine.load(kCounters).ok());
  const std::uint64_t events = engine.event_count();
  const auto bad = engine.load("task main\n  cont 3\n");
  CHECK_FALSE(bad.ok());
  REQUIRE_FALSE(bad.diagnostics.empty());
  CHECK(bad.diagnostics[0].line == 2);
  CHECK(bad.diagnostics[0].column == 3);
  CHECK(engine.event_count() == events);
  CHECK(engine.task_name(2) == "a");
}

TEST_CASE("threads real is refused where real threads are unavailable, saying why") {
  Engine engine;
  const auto result = engine.load("executor thread_pool\nclock real\nthreads real\ntask main\n  count 1\n");
  REQUIRE_FALSE(result.ok());
  const scenario::Diagnostic& d = result.diagnostics.back();
  CHECK(d.line == 3);
  CHECK(d.column == 1);
  CHECK(d.message ==
        "real threads are not available here: this page is not cross-origin isolated, so the browser gives it no "
        "SharedArrayBuffer and no threads");
  CHECK(d.hint == "use \"threads simulated\": it shows the same design, deterministically, or open the full playground");
}

TEST_CASE("the same scenario gives the same events every time") {
  const Engine first = loaded(kCounters);
  const Engine second = loaded(kCounters);
  REQUIRE(first.event_count() == second.event_count());
  for (std::uint64_t i = 0; i < first.event_count(); ++i) CHECK(first.event(i) == second.event(i));
}

TEST_CASE("a task joined by two tasks wakes both once it finishes") {
  const Engine engine = loaded(R"(task main
  spawn worker
  spawn watcher
  join worker
  join watcher

task watcher
  join worker

task worker
  sleep 1ms
)");
  CHECK(engine.outcome().status == EndStatus::completed);
  for (const TaskView& t : engine.snapshot(engine.event_count()).tasks) CHECK(t.state == TaskState::done);
}

TEST_CASE("a join may come before the spawn it waits for") {
  const Engine engine = loaded(R"(task main
  spawn starter
  spawn waiter
  join waiter

task waiter
  join late

task starter
  yield
  spawn late

task late
  count 1
)");
  CHECK(engine.outcome().status == EndStatus::completed);
  CHECK(engine.task_name(4) == "late");
}
