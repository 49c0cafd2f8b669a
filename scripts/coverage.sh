#!/usr/bin/env bash
# `npm run coverage`: line and branch coverage of runtime/ by the native test suite.
#
#   scripts/coverage.sh            build/coverage (g++ Debug, POLLSCOPE_COVERAGE=ON),
#                                  run the runtime tests, print the summary
#   scripts/coverage.sh --fuzz     also replay the fuzz corpora (ctest label fuzz)
#
# Report: build/coverage/report/index.html (per file, per line), summary on stdout
# and in build/coverage/report/summary.txt. Only runtime/ counts (tests, bench,
# system and third-party headers are excluded). Branch numbers leave out the
# branches g++ adds for exception unwinding (--exclude-throw-branches) and the ones
# it proves unreachable, so they count the code's own decisions.
# Needs gcovr (Debian package; installed here on demand when run as root).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

with_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --fuzz) with_fuzz=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (see scripts/coverage.sh --help)" ;;
  esac
done

cd "$POLLSCOPE_ROOT"
bash scripts/setup.sh
if ! command -v gcovr >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then
    log "coverage: installing gcovr"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends gcovr \
      || { apt-get -o DPkg::Lock::Timeout=900 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends gcovr; }
  else
    die "gcovr is missing: sudo apt-get install -y --no-install-recommends gcovr"
  fi
fi

dir=build/coverage
t0="$(now)"
pollscope_configure "$dir" cmake -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DPOLLSCOPE_COVERAGE=ON
targets=(runtime_tests)
((with_fuzz)) && targets+=(fuzz_replay_scenario_parse_fuzzer fuzz_replay_scenario_json_fuzzer fuzz_replay_engine_fuzzer)
log "== build $dir (${targets[*]})"
pollscope_build "$dir" "${targets[@]}"

# Counters of an earlier run would add up with this one.
find "$dir" -name '*.gcda' -delete
log "== run the runtime tests"
rc=0
"$dir/bin/runtime_tests" --use-colour no | tail -n 3 || rc=$?
if ((with_fuzz)); then
  log "== replay the fuzz corpora"
  (cd "$dir" && ctest -L '^fuzz$' --output-on-failure) | tail -n 3 || rc=$?
fi
((rc == 0)) || log "coverage: warning: some tests failed (exit $rc); the numbers below cover what ran"

mkdir -p "$dir/report"
log "== gcovr (runtime/ only)"
gcovr --root "$POLLSCOPE_ROOT" --object-directory "$dir" \
  --filter "$POLLSCOPE_ROOT/runtime/" \
  --exclude-throw-branches --exclude-unreachable-branches \
  --gcov-ignore-parse-errors \
  --html-details "$dir/report/index.html" \
  --txt "$dir/report/files.txt" \
  --print-summary "$dir" | tee "$dir/report/summary.txt"
log "coverage: report $dir/report/index.html, per file $dir/report/files.txt ($(elapsed "$t0") s)"
exit "$rc"
