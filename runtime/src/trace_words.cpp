#include "pollscope/detail/trace_words.hpp"

#include <cstring>
#include <stdexcept>

namespace pollscope::detail::trace_words {

void append_event(std::vector<std::uint64_t>& out, const Event& e) {
  if (e.deadline.count() == 0 && e.message.empty() && fits_short(e.kind, e.task, e.value, e.source, e.other, e.thread)) {
    out.push_back(short_event(e.kind, e.task, e.value, e.source));
    return;
  }
  const std::uint64_t length = e.message.size();
  if (length > 0xFFFFFFFFu) throw std::length_error("trace event message over 4 GiB");
  out.push_back(kLongEvent | (std::uint64_t{static_cast<std::uint8_t>(e.kind)} << 8) |
                (std::uint64_t{static_cast<std::uint8_t>(e.source)} << 16) | (length << 32));
  out.push_back(e.task);
  out.push_back(e.other);
  out.push_back(e.value);
  out.push_back(static_cast<std::uint64_t>(e.deadline.count()));
  out.push_back(e.thread);
  for (std::size_t at = 0; at < length; at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, e.message.data() + at, std::min<std::size_t>(8, length - at));
    out.push_back(word);
  }
}

std::vector<Event> decode_all(std::span<const std::uint64_t> words, std::size_t events, Decoder decoder) {
  std::vector<Event> out;
  out.reserve(events);
  std::size_t at = 0;
  Event e;
  while (decoder.next(words, at, e)) out.push_back(std::move(e));
  return out;
}

namespace {
[[noreturn]] void malformed(const char* what, std::size_t at) {
  throw std::invalid_argument(std::string("malformed trace words: ") + what + " at word " + std::to_string(at));
}

constexpr std::uint8_t kLastEventKind = static_cast<std::uint8_t>(EventKind::blocking);
constexpr std::uint8_t kLastWakeSource = static_cast<std::uint8_t>(WakeSource::outside);

EventKind kind_of(std::uint64_t bits, std::size_t at) {
  if (bits > kLastEventKind) malformed("unknown event kind", at);
  return static_cast<EventKind>(bits);
}
WakeSource source_of(std::uint64_t bits, std::size_t at) {
  if (bits > kLastWakeSource) malformed("unknown wake source", at);
  return static_cast<WakeSource>(bits);
}
}  // namespace

bool Decoder::next(std::span<const std::uint64_t> words, std::size_t& at, Event& e) {
  if (has_second_) {
    has_second_ = false;
    e = std::move(second_);
    return true;
  }
  while (at < words.size()) {
    const std::size_t start = at;
    const std::uint64_t word = words[at++];
    const std::uint64_t tag = word & 0xFF;
    auto following = [&](std::size_t count) {
      if (words.size() - at < count) malformed("entry cut off", start);
    };
    if (tag < kTimeMark) {
      e = Event{};
      e.kind = kind_of(tag, start);
      e.source = source_of((word >> 8) & 0xFF, start);
      e.value = (word >> 16) & 0xFFFF;
      e.task = word >> 32;
      e.other = implied_other(e.kind, e.task, e.source);
    } else if (tag == kTimeMark) {
      time_ = std::chrono::nanoseconds(static_cast<std::int64_t>(word >> 8));
      continue;
    } else if (tag == kWideTimeMark) {
      following(1);
      time_ = std::chrono::nanoseconds(static_cast<std::int64_t>(words[at++]));
      continue;
    } else if (tag == kSeqMark) {
      seq_ = word >> 8;
      continue;
    } else if (tag == kWideSeqMark) {
      following(1);
      seq_ = words[at++];
      continue;
    } else if (tag == kCalibration) {
      following(3);
      t0_ = static_cast<std::int64_t>(words[at++]);
      ticks_ = words[at++];
      t1_ = static_cast<std::int64_t>(words[at++]);
      if (t1_ < t0_) malformed("calibration running backwards", start);
      time_ = std::chrono::nanoseconds(t0_);
      continue;
    } else if (tag == kTickMark) {
      const std::int64_t t = time_at(t0_, ticks_, t1_, word >> 8);
      time_ = std::chrono::nanoseconds(t);
      continue;
    } else if (tag == kPollOpening || tag == kPollRequeued) {
      const TaskId task = word >> 32;
      const std::uint64_t queued = (word >> 16) & 0xFFFF;
      e = Event{};
      second_ = Event{};
      e.task = second_.task = task;
      if (tag == kPollOpening) {
        if (((word >> 8) & 0xFF) != 0) malformed("poll opening with a wake source", start);
        e.kind = EventKind::dequeue;
        e.value = queued;
        second_.kind = EventKind::poll_start;
      } else {
        e.kind = EventKind::poll_pending;
        e.source = source_of((word >> 8) & 0xFF, start);
        second_.kind = EventKind::enqueue;
        second_.value = queued;
      }
      e.seq = seq_;
      second_.seq = seq_ + 1;
      seq_ += 2;
      e.time = second_.time = time_;
      has_second_ = true;
      return true;
    } else if (tag == kLongEvent) {
      const std::uint64_t length = word >> 32;
      following(kLongEventWords - 1);
      if ((words.size() - at - (kLongEventWords - 1)) * 8 < length) malformed("message cut off", start);
      e = Event{};
      e.kind = kind_of((word >> 8) & 0xFF, start);
      e.source = source_of((word >> 16) & 0xFF, start);
      e.task = words[at++];
      e.other = words[at++];
      e.value = words[at++];
      e.deadline = std::chrono::nanoseconds(static_cast<std::int64_t>(words[at++]));
      e.thread = static_cast<std::uint32_t>(words[at++]);
      e.message.resize(length);
      for (std::size_t offset = 0; offset < length; offset += 8) {
        const std::uint64_t chunk = words[at++];
        std::memcpy(e.message.data() + offset, &chunk, std::min<std::size_t>(8, length - offset));
      }
    } else {
      malformed("unknown tag", start);
    }
    e.seq = seq_++;
    e.time = time_;
    return true;
  }
  return false;
}

}  // namespace pollscope::detail::trace_words
