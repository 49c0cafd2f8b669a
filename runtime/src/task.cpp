#include "pollscope/detail/task.hpp"

namespace pollscope::detail {

namespace {
TaskHeader* header(const void* data) { return static_cast<TaskHeader*>(const_cast<void*>(data)); }
}  // namespace

RawWaker task_waker_clone(const void* data) {
  TaskHeader* t = header(data);
  t->retain();
  const std::uint32_t live = t->wakers.fetch_add(1, std::memory_order_relaxed) + 1;
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
  t->wakers.fetch_sub(1, std::memory_order_acq_rel);
  t->release();
}

void task_waker_wake_by_ref(const void* data) {
  TaskHeader* t = header(data);
  t->scheduler->wake(t, EventKind::wake_by_ref);
}

void task_waker_drop(const void* data) {
  TaskHeader* t = header(data);
  const std::uint32_t live = t->wakers.fetch_sub(1, std::memory_order_release) - 1;
  if (t->scheduler->traces_wakers.load(std::memory_order_relaxed)) {
    t->scheduler->waker_event(t, EventKind::waker_drop, live);
  }
  t->release();
}

}  // namespace pollscope::detail
