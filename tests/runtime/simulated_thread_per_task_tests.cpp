// Tests for pollscope/simulated_thread_per_task.hpp: SimulatedThreadPerTask — one
// virtual thread per task, interleaved by a seeded scheduler, on the virtual clock.
// No real threads: these run in the single-threaded wasm build too.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <pollscope/async.hpp>
#include <pollscope/blocking.hpp>
#include <pollscope/count.hpp>
#include <pollscope/simulated_thread_per_task.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/trace.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/stress_workload.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::Async;
using pollscope::Event;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::RunError;
using pollscope::RunStatus;
using pollscope::SimulatedThreadPerTask;
using pollscope::TaskId;
using pollscope::TraceRecorder;
using pollscope::WakeSource;
using pollscope_test::count_events;
using pollscope_test::events_of;
using pollscope_test::lines;
using pollscope_test::report_text;
using pollscope_test::take_output;

namespace {

/// Pending at every poll, keeping no waker: nothing can ever wake it.
template <class T = void>
struct Stuck {
  using Output = T;
  pollscope::Poll<T> poll(pollscope::Context&) { return pollscope::pending; }
};

ExecutorOptions traced(TraceRecorder& recorder) {
  ExecutorOptions options;
  options.tracer = &recorder;
  return options;
}

Async<std::uint64_t> count_to(std::uint64_t n) { co_return co_await pollscope::count(n); }

Async<std::uint64_t> sleep_then_count(std::uint64_t n) {
  co_await pollscope::sleep(1ms);
  co_return co_await pollscope::count(n);
}

Async<std::uint64_t> plus_100(JoinHandle<std::uint64_t> other) { co_return co_await other + 100; }

Async<void> blocks(std::chrono::nanoseconds d) {
  pollscope::blocking_call(d);
  co_return;
}

Async<std::uint64_t> sleeps_then_returns(std::chrono::nanoseconds d, std::uint64_t v) {
  co_await pollscope::sleep(d);
  co_return v;
}

std::vector<Event> three_tasks(std::uint64_t seed) {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(seed, traced(recorder));
  JoinHandle<std::uint64_t> a = rt.spawn(count_to(5));
  JoinHandle<std::uint64_t> b = rt.spawn(sleep_then_count(3));
  JoinHandle<std::uint64_t> c = rt.spawn(plus_100(std::move(b)));
  JoinHandle<std::uint64_t> d = rt.spawn(count_to(4));
  REQUIRE(rt.run().status == RunStatus::completed);
  REQUIRE(take_output(a) == 5);
  REQUIRE(take_output(c) == 103);
  REQUIRE(take_output(d) == 4);
  return recorder.events();
}

std::vector<std::string> shape(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    out.push_back(std::to_string(e.thread) + " " + pollscope::to_string(e.kind) + " " + std::to_string(e.task));
  }
  return out;
}

}  // namespace

TEST_CASE("A SimulatedThreadPerTask run with a given seed produces exactly this trace",
          "[simulated_thread_per_task]") {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(3, traced(recorder));
  JoinHandle<std::uint64_t> a = rt.spawn(count_to(2));
  JoinHandle<std::uint64_t> b = rt.spawn(sleep_then_count(1));
  JoinHandle<std::uint64_t> c = rt.spawn(plus_100(std::move(b)));
  REQUIRE(report_text(rt.run()) == "completed, 6 polls, stuck {}");
  REQUIRE(take_output(a) == 2);
  REQUIRE(take_output(c) == 101);
  REQUIRE(lines(recorder.events()) == std::vector<std::string>{
                                          "[0ns] spawn task 1",
                                          "[0ns] spawn task 2",
                                          "[0ns] spawn task 3",
                                          "[0ns] (thread 1) poll task 1",
                                          "[0ns] (thread 1) task 1 woken by itself (wake_by_ref)",
                                          "[0ns] (thread 1) poll task 1 -> Pending (woke itself)",
                                          "[0ns] (thread 3) poll task 3",
                                          "[0ns] (thread 3) waker of task 3 cloned (1 alive)",
                                          "[0ns] (thread 3) poll task 3 -> Pending",
                                          "[0ns] (thread 3) park until woken",
                                          "[0ns] (thread 2) poll task 2",
                                          "[0ns] (thread 2) waker of task 2 cloned (1 alive)",
                                          "[0ns] (thread 2) timer 1 set for task 2 at 1ms",
                                          "[0ns] (thread 2) poll task 2 -> Pending",
                                          "[0ns] (thread 2) park until woken",
                                          "[0ns] (thread 1) poll task 1",
                                          "[0ns] (thread 1) poll task 1 -> Ready",
                                          "[0ns] (thread 1) task 1 complete",
                                          "[1ms] timer 1 fired for task 2",
                                          "[1ms] task 2 woken by a timer",
                                          "[1ms] (thread 2) unpark (timer)",
                                          "[1ms] (thread 2) poll task 2",
                                          "[1ms] (thread 2) poll task 2 -> Ready",
                                          "[1ms] (thread 2) task 2 complete",
                                          "[1ms] (thread 2) task 3 woken by task 2",
                                          "[1ms] (thread 3) unpark (task)",
                                          "[1ms] (thread 3) poll task 3",
                                          "[1ms] (thread 3) poll task 3 -> Ready",
                                          "[1ms] (thread 3) task 3 complete",
                                      });
  const std::vector<Event> events = recorder.events();
  for (std::size_t i = 0; i < events.size(); ++i) REQUIRE(events[i].seq == i);
  REQUIRE(events_of(events, EventKind::unpark, 0).back().other == 2);  // task 3's thread was woken by task 2
}

TEST_CASE("SimulatedThreadPerTask: the same seed gives the same events, another seed another interleaving",
          "[simulated_thread_per_task]") {
  const std::vector<Event> first = three_tasks(7);
  const std::vector<Event> second = three_tasks(7);
  REQUIRE(first == second);
  int different = 0;
  for (std::uint64_t seed = 8; seed <= 12; ++seed) {
    if (shape(three_tasks(seed)) != shape(first)) ++different;
  }
  REQUIRE(different >= 4);
}

TEST_CASE("The article's two counting tasks run on threads 1 and 2 of SimulatedThreadPerTask",
          "[simulated_thread_per_task]") {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(1, traced(recorder));
  JoinHandle<std::uint64_t> first = rt.spawn(count_to(10));
  JoinHandle<std::uint64_t> second = rt.spawn(count_to(23));
  REQUIRE(report_text(rt.run()) == "completed, 33 polls, stuck {}");
  REQUIRE(take_output(first) == 10);
  REQUIRE(take_output(second) == 23);
  const std::vector<Event> events = recorder.events();
  for (const Event& e : events_of(events, EventKind::poll_start)) REQUIRE(e.thread == e.task);
  for (const Event& e : events_of(events, EventKind::spawn)) REQUIRE(e.thread == 0);
  // Counters wake themselves during every poll: their threads never park.
  REQUIRE(count_events(events, EventKind::park) == 0);
}

TEST_CASE("A SimulatedThreadPerTask thread parks while its task is Pending and unparks when woken",
          "[simulated_thread_per_task]") {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(2, traced(recorder));
  JoinHandle<std::uint64_t> h = rt.spawn(sleeps_then_returns(3ms, 7));
  REQUIRE(rt.run().status == RunStatus::completed);
  REQUIRE(take_output(h) == 7);
  const std::vector<Event> events = recorder.events();
  REQUIRE(pollscope_test::event_names(events, {EventKind::poll_start, EventKind::park, EventKind::unpark,
                                               EventKind::timer_fire}) ==
          std::vector<std::string>{"poll_start", "park", "timer_fire", "unpark", "poll_start"});
  const Event park = events_of(events, EventKind::park).front();
  REQUIRE(park.thread == 1);
  const Event unpark = events_of(events, EventKind::unpark).front();
  REQUIRE(unpark.thread == 1);
  REQUIRE(unpark.source == WakeSource::timer);
  REQUIRE(unpark.time == 3ms);
  REQUIRE(events_of(events, EventKind::timer_fire).front().thread == 0);  // the runtime's own thread
}

TEST_CASE("A blocking call holds only its own thread of SimulatedThreadPerTask", "[simulated_thread_per_task]") {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(4, traced(recorder));
  (void)rt.spawn(blocks(10ms));
  JoinHandle<std::uint64_t> quick = rt.spawn(sleeps_then_returns(1ms, 1));
  (void)rt.spawn(blocks(10ms));
  REQUIRE(rt.run().status == RunStatus::completed);
  REQUIRE(rt.now() == 10ms);
  REQUIRE(take_output(quick) == 1);
  const std::vector<Event> events = recorder.events();
  REQUIRE(events_of(events, EventKind::complete, 2).front().time == 1ms);
  REQUIRE(events_of(events, EventKind::complete, 1).front().time == 10ms);
  REQUIRE(events_of(events, EventKind::complete, 3).front().time == 10ms);
}

TEST_CASE("A stalled SimulatedThreadPerTask run names the stuck tasks in spawn order", "[simulated_thread_per_task]") {
  TraceRecorder recorder;
  SimulatedThreadPerTask rt(5, traced(recorder));
  (void)rt.spawn(Stuck<>());
  (void)rt.spawn(count_to(3));
  (void)rt.spawn(Stuck<int>());
  REQUIRE(report_text(rt.run()) == "stalled, 5 polls, stuck {1, 3}");
  const std::vector<Event> stalls = events_of(recorder.events(), EventKind::stall);
  REQUIRE(stalls.size() == 2);
  REQUIRE(stalls[0].task == 1);
  REQUIRE(stalls[1].task == 3);
}

TEST_CASE("max_polls limits each SimulatedThreadPerTask run; the next run continues", "[simulated_thread_per_task]") {
  ExecutorOptions options;
  options.max_polls = 3;
  SimulatedThreadPerTask rt(6, options);
  JoinHandle<std::uint64_t> a = rt.spawn(count_to(2));
  JoinHandle<std::uint64_t> b = rt.spawn(count_to(2));
  REQUIRE(report_text(rt.run()) == "budget exhausted, 3 polls, stuck {}");
  REQUIRE(report_text(rt.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(take_output(a) == 2);
  REQUIRE(take_output(b) == 2);
}

TEST_CASE("SimulatedThreadPerTask::block_on returns the output; from inside a task it throws std::logic_error",
          "[simulated_thread_per_task]") {
  SimulatedThreadPerTask rt(1);
  REQUIRE(rt.block_on(sleep_then_count(2)) == 2);
  REQUIRE(rt.now() == 1ms);
  std::string error;
  auto inside = [](SimulatedThreadPerTask& r, std::string& err) -> Async<void> {
    try {
      (void)r.block_on(count_to(1));
    } catch (const std::logic_error& e) {
      err = e.what();
    }
    co_return;
  };
  (void)rt.spawn(inside(rt, error));
  REQUIRE(report_text(rt.run()) == "completed, 1 polls, stuck {}");
  REQUIRE_FALSE(error.empty());
  REQUIRE_THROWS_AS(rt.block_on(Stuck<>()), RunError);
}

TEST_CASE("Destroying a SimulatedThreadPerTask cancels unfinished tasks, each future destroyed exactly once",
          "[simulated_thread_per_task]") {
  pollscope_test::LifeCounts counts;
  std::vector<JoinHandle<void>> handles;
  {
    SimulatedThreadPerTask rt(3);
    for (int i = 0; i < 5; ++i) handles.push_back(rt.spawn(pollscope_test::PendingForever<>(counts)));
    REQUIRE(rt.run().status == RunStatus::stalled);
    handles.front().abort();
    REQUIRE(counts.drops() == 1);
  }
  REQUIRE(counts.made() == 5);
  REQUIRE(counts.drops() == 5);
  for (auto& h : handles) REQUIRE_THROWS_AS(take_output(h), pollscope::TaskAborted);
}

TEST_CASE("Random workloads on SimulatedThreadPerTask complete every task exactly once", "[simulated_thread_per_task]") {
  const std::uint64_t tasks = pollscope_test::scaled(1000);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    pollscope_test::StressWorkload load(tasks, seed);
    {
      SimulatedThreadPerTask rt(seed);
      std::vector<JoinHandle<std::uint64_t>> handles;
      for (std::uint64_t i = 0; i < tasks; ++i) handles.push_back(rt.spawn(load.exclusive(load.u64_task(i))));
      for (;;) {
        const pollscope::RunReport report = rt.run();
        if (report.status == RunStatus::completed) break;
        REQUIRE(report.status == RunStatus::stalled);
        REQUIRE(load.mailbox.fire_all() > 0);
      }
      for (std::uint64_t i = 0; i < tasks; ++i) REQUIRE(take_output(handles[i]) == i * 3 + 1);
    }
    REQUIRE(load.each_completed_once());
    REQUIRE(load.futures.live() == 0);
    REQUIRE(load.violations.load() == 0);
  }
}
