// pollscope: run a scenario from the command line and print its poll loop.
//
//   pollscope run FILE [--format text|json] [--max-events N]
//
// Exit status: 0 completed, 1 stalled, budget exhausted or failed (a task threw), 2 invalid scenario, bad
// option, unreadable file or unavailable executor.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pollscope/engine/engine.hpp"
#include "pollscope/engine/json.hpp"
#include "pollscope/scenario.hpp"
#include "pollscope/trace.hpp"

namespace {

namespace engine = pollscope::engine;
namespace scenario = pollscope::scenario;

constexpr int kCompleted = 0;
constexpr int kUnfinished = 1;
constexpr int kUsage = 2;

constexpr std::string_view kUsageText = R"(usage: pollscope run FILE [--format text|json] [--max-events N]
       pollscope --help

Runs the scenario in FILE ("-" reads standard input) on the pollscope runtime and
prints every event of its poll loop, then a summary.

  --format text    one line per event, then a summary (default)
  --format json    one JSON document: the scenario, the status and the events
  --max-events N   event budget, 1..1000000 (default: the scenario's max_events)

Exit status: 0 completed, 1 stalled, budget exhausted or failed (a task threw), 2 invalid scenario, bad
option, unreadable file or unavailable executor.
)";

int usage_error(const std::string& message) {
  std::cerr << "pollscope: error: " << message << "\n" << kUsageText;
  return kUsage;
}

bool read_all(std::istream& in, std::string& out) {
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool parse_count(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 7) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = value;
  return true;
}

void print_summary(const engine::Engine& eng) {
  const engine::Snapshot last = eng.snapshot(eng.event_count());
  const engine::TaskCounters& t = last.totals;
  const bool virtual_clock = eng.scenario().settings.clock == scenario::ClockKind::virtual_time;
  std::printf("\n%s\n", eng.outcome().summary.c_str());
  for (const engine::StuckTask& stuck : eng.outcome().stuck) {
    std::printf("  %s (line %u): %s\n", eng.task_name(stuck.task).c_str(), stuck.line, stuck.reason.c_str());
  }
  if (eng.outcome().failures.size() > 1) {
    for (const engine::TaskFailure& failure : eng.outcome().failures) {
      std::printf("  %s (event %llu): %s\n", eng.task_name(failure.task).c_str(),
                  static_cast<unsigned long long>(failure.step), failure.message.c_str());
    }
  }
  std::printf("polls: %llu  pending polls: %llu  wakes: %llu  self-wakes: %llu  wasted polls: %llu\n",
              static_cast<unsigned long long>(t.polls), static_cast<unsigned long long>(t.pending_polls),
              static_cast<unsigned long long>(t.wakes), static_cast<unsigned long long>(t.self_wakes),
              static_cast<unsigned long long>(t.wasted_polls));
  std::printf("%s time: %s\n", virtual_clock ? "virtual" : "real",
              pollscope::format_duration(std::chrono::nanoseconds(last.time_ns)).c_str());
}

int run(const std::string& file, const std::string& format, std::uint64_t max_events) {
  std::string text;
  const std::string source_name = file == "-" ? "<stdin>" : file;
  if (file == "-") {
    if (!read_all(std::cin, text)) return usage_error("cannot read standard input");
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return usage_error("cannot open " + file);
    if (!read_all(in, text)) return usage_error("cannot read " + file);
  }
  engine::Engine eng;
  engine::LoadOptions options;
  options.max_events = max_events;
  options.real_threads_available = true;  // a native process can always start threads
  const scenario::ParseResult result = eng.load(text, options);
  for (const scenario::Diagnostic& d : result.diagnostics) {
    std::cerr << scenario::format_diagnostic(d, source_name);
  }
  if (!result.ok()) return kUsage;
  if (format == "json") {
    std::printf("%s\n", engine::run_json(eng).c_str());
  } else {
    for (std::uint64_t i = 0; i < eng.event_count(); ++i) std::printf("%s\n", eng.describe(i).c_str());
    print_summary(eng);
  }
  return eng.outcome().status == engine::EndStatus::completed ? kCompleted : kUnfinished;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("no command");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsageText << "\n" << scenario::format_help;
    return kCompleted;
  }
  if (args[0] != "run") return usage_error("unknown command \"" + args[0] + "\"");
  std::string file;
  std::string format = "text";
  std::uint64_t max_events = 0;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--format" || a == "--max-events") {
      if (i + 1 >= args.size()) return usage_error(a + " needs a value");
      const std::string& value = args[++i];
      if (a == "--format") {
        if (value != "text" && value != "json") return usage_error("--format is text or json, not \"" + value + "\"");
        format = value;
      } else if (!parse_count(value, max_events) || max_events < 1 || max_events > scenario::limits::max_events) {
        return usage_error("--max-events takes a whole number from 1 to 1000000, not \"" + value + "\"");
      }
    } else if (a.size() > 1 && a[0] == '-' ) {
      return usage_error("unknown option \"" + a + "\"");
    } else if (!file.empty()) {
      return usage_error("one FILE only (got \"" + file + "\" and \"" + a + "\")");
    } else {
      file = a;
    }
  }
  if (file.empty()) return usage_error("run needs a FILE (or - for standard input)");
  return run(file, format, max_events);
}
