#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "pollscope/detail/clock.hpp"
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/detail/timer_queue.hpp"
#include "pollscope/detail/trace_buffer.hpp"
#include "pollscope/detail/trace_words.hpp"
#include "pollscope/executor_options.hpp"
#include "pollscope/trace.hpp"

namespace pollscope::detail {

/// What every single-threaded driver of futures has: options, a clock, timers and
/// a numbered event stream. LocalExecutor and block_on build on it.
/// Threading: used only by the thread that drives the executor (`owner`), unless
/// the executor calls serialize_events() (and TimerQueue::make_thread_safe()):
/// threaded executors then emit from many threads, one event at a time.
///
/// Events of a run (inside a TraceBatchScope) go to a batched tracer in batches:
/// held in a TraceBuffer and handed over when it fills, with a park event (the
/// thread is about to wait) and when the outermost scope ends. Any other event is
/// delivered at once.
class ExecutorCore {
 public:
  /// `offers_timers`: whether `sleep` may register with this executor's timers, or
  /// must check the clock on every poll (block_on_busy has no timers on purpose).
  explicit ExecutorCore(const ExecutorOptions& options, bool offers_timers = true)
      : options_(options),
        clock_(options.virtual_clock),
        timers_(*this),
        tracer_(options.tracer),
        offers_timers_(offers_timers) {
    if (options.tracer != nullptr && options.tracer->batched()) buffer_.emplace(clock_);
  }
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

  /// Numbers and timestamps an event, then hands it to the tracer (or its batch).
  /// Call only when tracing().
  void emit(const Event& e) {
    if (serialize_) {
      std::lock_guard<std::mutex> lock(emit_mutex_);
      record(e);
    } else {
      record(e);
    }
  }
  /// The same, for an event without deadline or message.
  void emit(EventKind kind, TaskId task, std::uint64_t value = 0, std::uint32_t thread = 0,
            WakeSource source = WakeSource::none, std::uint64_t other = 0) {
    if (thread == 0 && emit_short(kind, task, value, source, other)) return;
    emit_fields(kind, task, value, source, other, thread);
  }
  /// emit()'s fast path, small enough to inline into an executor's hot paths: an
  /// event of thread 0 that goes to a batch in its one-word form. False when the
  /// event needs emit() (no batch open, or no one-word form).
  bool emit_short(EventKind kind, TaskId task, std::uint64_t value = 0, WakeSource source = WakeSource::none,
                  std::uint64_t other = 0) {
    if (open_batch_ == nullptr || !trace_words::fits_short(kind, task, value, source, other, 0)) return false;
    append_word(trace_words::short_event(kind, task, value, source), /*paired=*/false, kind == EventKind::park);
    return true;
  }

  /// Two events of thread 0 as one paired word (trace_words::poll_opening,
  /// poll_requeued) into the open batch. False, writing nothing, when no batch is
  /// open: the caller then emits the two events.
  bool emit_pair(std::uint64_t word) {
    if (open_batch_ == nullptr) return false;
    append_word(word, /*paired=*/true, /*parks=*/false);
    return true;
  }

  /// Real clock: events from now until release_time() carry this moment's time
  /// (a poll's events: one clock read per poll). Virtual clock: no effect (reading
  /// it costs nothing, and a blocking call moves it during a poll).
  void hold_time() {
    if (clock_.is_virtual()) return;
    if (open_batch_ != nullptr) {
      held_ = open_batch_->stamp_now();
      open_batch_->mark(held_);
    } else {
      held_ = TraceBuffer::Stamp{0, clock_.now()};
    }
    time_held_ = true;
  }
  void release_time() noexcept { time_held_ = false; }

  /// While one lives (they nest), a batched tracer gets this thread's events in
  /// batches; the outermost delivers what is left when it ends.
  class TraceBatchScope {
   public:
    explicit TraceBatchScope(ExecutorCore& core) noexcept : core_(core) {
      if (core_.batch_depth_++ == 0 && core_.buffer_) core_.open_batch_ = &*core_.buffer_;
    }
    ~TraceBatchScope() {
      if (--core_.batch_depth_ != 0) return;
      core_.flush_batch();
      core_.open_batch_ = nullptr;
    }
    TraceBatchScope(const TraceBatchScope&) = delete;
    TraceBatchScope& operator=(const TraceBatchScope&) = delete;

   private:
    ExecutorCore& core_;
  };

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
  /// emit() without its fast path: builds the Event.
  [[gnu::noinline]] void emit_fields(EventKind kind, TaskId task, std::uint64_t value, WakeSource source,
                                     std::uint64_t other, std::uint32_t thread = 0) {
    Event e;
    e.kind = kind;
    e.task = task;
    e.value = value;
    e.thread = thread;
    e.source = source;
    e.other = other;
    emit(e);
  }

  /// Stops tracing for good (after shutdown the tracer may already be gone); events
  /// held in a batch are delivered first.
  void detach_tracer() noexcept {
    if (serialize_) {
      std::lock_guard<std::mutex> lock(emit_mutex_);
      tracer_.store(nullptr, std::memory_order_relaxed);
    } else {
      flush_batch();
      tracer_.store(nullptr, std::memory_order_relaxed);
    }
  }
  /// Threaded executors: emit() may be called from many threads from now on; calls
  /// are serialised (events reach the tracer in seq order, one at a time). Call
  /// before other threads use the executor.
  void serialize_events() noexcept {
    serialize_ = true;
    buffer_.reset();  // batches are for one thread's events
  }

 private:
  std::chrono::nanoseconds event_time() const noexcept { return time_held_ ? held_.time : clock_.now(); }
  /// Stamps the open batch's next event with the time now (outside a held poll).
  [[gnu::noinline]] void mark_now() { open_batch_->mark(open_batch_->stamp_now()); }
  /// A one-word entry (a short event, or a paired word) into the open batch, at the
  /// held time or now; the batch is handed over when due, and before a park.
  void append_word(std::uint64_t word, bool paired, bool parks) {
    if (!time_held_) mark_now();
    if (paired) {
      open_batch_->add_pair(word);
    } else {
      open_batch_->add_short(word);
    }
    if (parks || open_batch_->due()) [[unlikely]] flush_batch();
  }

  void record(const Event& e) {
    Tracer* tracer = tracer_.load(std::memory_order_relaxed);
    if (tracer == nullptr) return;
    if (TraceBuffer* batch = open_batch_) {
      if (!time_held_) mark_now();
      batch->add(e);
      if (e.kind == EventKind::park || batch->due()) flush_batch();
      return;
    }
    Event stamped = e;
    stamped.seq = next_seq_++;
    stamped.time = event_time();
    tracer->record(stamped);
  }

  /// Hands the open batch over. A tracer that throws loses the batch (see Tracer).
  [[gnu::noinline]] void flush_batch() noexcept {
    TraceBuffer* batch = open_batch_;
    if (batch == nullptr || batch->events() == 0) return;
    Tracer* tracer = tracer_.load(std::memory_order_relaxed);
    try {
      if (tracer != nullptr) tracer->record_batch(batch->batch(next_seq_));
    } catch (...) {
    }
    next_seq_ += batch->events();
    batch->clear();
    if (time_held_) held_ = batch->carry_over(held_);  // the rest of the poll's events
  }

  ExecutorOptions options_;
  Clock clock_;
  TimerQueue timers_;
  std::atomic<Tracer*> tracer_;
  bool offers_timers_;
  bool serialize_ = false;
  std::mutex emit_mutex_;
  std::uint64_t next_seq_ = 0;
  // Batched delivery: a buffer when the tracer takes batches (never with serialize_),
  // open (open_batch_ points to it) while a TraceBatchScope lives. Events in it are
  // numbered from next_seq_ on.
  std::optional<TraceBuffer> buffer_;
  TraceBuffer* open_batch_ = nullptr;
  int batch_depth_ = 0;
  // hold_time(): the stamp (and time) events get until release_time().
  bool time_held_ = false;
  TraceBuffer::Stamp held_;
  std::thread::id owner_ = std::this_thread::get_id();
};

}  // namespace pollscope::detail
