#pragma once
// The scenario interpreter: each scenario task becomes an Async function that
// performs its operations, one co_await per line, on the real runtime.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "pollscope/async.hpp"
#include "pollscope/blocking.hpp"
#include "pollscope/channel.hpp"
#include "pollscope/count.hpp"
#include "pollscope/detail/thread_scope.hpp"
#include "pollscope/engine/trace_store.hpp"
#include "pollscope/join_handle.hpp"
#include "pollscope/scenario.hpp"
#include "pollscope/sleep.hpp"
#include "pollscope/yield_now.hpp"

namespace pollscope::engine::detail {

/// Returns Pending once without keeping the waker (the lost-wakeup bug), and
/// Ready if it is ever polled again.
struct LoseWaker {
  using Output = void;
  bool polled = false;
  Poll<void> poll(Context&) {
    if (polled) return ready();
    polled = true;
    return pending;
  }
};

class Interpreter {
 public:
  using Spawn = std::function<JoinHandle<void>(Async<>)>;

  /// `block_cap`: longest a `block` may hold a real thread (real clock only).
  Interpreter(const scenario::Scenario& scenario, TraceStore& store, std::chrono::nanoseconds block_cap)
      : scenario_(scenario), store_(store), block_cap_(block_cap), handles_(scenario.tasks.size()),
        spawn_waiters_(scenario.tasks.size()), handle_awaited_(scenario.tasks.size(), false),
        joined_(scenario.tasks.size(), false), join_waiters_(scenario.tasks.size()) {
    for (const scenario::Channel& c : scenario.channels) {
      auto [tx, rx] = channel<std::int64_t>(static_cast<std::size_t>(c.capacity));
      senders_.emplace_back(std::move(tx));
      receivers_.emplace_back(std::move(rx));
    }
  }

  /// How `spawn` operations reach the executor (absent under block_on*).
  void set_spawner(Spawn spawn) { spawn_ = std::move(spawn); }

  /// The async function of scenario task `index`, `depth` calls deep.
  Async<> function(int index, std::uint16_t depth);

 private:
  /// Waits until scenario task `target` has been spawned (a join may come first).
  struct WaitSpawned {
    using Output = void;
    Interpreter* self;
    int target;
    Poll<void> poll(Context& cx) {
      if (self->handles_[static_cast<std::size_t>(target)]) return ready();
      self->spawn_waiters_[static_cast<std::size_t>(target)].push_back(cx.waker());
      return pending;
    }
  };

  /// `join TASK`. The first join of a task awaits its JoinHandle (a handle can be
  /// awaited once); a task joined from several places, or from a function called
  /// twice, has its other joiners wait for that first join to finish.
  struct JoinSpawned {
    using Output = void;
    Interpreter* self;
    int target;
    bool awaits_handle = false;
    Poll<void> poll(Context& cx) {
      const auto t = static_cast<std::size_t>(target);
      if (self->joined_[t]) return ready();
      if (!awaits_handle && self->handle_awaited_[t]) {
        self->join_waiters_[t].push_back(cx.waker());
        return pending;
      }
      awaits_handle = true;
      self->handle_awaited_[t] = true;
      if (self->handles_[t]->poll(cx).is_pending()) return pending;
      self->joined_[t] = true;
      std::vector<Waker> waiters = std::move(self->join_waiters_[t]);
      for (Waker& w : waiters) std::move(w).wake();
      return ready();
    }
  };

  void mark(std::uint16_t depth, int function, int line) {
    store_.mark(static_cast<std::uint32_t>(pollscope::detail::tls_scope.polling), depth,
                static_cast<std::uint16_t>(function), static_cast<std::uint32_t>(line));
  }
  void spawn(int target);

  const scenario::Scenario& scenario_;
  TraceStore& store_;
  std::chrono::nanoseconds block_cap_;
  Spawn spawn_;
  std::vector<std::optional<JoinHandle<void>>> handles_;
  std::vector<std::vector<Waker>> spawn_waiters_;
  std::vector<bool> handle_awaited_;  // a JoinSpawned awaits this task's handle
  std::vector<bool> joined_;          // that join is done: the task finished
  std::vector<std::vector<Waker>> join_waiters_;
  std::vector<Sender<std::int64_t>> senders_;
  std::vector<Receiver<std::int64_t>> receivers_;
};

}  // namespace pollscope::engine::detail
