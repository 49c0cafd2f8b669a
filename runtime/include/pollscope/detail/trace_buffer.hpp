#pragma once
/// TraceBuffer: the events of a run held back for a batched tracer (see Tracer), in
/// the encoding of detail/trace_words.hpp, with their time stamps.
///
/// Stamps: on a real clock, where the CPU has an invariant tick clock
/// (detail/tick_clock.hpp), events are stamped with tick marks and each batch opens
/// with a calibration entry whose end is read when the batch is taken; otherwise
/// with time marks of the executor's clock. An event stamped like the one before
/// it writes no mark, so the events of one poll (stamped once, see
/// ExecutorCore::hold_time) share one.
///
/// Threading: owned by one executor and used only by the thread that drives it.
#include <chrono>
#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "pollscope/detail/clock.hpp"
#include "pollscope/detail/tick_clock.hpp"
#include "pollscope/detail/trace_words.hpp"
#include "pollscope/trace.hpp"

namespace pollscope::detail {

class TraceBuffer {
 public:
  /// Words kept before a batch is due: 8 KiB, so the buffer stays in the L1 cache
  /// while it is written (a poll of a task that yields writes four words).
  static constexpr std::size_t kBatchWords = 1024;

  /// When an event happened: a reading of the tick clock, or (`ticks` 0) a time
  /// on the executor's clock.
  struct Stamp {
    std::uint64_t ticks = 0;
    std::chrono::nanoseconds time{0};
  };

  /// `clock`: the executor's, which must outlive the buffer.
  explicit TraceBuffer(const Clock& clock)
      : clock_(clock), ticks_(!clock.is_virtual() && tick_clock::available()), words_(kBatchWords + kSlack) {
    point_into_words(0);
  }
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  /// Whether stamps read the tick clock (else the executor's clock).
  bool uses_ticks() const noexcept { return ticks_; }

  /// The stamp of an event happening now.
  Stamp stamp_now() const noexcept {
    if (ticks_) return Stamp{tick_clock::now(), {}};
    return Stamp{0, clock_.now()};
  }

  /// Events added from now on happened at `stamp` (writes a mark unless the latest
  /// one says the same). Call before the first event of a batch.
  void mark(const Stamp& stamp) {
    if (end_ != begin_ && stamp.ticks > base_ticks_) {  // a tick stamp of this batch
      const std::uint64_t word = trace_words::tick_mark(stamp.ticks - base_ticks_);
      if (word != last_mark_) {
        *end_++ = word;
        ++words_minus_events_;
        last_mark_ = word;
      }
      return;
    }
    mark_slow(stamp);
  }

  /// Appends an event in its one-word form (trace_words::short_event), at the
  /// latest mark's time. Room: the executor takes the batch as soon as it is due,
  /// so at most a mark and an event are written past kBatchWords.
  void add_short(std::uint64_t word) noexcept { *end_++ = word; }
  /// Appends a paired word (trace_words::poll_opening, poll_requeued): two events.
  void add_pair(std::uint64_t word) noexcept {
    *end_++ = word;
    --words_minus_events_;
  }
  /// Appends any event at the latest mark's time (its seq and time are ignored).
  void add(const Event& e) {
    scratch_.clear();
    trace_words::append_event(scratch_, e);
    room_for(scratch_.size());
    std::copy(scratch_.begin(), scratch_.end(), end_);
    end_ += scratch_.size();
    words_minus_events_ += static_cast<std::int64_t>(scratch_.size()) - 1;
  }

  /// Whether the batch should be taken now (kBatchWords written).
  bool due() const noexcept { return end_ >= due_at_; }
  /// Events so far: the words that are not marks or the rest of a long event.
  std::uint64_t events() const noexcept { return static_cast<std::uint64_t>((end_ - begin_) - words_minus_events_); }

  /// The batch (first event numbered `first_seq`), its calibration completed; valid
  /// until clear().
  TraceBatch batch(std::uint64_t first_seq) {
    std::uint64_t* begin = begin_;
    if (ticks_ && end_ != begin) {
      // Read in the same order as at the opening (clock, then ticks), so the delay
      // between the two reads cancels out of the interpolation.
      const std::chrono::nanoseconds t1 = clock_.now();
      begin[2] = tick_clock::now() - base_ticks_;
      begin[3] = static_cast<std::uint64_t>(t1.count());
      closed_t0_ = static_cast<std::int64_t>(begin[1]);
      closed_span_ = begin[2];
      closed_t1_ = t1.count();
      closed_base_ = base_ticks_;
    }
    return TraceBatch{first_seq, events(), std::span<const std::uint64_t>(begin, end_)};
  }
  void clear() noexcept {
    end_ = begin_;
    words_minus_events_ = 0;
  }

  /// After clear(): the next batch goes on at `held`, a stamp taken during the
  /// previous one (a poll whose events outlast a batch). Returns the stamp to use
  /// for the rest of them: a tick stamp of a closed batch becomes its time, from
  /// that batch's calibration (the next batch's ticks count from a later base).
  Stamp carry_over(const Stamp& held) {
    Stamp kept = held;
    if (held.ticks != 0) {
      const std::uint64_t ticks = held.ticks > closed_base_ ? held.ticks - closed_base_ : 0;
      kept = Stamp{0, std::chrono::nanoseconds(trace_words::time_at(closed_t0_, closed_span_, closed_t1_, ticks))};
    }
    mark(kept);
    return kept;
  }

 private:
  /// Room past kBatchWords for the entries written before the executor sees due().
  static constexpr std::size_t kSlack = 64;

  /// The first mark of a batch, a mark older than the batch, or a time mark.
  [[gnu::noinline]] void mark_slow(const Stamp& stamp) {
    room_for(4);
    std::uint64_t word;
    if (ticks_ && end_ == begin_) open_calibrated();
    if (stamp.ticks != 0) {
      // A tick stamp taken just before the batch opened (the poll that opened it)
      // gets the batch's start.
      word = trace_words::tick_mark(stamp.ticks > base_ticks_ ? stamp.ticks - base_ticks_ : 0);
    } else {
      word = trace_words::time_mark(stamp.time.count());
      if (word == 0) {  // too far out for a one-word mark
        *end_++ = trace_words::kWideTimeMark;
        *end_++ = static_cast<std::uint64_t>(stamp.time.count());
        words_minus_events_ += 2;
        last_mark_ = 0;
        return;
      }
    }
    if (word == last_mark_ && end_ != begin_) return;
    *end_++ = word;
    ++words_minus_events_;
    last_mark_ = word;
  }

  /// The calibration entry that opens a batch of tick marks.
  void open_calibrated() {
    const std::chrono::nanoseconds t0 = clock_.now();
    base_ticks_ = tick_clock::now();
    *end_++ = trace_words::kCalibration;
    *end_++ = static_cast<std::uint64_t>(t0.count());
    *end_++ = 0;  // ticks and t1: filled in by batch()
    *end_++ = static_cast<std::uint64_t>(t0.count());
    words_minus_events_ += 4;
    last_mark_ = trace_words::tick_mark(0);
  }

  /// Makes room for `n` more words (a long event may need more than the slack).
  void room_for(std::size_t n) {
    const std::size_t used = static_cast<std::size_t>(end_ - begin_);
    if (words_.size() - used >= n + kSlack) return;
    words_.resize(used + n + kSlack);
    point_into_words(used);
  }
  /// (Re)derives the pointers into words_, `used` words written.
  void point_into_words(std::size_t used) noexcept {
    begin_ = words_.data();
    end_ = begin_ + used;
    due_at_ = begin_ + kBatchWords;
  }

  const Clock& clock_;
  const bool ticks_;
  std::vector<std::uint64_t> words_;  // the batch is [begin_, end_)
  std::uint64_t* begin_ = nullptr;
  std::uint64_t* end_ = nullptr;
  std::uint64_t* due_at_ = nullptr;  // begin_ + kBatchWords
  // Marks, calibrations and long events' words after the first count +1 each; paired
  // words (two events in one) -1.
  std::int64_t words_minus_events_ = 0;
  std::uint64_t base_ticks_ = 0;  // the tick clock when the open batch's t0 was read
  std::uint64_t last_mark_ = 0;   // the latest mark word written (0: none that can repeat)
  // The calibration of the batch batch() closed last (for carry_over()).
  std::int64_t closed_t0_ = 0;
  std::uint64_t closed_span_ = 0;
  std::int64_t closed_t1_ = 0;
  std::uint64_t closed_base_ = 0;
  std::vector<std::uint64_t> scratch_;  // a long event, encoded before it is copied in
};

}  // namespace pollscope::detail
