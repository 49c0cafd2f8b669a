// Embind bindings of the pollscope engine: the one module the page talks to.
//
// Built twice from this file (see wasm/CMakeLists.txt): a single-threaded build
// and a -pthread build with the same API. Everything crosses the boundary as JSON
// strings (field names documented in engine/json.hpp), so the JS side needs no
// Embind value types and the page's contract is the same as the CLI's --format json.
//
// Ranges of the arguments (JS numbers):
//   load(text, maxEvents)   text: any string (the engine validates it: <= 16 KiB,
//                           line/column errors); maxEvents: 0 (use the scenario's
//                           max_events) or 1..1,000,000
//   events(from, to)        0 <= from <= to <= eventCount(); at most 5,000 per call
//   snapshot(step)          0..eventCount()
#include <emscripten/bind.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pollscope/detail/scenario_json.hpp"
#include "pollscope/engine/engine.hpp"
#include "pollscope/engine/json.hpp"
#include "pollscope/scenario.hpp"

namespace {

namespace engine = pollscope::engine;
namespace scenario = pollscope::scenario;

/// Whether this build can run `threads real`.
constexpr bool kThreadsBuild =
#ifdef __EMSCRIPTEN_PTHREADS__
    true;
#else
    false;
#endif

#ifdef __EMSCRIPTEN_PTHREADS__
#ifndef POLLSCOPE_THREAD_WORKERS
#error "the pthread build needs -DPOLLSCOPE_THREAD_WORKERS=N (scripts/web-engine.sh)"
#endif
/// Web Workers for real threads, made by the engine's worker before a `threads real`
/// run. A worker whose thread ended only returns to the pool once the engine's worker
/// is back in its event loop, i.e. after the run, so a run starts at most this many
/// threads; past them a thread fails to start (-sPTHREAD_POOL_SIZE_STRICT=2). One is
/// kept for the runtime's timer thread. The scenario's validation refuses a run that
/// would start more than scenario::limits::real_threads (spawns that repeat included).
constexpr std::uint64_t kThreadWorkers = POLLSCOPE_THREAD_WORKERS;
constexpr std::uint64_t kTaskThreads = kThreadWorkers - 1;
static_assert(kTaskThreads >= static_cast<std::uint64_t>(scenario::limits::real_threads),
              "the workers must hold every thread the scenario limits allow, and the timer thread");
#endif

/// Events handed over per call: keeps one message small and the worker responsive.
constexpr double kMaxEventsPerCall = 5000;

std::uint64_t clamp_index(double value, std::uint64_t limit) {
  if (!(value > 0)) return 0;  // also NaN
  const double floored = std::floor(value);
  return floored >= static_cast<double>(limit) ? limit : static_cast<std::uint64_t>(floored);
}

class EngineBinding {
 public:
  std::string load(const std::string& text, double max_events) {
    engine::LoadOptions options;
    options.real_threads_available = kThreadsBuild;
    options.max_events = clamp_index(max_events, scenario::limits::max_events);
    return engine::diagnostics_json(engine_.load(text, options));
  }
  double event_count() const { return static_cast<double>(engine_.event_count()); }
  std::string events(double from, double to) const {
    const std::uint64_t count = engine_.event_count();
    const std::uint64_t first = clamp_index(from, count);
    const std::uint64_t last = clamp_index(std::min(to, static_cast<double>(first) + kMaxEventsPerCall), count);
    return engine::events_json(engine_, first, std::max(first, last));
  }
  std::string snapshot(double step) const {
    return engine::snapshot_json(engine_, clamp_index(step, engine_.event_count()));
  }
  std::string status() const { return engine::status_json(engine_); }
  /// The index of the first event at or after `from` (before it when `backward`)
  /// whose kind is listed in `kinds` (comma-separated names, empty: any) and whose
  /// task is `task` (0: any); -1 when there is none. Scans the packed events
  /// directly: searching a million events takes milliseconds, not a JSON round trip each.
  double find(double from, const std::string& kinds, double task, bool backward) const {
    const std::uint64_t count = engine_.event_count();
    if (count == 0) return -1;
    std::string wanted = "," + kinds + ",";
    const auto task_id = static_cast<std::uint32_t>(clamp_index(task, 0xFFFFFFFFu));
    const auto& events = engine_.store().events();
    auto matches = [&](const engine::PackedEvent& e) {
      if (task_id != 0 && e.task != task_id) return false;
      if (kinds.empty()) return true;
      return wanted.find("," + std::string(pollscope::to_string(e.kind)) + ",") != std::string::npos;
    };
    std::uint64_t i = clamp_index(from, count - 1);
    if (backward) {
      for (;; --i) {
        if (matches(events[static_cast<std::size_t>(i)])) return static_cast<double>(i);
        if (i == 0) return -1;
      }
    }
    for (; i < count; ++i) {
      if (matches(events[static_cast<std::size_t>(i)])) return static_cast<double>(i);
    }
    return -1;
  }
  std::string run_json() const { return engine::run_json(engine_); }
  /// The loaded scenario in its JSON form (the page's form editor).
  std::string scenario_json() const { return engine_.loaded() ? scenario::to_json(engine_.scenario()) : "null"; }

 private:
  engine::Engine engine_;
};

/// `object` (a JSON object, as diagnostics_json writes it) with `"key": value`
/// appended. Spliced as text: parsing it back with nlohmann would put a second JSON
/// parser (ordered_json's, ~25 KB of wasm) into the build for one extra field.
std::string with_field(std::string object, std::string_view key, std::string_view value) {
  object.pop_back();  // '}'
  if (object.size() > 1) object += ',';
  object += '"';
  object += key;
  object += "\":";
  object += value;
  object += '}';
  return object;
}

/// {ok, errors, warnings, text}: JSON form -> canonical text (the form editor's edits).
std::string text_from_json(const std::string& json) {
  const scenario::ParseResult result = scenario::from_json(json);
  return with_field(engine::diagnostics_json(result), "text",
                    result.ok() ? nlohmann::ordered_json(scenario::to_text(*result.scenario)).dump() : "null");
}

/// {ok, errors, warnings, scenario}: text -> JSON form.
std::string json_from_text(const std::string& text) {
  const scenario::ParseResult result = scenario::parse(text);
  return with_field(engine::diagnostics_json(result), "scenario",
                    result.ok() ? scenario::detail::to_json_value(*result.scenario).dump() : "null");
}

std::string format_help() { return std::string(scenario::format_help); }
bool threads_build() { return kThreadsBuild; }
#ifdef __EMSCRIPTEN_PTHREADS__
double thread_workers() { return static_cast<double>(kThreadWorkers); }
#endif

}  // namespace

EMSCRIPTEN_BINDINGS(pollscope_engine) {
  emscripten::class_<EngineBinding>("Engine")
      .constructor<>()
      .function("load", &EngineBinding::load)
      .function("eventCount", &EngineBinding::event_count)
      .function("events", &EngineBinding::events)
      .function("snapshot", &EngineBinding::snapshot)
      .function("status", &EngineBinding::status)
      .function("find", &EngineBinding::find)
      .function("runJson", &EngineBinding::run_json)
      .function("scenarioJson", &EngineBinding::scenario_json);
  emscripten::function("jsonFromText", &json_from_text);
  emscripten::function("textFromJson", &text_from_json);
  emscripten::function("formatHelp", &format_help);
  emscripten::function("threadsBuild", &threads_build);
#ifdef __EMSCRIPTEN_PTHREADS__
  emscripten::function("threadWorkers", &thread_workers);
#endif
}
