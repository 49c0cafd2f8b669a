#pragma once
/// The machinery shared by the simulated threaded executors (SimulatedPool,
/// SimulatedThreadPerTask): virtual threads interleaved on one real thread by a
/// seeded scheduler, on the virtual clock, as a small discrete-event simulation.
///
/// The run loop: pick one of the virtual threads that can act now (uniformly, from
/// a splitmix64 PRNG seeded by the caller) and let it take one step (poll a task,
/// search, park, ...). When no thread can act, time jumps to the earliest of the
/// next timer and the end of the earliest blocking call. A blocking call (see
/// blocking.hpp) makes only the calling virtual thread busy: its poll ends at
/// now + d (the task stays RUNNING until then), while other threads go on.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/task.hpp"
#include "pollscope/detail/work_stealing_policy.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/run_report.hpp"

namespace pollscope::detail {

class SimCore : public ExecutorCore, public TaskScheduler {
 public:
  SimCore(const ExecutorOptions& options, std::uint64_t seed);

  TaskId next_task_id() noexcept { return next_id_++; }
  /// Registers a freshly allocated task and hands it to the design for its first poll.
  void submit(TaskHeader* task);
  /// Runs until every task finished (`target` null) or `target` finished, the run
  /// stalls, or max_polls polls were made in this call.
  RunReport run(TaskHeader* target);
  /// Throws std::logic_error when called while run() is active (from inside a task).
  void check_not_running() const;
  /// Cancels every unfinished task; afterwards wakes are no-ops.
  void shutdown() noexcept;
  std::uint64_t seed() const noexcept { return seed_; }

  void wake(TaskHeader* task, EventKind how) override;
  void abort(TaskHeader* task) override;
  void waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) override;
  /// Everything runs on the thread that calls run(): join() there would deadlock.
  bool single_threaded() const noexcept override { return true; }
  /// Makes the virtual thread taking the current step busy for `d` more.
  void block_thread(std::chrono::nanoseconds d) override;

 protected:
  static constexpr std::uint32_t kNoThread = 0xFFFFFFFEu;

  // ---- the scheduling design (a pool of workers, a thread per task)
  /// A new task; adopts one reference for its first poll. current_thread() tells
  /// whether a virtual thread spawned it.
  virtual void schedule_spawned(TaskHeader* task) = 0;
  /// A wake made `task` runnable; adopts one reference. `source`/`other`: who woke it.
  virtual void schedule_woken(TaskHeader* task, WakeSource source, std::uint64_t other) = 0;
  /// A poll of `task` on `thread` returned Pending. `rescheduled`: the task was woken
  /// during the poll and adopts the poll's reference; else the base releases it.
  virtual void after_pending(TaskHeader* task, std::uint32_t thread, bool rescheduled) = 0;
  /// The task polled on `thread` finished (completed or closed after its poll).
  virtual void after_finished(std::uint32_t thread) { (void)thread; }
  /// The virtual threads that can take a step now (not busy), in ascending order.
  virtual void candidates(std::vector<std::uint32_t>& out) = 0;
  virtual void step(std::uint32_t thread) = 0;
  /// True when a task waits to be polled (the budget check).
  virtual bool work_queued() = 0;
  /// Shutdown: releases every reference the design holds in its queues.
  virtual void drop_queued() noexcept = 0;
  /// The thread number of code outside any virtual thread (spawns and wakes from outside).
  virtual std::uint32_t outside_thread() const noexcept = 0;
  /// The thread number that fires timers.
  virtual std::uint32_t timer_thread() const noexcept = 0;
  /// The thread number that reports a stall.
  virtual std::uint32_t stall_thread() const noexcept { return outside_thread(); }
  /// Called when the run would stall: a chance to detect an inconsistent state.
  virtual void before_stall() {}

  // ---- services for the design
  /// Polls `task` (RUNNING already set, one reference owned by the caller) on
  /// `thread`: traces, polls, and finishes the poll now, or when the thread's
  /// blocking calls made during the poll are over.
  void poll_task(TaskHeader* task, std::uint32_t thread);
  /// The thread taking the current step, or kNoThread.
  std::uint32_t current_thread() const noexcept { return current_thread_; }
  /// The `thread` of an event happening now.
  std::uint32_t event_thread() const noexcept;
  /// True while `thread` is inside blocking calls (it cannot take a step).
  bool is_busy(std::uint32_t thread) const;
  SplitMix64& rng() noexcept { return rng_; }
  bool shut_down() const noexcept { return shut_down_; }
  void set_current_thread(std::uint32_t thread) noexcept;

 private:
  struct RemoteWake {
    TaskHeader* task;  // holds a reference
    EventKind how;
    WakeSource source;
    bool enqueue;
  };
  /// A virtual thread inside blocking calls: its poll ends at `until`.
  struct Busy {
    std::chrono::nanoseconds until{0};
    TaskHeader* task = nullptr;  // the poll to finish then (holds the poll's reference)
    bool done = false;
    bool woke_self = false;
  };

  /// Sets the current thread for one step (or one finished blocking call).
  struct StepScope {
    SimCore& core;
    StepScope(SimCore& c, std::uint32_t thread) noexcept : core(c) { core.set_current_thread(thread); }
    ~StepScope() { core.set_current_thread(kNoThread); }
    StepScope(const StepScope&) = delete;
    StepScope& operator=(const StepScope&) = delete;
  };

  void finish_poll(TaskHeader* task, std::uint32_t thread, bool done, bool woke_self);
  void complete(TaskHeader* task, std::uint32_t thread);
  void close(TaskHeader* task, bool destroy_future, std::uint32_t thread);
  void drain_remote();
  /// Finishes the polls of threads whose blocking calls are over; returns how many.
  std::size_t release_busy();
  void trace_wake(TaskHeader* task, EventKind how, WakeSource source, std::uint64_t other, std::uint32_t thread);

  std::uint64_t seed_;
  SplitMix64 rng_;
  TaskList live_;
  TaskId next_id_ = 1;
  bool running_ = false;
  bool shut_down_ = false;
  std::uint32_t current_thread_ = kNoThread;
  std::map<std::uint32_t, Busy> busy_;  // ordered: deterministic
  std::uint64_t* polls_ = nullptr;      // the current run's poll counter
  std::vector<std::uint32_t> candidates_;

  std::mutex remote_mutex_;
  std::vector<RemoteWake> remote_;
  std::atomic<bool> remote_pending_{false};
  bool closed_ = false;  // under remote_mutex_
};

}  // namespace pollscope::detail
