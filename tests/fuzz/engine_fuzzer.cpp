// libFuzzer target: engine::Engine::load of arbitrary scenario text, with a small
// event budget (LoadOptions::max_events = 2000), then the queries the page makes:
// snapshot(0), snapshot(n/2), snapshot(n), describe and caption of a few steps.
//
// Inputs whose scenario runs on the real clock (`clock real`) are skipped: a
// `sleep 1h` would really sleep for an hour. `threads real` needs the real clock and
// is rejected by load (real_threads_available = false), so nothing here starts threads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "pollscope/engine/engine.hpp"
#include "pollscope/scenario.hpp"

namespace sc = pollscope::scenario;
namespace en = pollscope::engine;
using pollscope::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    const sc::ParseResult pre = sc::parse(text);
    if (pre.ok() && pre.scenario->settings.clock == sc::ClockKind::real_time) return 0;
  }
  en::LoadOptions options;
  options.max_events = 2000;
  en::Engine engine;
  const sc::ParseResult result = engine.load(text, options);
  if (!result.ok()) {
    check(!engine.loaded(), "a failed load left a run loaded");
    return 0;
  }
  check(engine.loaded(), "a successful load has no run");
  const std::uint64_t n = engine.event_count();
  check(n <= 2000, "the run recorded more events than max_events");

  const en::Snapshot first = engine.snapshot(0);
  const en::Snapshot middle = engine.snapshot(n / 2);
  const en::Snapshot last = engine.snapshot(n);
  (void)first;
  (void)middle;
  (void)last;
  (void)engine.outcome().summary.size();

  const std::uint64_t steps[] = {0, 1, n / 3, n / 2, n > 0 ? n - 1 : 0, n};
  for (const std::uint64_t step : steps) {
    if (step < n) check(!engine.describe(step).empty(), "describe gave an empty line");
    check(!engine.caption(step).empty(), "caption gave an empty sentence");
  }
  // Going backwards after forwards must give the same snapshot as before.
  check(engine.snapshot(n / 2) == middle, "snapshot(n/2) differs when taken again after snapshot(n)");
  return 0;
}
