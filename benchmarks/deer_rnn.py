#!/usr/bin/env python3
"""DEER benchmark (issue 6, point 6): attnflow.rnn_solve on a tanh RNN
h_t = tanh(W h_{t-1} + U u_t + b) (B = 1, N = M = 8, f32, W scaled to
spectral radius 0.9) at T = 1k ... 100k steps on the CPU: method newton
(DEER) and quasi_newton (diagonal Jacobian) against method sequential (the
plain loop), all compiled by AttnFlow and timed with ``attnflow-run
--repeat`` (median), with the Newton iteration counts the op returns. Every
result is first checked against the float64 sequential recurrence
(attnflow.reference.rnn_sequential). With --write it records the table in
RESULTS.md (section "DEER"). ``--smoke`` runs one tiny size once (the
compile / run / compare path, no timing claims).

Usage: deer_rnn.py [--build-dir BUILD] [--repeat N] [--steps T ...] [--write]
                   [--smoke]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))
sys.path.insert(0, HERE)

from attnflow import reference  # noqa: E402
from harness import parse_attnflow_times  # noqa: E402
import _rnn_cells as cells  # noqa: E402

N = M = 8
RHO = 0.9
TOLERANCE = 1e-5
METHODS = ("sequential", "newton", "quasi_newton")
# f32 states against the float64 recurrence (DEER stops at a 1e-5 change).
ERROR_LIMIT = 1e-4


def problem(steps, seed=0):
    rng = np.random.default_rng(seed)
    cell = cells.tanh_rnn(N, M, "f32")
    w, uw, b = cells.weights(rng, cell)
    w *= RHO / np.max(np.abs(np.linalg.eigvals(w)))
    h0 = rng.standard_normal((1, N))
    u = rng.standard_normal((1, steps, M))
    inputs = [a.astype(np.float32) for a in (h0, u, w, uw, b)]
    return cell, inputs


def run_method(tool, cell, inputs, method, repeat, tmp):
    """(median ms, iters, states) of one compiled solve."""
    steps = inputs[1].shape[1]
    module = cells.rnn_solve_module(cell, method, 1, steps, N, M, t="f32",
                                    max_iterations=64, tolerance=TOLERANCE)
    path = os.path.join(tmp, f"{method}.mlir")
    with open(path, "w") as fh:
        fh.write(module)
    args = []
    for i, array in enumerate(inputs):
        np.save(os.path.join(tmp, f"in{i}.npy"), array)
        args.append(f"--input={os.path.join(tmp, f'in{i}.npy')}")
    outs = [os.path.join(tmp, f"{method}.out{i}.npy") for i in range(2)]
    proc = subprocess.run([tool, path, *args, *[f"--output={o}" for o in outs],
                           f"--repeat={repeat}", "--warmup=1"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"deer_rnn: attnflow-run failed for {method}:\n{proc.stderr}")
    times = parse_attnflow_times(proc.stdout + proc.stderr)
    if times is None:
        sys.exit(f"deer_rnn: no timing line:\n{proc.stdout}{proc.stderr}")
    return times[1], int(np.load(outs[1])), np.load(outs[0])


def measure(tool, steps, repeat):
    cell, inputs = problem(steps)
    h0, u, *params = [a.astype(np.float64) for a in inputs]
    ref = reference.rnn_sequential(
        lambda h, ut, *p: cell.f(h[None], ut[None], *p)[0], h0, u, params)
    row = {"steps": steps}
    with tempfile.TemporaryDirectory(prefix="deer-bench-") as tmp:
        for method in METHODS:
            ms, iters, states = run_method(tool, cell, inputs, method, repeat, tmp)
            error = float(np.max(np.abs(states - ref)))
            if not error <= ERROR_LIMIT:
                sys.exit(f"deer_rnn: {method} at T = {steps}: max abs error "
                         f"{error:.2e} > {ERROR_LIMIT:.0e}")
            row[method] = (ms, iters, error)
    return row


def table(rows):
    lines = ["| T | sequential ms | newton ms | newton iters | quasi_newton ms "
             "| quasi_newton iters | newton / sequential | max abs err "
             "(seq, newton, quasi) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        seq, newton, quasi = r["sequential"], r["newton"], r["quasi_newton"]
        lines.append(
            f"| {r['steps']} | {seq[0]:.3f} | {newton[0]:.2f} | {newton[1]} | "
            f"{quasi[0]:.2f} | {quasi[1]} | {newton[0] / seq[0]:.1f}x | "
            f"{seq[2]:.1e}, {newton[2]:.1e}, {quasi[2]:.1e} |")
    return "\n".join(lines)


def write_results(text):
    path = os.path.join(HERE, "RESULTS.md")
    with open(path) as fh:
        content = fh.read()
    start = content.find("\n## DEER")
    if start >= 0:
        end = content.find("\n## ", start + 1)
        content = content[:start] + (content[end:] if end >= 0 else "\n")
    with open(path, "w") as fh:
        fh.write(content.rstrip("\n") + "\n\n" + text + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--steps", type=int, nargs="*",
                        default=[1000, 3000, 10000, 30000, 100000])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    tool = os.path.join(args.build_dir, "bin", "attnflow-run")
    if args.smoke:
        args.steps, args.repeat = [64], 1
    load = os.getloadavg()[0]
    rows = []
    for steps in args.steps:
        rows.append(measure(tool, steps, args.repeat))
        r = rows[-1]
        print(f"T = {steps}: " + ", ".join(
            f"{m} {r[m][0]:.3f} ms ({r[m][1]} iters, err {r[m][2]:.1e})"
            for m in METHODS), flush=True)
    text = table(rows)
    print(text)
    if args.write:
        write_results(
            "## DEER\n\n`benchmarks/deer_rnn.py --write`: attnflow.rnn_solve on "
            f"a tanh RNN (B = 1, N = M = {N}, f32, recurrent spectral radius "
            f"{RHO}, tolerance {TOLERANCE:g}) compiled by attnflow-run (median "
            f"of {args.repeat}); newton = DEER (dense Jacobian derived by the "
            "compiler), quasi_newton = diagonal Jacobian, sequential = the "
            "plain loop over t. Errors: max abs against the float64 sequential "
            f"recurrence. Machine: 2 shared cores, load average {load:.1f} at "
            "the start (other builds were running).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
