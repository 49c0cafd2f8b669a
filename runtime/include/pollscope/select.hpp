#pragma once
/// select(a, b): the first of two futures to finish.
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "pollscope/context.hpp"
#include "pollscope/future.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

/// Polls `a`, then `b`, on every poll. When one is Ready, the other is destroyed
/// (cancelled) before select returns Ready with a variant: index 0 for `a`'s
/// output, 1 for `b`'s (void as std::monostate).
template <Future A, Future B>
class Select {
 public:
  using Output = std::variant<value_or_monostate_t<output_t<A>>, value_or_monostate_t<output_t<B>>>;
  Select(A a, B b) : a_(std::move(a)), b_(std::move(b)) {}

  Poll<Output> poll(Context& cx) {
    if (!a_ || !b_) throw std::logic_error("pollscope::Select polled after it completed");
    if (auto out = try_one<0>(*a_, cx)) {
      b_.reset();
      a_.reset();
      return Poll<Output>(std::in_place, std::move(*out));
    }
    if (auto out = try_one<1>(*b_, cx)) {
      a_.reset();
      b_.reset();
      return Poll<Output>(std::in_place, std::move(*out));
    }
    return pending;
  }

 private:
  template <std::size_t I, class F>
  static std::optional<Output> try_one(F& f, Context& cx) {
    auto p = f.poll(cx);
    if (p.is_pending()) return std::nullopt;
    if constexpr (std::is_void_v<output_t<F>>) {
      return Output(std::in_place_index<I>);
    } else {
      return Output(std::in_place_index<I>, std::move(p).value());
    }
  }

  std::optional<A> a_;
  std::optional<B> b_;
};

template <Future A, Future B>
Select<A, B> select(A a, B b) {
  return Select<A, B>(std::move(a), std::move(b));
}

}  // namespace pollscope
