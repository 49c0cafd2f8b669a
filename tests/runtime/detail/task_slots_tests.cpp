// Tests for pollscope/detail/task_slots.hpp: TaskSlots, the slot-array task set of
// each ThreadedCore registry shard.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <vector>

#include <pollscope/detail/task.hpp>
#include <pollscope/detail/task_slots.hpp>

using pollscope::detail::TaskHeader;
using pollscope::detail::TaskSlots;

namespace {

/// Plain task headers: the set only stores pointers and executor_slot.
struct Tasks {
  std::array<TaskHeader, 8> cells;
  TaskHeader* operator[](std::size_t i) { return &cells[i]; }
  std::size_t index(const TaskHeader* t) const { return static_cast<std::size_t>(t - cells.data()); }
};

std::vector<std::size_t> members(const TaskSlots& set, const Tasks& tasks) {
  std::vector<std::size_t> out;
  set.for_each([&](TaskHeader* t) { out.push_back(tasks.index(t)); });
  return out;
}

}  // namespace

TEST_CASE("TaskSlots gives inserted tasks consecutive slots and lists them in slot order", "[task_slots]") {
  Tasks tasks;
  TaskSlots set;
  REQUIRE(set.empty());
  for (std::size_t i = 0; i < 4; ++i) set.insert(tasks[i]);
  REQUIRE(set.size() == 4);
  for (std::uint32_t i = 0; i < 4; ++i) {
    REQUIRE(tasks[i]->executor_slot == i);
    REQUIRE(set.contains(tasks[i]));
  }
  REQUIRE_FALSE(set.contains(tasks[4]));
  REQUIRE(members(set, tasks) == std::vector<std::size_t>{0, 1, 2, 3});
}

TEST_CASE("TaskSlots reuses the most recently freed slot first", "[task_slots]") {
  Tasks tasks;
  TaskSlots set;
  for (std::size_t i = 0; i < 4; ++i) set.insert(tasks[i]);
  set.erase(tasks[1]);
  set.erase(tasks[2]);
  REQUIRE(set.size() == 2);
  REQUIRE_FALSE(set.contains(tasks[1]));
  REQUIRE_FALSE(set.contains(tasks[2]));
  REQUIRE(members(set, tasks) == std::vector<std::size_t>{0, 3});
  set.insert(tasks[5]);
  REQUIRE(tasks[5]->executor_slot == 2);
  set.insert(tasks[6]);
  REQUIRE(tasks[6]->executor_slot == 1);
  set.insert(tasks[7]);
  REQUIRE(tasks[7]->executor_slot == 4);
  REQUIRE(members(set, tasks) == std::vector<std::size_t>{0, 6, 5, 3, 7});
}

TEST_CASE("TaskSlots starts from slot 0 again once it has been emptied", "[task_slots]") {
  Tasks tasks;
  TaskSlots set;
  for (std::size_t i = 0; i < 3; ++i) set.insert(tasks[i]);
  for (std::size_t i = 0; i < 3; ++i) set.erase(tasks[i]);
  REQUIRE(set.empty());
  REQUIRE(members(set, tasks).empty());
  // A task whose stale slot number points past the (now empty) array is not a member.
  REQUIRE_FALSE(set.contains(tasks[2]));
  set.insert(tasks[4]);
  REQUIRE(tasks[4]->executor_slot == 0);
  REQUIRE(set.size() == 1);
  REQUIRE(set.contains(tasks[4]));
}

TEST_CASE("TaskSlots stays exact through 100,000 interleaved inserts and erases", "[task_slots]") {
  std::vector<TaskHeader> cells(1000);
  std::vector<bool> in(cells.size(), false);
  TaskSlots set;
  std::uint64_t x = 12345;
  std::size_t count = 0;
  for (int step = 0; step < 100'000; ++step) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t i = static_cast<std::size_t>(x >> 33) % cells.size();
    if (in[i]) {
      set.erase(&cells[i]);
      --count;
    } else {
      set.insert(&cells[i]);
      ++count;
    }
    in[i] = !in[i];
  }
  REQUIRE(set.size() == count);
  std::size_t listed = 0;
  std::size_t wrong = 0;
  set.for_each([&](TaskHeader* t) {
    ++listed;
    wrong += in[static_cast<std::size_t>(t - cells.data())] ? 0 : 1;
  });
  REQUIRE(listed == count);
  REQUIRE(wrong == 0);
  for (std::size_t i = 0; i < cells.size(); ++i) REQUIRE(set.contains(&cells[i]) == in[i]);
}
