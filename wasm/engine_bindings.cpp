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
#include <optional>
#include <string>
#include <vector>

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
/// kept for the runtime's timer thread.
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

#ifdef __EMSCRIPTEN_PTHREADS__
/// `threads real` with `thread_per_task` starts a thread at every spawn it runs. The
/// parser allows 16 threads (the root and 15 spawned tasks), but a spawn inside a task
/// that is called several times (or that calls or spawns itself again through others)
/// runs more than once. Counts the threads a run may start; past the workers, the
/// diagnostic that refuses it.
std::optional<scenario::Diagnostic> too_many_threads(const scenario::Scenario& sc) {
  if (sc.settings.executor != scenario::ExecutorKind::thread_per_task ||
      sc.settings.threads != scenario::ThreadsKind::real) {
    return std::nullopt;
  }
  using scenario::OpKind;
  constexpr std::uint64_t kEndless = 1ull << 40;  // saturates long before overflow
  const std::size_t n = sc.tasks.size();
  const auto starts = [](const scenario::Op& op) { return op.kind == OpKind::spawn || op.kind == OpKind::call; };

  // Tasks that run at all (from the root through spawn and call).
  std::vector<bool> runs_at_all(n, false);
  std::vector<int> todo{0};
  runs_at_all[0] = true;
  while (!todo.empty()) {
    const scenario::Task& task = sc.tasks[static_cast<std::size_t>(todo.back())];
    todo.pop_back();
    for (const scenario::Op& op : task.ops) {
      const int target = starts(op) ? sc.task_index(op.target) : -1;
      if (target < 0 || runs_at_all[static_cast<std::size_t>(target)]) continue;
      runs_at_all[static_cast<std::size_t>(target)] = true;
      todo.push_back(target);
    }
  }
  // How often each task's function runs: the sum over the spawns and calls of it in
  // tasks that run. A cycle among running tasks repeats without end.
  std::vector<std::uint64_t> runs(n, 0);
  std::vector<int> state(n, 0);  // 0 not counted, 1 counting, 2 counted
  const auto count = [&](const auto& self, std::size_t t) -> std::uint64_t {
    if (state[t] == 2) return runs[t];
    if (state[t] == 1) return kEndless;
    state[t] = 1;
    std::uint64_t total = t == 0 ? 1 : 0;
    for (std::size_t c = 0; c < n; ++c) {
      if (!runs_at_all[c]) continue;
      for (const scenario::Op& op : sc.tasks[c].ops) {
        if (starts(op) && sc.task_index(op.target) == static_cast<int>(t)) total = std::min(kEndless, total + self(self, c));
      }
    }
    state[t] = 2;
    return runs[t] = total;
  };
  std::uint64_t threads = 1;  // the root's
  const scenario::Op* worst = nullptr;
  std::size_t worst_task = 0;
  for (std::size_t t = 0; t < n; ++t) {
    if (!runs_at_all[t]) continue;
    const std::uint64_t times = count(count, t);
    for (const scenario::Op& op : sc.tasks[t].ops) {
      if (op.kind != OpKind::spawn) continue;
      threads = std::min(kEndless, threads + times);
      if (times > 1 && (worst == nullptr || times > runs[worst_task])) {
        worst = &op;
        worst_task = t;
      }
    }
  }
  if (threads <= kTaskThreads || worst == nullptr) return std::nullopt;
  const std::string& name = sc.tasks[worst_task].name;
  const std::string limit = std::to_string(kTaskThreads);
  std::string message = "threads real with executor thread_per_task starts a real thread at every spawn: this one ";
  if (runs[worst_task] >= kEndless) {
    message += "repeats without end, as task \"" + name + "\" is started again by the tasks it starts; the limit is " +
               limit + " threads";
  } else {
    message += "runs " + std::to_string(runs[worst_task]) + " times, as task \"" + name + "\" runs " +
               std::to_string(runs[worst_task]) + " times, so the run starts " + std::to_string(threads) +
               " threads; the limit is " + limit;
  }
  return scenario::Diagnostic{scenario::Severity::error, worst->line, worst->column, std::move(message),
                              "the browser runs each real thread in a Web Worker of a fixed pool; spawn fewer tasks, "
                              "use \"executor thread_pool\", or use \"threads simulated\""};
}
#endif

class EngineBinding {
 public:
  std::string load(const std::string& text, double max_events) {
#ifdef __EMSCRIPTEN_PTHREADS__
    scenario::ParseResult parsed = scenario::parse(text);
    if (parsed.ok()) {
      if (std::optional<scenario::Diagnostic> refused = too_many_threads(*parsed.scenario)) {
        // Refused before it runs: the previous run stays loaded, as for any error.
        parsed.diagnostics.push_back(std::move(*refused));
        parsed.scenario.reset();
        return engine::diagnostics_json(parsed);
      }
    }
#endif
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

/// {ok, errors, warnings, text}: JSON form -> canonical text (the form editor's edits).
std::string text_from_json(const std::string& json) {
  const scenario::ParseResult result = scenario::from_json(json);
  nlohmann::ordered_json out = nlohmann::ordered_json::parse(engine::diagnostics_json(result));
  out["text"] = result.ok() ? nlohmann::ordered_json(scenario::to_text(*result.scenario)) : nullptr;
  return out.dump();
}

/// {ok, errors, warnings, scenario}: text -> JSON form.
std::string json_from_text(const std::string& text) {
  const scenario::ParseResult result = scenario::parse(text);
  nlohmann::ordered_json out = nlohmann::ordered_json::parse(engine::diagnostics_json(result));
  out["scenario"] = result.ok() ? nlohmann::ordered_json::parse(scenario::to_json(*result.scenario)) : nullptr;
  return out.dump();
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
