#pragma once
/// Poll<T>: the answer of one poll of a future — Ready with a value, or Pending.
#include <concepts>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace pollscope {

/// The type of `pending`: converts to every Poll<T>.
struct PendingTag {
  explicit constexpr PendingTag(int) noexcept {}
};

/// `return pending;` from any poll function.
inline constexpr PendingTag pending{0};

template <class T = void>
class Poll;

/// Ready with a value, or Pending. `Poll<U>` converts to `Poll<T>` when U converts to T,
/// so `return ready(1);` works in a `Poll<std::uint64_t>`.
template <class T>
class Poll {
 public:
  using value_type = T;

  constexpr Poll(PendingTag) noexcept {}  // NOLINT: implicit on purpose, like Rust's Poll::Pending
  constexpr explicit Poll(std::in_place_t, T value) : value_(std::move(value)) {}

  template <class U>
    requires(!std::same_as<U, T> && std::convertible_to<U, T>)
  constexpr Poll(Poll<U>&& other) {  // NOLINT: implicit like the value conversion it mirrors
    if (other.is_ready()) value_.emplace(std::move(other).value());
  }

  constexpr bool is_ready() const noexcept { return value_.has_value(); }
  constexpr bool is_pending() const noexcept { return !value_.has_value(); }

  /// The value of a Ready poll. Throws std::logic_error when Pending.
  constexpr T& value() & { return checked(), *value_; }
  constexpr const T& value() const& { return checked(), *value_; }
  constexpr T&& value() && { return checked(), std::move(*value_); }

 private:
  constexpr void checked() const {
    if (!value_) throw std::logic_error("pollscope::Poll::value() called on a Pending poll");
  }
  std::optional<T> value_;
};

template <>
class Poll<void> {
 public:
  using value_type = void;
  constexpr Poll(PendingTag) noexcept {}  // NOLINT: implicit on purpose
  constexpr explicit Poll(std::in_place_t) noexcept : ready_(true) {}
  constexpr bool is_ready() const noexcept { return ready_; }
  constexpr bool is_pending() const noexcept { return !ready_; }
  /// Throws std::logic_error when Pending.
  constexpr void value() const {
    if (!ready_) throw std::logic_error("pollscope::Poll::value() called on a Pending poll");
  }

 private:
  bool ready_ = false;
};

/// A Ready poll carrying `v`.
template <class V>
constexpr Poll<std::decay_t<V>> ready(V&& v) {
  return Poll<std::decay_t<V>>(std::in_place, std::forward<V>(v));
}

/// A Ready `Poll<void>`.
constexpr Poll<void> ready() noexcept { return Poll<void>(std::in_place); }

}  // namespace pollscope
