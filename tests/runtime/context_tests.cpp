// Tests for pollscope/context.hpp: Context lends the polled task's waker.
#include <optional>

#include <catch2/catch.hpp>

#include <pollscope/context.hpp>
#include <pollscope/poll.hpp>
#include <pollscope/waker.hpp>

#include "../support/test_wakers.hpp"

using pollscope::Context;
using pollscope::Waker;
using pollscope_test::CountingWaker;
using pollscope_test::WakerCalls;

namespace {

// A leaf future in the usual shape: keeps a copy of cx.waker() while Pending,
// replacing it only when the new one would wake another task.
struct KeepsWaker {
  using Output = int;
  std::optional<Waker> stored;
  pollscope::Poll<int> poll(Context& cx) {
    if (!stored || !stored->will_wake(cx.waker())) stored = cx.waker();
    return pollscope::pending;
  }
};

}  // namespace

TEST_CASE("Context::waker() returns the very waker the Context was built with", "[context]") {
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  REQUIRE(&cx.waker() == &w);
  REQUIRE(cx.waker().will_wake(w));
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
}

TEST_CASE("a Context borrows its waker: building and reading it clones nothing", "[context]") {
  CountingWaker cw;
  {
    const Waker w = cw.waker();
    {
      Context cx(w);
      const Waker& lent = cx.waker();
      REQUIRE(lent.as_raw().data == &cw);
    }
    REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 0});
  }
  // Only the waker itself drops its reference.
  REQUIRE(cw.calls() == WakerCalls{0, 0, 0, 1});
}

TEST_CASE("wake_by_ref through cx.waker() reaches the context's waker", "[context]") {
  CountingWaker cw;
  const Waker w = cw.waker();
  Context cx(w);
  cx.waker().wake_by_ref();
  cx.waker().wake_by_ref();
  REQUIRE(cw.calls() == WakerCalls{0, 0, 2, 0});
}

TEST_CASE(
    "a future keeping cx.waker() clones it once and re-polls with the same waker clone nothing",
    "[context]") {
  CountingWaker cw;
  KeepsWaker f;
  {
    const Waker w = cw.waker();
    Context cx(w);
    REQUIRE(f.poll(cx).is_pending());
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
    REQUIRE(f.stored->will_wake(cx.waker()));
    REQUIRE(f.poll(cx).is_pending());
    REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 0});
  }
  // The context's waker is gone; the kept copy is still alive and wakes the task.
  REQUIRE(cw.calls() == WakerCalls{1, 0, 0, 1});
  std::move(*f.stored).wake();
  REQUIRE(cw.calls() == WakerCalls{1, 1, 0, 1});
  REQUIRE(cw.live() == 0);
}

TEST_CASE("a future polled through a Context with another task's waker replaces its kept copy",
          "[context]") {
  CountingWaker first;
  CountingWaker second;
  KeepsWaker f;
  const Waker w1 = first.waker();
  const Waker w2 = second.waker();
  Context cx1(w1);
  Context cx2(w2);
  REQUIRE(f.poll(cx1).is_pending());
  REQUIRE(f.poll(cx2).is_pending());
  REQUIRE(first.calls() == WakerCalls{1, 0, 0, 1});  // cloned, then replaced: dropped
  REQUIRE(second.calls() == WakerCalls{1, 0, 0, 0});
  REQUIRE(f.stored->will_wake(w2));
}
