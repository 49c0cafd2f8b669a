#pragma once
/// count(n): the article's Counter future.
#include <cstdint>

#include "pollscope/context.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

/// Every poll increments a counter. While the counter is below `n` the future
/// wakes itself (by reference) and returns Pending; then it returns Ready(n). So it
/// is polled max(n, 1) times, each wake a self-wake: a busy future in disguise.
class Count {
 public:
  using Output = std::uint64_t;
  explicit Count(std::uint64_t n) noexcept : target_(n) {}

  Poll<std::uint64_t> poll(Context& cx) noexcept {
    if (++polls_ >= target_) return ready(target_);
    cx.waker().wake_by_ref();
    return pending;
  }
  /// Polls so far.
  std::uint64_t polls() const noexcept { return polls_; }

 private:
  std::uint64_t target_;
  std::uint64_t polls_ = 0;
};

inline Count count(std::uint64_t n) noexcept { return Count(n); }

}  // namespace pollscope
