#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (logic: benchmarks/gpu_check.py).
#
#   scripts/gpu-check.sh --prepare [options]   on the build machine: builds AttnFlow,
#       compiles every case with attnflow-compile --target=cuda --gpu-arch=sm_90 and
#       fills build/gpu-bundle (harness, runtime, modules, manifest.json; < 60 MiB).
#   scripts/gpu-check.sh [options]             on the GPU machine, from the repository
#       root, with build/gpu-bundle carried over: runs every case, compares with the
#       float64 numpy reference and PyTorch SDPA, prints the table and writes it to
#       $OUT/gpu-check.md (and gpu-check.json) when OUT is set. Exit 1 if any case
#       failed, was skipped or exceeded its tolerance.
#
# Options: benchmarks/gpu_check.py prepare --help / run --help. The GPU side uses
# $PYTHON (default python3: it needs numpy and torch); prepare uses /usr/bin/python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--prepare" ]; then
  shift
  exec /usr/bin/python3 "$root/benchmarks/gpu_check.py" prepare "$@"
fi
cd "$root"
exec "${PYTHON:-python3}" "$root/benchmarks/gpu_check.py" run "$@"
