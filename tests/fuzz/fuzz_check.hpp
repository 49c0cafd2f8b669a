// Shared helper of the fuzz targets in tests/fuzz: a property check that aborts
// (so libFuzzer, and the replay driver under ASan, report the input as a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace pollscope::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "pollscope fuzz property violated: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) std::fprintf(stderr, "%.*s\n", static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

}  // namespace pollscope::fuzz
