#include "pollscope/detail/tick_clock.hpp"

#if POLLSCOPE_HAS_TICK_CLOCK
#include <cpuid.h>
#endif

namespace pollscope::detail::tick_clock {

bool available() noexcept {
#if POLLSCOPE_HAS_TICK_CLOCK
  static const bool invariant = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    return (edx & (1u << 8)) != 0;
  }();
  return invariant;
#else
  return false;
#endif
}

}  // namespace pollscope::detail::tick_clock
