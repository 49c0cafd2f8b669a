#include "pollscope/engine/json.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pollscope/detail/scenario_json.hpp"

namespace pollscope::engine {

using Json = nlohmann::ordered_json;

namespace {

Json diagnostic(const scenario::Diagnostic& d) {
  return Json{{"line", d.line}, {"column", d.column}, {"message", d.message}, {"hint", d.hint}};
}

Json counters(const TaskCounters& c) {
  return Json{{"polls", c.polls},
              {"pending_polls", c.pending_polls},
              {"wakes", c.wakes},
              {"self_wakes", c.self_wakes},
              {"wasted_polls", c.wasted_polls}};
}

Json event_json(const Engine& engine, std::uint64_t index) {
  const Event e = engine.event(index);
  Json j{{"index", index},
         {"time", e.time.count()},
         {"thread", e.thread == kExternalThread ? -1 : static_cast<std::int64_t>(e.thread)},
         {"task", e.task},
         {"kind", to_string(e.kind)},
         {"source", to_string(e.source)},
         {"other", e.other},
         {"value", e.value},
         {"deadline", e.deadline.count()},
         {"text", engine.describe(index)}};
  if (!e.message.empty()) j["message"] = e.message;
  return j;
}

Json events_array(const Engine& engine, std::uint64_t from, std::uint64_t to) {
  Json events = Json::array();
  to = std::min(to, engine.event_count());
  for (std::uint64_t i = from; i < to; ++i) events.push_back(event_json(engine, i));
  return events;
}

Json status_object(const Engine& engine) {
  const Outcome& out = engine.outcome();
  Json stuck = Json::array();
  for (const StuckTask& s : out.stuck) {
    stuck.push_back(Json{{"task", s.task}, {"name", engine.task_name(s.task)}, {"line", s.line}, {"reason", s.reason}});
  }
  Json failures = Json::array();
  for (const TaskFailure& f : out.failures) {
    failures.push_back(Json{{"task", f.task}, {"name", engine.task_name(f.task)}, {"step", f.step}, {"message", f.message}});
  }
  const std::uint64_t events = engine.event_count();
  const Snapshot last = engine.snapshot(events);
  return Json{{"status", to_string(out.status)},
              {"summary", out.summary},
              {"events", events},
              {"truncated", engine.loaded() && engine.store().truncated()},
              {"max_events", engine.loaded() ? engine.store().max_events() : 0},
              {"stuck", stuck},
              {"failures", failures},
              {"totals", counters(last.totals)},
              {"time", last.time_ns},
              {"clock", engine.loaded() && engine.scenario().settings.clock == scenario::ClockKind::real_time
                            ? "real"
                            : "virtual"}};
}

}  // namespace

std::string diagnostics_json(const scenario::ParseResult& result) {
  Json errors = Json::array();
  Json warnings = Json::array();
  for (const scenario::Diagnostic& d : result.diagnostics) {
    (d.severity == scenario::Severity::error ? errors : warnings).push_back(diagnostic(d));
  }
  return Json{{"ok", result.ok()}, {"errors", errors}, {"warnings", warnings}}.dump();
}

std::string events_json(const Engine& engine, std::uint64_t from, std::uint64_t to) {
  return events_array(engine, from, to).dump();
}

std::string snapshot_json(const Engine& engine, std::uint64_t step) {
  const Snapshot s = engine.snapshot(step);
  Json tasks = Json::array();
  for (const TaskView& t : s.tasks) {
    Json stack = Json::array();
    for (const Frame& f : t.stack) stack.push_back(Json{{"function", f.function}, {"line", f.line}});
    Json task{{"id", t.id},
              {"name", engine.task_name(t.id)},
              {"function", t.function},
              {"state", to_string(t.state)},
              {"stack", stack},
              {"live_wakers", t.live_wakers}};
    task.update(counters(t.counters));
    tasks.push_back(std::move(task));
  }
  Json timers = Json::array();
  for (const TimerView& t : s.timers) timers.push_back(Json{{"id", t.id}, {"task", t.task}, {"deadline", t.deadline_ns}});
  Json threads = Json::array();
  for (const ThreadView& t : s.threads) {
    threads.push_back(Json{{"state", to_string(t.state)}, {"task", t.task}, {"until", t.until_ns}});
  }
  return Json{{"step", s.step},
              {"time", s.time_ns},
              {"caption", engine.caption(s.step)},
              {"tasks", tasks},
              {"queues", s.queues},
              {"timers", timers},
              {"threads", threads},
              {"totals", counters(s.totals)}}
      .dump();
}

std::string status_json(const Engine& engine) { return status_object(engine).dump(); }

std::string run_json(const Engine& engine) {
  Json scenario = engine.loaded() ? scenario::detail::to_json_value(engine.scenario()) : Json();
  return Json{{"scenario", scenario},
              {"status", status_object(engine)},
              {"events", events_array(engine, 0, engine.event_count())}}
      .dump(2);
}

}  // namespace pollscope::engine
