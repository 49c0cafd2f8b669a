#pragma once
/// sleep(d): Ready once `d` has passed on the clock of the executor polling it.
#include <chrono>
#include <optional>

#include "pollscope/context.hpp"
#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/detail/timer_queue.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

/// The deadline is taken at the first poll (a zero or negative duration is Ready
/// at once). Under an executor with timers, the future registers its waker there
/// and is woken once, when the deadline passes. Where there is no timer
/// (block_on_busy, a hand-written poll loop) it compares the clock on every poll
/// and wakes itself: the busy loop the playground shows.
/// Must not be moved after its first poll (the timer points at it).
class Sleep {
 public:
  using Output = void;
  explicit Sleep(std::chrono::nanoseconds duration) noexcept : duration_(duration) {}
  Sleep(Sleep&& other) noexcept : duration_(other.duration_), deadline_(other.deadline_) {}
  Sleep& operator=(Sleep&&) = delete;
  ~Sleep() { detail::TimerQueue::disarm(entry_); }

  Poll<void> poll(Context& cx) {
    detail::ExecutorCore* core = detail::tls_scope.core;
    const std::chrono::nanoseconds now = core ? core->now() : real_now();
    if (!deadline_) {
      if (duration_ <= std::chrono::nanoseconds::zero()) return ready();
      deadline_ = now + duration_;
    }
    if (now >= *deadline_) {
      detail::TimerQueue::disarm(entry_);
      return ready();
    }
    if (core && core->offers_timers()) {
      // Registers the timer on the first Pending poll, then keeps its waker current.
      core->timers().arm(entry_, *deadline_, cx.waker(), detail::tls_scope.polling);
      return pending;
    }
    cx.waker().wake_by_ref();
    return pending;
  }

  /// The deadline on the polling executor's clock, once polled.
  std::optional<std::chrono::nanoseconds> deadline() const noexcept { return deadline_; }

 private:
  static std::chrono::nanoseconds real_now() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  std::chrono::nanoseconds duration_;
  std::optional<std::chrono::nanoseconds> deadline_;
  detail::TimerEntry entry_;
};

inline Sleep sleep(std::chrono::nanoseconds duration) noexcept { return Sleep(duration); }

}  // namespace pollscope
