// Tests for pollscope/detail/trace_words.hpp: which events take one word, paired
// words, the long form, time, seq and calibration marks, and what a malformed stream
// is told.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/detail/trace_words.hpp>
#include <pollscope/trace.hpp>

using namespace std::chrono_literals;
namespace words = pollscope::detail::trace_words;
using pollscope::Event;
using pollscope::EventKind;
using pollscope::WakeSource;

namespace {

Event event(EventKind kind, std::uint64_t task, std::uint64_t value = 0, WakeSource source = WakeSource::none,
            std::uint64_t other = 0) {
  Event e;
  e.kind = kind;
  e.task = task;
  e.value = value;
  e.source = source;
  e.other = other;
  return e;
}

std::vector<Event> decode_all(const std::vector<std::uint64_t>& stream) {
  words::Decoder decoder;
  std::vector<Event> out;
  std::size_t at = 0;
  Event e;
  while (decoder.next(stream, at, e)) out.push_back(e);
  REQUIRE(at == stream.size());
  return out;
}

std::string decode_error(const std::vector<std::uint64_t>& stream) {
  try {
    decode_all(stream);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("An event of thread 0 with a 32-bit task and a 16-bit value takes one word", "[trace_words]") {
  std::vector<std::uint64_t> stream;
  const Event dequeue = event(EventKind::dequeue, 0xFFFFFFFFu, 0xFFFF);
  words::append_event(stream, dequeue);
  REQUIRE(stream.size() == 1);
  REQUIRE(stream[0] == (0xFFFFFFFFull << 32 | 0xFFFFull << 16 | static_cast<std::uint64_t>(EventKind::dequeue)));
  REQUIRE(decode_all(stream) == std::vector<Event>{dequeue});
}

TEST_CASE("A task that woke itself needs no word for the waking task; any other waker does", "[trace_words]") {
  const Event self_wake = event(EventKind::wake_by_ref, 4, 0, WakeSource::self, 4);
  Event pending_after_self_wake = event(EventKind::poll_pending, 4, 0, WakeSource::self, 0);
  pending_after_self_wake.seq = 1;
  Event woken_by_task_2 = event(EventKind::wake, 4, 0, WakeSource::task, 2);
  woken_by_task_2.seq = 2;
  REQUIRE(words::fits_short(self_wake.kind, 4, 0, WakeSource::self, 4, 0));
  REQUIRE(words::fits_short(pending_after_self_wake.kind, 4, 0, WakeSource::self, 0, 0));
  REQUIRE_FALSE(words::fits_short(woken_by_task_2.kind, 4, 0, WakeSource::task, 2, 0));

  std::vector<std::uint64_t> stream;
  words::append_event(stream, self_wake);
  words::append_event(stream, pending_after_self_wake);
  REQUIRE(stream.size() == 2);
  words::append_event(stream, woken_by_task_2);
  REQUIRE(stream.size() == 2 + words::kLongEventWords);
  REQUIRE(decode_all(stream) == std::vector<Event>{self_wake, pending_after_self_wake, woken_by_task_2});
}

TEST_CASE("A paired word decodes into its two events, numbered in turn and at the same time", "[trace_words]") {
  const std::vector<std::uint64_t> stream{words::time_mark(30), words::poll_opening(7, 3),
                                          words::poll_requeued(7, WakeSource::self, 4),
                                          words::poll_requeued(0xFFFFFFFFu, WakeSource::none, 0xFFFF)};
  REQUIRE(stream[1] == (std::uint64_t{7} << 32 | std::uint64_t{3} << 16 | words::kPollOpening));
  REQUIRE(stream[2] == (std::uint64_t{7} << 32 | std::uint64_t{4} << 16 |
                        std::uint64_t{static_cast<std::uint8_t>(WakeSource::self)} << 8 | words::kPollRequeued));
  std::vector<Event> expected{event(EventKind::dequeue, 7, 3),
                              event(EventKind::poll_start, 7),
                              event(EventKind::poll_pending, 7, 0, WakeSource::self),
                              event(EventKind::enqueue, 7, 4),
                              event(EventKind::poll_pending, 0xFFFFFFFFu),
                              event(EventKind::enqueue, 0xFFFFFFFFu, 0xFFFF)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    expected[i].seq = i;
    expected[i].time = 30ns;
  }
  REQUIRE(decode_all(stream) == expected);
  REQUIRE(words::fits_word(0xFFFFFFFFu, 0xFFFF));
  REQUIRE_FALSE(words::fits_word(0x100000000u, 0));
  REQUIRE_FALSE(words::fits_word(1, 0x10000));
}

TEST_CASE("A paired word at the end of a piece gives its second event at the next call, without words",
          "[trace_words]") {
  const std::vector<std::uint64_t> piece{words::poll_opening(2, 0)};
  words::Decoder decoder(5, 0ns);
  Event e;
  std::size_t at = 0;
  REQUIRE(decoder.next(piece, at, e));
  REQUIRE(e.kind == EventKind::dequeue);
  REQUIRE(e.seq == 5);
  REQUIRE(at == 1);
  REQUIRE(decoder.next(piece, at, e));
  REQUIRE(e.kind == EventKind::poll_start);
  REQUIRE(e.task == 2);
  REQUIRE(e.seq == 6);
  REQUIRE_FALSE(decoder.next(piece, at, e));
  const std::vector<std::uint64_t> next_piece{words::short_event(EventKind::poll_ready, 2, 0, WakeSource::none)};
  at = 0;
  REQUIRE(decoder.next(next_piece, at, e));
  REQUIRE(e.seq == 7);
}

TEST_CASE("Every field too wide for a word puts the event in the long form, exactly", "[trace_words]") {
  Event wide_task = event(EventKind::spawn, 0x100000000ull);
  Event wide_value = event(EventKind::enqueue, 1, 0x10000);
  Event thread = event(EventKind::poll_start, 1);
  thread.thread = pollscope::kExternalThread;
  Event queue = event(EventKind::enqueue, 1, 3, WakeSource::none, pollscope::local_queue_of(1));
  Event deadline = event(EventKind::timer_register, 1, 7);
  deadline.deadline = -5ms;
  for (const Event& e : {wide_task, wide_value, thread, queue, deadline}) {
    std::vector<std::uint64_t> stream;
    words::append_event(stream, e);
    REQUIRE(stream.size() == words::kLongEventWords);
    REQUIRE(decode_all(stream) == std::vector<Event>{e});
  }
}

TEST_CASE("A message takes one word per 8 bytes after the long event", "[trace_words]") {
  for (const std::size_t length : {1, 7, 8, 9, 16, 1000}) {
    Event error = event(EventKind::task_error, 3);
    for (std::size_t i = 0; i < length; ++i) error.message.push_back(static_cast<char>('a' + i % 26));
    std::vector<std::uint64_t> stream;
    words::append_event(stream, error);
    REQUIRE(stream.size() == words::kLongEventWords + (length + 7) / 8);
    REQUIRE(decode_all(stream) == std::vector<Event>{error});
  }
}

TEST_CASE("Time and seq marks apply to the events after them, in one word or two", "[trace_words]") {
  std::vector<std::uint64_t> stream;
  words::append_event(stream, event(EventKind::poll_start, 1));  // seq 0, time 0
  words::append_time(stream, 1'500);
  words::append_event(stream, event(EventKind::poll_ready, 1));  // seq 1
  words::append_seq(stream, 10);
  words::append_time(stream, -3);  // only a wide mark holds a negative time
  words::append_event(stream, event(EventKind::complete, 1));
  words::append_seq(stream, words::kMarkLimit + 1);
  words::append_time(stream, static_cast<std::int64_t>(words::kMarkLimit) + 1);
  words::append_event(stream, event(EventKind::abort, 2));
  REQUIRE(stream.size() == 1 + 1 + 1 + 1 + 2 + 1 + 2 + 2 + 1);

  const std::vector<Event> events = decode_all(stream);
  REQUIRE(events.size() == 4);
  REQUIRE(events[0].seq == 0);
  REQUIRE(events[0].time == 0ns);
  REQUIRE(events[1].seq == 1);
  REQUIRE(events[1].time == 1500ns);
  REQUIRE(events[2].seq == 10);
  REQUIRE(events[2].time == -3ns);
  REQUIRE(events[3].seq == words::kMarkLimit + 1);
  REQUIRE(events[3].time == std::chrono::nanoseconds(static_cast<std::int64_t>(words::kMarkLimit) + 1));
}

TEST_CASE("A decoder carries seq and time from one piece of a stream to the next", "[trace_words]") {
  const std::vector<std::uint64_t> first{words::time_mark(40), words::short_event(EventKind::poll_start, 1, 0,
                                                                                  WakeSource::none)};
  const std::vector<std::uint64_t> second{words::short_event(EventKind::poll_ready, 1, 0, WakeSource::none)};
  words::Decoder decoder(7, 0ns);
  Event e;
  std::size_t at = 0;
  REQUIRE(decoder.next(first, at, e));
  REQUIRE(e.seq == 7);
  REQUIRE(e.time == 40ns);
  REQUIRE_FALSE(decoder.next(first, at, e));
  at = 0;
  REQUIRE(decoder.next(second, at, e));
  REQUIRE(e.kind == EventKind::poll_ready);
  REQUIRE(e.seq == 8);
  REQUIRE(e.time == 40ns);
}

TEST_CASE("Tick marks are interpolated between the calibration's two clock readings, at most its end",
          "[trace_words]") {
  const std::uint64_t poll = words::short_event(EventKind::poll_start, 1, 0, WakeSource::none);
  // t0 = 1000 ns, then 500 ticks until t1 = 2000 ns: 2 ns per tick.
  const std::vector<std::uint64_t> stream{words::kCalibration, 1000, 500, 2000,  // the entry
                                          poll,                                  // at t0
                                          words::tick_mark(250),  poll,  words::tick_mark(499), poll,
                                          words::tick_mark(500),  poll,  words::tick_mark(900), poll};
  const std::vector<Event> events = decode_all(stream);
  REQUIRE(events.size() == 5);
  REQUIRE(events[0].time == 1000ns);
  REQUIRE(events[1].time == 1500ns);
  REQUIRE(events[2].time == 1998ns);
  REQUIRE(events[3].time == 2000ns);
  REQUIRE(events[4].time == 2000ns);
}

TEST_CASE("A calibration that measured no ticks puts every tick mark at its end", "[trace_words]") {
  const std::vector<std::uint64_t> stream{words::kCalibration, 100, 0, 100, words::tick_mark(0),
                                          words::short_event(EventKind::park, 0, 0, WakeSource::none)};
  REQUIRE(decode_all(stream).at(0).time == 100ns);
}

TEST_CASE("A malformed stream is refused with what and where", "[trace_words]") {
  REQUIRE(decode_error({words::kLongEvent | std::uint64_t{1} << 8, 1, 2}) ==
          "malformed trace words: entry cut off at word 0");
  REQUIRE(decode_error({words::time_mark(1), 0x50}) == "malformed trace words: unknown tag at word 1");
  REQUIRE(decode_error({0x3F}) == "malformed trace words: unknown event kind at word 0");
  REQUIRE(decode_error({std::uint64_t{9} << 8}) == "malformed trace words: unknown wake source at word 0");
  REQUIRE(decode_error({words::kLongEvent | std::uint64_t{9} << 32, 1, 0, 0, 0, 0}) ==
          "malformed trace words: message cut off at word 0");
  REQUIRE(decode_error({words::kWideTimeMark}) == "malformed trace words: entry cut off at word 0");
  REQUIRE(decode_error({words::kCalibration, 10, 5, 9}) ==
          "malformed trace words: calibration running backwards at word 0");
  REQUIRE(decode_error({words::poll_opening(1, 0) | std::uint64_t{1} << 8}) ==
          "malformed trace words: poll opening with a wake source at word 0");
  REQUIRE(decode_error({words::kPollRequeued | std::uint64_t{9} << 8}) ==
          "malformed trace words: unknown wake source at word 0");
}
