#pragma once
/// Driving one future to completion on the calling thread, two ways:
///  - block_on_busy: the article's DumbRuntime. A no-op waker, and a re-poll after
///    a short sleep whenever the future is Pending. Wasteful on purpose.
///  - block_on: parks the thread until the future's waker is woken, firing timers
///    meanwhile. Each call has its own parker (see detail/parker.hpp).
///    An untraced call on the real clock reuses its thread's spare driver (and its
///    parker), so a ready future costs a few dozen instructions: no allocation, no
///    clock read, no timer queue set-up.
/// Both trace their future as task 1 and run on the calling thread only.
#include <chrono>
#include <exception>
#include <utility>

#include "pollscope/context.hpp"
#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/parker.hpp"
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/future.hpp"
#include "pollscope/run_report.hpp"
#include "pollscope/waker.hpp"

namespace pollscope {

/// How long block_on_busy sleeps between two polls of a Pending future (on the
/// virtual clock, how far it moves time).
inline constexpr std::chrono::microseconds kBusyPollInterval{10};

namespace detail {

class BlockOnDriver;

/// A thread's spare block_on driver. Trivial, so that an access is a plain TLS load;
/// `open` while the thread-exit hook that frees the spare is registered.
struct BlockOnCache {
  BlockOnDriver* spare;
  bool open;
};
inline thread_local BlockOnCache tls_block_on_cache{};

/// The non-template half of block_on and block_on_busy.
class BlockOnDriver final : public ExecutorCore {
 public:
  enum class Mode { parking, busy };
  ~BlockOnDriver() override;

  /// The driver of one call, for the duration of its scope: installs the driver as
  /// this thread's executor, then restores the previous one and gives the driver back.
  class Use {
   public:
    Use(const ExecutorOptions& options, Mode mode)
        : driver_{acquire(options, mode)}, scope_(ThreadScope{driver_.d, 0, 0, false, false}) {}
    BlockOnDriver* operator->() const noexcept { return driver_.d; }

   private:
    struct Holder {
      BlockOnDriver* d;
      ~Holder() { release(d); }
    };
    Holder driver_;     // given back after the scope below is restored
    ScopeGuard scope_;
  };

  Context& context() noexcept { return cx_; }

  /// Budget check (throws RunError) and poll_start.
  void before_poll() {
    if (max_polls_ != 0 && polls_ >= max_polls_) exhausted();
    ++polls_;
    tls_scope.polling = 1;
    tls_scope.woke_self = false;
    if (tracing()) emit(EventKind::poll_start, 1);
  }
  void after_ready() {
    tls_scope.polling = 0;
    if (tracing()) ready_events();
  }
  /// Traces the failure of the future; the caller rethrows.
  void after_exception(const std::exception_ptr& error);
  /// Traces the Pending poll and waits until the future should be polled again.
  /// Throws RunError when nothing can ever wake it (stall).
  void after_pending();

  /// Records that a timer was registered (the driver must clear its timers before reuse).
  void timer_armed(std::chrono::nanoseconds) override { timers_used_ = true; }

 private:
  BlockOnDriver(const ExecutorOptions& options, Mode mode);

  /// Only untraced parking calls on the real clock share a driver: for them, a
  /// reused driver behaves exactly like a new one (its clock restarts, its timer
  /// queue is empty; timer ids and event numbers are only visible in traces).
  static bool reusable(const ExecutorOptions& options, Mode mode) noexcept {
    return mode == Mode::parking && options.tracer == nullptr && !options.virtual_clock;
  }
  static BlockOnDriver* acquire(const ExecutorOptions& options, Mode mode) {
    BlockOnDriver* spare = tls_block_on_cache.spare;
    if (spare != nullptr && reusable(options, mode)) {
      tls_block_on_cache.spare = nullptr;
      spare->restart(options.max_polls);
      return spare;
    }
    return acquire_slow(options, mode);
  }
  static void release(BlockOnDriver* driver) noexcept {
    if (driver->reusable_ && !driver->timers_used_ && tls_block_on_cache.spare == nullptr &&
        tls_block_on_cache.open && driver->parker_->exclusive()) {
      tls_block_on_cache.spare = driver;
      return;
    }
    release_slow(driver);
  }
  static BlockOnDriver* acquire_slow(const ExecutorOptions& options, Mode mode);
  static void release_slow(BlockOnDriver* driver) noexcept;
  /// Readies a spare driver for a new call.
  void restart(std::uint64_t max_polls) noexcept {
    max_polls_ = max_polls;
    polls_ = 0;
    clock() = Clock(false);
    parker_->reset();
  }

  [[noreturn]] void exhausted();
  void ready_events();
  void wait_busy();
  void wait_parked();

  Mode mode_;
  bool reusable_;
  bool timers_used_ = false;
  Parker* parker_ = nullptr;  // parking mode only
  Waker waker_;
  Context cx_;
  std::uint64_t max_polls_;
  std::uint64_t polls_ = 0;
};

template <Future F>
output_t<F> drive(F& future, const ExecutorOptions& options, BlockOnDriver::Mode mode) {
  BlockOnDriver::Use driver(options, mode);
  for (;;) {
    driver->before_poll();
    try {
      auto p = future.poll(driver->context());
      if (p.is_ready()) {
        driver->after_ready();
        return std::move(p).value();
      }
    } catch (const RunError&) {
      throw;
    } catch (...) {
      driver->after_exception(std::current_exception());
      throw;
    }
    driver->after_pending();
  }
}

}  // namespace detail

/// Polls `future` in place until Ready, parking the thread in between; returns
/// its output (an exception from the future propagates). Timers work under it.
/// Throws RunError if the future can never be woken (stall) or after
/// `options.max_polls` polls. Threading: runs entirely on the calling thread; its
/// waker may be woken from any thread.
template <FutureOrRef F>
output_t<F> block_on(F&& future, const ExecutorOptions& options = {}) {
  return detail::drive(future, options, detail::BlockOnDriver::Mode::parking);
}

/// The article's DumbRuntime: polls `future` with a no-op waker, sleeping
/// kBusyPollInterval between polls, until Ready. Never stalls; only
/// `options.max_polls` stops it (RunError).
template <FutureOrRef F>
output_t<F> block_on_busy(F&& future, const ExecutorOptions& options = {}) {
  return detail::drive(future, options, detail::BlockOnDriver::Mode::busy);
}

}  // namespace pollscope
