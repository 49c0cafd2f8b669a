// Tests for pollscope/trace.hpp: Event numbering, TraceRecorder, to_string,
// format_duration and format_event, and when a tracer gets events (one by one or
// in batches) and with which times. The tests that start a std::thread (TraceRecorder
// under concurrent recording, a batch delivered before the executor parks) live in
// local_executor_threads_tests.cpp.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/async.hpp>
#include <pollscope/block_on.hpp>
#include <pollscope/blocking.hpp>
#include <pollscope/count.hpp>
#include <pollscope/detail/clock.hpp>
#include <pollscope/detail/trace_buffer.hpp>
#include <pollscope/detail/trace_words.hpp>
#include <pollscope/local_executor.hpp>
#include <pollscope/ready_future.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/executor_helpers.hpp"
#include "../support/test_wakers.hpp"

using namespace std::chrono_literals;
using pollscope::Async;
using pollscope::Event;
using pollscope::EventKind;
using pollscope::ExecutorOptions;
using pollscope::format_duration;
using pollscope::format_event;
using pollscope::kExternalThread;
using pollscope::LocalExecutor;
using pollscope::TraceRecorder;
using pollscope::WakeSource;
using pollscope_test::report_text;
using pollscope_test::take_lines;
using Lines = std::vector<std::string>;

namespace {

// An event of task 2 at 5ms, to be completed by the caller.
Event at_5ms(EventKind kind) {
  Event e;
  e.time = 5ms;
  e.task = 2;
  e.kind = kind;
  return e;
}
Event with_source(Event e, WakeSource source, std::uint64_t other = 0) {
  e.source = source;
  e.other = other;
  return e;
}
Event with_value(Event e, std::uint64_t value) {
  e.value = value;
  return e;
}
Event with_deadline(Event e, std::chrono::nanoseconds deadline) {
  e.deadline = deadline;
  return e;
}
Event on_thread(Event e, std::uint32_t thread) {
  e.thread = thread;
  return e;
}

Async<> sleeps_then_yields(std::chrono::nanoseconds d) {
  co_await pollscope::sleep(d);
  co_await pollscope::yield_now();
}

// At its first poll drives an untraced LocalExecutor and an untraced block_on to
// completion, then wakes itself and returns Pending; Ready(sum of their outputs) next.
class DrivesUntracedExecutors {
 public:
  using Output = std::uint64_t;
  pollscope::Poll<std::uint64_t> poll(pollscope::Context& cx) {
    if (sum_ != 0) return pollscope::ready(sum_);
    LocalExecutor inner;
    pollscope::JoinHandle<std::uint64_t> handle = inner.spawn(pollscope::count(2));
    (void)inner.run();
    sum_ = pollscope_test::take_output(handle) + pollscope::block_on(pollscope::count(3));
    cx.waker().wake_by_ref();
    return pollscope::pending;
  }

 private:
  std::uint64_t sum_ = 0;
};

}  // namespace

TEST_CASE("format_duration prints the largest whole unit with up to three decimals", "[trace]") {
  REQUIRE(format_duration(0ns) == "0ns");
  REQUIRE(format_duration(999ns) == "999ns");
  REQUIRE(format_duration(1us) == "1us");
  REQUIRE(format_duration(1500ns) == "1.5us");
  REQUIRE(format_duration(1001ns) == "1.001us");
  REQUIRE(format_duration(5ms) == "5ms");
  REQUIRE(format_duration(1250us) == "1.25ms");
  REQUIRE(format_duration(1000001ns) == "1ms");  // beyond three decimals: cut, not rounded
  REQUIRE(format_duration(2s) == "2s");
  REQUIRE(format_duration(61s) == "61s");
  REQUIRE(format_duration(1h) == "1h");
  REQUIRE(format_duration(90min) == "1.5h");
}

TEST_CASE("format_event prints one readable line for each kind of event", "[trace]") {
  using K = EventKind;
  const std::vector<std::pair<Event, std::string>> cases = {
      {at_5ms(K::spawn), "[5ms] spawn task 2"},
      {with_source(at_5ms(K::spawn), WakeSource::none, 1), "[5ms] spawn task 2 (from task 1)"},
      {at_5ms(K::poll_start), "[5ms] poll task 2"},
      {at_5ms(K::poll_pending), "[5ms] poll task 2 -> Pending"},
      {with_source(at_5ms(K::poll_pending), WakeSource::self),
       "[5ms] poll task 2 -> Pending (woke itself)"},
      {at_5ms(K::poll_ready), "[5ms] poll task 2 -> Ready"},
      {with_source(at_5ms(K::wake), WakeSource::self), "[5ms] task 2 woken by itself"},
      {with_source(at_5ms(K::wake), WakeSource::task, 3), "[5ms] task 2 woken by task 3"},
      {with_source(at_5ms(K::wake), WakeSource::timer), "[5ms] task 2 woken by a timer"},
      {with_source(at_5ms(K::wake), WakeSource::thread), "[5ms] task 2 woken by another thread"},
      {with_source(at_5ms(K::wake), WakeSource::outside),
       "[5ms] task 2 woken by code outside any task"},
      {at_5ms(K::wake), "[5ms] task 2 woken by someone"},
      {with_source(at_5ms(K::wake_by_ref), WakeSource::task, 3),
       "[5ms] task 2 woken by task 3 (wake_by_ref)"},
      {with_value(at_5ms(K::waker_clone), 2), "[5ms] waker of task 2 cloned (2 alive)"},
      {with_value(at_5ms(K::waker_drop), 0), "[5ms] waker of task 2 dropped (0 alive)"},
      {with_value(at_5ms(K::enqueue), 3), "[5ms] enqueue task 2 (queue: 3)"},
      {with_value(at_5ms(K::dequeue), 0), "[5ms] dequeue task 2 (queue: 0)"},
      {with_deadline(with_value(at_5ms(K::timer_register), 7), 1500ms),
       "[5ms] timer 7 set for task 2 at 1.5s"},
      {with_value(at_5ms(K::timer_fire), 7), "[5ms] timer 7 fired for task 2"},
      {with_value(at_5ms(K::timer_cancel), 7), "[5ms] timer 7 cancelled"},
      {with_deadline(at_5ms(K::park), 20ms), "[5ms] park until 20ms"},
      {at_5ms(K::park), "[5ms] park until woken"},
      {with_source(at_5ms(K::unpark), WakeSource::timer), "[5ms] unpark (timer)"},
      {with_source(at_5ms(K::unpark), WakeSource::thread), "[5ms] unpark (thread)"},
      {at_5ms(K::complete), "[5ms] task 2 complete"},
      {at_5ms(K::abort), "[5ms] task 2 aborted"},
      {at_5ms(K::stall), "[5ms] stalled: task 2 can never be woken"},
      {with_value(at_5ms(K::budget_exhausted), 100), "[5ms] budget exhausted after 100 polls"},
      {on_thread(with_source(with_value(at_5ms(K::steal), 3), WakeSource::none, 1), 2),
       "[5ms] (thread 2) stole 3 tasks from worker 1"},
      {on_thread(at_5ms(K::search), 1), "[5ms] (thread 1) searching for work"},
      {with_deadline(at_5ms(K::blocking), 3ms), "[5ms] task 2 blocked the thread for 3ms"},
      {on_thread(with_source(at_5ms(K::wake), WakeSource::thread), kExternalThread),
       "[5ms] (outside thread) task 2 woken by another thread"},
  };
  for (const auto& [event, line] : cases) {
    CAPTURE(pollscope::to_string(event.kind));
    CHECK(format_event(event) == line);
  }
  Event error = at_5ms(K::task_error);
  error.message = "disk on fire";
  CHECK(format_event(error) == "[5ms] task 2 threw: disk on fire");
}

TEST_CASE("to_string names every event kind and wake source", "[trace]") {
  using K = EventKind;
  const std::vector<std::pair<K, std::string>> kinds = {
      {K::spawn, "spawn"},
      {K::poll_start, "poll_start"},
      {K::poll_pending, "poll_pending"},
      {K::poll_ready, "poll_ready"},
      {K::wake, "wake"},
      {K::wake_by_ref, "wake_by_ref"},
      {K::waker_clone, "waker_clone"},
      {K::waker_drop, "waker_drop"},
      {K::enqueue, "enqueue"},
      {K::dequeue, "dequeue"},
      {K::timer_register, "timer_register"},
      {K::timer_fire, "timer_fire"},
      {K::timer_cancel, "timer_cancel"},
      {K::park, "park"},
      {K::unpark, "unpark"},
      {K::complete, "complete"},
      {K::abort, "abort"},
      {K::stall, "stall"},
      {K::budget_exhausted, "budget_exhausted"},
      {K::task_error, "task_error"},
      {K::steal, "steal"},
      {K::search, "search"},
      {K::blocking, "blocking"},
  };
  for (const auto& [kind, name] : kinds) CHECK(pollscope::to_string(kind) == name);

  CHECK(std::string(pollscope::to_string(WakeSource::none)) == "none");
  CHECK(std::string(pollscope::to_string(WakeSource::self)) == "self");
  CHECK(std::string(pollscope::to_string(WakeSource::task)) == "task");
  CHECK(std::string(pollscope::to_string(WakeSource::timer)) == "timer");
  CHECK(std::string(pollscope::to_string(WakeSource::thread)) == "thread");
  CHECK(std::string(pollscope::to_string(WakeSource::outside)) == "outside");
}

TEST_CASE("Event sequence numbers count from 0 without gaps, across runs of one executor",
          "[trace]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  (void)ex.spawn(sleeps_then_yields(3ms));
  (void)ex.spawn(pollscope::count(4));
  REQUIRE(report_text(ex.run()) == "completed, 7 polls, stuck {}");

  const std::vector<Event> first = recorder.events();
  REQUIRE(first.size() > 20);
  for (std::size_t i = 0; i < first.size(); ++i) REQUIRE(first[i].seq == i);
  recorder.clear();

  (void)ex.spawn(pollscope::count(2));
  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  const std::vector<Event> second = recorder.events();
  REQUIRE(second.size() == 11);
  for (std::size_t i = 0; i < second.size(); ++i) REQUIRE(second[i].seq == first.size() + i);
}

TEST_CASE("Each block_on call numbers its events from 0", "[trace]") {
  TraceRecorder recorder;
  ExecutorOptions options;
  options.tracer = &recorder;
  REQUIRE(pollscope::block_on(pollscope::count(2), options) == 2);
  REQUIRE(pollscope::block_on(pollscope::count(1), options) == 1);

  std::vector<std::uint64_t> seqs;
  for (const Event& e : recorder.events()) seqs.push_back(e.seq);
  REQUIRE(seqs == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, /* second call */ 0, 1, 2, 3});
}

TEST_CASE("TraceRecorder keeps every event in order and hands out independent copies", "[trace]") {
  TraceRecorder recorder;
  REQUIRE(recorder.size() == 0);
  recorder.record(at_5ms(EventKind::spawn));
  recorder.record(at_5ms(EventKind::poll_start));
  recorder.record(at_5ms(EventKind::complete));
  REQUIRE(recorder.size() == 3);

  std::vector<Event> copy = recorder.events();
  REQUIRE(copy == std::vector<Event>{at_5ms(EventKind::spawn), at_5ms(EventKind::poll_start),
                                     at_5ms(EventKind::complete)});
  copy.clear();
  REQUIRE(recorder.size() == 3);

  recorder.clear();
  REQUIRE(recorder.size() == 0);
  REQUIRE(recorder.events().empty());
}

TEST_CASE(
    "Executors nested in a traced task record nothing into its trace, which resumes afterwards",
    "[trace]") {
  // The inner LocalExecutor and block_on have no tracer: nothing of theirs may land
  // in the outer trace, and once they return the outer task's self-wake must be
  // traced as such again.
  TraceRecorder recorder;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  pollscope::JoinHandle<std::uint64_t> handle = ex.spawn(DrivesUntracedExecutors{});

  REQUIRE(report_text(ex.run()) == "completed, 2 polls, stuck {}");
  REQUIRE(pollscope_test::take_output(handle) == 5);
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
                                      "[0ns] task 1 complete",
                                  });
}

// --- delivery: batches, and what a batched tracer sees when ---

namespace {

/// A tracer that takes batches and notes each delivery: a batch (how many events)
/// or a single event; `events` is everything, decoded.
class DeliveryLog final : public pollscope::Tracer {
 public:
  void record(const Event& event) override {
    deliveries.push_back("event " + std::string(pollscope::to_string(event.kind)));
    events.push_back(event);
  }
  void record_batch(const pollscope::TraceBatch& batch) override {
    const std::vector<Event> decoded = batch.decode();
    REQUIRE(decoded.size() == batch.events);
    deliveries.push_back("batch of " + std::to_string(batch.events) + " ending " +
                         pollscope::to_string(decoded.back().kind));
    events.insert(events.end(), decoded.begin(), decoded.end());
  }
  bool batched() const noexcept override { return batched_; }

  explicit DeliveryLog(bool batched = true) : batched_(batched) {}
  std::vector<std::string> deliveries;
  std::vector<Event> events;

 private:
  bool batched_;
};

Async<> yields(int times) {
  for (int i = 0; i < times; ++i) co_await pollscope::yield_now();
}

/// Yields `times` times, noting before each yield how many deliveries `log` had.
Async<> yields_noting(int times, const DeliveryLog* log, std::vector<std::size_t>* seen) {
  for (int i = 0; i < times; ++i) {
    seen->push_back(log->deliveries.size());
    co_await pollscope::yield_now();
  }
}

}  // namespace

TEST_CASE("A batched tracer gets a run's events in one batch when run() returns, and events outside a run at once",
          "[trace]") {
  DeliveryLog log;
  ExecutorOptions options;
  options.virtual_clock = true;
  options.tracer = &log;
  LocalExecutor ex(options);
  std::vector<std::size_t> seen;
  (void)ex.spawn(yields_noting(3, &log, &seen));
  REQUIRE(log.deliveries == Lines{"event spawn", "event enqueue"});

  REQUIRE(report_text(ex.run()) == "completed, 4 polls, stuck {}");
  // Nothing of the run reached the tracer while it ran.
  REQUIRE(seen == std::vector<std::size_t>{2, 2, 2});
  REQUIRE(log.deliveries == Lines{"event spawn", "event enqueue", "batch of 19 ending complete"});
  for (std::size_t i = 0; i < log.events.size(); ++i) REQUIRE(log.events[i].seq == i);
}

TEST_CASE("Batched and unbatched delivery give a tracer the same events", "[trace]") {
  auto trace_with = [](DeliveryLog& log) {
    ExecutorOptions options;
    options.virtual_clock = true;
    options.tracer = &log;
    LocalExecutor ex(options);
    (void)ex.spawn(sleeps_then_yields(3ms));
    (void)ex.spawn(pollscope::count(4));
    (void)ex.spawn(yields(2));
    REQUIRE(report_text(ex.run()) == "completed, 10 polls, stuck {}");
  };
  DeliveryLog batched(true), unbatched(false);
  trace_with(batched);
  trace_with(unbatched);
  REQUIRE(batched.events.size() > 40);
  REQUIRE(batched.events == unbatched.events);
  REQUIRE(unbatched.deliveries.size() == unbatched.events.size());
  REQUIRE(batched.deliveries.size() == 6 + 1);  // 3 spawns and enqueues, then the run
}

TEST_CASE("A run queue longer than a word's 16-bit field gives the same events batched and unbatched",
          "[trace]") {
  // A yielding task, then 65,600 that are ready at once: the first polls' dequeues,
  // and the yield's enqueue, count more queued tasks than a word's field holds, so
  // the batch falls back to the events' long forms there.
  constexpr int kReadyTasks = 65'600;
  auto trace_with = [](DeliveryLog& log) {
    ExecutorOptions options;
    options.virtual_clock = true;
    options.tracer = &log;
    LocalExecutor ex(options);
    (void)ex.spawn(yields(1));
    for (int i = 0; i < kReadyTasks; ++i) (void)ex.spawn(pollscope::ready_future());
    REQUIRE(report_text(ex.run()) == "completed, 65602 polls, stuck {}");
  };
  DeliveryLog batched(true), unbatched(false);
  trace_with(batched);
  trace_with(unbatched);
  REQUIRE(batched.events == unbatched.events);
  const std::vector<Event> enqueues = pollscope_test::events_of(batched.events, EventKind::enqueue, 1);
  REQUIRE(enqueues.size() == 2);
  REQUIRE(enqueues[1].value == kReadyTasks + 1);  // behind every ready task
  REQUIRE(pollscope_test::events_of(batched.events, EventKind::dequeue, 2).at(0).value == kReadyTasks);
}

TEST_CASE("A run with more events than a batch holds delivers several, numbered without gaps", "[trace]") {
  DeliveryLog log;
  TraceRecorder recorder;
  for (pollscope::Tracer* tracer : std::initializer_list<pollscope::Tracer*>{&log, &recorder}) {
    ExecutorOptions options;
    options.virtual_clock = true;
    options.tracer = tracer;
    LocalExecutor ex(options);
    (void)ex.spawn(yields(1000));
    REQUIRE(report_text(ex.run()) == "completed, 1001 polls, stuck {}");
  }
  // A yield is five events in three words (a paired poll opening, the wake, a paired
  // requeued end; on a virtual clock no mark): 1024 words fill a batch about every
  // 340 polls, so the run's 3,003 words make three batches.
  REQUIRE(log.deliveries.size() == 2 + 3);
  REQUIRE(log.events.size() == 2 + 5 * 1000 + 4);
  for (std::size_t i = 0; i < log.events.size(); ++i) REQUIRE(log.events[i].seq == i);
  REQUIRE(recorder.events() == log.events);
}

TEST_CASE("On the real clock a poll's events carry the time it started, and times never run backwards",
          "[trace]") {
  // The executor's clock starts at its first reading (the first spawn's event).
  const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  TraceRecorder recorder;
  ExecutorOptions options;
  options.tracer = &recorder;
  LocalExecutor ex(options);
  (void)ex.spawn(yields(200));
  (void)ex.spawn(sleeps_then_yields(1ms));
  (void)ex.spawn([]() -> Async<> {
    pollscope::blocking_call(2ms);  // the events after it in this poll happen 2 ms later
    co_await pollscope::yield_now();
  }());
  REQUIRE(report_text(ex.run()) == "completed, 206 polls, stuck {}");
  const auto elapsed = std::chrono::steady_clock::now() - start;

  const std::vector<Event> events = recorder.events();
  REQUIRE(events.back().time <= elapsed);
  std::chrono::nanoseconds poll_time{-1};
  bool blocked = false;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    if (i > 0) REQUIRE(events[i - 1].time <= e.time);
    if (e.kind == EventKind::dequeue) {
      poll_time = e.time;
      blocked = false;
    } else if (e.kind == EventKind::blocking) {
      REQUIRE(e.time == poll_time);
      blocked = true;
    } else if (e.kind == EventKind::poll_start || e.kind == EventKind::poll_pending ||
               e.kind == EventKind::wake_by_ref) {
      if (blocked) {
        REQUIRE(e.time >= poll_time + 2ms);
      } else {
        REQUIRE(e.time == poll_time);
      }
    }
  }
}

TEST_CASE("TraceRecorder keeps single events and batches in one stream with exact seq and time", "[trace]") {
  TraceRecorder recorder;
  Event first = at_5ms(EventKind::spawn);
  first.seq = 0;
  recorder.record(first);

  pollscope::detail::Clock clock(/*is_virtual=*/true);
  clock.advance_to(9ms);
  pollscope::detail::TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(pollscope::detail::trace_words::short_event(EventKind::poll_start, 2, 0, WakeSource::none));
  buffer.add_short(pollscope::detail::trace_words::short_event(EventKind::poll_ready, 2, 0, WakeSource::none));
  recorder.record_batch(buffer.batch(20));  // seq 20 and 21 (not following seq 0)

  Event last = at_5ms(EventKind::complete);  // seq 22, back at 5 ms: after a batch the time is re-marked
  last.seq = 22;
  recorder.record(last);

  REQUIRE(recorder.size() == 4);
  const std::vector<Event> events = recorder.events();
  REQUIRE(events.size() == 4);
  REQUIRE(events[0] == first);
  REQUIRE(events[1].seq == 20);
  REQUIRE(events[1].time == 9ms);
  REQUIRE(events[1].kind == EventKind::poll_start);
  REQUIRE(events[2].seq == 21);
  REQUIRE(events[2].kind == EventKind::poll_ready);
  REQUIRE(events[3] == last);
}

TEST_CASE("A tracer that only takes single events gets a batch's events one by one, decoded", "[trace]") {
  class SingleEvents final : public pollscope::Tracer {
   public:
    void record(const Event& event) override {
      deliveries.push_back("event " + std::string(pollscope::to_string(event.kind)));
      events.push_back(event);
    }
    std::vector<std::string> deliveries;
    std::vector<Event> events;
  } log;
  pollscope::detail::Clock clock(/*is_virtual=*/true);
  pollscope::detail::TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(pollscope::detail::trace_words::short_event(EventKind::poll_start, 3, 0, WakeSource::none));
  buffer.add_short(pollscope::detail::trace_words::short_event(EventKind::complete, 3, 0, WakeSource::none));
  log.record_batch(buffer.batch(5));  // the default: one record() per event
  REQUIRE(log.deliveries == Lines{"event poll_start", "event complete"});
  REQUIRE(log.events[1].seq == 6);
}
