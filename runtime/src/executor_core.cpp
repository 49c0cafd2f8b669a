#include "pollscope/detail/executor_core.hpp"

namespace pollscope::detail {

void ExecutorCore::block_thread(std::chrono::nanoseconds d) {
  if (clock_.is_virtual()) {
    clock_.advance_to(clock_.now() + d);
  } else {
    std::this_thread::sleep_for(d);
  }
}

}  // namespace pollscope::detail
