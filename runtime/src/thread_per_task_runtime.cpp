#include "pollscope/thread_per_task_runtime.hpp"

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pollscope/detail/shake.hpp"

namespace pollscope {

namespace detail {

namespace {

class ThreadPerTaskCore final : public ThreadedCore {
 public:
  explicit ThreadPerTaskCore(const ExecutorOptions& options) : ThreadedCore(options, /*timer_thread_number=*/0) {}

  void submit(TaskHeader* task) override {
    const std::uint32_t thread = event_thread();
    task->state.fetch_or(task_state::scheduled, std::memory_order_acq_rel);
    register_task(task, thread);
    task->retain();  // the reference of the task's thread
    std::vector<std::thread> reaped;
    std::exception_ptr error;
    bool started = false;
    {
      std::lock_guard<std::mutex> lock(threads_mutex_);
      reaped.swap(finished_);
      if (!closing_) {
        const auto i = static_cast<std::size_t>(task->id);
        if (slots_.size() <= i) slots_.resize(i + 1);
        slots_[i] = std::make_unique<Slot>();
        Slot* slot = slots_[i].get();
        try {
          slot->thread = std::thread([this, task, slot] { thread_main(task, slot); });
          started = true;
        } catch (...) {
          error = std::current_exception();
        }
      }
    }
    join_all(reaped);
    if (started) return;
    // Shutting down (or no thread available): the task never runs.
    std::uint32_t s = task->state.load(std::memory_order_acquire);
    while (!task->state.compare_exchange_weak(s, (s & ~task_state::scheduled) | task_state::closed,
                                              std::memory_order_acq_rel)) {
    }
    close(task, /*destroy_future=*/true, thread);
    task->release();
    if (error) std::rethrow_exception(error);
  }

  void wake(TaskHeader* task, EventKind how) override {
    if (closed()) return;
    shake_point();
    const bool enqueue = task->try_schedule();
    std::uint64_t other = 0;
    WakeSource source = classify_wake(task->id, other);
    if (on_own_thread() && source == WakeSource::self) tls_scope.woke_self = true;
    if (tracing()) {
      Event e;
      e.kind = how;
      e.task = task->id;
      e.source = source;
      e.other = other;
      e.thread = event_thread();
      emit(std::move(e));
    }
    if (!enqueue) return;
    if (source == WakeSource::self) {
      source = WakeSource::task;
      other = task->id;
    }
    unpark(task, source, other);
  }

  bool single_threaded() const noexcept override { return false; }

  void outside_wakers_gone() noexcept override {
    // Under the registry lock of begin_outside_wait: every thread registered there
    // re-checks its own task (the dropper cannot tell which task it was any more).
    std::lock_guard<std::mutex> lock(outside_mutex_);
    for (Slot* slot : outside_waiting_) slot->parker.poke();
  }

  void shutdown() noexcept override {
    {
      std::lock_guard<std::mutex> lock(threads_mutex_);
      closing_ = true;
    }
    // Cancel what has not finished: idle tasks are closed here (after_close unparks
    // their threads, which then end); a task inside a poll (a blocking call, say) is
    // closed by its own thread when that poll returns. Then join every thread. Tasks
    // cancelled here may wake others, which run one more poll: repeat until quiet.
    for (;;) {
      for (TaskHeader* t : live_tasks()) {
        abort(t);
        t->release();
      }
      std::vector<std::thread> threads;
      {
        std::lock_guard<std::mutex> lock(threads_mutex_);
        threads.swap(finished_);
        for (auto& slot : slots_) {
          if (slot && slot->thread.joinable()) threads.push_back(std::move(slot->thread));
        }
      }
      const bool joined_any = join_all(threads);
      if (!joined_any && !has_live_tasks()) break;
    }
    stop_timer_thread();
    mark_closed();
    {
      ScopeGuard scope(ThreadScope{this, 0, 0, false, false});
      close_remaining(0);
    }
    finish_shutdown();
  }

 protected:
  std::uint32_t outside_thread() const noexcept override {
    return std::this_thread::get_id() == owner() ? 0 : kExternalThread;
  }

  void after_close(TaskHeader* task) noexcept override { unpark(task, WakeSource::none, 0); }

 private:
  struct Slot {
    ThreadParker parker;
    std::thread thread;
  };

  static bool join_all(std::vector<std::thread>& threads) {
    bool any = false;
    for (std::thread& t : threads) {
      if (t.joinable()) {
        t.join();
        any = true;
      }
    }
    return any;
  }

  void unpark(TaskHeader* task, WakeSource source, std::uint64_t other) noexcept {
    Slot* slot = nullptr;
    {
      std::lock_guard<std::mutex> lock(threads_mutex_);
      const auto i = static_cast<std::size_t>(task->id);
      if (i < slots_.size()) slot = slots_[i].get();
    }
    // Slots live as long as this core, so the pointer stays valid after the lock.
    if (slot) slot->parker.unpark(source, other);
  }

  void begin_waiting_outside(Slot* slot) {
    {
      std::lock_guard<std::mutex> lock(outside_mutex_);
      outside_waiting_.push_back(slot);
    }
    begin_outside_wait(this);
  }
  void end_waiting_outside(Slot* slot) {
    end_outside_wait(this);  // no poke after this
    {
      std::lock_guard<std::mutex> lock(outside_mutex_);
      std::erase(outside_waiting_, slot);
    }
    slot->parker.clear_poke();
  }

  void thread_main(TaskHeader* task, Slot* slot) {
    const auto i = static_cast<std::uint32_t>(task->id);
    {
      ScopeGuard scope(ThreadScope{this, 0, i, false, false});
      for (;;) {
        shake_point();
        if (!task->try_start_running()) break;  // cancelled while it waited
        if (!count_poll(i)) {
          fail_owned(task, i);
          break;
        }
        if (poll_once(task, i)) break;
        shake_point();
        const AfterPoll after = settle(task, i);
        if (after == AfterPoll::closed) break;
        if (after == AfterPoll::rescheduled) continue;  // woke itself: poll again, no park
        // Wakers first, then the state: a wake in flight is seen by one of the two.
        auto stuck = [&] {
          return task->live_wakers() == 0 &&
                 (task->state.load(std::memory_order_acquire) & task_state::scheduled) == 0;
        };
        // Registered for outside waker drops BEFORE the check (the handshake of
        // begin_outside_wait, task.hpp; live_wakers() reads seq_cst): a last waker
        // dropped unwoken after the check pokes the parker, and the thread re-checks
        // instead of sleeping forever (stall reported without another poll).
        begin_waiting_outside(slot);
        if (stuck()) {
          end_waiting_outside(slot);
          stall_one(task, i);  // nothing can ever wake it
          break;
        }
        const bool unparked = slot->parker.park_or_recheck(
            [&] {
              if (tracing()) emit(EventKind::park, 0, 0, i);
            },
            [&](WakeSource source, std::uint64_t other) {
              if (tracing()) {
                Event e;
                e.kind = EventKind::unpark;
                e.source = source;
                e.other = other;
                e.thread = i;
                emit(std::move(e));
              }
            },
            stuck);
        end_waiting_outside(slot);
        if (!unparked) {
          stall_one(task, i);
          break;
        }
      }
    }
    task->release();  // the thread's reference
    std::lock_guard<std::mutex> lock(threads_mutex_);
    finished_.push_back(std::move(slot->thread));  // joined by the next spawn, or by shutdown
  }

  std::mutex threads_mutex_;
  std::vector<std::unique_ptr<Slot>> slots_;  // index: task id; under threads_mutex_
  std::vector<std::thread> finished_;         // threads that ended, to join
  bool closing_ = false;                      // under threads_mutex_
  // Task threads waiting for wakers alive outside (see begin_waiting_outside). Lock
  // order: the registry lock of begin_outside_wait, then this one, then a parker's.
  std::mutex outside_mutex_;
  std::vector<Slot*> outside_waiting_;
};

}  // namespace

ThreadedCore* make_thread_per_task_core(const ExecutorOptions& options) { return new ThreadPerTaskCore(options); }

}  // namespace detail

ThreadPerTaskRuntime::ThreadPerTaskRuntime(ExecutorOptions options)
    : core_(detail::make_thread_per_task_core(options)) {}

ThreadPerTaskRuntime::~ThreadPerTaskRuntime() {
  core_->shutdown();
  core_->release();
}

RunReport ThreadPerTaskRuntime::wait() { return core_->wait_idle(); }

}  // namespace pollscope
