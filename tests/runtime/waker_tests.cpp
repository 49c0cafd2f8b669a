// Tests for pollscope/waker.hpp: Waker over a RawWaker and its RawWakerVTable.
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <pollscope/waker.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/test_wakers.hpp"

using pollscope::RawWaker;
using pollscope::RawWakerVTable;
using pollscope::Waker;
using pollscope_test::CountingWaker;
using pollscope_test::WakerCalls;

namespace {

// Another vtable with the CountingWaker's functions: a waker with a CountingWaker's
// data but this vtable is a different waker (will_wake compares vtable addresses),
// while its calls still show up in that CountingWaker's counts.
constexpr RawWakerVTable other_vtable{&CountingWaker::clone_fn, &CountingWaker::wake_fn,
                                      &CountingWaker::wake_by_ref_fn, &CountingWaker::drop_fn};

static_assert(std::is_nothrow_move_constructible_v<Waker>);
static_assert(std::is_nothrow_move_assignable_v<Waker>);
static_assert(std::is_copy_constructible_v<Waker>);
static_assert(!std::is_default_constructible_v<Waker>);

}  // namespace

TEST_CASE("Waker::from_raw adopts the RawWaker without calling the vtable", "[waker]") {
  CountingWaker cw;
  {
    Waker w = cw.waker();
    REQUIRE(w.as_raw().data == &cw);
    REQUIRE(w.as_raw().vtable == &pollscope_test::counting_waker_vtable);
    REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
  }
  // Destroying the adopted waker releases its reference: drop, once.
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});
  REQUIRE(cw.live() == 0);
}

TEST_CASE("copying a Waker calls clone once and destroying each copy calls drop once", "[waker]") {
  CountingWaker cw;
  {
    Waker a = cw.waker();
    {
      Waker b = a;
      REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
      REQUIRE(b.as_raw().data == &cw);
      REQUIRE(b.will_wake(a));
    }
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 1});
  }
  REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 2});
  REQUIRE(cw.live() == 0);
}

TEST_CASE("std::move(w).wake() calls wake once and the moved-from waker calls nothing afterwards",
          "[waker]") {
  CountingWaker cw;
  {
    Waker w = cw.waker();
    std::move(w).wake();
    REQUIRE(cw.calls() == WakerCalls{0, 1, 0, 0});
    REQUIRE(w.as_raw().vtable ==
            nullptr);  // NOLINT(bugprone-use-after-move): the documented empty state
    REQUIRE(w.as_raw().data == nullptr);
    // Every operation of the emptied waker is a no-op now.
    w.wake_by_ref();
    std::move(w).wake();
    Waker copy = w;
    REQUIRE(copy.as_raw().vtable == nullptr);
    REQUIRE(cw.calls() == WakerCalls{0, 1, 0, 0});
  }
  // Not even drop when it is destroyed: wake already released the reference.
  REQUIRE(cw.calls() == WakerCalls{0, 1, 0, 0});
  REQUIRE(cw.live() == 0);
}

TEST_CASE("wake_by_ref calls wake_by_ref each time and keeps the waker alive", "[waker]") {
  CountingWaker cw;
  {
    const Waker w = cw.waker();
    w.wake_by_ref();
    REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
    w.wake_by_ref();
    w.wake_by_ref();
    REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 0});
    REQUIRE(w.as_raw().data == &cw);
    REQUIRE(cw.live() == 1);
  }
  REQUIRE(cw.calls() == WakerCalls{0, 0, 3, 1});
  REQUIRE(cw.live() == 0);
}

TEST_CASE("moving a Waker transfers it without calling the vtable", "[waker]") {
  CountingWaker cw;
  {
    Waker a = cw.waker();
    Waker b = std::move(a);
    REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
    REQUIRE(a.as_raw().vtable ==
            nullptr);  // NOLINT(bugprone-use-after-move): the documented empty state
    REQUIRE(b.as_raw().data == &cw);
    b.wake_by_ref();
    a.wake_by_ref();  // the moved-from waker wakes nobody
    REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  }
  // Two objects, one reference: one drop.
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 1});
}

TEST_CASE("copy assignment clones the source and drops the value it replaces", "[waker]") {
  CountingWaker old_target;
  CountingWaker source;
  {
    Waker a = old_target.waker();
    const Waker b = source.waker();
    a = b;
    REQUIRE(old_target.calls() == WakerCalls{0, 0, 0, 1});
    REQUIRE(source.calls() == WakerCalls{1, 0, 0, 0});
    REQUIRE(a.will_wake(b));
    REQUIRE(a.as_raw().data == &source);
  }
  REQUIRE(old_target.calls() == WakerCalls{0, 0, 0, 1});
  REQUIRE(source.calls() == WakerCalls{1, 0, 0, 2});
  REQUIRE(old_target.live() == 0);
  REQUIRE(source.live() == 0);
}

TEST_CASE("move assignment drops the value it replaces and takes the source without cloning",
          "[waker]") {
  CountingWaker old_target;
  CountingWaker source;
  {
    Waker a = old_target.waker();
    Waker b = source.waker();
    a = std::move(b);
    REQUIRE(old_target.calls() == WakerCalls{0, 0, 0, 1});
    REQUIRE(source.calls() == WakerCalls{0, 0, 0, 0});
    REQUIRE(a.as_raw().data == &source);
    REQUIRE(b.as_raw().vtable ==
            nullptr);  // NOLINT(bugprone-use-after-move): the documented empty state
  }
  // `a` drops the source's reference; the emptied `b` calls nothing.
  REQUIRE(old_target.calls() == WakerCalls{0, 0, 0, 1});
  REQUIRE(source.calls() == WakerCalls{0, 0, 0, 1});
}

TEST_CASE("assigning a Waker to itself, by copy or by move, calls nothing and keeps it",
          "[waker]") {
  CountingWaker cw;
  {
    Waker a = cw.waker();
    Waker& same = a;  // through a reference: the self-assignment a real container would do
    a = same;
    REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
    a = std::move(same);
    REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
    REQUIRE(a.as_raw().data == &cw);
    a.wake_by_ref();
    REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 0});
  }
  REQUIRE(cw.calls() == WakerCalls{0, 0, 1, 1});
}

TEST_CASE("assigning to a moved-from Waker drops nothing and revives it", "[waker]") {
  CountingWaker cw;
  {
    Waker a = cw.waker();
    Waker b = std::move(a);
    a = b;  // the target is empty: nothing to drop; the source is cloned
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
    REQUIRE(a.will_wake(b));
  }
  REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 2});
}

TEST_CASE("will_wake is true for the same data and vtable, false when either differs", "[waker]") {
  CountingWaker first;
  CountingWaker second;
  const Waker a = first.waker();
  const Waker clone = a;
  const Waker other_data = second.waker();
  const Waker other_vtable_same_data = Waker::from_raw(RawWaker{&first, &other_vtable});

  REQUIRE(a.will_wake(a));
  REQUIRE(a.will_wake(clone));
  REQUIRE(clone.will_wake(a));
  REQUIRE(first.owns(clone));
  REQUIRE_FALSE(a.will_wake(other_data));
  REQUIRE_FALSE(other_data.will_wake(a));
  REQUIRE_FALSE(a.will_wake(other_vtable_same_data));
  REQUIRE_FALSE(other_vtable_same_data.will_wake(a));
  // will_wake itself calls nothing (beyond the one clone made above).
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(second.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("Waker::noop() can be cloned, woken and dropped and wakes nothing", "[waker]") {
  Waker n = Waker::noop();
  REQUIRE(n.as_raw().data == nullptr);
  REQUIRE(n.as_raw().vtable != nullptr);

  Waker copy = n;
  REQUIRE(copy.will_wake(n));
  REQUIRE(Waker::noop().will_wake(n));  // every no-op waker is the same waker

  copy.wake_by_ref();
  copy.wake_by_ref();
  std::move(copy).wake();
  REQUIRE(copy.as_raw().vtable == nullptr);  // NOLINT(bugprone-use-after-move): consumed by wake

  CountingWaker cw;
  const Waker counted = cw.waker();
  REQUIRE_FALSE(n.will_wake(counted));
  REQUIRE_FALSE(counted.will_wake(n));
  n.wake_by_ref();
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("a Waker built from a RawWaker with a null vtable calls nothing at all", "[waker]") {
  Waker empty = Waker::from_raw(RawWaker{nullptr, nullptr});
  Waker copy = empty;
  REQUIRE(copy.as_raw().vtable == nullptr);
  REQUIRE(copy.as_raw().data == nullptr);
  empty.wake_by_ref();
  std::move(copy).wake();
  REQUIRE(empty.will_wake(copy));  // both empty: same (null) data and vtable
}

TEST_CASE("every operation of a Waker is noexcept, as its vtable's functions must be", "[waker]") {
  Waker w = Waker::noop();
  Waker other = Waker::noop();
  static_assert(noexcept(Waker(w)));
  static_assert(noexcept(w = other));
  static_assert(noexcept(w.wake_by_ref()));
  static_assert(noexcept(std::move(w).wake()));
  static_assert(std::is_nothrow_destructible_v<Waker>);
  static_assert(std::is_same_v<decltype(RawWakerVTable::wake_by_ref), void (*)(const void*) noexcept>);
  // A poll that only wakes can then be noexcept itself (yield_now, count).
  static_assert(noexcept(pollscope::yield_now().poll(std::declval<pollscope::Context&>())));
  w.wake_by_ref();
  REQUIRE(w.as_raw().vtable == &pollscope::detail::noop_vtable);  // kept after wake_by_ref
}
