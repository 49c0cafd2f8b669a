#!/usr/bin/env bash
# Makes sure every tool pollscope needs is installed; installs what is missing.
# Idempotent and fast (a few probes) when everything is present.
#
#   as root:   apt-get update && apt-get install -y <missing packages>
#   otherwise: prints the sudo apt-get command and exits 1
# Then runs `npm ci` when node_modules is missing or older than package-lock.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian package | probe (a shell command, true when the package's part we use is there).
# Add a line per new requirement (e.g. chromium, libclang-rt-14-dev).
REQUIREMENTS=(
  "cmake              | command -v cmake && command -v ctest"
  "g++                | command -v g++"
  "ninja-build        | command -v ninja"
  "emscripten         | command -v em++ && command -v emcmake"
  "catch2             | test -f /usr/include/catch2/catch.hpp && test -f /usr/lib/cmake/Catch2/Catch.cmake"
  "nlohmann-json3-dev | test -f /usr/include/nlohmann/json.hpp"
  "ccache             | command -v ccache"
  "chromium           | test -x /usr/bin/chromium"
  "libclang-rt-14-dev | compgen -G '/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a'"
  # Node >= 20 comes with the machine (NodeSource build, includes npm); Debian's own
  # nodejs is 18 and only a fallback if node is missing altogether.
  "nodejs             | command -v node && command -v npm"
)

missing_packages() {
  local entry pkg probe
  for entry in "${REQUIREMENTS[@]}"; do
    pkg="${entry%%|*}"; pkg="${pkg//[[:space:]]/}"
    probe="${entry#*|}"
    if ! eval "$probe" >/dev/null 2>&1; then
      printf '%s\n' "$pkg"
    fi
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" != 0 ]]; then
    log "setup: missing packages: ${missing[*]}"
    log "setup: install them with:"
    log "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  log "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Lock timeout: wait for a concurrent apt-get/dpkg instead of failing.
  apt-get -o DPkg::Lock::Timeout=900 update
  apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}"
  mapfile -t still < <(missing_packages)
  ((${#still[@]} == 0)) || die "setup: still missing after apt-get install: ${still[*]}"
fi

node_version="$(node --version)"   # v20.20.2
node_major="${node_version#v}"; node_major="${node_major%%.*}"
((node_major >= 20)) || die "setup: Node >= 20 required (found $node_version)"

# npm ci only when needed. npm creates no node_modules when there are no
# dependencies, hence the stamp file.
cd "$POLLSCOPE_ROOT"
stamp=node_modules/.pollscope-npm-ci
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  log "setup: npm ci"
  npm ci --no-audit --no-fund
  mkdir -p node_modules
  touch "$stamp"
fi
