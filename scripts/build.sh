#!/usr/bin/env bash
# Installs missing packages, configures (once) and builds AttnFlow.
# Usage: scripts/build.sh            (build folder: $ATTNFLOW_BUILD_DIR or ./build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTNFLOW_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"

if [ ! -f "$build/build.ninja" ]; then
  mkdir -p "$build"
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir >"$build/configure.log" 2>&1 || {
    cat "$build/configure.log"; exit 1; }
fi
ninja -C "$build"
