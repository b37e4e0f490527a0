#!/usr/bin/env bash
# The attention benchmark in one command: sets up benchmarks/.venv (setup.sh)
# and runs harness.py under it, which prints the tables and writes
# benchmarks/RESULTS.md and attention_time.png (with --quick: under
# build/bench, so a smoke test leaves the recorded results alone).
# Usage: benchmarks/run.sh [--quick] [--cases NAME ...] [harness.py options]
# AttnFlow itself must be built first (scripts/build.sh).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${ATTNFLOW_BENCH_VENV:-$HERE/.venv}"
PYTHON=/usr/bin/python3
if "$HERE/setup.sh"; then
  PYTHON="$VENV/bin/python"
else
  echo "run.sh: no virtual environment; baselines will be reported missing" >&2
fi
exec "$PYTHON" "$HERE/harness.py" "$@"
