#!/usr/bin/env python3
"""AttnFlow CPU attention benchmark (issue 3, points 6 and 7).

Runs ``attnflow.attention`` (B=1, Hq=32, Hkv=8, D=128, float32; causal,
sliding window 4096 and decode cases) through AttnFlow (``attnflow-run``) and
the baselines of backends.py (numpy, onnxruntime, IREE) on the same inputs,
checks every output against the float64 reference on sampled query rows,
measures the host's f32 FMA peak (fma_peak.cpp) and writes RESULTS.md plus a
plot of time against sequence length.

Each backend x case runs in its own subprocess with a wall-clock timeout and
an address-space limit (RLIMIT_AS), so a slow or huge case is reported as
"timeout" / "oom" instead of stopping the run.

Usage (normally through run.sh, under the benchmark's virtual environment):
  harness.py [--quick] [--cases NAME ...] [--backends NAME ...]
             [--timeout S] [--repeat N] [--memory-gib G] [--results-dir DIR]
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)

from attnflow import ir, reference  # noqa: E402
import backends  # noqa: E402

# Llama-3 / Mistral-7B attention geometry (issue 3 §6).
BATCH, HQ, HKV, DIM = 1, 32, 8, 128
# Hugging Face sliding_window = 4096 is window_left = 4095 (DESIGN §3).
WINDOW = 4096

# Absolute error tolerated against the float64 reference (f32 results).
TOLERANCE = 1e-4
# Query rows per sampled block of the correctness check.
CHECK_BLOCK = 64

ALL_BACKENDS = ["attnflow", "numpy", "onnxruntime", "iree-attention",
                "iree-linalg"]
LABELS = {"attnflow": "AttnFlow", "numpy": "numpy", "onnxruntime": "onnxruntime",
          "iree-attention": "IREE attention op", "iree-linalg": "IREE linalg"}
# Packages (as setup.sh names them) each baseline needs.
BACKEND_PACKAGES = {"onnxruntime": ["onnx", "onnxruntime"],
                    "iree-attention": ["iree-base-compiler", "iree-base-runtime"],
                    "iree-linalg": ["iree-base-compiler", "iree-base-runtime"]}
# Environment variables TOOLCHAIN.md says slow numpy's BLAS here; unset for
# the numpy baseline's subprocess only.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def make_case(name, kind, sq, skv, window):
    """A case as a JSON-able dict; window is Hugging Face's sliding_window
    (0 = none).  Every case is causal with bottom-right aligned queries."""
    return {"name": name, "kind": kind, "batch": BATCH, "hq": HQ, "hkv": HKV,
            "dim": DIM, "sq": sq, "skv": skv, "causal": True,
            "window_left": window - 1 if window else -1, "q_offset": skv - sq}


FULL_CASES = [
    make_case("causal-1k", "causal", 1024, 1024, 0),
    make_case("causal-4k", "causal", 4096, 4096, 0),
    make_case("causal-16k", "causal", 16384, 16384, 0),
    make_case("causal-32k", "causal", 32768, 32768, 0),
    make_case("window-8k", "window", 8192, 8192, WINDOW),
    make_case("window-16k", "window", 16384, 16384, WINDOW),
    make_case("window-32k", "window", 32768, 32768, WINDOW),
    make_case("decode-32k", "decode", 1, 32768, 0),
]
# Smoke-test shapes: same geometry, a window that still matters.
QUICK_CASES = [
    make_case("causal-256", "causal", 256, 256, 0),
    make_case("causal-512", "causal", 512, 512, 0),
    make_case("window-256", "window", 256, 256, 128),
    make_case("window-512", "window", 512, 512, 128),
    make_case("decode-1k", "decode", 1, 1024, 0),
]


def visible_pairs(case):
    """Number of visible (query row, key) pairs of one head."""
    p = np.arange(case["sq"], dtype=np.int64) + case["q_offset"]
    hi = np.minimum(case["skv"] - 1, p) if case["causal"] else np.full_like(
        p, case["skv"] - 1)
    lo = np.maximum(0, p - case["window_left"]) if case["window_left"] >= 0 \
        else np.zeros_like(p)
    return int(np.maximum(0, hi - lo + 1).sum())


def visible_flops(case):
    """FLOPs of the visible scores only: 2*D for q.k plus 2*D for p*v per
    visible pair, per query head and batch."""
    return 4 * case["dim"] * visible_pairs(case) * case["hq"] * case["batch"]


def check_rows(case):
    """Sorted query rows the correctness check compares: blocks at the start,
    the window edge, the middle and the end."""
    sq = case["sq"]
    starts = [0, sq // 2 - CHECK_BLOCK // 2, sq - CHECK_BLOCK]
    if case["window_left"] >= 0:
        starts.append(case["window_left"] - case["q_offset"] - CHECK_BLOCK // 2)
    rows = set()
    for s in starts:
        rows.update(range(max(0, s), min(sq, max(0, s) + CHECK_BLOCK)))
    return np.array(sorted(rows), dtype=np.int64)


def reference_rows(case, q, k, v, rows):
    """float64 reference output [B,Hq,len(rows),D] at the given query rows,
    computed block by block (each contiguous block with its own q_offset)."""
    k64, v64 = k.astype(np.float64), v.astype(np.float64)
    blocks, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1:
            a, b = rows[start], rows[i - 1] + 1
            blocks.append(reference.attention(
                q[:, :, a:b], k64, v64, causal=case["causal"],
                window_left=case["window_left"], q_offset=case["q_offset"] + a))
            start = i
    return np.concatenate(blocks, axis=2)


# --------------------------------------------------------------------------
# Subprocess control


def _limit_memory(limit_bytes):
    """preexec_fn: own process group (so a timeout kills every child) and an
    address-space limit."""
    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    return apply


def _busy_cpu_seconds():
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat)."""
    with open("/proc/stat") as fh:
        ticks = [int(x) for x in fh.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_guarded(cmd, timeout, memory_bytes, env=None):
    """Runs cmd with a timeout (seconds) and address-space limit (bytes).

    Returns (returncode or None on timeout, stdout, stderr, wall seconds,
    other): other is the share (0..1) of the machine's CPU time that other
    processes used meanwhile, which slows and disturbs the measurement.
    """
    start, busy, own = time.monotonic(), _busy_cpu_seconds(), _children_cpu_seconds()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env,
                            preexec_fn=_limit_memory(memory_bytes))
    try:
        out, err = proc.communicate(timeout=timeout)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        returncode = None
    wall = time.monotonic() - start
    foreign = (_busy_cpu_seconds() - busy) - (_children_cpu_seconds() - own)
    other = min(1.0, max(0.0, foreign / (wall * os.cpu_count())))
    return returncode, out, err, wall, other


_MEMORY_WORDS = re.compile(r"bad_alloc|out of memory|MemoryError|"
                           r"failed to allocate|RESOURCE_EXHAUSTED|"
                           r"Cannot allocate memory|allocation failed|"
                           r"failed to map segment", re.I)


def classify_failure(returncode, stderr, memory_gib):
    """(status, detail) of a subprocess that did not report a result."""
    tail = [line for line in stderr.strip().splitlines() if line.strip()]
    last = tail[-1][:160] if tail else ""
    if _MEMORY_WORDS.search(stderr):
        match = _MEMORY_WORDS.search(stderr)
        line = next(x for x in stderr.splitlines() if match.group(0) in x)
        return "oom", f"{line.strip()[:160]} (limit {memory_gib} GiB)"
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        return "crash", (f"killed by {name} under the {memory_gib} GiB "
                         f"address-space limit (a failed allocation is the "
                         f"likely cause); last line: {last}")
    return "failed", f"exit {returncode}: {last}"


# --------------------------------------------------------------------------
# Worker side (runs a baseline of backends.py in its own process)


def worker_main(args):
    """Runs one baseline on the case in args.case_dir and writes
    <backend>.json (and <backend>.rows.npy, the output at the check rows)."""
    case_dir, name = args.case_dir, args.worker
    with open(os.path.join(case_dir, "case.json")) as fh:
        case = json.load(fh)
    started = time.monotonic()
    result = {"status": "ok", "times_ms": [], "cold": False}
    try:
        backend = backends.BACKENDS[name]()
        result["describe"] = backend.describe(case)
        q, k, v = (np.load(os.path.join(case_dir, f"{x}.npy")) for x in "qkv")
        rows = np.load(os.path.join(case_dir, "rows.npy"))
        backend.prepare(case, q, k, v)
        result["setup_s"] = time.monotonic() - started
        t = time.perf_counter()
        out = backend()
        first = time.perf_counter() - t
        np.save(os.path.join(case_dir, f"{name}.rows.npy"),
                np.ascontiguousarray(out[:, :, rows], dtype=np.float32))
        del out, q, k, v
        times = []
        budget = min(args.measure_seconds, args.deadline - (time.monotonic() - started))
        spent, last = 0.0, first
        while len(times) < args.repeat and spent + last <= budget:
            t = time.perf_counter()
            backend()
            last = time.perf_counter() - t
            times.append(last)
            spent += last
        if not times:
            # Only the first (cold) run fitted in the time limit.
            times, result["cold"] = [first], True
        result["times_ms"] = [x * 1e3 for x in times]
    except backends.NotApplicable as err:
        result.update(status="n/a", detail=str(err))
    except backends.Missing as err:
        result.update(status="missing", detail=str(err))
    except MemoryError:
        result.update(status="oom", detail=f"MemoryError (limit {args.memory_gib} GiB)")
    except Exception as err:  # noqa: BLE001 - any backend error is a result
        text = f"{type(err).__name__}: {err}".strip().splitlines()
        status = "oom" if _MEMORY_WORDS.search(str(err)) else "failed"
        result.update(status=status, detail=(text[0] if text else "")[:200])
    with open(os.path.join(case_dir, f"{name}.json"), "w") as fh:
        json.dump(result, fh)
    return 0


# --------------------------------------------------------------------------
# Parent side


class Harness:
    """Runs every selected backend on every selected case."""

    def __init__(self, args):
        self.args = args
        self.memory_bytes = int(args.memory_gib * (1 << 30))
        self.work = os.path.join(args.build_dir, "bench")
        os.makedirs(self.work, exist_ok=True)
        self.install = self._install_status()
        # Others may rebuild build/ while this runs: time one snapshot of the
        # tool throughout (it needs no library of the build folder).
        built = os.path.join(args.build_dir, "bin", "attnflow-run")
        self.attnflow_tool, self.attnflow_built = None, None
        if os.access(built, os.X_OK):
            self.attnflow_tool = os.path.join(self.work, "bin", "attnflow-run")
            os.makedirs(os.path.dirname(self.attnflow_tool), exist_ok=True)
            shutil.copy2(built, self.attnflow_tool)
            self.attnflow_built = datetime.datetime.fromtimestamp(
                os.path.getmtime(built), datetime.timezone.utc)
        # Best visible-FLOP rate (GFLOP/s, case) of each baseline so far,
        # from prefill cases only: decode is memory-bound.
        self.rates = {}

    def _install_status(self):
        """{package: None if installed, else pip's reason} from setup.sh."""
        path = os.path.join(os.path.dirname(sys.executable), os.pardir,
                            "install-status")
        status = {}
        if os.path.isfile(path):
            with open(path) as fh:
                for line in fh.read().splitlines()[1:]:
                    package, _, rest = line.partition(" ")
                    status[package] = None if rest == "ok" else rest
        return status

    # -- peak ---------------------------------------------------------------

    def fma_peak(self):
        """One measurement of the f32 FMA peak: dict with single_gflops,
        all_gflops, isa, lanes, threads (attnflow-fma-peak's JSON) and
        'source'."""
        source = os.path.join(HERE, "fma_peak.cpp")
        tool = os.path.join(self.args.build_dir, "bin", "attnflow-fma-peak")
        if not (os.path.isfile(tool)
                and os.path.getmtime(tool) >= os.path.getmtime(source)):
            # Not built by CMake (or older than its source): build it here.
            tool = os.path.join(self.work, "attnflow-fma-peak")
            if not (os.path.isfile(tool)
                    and os.path.getmtime(tool) >= os.path.getmtime(source)):
                subprocess.run(["g++", "-O2", "-std=c++17", "-pthread", source,
                                "-o", tool], check=True)
        proc = subprocess.run([tool, f"--threads={self.args.threads}"],
                              capture_output=True, text=True, check=True)
        peak = json.loads(proc.stdout)
        peak["source"] = os.path.relpath(tool, ROOT)
        return peak

    # -- one case -----------------------------------------------------------

    def run_case(self, case):
        """Results (list of dicts, one per backend) of one case."""
        case = dict(case, threads=self.args.threads)
        case_dir = os.path.join(self.work, case["name"])
        shutil.rmtree(case_dir, ignore_errors=True)
        os.makedirs(case_dir)
        seed = sum(map(ord, case["name"]))
        rng = np.random.default_rng(seed)
        q = rng.standard_normal((BATCH, HQ, case["sq"], DIM), dtype=np.float32)
        k = rng.standard_normal((BATCH, HKV, case["skv"], DIM), dtype=np.float32)
        v = rng.standard_normal((BATCH, HKV, case["skv"], DIM), dtype=np.float32)
        for name, array in zip("qkv", (q, k, v)):
            np.save(os.path.join(case_dir, f"{name}.npy"), array)
        rows = check_rows(case)
        np.save(os.path.join(case_dir, "rows.npy"), rows)
        expected = reference_rows(case, q, k, v, rows)
        del q, k, v
        with open(os.path.join(case_dir, "case.json"), "w") as fh:
            json.dump(case, fh)

        flops = visible_flops(case)
        results = []
        for backend in self.args.backends:
            result = self.run_backend(backend, case, case_dir, flops)
            result.update(case=case["name"], backend=backend)
            rows_path = os.path.join(case_dir, f"{backend}.rows.npy")
            if result["status"] == "ok" and os.path.isfile(rows_path):
                got = np.load(rows_path).astype(np.float64)
                err = float(np.max(np.abs(got - expected))) if np.all(
                    np.isfinite(got)) else math.inf
                result["err"] = err
                if not err <= TOLERANCE:
                    result.update(status="wrong", detail=(
                        f"max abs error {err:.2e} > {TOLERANCE:.0e} on "
                        f"{len(rows)} sampled rows"))
            if result.get("times_ms") and "median_ms" not in result:
                result["median_ms"] = float(np.median(result["times_ms"]))
                result["min_ms"] = float(np.min(result["times_ms"]))
                result["runs"] = len(result["times_ms"])
            if "median_ms" in result:
                result["gflops"] = flops / (result["median_ms"] * 1e-3) * 1e-9
                if (result["status"] == "ok" and backend != "attnflow"
                        and case["kind"] != "decode"):
                    best = self.rates.get(backend)
                    if best is None or result["gflops"] > best[0]:
                        self.rates[backend] = (result["gflops"], case["name"])
            results.append(result)
            print(f"  {case['name']:>11} {backend:<15} {format_status(result)}",
                  flush=True)
        if not self.args.keep:
            shutil.rmtree(case_dir, ignore_errors=True)
        return results

    def run_backend(self, backend, case, case_dir, flops):
        """Result dict (status, detail, times_ms, cold, setup_s, describe)."""
        for package in BACKEND_PACKAGES.get(backend, []):
            if self.install.get(package):
                return {"status": "missing", "detail": (
                    f"{package} did not install: {self.install[package]}")}
        if backend == "attnflow":
            return self.run_attnflow(case, case_dir)
        best = self.rates.get(backend)
        if best and case["kind"] != "decode" and not self.args.no_predict:
            # Visible FLOPs are a lower bound of any backend's work, so this
            # never skips a run that would have finished at the same rate.
            predicted = flops / (best[0] * 1e9)
            if predicted > self.args.timeout:
                return {"status": "timeout", "detail": (
                    f"not run: at its {best[0]:.1f} GFLOP/s on {best[1]} it "
                    f"needs >= {predicted:.0f} s per call, over the "
                    f"{self.args.timeout:.0f} s limit")}
        env = dict(os.environ)
        if backend == "numpy":
            for name in OPENBLAS_OVERRIDES:
                env.pop(name, None)
        margin = 5.0
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", backend,
               "--case-dir", case_dir, "--deadline", str(self.args.timeout - margin),
               "--repeat", str(self.args.repeat),
               "--measure-seconds", str(self.args.measure_seconds),
               "--memory-gib", str(self.args.memory_gib)]
        rc, _, err, wall, other = run_guarded(cmd, self.args.timeout,
                                              self.memory_bytes, env)
        path = os.path.join(case_dir, f"{backend}.json")
        if rc is None:
            return {"status": "timeout", "detail": (
                f"killed after {self.args.timeout:.0f} s")}
        if not os.path.isfile(path):
            status, detail = classify_failure(rc, err, self.args.memory_gib)
            return {"status": status, "detail": detail}
        with open(path) as fh:
            result = json.load(fh)
        result.update(wall_s=wall, other=other)
        return result

    def run_attnflow(self, case, case_dir):
        """AttnFlow through attnflow-run: a first (cold) run that writes the
        output for the check, then --warmup=1 --repeat=N if time allows."""
        tool = self.attnflow_tool
        if tool is None:
            return {"status": "missing", "detail": (
                f"{os.path.relpath(self.args.build_dir, ROOT)}/bin/attnflow-run "
                "not built (scripts/build.sh)")}
        module = os.path.join(case_dir, "attnflow.mlir")
        wl = case["window_left"]
        with open(module, "w") as fh:
            fh.write(ir.attention_module(
                (BATCH, HQ, case["sq"], DIM), (BATCH, HKV, case["skv"], DIM),
                (BATCH, HKV, case["skv"], DIM), causal=case["causal"],
                window_left=wl if wl >= 0 else None))
        out = os.path.join(case_dir, "attnflow.out.npy")
        base = [tool, module, *[f"--input={os.path.join(case_dir, x)}.npy"
                                for x in "qkv"], f"--threads={self.args.threads}"]
        describe = (f"attnflow-run (JIT, attnflow-cpu-pipeline) "
                    f"--threads={self.args.threads}")
        rc, stdout, stderr, wall, other = run_guarded(
            base + [f"--output={out}", "--repeat=1", "--warmup=0"],
            self.args.timeout, self.memory_bytes)
        if rc is None:
            return {"status": "timeout", "describe": describe, "detail": (
                f"first run killed after {self.args.timeout:.0f} s")}
        timing = parse_attnflow_times(stdout + stderr)
        if rc != 0 or timing is None or not os.path.isfile(out):
            status, detail = classify_failure(rc, stderr, self.args.memory_gib)
            return {"status": status, "describe": describe, "detail": detail}
        first = timing[1]
        rows = np.load(os.path.join(case_dir, "rows.npy"))
        np.save(os.path.join(case_dir, "attnflow.rows.npy"),
                np.ascontiguousarray(np.load(out, mmap_mode="r")[:, :, rows]))
        os.remove(out)
        result = {"status": "ok", "describe": describe, "times_ms": [first],
                  "cold": True, "setup_s": wall - first * 1e-3, "wall_s": wall,
                  "other": other}
        remaining = self.args.timeout - wall
        budget = min(self.args.measure_seconds, remaining - result["setup_s"])
        # One warm-up plus the timed runs must fit in the budget.
        repeat = min(self.args.repeat, int(budget / (first * 1e-3)) - 1)
        if repeat >= 1:
            rc, stdout, stderr, wall, other = run_guarded(
                base + [f"--repeat={repeat}", "--warmup=1"], remaining,
                self.memory_bytes)
            timing = parse_attnflow_times(stdout + stderr) if rc == 0 else None
            if timing:
                # attnflow-run reports min and median; keep both.
                result.update(cold=False, runs=timing[2], min_ms=timing[0],
                              median_ms=timing[1], other=other)
                result["wall_s"] += wall
        return result


def parse_attnflow_times(text):
    """(min ms, median ms, runs) from attnflow-run's --repeat line, or None."""
    match = re.search(r"min\s+([0-9.]+)\s*ms,\s*median\s+([0-9.]+)\s*ms\s+over"
                      r"\s+(\d+)\s+run", text)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2)), int(match.group(3))


def format_status(r):
    """One progress line for a result."""
    if r["status"] in ("ok", "wrong") and "median_ms" in r:
        text = (f"{r['status']:<5} median {r['median_ms']:10.1f} ms "
                f"(n={r['runs']}{', cold' if r['cold'] else ''}) "
                f"{r['gflops']:7.1f} GFLOP/s  err {r.get('err', math.nan):.1e}"
                f"  other CPU {100 * r.get('other', 0):.0f} %")
        return text + (f"  {r['detail']}" if r["status"] == "wrong" else "")
    return f"{r['status']}: {r.get('detail', '')}"


# --------------------------------------------------------------------------
# Report


def machine_info(args, attnflow_built):
    """Ordered (label, value) pairs describing the host and the software;
    attnflow_built: the timed attnflow-run's build time (datetime) or None."""
    cpu = {}
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            key, _, val = line.partition(":")
            cpu.setdefault(key.strip(), val.strip())
    flags = set(cpu.get("flags", "").split())
    vector = [f for f in ("avx512f", "avx512_bf16", "avx2", "fma") if f in flags]
    caches = []
    base = "/sys/devices/system/cpu/cpu0/cache"
    for index in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        try:
            with open(os.path.join(base, index, "level")) as fh:
                level = fh.read().strip()
            with open(os.path.join(base, index, "type")) as fh:
                kind = fh.read().strip()
            with open(os.path.join(base, index, "size")) as fh:
                size = fh.read().strip()
        except OSError:
            continue
        if kind != "Instruction":
            caches.append(f"L{level} {size}")
    with open("/proc/meminfo") as fh:
        mem_kib = int(fh.readline().split()[1])
    os_name = platform.platform()
    if os.path.isfile("/etc/os-release"):
        with open("/etc/os-release") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')

    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True,
                                  check=True).stdout.splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "not found"

    commit = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain"],
                           capture_output=True, text=True).stdout.strip()
    return [
        ("CPU", f"{cpu.get('model name', '?')} (family {cpu.get('cpu family', '?')}, "
                f"model {cpu.get('model', '?')}, stepping {cpu.get('stepping', '?')}); "
                f"{', '.join(vector)}; caches per core/shared: {', '.join(caches)}"),
        ("Cores used", f"{args.threads} (of {os.cpu_count()} online)"),
        ("Memory", f"{mem_kib / (1 << 20):.1f} GiB"),
        ("OS", f"{os_name}, Linux {platform.release()}"),
        ("C++ compiler", first_line(["g++", "--version"])),
        ("LLVM/MLIR", first_line(["/usr/lib/llvm-22/bin/llvm-config", "--version"])),
        ("Python / numpy", f"{platform.python_version()} / {np.__version__}"),
        ("AttnFlow", f"commit {commit}" + (" plus uncommitted changes" if dirty else "")
         + (f"; attnflow-run built {attnflow_built:%Y-%m-%d %H:%M} UTC"
            if attnflow_built else "")),
    ]


def cell(r, attnflow):
    """Summary-table cell of a baseline: 'ms (ratio x)' or its status."""
    if r["status"] == "ok":
        text = f"{r['median_ms']:.1f}"
        if attnflow and attnflow["status"] == "ok":
            text += f" ({r['median_ms'] / attnflow['median_ms']:.2f}x)"
        return text + (" cold" if r["cold"] else "")
    return r["status"]


def targets(results, peak):
    """Lines evaluating issue 3 §7 on the full shapes."""
    by = {(r["case"], r["backend"]): r for r in results}
    lines = []
    c4 = by.get(("causal-4k", "attnflow"))
    if c4 is None:
        return ["Not evaluated: the targets need AttnFlow's causal-4k run "
                "(full shapes, run without --quick or --cases)."]
    if c4["status"] == "ok":
        frac = c4["gflops"] / peak["all_gflops"]
        verdict = "met" if frac >= 0.35 else "MISSED"
        stretch = " (stretch 50 %: met)" if frac >= 0.5 else " (stretch 50 %: not met)"
        lines.append(f"- causal S=4096 at >= 35 % of the measured all-core peak: "
                     f"{verdict}: {c4['gflops']:.1f} GFLOP/s = {100 * frac:.1f} % "
                     f"of {peak['all_gflops']:.0f}{stretch}.")
        slower = []
        for backend in ALL_BACKENDS[1:]:
            b = by.get(("causal-4k", backend))
            if b and b["status"] == "ok" and b["median_ms"] <= c4["median_ms"]:
                slower.append(f"{backend} ({b['median_ms']:.1f} ms vs "
                              f"{c4['median_ms']:.1f} ms)")
        lines.append("- causal S=4096 faster than every baseline that ran: " + (
            "MISSED: slower than " + ", ".join(slower) if slower else "met"))
    else:
        lines.append(f"- causal S=4096: MISSED: AttnFlow {c4['status']} "
                     f"({c4.get('detail', '')}).")
    w8, w32 = by.get(("window-8k", "attnflow")), by.get(("window-32k", "attnflow"))
    if w8 and w32 and w8["status"] == "ok" and w32["status"] == "ok":
        ratio = w32["median_ms"] / w8["median_ms"]
        cases = {c["name"]: c for c in FULL_CASES}
        work = visible_flops(cases["window-32k"]) / visible_flops(cases["window-8k"])
        lines.append(f"- window time linear in S (S=32768 <= 4.5x S=8192): "
                     f"{'met' if ratio <= 4.5 else 'MISSED'}: {ratio:.2f}x "
                     f"({w8['gflops']:.1f} and {w32['gflops']:.1f} GFLOP/s). "
                     f"The visible work itself grows {work:.2f}x (the first "
                     f"{WINDOW} rows see fewer keys), so 4.5x needs "
                     f"{work / 4.5:.2f}x the throughput at S=32768.")
    else:
        status = ", ".join(f"{n}: {r['status'] if r else 'not run'}"
                           for n, r in (("window-8k", w8), ("window-32k", w32)))
        lines.append(f"- window time linear in S: not measurable ({status}).")
    return lines


def short_length(n):
    """'16k' for 16384, '512' for 512."""
    return f"{n // 1024}k" if n % 1024 == 0 else str(n)


def write_plot(results, cases, path):
    """PNG of median time against S, causal and window panels; returns None
    or the reason there is no plot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError as err:
        return f"matplotlib not importable: {err}"
    kinds = [("causal", "Causal (full) attention"),
             ("window", "Causal sliding window")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    markers = dict(zip(ALL_BACKENDS, "os^vD"))
    by_name = {c["name"]: c for c in cases}
    for ax, (kind, title) in zip(axes, kinds):
        window = {c["window_left"] + 1 for c in cases if c["kind"] == kind
                  and c["window_left"] >= 0}
        if window:
            title += f" {window.pop()}"
        for backend in ALL_BACKENDS:
            points = sorted((by_name[r["case"]]["sq"], r["median_ms"])
                            for r in results if r["backend"] == backend
                            and r["status"] == "ok"
                            and by_name[r["case"]]["kind"] == kind)
            failed = [f"S={short_length(by_name[r['case']]['sq'])}: {r['status']}"
                      for r in results if r["backend"] == backend
                      and r["status"] != "ok"
                      and by_name[r["case"]]["kind"] == kind]
            if not points and not failed:
                continue
            label = LABELS[backend] + (f" ({', '.join(failed)})" if failed else "")
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker=markers[backend], label=label,
                        linewidth=2.5 if backend == "attnflow" else 1.5)
            else:
                ax.plot([], [], marker=markers[backend], linestyle="none",
                        label=label)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda x, _: short_length(int(round(x)))))
        ax.set_yscale("log")
        ax.set_xlabel("sequence length S (= Sq = Skv)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    axes[0].set_ylabel("median time per call (ms)")
    fig.suptitle(f"Attention, B={BATCH} Hq={HQ} Hkv={HKV} D={DIM} f32, "
                 f"all cores; missing points are named in the legend")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def report(args, cases, results, peak, info, load, plot_note, plot_name):
    """RESULTS.md text."""
    by = {(r["case"], r["backend"]): r for r in results}
    backends_run = [b for b in ALL_BACKENDS if b in args.backends]
    lines = ["# AttnFlow CPU attention benchmark", "",
             f"Generated by `benchmarks/run.sh{' --quick' if args.quick else ''}` "
             f"on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
             f"(issue 3, points 6 and 7). Regenerate with the same command.", "",
             "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info]
    # The end figure includes this run's own load; the per-measurement share
    # of other processes (see "other CPU %") is what tells noise apart.
    others = [r["other"] for r in results if "other" in r]
    lines += [f"| Load average (1 min) at start / end | {load[0]:.2f} / {load[1]:.2f}"
              + (f"; other processes' share of the CPU during any measurement: "
                 f"at most {100 * max(others):.0f} %" if others else "") + " |", "",
              "## Measured f32 FMA peak", "",
              f"{peak['isa']} ({peak['lanes']} f32 lanes), independent FMA chains "
              f"({peak['source']}, from benchmarks/fma_peak.cpp): "
              f"**{peak['single_gflops']:.1f} GFLOP/s on one core, "
              f"{peak['all_gflops']:.1f} GFLOP/s on {peak['threads']} cores**, "
              "the larger of two measurements (one core / all cores: "
              + ", ".join(f"{s:.1f} / {a:.1f}" for s, a in peak["measured"])
              + ", at the start and at the end of the run). \"% peak\" below "
              "divides by the all-core figure.", "",
              "## What ran", ""]
    described = {}
    for r in results:
        if r.get("describe"):
            described.setdefault(r["backend"], r["describe"])
    for b in backends_run:
        lines.append(f"- **{b}**: {described.get(b, 'did not start (see the table)')}")
    lines += ["", "Inputs: q [1,32,S,128], k and v [1,8,S,128], float32 N(0,1), one set "
              "per case shared by all backends; every case is causal (bottom-right "
              "aligned: query row i sits at position Skv - Sq + i); window cases use "
              f"Hugging Face sliding_window {WINDOW} (window_left = {WINDOW - 1}).",
              "",
              "## Results", "",
              "Median time per call in ms. GFLOP/s counts visible scores only: "
              "4 * D * (visible (query, key) pairs) * Hq * B. Baseline cells read "
              "`ms (baseline / AttnFlow)`: above 1.00x AttnFlow is faster.", ""]
    head = ["case", "Sq x Skv", "visible GFLOP", "AttnFlow ms", "GFLOP/s",
            "% peak", "max err"] + [f"{b} ms" for b in backends_run if b != "attnflow"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cases:
        a = by.get((c["name"], "attnflow"))
        flops = visible_flops(c) * 1e-9
        row = [c["name"], f"{c['sq']} x {c['skv']}", f"{flops:.1f}"]
        if a and a["status"] == "ok":
            row += [f"{a['median_ms']:.1f}" + (" cold" if a["cold"] else ""),
                    f"{a['gflops']:.1f}",
                    f"{100 * a['gflops'] / peak['all_gflops']:.1f}",
                    f"{a['err']:.1e}" if "err" in a else ""]
        else:
            row += [a["status"] if a else "not run", "", "", ""]
        ok = a if a and a["status"] == "ok" else None
        row += [cell(by[(c["name"], b)], ok) for b in backends_run
                if b != "attnflow" and (c["name"], b) in by]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Every backend and case", "",
              "| case | backend | status | median ms | min ms | runs | GFLOP/s | "
              "% peak | max err | baseline / AttnFlow | other CPU % | setup s | "
              "detail |",
              "|" + "---|" * 13]
    for c in cases:
        a = by.get((c["name"], "attnflow"))
        for b in backends_run:
            r = by.get((c["name"], b))
            if r is None:
                continue
            timed = "median_ms" in r
            ratio = ""
            if (timed and b != "attnflow" and r["status"] == "ok" and a
                    and a["status"] == "ok"):
                ratio = f"{r['median_ms'] / a['median_ms']:.2f}"
            lines.append("| " + " | ".join([
                c["name"], b, r["status"],
                f"{r['median_ms']:.1f}" if timed else "",
                f"{r['min_ms']:.1f}" if timed else "",
                (f"{r['runs']}" + (" (cold)" if r["cold"] else "")) if timed else "",
                f"{r['gflops']:.1f}" if timed else "",
                f"{100 * r['gflops'] / peak['all_gflops']:.1f}" if timed else "",
                f"{r['err']:.1e}" if "err" in r else "",
                ratio,
                f"{100 * r['other']:.0f}" if "other" in r else "",
                f"{r['setup_s']:.1f}" if "setup_s" in r else "",
                r.get("detail", "").replace("|", "/")]) + " |")
    lines += ["", "## Targets (issue 3 §7)", ""] + targets(results, peak)
    lines += ["", "## How to read this", "",
              f"- Each backend x case ran in its own process with a {args.timeout:.0f} s "
              f"wall-clock limit and a {args.memory_gib} GiB address-space limit "
              "(RLIMIT_AS). `timeout`: killed at the limit, or (for a baseline, "
              "`not run: ...`) its best GFLOP/s measured earlier in this run "
              "predicts a call longer than the limit (visible FLOPs are a lower "
              "bound of its work). `oom`: an allocation failed under the limit. "
              "`crash`: killed by a signal under the limit (AttnFlow's generated "
              "code does not check malloc, so a failed allocation shows up as "
              "SIGSEGV). `n/a`: the backend cannot express the case. `missing`: "
              "its package did not install or import.",
              f"- Timing: a first (cold) call whose output is checked, then up to "
              f"{args.repeat} timed calls within {args.measure_seconds:.0f} s; "
              "AttnFlow: attnflow-run's own --repeat/--warmup=1 timing of the "
              "call (JIT compilation excluded). `cold`: only the first call fitted "
              "in the limit, so its time (page faults included) is reported.",
              "- `other CPU %`: share of the machine's CPU time that other "
              "processes used while that backend ran (from /proc/stat, less the "
              "backend's own CPU time); well above 0 means the figure is slowed "
              "by them.",
              f"- Correctness: every output is compared with the float64 reference "
              f"(python/attnflow/reference.py) on sampled blocks of {CHECK_BLOCK} "
              f"query rows (start, window edge, middle, end); above "
              f"{TOLERANCE:.0e} it is reported `wrong` and never as a win.",
              "- The numpy baseline runs with OPENBLAS_CORETYPE and "
              "OPENBLAS_L2_SIZE unset (TOOLCHAIN.md); every other process keeps "
              "the workplace's environment.",
              "- iree-attention is IREE's attention op; for f32 on llvm-cpu IREE "
              "configures it (lowering_config in --iree-hal-dump-executable-files-to "
              "output) with vector tiles of 1 query row x 16 output columns x 4 "
              "keys, which is why it is far slower than iree-linalg, whose "
              "contractions get IREE's matmul code generation but which "
              "materializes Hq*Sq*Skv scores (oom beyond a few thousand tokens). "
              "Neither IREE form skips masked keys.", ""]
    if plot_note:
        lines += [f"Plot: missing ({plot_note}).", ""]
    else:
        lines += [f"![time against S]({plot_name})", ""]
    return "\n".join(lines)


def print_summary(text):
    """Prints the Results and Targets sections of the report."""
    keep, on = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            on = line in ("## Results", "## Every backend and case",
                          "## Targets (issue 3 §7)")
        if on:
            keep.append(line)
    print("\n".join(keep))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small shapes (smoke test, about a minute)")
    parser.add_argument("--cases", nargs="+", metavar="NAME",
                        help="subset of the cases (names as in the table)")
    parser.add_argument("--backends", nargs="+", choices=ALL_BACKENDS,
                        default=ALL_BACKENDS)
    parser.add_argument("--timeout", type=float,
                        help="seconds per backend per case (default 120, quick 60)")
    parser.add_argument("--repeat", type=int,
                        help="timed calls at most (default 5, quick 3)")
    parser.add_argument("--measure-seconds", type=float,
                        help="timed calls stop after this many seconds "
                             "(default 20, quick 10)")
    parser.add_argument("--memory-gib", type=float, default=12.0,
                        help="address-space limit of every backend process")
    parser.add_argument("--threads", type=int,
                        default=len(os.sched_getaffinity(0)))
    parser.add_argument("--build-dir", default=os.environ.get(
        "ATTNFLOW_BUILD_DIR", os.path.join(ROOT, "build")))
    parser.add_argument("--results-dir",
                        help="where RESULTS.md and the plot go (default "
                             "benchmarks/, quick: BUILD/bench)")
    parser.add_argument("--no-predict", action="store_true",
                        help="run baselines even when their measured rate "
                             "predicts a timeout")
    parser.add_argument("--keep", action="store_true",
                        help="keep the per-case inputs and modules in BUILD/bench")
    # Worker mode (internal): one baseline on one prepared case.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--case-dir", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    args.timeout = args.timeout or (60.0 if quick else 120.0)
    args.repeat = args.repeat or (3 if quick else 5)
    args.measure_seconds = args.measure_seconds or (10.0 if quick else 20.0)
    if args.worker:
        return worker_main(args)

    cases = QUICK_CASES if quick else FULL_CASES
    if args.cases:
        known = {c["name"]: c for c in QUICK_CASES + FULL_CASES}
        unknown = [n for n in args.cases if n not in known]
        if unknown:
            parser.error(f"unknown cases {unknown}; known: {', '.join(known)}")
        cases = [known[n] for n in args.cases]
    args.backends = [b for b in ALL_BACKENDS if b in args.backends]
    results_dir = args.results_dir or (os.path.join(args.build_dir, "bench")
                                       if quick else HERE)
    os.makedirs(results_dir, exist_ok=True)

    harness = Harness(args)
    load_start = os.getloadavg()[0]
    if load_start > 0.5:
        print(f"warning: load average {load_start:.2f}: other processes are "
              "running, times will be noisy", flush=True)
    peak = harness.fma_peak()
    print(f"FMA peak ({peak['isa']}): {peak['single_gflops']:.1f} GFLOP/s one core, "
          f"{peak['all_gflops']:.1f} GFLOP/s on {peak['threads']} cores", flush=True)
    results = []
    for case in cases:
        print(f"{case['name']}: Sq={case['sq']} Skv={case['skv']} "
              f"window_left={case['window_left']} "
              f"visible GFLOP={visible_flops(case) * 1e-9:.1f}", flush=True)
        results += harness.run_case(case)
    load = (load_start, os.getloadavg()[0])
    # Other processes can only lower a measured peak: measure it again at the
    # end and keep the larger of each figure.
    again = harness.fma_peak()
    peak["measured"] = [(peak["single_gflops"], peak["all_gflops"]),
                        (again["single_gflops"], again["all_gflops"])]
    peak["single_gflops"] = max(peak["single_gflops"], again["single_gflops"])
    peak["all_gflops"] = max(peak["all_gflops"], again["all_gflops"])
    print(f"FMA peak at the end: {again['single_gflops']:.1f} / "
          f"{again['all_gflops']:.1f} GFLOP/s", flush=True)
    plot_name = "attention_time.png"
    plot_note = write_plot(results, cases, os.path.join(results_dir, plot_name))
    text = report(args, cases, results, peak,
                  machine_info(args, harness.attnflow_built), load,
                  plot_note, plot_name)
    with open(os.path.join(results_dir, "RESULTS.md"), "w") as fh:
        fh.write(text)
    print()
    print_summary(text)
    print(f"\nwrote {os.path.join(results_dir, 'RESULTS.md')}"
          + ("" if plot_note else f" and {plot_name}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
