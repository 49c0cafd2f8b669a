#pragma once
/// join(f...) and join_all(futures): wait for several futures at once.
#include <cstddef>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pollscope/context.hpp"
#include "pollscope/future.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

namespace detail {
/// Polls `f` unless its output is already there; true once it is.
template <class F, class Slot>
bool poll_into(F& f, Slot& slot, Context& cx) {
  if (slot) return true;
  auto p = f.poll(cx);
  if (p.is_pending()) return false;
  if constexpr (std::is_void_v<output_t<F>>) {
    slot.emplace();
  } else {
    slot.emplace(std::move(p).value());
  }
  return true;
}
}  // namespace detail

/// Ready with a tuple of every output (void as std::monostate) once all are Ready.
/// Each poll polls the unfinished futures in order; finished ones are not polled again.
template <Future... Fs>
class Join {
 public:
  using Output = std::tuple<value_or_monostate_t<output_t<Fs>>...>;
  explicit Join(Fs... futures) : futures_(std::move(futures)...) {}

  Poll<Output> poll(Context& cx) {
    const bool all = poll_all(cx, std::index_sequence_for<Fs...>{});
    if (!all) return pending;
    return take(std::index_sequence_for<Fs...>{});
  }

 private:
  template <std::size_t... I>
  bool poll_all(Context& cx, std::index_sequence<I...>) {
    bool all = true;
    ((all = detail::poll_into(std::get<I>(futures_), std::get<I>(outputs_), cx) && all), ...);
    return all;
  }
  template <std::size_t... I>
  Poll<Output> take(std::index_sequence<I...>) {
    return Poll<Output>(std::in_place, Output(std::move(*std::get<I>(outputs_))...));
  }

  std::tuple<Fs...> futures_;
  std::tuple<std::optional<value_or_monostate_t<output_t<Fs>>>...> outputs_;
};

template <Future... Fs>
Join<Fs...> join(Fs... futures) {
  return Join<Fs...>(std::move(futures)...);
}

/// Ready with a vector of the outputs, in order, once every future is Ready.
template <Future F>
class JoinAll {
 public:
  using Output = std::vector<value_or_monostate_t<output_t<F>>>;
  explicit JoinAll(std::vector<F> futures) : futures_(std::move(futures)), outputs_(futures_.size()) {}

  Poll<Output> poll(Context& cx) {
    for (; first_unfinished_ < futures_.size() && outputs_[first_unfinished_]; ++first_unfinished_) {
    }
    bool all = true;
    for (std::size_t i = first_unfinished_; i < futures_.size(); ++i) {
      all = detail::poll_into(futures_[i], outputs_[i], cx) && all;
    }
    if (!all) return pending;
    Output result;
    result.reserve(outputs_.size());
    for (auto& o : outputs_) result.push_back(std::move(*o));
    return Poll<Output>(std::in_place, std::move(result));
  }

 private:
  std::vector<F> futures_;  // never resized after construction, so never moved
  std::vector<std::optional<value_or_monostate_t<output_t<F>>>> outputs_;
  std::size_t first_unfinished_ = 0;
};

template <Future F>
JoinAll<F> join_all(std::vector<F> futures) {
  return JoinAll<F>(std::move(futures));
}

}  // namespace pollscope
