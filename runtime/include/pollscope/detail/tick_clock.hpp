#pragma once
/// The CPU's time-stamp counter, where it is invariant: it counts at one constant
/// rate in every power state and on every core (x86-64 with CPUID 0x80000007 EDX
/// bit 8; Linux then shows `constant_tsc nonstop_tsc`). A read costs a third to a
/// half of a steady_clock read, so a traced LocalExecutor stamps its events with it
/// and turns ticks into nanoseconds later, by interpolating between two
/// steady_clock readings (the calibration entry of detail/trace_words.hpp).
/// Elsewhere (wasm, other CPUs) available() is false and nothing reads it.
#include <cstdint>

#if (defined(__x86_64__) || defined(__i386__)) && !defined(__EMSCRIPTEN__)
#include <x86intrin.h>
#define POLLSCOPE_HAS_TICK_CLOCK 1
#else
#define POLLSCOPE_HAS_TICK_CLOCK 0
#endif

namespace pollscope::detail::tick_clock {

/// Whether this CPU has an invariant time-stamp counter (checked once).
bool available() noexcept;

/// The counter. Call only when available().
inline std::uint64_t now() noexcept {
#if POLLSCOPE_HAS_TICK_CLOCK
  return __rdtsc();
#else
  return 0;
#endif
}

}  // namespace pollscope::detail::tick_clock
