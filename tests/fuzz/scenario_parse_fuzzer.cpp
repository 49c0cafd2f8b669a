// libFuzzer target: scenario::parse of arbitrary bytes.
//
// Properties checked for every input the parser accepts:
//   * parse(to_text(s)) is ok and same_content(s, it)   (the canonical text round trip)
//   * to_text is a fixed point: to_text(parse(to_text(s))) == to_text(s)
//   * from_json(to_json(s)) is ok and gives back exactly s (positions included)
// For rejected inputs: at least one error diagnostic, and at most limits::errors of them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "pollscope/scenario.hpp"

namespace sc = pollscope::scenario;
using pollscope::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const sc::ParseResult parsed = sc::parse(text);
  if (!parsed.ok()) {
    std::size_t errors = 0;
    for (const sc::Diagnostic& d : parsed.diagnostics) {
      if (d.severity == sc::Severity::error) ++errors;
    }
    check(errors >= 1, "parse failed without an error diagnostic");
    check(errors <= static_cast<std::size_t>(sc::limits::errors), "more errors than limits::errors");
    return 0;
  }
  const sc::Scenario& s = *parsed.scenario;
  check(!s.tasks.empty(), "a parsed scenario has no task");

  const std::string canonical = sc::to_text(s);
  const sc::ParseResult reparsed = sc::parse(canonical);
  check(reparsed.ok(), "parse(to_text(s)) failed", canonical);
  check(sc::same_content(s, *reparsed.scenario), "parse(to_text(s)) differs from s", canonical);
  check(sc::to_text(*reparsed.scenario) == canonical, "to_text is not a fixed point", canonical);

  const std::string json = sc::to_json(s);
  const sc::ParseResult from = sc::from_json(json);
  check(from.ok(), "from_json(to_json(s)) failed", json);
  check(*from.scenario == s, "from_json(to_json(s)) differs from s", json);
  return 0;
}
