#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "pollscope/waker.hpp"

namespace pollscope::detail {

class ExecutorCore;

/// Puts one block_on call's thread to sleep until its waker fires. Each block_on
/// call owns its own Parker, so a wake that arrives before the thread parks is kept
/// (NOTIFIED) and a nested block_on on the same thread cannot consume it.
/// Reference counted: the block_on call holds one reference, each Waker one more.
/// unpark() is thread-safe; park and take_notification belong to the owning thread.
class Parker {
 public:
  /// A parker for a new block_on call: a recycled one from this thread when no
  /// waker of its previous use is alive, else a new one.
  static Parker* acquire();
  /// Ends a block_on call's use (drops its reference, maybe keeps it for reuse).
  static void recycle(Parker* parker) noexcept;

  void unpark();
  /// Consumes a pending notification without blocking.
  bool take_notification() noexcept;
  /// Sleeps until notified or until `deadline` (if given). True when it consumed a
  /// notification, false when the deadline passed first.
  bool park(std::optional<std::chrono::steady_clock::time_point> deadline);
  /// Sleeps until notified (true) or until no waker of it is alive any more (false):
  /// then nothing can notify it, the caller reports a stall. See outside_wait_.
  bool park_while_wakers_alive();

  /// True when no waker of it is alive: only its block_on call refers to it.
  bool exclusive() const noexcept { return refs_.load(std::memory_order_acquire) == 1; }
  /// Forgets a notification left by a previous block_on call (owning thread only).
  void reset() noexcept { state_.store(empty, std::memory_order_relaxed); }

  RawWaker raw_waker() noexcept { return RawWaker{this, &vtable}; }
  /// seq_cst: a read of the handshake described at outside_wait_.
  std::uint32_t live_wakers() const noexcept { return wakers_.load(std::memory_order_seq_cst); }

  /// The executor driving the owning thread, for tracing same-thread wakes; other
  /// threads only compare it with their own scope.
  std::atomic<ExecutorCore*> core{nullptr};

  static const RawWakerVTable vtable;

 private:
  enum : std::uint32_t { empty = 0, notified = 1, parked = 2 };
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  static RawWaker clone(const void* data) noexcept;
  static void wake(const void* data) noexcept;
  static void wake_by_ref(const void* data) noexcept;
  static void drop(const void* data) noexcept;

  std::atomic<std::uint32_t> state_{empty};
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<std::uint32_t> wakers_{0};
  /// Set while park_while_wakers_alive() runs. The parking thread sets it, THEN reads
  /// wakers_ (under mutex_, and again at each wakeup); drop() decrements wakers_, THEN
  /// reads this flag, only when its RMW left no waker. All four are seq_cst, so in
  /// their single total order either the parker's read comes after the decrement (it
  /// sees no waker and does not sleep), or the flag was set before the dropper's read:
  /// the dropper then takes mutex_ (so the parker, which read wakers_ under it, is
  /// waiting on cv_ by then, or sees the decrement) and notifies cv_. Nothing is
  /// missed. The dropper holds a reference to the parker until it is done.
  std::atomic<bool> outside_wait_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace pollscope::detail
