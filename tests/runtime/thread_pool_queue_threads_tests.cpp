// Tests for pollscope/thread_pool.hpp without a tracer: such a pool runs its workers'
// lock-free local queues (detail/local_run_queue.hpp), with overflow into the
// injection queue and steals of half a queue. (A traced pool keeps the locked
// queues; thread_pool_threads_tests.cpp pins those traces.) Round counts shrink with
// POLLSCOPE_STRESS_SCALE.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <pollscope/async.hpp>
#include <pollscope/blocking.hpp>
#include <pollscope/thread_pool.hpp>
#include <pollscope/yield_now.hpp>

#include "../support/counted.hpp"
#include "../support/executor_helpers.hpp"
#include "../support/stress_workload.hpp"

using namespace std::chrono_literals;
using pollscope::Async;
using pollscope::JoinHandle;
using pollscope::TaskAborted;
using pollscope::ThreadPool;

namespace {

int rounds(int n) { return std::max(1, n / static_cast<int>(pollscope_test::stress_scale())); }

Async<std::uint64_t> index_of(std::uint64_t i) { co_return i; }

/// Spawns `n` children from a task (far more than a local queue holds: the queue
/// overflows into the injection queue, the other workers steal), joins them in order.
Async<std::uint64_t> spawn_and_sum(ThreadPool& pool, std::uint64_t n) {
  std::vector<JoinHandle<std::uint64_t>> handles;
  handles.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(pool.spawn(index_of(i)));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  co_return sum;
}

Async<std::uint64_t> chain(ThreadPool& pool, std::uint64_t depth) {
  if (depth == 0) co_return 0;
  co_return co_await pool.spawn(chain(pool, depth - 1)) + 1;
}

Async<std::uint64_t> yield_forever(std::atomic<std::uint64_t>& polls) {
  for (;;) {
    polls.fetch_add(1, std::memory_order_relaxed);
    co_await pollscope::yield_now();
  }
}

Async<int> block_then(std::chrono::milliseconds d, int value) {
  pollscope::blocking_call(d);
  co_return value;
}

/// Spawns `children` tasks, says so, then blocks its worker until the test releases
/// `hold`.
Async<std::uint64_t> spawn_then_hold(ThreadPool& pool, std::uint64_t children,
                                     std::vector<JoinHandle<std::uint64_t>>& out, pollscope_test::HeldBlocking& hold,
                                     std::atomic<bool>& spawned) {
  for (std::uint64_t i = 0; i < children; ++i) out.push_back(pool.spawn(index_of(i)));
  spawned.store(true);
  hold.block();
  co_return children;
}

}  // namespace

TEST_CASE("Untraced ThreadPool(2): 10,000 children spawned by one task, overflowing its queue, all come back once",
          "[thread_pool][thread_pool_queue]") {
  ThreadPool pool(2);
  const std::uint64_t n = 10'000;
  for (int r = 0; r < rounds(20); ++r) {
    REQUIRE(pool.spawn(spawn_and_sum(pool, n)).join() == n * (n - 1) / 2);
  }
  const pollscope::RunReport report = pool.wait();
  REQUIRE(report.status == pollscope::RunStatus::completed);
  // Each child is polled once, the root twice or more (it waits for unfinished children).
  REQUIRE(report.polls >= static_cast<std::uint64_t>(rounds(20)) * (n + 1));
}

TEST_CASE("Untraced ThreadPool(4): children of many spawning tasks at once all come back once",
          "[thread_pool][thread_pool_queue]") {
  ThreadPool pool(4);
  const std::uint64_t n = 2'000;
  for (int r = 0; r < rounds(10); ++r) {
    std::vector<JoinHandle<std::uint64_t>> roots;
    for (int k = 0; k < 8; ++k) roots.push_back(pool.spawn(spawn_and_sum(pool, n)));
    for (auto& h : roots) REQUIRE(h.join() == n * (n - 1) / 2);
  }
}

TEST_CASE("Untraced ThreadPool(2): chained spawns 2,000 deep return the depth", "[thread_pool][thread_pool_queue]") {
  ThreadPool pool(2);
  for (int r = 0; r < rounds(20); ++r) REQUIRE(pool.spawn(chain(pool, 2'000)).join() == 2'000);
}

TEST_CASE("Untraced ThreadPool: a wake during a poll causes exactly one more poll",
          "[thread_pool][thread_pool_queue]") {
  for (int r = 0; r < rounds(200); ++r) {
    ThreadPool pool(3);
    JoinHandle<int> h = pool.spawn(pollscope_test::WakesItself(5));
    REQUIRE(h.join() == 2);
    REQUIRE(pool.wait().polls == 2);
  }
}

TEST_CASE("Untraced ThreadPool(2): a worker stuck in a blocking call has its queued tasks stolen",
          "[thread_pool][thread_pool_queue]") {
  ThreadPool pool(2);
  std::vector<JoinHandle<std::uint64_t>> children;
  std::atomic<bool> spawned{false};
  pollscope_test::HeldBlocking hold;
  JoinHandle<std::uint64_t> root = pool.spawn(spawn_then_hold(pool, 8, children, hold, spawned));
  while (!spawned.load()) std::this_thread::sleep_for(100us);
  // The root blocks its worker until every child finished, so only the other
  // worker, by stealing, can have run them. (A fixed 300 ms block could end first
  // on a slow machine; the blocked worker would then run its queue itself.)
  const pollscope_test::HeldRootOutcome seen = pollscope_test::release_after_children(children, root, hold);
  REQUIRE(seen.children_finished);
  REQUIRE(seen.root_still_blocked);
  std::uint64_t sum = 0;
  for (auto& c : children) sum += c.join();
  REQUIRE(sum == 28);
  REQUIRE(root.join() == 8);
}

TEST_CASE("Untraced ThreadPool: destroying it with tasks in the lock-free queues destroys each future once",
          "[thread_pool][thread_pool_queue]") {
  for (int r = 0; r < rounds(20); ++r) {
    pollscope_test::LifeCounts counts;
    std::atomic<std::uint64_t> polls{0};
    std::vector<JoinHandle<std::uint64_t>> handles;
    {
      ThreadPool pool(2);
      // 600 tasks that yield forever: more than a local queue holds, so some sit in
      // the injection queue, some in the local queues, one in a LIFO slot.
      auto spawner = [&]() -> Async<int> {
        for (int i = 0; i < 600; ++i) handles.push_back(pool.spawn(pollscope_test::carrying(yield_forever(polls), counts)));
        co_return 0;
      };
      REQUIRE(pool.spawn(spawner()).join() == 0);
      while (polls.load() < 2'000) std::this_thread::sleep_for(100us);
    }
    REQUIRE(counts.made() == 600);
    REQUIRE(counts.drops() == 600);
    for (auto& h : handles) REQUIRE_THROWS_AS(h.join(), TaskAborted);
  }
}

TEST_CASE("Untraced ThreadPool: aborting tasks while they sit in the queues destroys each future once",
          "[thread_pool][thread_pool_queue]") {
  for (int r = 0; r < rounds(20); ++r) {
    pollscope_test::LifeCounts counts;
    ThreadPool pool(2);
    std::vector<JoinHandle<int>> handles;
    std::atomic<bool> spawned{false};
    // The spawner blocks its worker after spawning, so most children are still
    // queued (or being stolen) when they are aborted.
    auto spawner = [&]() -> Async<int> {
      for (int i = 0; i < 300; ++i) handles.push_back(pool.spawn(pollscope_test::carrying(block_then(0ms, i), counts)));
      spawned.store(true);
      pollscope::blocking_call(20ms);
      co_return 0;
    };
    JoinHandle<int> root = pool.spawn(spawner());
    while (!spawned.load()) std::this_thread::sleep_for(50us);
    for (auto& h : handles) h.abort();
    REQUIRE(root.join() == 0);
    int finished = 0;
    int aborted = 0;
    int wrong = 0;
    for (std::size_t i = 0; i < handles.size(); ++i) {
      try {
        wrong += handles[i].join() == static_cast<int>(i) ? 0 : 1;
        ++finished;
      } catch (const TaskAborted&) {
        ++aborted;
      }
    }
    REQUIRE(wrong == 0);
    REQUIRE(finished + aborted == 300);
    REQUIRE(pool.wait().status == pollscope::RunStatus::completed);
    REQUIRE(counts.made() == 300);
    REQUIRE(counts.drops() == 300);
  }
}

#endif  // threads available
