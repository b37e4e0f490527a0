#!/usr/bin/env python3
"""linear_recurrence throughput against the machine's memory bandwidth
(issue 6, point 6).

Times attnflow.linear_recurrence compiled for the CPU (the chunked scan of
--attnflow-chunk-linear-recurrence, through ``attnflow-run --random-inputs
--repeat``) at T = 1k ... 100k and reports its effective bandwidth: the bytes
a scan must move at least (read a and b, write h: 3 B T N elements for the
diagonal form, (N + 2) B T N for the dense one) divided by the minimum time
(the machine is shared; the median is printed too).
In the same run it measures the machine's bandwidth with a STREAM-like
triad in numpy (x = y + s z on arrays of 64 MiB each, 3 arrays moved, best
of several runs), so the ratio is taken under the same load. Correctness is
the test suite's job (python/tests/test_compiled_linear_recurrence.py).

The chunked scan reads a and b twice (once to reduce each chunk, once to
rerun it from its carry) and writes h once: 5 streams against the minimum 3,
so a memory-bound scan reaches at most ~60 % of the triad's bandwidth by
this measure; it gains back the parallelism over chunks (cores).

Usage: linear_recurrence.py [--build-dir BUILD] [--lengths T ...]
                            [--repeat N] [--write]
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from harness import parse_attnflow_times  # noqa: E402

# (label, B, N, dense): a wide diagonal scan (Mamba / S5-like state), a
# narrow one, and the dense N = 4 form DEER solves. Tensors stay under
# glibc's 32 MiB mmap threshold at T = 100k: attnflow-run allocates each
# call's result, and a larger one is mapped afresh every call, so its page
# faults (several ms per 10 MB on these VMs) would be timed, not the scan.
CASES = [("diagonal B=1 N=64", 1, 64, False),
         ("diagonal B=1 N=16", 1, 16, False),
         ("dense B=1 N=4", 1, 4, True)]
LENGTHS = [1000, 10000, 100000]


def module(batch, length, n, dense):
    at = (f"tensor<{batch}x{length}x{n}x{n}xf32>" if dense
          else f"tensor<{batch}x{length}x{n}xf32>")
    bt = f"tensor<{batch}x{length}x{n}xf32>"
    return (f"func.func @main(%a: {at}, %b: {bt}) -> {bt} {{\n"
            f"  %h = attnflow.linear_recurrence %a, %b : {at}, {bt} -> {bt}\n"
            f"  return %h : {bt}\n}}\n")


def min_bytes(batch, length, n, dense):
    """Bytes read and written at least: a, b and h once each (f32)."""
    a = batch * length * n * (n if dense else 1)
    return 4 * (a + 2 * batch * length * n)


def triad_bandwidth(mib=64, runs=7):
    """GB/s of x = y + s z (numpy, 3 arrays of `mib` MiB moved), best run."""
    n = mib * 2 ** 20 // 8
    y, z = np.random.rand(n), np.random.rand(n)
    x = np.empty(n)
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        np.multiply(z, 3.0, out=x)
        np.add(x, y, out=x)
        best = min(best, time.perf_counter() - start)
    # multiply + add: x written twice, read once, y and z read once: 5 passes.
    return 5 * n * 8 / best / 1e9


def time_case(tool, batch, length, n, dense, repeat, workdir):
    path = os.path.join(workdir, f"lr_{batch}_{length}_{n}_{int(dense)}.mlir")
    with open(path, "w") as fh:
        fh.write(module(batch, length, n, dense))
    proc = subprocess.run([tool, path, "--random-inputs", f"--repeat={repeat}",
                           "--warmup=2"], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    times = parse_attnflow_times(proc.stdout + proc.stderr)
    if times is None:
        raise RuntimeError(f"no timing line in: {proc.stdout}{proc.stderr}")
    return times[0], times[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--lengths", type=int, nargs="+", default=LENGTHS)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--write", action="store_true",
                        help="record the table in RESULTS.md")
    args = parser.parse_args()
    tool = os.path.join(args.build_dir, "bin", "attnflow-run")
    load = os.getloadavg()[0]
    triad = triad_bandwidth()
    lines = [f"Machine bandwidth (numpy triad x = y + s z, 64 MiB arrays, best "
             f"of 7): {triad:.1f} GB/s; load average {load:.2f} at the start.",
             "",
             "| case | T | min ms | median ms | GB/s (3 streams, min) | "
             "% of triad |",
             "|---|---|---|---|---|---|"]
    workdir = os.path.join(args.build_dir, "benchmarks-linear-recurrence")
    os.makedirs(workdir, exist_ok=True)
    for label, batch, n, dense in CASES:
        for length in args.lengths:
            best, median = time_case(tool, batch, length, n, dense,
                                     args.repeat, workdir)
            gbs = min_bytes(batch, length, n, dense) / (best * 1e-3) / 1e9
            lines.append(f"| {label} | {length} | {best:.3f} | {median:.3f} | "
                         f"{gbs:.1f} | {100 * gbs / triad:.0f} % |")
            print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"Load average at the end: {os.getloadavg()[0]:.2f}.")
    text = "\n".join(lines)
    print(text)
    if args.write:
        results = os.path.join(HERE, "RESULTS.md")
        title = "## linear_recurrence throughput (issue 6)"
        with open(results) as fh:
            old = fh.read()
        if title in old:
            start = old.index(title)
            end = old.find("\n## ", start + len(title))
            old = old[:start] + (old[end + 1:] if end >= 0 else "")
        section = (f"{title}\n\n`benchmarks/linear_recurrence.py` (CPU, f32, "
                   f"chunked scan, chunks of 1024 steps in parallel).\n\n"
                   f"{text}\n")
        with open(results, "w") as fh:
            fh.write(old.rstrip("\n") + "\n\n" + section)


if __name__ == "__main__":
    main()
