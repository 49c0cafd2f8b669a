// Tests for pollscope/thread_per_task_runtime.hpp: ThreadPerTaskRuntime — one OS
// thread per task, each parking between polls.
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <pollscope/async.hpp>
#include <pollscope/blocking.hpp>
#include <pollscope/count.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/thread_per_task_runtime.hpp>
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
using pollscope::RunError;
using pollscope::RunStatus;
using pollscope::TaskAborted;
using pollscope::TaskHandle;
using pollscope::TaskId;
using pollscope::ThreadPerTaskRuntime;
using pollscope::TraceRecorder;
using pollscope::WakeSource;
using pollscope_test::count_events;
using pollscope_test::events_of;
using pollscope_test::Gate;

namespace {

/// Pending at every poll, keeping no waker: nothing can ever wake it.
template <class T = void>
struct Stuck {
  using Output = T;
  pollscope::Poll<T> poll(pollscope::Context&) { return pollscope::pending; }
};

ExecutorOptions traced(pollscope::Tracer& recorder) {
  ExecutorOptions options;
  options.tracer = &recorder;
  return options;
}

Async<std::uint64_t> count_to(std::uint64_t n) { co_return co_await pollscope::count(n); }

/// Records everything, and lets the test wait until threads have parked.
class ParkCounting final : public pollscope::Tracer {
 public:
  void record(const Event& event) override {
    recorder.record(event);
    if (event.kind != EventKind::park) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++parks_;
    }
    cv_.notify_all();
  }
  /// Waits (at most `limit`) until `n` parks were recorded; false on timeout.
  bool wait_for_parks(int n, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return parks_ >= n; });
  }

  TraceRecorder recorder;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int parks_ = 0;
};

Async<int> after_gate(Gate gate, int value) {
  co_await gate.wait();
  co_return value;
}

}  // namespace

TEST_CASE("ThreadPerTaskRuntime runs the article's two counting tasks and joins their handles",
          "[thread_per_task_runtime]") {
  ThreadPerTaskRuntime runtime;
  TaskHandle<std::uint64_t> handle_1 = runtime.spawn(count_to(10));
  TaskHandle<std::uint64_t> handle_2 = runtime.spawn(count_to(23));
  REQUIRE(handle_1.join() == 10);
  REQUIRE(handle_2.join() == 23);
}

TEST_CASE("ThreadPerTaskRuntime tasks have their own output types, and a task can await another",
          "[thread_per_task_runtime]") {
  ThreadPerTaskRuntime runtime;
  TaskHandle<std::uint64_t> number = runtime.spawn(count_to(3));
  auto text = [](TaskHandle<std::uint64_t> n) -> Async<std::string> {
    const std::uint64_t v = co_await n;
    co_return "got " + std::to_string(v);
  };
  auto nothing = []() -> Async<void> { co_return; };
  TaskHandle<std::string> message = runtime.spawn(text(std::move(number)));
  TaskHandle<void> done = runtime.spawn(nothing());
  REQUIRE(message.id() == 2);
  REQUIRE(message.join() == "got 3");
  done.join();
  REQUIRE(done.is_finished());
}

TEST_CASE("ThreadPerTaskRuntime: join() rethrows the task's exception", "[thread_per_task_runtime]") {
  ThreadPerTaskRuntime runtime;
  TaskHandle<int> h = runtime.spawn(pollscope_test::Fails<int>("thread boom", 2));
  REQUIRE_THROWS_WITH(h.join(), "thread boom");
}

TEST_CASE("Each ThreadPerTaskRuntime task polls, parks and unparks on its own thread", "[thread_per_task_runtime]") {
  ParkCounting tracer;
  {
    ThreadPerTaskRuntime runtime(traced(tracer));
    Gate gate_a;
    Gate gate_b;
    TaskHandle<int> a = runtime.spawn(after_gate(gate_a, 1));
    TaskHandle<int> b = runtime.spawn(after_gate(gate_b, 2));
    // Opened only once both threads sleep: a wake that beat the park would let a
    // thread poll again without parking (what a timer did under TSan's slowdown).
    REQUIRE(tracer.wait_for_parks(2, 10s));
    std::thread opener([&] {
      gate_a.open();
      gate_b.open();
    });
    opener.join();
    REQUIRE(a.join() == 1);
    REQUIRE(b.join() == 2);
  }
  const std::vector<Event> events = tracer.recorder.events();
  for (std::size_t i = 0; i < events.size(); ++i) REQUIRE(events[i].seq == i);
  for (TaskId t : {TaskId{1}, TaskId{2}}) {
    REQUIRE(events_of(events, EventKind::spawn, t).front().thread == 0);
    const std::vector<Event> polls = events_of(events, EventKind::poll_start, t);
    REQUIRE(polls.size() == 2);
    for (const Event& e : polls) REQUIRE(e.thread == t);
  }
  const std::vector<Event> parks = events_of(events, EventKind::park);
  REQUIRE(parks.size() == 2);
  REQUIRE(parks[0].thread != parks[1].thread);
  for (const Event& e : parks) REQUIRE((e.thread == 1 || e.thread == 2));
  const std::vector<Event> unparks = events_of(events, EventKind::unpark);
  REQUIRE(unparks.size() == 2);
  REQUIRE(unparks[0].thread != unparks[1].thread);
  for (const Event& e : unparks) {
    REQUIRE((e.thread == 1 || e.thread == 2));
    REQUIRE(e.source == WakeSource::thread);
  }
}

TEST_CASE("ThreadPerTaskRuntime fires timers on its own thread 0 and they wake the sleeping tasks",
          "[thread_per_task_runtime]") {
  TraceRecorder recorder;
  {
    ThreadPerTaskRuntime runtime(traced(recorder));
    auto sleeper = [](std::chrono::milliseconds d) -> Async<int> {
      co_await pollscope::sleep(d);
      co_return 1;
    };
    TaskHandle<int> a = runtime.spawn(sleeper(5ms));
    TaskHandle<int> b = runtime.spawn(sleeper(2ms));
    REQUIRE(a.join() == 1);
    REQUIRE(b.join() == 1);
  }
  const std::vector<Event> events = recorder.events();
  const std::vector<Event> fires = events_of(events, EventKind::timer_fire);
  REQUIRE(fires.size() == 2);
  for (const Event& e : fires) REQUIRE(e.thread == 0);
  for (TaskId t : {TaskId{1}, TaskId{2}}) {
    const std::vector<Event> wakes = events_of(events, EventKind::wake, t);
    REQUIRE(wakes.size() == 1);
    REQUIRE(wakes.front().source == WakeSource::timer);
  }
  // Whether a thread parked before its timer fired depends on scheduling; a thread
  // that did park was unparked by the timer.
  for (const Event& e : events_of(events, EventKind::unpark)) REQUIRE(e.source == WakeSource::timer);
}

TEST_CASE("ThreadPerTaskRuntime: wakes from other threads, and spawns and joins from inside tasks",
          "[thread_per_task_runtime]") {
  TraceRecorder recorder;
  {
    ThreadPerTaskRuntime runtime(traced(recorder));
    Gate gate;
    auto parent = [](ThreadPerTaskRuntime& rt, Gate g) -> Async<int> {
      TaskHandle<int> child = rt.spawn(after_gate(g, 41));
      co_return child.join() + 1;  // blocking its own thread is allowed here
    };
    TaskHandle<int> p = runtime.spawn(parent(runtime, gate));
    while (!gate.holds_waker()) std::this_thread::sleep_for(1ms);
    std::thread opener([&] { gate.open(); });
    opener.join();
    REQUIRE(p.join() == 42);
  }
  const Event spawn_child = events_of(recorder.events(), EventKind::spawn, 2).front();
  REQUIRE(spawn_child.thread == 1);
  REQUIRE(spawn_child.other == 1);
  const Event wake = events_of(recorder.events(), EventKind::wake, 2).front();
  REQUIRE(wake.source == WakeSource::thread);
  REQUIRE(wake.thread == pollscope::kExternalThread);
}

TEST_CASE("ThreadPerTaskRuntime: abort() cancels a parked task and ends its thread", "[thread_per_task_runtime]") {
  pollscope_test::LifeCounts counts;
  ThreadPerTaskRuntime runtime;
  Gate gate;
  TaskHandle<int> h = runtime.spawn(pollscope_test::carrying(after_gate(gate, 1), counts));
  // The gate holds the waker from inside the poll: wait for the poll to end too, or
  // the abort lands on a RUNNING task, whose future is destroyed only after abort().
  while (!gate.holds_waker() ||
         (pollscope_test::task_of(h)->state.load() & pollscope::detail::task_state::running) != 0) {
    std::this_thread::sleep_for(1ms);
  }
  h.abort();
  REQUIRE(counts.drops() == 1);
  REQUIRE_THROWS_AS(h.join(), TaskAborted);
  REQUIRE(runtime.wait().status == RunStatus::completed);
}

TEST_CASE("Destroying a ThreadPerTaskRuntime cancels unfinished tasks and joins every thread",
          "[thread_per_task_runtime]") {
  pollscope_test::LifeCounts counts;
  std::vector<Gate> gates(6);
  std::vector<TaskHandle<int>> handles;
  {
    ThreadPerTaskRuntime runtime;
    for (std::size_t i = 0; i < gates.size(); ++i) {
      handles.push_back(runtime.spawn(pollscope_test::carrying(after_gate(gates[i], 1), counts)));
    }
    for (auto& g : gates) {
      while (!g.holds_waker()) std::this_thread::sleep_for(100us);
    }
  }
  REQUIRE(counts.drops() == 6);
  for (auto& h : handles) REQUIRE_THROWS_AS(h.join(), TaskAborted);
}

TEST_CASE("Destroying a ThreadPerTaskRuntime waits for a task inside a blocking call", "[thread_per_task_runtime]") {
  pollscope_test::LifeCounts counts;
  std::atomic<pollscope::detail::TaskHeader*> self{nullptr};
  std::atomic<bool> started{false};
  std::atomic<bool> cancel_seen{false};
  std::optional<TaskHandle<int>> h;
  {
    ThreadPerTaskRuntime runtime;
    // Blocks its thread (1 ms blocking calls) until the destructor asks it to stop:
    // abort() of a RUNNING task sets CANCEL_REQUESTED. So the destructor surely
    // starts while the task is inside its blocking poll; a fixed 100 ms block timed
    // from outside could end before a slow machine got to the destructor.
    auto blocker = [](const std::atomic<pollscope::detail::TaskHeader*>& me, std::atomic<bool>& s,
                      std::atomic<bool>& seen) -> Async<int> {
      s.store(true);
      for (;;) {
        const pollscope::detail::TaskHeader* t = me.load();
        if (t != nullptr && (t->state.load() & pollscope::detail::kCancelRequested) != 0) break;
        pollscope::blocking_call(1ms);
      }
      seen.store(true);
      co_return 7;
    };
    h.emplace(runtime.spawn(pollscope_test::carrying(blocker(self, started, cancel_seen), counts)));
    self.store(pollscope_test::task_of(*h));
    while (!started.load()) std::this_thread::sleep_for(100us);  // inside its poll now
  }
  // The destructor asked while the poll was blocked, and returned only after that
  // poll had completed the task (an abort during a poll that returns Ready loses).
  REQUIRE(cancel_seen.load());
  REQUIRE(counts.drops() == 1);
  REQUIRE(h->join() == 7);
}

TEST_CASE("ThreadPerTaskRuntime fails a task that nothing can ever wake, like block_on", "[thread_per_task_runtime]") {
  TraceRecorder recorder;
  {
    ThreadPerTaskRuntime runtime(traced(recorder));
    TaskHandle<void> stuck = runtime.spawn(Stuck<>());
    try {
      stuck.join();
      FAIL("join() returned");
    } catch (const RunError& e) {
      REQUIRE(e.report().status == RunStatus::stalled);
      REQUIRE(e.report().stuck_tasks == std::vector<TaskId>{1});
    }
    REQUIRE(runtime.wait().status == RunStatus::stalled);
  }
  const Event stall = events_of(recorder.events(), EventKind::stall).front();
  REQUIRE(stall.task == 1);
  REQUIRE(stall.thread == 1);
}

TEST_CASE("ThreadPerTaskRuntime: max_polls counts the polls of all tasks", "[thread_per_task_runtime]") {
  ExecutorOptions options;
  options.max_polls = 5;
  ThreadPerTaskRuntime runtime(options);
  TaskHandle<std::uint64_t> h = runtime.spawn(count_to(50));
  try {
    (void)h.join();
    FAIL("join() returned");
  } catch (const RunError& e) {
    REQUIRE(e.report().status == RunStatus::budget_exhausted);
  }
  REQUIRE(runtime.polls() == 5);
}

TEST_CASE("Many ThreadPerTaskRuntime tasks with cross-thread wakes each complete exactly once",
          "[thread_per_task_runtime][stress]") {
#ifdef __EMSCRIPTEN__
  // Every thread is a Web Worker from a fixed pool (PTHREAD_POOL_SIZE): stay well below it.
  const std::uint64_t tasks = std::min<std::uint64_t>(pollscope_test::scaled(300), 8);
#else
  const std::uint64_t tasks = pollscope_test::scaled(300);
#endif
  pollscope_test::StressWorkload load(tasks, 5);
  {
    ThreadPerTaskRuntime runtime;
    std::atomic<bool> stop{false};
    std::thread firer([&] {
      while (!stop.load()) {
        if (load.mailbox.fire(8) == 0) std::this_thread::sleep_for(50us);
      }
    });
    std::vector<TaskHandle<std::uint64_t>> handles;
    for (std::uint64_t i = 0; i < tasks; ++i) handles.push_back(runtime.spawn(load.exclusive(load.u64_task(i))));
    bool ok = true;
    for (std::uint64_t i = 0; i < tasks; ++i) ok &= handles[i].join() == i * 3 + 1;
    stop.store(true);
    firer.join();
    REQUIRE(ok);
  }
  REQUIRE(load.each_completed_once());
  REQUIRE(load.violations.load() == 0);
  REQUIRE(load.futures.live() == 0);
}

#endif  // threads available
