#pragma once
#include <cstdint>

namespace pollscope {

class Tracer;

/// Options shared by every executor. An aggregate: fields are only ever appended.
struct ExecutorOptions {
  /// Time is a counter that jumps to the next timer deadline when nothing is
  /// runnable, so runs are deterministic and sleeping costs nothing.
  bool virtual_clock = false;
  /// Stop a run after this many polls (0: unlimited). Counted per run() or block_on() call.
  std::uint64_t max_polls = 0;
  /// Receives every event of the executor. Must outlive the executor.
  Tracer* tracer = nullptr;
};

}  // namespace pollscope
