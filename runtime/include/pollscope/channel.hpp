#pragma once
/// channel<T>(capacity): a bounded multi-producer, single-consumer queue of values.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/detail/ring.hpp"
#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/detail/task.hpp"
#include "pollscope/poll.hpp"
#include "pollscope/waker.hpp"

namespace pollscope {

namespace detail {

template <class T>
struct ChannelState {
  explicit ChannelState(std::size_t cap) : capacity(cap) {}

  SpinLock lock;                      // guards everything below but `refs`
  Ring<T> buffer;                     // at most `capacity` values
  std::size_t capacity;
  std::size_t senders = 1;            // live Sender objects; 0: recv() drains, then ends
  bool receiver_alive = true;         // false: send() fails and drops its value
  std::optional<Waker> receiver;      // the Pending recv()'s waker
  std::deque<std::pair<std::uint64_t, Waker>> blocked_senders;  // FIFO of Pending send()s
  std::uint64_t next_ticket = 1;
  std::atomic<std::uint32_t> refs{2};  // one per Sender object and one for the Receiver

  void release() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  /// Removes and returns the waker of the send() that waited longest.
  std::optional<Waker> pop_blocked_sender() {
    if (blocked_senders.empty()) return std::nullopt;
    std::optional<Waker> w(std::move(blocked_senders.front().second));
    blocked_senders.pop_front();
    return w;
  }
};

}  // namespace detail

template <class T>
class Receiver;

/// Sends values into a channel. Copying a Sender makes another sender; the
/// channel ends (for the receiver) when the last one is gone.
/// Threading: senders and the receiver may live on different threads.
template <class T>
class Sender {
 public:
  /// A Future of bool: Ready(true) once the value is in the buffer (Pending while
  /// it is full), Ready(false) if the receiver is gone (the value is dropped).
  class SendFuture {
   public:
    using Output = bool;
    SendFuture(detail::ChannelState<T>* state, T value) : state_(state), value_(std::move(value)) {}
    SendFuture(SendFuture&& other) noexcept
        : state_(other.state_), value_(std::move(other.value_)), ticket_(std::exchange(other.ticket_, 0)) {}
    SendFuture& operator=(SendFuture&&) = delete;
    ~SendFuture() { forget_ticket(); }

    Poll<bool> poll(Context& cx) {
      if (!value_) throw std::logic_error("pollscope::Sender::send future polled after it completed");
      std::optional<Waker> fresh;    // this send's waker while the buffer is full
      std::optional<Waker> to_wake;  // the receiver's, woken after the lock
      std::optional<Waker> removed;  // this send's queued one, dropped after the lock
      bool delivered = false;
      for (;;) {
        {
          std::lock_guard<detail::SpinLock> lock(state_->lock);
          const bool alive = state_->receiver_alive;
          if (!alive || state_->buffer.size() < state_->capacity) {
            if (ticket_ != 0) removed = remove_ticket_locked();
            if (alive) {
              state_->buffer.push_back(std::move(*value_));
              delivered = true;
              if (state_->receiver) {
                to_wake.emplace(std::move(*state_->receiver));
                state_->receiver.reset();
              }
            }
            break;
          }
          Waker* slot = find_ticket_locked();
          if (slot && slot->will_wake(cx.waker())) return pending;
          if (!fresh && detail::clone_runs_no_user_code(cx.waker())) fresh.emplace(cx.waker());
          if (fresh) {
            if (slot) {
              std::swap(*slot, *fresh);  // the replaced waker is dropped after the lock
            } else {
              ticket_ = state_->next_ticket++;
              state_->blocked_senders.emplace_back(ticket_, std::move(*fresh));
            }
            return pending;
          }
        }
        fresh.emplace(cx.waker());  // a clone that may run user code: outside the lock
      }
      value_.reset();  // an undelivered value is dropped outside the lock too
      if (to_wake) std::move(*to_wake).wake();
      return ready(delivered);
    }

   private:
    Waker* find_ticket_locked() {
      if (ticket_ == 0) return nullptr;
      for (auto& [ticket, waker] : state_->blocked_senders) {
        if (ticket == ticket_) return &waker;
      }
      return nullptr;
    }
    /// Takes this send's waker out of the queue, if it is still there. The caller drops
    /// it after releasing the lock: a waker's drop may run code that takes the lock.
    std::optional<Waker> remove_ticket_locked() {
      std::optional<Waker> removed;
      if (ticket_ == 0) return removed;
      for (auto it = state_->blocked_senders.begin(); it != state_->blocked_senders.end(); ++it) {
        if (it->first == ticket_) {
          removed.emplace(std::move(it->second));
          state_->blocked_senders.erase(it);
          break;
        }
      }
      ticket_ = 0;
      return removed;
    }
    void forget_ticket() {
      if (ticket_ == 0) return;
      std::optional<Waker> next;
      std::optional<Waker> removed;
      {
        std::lock_guard<detail::SpinLock> lock(state_->lock);
        removed = remove_ticket_locked();
        const bool was_queued = removed.has_value();
        // A wake meant for this send was consumed by it: pass it on to the next one.
        if (!was_queued && state_->buffer.size() < state_->capacity) next = state_->pop_blocked_sender();
      }
      if (next) std::move(*next).wake();
    }

    detail::ChannelState<T>* state_;  // kept alive by the Sender that made this future
    std::optional<T> value_;
    std::uint64_t ticket_ = 0;
  };

  Sender(const Sender& other) : state_(other.state_) {
    std::lock_guard<detail::SpinLock> lock(state_->lock);
    ++state_->senders;
    state_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  Sender(Sender&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Sender& operator=(Sender other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Sender() {
    if (!state_) return;
    std::optional<Waker> receiver;
    {
      std::lock_guard<detail::SpinLock> lock(state_->lock);
      if (--state_->senders == 0) receiver.swap(state_->receiver);
    }
    if (receiver) std::move(*receiver).wake();
    state_->release();
  }

  /// Must be awaited while this Sender is alive.
  SendFuture send(T value) { return SendFuture(state_, std::move(value)); }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> channel(std::size_t capacity);
  explicit Sender(detail::ChannelState<T>* state) noexcept : state_(state) {}
  detail::ChannelState<T>* state_;
};

/// The receiving end of a channel (move-only: there is one receiver).
template <class T>
class Receiver {
 public:
  /// A Future of std::optional<T>: the next value (buffered values drain first),
  /// or empty once every sender is gone.
  class RecvFuture {
   public:
    using Output = std::optional<T>;
    explicit RecvFuture(detail::ChannelState<T>* state) noexcept : state_(state) {}

    Poll<std::optional<T>> poll(Context& cx) {
      std::optional<Waker> fresh;   // this recv's waker while the buffer is empty
      std::optional<Waker> sender;  // the longest-waiting send's, woken after the lock
      std::optional<T> value;
      for (;;) {
        {
          std::lock_guard<detail::SpinLock> lock(state_->lock);
          if (!state_->buffer.empty()) {
            value.emplace(state_->buffer.pop_front());
            if (!state_->blocked_senders.empty()) sender = state_->pop_blocked_sender();
            break;
          }
          if (state_->senders == 0) return ready(std::optional<T>());
          std::optional<Waker>& slot = state_->receiver;
          if (slot && slot->will_wake(cx.waker())) return pending;
          if (!fresh && detail::clone_runs_no_user_code(cx.waker())) fresh.emplace(cx.waker());
          if (fresh) {
            if (slot) {
              std::swap(*slot, *fresh);  // the replaced waker is dropped after the lock
            } else {
              slot.emplace(std::move(*fresh));
            }
            return pending;
          }
        }
        fresh.emplace(cx.waker());  // a clone that may run user code: outside the lock
      }
      if (sender) std::move(*sender).wake();
      return ready(std::move(value));
    }

   private:
    detail::ChannelState<T>* state_;  // kept alive by the Receiver that made this future
  };

  Receiver(Receiver&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Receiver& operator=(Receiver&& other) noexcept {
    Receiver(std::move(other)).swap(*this);
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    if (!state_) return;
    detail::Ring<T> dropped;
    std::deque<std::pair<std::uint64_t, Waker>> blocked;
    std::optional<Waker> receiver;  // dropped after the lock, like the values
    {
      std::lock_guard<detail::SpinLock> lock(state_->lock);
      state_->receiver_alive = false;
      dropped.swap(state_->buffer);
      blocked.swap(state_->blocked_senders);
      receiver.swap(state_->receiver);
    }
    for (auto& [ticket, waker] : blocked) std::move(waker).wake();
    state_->release();
  }

  /// Must be awaited while this Receiver is alive.
  RecvFuture recv() noexcept { return RecvFuture(state_); }

 private:
  void swap(Receiver& other) noexcept { std::swap(state_, other.state_); }
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> channel(std::size_t capacity);
  explicit Receiver(detail::ChannelState<T>* state) noexcept : state_(state) {}
  detail::ChannelState<T>* state_;
};

/// A channel holding at most `capacity` values (at least 1, else
/// std::invalid_argument). `auto [tx, rx] = channel<int>(1);`
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  if (capacity < 1) throw std::invalid_argument("pollscope::channel capacity must be at least 1");
  auto* state = new detail::ChannelState<T>(capacity);
  return {Sender<T>(state), Receiver<T>(state)};
}

}  // namespace pollscope
