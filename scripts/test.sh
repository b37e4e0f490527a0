#!/usr/bin/env bash
# Builds AttnFlow and runs every suite through ctest: lit (dialect, passes,
# tools, compiled integration tests), GoogleTest and pytest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTNFLOW_BUILD_DIR:-$root/build}

"$root/scripts/build.sh"
ctest --test-dir "$build" --output-on-failure "$@"
