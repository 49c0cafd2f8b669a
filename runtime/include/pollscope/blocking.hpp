#pragma once
/// blocking_call(d): what a synchronous call inside a poll does to an executor.
#include <chrono>
#include <thread>

#include "pollscope/detail/executor_core.hpp"
#include "pollscope/detail/thread_scope.hpp"

namespace pollscope {

/// Stands for a blocking call (synchronous I/O, a heavy computation) made inside a
/// poll: the polling thread does nothing else for `d`, so every task queued behind
/// it on that thread waits too. On a virtual clock no real time passes: the clock
/// moves on by `d` instead. Traced as a `blocking` event of the polling task.
/// Outside any executor it simply sleeps.
inline void blocking_call(std::chrono::nanoseconds d) {
  if (d <= std::chrono::nanoseconds::zero()) return;
  detail::ExecutorCore* core = detail::tls_scope.core;
  if (core == nullptr) {
    std::this_thread::sleep_for(d);
    return;
  }
  if (core->tracing()) {
    Event e;
    e.kind = EventKind::blocking;
    e.task = detail::tls_scope.polling;
    e.thread = detail::tls_scope.thread;
    e.deadline = d;
    core->emit(std::move(e));
  }
  core->block_thread(d);
}

}  // namespace pollscope
