// Tests that start a std::thread: wakes from other threads for LocalExecutor and
// block_on, wakers outliving their executor on another thread, TraceRecorder under
// concurrent recording, and a batch delivered before the executor parks.
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there (scripts/count-tests.mjs evaluates the
// #if with each build's macros, so the expected test count follows). Thread tests
// of other headers live in their own *_threads_tests.cpp, guarded the same way.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/block_on.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/trace.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::Context;
using pollscope::Event;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::JoinHandle;
using pollscope::LocalExecutor;
using pollscope::Poll;
using pollscope::TraceRecorder;
using pollscope::Waker;
using pollscope::WakeSource;
using pollscope_test::Gate;
using pollscope_test::LifeCounts;
using pollscope_test::report_text;
using pollscope_test::untimed_lines;
using Lines = std::vector<std::string>;

namespace {

// Records into `recorder` and lets another thread wait until the executor records
// a `park` event, i.e. is about to wait: a wake sent after that reaches a parked
// (or parking) executor, which makes the trace deterministic.
class ParkSignal final : public pollscope::Tracer {
 public:
  void record(const Event& event) override {
    recorder.record(event);
    if (event.kind == EventKind::park) {
      std::lock_guard<std::mutex> lock(mutex_);
      parked_ = true;
      cv_.notify_all();
    }
  }
  /// Waits for the first park. The timeout only keeps a broken executor (one that
  /// never parks) from hanging the test: the wake is sent either way.
  void wait_for_park() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, 10s, [&] { return parked_; });
  }

  TraceRecorder recorder;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool parked_ = false;
};

// Takes batches, notes each delivery ("event <kind>", or "batch of <n> ending
// <kind>") and lets another thread wait for a batch that ends with a park: the
// executor delivers it just before it waits.
class BatchUntilPark final : public pollscope::Tracer {
 public:
  void record(const Event& event) override { note("event " + std::string(pollscope::to_string(event.kind)), false); }
  void record_batch(const pollscope::TraceBatch& batch) override {
    const std::vector<Event> events = batch.decode();
    note("batch of " + std::to_string(batch.events) + " ending " + pollscope::to_string(events.back().kind),
         events.back().kind == EventKind::park);
  }
  bool batched() const noexcept override { return true; }

  /// Waits (at most 10 s) for a batch ending with a park; false on timeout.
  bool wait_for_parked_batch() {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] { return parked_; });
  }
  Lines deliveries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return deliveries_;
  }

 private:
  void note(std::string delivery, bool parks) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      deliveries_.push_back(std::move(delivery));
      parked_ = parked_ || parks;
    }
    cv_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  Lines deliveries_;
  bool parked_ = false;
};

// At its first poll hands a clone of its waker to `to_thread`, waits (inside the
// poll) until the other thread has woken it, and returns Pending. Ready after.
class WokenByThreadDuringPoll {
 public:
  using Output = void;
  WokenByThreadDuringPoll(std::promise<Waker>& to_thread, std::future<void>& woken)
      : to_thread_(&to_thread), woken_(&woken) {}
  Poll<void> poll(Context& cx) {
    if (++polls_ > 1) return pollscope::ready();
    to_thread_->set_value(cx.waker());
    woken_->wait();
    return pollscope::pending;
  }

 private:
  std::promise<Waker>* to_thread_;
  std::future<void>* woken_;
  int polls_ = 0;
};

// At its first poll starts a thread that wakes a clone of its waker at once, joins
// it, and returns Pending: the wake lands before block_on can park. Ready after.
class WokenBeforePark {
 public:
  using Output = int;
  Poll<int> poll(Context& cx) {
    if (++polls_ > 1) return pollscope::ready(polls_);
    std::thread waker_thread([w = Waker(cx.waker())]() mutable { std::move(w).wake(); });
    waker_thread.join();
    return pollscope::pending;
  }

 private:
  int polls_ = 0;
};

}  // namespace

// --- LocalExecutor ------------------------------------------------------------------

TEST_CASE(
    "A wake from another thread is picked up by run(), which waits for it while that thread can "
    "wake",
    "[local_executor][threads]") {
  ParkSignal tracer;
  ExecutorOptions options;  // real clock
  options.tracer = &tracer;
  LocalExecutor ex(options);
  Gate gate;
  JoinHandle<void> handle = ex.spawn(gate.wait());
  std::thread opener([&] {
    tracer.wait_for_park();
    gate.open();
  });

  const pollscope::RunReport report = ex.run();
  opener.join();
  REQUIRE(report_text(report) == "completed, 2 polls, stuck {}");
  const std::vector<Event> events = tracer.recorder.events();
  REQUIRE(untimed_lines(events) == Lines{
                                       "spawn task 1",
                                       "enqueue task 1 (queue: 1)",
                                       "dequeue task 1 (queue: 0)",
                                       "poll task 1",
                                       "waker of task 1 cloned (1 alive)",
                                       "poll task 1 -> Pending",
                                       "park until woken",
                                       "unpark (thread)",
                                       "(outside thread) task 1 woken by another thread",
                                       "enqueue task 1 (queue: 1)",
                                       "dequeue task 1 (queue: 0)",
                                       "poll task 1",
                                       "poll task 1 -> Ready",
                                       "task 1 complete",
                                   });
  const auto wakes = pollscope_test::events_of(events, EventKind::wake);
  REQUIRE(wakes.size() == 1);
  REQUIRE(wakes[0].thread == pollscope::kExternalThread);
  REQUIRE(wakes[0].source == WakeSource::thread);
}

TEST_CASE(
    "On the real clock run() waits for a waker held by another thread instead of reporting a stall",
    "[local_executor][threads]") {
  LocalExecutor ex;  // real clock
  Gate gate;
  JoinHandle<void> handle = ex.spawn(gate.wait());
  std::thread opener([&] {
    while (!gate.holds_waker()) std::this_thread::yield();
    std::this_thread::sleep_for(5ms);
    gate.open();
  });

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  opener.join();
  REQUIRE(gate.polls() == 2);
  REQUIRE(handle.is_finished());
}

TEST_CASE("A task woken from another thread while it is being polled is polled exactly once more",
          "[local_executor][threads]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  std::promise<Waker> waker_for_thread;
  std::promise<void> woken;
  std::future<void> woken_future = woken.get_future();
  JoinHandle<void> handle = ex.spawn(WokenByThreadDuringPoll(waker_for_thread, woken_future));
  std::thread waker_thread([&] {
    Waker w = waker_for_thread.get_future().get();
    std::move(w).wake();
    woken.set_value();
  });

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  waker_thread.join();
  // A wake from another thread is traced when run() picks it up: here after the
  // poll that it made re-queue the task.
  REQUIRE(untimed_lines(recorder.events()) == Lines{
                                                  "spawn task 1",
                                                  "enqueue task 1 (queue: 1)",
                                                  "dequeue task 1 (queue: 0)",
                                                  "poll task 1",
                                                  "waker of task 1 cloned (1 alive)",
                                                  "poll task 1 -> Pending",
                                                  "enqueue task 1 (queue: 1)",
                                                  "(outside thread) task 1 woken by another thread",
                                                  "dequeue task 1 (queue: 0)",
                                                  "poll task 1",
                                                  "poll task 1 -> Ready",
                                                  "task 1 complete",
                                              });
}

TEST_CASE(
    "Wakers may be woken and dropped on another thread while and after their executor is destroyed",
    "[local_executor][threads]") {
  LifeCounts future_counts;
  std::atomic<int> wakes{0};
  std::atomic<bool> stop{false};
  std::thread waker_thread;
  {
    LocalExecutor ex(ExecutorOptions{.virtual_clock = true});
    Gate gate;
    (void)ex.spawn(pollscope_test::carrying(gate.wait(), future_counts));
    REQUIRE(report_text(ex.run()) == "stalled, 1 polls, stuck {1}");
    std::optional<Waker> waker = gate.clone_waker();
    gate.forget_waker();
    waker_thread = std::thread([w = std::move(*waker), &wakes, &stop]() mutable {
      while (!stop.load()) {
        w.wake_by_ref();
        Waker clone = w;
        clone.wake_by_ref();
        wakes.fetch_add(1);
      }
      std::move(w).wake();
    });
    while (wakes.load() < 10) std::this_thread::yield();
  }  // the executor is destroyed while the thread keeps waking
  REQUIRE(future_counts.drops() == 1);
  stop.store(true);
  waker_thread.join();
  REQUIRE(future_counts.live() == 0);
}

// --- block_on ---------------------------------------------------------------------

TEST_CASE("block_on parks until another thread wakes its future", "[block_on][threads]") {
  ParkSignal tracer;
  ExecutorOptions options;  // real clock
  options.tracer = &tracer;
  Gate gate;
  std::thread opener([&] {
    tracer.wait_for_park();
    gate.open();
  });
  pollscope::block_on(gate.wait(), options);
  opener.join();

  REQUIRE(gate.polls() == 2);
  REQUIRE(untimed_lines(tracer.recorder.events()) == Lines{
                                                         "spawn task 1",
                                                         "poll task 1",
                                                         "waker of task 1 cloned (1 alive)",
                                                         "poll task 1 -> Pending",
                                                         "park until woken",
                                                         "unpark (thread)",
                                                         "poll task 1",
                                                         "poll task 1 -> Ready",
                                                         "task 1 complete",
                                                     });
}

TEST_CASE("A wake from another thread that arrives before block_on parks is not lost",
          "[block_on][threads]") {
  TraceRecorder recorder;
  ExecutorOptions options;  // real clock: a lost wake would park forever, or stall
  options.tracer = &recorder;
  REQUIRE(pollscope::block_on(WokenBeforePark{}, options) == 2);
  REQUIRE(untimed_lines(recorder.events()) == Lines{
                                                  "spawn task 1",
                                                  "poll task 1",
                                                  "waker of task 1 cloned (1 alive)",
                                                  "poll task 1 -> Pending",
                                                  "poll task 1",
                                                  "poll task 1 -> Ready",
                                                  "task 1 complete",
                                              });
}

// --- TraceRecorder ------------------------------------------------------------------

TEST_CASE("A batch is delivered before the executor parks, ending with the park event", "[trace][threads]") {
  BatchUntilPark log;
  ExecutorOptions options;
  options.tracer = &log;  // real clock: run() really waits for the gate's waker
  LocalExecutor ex(options);
  Gate gate;
  (void)ex.spawn(gate.wait());
  // Opened only once the batch that ends with the park has arrived: the run's events
  // so far reach the tracer before its thread sleeps, not when run() returns.
  bool parked_batch = false;
  std::thread opener([&] {
    parked_batch = log.wait_for_parked_batch();
    gate.open();
  });
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  opener.join();
  REQUIRE(parked_batch);
  // dequeue, poll_start, the gate's waker clone, poll_pending, park; then unpark, the
  // wake from the opener's thread, enqueue, dequeue, poll_start, poll_ready, complete.
  REQUIRE(log.deliveries() == Lines{"event spawn", "event enqueue", "batch of 5 ending park",
                                    "batch of 7 ending complete"});
}

TEST_CASE("TraceRecorder::events() returns a consistent copy while another thread records",
          "[trace][threads]") {
  constexpr std::uint64_t kEvents = 20000;
  TraceRecorder recorder;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t i = 0; i < kEvents; ++i) {
      Event e;
      e.seq = i;
      e.kind = EventKind::poll_start;
      e.task = i + 1;
      recorder.record(e);
    }
    done.store(true);
  });

  int copies = 0;
  bool consistent = true;
  while (!done.load() || copies == 0) {
    const std::vector<Event> copy = recorder.events();
    for (std::size_t i = 0; i < copy.size(); ++i)
      consistent = consistent && copy[i].seq == i && copy[i].task == i + 1;
    ++copies;
  }
  writer.join();
  REQUIRE(consistent);
  REQUIRE(recorder.size() == kEvents);
  REQUIRE(recorder.events().back().seq == kEvents - 1);
}

// --- task state transitions across threads ----------------------------------------------
// (Step-by-step single-thread transitions: local_executor_tests.cpp, "the task state
// machine"; the table in docs/hardening-notes.md maps each to its test.)

namespace {

using pollscope::detail::TaskHeader;
using pollscope_test::counts_text;
using pollscope_test::state_text;
using pollscope_test::Steps;
using pollscope_test::task_of;

std::string snapshot(const TaskHeader* t) { return state_text(t) + "; " + counts_text(t); }

using pollscope_test::Relay;
using pollscope_test::RelayedWakes;

}  // namespace

TEST_CASE("A wake from another thread during a poll leaves the RUNNING task's state to its poller, which "
          "re-queues it: the task is polled exactly once more",
          "[local_executor][task_state][threads]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.max_polls = 1;
  SECTION("untraced") {}
  SECTION("traced") { options.tracer = &recorder; }
  pollscope_test::LifeCounts futures;
  TaskHeader* t = nullptr;
  std::string in_poll;
  int polls = 0;
  LocalExecutor ex(options);
  JoinHandle<int> handle = ex.spawn(Steps(futures, {[&](Context& cx) -> Poll<int> {
                                                      ++polls;
                                                      std::thread waker_thread(
                                                          [w = Waker(cx.waker())]() mutable { std::move(w).wake(); });
                                                      waker_thread.join();
                                                      in_poll = snapshot(t);
                                                      return pollscope::pending;
                                                    },
                                                    [&](Context&) -> Poll<int> {
                                                      ++polls;
                                                      return pollscope::ready(1);
                                                    }}));
  t = task_of(handle);

  REQUIRE(report_text(ex.run()) == "budget exhausted, 1 polls, stuck {}");
  // The wake waits in the executor's remote queue, with a reference of its own, until
  // run() takes it; the poller found it there and re-queued the task.
  REQUIRE(in_poll == "RUNNING; refs 3, wakers 0");
  REQUIRE(snapshot(t) == "SCHEDULED; refs 2, wakers 0");
  REQUIRE(report_text(ex.run()) == "completed, 1 polls, stuck {}");
  REQUIRE(polls == 2);
  REQUIRE(snapshot(t) == "COMPLETED; refs 1, wakers 0");
}

TEST_CASE("A wake from another thread racing the end of each poll is never lost and never doubles a poll",
          "[local_executor][task_state][threads]") {
  constexpr int kRounds = 2000;
  Relay relay;
  std::thread waker_thread([&] { relay.wake_each(); });
  std::string result;
  int output = 0;
  {
    LocalExecutor ex;  // real clock: run() waits while the relay holds the waker
    JoinHandle<int> handle = ex.spawn(RelayedWakes(relay, kRounds));
    result = report_text(ex.run());
    if (handle.is_finished()) output = pollscope_test::take_output(handle);
  }
  relay.finish();
  waker_thread.join();
  // A lost wake would end the run stalled; a doubled poll would show in the count.
  REQUIRE(result == "completed, " + std::to_string(kRounds + 1) + " polls, stuck {}");
  REQUIRE(output == kRounds + 1);
}

TEST_CASE("On the real clock run() reports a stall once another thread drops the task's last waker without "
          "waking it",
          "[local_executor][stall][threads]") {
  // run() waits while a waker of an unfinished task is alive outside the executor.
  // When that waker is dropped unwoken, nothing can wake the task any more: run()
  // must stop waiting and report the stall, as it does when no waker is alive at all.
  pollscope_test::HandOff hand_off;
  pollscope_test::ParkAfterPending tracer;
  std::promise<std::string> result;
  std::future<std::string> result_future = result.get_future();
  std::promise<void> decided;  // the executor (and the task) live until the test decided on a rescue
  std::shared_future<void> decided_future = decided.get_future().share();
  std::thread owner([&] {
    ExecutorOptions options;  // real clock
    options.tracer = &tracer;
    LocalExecutor ex(options);
    JoinHandle<int> handle = ex.spawn(pollscope_test::HandsOffWaker(hand_off));
    result.set_value(pollscope_test::status_text(ex.run()));
    decided_future.wait();
  });
  REQUIRE(tracer.wait_for_park(10s));  // run() waits for the waker the test holds
  hand_off.drop_when_handed();         // dropped here, unwoken: the task is stuck now

  // As patient as the wait for the park: a loaded machine under TSan may take seconds
  // to schedule the threads involved; only a broken executor needs the rescue.
  const bool stopped = result_future.wait_for(10s) == std::future_status::ready;
  if (!stopped) hand_off.rescue();  // let the run end (the task is Ready at its next poll)
  decided.set_value();
  const std::string report = result_future.get();
  owner.join();
  CHECK(stopped);
  REQUIRE(report == "stalled, stuck {1}");
}

TEST_CASE("block_on reports a stall once another thread drops the future's last waker without waking it while "
          "block_on is parked",
          "[block_on][stall][threads]") {
  // block_on parks while a waker of its future is alive (parker live_wakers > 0).
  // When that waker is dropped unwoken nothing can unpark it: it must report the
  // stall (RunError, stuck task 1) as it does when no waker is alive after a poll.
  pollscope_test::HandOff hand_off;
  pollscope_test::ParkAfterPending tracer;
  std::promise<std::string> result;
  std::future<std::string> result_future = result.get_future();
  // The thread exits (and frees the parker it keeps as its spare after the call) only
  // once the test decided on a rescue.
  std::promise<void> decided;
  std::shared_future<void> decided_future = decided.get_future().share();
  std::thread caller([&] {
    ExecutorOptions options;  // real clock
    options.tracer = &tracer;
    try {
      const int polls = pollscope::block_on(pollscope_test::HandsOffWaker(hand_off), options);
      result.set_value("returned after " + std::to_string(polls) + " polls");
    } catch (const pollscope::RunError& e) {
      result.set_value(pollscope_test::status_text(e.report()));
    }
    decided_future.wait();
  });
  REQUIRE(tracer.wait_for_park(10s));
  hand_off.drop_when_handed();

  const bool stopped = result_future.wait_for(10s) == std::future_status::ready;  // as patient as above
  if (!stopped) hand_off.rescue();  // unparks block_on through its (still alive) parker
  decided.set_value();
  const std::string report = result_future.get();
  caller.join();
  CHECK(stopped);
  REQUIRE(report == "stalled, stuck {1}");
}

#endif  // threads available
