// libFuzzer target: scenario::from_json of arbitrary bytes.
//
// Properties checked for every document from_json accepts:
//   * from_json(to_json(s)) is ok and gives back exactly s
//   * parse(to_text(s)) is ok and same_content(s, it)
// For rejected inputs: at least one error diagnostic.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "pollscope/scenario.hpp"

namespace sc = pollscope::scenario;
using pollscope::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const sc::ParseResult result = sc::from_json(json);
  if (!result.ok()) {
    bool error = false;
    for (const sc::Diagnostic& d : result.diagnostics) error = error || d.severity == sc::Severity::error;
    check(error, "from_json failed without an error diagnostic");
    return 0;
  }
  const sc::Scenario& s = *result.scenario;
  check(!s.tasks.empty(), "from_json accepted a scenario without tasks");

  const std::string again = sc::to_json(s);
  const sc::ParseResult round = sc::from_json(again);
  check(round.ok(), "from_json(to_json(s)) failed", again);
  check(*round.scenario == s, "from_json(to_json(s)) differs from s", again);

  const std::string text = sc::to_text(s);
  const sc::ParseResult parsed = sc::parse(text);
  check(parsed.ok(), "parse(to_text(s)) failed for a scenario from JSON", text);
  check(sc::same_content(s, *parsed.scenario), "parse(to_text(s)) differs from the JSON scenario", text);
  return 0;
}
