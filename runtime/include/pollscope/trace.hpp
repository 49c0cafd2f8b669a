#pragma once
/// Tracing: every executor reports what it does, event by event, to an optional
/// Tracer. The playground renders these events; the CLI prints them.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pollscope/detail/spin_lock.hpp"
#include "pollscope/task_id.hpp"

namespace pollscope {

/// The `thread` of an event that happened on a thread outside the executor
/// (e.g. a wake from another thread, noticed when the executor picks it up).
inline constexpr std::uint32_t kExternalThread = 0xFFFFFFFFu;

enum class EventKind : std::uint8_t {
  spawn,             ///< `task` was spawned; `other`: the spawning task (0: from outside a task)
  poll_start,        ///< the executor polls `task` (once per executor poll; nested awaits emit none)
  poll_pending,      ///< the poll returned Pending; `source` is `self` when the task woke itself during it
  poll_ready,        ///< the poll returned Ready (or threw; see task_error)
  wake,              ///< a waker of `task` was consumed by wake(); `source`/`other`: who woke it
  wake_by_ref,       ///< wake_by_ref() on a waker of `task`; `source`/`other`: who woke it
  waker_clone,       ///< a waker of `task` was cloned; `value`: its live clones afterwards
  waker_drop,        ///< a clone was dropped; `value`: live clones afterwards
  enqueue,           ///< `task` joined the back of run queue `other`; `value`: its length afterwards
  dequeue,           ///< `task` left the front of run queue `other` to be polled; `value`: length afterwards
  timer_register,    ///< timer `value` registered for `task`, firing at `deadline`
  timer_fire,        ///< timer `value` fired (its waker is woken next)
  timer_cancel,      ///< timer `value` was dropped before firing
  park,              ///< the thread sleeps; `deadline`: when it will wake at the latest (0: until woken)
  unpark,            ///< the thread runs again; `source`: why (timer, thread, ...)
  complete,          ///< `task` finished: its output (or exception) is stored
  abort,             ///< `task` was aborted or cancelled; its future is destroyed
  stall,             ///< the run stalled and `task` is one of the stuck tasks
  budget_exhausted,  ///< the run stopped after `value` polls (ExecutorOptions::max_polls)
  task_error,        ///< `task`'s future threw; `message`: what()
  steal,             ///< worker `thread` moved the `value` oldest tasks of worker `other`'s queue,
                     ///< in order, to the back of its own queue
  search,            ///< worker `thread` ran out of work and looks for more (steals, checks queues)
  blocking,          ///< `task` made a blocking call inside its poll: the thread did nothing else
                     ///< for `deadline` (a duration here)
};

/// Run queue numbers (`other` of enqueue and dequeue): single-threaded executors
/// have queue 0 only; pools have the shared injection queue 0 and worker w's
/// local queue w + 1.
inline constexpr std::uint64_t kInjectionQueue = 0;
inline constexpr std::uint64_t local_queue_of(std::uint32_t worker) noexcept { return worker + 1u; }

/// Who woke a task.
enum class WakeSource : std::uint8_t {
  none,     ///< not a wake event
  self,     ///< the task, during its own poll
  task,     ///< another task of the executor, during its poll (`other` names it)
  timer,    ///< a timer that fired
  thread,   ///< a thread outside the executor
  outside,  ///< the executor's own thread, outside any poll (e.g. main code between runs)
};

struct Event {
  std::uint64_t seq = 0;                ///< 0, 1, 2... per executor, no gaps
  /// Since the executor started (virtual or real). On the real clock, a
  /// single-threaded executor (LocalExecutor) reads its clock once per poll: the
  /// dequeue that starts a poll and every event during it carry the time the poll
  /// started (and the time after a blocking call, for events after one); events
  /// outside polls, and every event of a threaded executor, read the clock.
  std::chrono::nanoseconds time{0};
  std::uint32_t thread = 0;             ///< logical thread: 0 for single-threaded executors
  TaskId task = 0;                      ///< 0 when no task is involved
  EventKind kind = EventKind::spawn;
  WakeSource source = WakeSource::none;
  std::uint64_t other = 0;              ///< kind-specific: spawning task, waking task, victim worker
  std::uint64_t value = 0;              ///< kind-specific: queue length, timer id, live wakers, polls
  std::chrono::nanoseconds deadline{0};  ///< timer_register, park
  std::string message;                  ///< task_error
  bool operator==(const Event&) const = default;
};

/// Events an executor held back and hands over at once (see Tracer::batched()), in
/// the compact encoding of detail/trace_words.hpp. The words start with a time mark
/// or a calibration entry; the first event has seq `first_seq`, the others follow
/// without gaps.
struct TraceBatch {
  std::uint64_t first_seq = 0;
  std::uint64_t events = 0;  ///< how many events `words` encodes
  std::span<const std::uint64_t> words;
  /// The events, decoded.
  std::vector<Event> decode() const;
};

/// Receives the events of one executor, in `seq` order. `record` must not call back
/// into the executor, and should not throw: a batch whose delivery throws is lost,
/// and an exception from an event recorded inside a wake (which cannot fail, see
/// RawWakerVTable) terminates the program.
///
/// Delivery: a tracer gets each event as it happens (record(const Event&)), unless
/// batched() says it takes batches: then LocalExecutor holds the events of a run
/// back and delivers them with record_batch() when its buffer fills,
/// before its thread parks, and when run() returns. Events outside a run, and the
/// events of every other executor, are still delivered one by one. A tracer
/// that must see an event before the executor goes on (e.g. to synchronise a test
/// with a park) leaves batched() false.
///
/// Threading: single-threaded executors call the tracer from the thread that drives
/// them; threaded ones serialise their calls.
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void record(const Event& event) = 0;
  /// Batched delivery. The default decodes the batch and records each event. (Not
  /// an overload of record(): a tracer that overrides only that one would hide it.)
  virtual void record_batch(const TraceBatch& batch);
  /// Asked once, when the tracer is attached to an executor.
  virtual bool batched() const noexcept { return false; }
};

/// A Tracer that keeps every event in memory, compactly: it takes batches and keeps
/// their words (8 bytes for most events), decoding only when events() is called.
/// Thread-safe: records append under a spin lock (an append is a few dozen
/// instructions, a mutex would double a traced run's cost), events() decodes under it.
class TraceRecorder final : public Tracer {
 public:
  void record(const Event& event) override;
  void record_batch(const TraceBatch& batch) override;
  bool batched() const noexcept override { return true; }
  /// A decoded copy, safe to take while threads are still recording.
  std::vector<Event> events() const;
  std::size_t size() const;
  void clear();

 private:
  mutable detail::SpinLock lock_;
  std::vector<std::uint64_t> words_;  // detail/trace_words.hpp
  std::size_t events_ = 0;
  // The seq and time a decoder gives the next event (time unknown after a batch).
  std::uint64_t next_seq_ = 0;
  std::optional<std::chrono::nanoseconds> time_{std::chrono::nanoseconds(0)};
};

const char* to_string(EventKind kind) noexcept;
const char* to_string(WakeSource source) noexcept;

/// "12ms", "1.5us", "0ns": a duration as people read it.
std::string format_duration(std::chrono::nanoseconds d);

/// One readable line, e.g. `[5ms] poll task 2 -> Pending (woke itself)`.
std::string format_event(const Event& event);

}  // namespace pollscope
