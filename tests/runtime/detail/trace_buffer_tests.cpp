// Tests for pollscope/detail/trace_buffer.hpp: marks written only when the time
// changes, when a batch is due, what a batch holds, and tick stamps on the real
// clock (calibrated, never running backwards).
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/detail/clock.hpp>
#include <pollscope/detail/tick_clock.hpp>
#include <pollscope/detail/trace_buffer.hpp>
#include <pollscope/detail/trace_words.hpp>
#include <pollscope/trace.hpp>

using namespace std::chrono_literals;
namespace words = pollscope::detail::trace_words;
using pollscope::Event;
using pollscope::EventKind;
using pollscope::WakeSource;
using pollscope::detail::Clock;
using pollscope::detail::TraceBuffer;

namespace {

std::uint64_t poll_start(std::uint64_t task) {
  return words::short_event(EventKind::poll_start, task, 0, WakeSource::none);
}

std::vector<std::uint64_t> words_of(const pollscope::TraceBatch& batch) {
  return {batch.words.begin(), batch.words.end()};
}

}  // namespace

TEST_CASE("On a virtual clock a buffer writes a time mark only when the time changes", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  TraceBuffer buffer(clock);
  REQUIRE_FALSE(buffer.uses_ticks());

  buffer.mark(buffer.stamp_now());  // a batch's first event always gets a mark, even at 0
  buffer.add_short(poll_start(1));
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(2));
  clock.advance_to(5ms);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(3));

  const pollscope::TraceBatch batch = buffer.batch(40);
  REQUIRE(batch.first_seq == 40);
  REQUIRE(batch.events == 3);
  REQUIRE(words_of(batch) == std::vector<std::uint64_t>{words::time_mark(0), poll_start(1), poll_start(2),
                                                         words::time_mark(5'000'000), poll_start(3)});
  const std::vector<Event> events = batch.decode();
  REQUIRE(events.size() == 3);
  REQUIRE(events[2].seq == 42);
  REQUIRE(events[2].task == 3);
  REQUIRE(events[2].time == 5ms);
}

TEST_CASE("After clear() the next batch starts with a mark of its own", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  clock.advance_to(7ns);
  TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(1));
  buffer.clear();
  REQUIRE(buffer.events() == 0);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(2));
  REQUIRE(words_of(buffer.batch(1)) == std::vector<std::uint64_t>{words::time_mark(7), poll_start(2)});
}

TEST_CASE("A buffer is due once it holds kBatchWords words, not before", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  for (std::size_t i = 1; i < TraceBuffer::kBatchWords - 1; ++i) buffer.add_short(poll_start(i));
  REQUIRE_FALSE(buffer.due());  // one mark + kBatchWords - 2 events
  buffer.add_short(poll_start(1));
  REQUIRE(buffer.due());
  REQUIRE(buffer.events() == TraceBuffer::kBatchWords - 1);
}

TEST_CASE("A paired word counts as two events in a batch", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  buffer.add_pair(words::poll_opening(1, 0));
  buffer.add_short(poll_start(2));
  buffer.add_pair(words::poll_requeued(1, WakeSource::self, 1));
  REQUIRE(buffer.events() == 5);
  const pollscope::TraceBatch batch = buffer.batch(10);
  REQUIRE(batch.events == 5);
  const std::vector<Event> events = batch.decode();
  REQUIRE(events.size() == 5);
  REQUIRE(events[4].kind == EventKind::enqueue);
  REQUIRE(events[4].seq == 14);
}

TEST_CASE("A long event with a large message grows the buffer and decodes intact", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  TraceBuffer buffer(clock);
  Event error;
  error.kind = EventKind::task_error;
  error.task = 9;
  error.message = std::string(20'000, 'x');
  buffer.mark(buffer.stamp_now());
  buffer.add(error);
  buffer.add_short(poll_start(9));
  const pollscope::TraceBatch batch = buffer.batch(0);
  REQUIRE(batch.words.size() == 1 + words::kLongEventWords + 20'000 / 8 + 1);
  const std::vector<Event> events = batch.decode();
  REQUIRE(events.size() == 2);
  REQUIRE(events[0].message == error.message);
  REQUIRE(events[1].seq == 1);
}

TEST_CASE("A time too far out for a one-word mark gets a wide one", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/true);
  const auto far = std::chrono::nanoseconds(static_cast<std::int64_t>(words::kMarkLimit) + 1);
  clock.advance_to(far);
  TraceBuffer buffer(clock);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(1));
  const pollscope::TraceBatch batch = buffer.batch(0);
  REQUIRE(words_of(batch) == std::vector<std::uint64_t>{words::kWideTimeMark,
                                                         static_cast<std::uint64_t>(far.count()), poll_start(1)});
  REQUIRE(batch.decode().at(0).time == far);
}

TEST_CASE("On the real clock stamps are ticks exactly when the CPU has an invariant tick clock", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/false);
  TraceBuffer buffer(clock);
  REQUIRE(buffer.uses_ticks() == pollscope::detail::tick_clock::available());
}

TEST_CASE("Real-clock stamps decode to times that never run backwards and lie within the batch", "[trace_buffer]") {
  Clock clock(/*is_virtual=*/false);
  TraceBuffer buffer(clock);
  const std::chrono::nanoseconds before = clock.now();
  // A stamp taken before the batch opens (a poll held across batches).
  const TraceBuffer::Stamp early = buffer.stamp_now();
  std::this_thread::sleep_for(1ms);
  buffer.mark(buffer.stamp_now());
  buffer.add_short(poll_start(1));
  for (std::uint64_t task = 2; task <= 200; ++task) {
    buffer.mark(buffer.stamp_now());
    buffer.add_short(poll_start(task));
    if (task == 100) std::this_thread::sleep_for(1ms);
  }
  buffer.mark(early);
  buffer.add_short(poll_start(201));
  const pollscope::TraceBatch batch = buffer.batch(0);
  const std::chrono::nanoseconds after = clock.now();

  if (buffer.uses_ticks()) REQUIRE(batch.words[0] == words::kCalibration);
  const std::vector<Event> events = batch.decode();
  REQUIRE(events.size() == 201);
  REQUIRE(events.front().time >= before + 1ms);
  REQUIRE(events.back().time <= after);
  for (std::size_t i = 0; i + 2 < events.size(); ++i) REQUIRE(events[i].time <= events[i + 1].time);
  REQUIRE(events[100].time - events[99].time >= 1ms);  // the sleep between them shows
  if (buffer.uses_ticks()) {
    // The early stamp is older than the batch: it gets the batch's start.
    REQUIRE(events.back().time == events.front().time);
  } else {
    REQUIRE(events.back().time < events.front().time);  // a clock reading is kept as it was
  }
}
