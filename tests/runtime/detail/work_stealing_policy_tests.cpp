// Tests for pollscope/detail/work_stealing_policy.hpp: the scheduling policy shared
// by ThreadPool and SimulatedPool, driven by hand (single-threaded instantiation),
// and SplitMix64, whose sequence every build must reproduce.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <pollscope/detail/task.hpp>
#include <pollscope/detail/work_stealing_policy.hpp>

using pollscope::kInjectionQueue;
using pollscope::local_queue_of;
using pollscope::detail::SingleThreadedSync;
using pollscope::detail::SplitMix64;
using pollscope::detail::TaskHeader;
using Policy = pollscope::detail::WorkStealingPolicy<SingleThreadedSync>;

namespace {

/// Plain task headers: the policy only moves pointers around.
struct Tasks {
  std::array<TaskHeader, 16> cells;
  TaskHeader* operator[](std::size_t i) { return &cells[i]; }
  std::size_t index(const TaskHeader* t) const { return static_cast<std::size_t>(t - cells.data()); }
};

auto ignore_push = [](std::uint64_t, std::uint64_t) {};

/// Pops from worker `w` at `tick`, returning (task index, queue) or nothing.
std::optional<std::pair<std::size_t, std::uint64_t>> pop(Policy& p, Tasks& tasks, std::uint32_t w,
                                                         std::uint64_t tick) {
  std::uint64_t from = 99;
  TaskHeader* t = p.pop(w, tick, [&](TaskHeader*, std::uint64_t queue, std::uint64_t) {
    from = queue;
    return true;
  });
  if (t == nullptr) return std::nullopt;
  return std::pair{tasks.index(t), from};
}

}  // namespace

TEST_CASE("SplitMix64 produces the reference sequence and an unbiased-enough range reduction",
          "[work_stealing_policy]") {
  SplitMix64 rng(0);
  REQUIRE(rng.next() == 0xE220A8397B1DCDAFull);
  REQUIRE(rng.next() == 0x6E789E6AA1B965F4ull);
  REQUIRE(rng.next() == 0x06C45D188009454Full);
  SplitMix64 r(42);
  std::array<int, 3> hits{};
  for (int i = 0; i < 3000; ++i) ++hits[r.below(3)];
  for (int h : hits) REQUIRE((h > 900 && h < 1100));
}

TEST_CASE("A worker takes its own queue first, but the injection queue first every 61st tick",
          "[work_stealing_policy]") {
  Tasks tasks;
  Policy p(2);
  p.push_local(0, tasks[0], ignore_push);
  p.push_local(0, tasks[1], ignore_push);
  REQUIRE(p.push_injection(tasks[2], ignore_push));
  REQUIRE(pop(p, tasks, 0, 1) == std::pair<std::size_t, std::uint64_t>{0, local_queue_of(0)});
  REQUIRE(pop(p, tasks, 0, 61) == std::pair<std::size_t, std::uint64_t>{2, kInjectionQueue});
  REQUIRE(pop(p, tasks, 0, 62) == std::pair<std::size_t, std::uint64_t>{1, local_queue_of(0)});
  REQUIRE_FALSE(pop(p, tasks, 0, 63));
  // An empty local queue falls back to the injection queue.
  REQUIRE(p.push_injection(tasks[3], ignore_push));
  REQUIRE(pop(p, tasks, 1, 5) == std::pair<std::size_t, std::uint64_t>{3, kInjectionQueue});
}

TEST_CASE("Stealing moves the oldest half (rounded up) of the first non-empty victim, in order",
          "[work_stealing_policy]") {
  Tasks tasks;
  Policy p(3);
  for (std::size_t i = 0; i < 5; ++i) p.push_local(1, tasks[i], ignore_push);
  p.push_local(2, tasks[5], ignore_push);
  std::uint32_t victim = 99;
  const std::uint64_t n = p.steal(0, 1, [&](std::uint32_t v, std::uint64_t count) {
    victim = v;
    REQUIRE(count == 3);
  });
  REQUIRE(n == 3);
  REQUIRE(victim == 1);
  REQUIRE(p.local_length(0) == 3);
  REQUIRE(p.local_length(1) == 2);
  for (std::size_t expected : {0u, 1u, 2u}) REQUIRE(pop(p, tasks, 0, 1)->first == expected);
  REQUIRE(pop(p, tasks, 1, 1)->first == 3);
  // Starting at worker 2 this time; the thief never steals from itself.
  REQUIRE(p.steal(1, 2, [](std::uint32_t v, std::uint64_t) { REQUIRE(v == 2); }) == 1);
  REQUIRE(p.steal(2, 2, [](std::uint32_t v, std::uint64_t) { REQUIRE(v == 1); }) == 1);  // half of {4, 5}
}

TEST_CASE("At most half the awake workers search; new work notifies a parked worker only when none searches",
          "[work_stealing_policy]") {
  Policy p(4);
  REQUIRE(p.start_searching());
  REQUIRE(p.start_searching());
  REQUIRE_FALSE(p.start_searching());  // 2 of 4 search already
  REQUIRE(p.searching() == 2);

  // Two workers announce their park (one of them was searching).
  REQUIRE_FALSE(p.announce_park(3, false));
  REQUIRE_FALSE(p.announce_park(2, true));
  REQUIRE(p.parked() == 2);
  REQUIRE(p.searching() == 1);
  REQUIRE_FALSE(p.worker_to_notify());  // someone searches: it will find the work

  REQUIRE(p.stop_searching());  // it was the last searcher
  REQUIRE(p.searching() == 0);
  const std::optional<std::uint32_t> w = p.worker_to_notify();
  REQUIRE(w == 2u);  // the most recently parked
  REQUIRE(p.searching() == 1);  // the notified worker counts as searching
  REQUIRE(p.parked() == 1);
  REQUIRE_FALSE(p.cancel_park(2));  // already taken out by the notifier
  REQUIRE(p.cancel_park(3));        // still parked: taken out, now searching
  REQUIRE(p.searching() == 2);
  REQUIRE(p.parked() == 0);
}

TEST_CASE("announce_park says when every worker is parked; close_and_drain refuses further injections",
          "[work_stealing_policy]") {
  Tasks tasks;
  Policy p(2);
  REQUIRE_FALSE(p.announce_park(0, false));
  REQUIRE(p.announce_park(1, false));
  REQUIRE_FALSE(p.has_work());
  p.push_local(1, tasks[0], ignore_push);
  REQUIRE(p.push_injection(tasks[1], ignore_push));
  REQUIRE(p.has_work());
  const std::vector<TaskHeader*> drained = p.close_and_drain();
  REQUIRE(drained.size() == 2);
  REQUIRE_FALSE(p.push_injection(tasks[2], ignore_push));
  REQUIRE_FALSE(p.has_work());
}
