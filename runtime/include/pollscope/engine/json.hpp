#pragma once
/// The engine's answers as JSON: what the wasm bindings hand to the page and what
/// `pollscope run --format json` prints. Field names are part of the page's contract.
#include <cstdint>
#include <string>

#include "pollscope/engine/engine.hpp"
#include "pollscope/scenario.hpp"

namespace pollscope::engine {

/// {"ok", "errors": [{line, column, message, hint}], "warnings": [...]}
std::string diagnostics_json(const scenario::ParseResult& result);

/// [{index, time, thread, task, kind, source, other, value, deadline, text}] for
/// events [from, to) (clamped).
std::string events_json(const Engine& engine, std::uint64_t from, std::uint64_t to);

/// Everything drawn at `step`: {step, time, caption, tasks, queues, timers, threads, totals}.
std::string snapshot_json(const Engine& engine, std::uint64_t step);

/// {status (completed | stalled | budget exhausted | failed), summary, events, truncated, max_events,
///  stuck: [{task, name, line, reason}], failures: [{task, name, step, message}], totals, time, clock}
std::string status_json(const Engine& engine);

/// The whole run: {scenario, status, events} (for exports and the CLI).
std::string run_json(const Engine& engine);

}  // namespace pollscope::engine
