#pragma once
#include <cstdint>

#include "pollscope/task_id.hpp"

namespace pollscope::detail {

class ExecutorCore;

/// What the executor that is polling on this thread right now offers to the
/// futures it polls: its clock and timers (for `sleep`), and who is being polled
/// (so a wake can say who woke whom). Empty outside any executor's poll loop.
struct ThreadScope {
  ExecutorCore* core = nullptr;  ///< the executor driving this thread, or null
  TaskId polling = 0;            ///< the task being polled right now (0: none)
  std::uint32_t thread = 0;      ///< this thread's logical number in `core`
  bool firing_timers = false;    ///< wakes come from timers that fired
  bool woke_self = false;        ///< the task being polled woke itself during this poll
};

inline thread_local ThreadScope tls_scope;

/// Installs a scope for the lifetime of the guard and restores the previous one,
/// so executors nest (a block_on inside a task, a test driving two executors).
class ScopeGuard {
 public:
  explicit ScopeGuard(const ThreadScope& scope) noexcept : saved_(tls_scope) { tls_scope = scope; }
  ~ScopeGuard() { tls_scope = saved_; }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  ThreadScope saved_;
};

}  // namespace pollscope::detail
