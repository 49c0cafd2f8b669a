// Tests for pollscope/detail/parker.hpp across threads: an unpark or a waker's wake
// from another thread while the owner is PARKED (or about to park), and a waker that
// outlives its block_on call on another thread.
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there (scripts/count-tests.mjs evaluates the
// #if with each build's predefined macros).
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <utility>

#include <catch2/catch.hpp>

#include <pollscope/detail/parker.hpp>
#include <pollscope/waker.hpp>

#include "../../support/owned_parker.hpp"

using namespace std::chrono_literals;
using pollscope::Waker;
using pollscope::detail::Parker;
using pollscope::detail::WakerAccess;
using Clock = std::chrono::steady_clock;

using Owned = pollscope_test::OwnedParker;

TEST_CASE("An unpark from another thread ends a park without deadline, and the notification is consumed",
          "[parker][threads]") {
  Owned p;
  std::atomic<bool> unparked{false};
  std::thread other([&] {
    std::this_thread::sleep_for(20ms);  // most likely the owner is PARKED by now (either way it must return)
    unparked.store(true);
    p.parker->unpark();
  });
  REQUIRE(p.parker->park(std::nullopt));
  REQUIRE(unparked.load());  // it returned because of the unpark, not before
  other.join();
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("An unpark from another thread ends a timed park long before its deadline, which returns true",
          "[parker][threads]") {
  Owned p;
  std::thread other([&] {
    std::this_thread::sleep_for(20ms);
    p.parker->unpark();
  });
  const auto start = Clock::now();
  REQUIRE(p.parker->park(start + 60s));
  REQUIRE(Clock::now() - start < 30s);
  other.join();
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("A parker waker woken on another thread during park unparks the owner and gives back its reference",
          "[parker][threads][waker]") {
  Owned p;
  Waker w = p.clone();
  REQUIRE(p.parker->live_wakers() == 1);
  std::thread other([w = std::move(w)]() mutable {
    std::this_thread::sleep_for(20ms);
    std::move(w).wake();
  });
  REQUIRE(p.parker->park(std::nullopt));
  other.join();
  REQUIRE(p.parker->live_wakers() == 0);
  REQUIRE(p.parker->exclusive());
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("A parker waker that outlives its block_on call on another thread keeps the parker alive, and its last "
          "drop there frees it",
          "[parker][threads][waker]") {
  Parker* parker = Parker::acquire();
  Waker lent = WakerAccess::borrow(parker->raw_waker());
  Waker kept = lent;  // a clone: the waker a finished future kept
  WakerAccess::forget(lent);
  Parker::recycle(parker);  // the call ends: the waker's is the last reference
  std::thread other([w = std::move(kept)]() mutable {
    w.wake_by_ref();
    Waker copy = w;
    std::move(copy).wake();
  });  // w dropped here, on the other thread: the parker is freed there (ASan/TSan check)
  other.join();
  Parker* next = Parker::acquire();
  REQUIRE(next->exclusive());
  REQUIRE_FALSE(next->take_notification());
  Parker::recycle(next);
}

#endif  // threads available
