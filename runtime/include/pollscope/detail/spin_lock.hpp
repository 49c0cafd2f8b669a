#pragma once
#include <atomic>
#include <thread>

namespace pollscope::detail {

/// A test-and-test-and-set lock for critical sections of a few instructions
/// (a waker slot, a queue push). Cheaper than std::mutex when uncontended, which
/// is the common case on every path that uses it. Satisfies Lockable, so it works
/// with std::lock_guard / std::unique_lock. Never hold it across a call into user
/// code (a poll, a waker, a destructor of a future): those may take it again.
class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace pollscope::detail
