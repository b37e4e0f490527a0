#!/usr/bin/env python3
"""Flow-sampler benchmark (issue 7, point 6).

Times the rectified-flow sampler of examples/rectified_flow_sampler.mlir
(B = 64 samples, D = 64, a guided 2-hidden-layer SiLU MLP of width H = 256,
python/attnflow/flow.py) compiled by AttnFlow (``attnflow-run --repeat``,
median) against a float32 numpy implementation of the same network and
integrator (matmul through numpy's BLAS), per step, for 8 Euler steps and
4 RK4 steps. Both are checked against the float64 reference first. With
--write it records the table in RESULTS.md (section "Flow sampler").
``--smoke`` runs tiny sizes once (ctest: the compile / run / compare path,
no timing claims).

Usage: flow_sampler.py [--build-dir BUILD] [--repeat N] [--write] [--smoke]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

from attnflow import flow, reference  # noqa: E402
from harness import parse_attnflow_times  # noqa: E402

CASES = (("euler", 8), ("rk4", 4))
STAGES = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def numpy_velocity(x, t, wx, wt, emb, b1, w2, b2, w3, b3, guidance):
    """The guided MLP in float32 numpy (the baseline; one shared x @ wx)."""
    a = x @ wx + np.float32(t) * wt + b1

    def silu(z):
        return z / (np.float32(1) + np.exp(-z))
    v_c = silu(silu(a + emb) @ w2 + b2) @ w3 + b3
    v_u = silu(silu(a) @ w2 + b2) @ w3 + b3
    return v_u + np.float32(guidance) * (v_c - v_u)


def numpy_sampler(x0, params, method, steps, guidance):
    """reference.ode_step's formulas on float32 arrays."""
    x, h = x0.copy(), np.float32(1.0 / steps)
    for n in range(steps):
        t = np.float32(n * h)

        def v(y, s):
            return numpy_velocity(y, s, *params, guidance)
        if method == "euler":
            x = x + h * v(x, t)
        else:
            k1 = v(x, t)
            k2 = v(x + h / 2 * k1, t + h / 2)
            k3 = v(x + h / 2 * k2, t + h / 2)
            k4 = v(x + h * k3, t + h)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def time_numpy(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def run_case(run_tool, sizes, method, steps, guidance, repeat, tmp):
    """(attnflow median ms, numpy median ms, max errors vs float64)."""
    batch, dim, hidden = sizes
    rng = np.random.default_rng(0)
    params = flow.mlp_params(rng, dim, hidden, batch)
    x0 = rng.standard_normal((batch, dim), dtype=np.float32)
    path = os.path.join(tmp, f"{method}.mlir")
    with open(path, "w") as f:
        f.write(flow.sampler_module(batch, dim, hidden, guidance, method=method,
                                    num_steps=steps))
    inputs = []
    for i, array in enumerate([x0, *params]):
        inputs.append(os.path.join(tmp, f"{method}.in{i}.npy"))
        np.save(inputs[-1], array)
    out = os.path.join(tmp, f"{method}.out.npy")
    proc = subprocess.run(
        [run_tool, path, *[f"--input={p}" for p in inputs], f"--output={out}",
         f"--repeat={repeat}", "--warmup=1"], capture_output=True, text=True)
    times = parse_attnflow_times(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not times:
        sys.exit(f"flow_sampler: attnflow-run failed:\n{proc.stderr}")
    ref = reference.ode_solve(
        lambda x, t, *p: flow.mlp_velocity(x, t, *p, guidance=guidance), x0,
        method, num_steps=steps, params=params)
    err = float(np.max(np.abs(np.load(out) - ref)))
    baseline = numpy_sampler(x0, params, method, steps, guidance)
    np_err = float(np.max(np.abs(baseline - ref)))
    np_ms = time_numpy(lambda: numpy_sampler(x0, params, method, steps, guidance),
                       repeat)
    return times[1], np_ms, err, np_err


def cpu_model():
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return re.sub(r"\s+", " ", line.split(":", 1)[1].strip())
    return "unknown CPU"


def write_results(text, path):
    """Replaces (or appends) the "## Flow sampler" section."""
    old = open(path).read() if os.path.exists(path) else ""
    start = old.find("## Flow sampler")
    if start >= 0:
        end = old.find("\n## ", start + 1)
        old = old[:start] + (old[end + 1:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + text + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one run: checks, no timing claims")
    args = parser.parse_args()
    run_tool = os.path.join(args.build_dir, "bin", "attnflow-run")
    if not os.access(run_tool, os.X_OK):
        sys.exit(f"flow_sampler: {run_tool} not found: build AttnFlow first")
    sizes = (4, 3, 8) if args.smoke else (64, 64, 256)
    repeat = 1 if args.smoke else args.repeat
    guidance = 3.0
    load = os.getloadavg()[0]
    rows, ok = [], True
    with tempfile.TemporaryDirectory(prefix="flow-sampler-") as tmp:
        for method, steps in CASES:
            ms, np_ms, err, np_err = run_case(run_tool, sizes, method, steps,
                                              guidance, repeat, tmp)
            good = err <= 1e-4 and np_err <= 1e-4
            ok &= good
            rows.append(f"| {method} | {steps} | {steps * STAGES[method] * 2} | "
                        f"{ms:.3f} | {ms / steps:.3f} | {np_ms:.3f} | "
                        f"{np_ms / steps:.3f} | {np_ms / ms:.2f}x | {err:.1e} |")
            print(rows[-1], flush=True)
    table = ("| method | steps | MLP evaluations | AttnFlow ms | AttnFlow ms / step"
             " | numpy f32 ms | numpy ms / step | numpy ms / AttnFlow ms | max abs err |\n"
             "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    print(table)
    if args.write and not args.smoke:
        section = (
            "## Flow sampler\n\n"
            "`benchmarks/flow_sampler.py --write`: the rectified-flow sampler of "
            "examples/rectified_flow_sampler.mlir (B = 64, D = 64, guided "
            "2-hidden-layer SiLU MLP, H = 256, f32; two MLP branches per "
            "velocity evaluation) compiled by attnflow-run (median of "
            f"{repeat}) against the same network and integrator in float32 "
            "numpy (BLAS matmuls, median of the same count). Errors are "
            "AttnFlow's max abs error against the float64 reference. Machine: "
            f"{cpu_model()}, {os.cpu_count()} cores, load average {load:.1f} "
            "at the start.\n\n"
            + table + "\n\n"
            "The velocity network's matmuls are register-tiled FMA kernels "
            "(`--attnflow-vectorize-matmul` in the CPU pipeline); each step's "
            "update is fused into the network's last elementwise op.\n")
        write_results(section, os.path.join(HERE, "RESULTS.md"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
