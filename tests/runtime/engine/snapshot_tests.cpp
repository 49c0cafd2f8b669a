#include <catch2/catch.hpp>

#include "pollscope/engine/engine.hpp"
#include "pollscope/engine/snapshot.hpp"

using namespace pollscope;
using namespace pollscope::engine;

TEST_CASE("snapshots rebuilt from checkpoints equal snapshots folded from the start") {
  Engine engine;
  REQUIRE(engine.load(R"(executor local
channel ping
channel pong

task main
  spawn server
  send ping 1
  recv pong
  sleep 1ms
  send ping 2
  recv pong
  join server

task server
  recv ping
  send pong 10
  yield 3
  recv ping
  send pong 20
)")
              .ok());
  const TraceStore& store = engine.store();
  const SnapshotIndex every_step(store, 1);
  const SnapshotIndex sparse(store, 7);
  for (std::uint64_t step = 0; step <= store.events().size(); ++step) {
    INFO("step " << step);
    CHECK(every_step.at(step) == sparse.at(step));
    CHECK(engine.snapshot(step) == sparse.at(step));
  }
}

TEST_CASE("a snapshot past the last step is the last step") {
  Engine engine;
  REQUIRE(engine.load("task main\n  count 2\n").ok());
  const std::uint64_t n = engine.event_count();
  CHECK(engine.snapshot(n + 100) == engine.snapshot(n));
  CHECK(engine.snapshot(n + 100).step == n);
}

TEST_CASE("task and thread states have readable names") {
  CHECK(std::string(to_string(TaskState::not_started)) == "not started");
  CHECK(std::string(to_string(TaskState::waiting)) == "waiting");
  CHECK(std::string(to_string(ThreadState::searching)) == "searching");
  CHECK(std::string(to_string(ThreadState::blocked)) == "blocked");
}

TEST_CASE("a steal moves the oldest tasks of the victim's queue to the back of the thief's") {
  TraceStore store(100);
  auto record = [&](EventKind kind, std::uint32_t task, std::uint64_t other, std::uint32_t thread,
                    std::uint64_t value = 0) {
    Event e;
    e.kind = kind;
    e.task = task;
    e.other = other;
    e.thread = thread;
    e.value = value;
    store.record(e);
  };
  for (std::uint32_t id = 1; id <= 4; ++id) {
    store.name_task(id, 0);
    record(EventKind::enqueue, id, local_queue_of(0), 0);
  }
  record(EventKind::enqueue, 5, local_queue_of(1), 1);
  record(EventKind::steal, 0, 0, 1, 2);
  const SnapshotIndex index(store, 4);
  const Snapshot s = index.at(6);
  REQUIRE(s.queues.size() == 3u);
  CHECK(s.queues[local_queue_of(0)] == std::vector<std::uint32_t>{3, 4});
  CHECK(s.queues[local_queue_of(1)] == std::vector<std::uint32_t>{5, 1, 2});
}
