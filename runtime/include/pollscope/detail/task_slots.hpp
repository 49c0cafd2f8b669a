#pragma once
/// TaskSlots: a set of tasks kept in an array of slots, each task remembering its
/// slot in TaskHeader::executor_slot. Insert and erase touch only the set's own
/// memory and the task itself, never another task: an intrusive list (TaskList)
/// writes the neighbours' links, whose cache lines may sit with another thread
/// (a registry that one worker inserts into while another erases from it).
/// Freed slots are reused (most recently freed first); the arrays shrink to nothing
/// whenever the set becomes empty. Iteration is in slot order, not insertion order.
/// Not thread-safe (ThreadedCore guards each registry shard with a lock).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pollscope/detail/task.hpp"

namespace pollscope::detail {

class TaskSlots {
 public:
  bool empty() const noexcept { return live_ == 0; }
  std::size_t size() const noexcept { return live_; }

  /// Adds `task` (not in the set); sets its executor_slot. May throw std::bad_alloc
  /// (the set is unchanged then).
  void insert(TaskHeader* task) {
    std::uint32_t slot = 0;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(nullptr);
      // erase() pushes a slot number without allocating: room for every slot.
      try {
        free_.reserve(slots_.capacity());
      } catch (...) {
        slots_.pop_back();
        throw;
      }
    }
    slots_[slot] = task;
    task->executor_slot = slot;
    ++live_;
  }

  /// Removes `task` (in the set). Never allocates.
  void erase(TaskHeader* task) noexcept {
    const std::uint32_t slot = task->executor_slot;
    slots_[slot] = nullptr;
    if (--live_ == 0) {
      slots_.clear();  // capacity stays: the next burst does not allocate again
      free_.clear();
      return;
    }
    free_.push_back(slot);
  }

  bool contains(const TaskHeader* task) const noexcept {
    const std::uint32_t slot = task->executor_slot;
    return slot < slots_.size() && slots_[slot] == task;
  }

  /// Calls `fn(task)` for every task, in slot order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (TaskHeader* t : slots_) {
      if (t != nullptr) fn(t);
    }
  }

 private:
  std::vector<TaskHeader*> slots_;   // null: a free slot
  std::vector<std::uint32_t> free_;  // free slot numbers; capacity >= slots_.capacity()
  std::uint32_t live_ = 0;
};

}  // namespace pollscope::detail
