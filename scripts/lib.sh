# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.

POLLSCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian's emcc needs acorn from /usr/share/nodejs, which the NodeSource node does
# not search ("Cannot find module 'acorn'" at -O2 or with -pthread).
case ":${NODE_PATH:-}:" in
  *:/usr/share/nodejs:*) ;;
  *) export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}" ;;
esac
# ccache: treat paths under the repo as relative and leave the build directory out of
# the hash of -g compiles, so another clone of the repo (CI) hits the same cache entries
# (the cost: debug info of such hits names the first clone's build directory).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$POLLSCOPE_ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

log() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# pollscope_configure <build dir, relative to the repo root> <cmake|emcmake> [cmake args...]
# Configures only when the build dir has no cache yet or the arguments changed
# (they are recorded in <build dir>/.pollscope-configure). Changes to CMakeLists
# and new/removed source files are picked up by `cmake --build` itself.
pollscope_configure() {
  local dir="$POLLSCOPE_ROOT/$1" tool="$2"
  shift 2
  local -a cmd=(cmake -S "$POLLSCOPE_ROOT" -B "$dir" -G Ninja "$@")
  if [[ "$tool" == emcmake ]]; then
    # emcmake's own emulator has --experimental-wasm-threads, which Node 20 rejects
    # (exit 9): catch_discover_tests would then silently discover zero tests.
    cmd=(emcmake "${cmd[@]}" "-DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v node);--no-experimental-fetch")
  fi
  local stamp="$dir/.pollscope-configure" want
  want="$(printf '%q ' "${cmd[@]}")"
  if [[ -f "$dir/CMakeCache.txt" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  if [[ -f "$dir/CMakeCache.txt" ]]; then
    # Arguments changed: start from an empty cache. Re-configuring over the old one
    # can silently drop options (a changed CMAKE_CXX_COMPILER makes CMake wipe the
    # cache and forget every other -D, e.g. POLLSCOPE_SANITIZE). Objects stay (and ccache).
    log "== $dir: configuration changed, discarding its CMake cache"
    rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
  fi
  log "== configure $dir: ${cmd[*]}"
  mkdir -p "$dir"
  rm -f "$stamp"
  "${cmd[@]}" || return 1
  printf '%s' "$want" >"$stamp"
}

# CMake build configurations, one per leg of scripts/test.sh; build dir = build/<leg>.
# <leg> -> "<cmake|emcmake> <cmake args...>" (no spaces inside an argument).
pollscope_cmake_leg_config() {
  case "$1" in
    native) echo "cmake -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug" ;;
    asan) echo "cmake -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DPOLLSCOPE_SANITIZE=address" ;;
    tsan) echo "cmake -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLLSCOPE_SANITIZE=thread -DPOLLSCOPE_SHAKE=ON" ;;
    wasm) echo "emcmake -DCMAKE_BUILD_TYPE=RelWithDebInfo" ;;
    wasm-pthread) echo "emcmake -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLLSCOPE_THREADS=ON" ;;
    *) return 1 ;;
  esac
}

# pollscope_configure_leg <leg>: configure build/<leg> if needed.
pollscope_configure_leg() {
  local config
  config="$(pollscope_cmake_leg_config "$1")" || die "unknown build configuration '$1'"
  local -a args
  read -r -a args <<<"$config"
  pollscope_configure "build/$1" "${args[@]}"
}

# pollscope_build <build dir, relative to the repo root> [targets...]
pollscope_build() {
  local dir="$POLLSCOPE_ROOT/$1"
  shift
  local -a targets=()
  (($# > 0)) && targets=(--target "$@")
  cmake --build "$dir" -j2 "${targets[@]}"
}
