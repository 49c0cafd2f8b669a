#pragma once
#include <cstdint>

namespace pollscope {

/// Identifies a task within its executor: 1, 2, 3... in spawn order, never 0
/// (0 in a trace event means "no task").
using TaskId = std::uint64_t;

}  // namespace pollscope
