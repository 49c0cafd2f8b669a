#include <catch2/catch.hpp>

#include "pollscope/engine/trace_store.hpp"

using namespace pollscope;
using namespace pollscope::engine;

TEST_CASE("the trace store packs every field of an event and unpacks it unchanged") {
  TraceStore store(10);
  Event e;
  e.time = std::chrono::nanoseconds(5);
  e.thread = 2;
  e.task = 3;
  e.kind = EventKind::timer_register;
  e.source = WakeSource::timer;
  e.other = 4;
  e.value = 6;
  e.deadline = std::chrono::nanoseconds(7);
  store.record(e);
  REQUIRE(store.events().size() == 1u);
  e.seq = 0;
  CHECK(unpack(store.events()[0], 0) == e);
}

TEST_CASE("the trace store drops events past its budget and says so") {
  TraceStore store(2);
  Event e;
  store.record(e);
  store.record(e);
  CHECK_FALSE(store.truncated());
  store.record(e);
  CHECK(store.truncated());
  CHECK(store.events().size() == 2u);
  store.mark(1, 0, 0, 3);
  CHECK(store.marks().empty());
}

TEST_CASE("line marks apply from the step at which they were recorded") {
  TraceStore store(10);
  store.mark(1, 0, 0, 3);
  store.record(Event{});
  store.mark(1, 1, 2, 9);
  REQUIRE(store.marks().size() == 2u);
  CHECK(store.marks()[0] == LineMark{0, 1, 0, 0, 3});
  CHECK(store.marks()[1] == LineMark{1, 1, 1, 2, 9});
}

TEST_CASE("task_error messages are kept by step") {
  TraceStore store(10);
  store.record(Event{});
  Event error;
  error.kind = EventKind::task_error;
  error.message = "boom";
  store.record(error);
  REQUIRE(store.messages().size() == 1u);
  CHECK(store.messages().at(1) == "boom");
}

TEST_CASE("a task_error with an empty message is kept too, other events without one are not") {
  TraceStore store(10);
  Event error;
  error.kind = EventKind::task_error;
  store.record(error);
  store.record(Event{});
  REQUIRE(store.messages().size() == 1u);
  CHECK(store.messages().at(0).empty());
}

TEST_CASE("task functions are indexed by runtime task id") {
  TraceStore store(10);
  store.name_task(3, 1);
  store.name_task(1, 0);
  CHECK(store.task_functions() == std::vector<int>{-1, 0, -1, 1});
}
