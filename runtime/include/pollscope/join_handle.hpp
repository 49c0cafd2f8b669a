#pragma once
/// JoinHandle<T>: the caller's end of a spawned task.
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "pollscope/block_on.hpp"
#include "pollscope/context.hpp"
#include "pollscope/detail/task.hpp"
#include "pollscope/poll.hpp"
#include "pollscope/run_report.hpp"
#include "pollscope/task_id.hpp"

namespace pollscope {

namespace detail {
struct JoinHandleAccess;
}

/// A Future of the task's output. Dropping the handle detaches the task (it keeps
/// running). Await it (or join() it from a thread outside the executor) once:
/// a second time throws std::logic_error.
/// Threading: a handle is used by one thread at a time; the task may finish on
/// another thread.
template <class T>
class JoinHandle {
 public:
  using Output = T;

  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)), id_(other.id_) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      detach();
      task_ = std::exchange(other.task_, nullptr);
      id_ = other.id_;
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { detach(); }

  /// Ready with the task's output once it completed; rethrows its exception;
  /// throws TaskAborted if it was aborted or cancelled.
  Poll<T> poll(Context& cx) {
    detail::TaskHeader* t = checked();
    // COMPLETED is final and published after the output (or exception) was stored,
    // by every executor: no lock needed to take it. (CLOSED may be published before
    // its error is stored, under the lock: that case takes the lock below.)
    if (t->state.load(std::memory_order_acquire) & detail::task_state::completed) return ready_from(take());
    std::optional<Waker> fresh;
    for (;;) {
      {
        std::lock_guard<detail::SpinLock> lock(t->lock);
        if (t->is_finished()) break;
        if (t->awaiter && t->awaiter->will_wake(cx.waker())) return pending;
        if (!fresh && detail::clone_runs_no_user_code(cx.waker())) fresh.emplace(cx.waker());
        if (fresh) {
          t->awaiter.swap(fresh);  // the replaced waker is dropped after the lock
          return pending;
        }
      }
      fresh.emplace(cx.waker());  // a clone that may run user code (a tracer): outside the lock
    }
    return ready_from(take());
  }

  /// Cancels the task. One that is not running has its future destroyed before
  /// abort() returns; a running one right after its current poll (if that poll
  /// completes it, the output stands). No effect on a finished task.
  void abort() {
    if (task_ && !task_->is_finished()) task_->scheduler->abort(task_);
  }

  /// True after the task completed or was aborted.
  bool is_finished() const noexcept { return task_ == nullptr || task_->is_finished(); }

  /// The task's id within its executor.
  TaskId id() const noexcept { return id_; }

  /// Blocks the calling thread until the output is there. For threads outside a
  /// threaded executor. On a single-threaded executor's task it throws
  /// std::logic_error instead of deadlocking (await it, or use the executor's block_on).
  T join() {
    detail::TaskHeader* t = checked();
    if (t->scheduler->single_threaded()) {
      throw std::logic_error(
          "JoinHandle::join() would block the only thread that runs this task; "
          "co_await the handle or use LocalExecutor::block_on(handle)");
    }
    return pollscope::block_on(*this);
  }

 private:
  friend struct detail::JoinHandleAccess;

  /// Adopts one reference to `task`.
  explicit JoinHandle(detail::TaskHeader* task) noexcept : task_(task), id_(task->id) {}

  detail::TaskHeader* checked() const {
    if (task_ == nullptr) throw std::logic_error("pollscope::JoinHandle awaited or joined a second time");
    return task_;
  }

  /// Moves the final state out of the task and releases it.
  detail::TaskOutput<T>* take() {
    return static_cast<detail::TaskOutput<T>*>(std::exchange(task_, nullptr));
  }

  static Poll<T> ready_from(detail::TaskOutput<T>* t) {
    struct Release {
      detail::TaskOutput<T>* t;
      ~Release() { t->release(); }
    } release{t};
    if (t->error) {
      std::exception_ptr error = *std::exchange(t->error, std::nullopt);
      std::rethrow_exception(error);
    }
    if (!t->output) throw TaskAborted(t->id);
    if constexpr (std::is_void_v<T>) {
      t->output.reset();
      return ready();
    } else {
      Poll<T> p(std::in_place, std::move(*t->output));
      t->output.reset();
      return p;
    }
  }

  void detach() noexcept {
    detail::TaskHeader* t = std::exchange(task_, nullptr);
    if (t == nullptr) return;
    std::optional<Waker> awaiter;
    {
      std::lock_guard<detail::SpinLock> lock(t->lock);
      awaiter.swap(t->awaiter);
    }
    t->release();
  }

  detail::TaskHeader* task_;
  TaskId id_;
};

namespace detail {
/// For executors: wrap a task reference in a handle.
struct JoinHandleAccess {
  template <class T>
  static JoinHandle<T> adopt(TaskHeader* task) noexcept {
    return JoinHandle<T>(task);
  }
  /// The task behind a handle (null once its output was taken).
  template <class T>
  static TaskHeader* peek(const JoinHandle<T>& handle) noexcept {
    return handle.task_;
  }
};
}  // namespace detail

}  // namespace pollscope
