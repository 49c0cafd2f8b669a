#include "pollscope/detail/executor_core.hpp"

namespace pollscope::detail {

void ExecutorCore::block_thread(std::chrono::nanoseconds d) {
  if (clock_.is_virtual()) {
    clock_.advance_to(clock_.now() + d);
  } else {
    std::this_thread::sleep_for(d);
    if (time_held_) hold_time();  // the poll's later events happen after the call
  }
}

}  // namespace pollscope::detail
