#include "pollscope/detail/parker.hpp"

#include "pollscope/detail/executor_core.hpp"

namespace pollscope::detail {

namespace {
Parker* self(const void* data) { return static_cast<Parker*>(const_cast<void*>(data)); }

/// One spare parker per thread: block_on is often called in a loop, and a fresh
/// mutex and condition variable per call would dominate a ready future's cost.
struct ParkerCache {
  Parker* spare = nullptr;
  bool closed = false;  // set by the destructor: recycle() must free, not cache again
  ~ParkerCache() {
    closed = true;
    Parker::recycle(std::exchange(spare, nullptr));
  }
};
thread_local ParkerCache tls_parker_cache;

void trace_wake(Parker* p, EventKind kind) {
  ExecutorCore* core = p->core.load(std::memory_order_relaxed);
  if (core == nullptr || tls_scope.core != core || !core->tracing()) return;
  Event e;
  e.kind = kind;
  e.task = 1;
  e.source = core->classify_wake(1, e.other);
  if (e.source == WakeSource::self) tls_scope.woke_self = true;
  core->emit(std::move(e));
}

void trace_waker(Parker* p, EventKind kind, std::uint32_t live) {
  ExecutorCore* core = p->core.load(std::memory_order_relaxed);
  if (core == nullptr || tls_scope.core != core || !core->tracing()) return;
  core->emit(kind, 1, live);
}
}  // namespace

const RawWakerVTable Parker::vtable{&Parker::clone, &Parker::wake, &Parker::wake_by_ref, &Parker::drop};

Parker* Parker::acquire() {
  Parker* p = std::exchange(tls_parker_cache.spare, nullptr);
  if (p == nullptr) return new Parker;
  p->reset();
  return p;
}

void Parker::recycle(Parker* parker) noexcept {
  if (parker == nullptr) return;
  parker->core.store(nullptr, std::memory_order_relaxed);
  // Reusable only when nothing else refers to it: a waker kept by a finished
  // future could otherwise wake the next block_on call.
  if (parker->exclusive() && tls_parker_cache.spare == nullptr && !tls_parker_cache.closed) {
    tls_parker_cache.spare = parker;
    return;
  }
  parker->release();
}

void Parker::unpark() {
  if (state_.exchange(notified, std::memory_order_acq_rel) == parked) {
    // Taking the lock orders this notify after the parker's wait started.
    { std::lock_guard<std::mutex> lock(mutex_); }
    cv_.notify_one();
  }
}

bool Parker::take_notification() noexcept {
  std::uint32_t expected = notified;
  return state_.compare_exchange_strong(expected, empty, std::memory_order_acq_rel);
}

bool Parker::park(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (take_notification()) return true;
  std::unique_lock<std::mutex> lock(mutex_);
  std::uint32_t expected = empty;
  if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acq_rel)) {
    state_.store(empty, std::memory_order_release);  // it was NOTIFIED meanwhile
    return true;
  }
  for (;;) {
    if (deadline) {
      if (cv_.wait_until(lock, *deadline) == std::cv_status::timeout) {
        // Timed out, unless a notification landed just now.
        return state_.exchange(empty, std::memory_order_acq_rel) == notified;
      }
    } else {
      cv_.wait(lock);
    }
    expected = notified;
    if (state_.compare_exchange_strong(expected, empty, std::memory_order_acq_rel)) return true;
  }
}

bool Parker::park_while_wakers_alive() {
  if (take_notification()) return true;
  outside_wait_.store(true, std::memory_order_seq_cst);
  std::unique_lock<std::mutex> lock(mutex_);
  std::uint32_t expected = empty;
  bool woken = false;
  if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acq_rel)) {
    state_.store(empty, std::memory_order_release);  // it was NOTIFIED meanwhile
    woken = true;
  } else {
    for (;;) {
      expected = Parker::notified;
      if (state_.compare_exchange_strong(expected, empty, std::memory_order_acq_rel)) {
        woken = true;
        break;
      }
      if (live_wakers() == 0) {
        // No waker left to notify it: stop waiting, unless a notification landed just now.
        woken = state_.exchange(empty, std::memory_order_acq_rel) == Parker::notified;
        break;
      }
      cv_.wait(lock);
    }
  }
  outside_wait_.store(false, std::memory_order_relaxed);
  return woken;
}

RawWaker Parker::clone(const void* data) noexcept {
  Parker* p = self(data);
  p->retain();
  const std::uint32_t live = p->wakers_.fetch_add(1, std::memory_order_relaxed) + 1;
  trace_waker(p, EventKind::waker_clone, live);
  return p->raw_waker();
}

void Parker::wake(const void* data) noexcept {
  Parker* p = self(data);
  trace_wake(p, EventKind::wake);
  p->unpark();
  // Only after unpark: a block_on that sees no live waker must find the notification
  // (it checks again before reporting a stall).
  p->wakers_.fetch_sub(1, std::memory_order_release);
  p->release();
}

void Parker::wake_by_ref(const void* data) noexcept {
  Parker* p = self(data);
  trace_wake(p, EventKind::wake_by_ref);
  p->unpark();
}

void Parker::drop(const void* data) noexcept {
  Parker* p = self(data);
  // seq_cst, and the flag read after it only when no waker is left: the handshake
  // described at outside_wait_ (block_on parked for a waker that will never wake it).
  const std::uint32_t live = p->wakers_.fetch_sub(1, std::memory_order_seq_cst) - 1;
  if (live == 0 && p->outside_wait_.load(std::memory_order_seq_cst)) [[unlikely]] {
    { std::lock_guard<std::mutex> lock(p->mutex_); }
    p->cv_.notify_one();
  }
  trace_waker(p, EventKind::waker_drop, live);
  p->release();
}

}  // namespace pollscope::detail
