#pragma once
/// Shake mode: with POLLSCOPE_SHAKE defined (test builds only, for the whole build),
/// the threaded executors call shake_point() at queue and task-state operations, and
/// it randomly yields or sleeps a few microseconds there, to push the scheduler of
/// the operating system into interleavings it rarely produces on its own. The choices
/// come from a seeded PRNG per thread (seed: set_shake_seed, mixed with a per-thread
/// number), so a failing seed can be tried again. Without POLLSCOPE_SHAKE,
/// shake_point() is an empty inline function: zero cost.
#include <cstdint>

#ifdef POLLSCOPE_SHAKE
#include <atomic>
#include <chrono>
#include <thread>
#endif

namespace pollscope::detail {

#ifdef POLLSCOPE_SHAKE
inline constexpr bool kShakeEnabled = true;

struct ShakeGlobals {
  std::atomic<std::uint64_t> seed{0};
  std::atomic<std::uint64_t> generation{0};  // bumped by set_shake_seed: threads reseed
  std::atomic<std::uint64_t> next_thread{0};
};
inline ShakeGlobals shake_globals;

/// Seeds shake mode (0 turns the shaking off). Threads pick the seed up at their
/// next shake point.
inline void set_shake_seed(std::uint64_t seed) noexcept {
  shake_globals.seed.store(seed, std::memory_order_relaxed);
  shake_globals.generation.fetch_add(1, std::memory_order_release);
}

inline void shake_point() noexcept {
  struct State {
    std::uint64_t generation = ~std::uint64_t{0};
    std::uint64_t rng = 0;
    std::uint64_t thread = 0;
  };
  thread_local State st;
  const std::uint64_t gen = shake_globals.generation.load(std::memory_order_acquire);
  if (gen != st.generation) {
    st.generation = gen;
    st.thread = shake_globals.next_thread.fetch_add(1, std::memory_order_relaxed);
    st.rng = shake_globals.seed.load(std::memory_order_relaxed) * 0x9E3779B97F4A7C15ull + st.thread;
    if (shake_globals.seed.load(std::memory_order_relaxed) == 0) st.rng = 0;
  }
  if (st.rng == 0) return;
  std::uint64_t z = (st.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const std::uint64_t roll = z % 64;
  if (roll < 6) {
    std::this_thread::yield();
  } else if (roll == 6) {
    std::this_thread::sleep_for(std::chrono::microseconds(1 + (z >> 32) % 20));
  }
}
#else
inline constexpr bool kShakeEnabled = false;
inline void set_shake_seed(std::uint64_t) noexcept {}
inline void shake_point() noexcept {}
#endif

}  // namespace pollscope::detail
