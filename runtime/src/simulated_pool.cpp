#include "pollscope/simulated_pool.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "pollscope/detail/work_stealing_policy.hpp"

namespace pollscope {

namespace detail {

namespace {

/// The largest pool a simulation accepts (thread numbers must stay below
/// kExternalThread; more than this is a mistake, not a simulation).
constexpr std::size_t kMaxSimulatedWorkers = 1024;

/// One step of a virtual worker is one of: poll a task; one search round (steal,
/// then the injection queue); announce the intent to park; re-check every queue and
/// park. A parked worker takes no step until new work unparks it.
class SimPoolCore final : public SimCore {
 public:
  SimPoolCore(std::uint32_t workers, std::uint64_t seed, const ExecutorOptions& options)
      : SimCore(options, seed), policy_(workers), workers_(workers) {}

 protected:
  void schedule_spawned(TaskHeader* task) override {
    const std::uint32_t w = current_thread();
    if (w < policy_.workers()) {
      push_local(w, task, WakeSource::task, tls_scope.polling);
    } else {
      push_injection(task, WakeSource::outside, 0);
    }
  }

  void schedule_woken(TaskHeader* task, WakeSource source, std::uint64_t other) override {
    if (source == WakeSource::self) {
      source = WakeSource::task;
      other = task->id;
    }
    const std::uint32_t w = current_thread();
    if (w < policy_.workers() && !tls_scope.firing_timers) {
      push_local(w, task, source, other);
    } else {
      push_injection(task, source, other);
    }
  }

  void after_pending(TaskHeader* task, std::uint32_t w, bool rescheduled) override {
    if (rescheduled) push_local(w, task, WakeSource::task, task->id);
  }

  void candidates(std::vector<std::uint32_t>& out) override {
    for (std::uint32_t w = 0; w < policy_.workers(); ++w) {
      if (workers_[w].state != State::parked && !is_busy(w)) out.push_back(w);
    }
  }

  void step(std::uint32_t w) override {
    Worker& k = workers_[w];
    if (k.unpark_pending) {
      k.unpark_pending = false;
      if (tracing()) {
        Event e;
        e.kind = EventKind::unpark;
        e.source = k.unpark_source;
        e.other = k.unpark_other;
        e.thread = w;
        emit(std::move(e));
      }
    }
    switch (k.state) {
      case State::active:
        if (TaskHeader* t = pop(w)) {
          run_task(w, t);
        } else if (policy_.start_searching()) {
          k.state = State::searching;
          k.rounds = 0;
          if (tracing()) emit(EventKind::search, 0, 0, w);
        } else {
          announce_park(w, /*was_searching=*/false);
        }
        return;
      case State::searching:
        search_round(w);
        return;
      case State::parking:
        // The intent to park is public (a notifier may take this worker out of the
        // parked list meanwhile): re-check every queue before sleeping.
        if (policy_.has_work()) {
          if (policy_.cancel_park(w)) {
            k.state = State::searching;
            k.rounds = 0;
          }
          return;
        }
        k.state = State::parked;
        last_parked_ = w;
        if (tracing()) emit(EventKind::park, 0, 0, w);
        return;
      case State::parked:
        return;  // not a candidate
    }
  }

  bool work_queued() override { return policy_.has_work(); }

  void drop_queued() noexcept override {
    for (TaskHeader* t : policy_.close_and_drain()) t->release();
  }

  std::uint32_t outside_thread() const noexcept override { return kExternalThread; }
  std::uint32_t timer_thread() const noexcept override { return policy_.workers(); }
  std::uint32_t stall_thread() const noexcept override { return last_parked_; }

  void before_stall() override {
    if (policy_.has_work()) {
      throw std::logic_error("SimulatedPool: lost wakeup: tasks are queued while every worker is parked");
    }
  }

 private:
  enum class State { active, searching, parking, parked };
  struct Worker {
    State state = State::active;
    int rounds = 0;
    std::uint64_t tick = 0;
    bool unpark_pending = false;
    WakeSource unpark_source = WakeSource::none;
    std::uint64_t unpark_other = 0;
  };

  void trace_queue(EventKind kind, TaskHeader* task, std::uint64_t queue, std::uint64_t length,
                   std::uint32_t thread) {
    Event e;
    e.kind = kind;
    e.task = task->id;
    e.other = queue;
    e.value = length;
    e.thread = thread;
    emit(std::move(e));
  }

  void push_local(std::uint32_t w, TaskHeader* task, WakeSource source, std::uint64_t other) {
    std::uint64_t length = 0;
    policy_.push_local(w, task, [&](std::uint64_t queue, std::uint64_t len) {
      length = len;
      if (tracing()) trace_queue(EventKind::enqueue, task, queue, len, event_thread());
    });
    // Like Tokio: a worker with a single queued task runs it itself; with more, it
    // wakes an idle worker to come and steal.
    if (length > 1) notify_work(source, other);
  }

  void push_injection(TaskHeader* task, WakeSource source, std::uint64_t other) {
    const bool queued = policy_.push_injection(task, [&](std::uint64_t queue, std::uint64_t len) {
      if (tracing()) trace_queue(EventKind::enqueue, task, queue, len, event_thread());
    });
    if (!queued) {
      task->release();
      return;
    }
    notify_work(source, other);
  }

  void notify_work(WakeSource source, std::uint64_t other) {
    if (auto w = policy_.worker_to_notify()) {
      Worker& k = workers_[*w];
      if (k.state == State::parked) {
        k.unpark_pending = true;
        k.unpark_source = source;
        k.unpark_other = other;
      }
      // A worker between announcing its park and parking just goes on searching.
      k.state = State::searching;
      k.rounds = 0;
    }
  }

  void announce_park(std::uint32_t w, bool was_searching) {
    workers_[w].state = State::parking;
    policy_.announce_park(w, was_searching);
  }

  /// Takes a task only if it is still alive: SCHEDULED -> RUNNING under the queue
  /// lock, then the dequeue event; an aborted one is released after the lock.
  auto on_pop(std::uint32_t w) {
    return [this, w](TaskHeader* t, std::uint64_t queue, std::uint64_t len) {
      if (!t->try_start_running()) {
        refused_.push_back(t);
        return false;
      }
      if (tracing()) trace_queue(EventKind::dequeue, t, queue, len, w);
      return true;
    };
  }

  TaskHeader* pop(std::uint32_t w) {
    TaskHeader* t = policy_.pop(w, workers_[w].tick, on_pop(w));
    release_refused();
    return t;
  }

  void release_refused() {
    for (TaskHeader* t : refused_) t->release();
    refused_.clear();
  }

  void search_round(std::uint32_t w) {
    Worker& k = workers_[w];
    const std::uint32_t first = rng().below(policy_.workers());
    const std::uint64_t stolen = policy_.steal(w, first, [&](std::uint32_t victim, std::uint64_t count) {
      if (tracing()) {
        Event e;
        e.kind = EventKind::steal;
        e.other = victim;
        e.value = count;
        e.thread = w;
        emit(std::move(e));
      }
    });
    if (stolen != 0) {
      found_work(w);
      return;
    }
    TaskHeader* t = policy_.pop_injection(on_pop(w));
    release_refused();
    if (t != nullptr) {
      found_work(w);
      run_task(w, t);
      return;
    }
    if (++k.rounds < WorkStealingPolicy<SingleThreadedSync>::kSearchRounds) return;
    announce_park(w, /*was_searching=*/true);
  }

  void found_work(std::uint32_t w) {
    workers_[w].state = State::active;
    // The last searcher found work: there may be more, wake another one to look.
    if (policy_.stop_searching()) notify_work(WakeSource::thread, 0);
  }

  void run_task(std::uint32_t w, TaskHeader* task) {
    ++workers_[w].tick;
    poll_task(task, w);
  }

  WorkStealingPolicy<SingleThreadedSync> policy_;
  std::vector<Worker> workers_;
  std::vector<TaskHeader*> refused_;
  std::uint32_t last_parked_ = 0;
};

}  // namespace

SimCore* make_simulated_pool_core(std::uint32_t workers, std::uint64_t seed, const ExecutorOptions& options) {
  return new SimPoolCore(workers, seed, options);
}

}  // namespace detail

namespace {
std::uint32_t checked_workers(std::size_t workers) {
  if (workers == 0 || workers > detail::kMaxSimulatedWorkers) {
    throw std::invalid_argument("SimulatedPool needs 1 to " + std::to_string(detail::kMaxSimulatedWorkers) +
                                " workers (got " + std::to_string(workers) + ")");
  }
  return static_cast<std::uint32_t>(workers);
}
}  // namespace

SimulatedPool::SimulatedPool(std::size_t workers, std::uint64_t seed, ExecutorOptions options)
    : core_(detail::make_simulated_pool_core(checked_workers(workers), seed, options)), workers_(workers) {}

SimulatedPool::~SimulatedPool() {
  core_->shutdown();
  core_->release();
}

RunReport SimulatedPool::run() { return core_->run(nullptr); }

}  // namespace pollscope
