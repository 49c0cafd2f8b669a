// Tests for pollscope/detail/parker.hpp on one thread: the parker's notification
// state (EMPTY, NOTIFIED; PARKED is only seen by another thread, see
// parker_threads_tests.cpp) under unpark / take_notification / park / reset, its
// reference count and live wakers under the waker vtable (clone, wake, wake_by_ref,
// drop), and its reuse as a thread's spare (acquire / recycle).
#include <chrono>
#include <cstdint>
#include <optional>
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

TEST_CASE("A parker from acquire() is exclusive, with no live waker and no notification", "[parker]") {
  Owned p;
  REQUIRE(p.parker->exclusive());
  REQUIRE(p.parker->live_wakers() == 0);
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("An unpark before park leaves a notification: park returns true at once and consumes it", "[parker]") {
  Owned p;
  p.parker->unpark();
  const auto start = Clock::now();
  REQUIRE(p.parker->park(std::nullopt));  // would sleep forever without the notification
  REQUIRE(Clock::now() - start < 5s);
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("Several unparks before a park leave a single notification", "[parker]") {
  Owned p;
  p.parker->unpark();
  p.parker->unpark();
  p.parker->unpark();
  REQUIRE(p.parker->park(Clock::now() + 10s));
  const auto start = Clock::now();
  REQUIRE_FALSE(p.parker->park(start + 5ms));  // none left: times out
  REQUIRE(Clock::now() - start >= 5ms);
}

TEST_CASE("A park with a deadline and no notification returns false once the deadline passed, leaving none",
          "[parker]") {
  Owned p;
  const auto start = Clock::now();
  REQUIRE_FALSE(p.parker->park(start + 3ms));
  REQUIRE(Clock::now() - start >= 3ms);
  REQUIRE_FALSE(p.parker->take_notification());
  // A deadline already passed: no sleep, still false.
  REQUIRE_FALSE(p.parker->park(Clock::now() - 1s));
}

TEST_CASE("take_notification consumes a pending notification exactly once and never blocks", "[parker]") {
  Owned p;
  REQUIRE_FALSE(p.parker->take_notification());
  p.parker->unpark();
  REQUIRE(p.parker->take_notification());
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("An unpark after park returned leaves a notification for the next park", "[parker]") {
  Owned p;
  p.parker->unpark();
  REQUIRE(p.parker->park(std::nullopt));
  p.parker->unpark();  // after: kept for the next one
  REQUIRE(p.parker->park(Clock::now() + 10s));
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("reset forgets a pending notification", "[parker]") {
  Owned p;
  p.parker->unpark();
  p.parker->reset();
  REQUIRE_FALSE(p.parker->take_notification());
  REQUIRE_FALSE(p.parker->park(Clock::now() + 1ms));
}

TEST_CASE("A parker waker clone adds a reference and a live waker; its drop takes both back and leaves no "
          "notification",
          "[parker][waker]") {
  Owned p;
  {
    Waker a = p.clone();
    REQUIRE(p.parker->live_wakers() == 1);
    REQUIRE_FALSE(p.parker->exclusive());
    REQUIRE(a.will_wake(p.lent));
    {
      Waker b = a;
      REQUIRE(p.parker->live_wakers() == 2);
      Waker moved = std::move(b);  // no clone
      REQUIRE(p.parker->live_wakers() == 2);
    }
    REQUIRE(p.parker->live_wakers() == 1);
    REQUIRE_FALSE(p.parker->exclusive());
  }
  REQUIRE(p.parker->live_wakers() == 0);
  REQUIRE(p.parker->exclusive());
  REQUIRE_FALSE(p.parker->take_notification());  // a drop never notifies
}

TEST_CASE("wake_by_ref of a parker waker leaves a notification and keeps the waker and its count",
          "[parker][waker]") {
  Owned p;
  Waker a = p.clone();
  a.wake_by_ref();
  REQUIRE(p.parker->live_wakers() == 1);
  REQUIRE_FALSE(p.parker->exclusive());
  REQUIRE(p.parker->take_notification());
  REQUIRE_FALSE(p.parker->take_notification());
  a.wake_by_ref();
  a.wake_by_ref();
  REQUIRE(p.parker->take_notification());  // two wakes, one notification
  REQUIRE_FALSE(p.parker->take_notification());
  p.lent.wake_by_ref();  // the lent waker wakes too
  REQUIRE(p.parker->take_notification());
  REQUIRE(p.parker->live_wakers() == 1);
}

TEST_CASE("wake() of a parker waker leaves a notification and gives back its reference and live waker",
          "[parker][waker]") {
  Owned p;
  Waker a = p.clone();
  Waker b = a;
  REQUIRE(p.parker->live_wakers() == 2);
  std::move(a).wake();
  REQUIRE(a.as_raw().vtable == nullptr);
  REQUIRE(p.parker->live_wakers() == 1);
  REQUIRE_FALSE(p.parker->exclusive());
  std::move(b).wake();
  REQUIRE(p.parker->live_wakers() == 0);
  REQUIRE(p.parker->exclusive());
  REQUIRE(p.parker->park(Clock::now() + 10s));
  REQUIRE_FALSE(p.parker->take_notification());
}

TEST_CASE("recycle keeps an exclusive parker as the thread's spare; acquire returns it with its notification "
          "forgotten",
          "[parker]") {
  Parker* first = Parker::acquire();  // the spare, if there was one: the slot is empty now
  first->unpark();
  Parker::recycle(first);
  Parker* again = Parker::acquire();
  REQUIRE(again == first);
  REQUIRE_FALSE(again->take_notification());
  REQUIRE(again->exclusive());
  REQUIRE(again->live_wakers() == 0);
  Parker::recycle(again);
}

TEST_CASE("recycle releases a parker that a waker still holds; the waker keeps it alive and working, and the next "
          "acquire returns another parker",
          "[parker][waker]") {
  Parker* first = Parker::acquire();
  Waker lent = WakerAccess::borrow(first->raw_waker());
  Waker kept = lent;  // a clone: the waker a finished future kept
  WakerAccess::forget(lent);
  REQUIRE(first->live_wakers() == 1);
  Parker::recycle(first);  // not exclusive: dropped by its block_on call, not cached

  Parker* second = Parker::acquire();
  REQUIRE(second != first);  // `first` is still alive, so this is another object
  REQUIRE(second->exclusive());

  kept.wake_by_ref();  // reaches `first`, kept alive by the waker alone
  REQUIRE(first->take_notification());
  REQUIRE_FALSE(second->take_notification());
  std::move(kept).wake();  // releases the last reference: `first` is freed (ASan checks)
  REQUIRE_FALSE(second->take_notification());
  Parker::recycle(second);
}
