#pragma once
/// ready_future(v): a future that is Ready at its first poll.
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/poll.hpp"

namespace pollscope {

/// Ready(value) at the first poll; polling again throws std::logic_error.
template <class T>
class ReadyFuture {
 public:
  using Output = T;
  explicit ReadyFuture(T value) : value_(std::move(value)) {}
  Poll<T> poll(Context&) {
    if (!value_) throw std::logic_error("pollscope::ReadyFuture polled after it completed");
    Poll<T> p(std::in_place, std::move(*value_));
    value_.reset();
    return p;
  }

 private:
  std::optional<T> value_;
};

template <>
class ReadyFuture<void> {
 public:
  using Output = void;
  Poll<void> poll(Context&) {
    if (done_) throw std::logic_error("pollscope::ReadyFuture polled after it completed");
    done_ = true;
    return ready();
  }

 private:
  bool done_ = false;
};

template <class T>
ReadyFuture<std::decay_t<T>> ready_future(T&& value) {
  return ReadyFuture<std::decay_t<T>>(std::forward<T>(value));
}
inline ReadyFuture<void> ready_future() noexcept { return {}; }

}  // namespace pollscope
