#!/usr/bin/env bash
# `npm start`: set up, build the engine and the page, and serve the playground with
# the cross-origin isolation headers (threads on). Arguments go to the server
# (e.g. --port 9000, --no-isolation). `bash scripts/start.sh --demo` runs the native
# terminal demo of the poll loop instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$POLLSCOPE_ROOT/scripts/setup.sh"
cd "$POLLSCOPE_ROOT"
if [[ "${1:-}" == "--demo" ]]; then
  shift
  # Same configuration as the `native` leg of scripts/test.sh, so both share build/native.
  pollscope_configure_leg native
  pollscope_build build/native pollscope_demo
  exec build/native/bin/pollscope_demo "$@"
fi
exec node scripts/web-start.mjs "$@"
