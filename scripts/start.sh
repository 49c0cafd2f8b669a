#!/usr/bin/env bash
# `npm start`: set up, build the native demo (build/native) and run it.
# Arguments are passed to the demo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$POLLSCOPE_ROOT/scripts/setup.sh"
cd "$POLLSCOPE_ROOT"
# Same configuration as the `native` leg of scripts/test.sh, so both share build/native.
pollscope_configure_leg native
pollscope_build build/native pollscope_demo
exec build/native/bin/pollscope_demo "$@"
