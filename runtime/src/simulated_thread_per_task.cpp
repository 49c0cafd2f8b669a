#include "pollscope/simulated_thread_per_task.hpp"

#include <algorithm>
#include <vector>

namespace pollscope {

namespace detail {

namespace {

/// Thread i (= task id i) is runnable while its task waits for a poll; each
/// runnable entry holds a task reference, like a run queue entry. A step of thread
/// i: unpark if it was parked, poll the task, and park again unless the task woke
/// itself during the poll.
class SimThreadPerTaskCore final : public SimCore {
 public:
  SimThreadPerTaskCore(std::uint64_t seed, const ExecutorOptions& options) : SimCore(options, seed) {
    threads_.emplace_back();  // thread 0: the runtime's own thread
  }

 protected:
  void schedule_spawned(TaskHeader* task) override {
    const auto i = static_cast<std::size_t>(task->id);
    if (threads_.size() <= i) threads_.resize(i + 1);
    threads_[i].task = task;
    runnable_.push_back(task);
  }

  void schedule_woken(TaskHeader* task, WakeSource source, std::uint64_t other) override {
    Thread& t = threads_[static_cast<std::size_t>(task->id)];
    if (t.parked) {
      t.parked = false;
      t.unpark_pending = true;
      t.unpark_source = source;
      t.unpark_other = other;
    }
    runnable_.push_back(task);
  }

  void after_pending(TaskHeader* task, std::uint32_t thread, bool rescheduled) override {
    if (rescheduled) {
      runnable_.push_back(task);  // woke itself: no park, straight into the next poll
      return;
    }
    threads_[thread].parked = true;
    if (tracing()) emit(EventKind::park, 0, 0, thread);
  }

  void candidates(std::vector<std::uint32_t>& out) override {
    for (TaskHeader* t : runnable_) {
      const auto thread = static_cast<std::uint32_t>(t->id);
      if (!is_busy(thread)) out.push_back(thread);
    }
    std::sort(out.begin(), out.end());
  }

  void step(std::uint32_t thread) override {
    auto it = std::find_if(runnable_.begin(), runnable_.end(),
                           [thread](TaskHeader* t) { return static_cast<std::uint32_t>(t->id) == thread; });
    TaskHeader* task = *it;
    runnable_.erase(it);
    Thread& t = threads_[thread];
    if (t.unpark_pending) {
      t.unpark_pending = false;
      if (tracing()) {
        Event e;
        e.kind = EventKind::unpark;
        e.source = t.unpark_source;
        e.other = t.unpark_other;
        e.thread = thread;
        emit(std::move(e));
      }
    }
    if (!task->try_start_running()) {
      task->release();  // aborted while runnable: the thread just ends
      return;
    }
    poll_task(task, thread);
  }

  bool work_queued() override { return !runnable_.empty(); }

  void drop_queued() noexcept override {
    for (TaskHeader* t : runnable_) t->release();
    runnable_.clear();
  }

  std::uint32_t outside_thread() const noexcept override { return 0; }
  std::uint32_t timer_thread() const noexcept override { return 0; }

 private:
  struct Thread {
    TaskHeader* task = nullptr;  // borrowed (the registry or a runnable entry owns it)
    bool parked = false;
    bool unpark_pending = false;
    WakeSource unpark_source = WakeSource::none;
    std::uint64_t unpark_other = 0;
  };

  std::vector<Thread> threads_;         // index: thread number = task id
  std::vector<TaskHeader*> runnable_;   // each entry holds a reference
};

}  // namespace

SimCore* make_simulated_thread_per_task_core(std::uint64_t seed, const ExecutorOptions& options) {
  return new SimThreadPerTaskCore(seed, options);
}

}  // namespace detail

SimulatedThreadPerTask::SimulatedThreadPerTask(std::uint64_t seed, ExecutorOptions options)
    : core_(detail::make_simulated_thread_per_task_core(seed, options)) {}

SimulatedThreadPerTask::~SimulatedThreadPerTask() {
  core_->shutdown();
  core_->release();
}

RunReport SimulatedThreadPerTask::run() { return core_->run(nullptr); }

}  // namespace pollscope
