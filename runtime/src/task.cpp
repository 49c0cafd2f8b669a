#include "pollscope/detail/task.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace pollscope::detail {

namespace {
TaskHeader* header(const void* data) { return static_cast<TaskHeader*>(const_cast<void*>(data)); }

/// The schedulers whose executors wait for outside wakers (one entry per waiting
/// thread), see begin_outside_wait in task.hpp. Leaked on purpose: a waker may be
/// dropped during static destruction.
struct OutsideWaits {
  std::mutex mutex;
  std::vector<TaskScheduler*> waiting;
};
OutsideWaits& outside_waits() {
  static auto* waits = new OutsideWaits;
  return *waits;
}
}  // namespace

void begin_outside_wait(TaskScheduler* scheduler) {
  OutsideWaits& w = outside_waits();
  std::lock_guard<std::mutex> lock(w.mutex);
  w.waiting.push_back(scheduler);
  // seq_cst, and before the caller re-reads the counts: see task.hpp.
  g_outside_waits.fetch_add(1, std::memory_order_seq_cst);
}

void end_outside_wait(TaskScheduler* scheduler) noexcept {
  OutsideWaits& w = outside_waits();
  std::lock_guard<std::mutex> lock(w.mutex);
  auto it = std::find(w.waiting.begin(), w.waiting.end(), scheduler);
  if (it == w.waiting.end()) return;
  w.waiting.erase(it);
  g_outside_waits.fetch_sub(1, std::memory_order_relaxed);
}

void outside_waker_gone(const TaskScheduler* scheduler) noexcept {
  OutsideWaits& w = outside_waits();
  std::lock_guard<std::mutex> lock(w.mutex);
  // Registered means alive: its executor unregisters under this lock before it goes on.
  auto it = std::find(w.waiting.begin(), w.waiting.end(), scheduler);
  if (it != w.waiting.end()) (*it)->outside_wakers_gone();
}

RawWaker clone_task_waker(const void* data, const RawWakerVTable* vtable) noexcept {
  TaskHeader* t = header(data);
  const std::uint32_t live = t->add_waker();
  if (t->scheduler->traces_wakers.load(std::memory_order_relaxed)) {
    t->scheduler->waker_event(t, EventKind::waker_clone, live);
  }
  return RawWaker{data, vtable};
}

RawWaker task_waker_clone(const void* data) noexcept { return clone_task_waker(data, &task_waker_vtable); }

void task_waker_wake(const void* data) noexcept {
  TaskHeader* t = header(data);
  // The waker counts as alive until its wake has been handed over (the task is
  // scheduled then), so an executor checking for a stall on another thread never
  // sees neither a live waker nor a scheduled task.
  t->scheduler->wake(t, EventKind::wake);
  t->drop_waker();
}

void task_waker_wake_by_ref(const void* data) noexcept {
  TaskHeader* t = header(data);
  t->scheduler->wake(t, EventKind::wake_by_ref);
}

void task_waker_drop(const void* data) noexcept {
  TaskHeader* t = header(data);
  if (!t->scheduler->traces_wakers.load(std::memory_order_relaxed)) {
    t->drop_unwoken_waker();
    return;
  }
  // Traced: the event needs the cell, so the waker's reference goes after it.
  const std::uint32_t live = t->forget_waker();
  t->scheduler->waker_event(t, EventKind::waker_drop, live);
  t->release();
}

}  // namespace pollscope::detail
