#pragma once
#include <algorithm>
#include <chrono>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

namespace pollscope::detail {

/// std::chrono::steady_clock::now(), read the cheapest way the platform allows.
///
/// Compatibility shim, Emscripten only: its steady_clock (3.1.6, Debian's) calls a
/// JavaScript clock_gettime that reads emscripten_get_now() and writes a timespec
/// into the heap: 90 ns a read under Node 20, against 60 ns for emscripten_get_now()
/// itself, the same clock (so the time points agree with steady_clock's). A traced
/// poll reads the clock once. Delete the shim when the toolchain's steady_clock
/// costs no more (`pollscope_bench --only clock_read` in wasm shows it).
inline std::chrono::steady_clock::time_point steady_now() noexcept {
#ifdef __EMSCRIPTEN__
  const std::chrono::duration<double, std::milli> since_origin(emscripten_get_now());
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(since_origin));
#else
  return std::chrono::steady_clock::now();
#endif
}

/// An executor's notion of time: nanoseconds since it started, either the real
/// steady clock or a virtual counter that only moves when the executor moves it.
/// Not thread-safe: owned by the thread that drives the executor.
class Clock {
 public:
  /// A real clock starts at its first reading, so an executor that never looks at
  /// the time (e.g. block_on of a ready future) never pays for a clock read.
  explicit Clock(bool is_virtual) noexcept : virtual_(is_virtual) {}

  bool is_virtual() const noexcept { return virtual_; }

  std::chrono::nanoseconds now() const noexcept {
    if (virtual_) return virtual_now_;
    const auto real_now = steady_now();
    if (!started_) {
      start_ = real_now;
      started_ = true;
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(real_now - start_);
  }

  /// Virtual clock only: move forward to `t` (never backwards).
  void advance_to(std::chrono::nanoseconds t) noexcept { virtual_now_ = std::max(virtual_now_, t); }

  /// The real time point at which this clock reads `t` (for timed waits).
  std::chrono::steady_clock::time_point real_time_of(std::chrono::nanoseconds t) const noexcept {
    if (!started_) (void)now();
    return start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t);
  }

 private:
  bool virtual_;
  mutable bool started_ = false;
  mutable std::chrono::steady_clock::time_point start_;
  std::chrono::nanoseconds virtual_now_{0};
};

}  // namespace pollscope::detail
