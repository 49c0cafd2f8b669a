#pragma once
/// Snapshot: everything the page draws at one step, folded from the recorded events.
#include <cstdint>
#include <vector>

#include "pollscope/engine/trace_store.hpp"

namespace pollscope::engine {

enum class TaskState : std::uint8_t {
  not_started,  ///< not spawned yet
  scheduled,    ///< runnable: in a run queue, or woken and about to be polled
  running,      ///< being polled
  waiting,      ///< returned Pending; waits for a wake
  done,         ///< completed
  aborted,      ///< aborted or cancelled
};

enum class ThreadState : std::uint8_t {
  idle,       ///< between polls
  running,    ///< polling `task`
  searching,  ///< out of work, looking for more
  parked,     ///< asleep until woken (or until a deadline)
  blocked,    ///< inside a blocking call made by `task`
};

const char* to_string(TaskState state) noexcept;
const char* to_string(ThreadState state) noexcept;

struct Frame {
  std::uint16_t function = 0;  ///< scenario task index whose code runs
  std::uint32_t line = 0;      ///< source line of the current operation (0: returned)
  bool operator==(const Frame&) const = default;
};

struct TaskCounters {
  std::uint64_t polls = 0;
  std::uint64_t pending_polls = 0;
  std::uint64_t wakes = 0;
  std::uint64_t self_wakes = 0;
  /// Pending polls after which the task woke itself: it asked to be polled again
  /// at once, although nothing happened that it was waiting for.
  std::uint64_t wasted_polls = 0;
  bool operator==(const TaskCounters&) const = default;
};

struct TaskView {
  std::uint32_t id = 0;
  int function = -1;  ///< scenario task index (-1: unknown)
  TaskState state = TaskState::not_started;
  std::vector<Frame> stack;  ///< outermost first; empty before the first poll
  TaskCounters counters;
  std::int64_t live_wakers = 0;
  bool operator==(const TaskView&) const = default;
};

struct TimerView {
  std::uint64_t id = 0;
  std::uint32_t task = 0;
  std::int64_t deadline_ns = 0;
  bool operator==(const TimerView&) const = default;
};

struct ThreadView {
  ThreadState state = ThreadState::idle;
  std::uint32_t task = 0;            ///< the task running (or blocking)
  std::int64_t until_ns = 0;         ///< parked or blocked until (0: until woken)
  bool operator==(const ThreadView&) const = default;
};

/// The state after `step` events.
struct Snapshot {
  std::uint64_t step = 0;
  std::int64_t time_ns = 0;
  std::vector<TaskView> tasks;                  ///< by id: tasks[i].id == i + 1
  std::vector<std::vector<std::uint32_t>> queues;  ///< run queues by number (see trace.hpp)
  std::vector<TimerView> timers;                ///< pending, by deadline then id
  std::vector<ThreadView> threads;              ///< by logical thread number
  TaskCounters totals;
  bool operator==(const Snapshot&) const = default;
};

/// Folds events and line marks into snapshots, keeping a checkpoint every
/// `interval` steps so any step is rebuilt by replaying at most `interval` events.
class SnapshotIndex {
 public:
  explicit SnapshotIndex(const TraceStore& store, std::uint32_t interval = 1024);
  /// The state after `step` events (clamped to the number of events).
  Snapshot at(std::uint64_t step) const;
  std::uint64_t steps() const noexcept { return store_.events().size(); }

 private:
  void advance(Snapshot& s, std::size_t& next_mark) const;  // applies event s.step
  void apply_marks(Snapshot& s, std::size_t& next_mark) const;

  const TraceStore& store_;
  std::uint32_t interval_;
  std::vector<Snapshot> checkpoints_;     // checkpoints_[i] is the state at step i * interval_
  std::vector<std::size_t> mark_cursor_;  // first mark not applied at each checkpoint
};

}  // namespace pollscope::engine
