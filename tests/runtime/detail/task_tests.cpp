// Tests for pollscope/detail/task.hpp, driven by hand without an executor: the task
// state bits (try_schedule, try_start_running), the one-word counts (references in
// the low half, live wakers in the high half), the task waker's vtable (clone, wake,
// wake_by_ref, drop; traced and untraced), the last reference (freeing the cell and
// releasing the scheduler), TaskCell's poll / destroy_future / deallocate, TaskList
// and TaskScheduler. Each step asserts the state bits and both counts, like
// async-task's tests. Executor-level transitions (who calls these, when) are pinned in
// local_executor_tests.cpp; cross-thread ones in detail/task_threads_tests.cpp.
#include <cstdint>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <pollscope/context.hpp>
#include <pollscope/detail/block_cache.hpp>
#include <pollscope/detail/task.hpp>
#include <pollscope/detail/threaded_core.hpp>
#include <pollscope/poll.hpp>
#include <pollscope/trace.hpp>
#include <pollscope/waker.hpp>

#include "../../support/counted.hpp"
#include "../../support/test_wakers.hpp"

using pollscope::Context;
using pollscope::EventKind;
using pollscope::Poll;
using pollscope::Waker;
using pollscope::detail::allocate_task;
using pollscope::detail::TaskCell;
using pollscope::detail::TaskHeader;
using pollscope::detail::TaskList;
using pollscope::detail::TaskOutput;
using pollscope::detail::TaskScheduler;
using pollscope::detail::WakerAccess;
using pollscope_test::LifeCounts;
using pollscope_test::Tracked;
using Lines = std::vector<std::string>;

namespace ts = pollscope::detail::task_state;

namespace {

constexpr std::uint32_t kScheduled = ts::scheduled;
constexpr std::uint32_t kRunning = ts::running;
constexpr std::uint32_t kCompleted = ts::completed;
constexpr std::uint32_t kClosed = ts::closed;
constexpr std::uint32_t kCancel = pollscope::detail::kCancelRequested;

/// The two halves of TaskHeader::counts.
struct Counts {
  std::uint32_t refs;
  std::uint32_t wakers;
  bool operator==(const Counts&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Counts& c) {
  return os << "{refs " << c.refs << ", wakers " << c.wakers << "}";
}
Counts counts_of(const TaskHeader* t) {
  const std::uint64_t c = t->counts.load();
  return Counts{static_cast<std::uint32_t>(c & 0xFFFFFFFFu), static_cast<std::uint32_t>(c >> 32)};
}

/// What a RecordingScheduler saw, kept outside it: release() deletes the scheduler.
struct SchedulerLog {
  Lines calls;
  bool deleted = false;
};

/// A TaskScheduler that records every call with the task's counts at that moment.
class RecordingScheduler final : public TaskScheduler {
 public:
  explicit RecordingScheduler(SchedulerLog& log) : log_(&log) {}

  void wake(TaskHeader* task, EventKind how) override {
    const Counts c = counts_of(task);
    log_->calls.push_back(std::string(pollscope::to_string(how)) + " task " + std::to_string(task->id) +
                          " (refs " + std::to_string(c.refs) + ", wakers " + std::to_string(c.wakers) + ")");
  }
  void abort(TaskHeader* task) override { log_->calls.push_back("abort task " + std::to_string(task->id)); }
  void waker_event(TaskHeader* task, EventKind kind, std::uint32_t live) override {
    const Counts c = counts_of(task);
    log_->calls.push_back(std::string(pollscope::to_string(kind)) + " task " + std::to_string(task->id) +
                          " live " + std::to_string(live) + " (refs " + std::to_string(c.refs) + ", wakers " +
                          std::to_string(c.wakers) + ")");
  }
  bool single_threaded() const noexcept override { return false; }

 protected:
  ~RecordingScheduler() override { log_->deleted = true; }

 private:
  SchedulerLog* log_;
};

/// Plays a script, one step per poll: 0 = Pending, -1 = throws std::runtime_error,
/// any other value = Ready(Tracked(value)). Carries a Tracked of `future_counts`, so
/// the future's destruction shows; outputs are Tracked of `output_counts`.
class Scripted {
 public:
  using Output = Tracked;
  Scripted(LifeCounts& future_counts, LifeCounts& output_counts, std::vector<int> steps)
      : token_(future_counts), outputs_(&output_counts), steps_(std::move(steps)) {}
  Poll<Tracked> poll(Context&) {
    const int step = steps_.at(next_++);
    if (step == 0) return pollscope::pending;
    if (step == -1) throw std::runtime_error("scripted failure");
    return pollscope::ready(Tracked(*outputs_, step));
  }

 private:
  Tracked token_;
  LifeCounts* outputs_;
  std::vector<int> steps_;
  std::size_t next_ = 0;
};

/// A cell of a Scripted future and its scheduler, set up as an executor would: the
/// test holds the cell's one reference and the scheduler's own reference.
struct Fixture {
  SchedulerLog log;
  LifeCounts future_counts;
  LifeCounts output_counts;
  RecordingScheduler* scheduler = new RecordingScheduler(log);
  TaskHeader* task;

  explicit Fixture(std::vector<int> steps)
      : task(allocate_task(Scripted(future_counts, output_counts, std::move(steps)), scheduler, 1)) {}

  /// Polls the cell once, as an executor does, with the borrowed waker.
  bool poll() {
    Waker waker = WakerAccess::borrow(pollscope::detail::borrowed_task_waker(task));
    Context cx(waker);
    const bool done = task->vtable->poll(task, cx);
    WakerAccess::forget(waker);
    return done;
  }
  /// A new Waker of the task, cloned from the borrowed one (as a future does).
  Waker clone() {
    Waker borrowed = WakerAccess::borrow(pollscope::detail::borrowed_task_waker(task));
    Waker c = borrowed;
    WakerAccess::forget(borrowed);
    return c;
  }
  TaskOutput<Tracked>* output() { return static_cast<TaskOutput<Tracked>*>(task); }
};

/// A bare header (no cell, no scheduler) in state `s`, for the state-bit transitions.
struct Bare {
  TaskHeader header;
  explicit Bare(std::uint32_t s) { header.state.store(s); }
  std::uint32_t state() const { return header.state.load(); }
};

struct alignas(64) OverAligned {
  using Output = int;
  Poll<int> poll(Context&) { return pollscope::ready(1); }
};
struct Small {
  using Output = int;
  Poll<int> poll(Context&) { return pollscope::ready(1); }
};

}  // namespace

// --- the state bits ---------------------------------------------------------------------

TEST_CASE("try_schedule on an idle task sets SCHEDULED and returns true: the caller queues it", "[task]") {
  Bare t(0);
  REQUIRE(t.header.try_schedule());
  REQUIRE(t.state() == kScheduled);
  REQUIRE_FALSE(t.header.is_finished());
}

TEST_CASE("try_schedule on a SCHEDULED task changes nothing and returns false: it stays queued once", "[task]") {
  Bare t(kScheduled);
  REQUIRE_FALSE(t.header.try_schedule());
  REQUIRE(t.state() == kScheduled);
  REQUIRE_FALSE(t.header.try_schedule());
  REQUIRE(t.state() == kScheduled);
}

TEST_CASE("try_schedule on a RUNNING task sets SCHEDULED and returns false: its poller re-queues it", "[task]") {
  Bare t(kRunning);
  REQUIRE_FALSE(t.header.try_schedule());
  REQUIRE(t.state() == (kRunning | kScheduled));
  // Woken again during the same poll: nothing more.
  REQUIRE_FALSE(t.header.try_schedule());
  REQUIRE(t.state() == (kRunning | kScheduled));
}

TEST_CASE("try_schedule on a COMPLETED or CLOSED task changes nothing and returns false", "[task]") {
  for (const std::uint32_t s : {kCompleted, kClosed, kClosed | kScheduled, kClosed | kRunning,
                                kClosed | kRunning | kScheduled}) {
    CAPTURE(s);
    Bare t(s);
    REQUIRE(t.header.is_finished());
    REQUIRE_FALSE(t.header.try_schedule());
    REQUIRE(t.state() == s);
  }
}

TEST_CASE("try_schedule on a RUNNING task with a cancel request sets SCHEDULED and returns false", "[task]") {
  // ThreadedCore: abort() of a task being polled elsewhere sets kCancelRequested, not
  // CLOSED; a wake meanwhile is absorbed like any wake of a RUNNING task, and the
  // poller closes the task when the poll returns (settle).
  Bare t(kRunning | kCancel);
  REQUIRE_FALSE(t.header.is_finished());
  REQUIRE_FALSE(t.header.try_schedule());
  REQUIRE(t.state() == (kRunning | kCancel | kScheduled));
}

TEST_CASE("try_start_running on a SCHEDULED task clears SCHEDULED, sets RUNNING and returns true", "[task]") {
  Bare t(kScheduled);
  REQUIRE(t.header.try_start_running());
  REQUIRE(t.state() == kRunning);
}

TEST_CASE("try_start_running on a task closed or completed while queued changes nothing and returns false",
          "[task]") {
  for (const std::uint32_t s : {kClosed | kScheduled, kClosed, kCompleted}) {
    CAPTURE(s);
    Bare t(s);
    REQUIRE_FALSE(t.header.try_start_running());
    REQUIRE(t.state() == s);
  }
}

// --- counts: references and live wakers --------------------------------------------------

TEST_CASE("A new task cell holds one reference, no live waker, no state bit, and a reference to its scheduler",
          "[task]") {
  Fixture f({0});
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  REQUIRE(f.task->live_wakers() == 0);
  REQUIRE(f.task->state.load() == 0u);
  REQUIRE(f.task->id == 1);
  REQUIRE(f.task->scheduler == f.scheduler);
  REQUIRE(f.future_counts.live() == 1);

  f.scheduler->release();  // the executor's reference: the task's keeps it alive
  REQUIRE_FALSE(f.log.deleted);
  f.task->vtable->destroy_future(f.task);  // as an executor closing it does
  REQUIRE(f.future_counts.drops() == 1);
  f.task->release();
  REQUIRE(f.log.deleted);  // the cell's reference was the scheduler's last
  REQUIRE(f.log.calls.empty());
}

TEST_CASE("retain and release(n) move only the reference half of the counts", "[task]") {
  Fixture f({0});
  f.task->retain();
  f.task->retain();
  REQUIRE(counts_of(f.task) == Counts{3, 0});
  REQUIRE(f.task->add_waker() == 1);
  REQUIRE(counts_of(f.task) == Counts{4, 1});
  f.task->release(2);  // one atomic step for two references
  REQUIRE(counts_of(f.task) == Counts{2, 1});
  REQUIRE(f.task->forget_waker() == 0);  // the waker goes, its reference stays
  REQUIRE(counts_of(f.task) == Counts{2, 0});
  f.task->release();
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  REQUIRE(f.task->add_waker() == 1);
  REQUIRE(f.task->add_waker() == 2);
  REQUIRE(counts_of(f.task) == Counts{3, 2});
  f.task->drop_waker();
  f.task->drop_waker();
  REQUIRE(counts_of(f.task) == Counts{1, 0});

  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("The waker lent to a poll is not counted: cloning it adds one reference and one live waker, "
          "dropping the clone takes both back",
          "[task][waker]") {
  Fixture f({0});
  Waker borrowed = WakerAccess::borrow(pollscope::detail::borrowed_task_waker(f.task));
  REQUIRE(borrowed.as_raw().data == f.task);
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  {
    Waker first = borrowed;
    REQUIRE(counts_of(f.task) == Counts{2, 1});
    REQUIRE(first.will_wake(borrowed));
    {
      Waker second = first;
      REQUIRE(counts_of(f.task) == Counts{3, 2});
      Waker moved = std::move(second);  // a move is no clone
      REQUIRE(counts_of(f.task) == Counts{3, 2});
    }
    REQUIRE(counts_of(f.task) == Counts{2, 1});
  }
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  WakerAccess::forget(borrowed);
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  REQUIRE(f.log.calls.empty());  // untraced: no clone or drop reaches the scheduler

  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("wake() of a task waker hands the wake to the scheduler while still counted, then gives back its "
          "reference and live waker",
          "[task][waker]") {
  Fixture f({0});
  Waker w = f.clone();
  REQUIRE(counts_of(f.task) == Counts{2, 1});

  std::move(w).wake();
  // During the scheduler's wake() the waker still counts as alive (stall detection on
  // another thread must see either it or the scheduled task).
  REQUIRE(f.log.calls == Lines{"wake task 1 (refs 2, wakers 1)"});
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  REQUIRE(w.as_raw().vtable == nullptr);  // consumed: its destruction calls nothing
  f.log.calls.clear();

  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
  REQUIRE(f.log.calls.empty());
}

TEST_CASE("wake_by_ref() of a task waker hands the wake to the scheduler and changes no count", "[task][waker]") {
  Fixture f({0});
  Waker w = f.clone();
  w.wake_by_ref();
  w.wake_by_ref();
  REQUIRE(counts_of(f.task) == Counts{2, 1});
  Waker borrowed = WakerAccess::borrow(pollscope::detail::borrowed_task_waker(f.task));
  borrowed.wake_by_ref();  // the lent waker wakes too, backed by the poller's reference
  WakerAccess::forget(borrowed);
  REQUIRE(counts_of(f.task) == Counts{2, 1});
  REQUIRE(f.log.calls == Lines{
                             "wake_by_ref task 1 (refs 2, wakers 1)",
                             "wake_by_ref task 1 (refs 2, wakers 1)",
                             "wake_by_ref task 1 (refs 2, wakers 1)",
                         });

  { Waker gone = std::move(w); }
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("A traced task waker reports each clone and drop with the live wakers after it; the dropped waker's "
          "reference outlives its event; a wake reports no drop",
          "[task][waker]") {
  Fixture f({0});
  f.scheduler->traces_wakers.store(true);
  {
    Waker a = f.clone();
    Waker b = a;
    REQUIRE(counts_of(f.task) == Counts{3, 2});
    REQUIRE(f.log.calls == Lines{
                               "waker_clone task 1 live 1 (refs 2, wakers 1)",
                               "waker_clone task 1 live 2 (refs 3, wakers 2)",
                           });
    f.log.calls.clear();
    std::move(b).wake();
    REQUIRE(f.log.calls == Lines{"wake task 1 (refs 3, wakers 2)"});
    REQUIRE(counts_of(f.task) == Counts{2, 1});
    f.log.calls.clear();
  }  // a dropped
  // At the drop event the live count is already down, the reference still held.
  REQUIRE(f.log.calls == Lines{"waker_drop task 1 live 0 (refs 2, wakers 0)"});
  REQUIRE(counts_of(f.task) == Counts{1, 0});

  f.scheduler->traces_wakers.store(false);
  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("The last reference dropped by a waker after its executor is gone destroys the unclaimed output, frees "
          "the cell and releases the scheduler",
          "[task][waker]") {
  Fixture f({0, 7});
  REQUIRE_FALSE(f.poll());
  Waker kept = f.clone();
  REQUIRE(f.poll());  // Ready(7): the output is stored, the future destroyed
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE(f.output_counts.live() == 1);

  f.scheduler->release();  // the executor goes
  f.task->release();       // and so does the last handle
  REQUIRE(counts_of(f.task) == Counts{1, 1});
  REQUIRE_FALSE(f.log.deleted);
  REQUIRE(f.output_counts.live() == 1);

  kept.wake_by_ref();  // a wake still reaches the (closed) scheduler, alive
  REQUIRE(f.log.calls == Lines{"wake_by_ref task 1 (refs 1, wakers 1)"});
  { Waker gone = std::move(kept); }
  REQUIRE(f.output_counts.live() == 0);  // destroyed with the cell
  REQUIRE(f.output_counts.drops() == 1);
  REQUIRE(f.future_counts.drops() == 1);  // not again
  REQUIRE(f.log.deleted);
}

TEST_CASE("The last reference dropped by a traced waker is released after its drop event", "[task][waker]") {
  Fixture f({0});
  f.scheduler->traces_wakers.store(true);
  Waker kept = f.clone();
  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(counts_of(f.task) == Counts{1, 1});
  f.log.calls.clear();
  { Waker gone = std::move(kept); }
  REQUIRE(f.log.calls == Lines{"waker_drop task 1 live 0 (refs 1, wakers 0)"});
  REQUIRE(f.log.deleted);
}

TEST_CASE("clone_runs_no_user_code is true only for a task waker whose scheduler does not trace wakers",
          "[task][waker]") {
  Fixture f({0});
  Waker w = f.clone();
  REQUIRE(pollscope::detail::clone_runs_no_user_code(w));
  f.scheduler->traces_wakers.store(true);
  REQUIRE_FALSE(pollscope::detail::clone_runs_no_user_code(w));
  f.scheduler->traces_wakers.store(false);
  REQUIRE_FALSE(pollscope::detail::clone_runs_no_user_code(Waker::noop()));
  pollscope_test::CountingWaker counting;
  REQUIRE_FALSE(pollscope::detail::clone_runs_no_user_code(counting.waker()));

  { Waker gone = std::move(w); }
  f.task->vtable->destroy_future(f.task);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("is_task_waker is true for the generic and the local task waker, false for any other waker",
          "[task][waker]") {
  int data = 0;
  REQUIRE(pollscope::detail::is_task_waker(pollscope::RawWaker{&data, &pollscope::detail::task_waker_vtable}));
  REQUIRE(pollscope::detail::is_task_waker(pollscope::RawWaker{&data, &pollscope::detail::local_task_waker_vtable}));
  REQUIRE_FALSE(pollscope::detail::is_task_waker(Waker::noop().as_raw()));
  pollscope_test::CountingWaker counting;
  REQUIRE_FALSE(pollscope::detail::is_task_waker(counting.waker().as_raw()));
  REQUIRE_FALSE(pollscope::detail::is_task_waker(pollscope::RawWaker{nullptr, nullptr}));
}

// --- TaskCell: poll, destroy_future, deallocate --------------------------------------------

TEST_CASE("A task cell's Pending poll returns false, keeps the future and stores nothing", "[task]") {
  Fixture f({0, 0, 3});
  REQUIRE_FALSE(f.poll());
  REQUIRE_FALSE(f.poll());
  REQUIRE(f.future_counts.live() == 1);
  REQUIRE_FALSE(f.output()->output.has_value());
  REQUIRE_FALSE(f.output()->error.has_value());
  REQUIRE(counts_of(f.task) == Counts{1, 0});
  REQUIRE(f.poll());
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("A task cell's Ready poll stores the output, destroys the future once and returns true", "[task]") {
  Fixture f({0, 9});
  REQUIRE_FALSE(f.poll());
  REQUIRE(f.poll());
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE(f.output()->output.has_value());
  REQUIRE(f.output()->output->value() == 9);
  REQUIRE_FALSE(f.output()->error.has_value());
  REQUIRE(f.output_counts.live() == 1);
  REQUIRE(f.task->state.load() == 0u);  // the cell sets no state bit: executors do
  f.scheduler->release();
  f.task->release();  // deallocate: the unclaimed output goes with the cell, the future is not touched again
  REQUIRE(f.output_counts.live() == 0);
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE(f.log.deleted);
}

TEST_CASE("A task cell's poll that throws stores the exception, no output, destroys the future and returns true",
          "[task]") {
  Fixture f({-1});
  REQUIRE(f.poll());
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE_FALSE(f.output()->output.has_value());
  REQUIRE(f.output()->error.has_value());
  REQUIRE_THROWS_WITH(std::rethrow_exception(*f.output()->error), "scripted failure");
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.log.deleted);
}

TEST_CASE("destroy_future destroys a pending future exactly once; deallocate then frees the cell without it",
          "[task]") {
  Fixture f({0});
  REQUIRE_FALSE(f.poll());
  f.task->vtable->destroy_future(f.task);
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE(f.future_counts.live() == 0);
  f.scheduler->release();
  f.task->release();
  REQUIRE(f.future_counts.drops() == 1);
  REQUIRE(f.output_counts.made() == 0);
  REQUIRE(f.log.deleted);
}

TEST_CASE("Task cells come from the block cache unless over-aligned, then from aligned operator new", "[task]") {
  STATIC_REQUIRE(TaskCell<Small>::kCached);
  STATIC_REQUIRE_FALSE(TaskCell<OverAligned>::kCached);
  SchedulerLog log;
  auto* scheduler = new RecordingScheduler(log);
  TaskHeader* aligned = allocate_task(OverAligned{}, scheduler, 1);
  REQUIRE(reinterpret_cast<std::uintptr_t>(aligned) % 64 == 0);
  TaskHeader* small = allocate_task(Small{}, scheduler, 2);
  REQUIRE(reinterpret_cast<std::uintptr_t>(small) % alignof(TaskCell<Small>) == 0);

  const std::size_t before = pollscope::detail::tls_block_cache.bytes;
  REQUIRE(before + 4096 < pollscope::detail::kBlockCacheBudget);  // room in this thread's cache
  aligned->vtable->destroy_future(aligned);
  aligned->release();
  REQUIRE(pollscope::detail::tls_block_cache.bytes == before);  // to operator delete
  small->vtable->destroy_future(small);
  small->release();
  REQUIRE(pollscope::detail::tls_block_cache.bytes ==
          before + pollscope::detail::block_class_size(pollscope::detail::block_class(sizeof(TaskCell<Small>))));
  scheduler->release();
  REQUIRE(log.deleted);
}

// --- TaskList, TaskScheduler ----------------------------------------------------------------

TEST_CASE("TaskList keeps tasks in push order and unlinks the head, a middle one and the tail", "[task]") {
  std::vector<std::unique_ptr<TaskHeader>> cells;
  for (int i = 0; i < 5; ++i) {
    cells.push_back(std::make_unique<TaskHeader>());
    cells.back()->id = static_cast<pollscope::TaskId>(i + 1);
  }
  auto ids = [](const TaskList& list) {
    std::vector<pollscope::TaskId> out;
    list.for_each([&](TaskHeader* t) { out.push_back(t->id); });
    return out;
  };
  TaskList list;
  REQUIRE(list.empty());
  REQUIRE(list.front() == nullptr);
  for (auto& c : cells) list.push_back(c.get());
  REQUIRE(ids(list) == std::vector<pollscope::TaskId>{1, 2, 3, 4, 5});
  REQUIRE(list.front() == cells[0].get());

  list.remove(cells[2].get());  // middle
  REQUIRE(ids(list) == std::vector<pollscope::TaskId>{1, 2, 4, 5});
  REQUIRE(cells[2]->prev == nullptr);
  REQUIRE(cells[2]->next == nullptr);
  list.remove(cells[0].get());  // head
  REQUIRE(list.front() == cells[1].get());
  REQUIRE(ids(list) == std::vector<pollscope::TaskId>{2, 4, 5});
  list.remove(cells[4].get());  // tail
  REQUIRE(ids(list) == std::vector<pollscope::TaskId>{2, 4});
  list.push_back(cells[0].get());  // a removed task can come back, at the end
  REQUIRE(ids(list) == std::vector<pollscope::TaskId>{2, 4, 1});
  list.remove(cells[1].get());
  list.remove(cells[3].get());
  list.remove(cells[0].get());
  REQUIRE(list.empty());
  REQUIRE(list.front() == nullptr);
}

TEST_CASE("A TaskScheduler is deleted exactly when its last reference goes", "[task]") {
  SchedulerLog log;
  auto* scheduler = new RecordingScheduler(log);
  scheduler->retain();
  scheduler->retain();
  scheduler->release();
  scheduler->release();
  REQUIRE_FALSE(log.deleted);
  scheduler->release();
  REQUIRE(log.deleted);
}
