#!/usr/bin/env bash
# `npm test`: set up, then build and test every leg; stops at the first failing leg.
#
#   scripts/test.sh              all default legs (native asan wasm)
#   scripts/test.sh wasm asan    only these legs, in this order
#
# A leg = one build dir + its tests. To add a leg: write a function leg_<name>
# that returns non-zero on failure and sets LEG_PASSED / LEG_FAILED (tests that
# passed / failed), then add <name> to DEFAULT_LEGS (or run it by name).
# CMake legs only need a line in pollscope_cmake_leg_config (scripts/lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Fast legs first, so a broken change fails early.
DEFAULT_LEGS=(native web engine asan tsan wasm wasm-pthread bench)

# expected_runtime_tests <build dir>: the tests that build must have discovered,
# i.e. the Catch2 test cases in tests/runtime/**/*.cpp that its compiler flags
# keep (#if evaluated with that build's predefined macros; rule in
# scripts/count-tests.mjs and docs/build-notes.md). All .cpp files count, so test
# cases in a file that is not named *_tests.cpp (not built) are noticed.
expected_runtime_tests() {
  local -a files=() db=()
  mapfile -t files < <(find "$POLLSCOPE_ROOT/tests/runtime" -name '*.cpp' -type f 2>/dev/null | sort)
  if ((${#files[@]} == 0)); then echo 0; return; fi
  [[ -f "$1/compile_commands.json" ]] && db=(--compile-commands "$1/compile_commands.json")
  node "$POLLSCOPE_ROOT/scripts/count-tests.mjs" "${db[@]}" "${files[@]}"
}

# Generic CMake leg: configure (if needed), build, check the discovered test
# count, run ctest.
run_cmake_leg() {
  local leg="$1" dir="build/$1"
  pollscope_cmake_leg_config "$leg" >/dev/null || die "unknown leg '$leg'"
  pollscope_configure_leg "$leg" || { log "[$leg] FAILED: configure"; return 1; }
  log "== build $dir"
  pollscope_build "$dir" || { log "[$leg] FAILED: build"; return 1; }

  local expected discovered
  expected="$(expected_runtime_tests "$dir")" || { log "[$leg] FAILED: cannot count the test cases in tests/runtime"; return 1; }
  discovered="$(cd "$dir" && ctest -N -L '^runtime$' | sed -n 's/^Total Tests: \([0-9]*\)$/\1/p')"
  discovered="${discovered:-0}"
  if ((discovered < expected)); then
    log "[$leg] FAILED: ctest discovered $discovered runtime tests in $dir, but tests/runtime defines $expected."
    log "[$leg]   Test discovery (catch_discover_tests, after linking runtime_tests) lost some;"
    log "[$leg]   run the test binary with --list-test-names-only to see why."
    return 1
  elif ((discovered > expected)); then
    log "[$leg] warning: ctest discovered $discovered runtime tests, the sources define $expected (count rule in docs/build-notes.md)"
  else
    log "[$leg] test count ok: $discovered runtime tests discovered, $expected defined"
  fi

  log "== ctest $dir"
  local out="$dir/ctest-output.log" rc=0
  # Compatibility shim for Emscripten 3.1.6's pthread runtime under Node 20: a test
  # process occasionally segfaults while Node exits, after Catch2 printed "All tests
  # passed" (seen once in ~2,000 wasm-pthread test processes, in a test that starts
  # no thread). Such a test runs once more; a real failure fails both runs. Delete
  # when the toolchain moves past 3.1.6 (or when that exit crash is understood).
  local -a retry=()
  [[ "$leg" == wasm-pthread ]] && retry=(--repeat until-pass:2)
  (cd "$dir" && ctest --output-on-failure -j2 --no-tests=ignore "${retry[@]}") 2>&1 | tee "$out" || rc=$?
  # "100% tests passed, 0 tests failed out of 12"
  local line
  line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n 1 || true)"
  if [[ -n "$line" ]]; then
    local failed total
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    LEG_FAILED=$failed
    LEG_PASSED=$((total - failed))
  else
    LEG_PASSED=0
    LEG_FAILED=0
  fi
  if ((rc != 0 || LEG_FAILED > 0)); then
    ((LEG_FAILED > 0)) || LEG_FAILED=1
    return 1
  fi
}

# node --test's spec reporter ends with "ℹ pass N" / "ℹ fail N" lines.
node_test_counts() {
  local out="$1"
  LEG_PASSED="$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -n 1)"
  LEG_FAILED="$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$out" | tail -n 1)"
  LEG_PASSED="${LEG_PASSED:-0}"
  LEG_FAILED="${LEG_FAILED:-0}"
}

# The page in headless Chromium (builds the wasm engine and dist/ first).
leg_web() {
  local out="build/web-test-output.log" rc=0
  mkdir -p build
  node scripts/web-test.mjs 2>&1 | tee "$out" || rc=$?
  local line
  line="$(grep -E '^web: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1 || true)"
  LEG_PASSED="$(sed -E 's/^web: ([0-9]+) passed.*/\1/' <<<"${line:-web: 0 passed, 0 failed}")"
  LEG_FAILED="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"${line:-web: 0 passed, 0 failed}")"
  ((rc == 0 && LEG_PASSED > 0))
}

# The wasm engine in Node against the native CLI (needs the native and web legs' builds).
leg_engine() {
  local out="build/engine-test-output.log" rc=0
  # Runnable on its own: configures the native tree if no leg did, and rebuilds the
  # wasm engine when runtime/ or wasm/ changed (web-build.mjs compares a hash).
  pollscope_configure_leg native || return 1
  pollscope_build build/native pollscope_cli || return 1
  node scripts/web-build.mjs --engine-only || return 1
  POLLSCOPE_CLI="$POLLSCOPE_ROOT/build/native/bin/pollscope" \
    node --test --test-reporter=spec tests/engine/ 2>&1 | tee "$out" || rc=$?
  node_test_counts "$out"
  ((rc == 0 && LEG_PASSED > 0))
}

# The benchmarks at tiny sizes, natively and in wasm, so they never rot: checks
# every workload's result, never its timing.
leg_bench() {
  node bench/run.mjs --smoke || return 1
  LEG_PASSED=1
}

cd "$POLLSCOPE_ROOT"
legs=("$@")
((${#legs[@]} > 0)) || legs=("${DEFAULT_LEGS[@]}")

t0="$(now)"
bash scripts/setup.sh
log "setup: ok ($(elapsed "$t0") s)"

total_passed=0
total_failed=0
summary=()
status=0
for leg in "${legs[@]}"; do
  LEG_PASSED=0
  LEG_FAILED=0
  t="$(now)"
  log ""
  log "======== leg $leg ========"
  if declare -F "leg_$leg" >/dev/null; then
    "leg_$leg" || status=1
  else
    run_cmake_leg "$leg" || status=1
  fi
  # A leg that fails before running any test (configure, build, count) counts as 1 failure.
  if ((status != 0 && LEG_FAILED == 0)); then LEG_FAILED=1; fi
  total_passed=$((total_passed + LEG_PASSED))
  total_failed=$((total_failed + LEG_FAILED))
  if ((status == 0)); then result=ok; else result=FAILED; fi
  summary+=("$(printf 'leg %-14s %-6s %4d passed, %d failed  (%s s)' "$leg" "$result" "$LEG_PASSED" "$LEG_FAILED" "$(elapsed "$t")")")
  ((status == 0)) || break
done

log ""
log "======== summary ($(elapsed "$t0") s) ========"
printf '%s\n' "${summary[@]}"
if ((status != 0)); then
  log "stopped at leg '$leg' (failed); later legs not run"
fi
log "$total_passed passed, $total_failed failed"
exit "$status"
