// Tests for pollscope/engine/engine.hpp with `threads real`: the engine running a
// scenario on the real ThreadPool. Real threads interleave differently on every
// run, so these tests assert what holds for every interleaving.
//
// The single-threaded wasm build (Emscripten without -pthread) has no threads, so
// this whole file compiles to nothing there.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
// No threads: nothing to test here.
#else

#include <catch2/catch.hpp>

#include <string>

#include "pollscope/engine/engine.hpp"

using namespace pollscope;
using namespace pollscope::engine;

TEST_CASE("captions on the real ThreadPool explain its LIFO slot, and the injection queue stays first in first out") {
  Engine engine;
  const auto result = engine.load(
      "executor thread_pool\nclock real\nthreads real\nworkers 2\n\ntask main\n  spawn a\n  join a\n\ntask a\n  "
      "count 2\n",
      LoadOptions{true, 0});
  REQUIRE(result.ok());
  REQUIRE(engine.outcome().status == EndStatus::completed);

  bool saw_worker_enqueue = false;
  bool saw_injection_enqueue = false;
  for (std::uint64_t i = 0; i < engine.event_count(); ++i) {
    const Event e = engine.event(i);
    if (e.kind != EventKind::enqueue) continue;
    const std::string caption = engine.caption(i + 1);
    const std::string name = engine.task_name(static_cast<std::uint32_t>(e.task));
    if (e.other == kInjectionQueue) {
      saw_injection_enqueue = true;
      CHECK(caption == name + " joins the back of the injection queue (" + std::to_string(e.value) +
                           " queued); it is polled when it reaches the front.");
    } else {
      saw_worker_enqueue = true;
      CHECK(caption == name + " joins worker " + std::to_string(e.other - 1) + "'s queue (" +
                           std::to_string(e.value) +
                           " queued): into the worker's LIFO slot, to run next, if the task being polled made it "
                           "runnable; else at the back.");
    }
  }
  // main comes from outside the pool (injection queue); a is spawned by main on a worker.
  CHECK(saw_injection_enqueue);
  CHECK(saw_worker_enqueue);
}

#endif
