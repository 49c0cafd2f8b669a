#pragma once
// Internal: the scenario's JSON form as a value (scenario::to_json prints it). The
// engine's JSON (run_json) and the wasm bindings embed it in their own documents
// without printing and parsing it again: a parse would put ordered_json's parser
// (~25 KB of wasm) into the page's engine for nothing.
#include <nlohmann/json.hpp>

#include "pollscope/scenario.hpp"

namespace pollscope::scenario::detail {

[[nodiscard]] nlohmann::ordered_json to_json_value(const Scenario& scenario);

}  // namespace pollscope::scenario::detail
