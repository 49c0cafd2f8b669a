// Tests for pollscope/detail/local_run_queue.hpp: LocalRunQueue, the lock-free
// bounded run queue of a ThreadPool worker (owner pushes and pops, thieves take the
// oldest half). Single-threaded behaviour first, then races with exact outcomes.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

#include <pollscope/detail/local_run_queue.hpp>

#include "../../support/stress_workload.hpp"

using pollscope::detail::LocalRunQueue;

TEST_CASE("A local run queue pops in push order and is empty afterwards", "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 8> q;
  REQUIRE_FALSE(q.has_tasks());
  for (std::uint32_t i = 1; i <= 5; ++i) REQUIRE(q.try_push(i));
  REQUIRE(q.has_tasks());
  REQUIRE(q.owner_length() == 5);
  std::uint32_t v = 0;
  for (std::uint32_t i = 1; i <= 5; ++i) {
    REQUIRE(q.pop(v));
    REQUIRE(v == i);
  }
  REQUIRE_FALSE(q.pop(v));
  REQUIRE_FALSE(q.has_tasks());
  REQUIRE(q.owner_length() == 0);
}

TEST_CASE("A full local run queue refuses a push, and overflow hands over its oldest half in order",
          "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 8> q;
  for (std::uint32_t i = 0; i < 8; ++i) REQUIRE(q.try_push(i));
  REQUIRE_FALSE(q.try_push(8));
  std::uint32_t out[4] = {};
  REQUIRE(q.take_half_for_overflow(out) == 4);
  REQUIRE(out[0] == 0);
  REQUIRE(out[1] == 1);
  REQUIRE(out[2] == 2);
  REQUIRE(out[3] == 3);
  REQUIRE(q.owner_length() == 4);
  REQUIRE(q.try_push(8));
  std::uint32_t v = 0;
  for (std::uint32_t i = 4; i <= 8; ++i) {
    REQUIRE(q.pop(v));
    REQUIRE(v == i);
  }
  REQUIRE_FALSE(q.pop(v));
}

TEST_CASE("Overflow takes nothing from a queue less than half full", "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 8> q;
  for (std::uint32_t i = 0; i < 3; ++i) REQUIRE(q.try_push(i));
  std::uint32_t out[4] = {};
  REQUIRE(q.take_half_for_overflow(out) == 0);
  REQUIRE(q.owner_length() == 3);
}

TEST_CASE("A steal moves the oldest half, rounded up, in order to the back of the thief's queue",
          "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 8> victim;
  LocalRunQueue<std::uint32_t, 8> thief;
  for (std::uint32_t i = 10; i < 15; ++i) REQUIRE(victim.try_push(i));
  REQUIRE(victim.steal_into(thief) == 3);
  REQUIRE(victim.owner_length() == 2);
  REQUIRE(thief.owner_length() == 3);
  std::uint32_t v = 0;
  for (std::uint32_t expect : {10u, 11u, 12u}) {
    REQUIRE(thief.pop(v));
    REQUIRE(v == expect);
  }
  for (std::uint32_t expect : {13u, 14u}) {
    REQUIRE(victim.pop(v));
    REQUIRE(v == expect);
  }
  REQUIRE(victim.steal_into(thief) == 0);  // empty
}

TEST_CASE("A steal of one task takes it; indexes wrap around 2^32 without losing a task", "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 4> a;
  LocalRunQueue<std::uint32_t, 4> b;
  // Cycle far enough that the indexes of a small ring wrap the slots many times.
  std::uint32_t next = 0;
  std::uint32_t expect = 0;
  std::uint32_t v = 0;
  for (int round = 0; round < 1000; ++round) {
    REQUIRE(a.try_push(next++));
    REQUIRE(a.try_push(next++));
    REQUIRE(a.try_push(next++));
    REQUIRE(a.steal_into(b) == 2);  // 3 - 3/2
    REQUIRE(b.pop(v));
    REQUIRE(v == expect++);
    REQUIRE(b.pop(v));
    REQUIRE(v == expect++);
    REQUIRE(a.pop(v));
    REQUIRE(v == expect++);
  }
  REQUIRE_FALSE(a.has_tasks());
  REQUIRE_FALSE(b.has_tasks());
}

TEST_CASE("drain hands every queued task over, oldest first", "[local_run_queue]") {
  LocalRunQueue<std::uint32_t, 8> q;
  for (std::uint32_t i = 0; i < 6; ++i) REQUIRE(q.try_push(i));
  std::vector<std::uint32_t> got;
  q.drain([&](std::uint32_t v) { got.push_back(v); });
  REQUIRE(got == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5});
  REQUIRE_FALSE(q.has_tasks());
}

#if !(defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__))
#include <thread>

namespace {
/// The owner pushes `total` numbered items (overflowing into `overflow` when full,
/// popping some itself); `thieves` threads steal into their own queues and pop from
/// them. Every item must be taken exactly once.
void race(std::uint32_t total, int thieves) {
  using Q = LocalRunQueue<std::uint32_t, 16>;
  Q owner_queue;
  std::vector<Q> thief_queues(static_cast<std::size_t>(thieves));
  std::vector<std::atomic<std::uint32_t>> seen(total);
  std::atomic<std::uint32_t> taken{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < thieves; ++t) {
    threads.emplace_back([&, t] {
      Q& mine = thief_queues[static_cast<std::size_t>(t)];
      std::uint32_t v = 0;
      for (;;) {
        const bool finished = done.load(std::memory_order_acquire);
        owner_queue.steal_into(mine);
        while (mine.pop(v)) {
          seen[v].fetch_add(1, std::memory_order_relaxed);
          taken.fetch_add(1, std::memory_order_relaxed);
        }
        if (finished && !owner_queue.has_tasks()) break;
      }
    });
  }
  std::uint32_t overflow[8];
  std::uint32_t v = 0;
  auto take = [&](std::uint32_t x) {
    seen[x].fetch_add(1, std::memory_order_relaxed);
    taken.fetch_add(1, std::memory_order_relaxed);
  };
  for (std::uint32_t i = 0; i < total; ++i) {
    if (!owner_queue.try_push(i)) {
      const std::uint32_t n = owner_queue.take_half_for_overflow(overflow);
      for (std::uint32_t k = 0; k < n; ++k) take(overflow[k]);
      if (!owner_queue.try_push(i)) take(i);  // a thief is mid-steal: "elsewhere"
    }
    if (i % 3 == 0 && owner_queue.pop(v)) take(v);
  }
  while (owner_queue.pop(v)) take(v);
  done.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();
  REQUIRE(taken.load() == total);
  std::uint32_t wrong = 0;
  for (auto& s : seen) wrong += s.load() != 1 ? 1 : 0;
  REQUIRE(wrong == 0);
}
}  // namespace

TEST_CASE("Race: an owner pushing, popping and overflowing against one thief takes every item exactly once",
          "[local_run_queue][threads]") {
  const int rounds = 200 / static_cast<int>(pollscope_test::stress_scale());
  for (int r = 0; r < rounds; ++r) race(5000, 1);
}

TEST_CASE("Race: an owner against three thieves takes every item exactly once", "[local_run_queue][threads]") {
  const int rounds = 100 / static_cast<int>(pollscope_test::stress_scale());
  for (int r = 0; r < rounds; ++r) race(5000, 3);
}
#endif
