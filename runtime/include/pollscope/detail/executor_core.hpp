#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "pollscope/detail/clock.hpp"
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/detail/timer_queue.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/trace.hpp"

namespace pollscope::detail {

/// What every single-threaded driver of futures has: options, a clock, timers and
/// a numbered event stream. LocalExecutor and block_on build on it.
/// Threading: used only by the thread that drives the executor (`owner`), unless
/// the executor calls serialize_events() (and TimerQueue::make_thread_safe()):
/// threaded executors then emit from many threads, one event at a time.
class ExecutorCore {
 public:
  /// `offers_timers`: whether `sleep` may register with this executor's timers, or
  /// must check the clock on every poll (block_on_busy has no timers on purpose).
  explicit ExecutorCore(const ExecutorOptions& options, bool offers_timers = true)
      : options_(options),
        clock_(options.virtual_clock),
        timers_(*this),
        tracer_(options.tracer),
        offers_timers_(offers_timers) {}
  virtual ~ExecutorCore() = default;
  ExecutorCore(const ExecutorCore&) = delete;
  ExecutorCore& operator=(const ExecutorCore&) = delete;

  const ExecutorOptions& options() const noexcept { return options_; }
  Clock& clock() noexcept { return clock_; }
  std::chrono::nanoseconds now() const noexcept { return clock_.now(); }
  TimerQueue& timers() noexcept { return timers_; }
  bool offers_timers() const noexcept { return offers_timers_; }
  std::thread::id owner() const noexcept { return owner_; }

  /// One predictable branch on the hot path when no tracer is attached.
  bool tracing() const noexcept { return tracer_.load(std::memory_order_relaxed) != nullptr; }

  /// Numbers and timestamps `e`, then hands it to the tracer. Call only when tracing().
  void emit(Event e) {
    if (serialize_) {
      std::lock_guard<std::mutex> lock(emit_mutex_);
      record(e);
    } else {
      record(e);
    }
  }
  void emit(EventKind kind, TaskId task, std::uint64_t value = 0, std::uint32_t thread = 0) {
    Event e;
    e.kind = kind;
    e.task = task;
    e.value = value;
    e.thread = thread;
    emit(std::move(e));
  }

  /// A blocking call made by the future being polled: the thread does nothing else
  /// for `d`. Real clock: it sleeps. Virtual clock: time moves on by `d` for this
  /// thread (a simulated pool keeps its other workers going meanwhile).
  virtual void block_thread(std::chrono::nanoseconds d);

  /// Called by timers() after an insert made `deadline` the earliest pending one
  /// (a threaded executor wakes its timer thread). Called outside the queue's lock.
  virtual void timer_armed(std::chrono::nanoseconds deadline) { (void)deadline; }

  /// Who is waking `wakee` right now, as seen from this thread.
  WakeSource classify_wake(TaskId wakee, std::uint64_t& waker_task) const noexcept {
    waker_task = 0;
    const ThreadScope& s = tls_scope;
    if (s.core != this) return std::this_thread::get_id() == owner_ ? WakeSource::outside : WakeSource::thread;
    if (s.firing_timers) return WakeSource::timer;
    if (s.polling == 0) return WakeSource::outside;
    waker_task = s.polling;
    return s.polling == wakee ? WakeSource::self : WakeSource::task;
  }

 protected:
  /// Stops tracing for good (after shutdown the tracer may already be gone).
  void detach_tracer() noexcept {
    if (serialize_) {
      std::lock_guard<std::mutex> lock(emit_mutex_);
      tracer_.store(nullptr, std::memory_order_relaxed);
    } else {
      tracer_.store(nullptr, std::memory_order_relaxed);
    }
  }
  /// Threaded executors: emit() may be called from many threads from now on; calls
  /// are serialised (events reach the tracer in seq order, one at a time). Call
  /// before other threads use the executor.
  void serialize_events() noexcept { serialize_ = true; }

 private:
  void record(Event& e) {
    Tracer* tracer = tracer_.load(std::memory_order_relaxed);
    if (tracer == nullptr) return;
    e.seq = next_seq_++;
    e.time = clock_.now();
    tracer->record(e);
  }

  ExecutorOptions options_;
  Clock clock_;
  TimerQueue timers_;
  std::atomic<Tracer*> tracer_;
  bool offers_timers_;
  bool serialize_ = false;
  std::mutex emit_mutex_;
  std::uint64_t next_seq_ = 0;
  std::thread::id owner_ = std::this_thread::get_id();
};

}  // namespace pollscope::detail
