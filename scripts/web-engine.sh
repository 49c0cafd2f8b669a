#!/usr/bin/env bash
# Builds the engine's two WebAssembly variants straight with em++ into
# web/public/engine/ (where the page and Vite expect them):
#   pollscope-engine.js/.wasm                           single-threaded
#   pollscope-engine-threads.js/.wasm/.worker.js        pthread (needs cross-origin isolation)
# A stand-in for the CMake/emscripten target: scripts/web-build.mjs runs it only
# when an output is missing or older than runtime/ and wasm/, unless
# POLLSCOPE_ENGINE_BUILD names another command. Both variants build in parallel.
#
#   scripts/web-engine.sh [single|threads]...     (default: both)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Debian's emcc needs acorn from /usr/share/nodejs (toolchain notes, trap 1).
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
command -v em++ >/dev/null || { echo "web-engine: em++ not found (apt-get install emscripten; scripts/setup.sh)" >&2; exit 1; }

OUT=web/public/engine
INC="$ROOT/build/web-engine/include"
mkdir -p "$OUT" "$INC" build/web-engine
# nlohmann/json without the rest of /usr/include (host headers break em++).
ln -sfn /usr/include/nlohmann "$INC/nlohmann"

SOURCES=(wasm/engine_bindings.cpp runtime/src/*.cpp runtime/src/engine/*.cpp)
COMMON=(-std=c++20 -fwasm-exceptions -Wno-deprecated-experimental-coroutine -Iruntime/include "-I$INC"
  --bind -sMODULARIZE=1 -sENVIRONMENT=web,worker,node -sDYNAMIC_EXECUTION=0)

# The single-threaded build is the one most visitors load (any static host, any
# iframe): -Os keeps the page under 300 KB gzip (-O2: +27 KB) and still runs a
# 1,000,000-event scenario in about 0.6 s (-O2: 0.4 s; -Oz: 1.3 s). emmalloc
# (instead of dlmalloc) saves ~3 KB gzip more, which the share links and the
# embed code spent (docs/web-notes.md, Performance).
build_single() {
  em++ "${COMMON[@]}" -Os "${SOURCES[@]}" -sEXPORT_NAME=createPollscopeEngine -sALLOW_MEMORY_GROWTH=1 -sMALLOC=emmalloc \
    -o build/web-engine/pollscope-engine.js
  cp build/web-engine/pollscope-engine.js build/web-engine/pollscope-engine.wasm "$OUT/"
}

# Real threads run on Web Workers that the engine's worker makes and loads before a
# `threads real` run (web/public/engine/engine-worker.js): a thread cannot start on a
# new worker while the engine's worker waits for it (nested workers start through
# its event loop), and a worker whose thread ended only returns to the pool once the
# run is over. 17 = the 16 real threads the scenario limits allow (thread_per_task:
# the root and 15 spawned tasks; thread_pool: at most 8 workers) and the runtime's
# timer thread; the scenario validation (runtime/src/scenario.cpp) refuses a scenario
# whose spawns would start more (a spawn in a task called several times runs each
# time), and the bindings tell the worker the number.
# No PTHREAD_POOL_SIZE: a pool made at the start cost the first render ~300 ms (17
# workers loading beside the page on 2 cores), and most runs use no thread.
# STRICT=2: a thread with no worker left fails to start instead of hanging the engine.
THREAD_WORKERS=17
build_threads() {
  mkdir -p build/web-engine/threads
  em++ "${COMMON[@]}" -O2 -pthread "-DPOLLSCOPE_THREAD_WORKERS=$THREAD_WORKERS" "${SOURCES[@]}" \
    -sEXPORT_NAME=createPollscopeEngineThreads -sPTHREAD_POOL_SIZE_STRICT=2 \
    -sINITIAL_MEMORY=134217728 -sALLOW_MEMORY_GROWTH=1 -Wno-pthreads-mem-growth \
    -o build/web-engine/threads/pollscope-engine-threads.js
  cp build/web-engine/threads/pollscope-engine-threads.{js,wasm,worker.js} "$OUT/"
}

variants=("$@")
((${#variants[@]} > 0)) || variants=(single threads)
pids=()
for v in "${variants[@]}"; do
  case "$v" in
    single) echo "web-engine: building the single-threaded engine (em++ -Os, a few minutes)"; build_single & pids+=($!) ;;
    threads) echo "web-engine: building the pthread engine (em++ -O2 -pthread, a few minutes)"; build_threads & pids+=($!) ;;
    *) echo "web-engine: unknown variant '$v' (single | threads)" >&2; exit 2 ;;
  esac
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
((status == 0)) || { echo "web-engine: FAILED" >&2; exit 1; }
ls -l "$OUT"/pollscope-engine*
