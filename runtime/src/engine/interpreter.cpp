#include "interpreter.hpp"

#include <algorithm>

namespace pollscope::engine::detail {

using scenario::OpKind;

void Interpreter::spawn(int target) {
  JoinHandle<void> handle = spawn_(function(target, 0));
  store_.name_task(static_cast<std::uint32_t>(handle.id()), static_cast<std::uint16_t>(target));
  handles_[static_cast<std::size_t>(target)].emplace(std::move(handle));
  std::vector<Waker> waiters = std::move(spawn_waiters_[static_cast<std::size_t>(target)]);
  for (Waker& w : waiters) std::move(w).wake();
}

Async<> Interpreter::function(int index, std::uint16_t depth) {
  const scenario::Task& task = scenario_.tasks[static_cast<std::size_t>(index)];
  for (const scenario::Op& op : task.ops) {
    mark(depth, index, op.line);
    switch (op.kind) {
      case OpKind::count:
        co_await count(op.amount);
        break;
      case OpKind::yield:
        for (std::uint64_t i = 0; i < op.amount; ++i) co_await yield_now();
        break;
      case OpKind::sleep:
        co_await sleep(op.duration);
        break;
      case OpKind::block:
        blocking_call(std::min(op.duration, block_cap_));
        break;
      case OpKind::spawn:
        spawn(scenario_.task_index(op.target));
        break;
      case OpKind::join: {
        const int target = scenario_.task_index(op.target);
        co_await WaitSpawned{this, target};
        co_await JoinSpawned{this, target};
        break;
      }
      case OpKind::call:
        co_await function(scenario_.task_index(op.target), static_cast<std::uint16_t>(depth + 1));
        break;
      case OpKind::send:
        co_await senders_[static_cast<std::size_t>(scenario_.channel_index(op.target))].send(op.value);
        break;
      case OpKind::recv:
        co_await receivers_[static_cast<std::size_t>(scenario_.channel_index(op.target))].recv();
        break;
      case OpKind::lose_waker:
        co_await LoseWaker{};
        break;
    }
  }
  mark(depth, index, 0);
}

}  // namespace pollscope::engine::detail
