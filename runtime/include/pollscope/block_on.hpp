#pragma once
/// Driving one future to completion on the calling thread, two ways:
///  - block_on_busy: the article's DumbRuntime. A no-op waker, and a re-poll after
///    a short sleep whenever the future is Pending. Wasteful on purpose.
///  - block_on: parks the thread until the future's waker is woken, firing timers
///    meanwhile. Each call has its own parker (see detail/parker.hpp).
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

/// The non-template half of block_on and block_on_busy.
class BlockOnDriver final : public ExecutorCore {
 public:
  enum class Mode { parking, busy };
  BlockOnDriver(const ExecutorOptions& options, Mode mode);
  ~BlockOnDriver() override;

  Context& context() noexcept { return cx_; }

  /// Budget check (throws RunError) and poll_start.
  void before_poll() {
    if (options().max_polls != 0 && polls_ >= options().max_polls) exhausted();
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

 private:
  [[noreturn]] void exhausted();
  void ready_events();
  void wait_busy();
  void wait_parked();

  Mode mode_;
  Parker* parker_ = nullptr;
  Waker waker_;
  Context cx_;
  ScopeGuard scope_;
  std::uint64_t polls_ = 0;
};

template <Future F>
output_t<F> drive(F& future, const ExecutorOptions& options, BlockOnDriver::Mode mode) {
  BlockOnDriver driver(options, mode);
  for (;;) {
    driver.before_poll();
    try {
      auto p = future.poll(driver.context());
      if (p.is_ready()) {
        driver.after_ready();
        return std::move(p).value();
      }
    } catch (const RunError&) {
      throw;
    } catch (...) {
      driver.after_exception(std::current_exception());
      throw;
    }
    driver.after_pending();
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
