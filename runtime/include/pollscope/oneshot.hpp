#pragma once
/// oneshot<T>(): a channel for exactly one value.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/poll.hpp"
#include "pollscope/waker.hpp"

namespace pollscope {

namespace detail {
template <class T>
struct OneshotState {
  SpinLock lock;  // guards everything below but `refs`
  std::optional<T> value;
  bool sender_alive = true;
  bool receiver_alive = true;
  std::optional<Waker> receiver;
  std::atomic<std::uint32_t> refs{2};
  void release() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};
}  // namespace detail

template <class T>
class OneshotReceiver;

/// Sends the one value. Threading: sender and receiver may be on different threads.
template <class T>
class OneshotSender {
 public:
  OneshotSender(OneshotSender&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  OneshotSender& operator=(OneshotSender&&) = delete;
  OneshotSender(const OneshotSender&) = delete;
  ~OneshotSender() { finish(); }

  /// Delivers `value` at once; false (value dropped) if the receiver is gone.
  /// Sending twice throws std::logic_error.
  bool send(T value) {
    if (!state_) throw std::logic_error("pollscope::OneshotSender::send called twice");
    bool delivered = false;
    {
      std::lock_guard<detail::SpinLock> lock(state_->lock);
      if (state_->receiver_alive) {
        state_->value.emplace(std::move(value));
        delivered = true;
      }
    }
    finish();
    return delivered;
  }

 private:
  template <class U>
  friend std::pair<OneshotSender<U>, OneshotReceiver<U>> oneshot();
  explicit OneshotSender(detail::OneshotState<T>* state) noexcept : state_(state) {}
  void finish() {
    detail::OneshotState<T>* state = std::exchange(state_, nullptr);
    if (!state) return;
    std::optional<Waker> receiver;
    {
      std::lock_guard<detail::SpinLock> lock(state->lock);
      state->sender_alive = false;
      receiver.swap(state->receiver);
    }
    if (receiver) std::move(*receiver).wake();
    state->release();
  }
  detail::OneshotState<T>* state_;
};

/// A Future of std::optional<T>: the value, or empty if the sender was dropped
/// without sending.
template <class T>
class OneshotReceiver {
 public:
  using Output = std::optional<T>;
  OneshotReceiver(OneshotReceiver&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  OneshotReceiver& operator=(OneshotReceiver&&) = delete;
  OneshotReceiver(const OneshotReceiver&) = delete;
  ~OneshotReceiver() {
    if (!state_) return;
    std::optional<T> dropped;
    std::optional<Waker> waker;
    {
      std::lock_guard<detail::SpinLock> lock(state_->lock);
      state_->receiver_alive = false;
      dropped.swap(state_->value);
      waker.swap(state_->receiver);
    }
    state_->release();
  }

  Poll<std::optional<T>> poll(Context& cx) {
    if (done_) throw std::logic_error("pollscope::OneshotReceiver polled after it completed");
    std::optional<Waker> fresh;
    for (;;) {
      {
        std::lock_guard<detail::SpinLock> lock(state_->lock);
        if (state_->value || !state_->sender_alive) {
          done_ = true;
          std::optional<T> out = std::move(state_->value);
          state_->value.reset();
          return ready(std::move(out));
        }
        if (state_->receiver && state_->receiver->will_wake(cx.waker())) return pending;
        if (fresh) {
          state_->receiver.swap(fresh);
          return pending;
        }
      }
      fresh.emplace(cx.waker());
    }
  }

 private:
  template <class U>
  friend std::pair<OneshotSender<U>, OneshotReceiver<U>> oneshot();
  explicit OneshotReceiver(detail::OneshotState<T>* state) noexcept : state_(state) {}
  detail::OneshotState<T>* state_;
  bool done_ = false;
};

/// `auto [tx, rx] = oneshot<int>();`
template <class T>
std::pair<OneshotSender<T>, OneshotReceiver<T>> oneshot() {
  auto* state = new detail::OneshotState<T>;
  return {OneshotSender<T>(state), OneshotReceiver<T>(state)};
}

}  // namespace pollscope
