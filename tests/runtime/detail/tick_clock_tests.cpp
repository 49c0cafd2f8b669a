// Tests for pollscope/detail/tick_clock.hpp: available() agrees with what the
// operating system says of the CPU, and the counter counts.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include <pollscope/detail/tick_clock.hpp>

namespace tick_clock = pollscope::detail::tick_clock;

// POLLSCOPE_HAS_TICK_CLOCK's condition (tick_clock.hpp), spelled with predefined
// macros: scripts/count-tests.mjs counts the tests of each build from the source and
// knows no macro a header defines.
#if (defined(__x86_64__) || defined(__i386__)) && !defined(__EMSCRIPTEN__)
#define TESTS_HAVE_TICK_CLOCK 1
#else
#define TESTS_HAVE_TICK_CLOCK 0
#endif
static_assert(TESTS_HAVE_TICK_CLOCK == POLLSCOPE_HAS_TICK_CLOCK);

#if TESTS_HAVE_TICK_CLOCK && defined(__linux__)
TEST_CASE("The tick clock is available exactly when Linux lists constant_tsc and nonstop_tsc", "[tick_clock]") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  bool constant = false, nonstop = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    constant = line.find(" constant_tsc") != std::string::npos;
    nonstop = line.find(" nonstop_tsc") != std::string::npos;
    break;
  }
  REQUIRE(tick_clock::available() == (constant && nonstop));
}
#endif

#if TESTS_HAVE_TICK_CLOCK
TEST_CASE("The tick counter counts up across a millisecond", "[tick_clock]") {
  // Readable on every x86 CPU; available() only says whether its rate is constant.
  const std::uint64_t before = tick_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::uint64_t after = tick_clock::now();
  REQUIRE(after > before);
  REQUIRE(after - before > 1000);  // any counter of this kind runs at well over 1 MHz
}
#else
TEST_CASE("Without a tick clock, available() is false and nothing is read", "[tick_clock]") {
  REQUIRE_FALSE(tick_clock::available());
  REQUIRE(tick_clock::now() == 0);
}
#endif
