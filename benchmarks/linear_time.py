#!/usr/bin/env python3
"""Linear-time attention benchmark (issue 5, point 6).

Times, on the same shapes and against sequence length S, the three causal
attention forms AttnFlow compiles for the CPU:
  - attnflow.linear_attention (Performer FAVOR+, M = 256 random features),
  - attnflow.vq_attention (Transformer-VQ, C = 512 codes per head),
  - attnflow.attention (softmax, the tiled FlashAttention kernels of issue 3),
each through ``attnflow-run --random-inputs --repeat`` (seeded N(0, 1)
inputs; correctness is the test suite's job: python/tests/
test_compiled_linear_vq.py). Shape: B = 1, H = 8 heads (no GQA), D = Dv =
128, float32. It prints, per S, the median times and the ratios softmax /
linear and softmax / VQ, checks the two targets of the issue (time linear in
S: doubling S at most ~2.3x the time; softmax / linear >= 12 at S = 32768),
and with --write records the table in RESULTS.md (section "Linear-time
attention") and a plot linear_time.png (matplotlib from the benchmark's
virtual environment, when present).

Usage: linear_time.py [--build-dir BUILD] [--lengths S ...] [--repeat N]
                      [--softmax-max S] [--timeout SECONDS] [--write]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

from harness import parse_attnflow_times  # noqa: E402

HEADS, DIM, FEATURES, CODES = 8, 128, 256, 512
FORMS = ("linear", "vq", "softmax")
LABELS = {"linear": "linear_attention (FAVOR+, M=256)",
          "vq": "vq_attention (C=512)",
          "softmax": "attention (softmax)"}


def module(form, s):
    """The MLIR of one causal case at sequence length s."""
    t = f"tensor<1x{HEADS}x{s}x{DIM}xf32>"
    if form == "linear":
        w = f"tensor<{FEATURES}x{DIM}xf32>"
        return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}, %w: {w}) -> {t} {{\n"
                f"  %o = attnflow.linear_attention %q, %k, %v, %w {{feature_map = "
                f"#attnflow.feature_map<favor_plus>, causal = true}} : {t}, {t}, {t}, "
                f"{w} -> {t}\n  return %o : {t}\n}}\n")
    if form == "vq":
        c = f"tensor<{HEADS}x{CODES}x{DIM}xf32>"
        return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}, %c: {c}) -> {t} {{\n"
                f"  %o = attnflow.vq_attention %q, %k, %v, %c {{causal = true}} : "
                f"{t}, {t}, {t}, {c} -> {t}\n  return %o : {t}\n}}\n")
    return (f"func.func @main(%q: {t}, %k: {t}, %v: {t}) -> {t} {{\n"
            f"  %o = attnflow.attention %q, %k, %v {{causal = true}} : {t}, {t}, "
            f"{t} -> {t}\n  return %o : {t}\n}}\n")


def time_case(run_tool, form, s, repeat, timeout):
    """Median milliseconds of one case, or a short failure string."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
        f.write(module(form, s))
        path = f.name
    try:
        proc = subprocess.run(
            [run_tool, path, "--random-inputs", "--seed=1", f"--repeat={repeat}",
             "--warmup=1" if repeat > 1 else "--warmup=0"],
            capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        os.unlink(path)
    times = parse_attnflow_times(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not times:
        return f"failed ({proc.returncode})"
    return times[1]


def cpu_model():
    """The host CPU's model name (/proc/cpuinfo)."""
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return re.sub(r"\s+", " ", line.split(":", 1)[1].strip())
    return "unknown CPU"


def fmt(value):
    return f"{value:.1f}" if isinstance(value, float) else value


def table(results, lengths):
    lines = ["| S | " + " | ".join(LABELS[f] + " ms" for f in FORMS)
             + " | softmax / linear | softmax / VQ |",
             "|---|" + "---|" * (len(FORMS) + 2)]
    for s in lengths:
        row = results[s]
        cells = [fmt(row[f]) for f in FORMS]
        ratios = []
        for form in ("linear", "vq"):
            ok = isinstance(row["softmax"], float) and isinstance(row[form], float)
            ratios.append(f"{row['softmax'] / row[form]:.1f}x" if ok else "-")
        lines.append(f"| {s} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def targets(results, lengths):
    """The issue's two targets, as lines of text, and whether both hold."""
    lines, ok = [], True
    for form in ("linear", "vq"):
        steps = [results[b][form] / results[a][form]
                 for a, b in zip(lengths, lengths[1:])
                 if isinstance(results[a][form], float)
                 and isinstance(results[b][form], float) and b == 2 * a]
        worst = max(steps) if steps else float("nan")
        # Doubling S may cost a little more than 2x from cache effects.
        good = bool(steps) and worst <= 2.3
        ok &= good
        lines.append(f"- {LABELS[form]}: time ratio per doubling of S "
                     f"{', '.join(f'{x:.2f}' for x in steps)} (target <= 2.3: "
                     f"{'met' if good else 'NOT met'})")
    row = results.get(32768)
    if row and isinstance(row["softmax"], float) and isinstance(row["linear"], float):
        speedup = row["softmax"] / row["linear"]
        good = speedup >= 12
        ok &= good
        lines.append(f"- softmax / linear_attention at S = 32768: {speedup:.1f}x "
                     f"(target >= 12: {'met' if good else 'NOT met'})")
    else:
        ok = False
        lines.append("- softmax / linear_attention at S = 32768: not measured")
    return lines, ok


def write_plot(results, lengths, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for form in FORMS:
        xs = [s for s in lengths if isinstance(results[s][form], float)]
        ax.loglog(xs, [results[s][form] for s in xs], marker="o",
                  label=LABELS[form])
    ax.set_xlabel("sequence length S (causal, B=1, H=8, D=128, f32)")
    ax.set_ylabel("median time (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return True


def write_results(text, path):
    """Replaces the "## Linear-time attention" section where it is (or
    appends it), leaving the other sections as they are."""
    old = open(path).read() if os.path.exists(path) else ""
    start = old.find("## Linear-time attention")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    else:
        end = old.find("\n## ", start + 1)
        rest = old[end + 1:] if end >= 0 else ""
        new = old[:start] + text + ("\n" + rest if rest else "")
    with open(path, "w") as f:
        f.write(new)


def load_average():
    """The 1-minute load average (other jobs on a shared machine distort
    timings: recorded with them)."""
    return f"{os.getloadavg()[0]:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--lengths", type=int, nargs="+",
                        default=[1024, 2048, 4096, 8192, 16384, 32768, 65536])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--softmax-max", type=int, default=65536,
                        help="longest S at which softmax attention is timed")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--write", action="store_true",
                        help="record the results in RESULTS.md and the plot")
    args = parser.parse_args()
    run_tool = os.path.join(args.build_dir, "bin", "attnflow-run")
    if not os.access(run_tool, os.X_OK):
        sys.exit(f"linear_time: {run_tool} not found: build AttnFlow first")

    load_before = load_average()
    results = {}
    for s in args.lengths:
        results[s] = {}
        for form in FORMS:
            if form == "softmax" and s > args.softmax_max:
                results[s][form] = "skipped"
                continue
            # Long softmax cases take tens of seconds: time them once.
            repeat = 1 if form == "softmax" and s >= 16384 else args.repeat
            results[s][form] = time_case(run_tool, form, s, repeat, args.timeout)
            print(f"S={s:6d} {form:8s} {fmt(results[s][form])} ms", flush=True)

    text = table(results, args.lengths)
    target_lines, ok = targets(results, args.lengths)
    print("\n" + text + "\n\n" + "\n".join(target_lines))
    load = f"load average {load_before} at the start, {load_average()} at the end"
    print(load)
    if args.write:
        machine = cpu_model()
        section = ("## Linear-time attention\n\n"
                   "`benchmarks/linear_time.py --write` (causal, B=1, H=8, D=Dv=128, "
                   "f32, attnflow-run median over 3 runs, 1 run for softmax at S >= "
                   f"16384; machine: {machine}, {os.cpu_count()} cores; {load}).\n\n"
                   + text + "\n\n" + "\n".join(target_lines)
                   + "\n\n![time against S](linear_time.png)\n")
        write_results(section, os.path.join(HERE, "RESULTS.md"))
        if not write_plot(results, args.lengths,
                          os.path.join(HERE, "linear_time.png")):
            print("linear_time: matplotlib missing: no plot (run "
                  "benchmarks/setup.sh)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
