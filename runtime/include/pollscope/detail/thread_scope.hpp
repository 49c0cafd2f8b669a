#pragma once
#include <cstdint>
#include <cstring>

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
///
/// The scope is saved and restored as a whole object (memcpy) and installed field by
/// field. A plain struct copy of its 22 bytes of fields compiles to overlapping 16-
/// and 8-byte moves, and loading bytes that two different stores wrote cannot be
/// store-forwarded: two such stalls per guard cost ~15 ns on x86-64, more than the
/// rest of a block_on of a ready future.
class ScopeGuard {
 public:
  explicit ScopeGuard(const ThreadScope& scope) noexcept {
    std::memcpy(&saved_, &tls_scope, sizeof(ThreadScope));
    ThreadScope& s = tls_scope;
    s.core = scope.core;
    s.polling = scope.polling;
    s.thread = scope.thread;
    s.firing_timers = scope.firing_timers;
    s.woke_self = scope.woke_self;
  }
  ~ScopeGuard() { std::memcpy(&tls_scope, &saved_, sizeof(ThreadScope)); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  ThreadScope saved_;
};

}  // namespace pollscope::detail
