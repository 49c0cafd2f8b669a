// Tests for pollscope/poll.hpp: Poll<T>, Poll<void>, ready(), pending.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <catch2/catch.hpp>

#include <pollscope/poll.hpp>

using pollscope::pending;
using pollscope::Poll;
using pollscope::ready;

namespace {

constexpr const char* kPendingValueMessage = "pollscope::Poll::value() called on a Pending poll";

// `return ready(1);` makes a Poll<int>, which must convert to the declared Poll<std::uint64_t>.
Poll<std::uint64_t> ready_one_as_u64() {
  return ready(1);
}
Poll<std::uint64_t> pending_as_u64() {
  return Poll<int>(pending);
}

static_assert(std::is_same_v<decltype(ready(1)), Poll<int>>);
static_assert(std::is_same_v<decltype(ready(std::string("s"))), Poll<std::string>>);
static_assert(std::is_same_v<decltype(ready()), Poll<void>>);
static_assert(std::is_same_v<Poll<int>::value_type, int>);
static_assert(std::is_same_v<Poll<void>::value_type, void>);
static_assert(std::is_same_v<Poll<>, Poll<void>>);

}  // namespace

TEST_CASE("ready(v) makes a Ready poll whose value() is v", "[poll]") {
  Poll<int> p = ready(7);
  REQUIRE(p.is_ready());
  REQUIRE_FALSE(p.is_pending());
  REQUIRE(p.value() == 7);
  // value() does not consume: it can be read again, and written through.
  p.value() = 8;
  REQUIRE(p.value() == 8);
}

TEST_CASE("pending converts to a Pending Poll of any type", "[poll]") {
  Poll<int> i = pending;
  Poll<std::string> s = pending;
  Poll<void> v = pending;
  REQUIRE(i.is_pending());
  REQUIRE_FALSE(i.is_ready());
  REQUIRE(s.is_pending());
  REQUIRE_FALSE(s.is_ready());
  REQUIRE(v.is_pending());
  REQUIRE_FALSE(v.is_ready());
}

TEST_CASE("value() on a Pending Poll<int> throws std::logic_error with the documented message",
          "[poll]") {
  Poll<int> p = pending;
  const Poll<int>& cp = p;
  REQUIRE_THROWS_AS(p.value(), std::logic_error);
  REQUIRE_THROWS_WITH(p.value(), kPendingValueMessage);
  REQUIRE_THROWS_AS(cp.value(), std::logic_error);
  REQUIRE_THROWS_WITH(cp.value(), kPendingValueMessage);
  REQUIRE_THROWS_AS(std::move(p).value(), std::logic_error);
  REQUIRE_THROWS_WITH(std::move(p).value(), kPendingValueMessage);
}

TEST_CASE("value() on a Pending Poll<void> throws std::logic_error with the documented message",
          "[poll]") {
  Poll<void> p = pending;
  REQUIRE_THROWS_AS(p.value(), std::logic_error);
  REQUIRE_THROWS_WITH(p.value(), kPendingValueMessage);
}

TEST_CASE("ready() makes a Ready Poll<void> whose value() does not throw", "[poll]") {
  Poll<void> p = ready();
  REQUIRE(p.is_ready());
  REQUIRE_FALSE(p.is_pending());
  REQUIRE_NOTHROW(p.value());
}

TEST_CASE("return ready(1) from a function returning Poll<std::uint64_t> gives Ready(1)",
          "[poll]") {
  Poll<std::uint64_t> p = ready_one_as_u64();
  REQUIRE(p.is_ready());
  REQUIRE(p.value() == std::uint64_t{1});
}

TEST_CASE("a Pending Poll<int> converts to a Pending Poll<std::uint64_t>", "[poll]") {
  Poll<std::uint64_t> p = pending_as_u64();
  REQUIRE(p.is_pending());
  REQUIRE_THROWS_WITH(p.value(), kPendingValueMessage);
}

TEST_CASE("Poll<U> converts to Poll<T> only from an rvalue and only when U converts to T",
          "[poll]") {
  static_assert(std::is_convertible_v<Poll<int>, Poll<std::uint64_t>>);
  static_assert(std::is_convertible_v<Poll<const char*>, Poll<std::string>>);
  static_assert(!std::is_convertible_v<Poll<std::string>, Poll<int>>);
  static_assert(!std::is_constructible_v<Poll<int>, Poll<std::string>>);
  static_assert(!std::is_constructible_v<Poll<std::uint64_t>, Poll<int>&>);
  Poll<std::string> s = ready("text");
  REQUIRE(s.value() == "text");
}

TEST_CASE("value() on an rvalue Poll moves a move-only value out", "[poll]") {
  Poll<std::unique_ptr<int>> p = ready(std::make_unique<int>(5));
  std::unique_ptr<int> out = std::move(p).value();
  REQUIRE(out != nullptr);
  REQUIRE(*out == 5);
  // The Poll is still Ready; it holds the moved-from (null) pointer.
  REQUIRE(p.is_ready());
  REQUIRE(p.value() == nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
}

TEST_CASE("Poll works in constant expressions", "[poll]") {
  static_assert(ready(3).value() == 3);
  static_assert(ready(3).is_ready());
  static_assert(Poll<int>(pending).is_pending());
  static_assert(ready().is_ready());
  static_assert(Poll<void>(pending).is_pending());
  constexpr Poll<long> converted = ready(4);
  static_assert(converted.value() == 4L);
  REQUIRE(converted.value() == 4L);
}
