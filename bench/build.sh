#!/usr/bin/env bash
# bench/build.sh native|wasm — builds pollscope_bench for timing, in its own tree:
#   native: build/bench       g++, -O2 -DNDEBUG
#   wasm:   build/bench-wasm  em++, -O2 -DNDEBUG -fwasm-exceptions (single-threaded), run under Node
# Tests are not built there. Configure/build helpers (and NODE_PATH for em++) come
# from scripts/lib.sh, like the test legs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

case "${1:-}" in
  native)
    pollscope_configure build/bench cmake -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DPOLLSCOPE_BUILD_TESTS=OFF
    pollscope_build build/bench pollscope_bench
    ;;
  wasm)
    # -fwasm-exceptions comes from cmake/PollscopeOptions.cmake (single-threaded default).
    pollscope_configure build/bench-wasm emcmake -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DCMAKE_EXE_LINKER_FLAGS_RELEASE=-O2 \
      -DPOLLSCOPE_BUILD_TESTS=OFF -DPOLLSCOPE_WASM_EXCEPTIONS=wasm
    pollscope_build build/bench-wasm pollscope_bench
    ;;
  *)
    echo "usage: bench/build.sh native|wasm" >&2
    exit 2
    ;;
esac
