#pragma once
/// yield_now(): give other tasks a turn.
#include "pollscope/context.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

/// Pending once (after waking itself, so the task goes to the back of the run
/// queue), then Ready.
class YieldNow {
 public:
  using Output = void;
  static constexpr bool ready_on_repoll = true;  // future.hpp: `co_await` skips the second poll
  Poll<void> poll(Context& cx) noexcept {
    if (yielded_) return ready();
    yielded_ = true;
    cx.waker().wake_by_ref();
    return pending;
  }

 private:
  bool yielded_ = false;
};

inline YieldNow yield_now() noexcept { return {}; }

}  // namespace pollscope
