#include "pollscope/detail/task.hpp"

namespace pollscope::detail {

namespace {
TaskHeader* header(const void* data) { return static_cast<TaskHeader*>(const_cast<void*>(data)); }
}  // namespace

RawWaker task_waker_clone(const void* data) {
  TaskHeader* t = header(data);
  const std::uint32_t live = t->add_waker();
  if (t->scheduler->traces_wakers.load(std::memory_order_relaxed)) {
    t->scheduler->waker_event(t, EventKind::waker_clone, live);
  }
  return RawWaker{data, &task_waker_vtable};
}

void task_waker_wake(const void* data) {
  TaskHeader* t = header(data);
  // The waker counts as alive until its wake has been handed over (the task is
  // scheduled then), so an executor checking for a stall on another thread never
  // sees neither a live waker nor a scheduled task.
  t->scheduler->wake(t, EventKind::wake);
  t->drop_waker();
}

void task_waker_wake_by_ref(const void* data) {
  TaskHeader* t = header(data);
  t->scheduler->wake(t, EventKind::wake_by_ref);
}

void task_waker_drop(const void* data) {
  TaskHeader* t = header(data);
  if (!t->scheduler->traces_wakers.load(std::memory_order_relaxed)) {
    t->drop_waker();
    return;
  }
  // Traced: the event needs the cell, so the waker's reference goes after it.
  const std::uint32_t live = t->forget_waker();
  t->scheduler->waker_event(t, EventKind::waker_drop, live);
  t->release();
}

}  // namespace pollscope::detail
