#pragma once
/// Trace words: the compact encoding of trace events that executors write while
/// they run and TraceRecorder keeps (an Event is 96 bytes and owns a string; the
/// events of a yield fit in 48 bytes of words, so a recorded run moves a tenth of
/// the memory). Decoded back into Events only when someone reads them.
///
/// A stream is a sequence of entries; the low 8 bits of an entry's first word, its
/// tag, say what it is:
///
///   0x00-0x3F  short event, one word: tag = EventKind, bits 8-15 WakeSource,
///              bits 16-31 value, bits 32-63 task. Implies thread 0, deadline 0, no
///              message, and `other` = task for a wake whose source is `self` (the
///              task woke itself), else 0.
///   0x40       time mark: bits 8-63 = the time of the events that follow (ns).
///   0x41       wide time mark: the next word is that time (any int64 ns).
///   0x42       seq mark: bits 8-63 = the seq of the next event.
///   0x43       wide seq mark: the next word is that seq.
///   0x44       calibration: the next three words are t0, ticks and t1: ticks of the
///              time-stamp counter (detail/tick_clock.hpp) passed between the
///              moments the executor's clock read t0 and t1 (ns). Sets the time to t0.
///   0x45       tick mark: bits 8-63 = n, the ticks since the latest calibration's
///              t0; the time is t0 + n * (t1 - t0) / (its ticks), at most t1.
///   0x46       poll opening, one word for two events: the dequeue of a task (bits
///              16-31: the queue length after it), then its poll_start. Bits 32-63
///              task, as in a short event; thread 0.
///   0x47       poll requeued, one word for two events: a task's poll_pending (bits
///              8-15: its WakeSource), then its enqueue (bits 16-31: the queue length
///              after it). Bits 32-63 task; thread 0. (A task that yields writes one
///              of each per poll, besides its wake: three words, not five.)
///   0x80       long event: bits 8-15 EventKind, bits 16-23 WakeSource, bits 32-63
///              the message's length in bytes; then five words: task, other, value,
///              deadline (int64 ns), thread; then the message, 8 bytes per word
///              (the last one zero-padded).
///
/// A decoder starts at seq 0 and time 0 unless told otherwise; each event takes the
/// current seq (which then counts up) and time.
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "pollscope/trace.hpp"

namespace pollscope::detail::trace_words {

inline constexpr std::uint64_t kTimeMark = 0x40;
inline constexpr std::uint64_t kWideTimeMark = 0x41;
inline constexpr std::uint64_t kSeqMark = 0x42;
inline constexpr std::uint64_t kWideSeqMark = 0x43;
inline constexpr std::uint64_t kCalibration = 0x44;
inline constexpr std::uint64_t kTickMark = 0x45;
inline constexpr std::uint64_t kPollOpening = 0x46;
inline constexpr std::uint64_t kPollRequeued = 0x47;
inline constexpr std::uint64_t kLongEvent = 0x80;
/// Largest value a mark's 56 payload bits hold.
inline constexpr std::uint64_t kMarkLimit = (std::uint64_t{1} << 56) - 1;
/// Words a long event takes besides its message.
inline constexpr std::size_t kLongEventWords = 6;

/// The `other` a short event implies: a task that woke itself woke `task`.
inline std::uint64_t implied_other(EventKind kind, TaskId task, WakeSource source) noexcept {
  const bool wake = kind == EventKind::wake || kind == EventKind::wake_by_ref;
  return wake && source == WakeSource::self ? task : 0;
}

/// Whether an event with these fields (and no deadline or message) has a one-word form.
inline bool fits_short(EventKind kind, TaskId task, std::uint64_t value, WakeSource source, std::uint64_t other,
                       std::uint32_t thread) noexcept {
  return thread == 0 && task <= 0xFFFFFFFFu && value <= 0xFFFFu && other == implied_other(kind, task, source);
}

inline std::uint64_t short_event(EventKind kind, TaskId task, std::uint64_t value, WakeSource source) noexcept {
  return static_cast<std::uint64_t>(kind) | (std::uint64_t{static_cast<std::uint8_t>(source)} << 8) |
         (value << 16) | (task << 32);
}

/// Whether a task and a value fit the fields of a one-word form (short or paired).
inline bool fits_word(TaskId task, std::uint64_t value) noexcept { return task <= 0xFFFFFFFFu && value <= 0xFFFFu; }

/// The word of a poll opening: dequeue (queue length `queued` after it), poll_start.
inline std::uint64_t poll_opening(TaskId task, std::uint64_t queued) noexcept {
  return kPollOpening | (queued << 16) | (task << 32);
}
/// The word of a requeued poll: poll_pending (`source`), enqueue (queue length `queued`).
inline std::uint64_t poll_requeued(TaskId task, WakeSource source, std::uint64_t queued) noexcept {
  return kPollRequeued | (std::uint64_t{static_cast<std::uint8_t>(source)} << 8) | (queued << 16) | (task << 32);
}

/// A time mark's word for `t`, or 0 when `t` needs a wide mark (negative or
/// 2^56 ns and later: an executor 2.2 years old).
inline std::uint64_t time_mark(std::int64_t t) noexcept {
  return t >= 0 && static_cast<std::uint64_t>(t) <= kMarkLimit ? kTimeMark | (static_cast<std::uint64_t>(t) << 8) : 0;
}

/// Appends a time mark for `t` (ns since the executor started).
inline void append_time(std::vector<std::uint64_t>& out, std::int64_t t) {
  if (const std::uint64_t word = time_mark(t)) {
    out.push_back(word);
  } else {
    out.push_back(kWideTimeMark);
    out.push_back(static_cast<std::uint64_t>(t));
  }
}

/// Appends a seq mark: the next event has seq `seq`.
inline void append_seq(std::vector<std::uint64_t>& out, std::uint64_t seq) {
  if (seq <= kMarkLimit) {
    out.push_back(kSeqMark | (seq << 8));
  } else {
    out.push_back(kWideSeqMark);
    out.push_back(seq);
  }
}

/// The time of a tick mark: `ticks` after t0 of a calibration that counted `span`
/// ticks from t0 to t1. At most t1; monotonic in `ticks`.
inline std::int64_t time_at(std::int64_t t0, std::uint64_t span, std::int64_t t1, std::uint64_t ticks) noexcept {
  if (ticks >= span) return t1;
  // In double: (t1 - t0) * ticks would overflow 64 bits for a long batch. Each step
  // rounds monotonically, so later ticks never get an earlier time.
  const double fraction = static_cast<double>(ticks) / static_cast<double>(span);
  return t0 + static_cast<std::int64_t>(static_cast<double>(t1 - t0) * fraction);
}

/// A tick mark's word for `ticks` since the calibration's t0 (saturating).
inline std::uint64_t tick_mark(std::uint64_t ticks) noexcept {
  return kTickMark | ((ticks < kMarkLimit ? ticks : kMarkLimit) << 8);
}

/// Appends `e` without its seq and time (the stream's marks carry those), in its
/// short form when it has one.
void append_event(std::vector<std::uint64_t>& out, const Event& e);

/// Reads a stream back into Events, one at a time:
///
///   Decoder d;  std::size_t at = 0;  Event e;
///   while (d.next(words, at, e)) use(e);
///
/// Carries the current seq and time from call to call (and the second event of a
/// paired word), so a stream may be decoded in pieces.
class Decoder {
 public:
  Decoder() = default;
  Decoder(std::uint64_t seq, std::chrono::nanoseconds time) noexcept : seq_(seq), time_(time) {}

  /// Reads entries from words[at] on until one is an event: puts it in `e`, moves
  /// `at` past it and returns true; false when the words run out. Throws
  /// std::invalid_argument when `words` is not a well-formed stream (an entry cut
  /// off, an unknown tag): only words that did not come from this encoding are.
  bool next(std::span<const std::uint64_t> words, std::size_t& at, Event& e);

 private:
  std::uint64_t seq_ = 0;
  std::chrono::nanoseconds time_{0};
  // The second event of the paired word read last, until next() returns it.
  Event second_;
  bool has_second_ = false;
  // The latest calibration entry.
  std::int64_t t0_ = 0;
  std::uint64_t ticks_ = 0;
  std::int64_t t1_ = 0;
};

/// Every event of `words`, decoded by `decoder` (`events`: how many to expect).
std::vector<Event> decode_all(std::span<const std::uint64_t> words, std::size_t events, Decoder decoder);

}  // namespace pollscope::detail::trace_words
