#!/usr/bin/env bash
# Creates the benchmark's virtual environment (benchmarks/.venv) with the
# baseline packages from the package index. The venv sees Debian's packages
# (--system-site-packages); pip adds a newer numpy there when the wheels need
# one (they do today), and the harness, AttnFlow's Python package included,
# then uses that one. Idempotent: a second run with the same package list
# returns at once. A package that fails to install is recorded in .venv/install-status
# (one "NAME ok|failed: REASON" line each) for the harness to report as
# missing; it never makes this script fail.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${ATTNFLOW_BENCH_VENV:-$HERE/.venv}"
PACKAGES=(onnx onnxruntime iree-base-compiler iree-base-runtime matplotlib)
STAMP="$VENV/install-status"
WANTED="packages: ${PACKAGES[*]}"

if [[ -f "$STAMP" ]] && [[ "$(head -n1 "$STAMP")" == "$WANTED" ]]; then
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  if ! /usr/bin/python3 -m venv --system-site-packages "$VENV"; then
    echo "setup.sh: cannot create $VENV (is python3-venv installed?)" >&2
    exit 1
  fi
fi

echo "$WANTED" > "$STAMP.tmp"
for pkg in "${PACKAGES[@]}"; do
  echo "setup.sh: installing $pkg" >&2
  # One package per pip call: a failure leaves the others installed.
  if log="$("$VENV/bin/python" -m pip install --disable-pip-version-check \
              --quiet "$pkg" 2>&1)"; then
    echo "$pkg ok" >> "$STAMP.tmp"
  else
    reason="$(printf '%s\n' "$log" | grep -m1 -E 'ERROR|error' | cut -c1-200)"
    echo "$pkg failed: ${reason:-pip exited non-zero}" >> "$STAMP.tmp"
    echo "setup.sh: $pkg failed to install (recorded, not fatal)" >&2
  fi
done
mv "$STAMP.tmp" "$STAMP"
