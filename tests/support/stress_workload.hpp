#pragma once
/// A randomised workload for the threaded executors and their simulations
/// (header-only, used by thread_pool_threads_tests.cpp, simulated_pool_tests.cpp and
/// friends):
///  - Signal / Mailbox: one-shot wakes handed to whoever drains the mailbox (other
///    tasks, other threads, the test's main thread): cross-thread wakes;
///  - Exclusive<F>: fails the test (counts a violation) if its future is ever polled
///    by two threads at once;
///  - StressWorkload: N tasks, each a seeded random plan of yields, sleeps and
///    waits for a Signal, firing other tasks' signals as it goes; three output types;
///    counts completions per task, futures and outputs alive;
///  - stress_scale(): the divisor for stress sizes (POLLSCOPE_STRESS_SCALE, compile
///    definition or environment variable; sanitizer builds define it).
/// Only add to this file.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pollscope/async.hpp>
#include <pollscope/context.hpp>
#include <pollscope/detail/work_stealing_policy.hpp>
#include <pollscope/future.hpp>
#include <pollscope/poll.hpp>
#include <pollscope/sleep.hpp>
#include <pollscope/waker.hpp>
#include <pollscope/yield_now.hpp>

#include "counted.hpp"

#ifndef POLLSCOPE_STRESS_SCALE
#define POLLSCOPE_STRESS_SCALE 1
#endif

namespace pollscope_test {

/// How much smaller stress tests run: the environment variable POLLSCOPE_STRESS_SCALE
/// if set (a positive integer), else the compile definition (1 by default; the
/// sanitizer and wasm-pthread builds set more).
inline std::uint64_t stress_scale() {
  if (const char* env = std::getenv("POLLSCOPE_STRESS_SCALE")) {
    const long long v = std::atoll(env);
    if (v > 0) return static_cast<std::uint64_t>(v);
  }
  return POLLSCOPE_STRESS_SCALE;
}

inline std::uint64_t scaled(std::uint64_t n) {
  const std::uint64_t s = n / stress_scale();
  return s == 0 ? 1 : s;
}

// --- Signal / Mailbox --------------------------------------------------------------

/// A one-shot wake: wait() is Pending (keeping a clone of the waker) until fire().
/// Thread-safe.
class Signal {
 public:
  class Wait {
   public:
    using Output = void;
    explicit Wait(std::shared_ptr<Signal> s) : s_(std::move(s)) {}
    pollscope::Poll<void> poll(pollscope::Context& cx) {
      std::optional<pollscope::Waker> replaced;  // dropped after the lock
      std::lock_guard<std::mutex> lock(s_->mutex_);
      if (s_->fired_) return pollscope::ready();
      if (!s_->waker_ || !s_->waker_->will_wake(cx.waker())) {
        replaced.swap(s_->waker_);
        s_->waker_.emplace(cx.waker());
      }
      return pollscope::pending;
    }

   private:
    std::shared_ptr<Signal> s_;
  };

  void fire() {
    std::optional<pollscope::Waker> waker;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fired_ = true;
      waker.swap(waker_);
    }
    if (waker) std::move(*waker).wake();
  }

 private:
  std::mutex mutex_;
  bool fired_ = false;
  std::optional<pollscope::Waker> waker_;
};

/// Signals waiting to be fired, by anyone.
class Mailbox {
 public:
  void post(std::shared_ptr<Signal> s) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(std::move(s));
  }
  /// Fires up to `n` posted signals (oldest first); returns how many.
  std::size_t fire(std::size_t n) {
    std::vector<std::shared_ptr<Signal>> taken;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const std::size_t k = n < pending_.size() ? n : pending_.size();
      taken.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(k));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(k));
    }
    for (auto& s : taken) s->fire();
    return taken.size();
  }
  std::size_t fire_all() { return fire(static_cast<std::size_t>(-1)); }
  bool empty() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_.empty();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Signal>> pending_;
};

// --- Exclusive ---------------------------------------------------------------------

/// Forwards to `F`; counts a violation in `violations` if a poll starts while another
/// poll of this future is still running (a task polled by two threads at once).
template <class F>
class Exclusive {
 public:
  using Output = pollscope::output_t<F>;
  Exclusive(F future, std::atomic<int>& violations) : future_(std::move(future)), violations_(&violations) {}
  Exclusive(Exclusive&& other) noexcept : future_(std::move(other.future_)), violations_(other.violations_) {}
  pollscope::Poll<Output> poll(pollscope::Context& cx) {
    if (polling_.exchange(true, std::memory_order_acq_rel)) violations_->fetch_add(1);
    struct Done {
      std::atomic<bool>& flag;
      ~Done() { flag.store(false, std::memory_order_release); }
    } done{polling_};
    return future_.poll(cx);
  }

 private:
  F future_;
  std::atomic<int>* violations_;
  std::atomic<bool> polling_{false};
};

// --- StressWorkload ------------------------------------------------------------------

/// The third output type: carries a Tracked, so outputs destroyed twice or never
/// show in `outputs` counts.
struct TrackedOutput {
  Tracked token;
  std::uint64_t value;
};

/// What every task of the workload shares. Must outlive the executor.
struct StressWorkload {
  explicit StressWorkload(std::uint64_t tasks, std::uint64_t seed, bool with_sleeps = true)
      : completions(tasks), seed_(seed), with_sleeps_(with_sleeps) {}

  std::vector<std::atomic<int>> completions;  // per task index
  std::atomic<int> violations{0};
  LifeCounts futures;  // one Tracked per task future (lives in the coroutine frame)
  LifeCounts outputs;  // one Tracked per TrackedOutput
  Mailbox mailbox;

  static std::uint64_t expected_u64(std::uint64_t i) { return i * 3 + 1; }
  static std::string expected_string(std::uint64_t i) { return "task " + std::to_string(i); }

  /// Task `i`'s plan: 0 to 4 steps, each a yield, a wait for its own Signal (posted
  /// to the mailbox, fired by someone else) or a short sleep; after each step it
  /// fires up to two posted signals of other tasks.
  pollscope::Async<void> body(std::uint64_t i) {
    Tracked token(futures);
    pollscope::detail::SplitMix64 rng(seed_ * 0x9E3779B97F4A7C15ull + i);
    const std::uint32_t steps = rng.below(5);
    for (std::uint32_t s = 0; s < steps; ++s) {
      const std::uint32_t roll = rng.below(100);
      if (roll < 45) {
        co_await pollscope::yield_now();
      } else if (roll < 85 || !with_sleeps_) {
        auto signal = std::make_shared<Signal>();
        mailbox.post(signal);
        co_await Signal::Wait(signal);
      } else {
        co_await pollscope::sleep(std::chrono::microseconds(10 + rng.below(200)));
      }
      mailbox.fire(2);
    }
    completions[i].fetch_add(1);
  }

  pollscope::Async<std::uint64_t> u64_task(std::uint64_t i) {
    co_await body(i);
    co_return expected_u64(i);
  }
  pollscope::Async<std::string> string_task(std::uint64_t i) {
    co_await body(i);
    co_return expected_string(i);
  }
  pollscope::Async<TrackedOutput> tracked_task(std::uint64_t i) {
    co_await body(i);
    co_return TrackedOutput{Tracked(outputs, static_cast<int>(i)), i};
  }

  template <class F>
  Exclusive<F> exclusive(F f) {
    return Exclusive<F>(std::move(f), violations);
  }

  /// Every task completed exactly once.
  bool each_completed_once() const {
    for (const auto& c : completions) {
      if (c.load() != 1) return false;
    }
    return true;
  }

 private:
  std::uint64_t seed_;
  bool with_sleeps_;
};

}  // namespace pollscope_test
