#!/usr/bin/env bash
# `npm run fuzz`: builds the libFuzzer targets of tests/fuzz with clang++ 14
# (-fsanitize=fuzzer,address,undefined) in build/fuzz and runs each one for a while
# on a copy of its seed corpus. Crashes (and leaks, timeouts, out-of-memory) are
# copied into tests/fuzz/regressions/<target>/, which every native `npm test` build
# replays (ctest label `fuzz`); the script then fails and prints how to reproduce.
#
#   scripts/fuzz.sh                      every target, 60 s each
#   scripts/fuzz.sh --seconds 300        every target, 300 s each
#   scripts/fuzz.sh engine_fuzzer        only these targets
#   scripts/fuzz.sh --build-only         build, do not fuzz
#
# Needs clang++-14 and libclang-rt-14-dev (scripts/setup.sh installs both).
# Runs the targets one after the other with one job each; new interesting inputs
# stay in build/fuzz/corpus/<target> (the checked-in corpus is not modified: merge
# worthwhile ones by hand with `-merge=1`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_TARGETS=(scenario_parse_fuzzer scenario_json_fuzzer engine_fuzzer)
seconds=60
build_only=0
targets=()
while (($# > 0)); do
  case "$1" in
    --seconds) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--seconds needs a whole number"; seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#--seconds=}"; [[ "$seconds" =~ ^[0-9]+$ ]] || die "--seconds needs a whole number"; shift ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see scripts/fuzz.sh --help)" ;;
    *) [[ " ${ALL_TARGETS[*]} " == *" $1 "* ]] || die "unknown fuzz target '$1' (targets: ${ALL_TARGETS[*]})"; targets+=("$1"); shift ;;
  esac
done
((${#targets[@]} > 0)) || targets=("${ALL_TARGETS[@]}")

cd "$POLLSCOPE_ROOT"
CXX="${POLLSCOPE_FUZZ_CXX:-clang++-14}"
command -v "$CXX" >/dev/null || die "$CXX not found: install clang-14 and libclang-rt-14-dev (bash scripts/setup.sh)"

out=build/fuzz
mkdir -p "$out/obj"
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
# -fsanitize=fuzzer-no-link: coverage instrumentation for the code under test; the
# fuzzer's main is linked in at the end (-fsanitize=fuzzer).
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
cxxflags=(-std=c++20 -O1 -g -pthread -Wall -Wextra -Werror -Iruntime/include -Itests/fuzz "${san[@]}")

# compile <source> <object>: only when the object is missing or older than the source
# or any header it depends on (clang's -MMD dependency file).
compile() {
  local src="$1" obj="$2" dep="${2%.o}.d"
  if [[ -f "$obj" && -f "$dep" ]]; then
    local newer=0 f
    for f in $(sed -e 's/\\$//' -e 's/^[^:]*://' "$dep"); do
      [[ "$f" -nt "$obj" ]] && { newer=1; break; }
    done
    ((newer)) || return 0
  fi
  mkdir -p "$(dirname "$obj")"
  "${launcher[@]}" "$CXX" "${cxxflags[@]}" -fsanitize=fuzzer-no-link -MMD -MF "$dep" -c "$src" -o "$obj"
}
t0="$(now)"
log "== build $out ($CXX, -fsanitize=fuzzer,address,undefined)"
mapfile -t runtime_sources < <(find runtime/src -name '*.cpp' -type f | sort)
objects=()
jobs="$(nproc 2>/dev/null || echo 2)"
pids=()
for src in "${runtime_sources[@]}"; do
  obj="$out/obj/${src%.cpp}.o"
  objects+=("$obj")
  compile "$src" "$obj" &
  pids+=($!)
  if ((${#pids[@]} >= jobs)); then wait "${pids[0]}" || die "compile failed"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid" || die "compile failed"; done
for target in "${targets[@]}"; do
  obj="$out/obj/tests/fuzz/$target.o"
  compile "tests/fuzz/$target.cpp" "$obj"
  bin="$out/$target"
  newest=0
  for o in "$obj" "${objects[@]}"; do [[ -f "$bin" && "$o" -nt "$bin" ]] && newest=1; done
  if [[ ! -f "$bin" ]] || ((newest)); then
    "$CXX" "${cxxflags[@]}" -fsanitize=fuzzer "$obj" "${objects[@]}" -o "$bin"
  fi
done
log "== built in $(elapsed "$t0") s: ${targets[*]/#/$out/}"
((build_only)) && exit 0

failed=()
for target in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$target"
  regressions="tests/fuzz/regressions/$target"
  work="$out/corpus/$target"
  artifacts="$out/artifacts/$target"
  mkdir -p "$work" "$artifacts" "$regressions"
  cp -n "$seeds"/* "$work"/ 2>/dev/null || true   # a copy: fuzzing never edits the checked-in corpus
  rm -f "$artifacts"/*
  log ""
  log "== fuzz $target for $seconds s (corpus $work, $(find "$work" -type f | wc -l) inputs)"
  rc=0
  # -max_len: above the 16 KiB text limit, so inputs just over it are tried too.
  # -timeout: a single input taking longer is reported (as a timeout-* artifact).
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
    "$out/$target" "$work" -max_total_time="$seconds" -max_len=20000 -timeout=25 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" 2>&1 | tee "$out/$target.log" | \
      grep -E '^#[0-9]+.*(INITED|DONE|pulse)|^(==|SUMMARY|stat::)|ERROR|Test unit written' || true
  rc="${PIPESTATUS[0]}"
  found=()
  for f in "$artifacts"/*; do
    [[ -f "$f" ]] || continue
    cp "$f" "$regressions/"
    found+=("$regressions/$(basename "$f")")
  done
  if ((rc != 0 || ${#found[@]} > 0)); then
    log "[$target] FAILED (exit $rc); log: $out/$target.log"
    for f in "${found[@]}"; do
      log "[$target]   new regression input: $f"
      log "[$target]   reproduce: $out/$target $f      (or: build/asan/bin/fuzz_replay_$target $f)"
    done
    failed+=("$target")
  else
    stats="$(grep -E '^#[0-9]+.*DONE' "$out/$target.log" | tail -n 1 || true)"
    log "[$target] ok: $stats"
  fi
done

log ""
if ((${#failed[@]} > 0)); then
  log "fuzz: FAILED: ${failed[*]} (inputs kept in tests/fuzz/regressions/; fix the bug, keep the input)"
  exit 1
fi
log "fuzz: ok (${targets[*]}, $seconds s each)"
