#!/usr/bin/env python3
"""AttnFlow on a GPU: correctness and speed against numpy and PyTorch (issue
point 5).  ``scripts/gpu-check.sh`` is the thin wrapper that runs it.

Two halves, for two machines:

``prepare`` (build machine: LLVM/MLIR and the CUDA toolkit, no GPU)
    Builds AttnFlow if asked, writes one MLIR module per case, compiles each
    with ``attnflow-compile --target=cuda --gpu-arch=sm_90 --emit=obj`` and
    links it into a shared object, and puts everything the GPU machine needs
    into one folder, the *bundle* (default ``build/gpu-bundle``)::

        bin/attnflow-cuda-run          the harness (links no MLIR library)
        lib/*.so                       its runtime (libattnflow_cuda_runtime)
                                       and any other library it needs that a
                                       GPU machine may lack
        modules/<case>.so              one compiled module per case
        mlir/<case>.mlir               the module's source, for the record
        manifest.json                  every case: shapes, dtype, attention
                                       attributes, RoPE parameters, entry,
                                       argument list, seed, checked rows

    It checks that the examples still are the modules their descriptions
    here say (attnflow-opt prints both alike), that every library the harness
    and the modules need is either in the bundle or a system library every
    Linux GPU machine has (libc, libm, libstdc++, libgcc_s, the CUDA driver),
    that the modules' undefined symbols are defined by them, and that the
    bundle stays under 60 MiB; it prints the glibc / libstdc++ versions the
    GPU machine needs.

``run`` (GPU machine: CUDA driver, python3 with numpy and torch; no MLIR)
    For each case of the manifest: seeded N(0, 1) inputs (positions
    ``arange``), written as .npy; ``attnflow-cuda-run`` runs the module with
    ``--repeat/--warmup`` (cases run cheapest first; each is sized from the
    rate its dtype reached on the previous case and skipped when it no longer
    fits the time budget, ``--budget-s``) and writes the output, which is
    compared with

    (a) the float64 numpy reference (python/attnflow/reference.py) on the
        case's check rows (all rows up to 1024 queries, else blocks of 64 rows
        at the start, the window edge, the middle and the end; each row's
        reference is exact, only not every row is checked); bf16 cases feed
        the reference the bf16-rounded inputs the kernel sees;
    (b) PyTorch on the same (rounded, RoPE-rotated) inputs on the GPU:
        ``scaled_dot_product_attention`` with each fused backend (flash, cuDNN,
        memory-efficient) that accepts the case, fastest one reported; masks
        other than square causal are passed as an additive float mask built
        before timing; k/v heads are repeated for GQA before timing.  Soft-
        capped logits (Gemma 2) are not expressible in SDPA: those use an
        eager f32 implementation in torch, chunked over query rows and
        band-limited to the visible keys ("eager").

Units and definitions (also written into the report):
    max err       max |AttnFlow - other| over the compared elements (absolute)
    ms            median time of one call: AttnFlow as attnflow-cuda-run
                  reports it (CUDA events around the whole call: launches,
                  result allocation, kernels; inputs already on the device),
                  torch from CUDA events around the SDPA call alone
    TFLOP/s       visible FLOPs / median time, visible FLOPs = 2 (D + Dv) per
                  visible (query, key) pair per head and batch, i.e.
                  4 B Hq D pairs for D = Dv; masked pairs count zero for both
                  AttnFlow and torch (torch's masked SDPA still computes them),
                  and RoPE is not counted
    torch/AttnFlow  torch median / AttnFlow median: above 1 AttnFlow is faster

Tolerances against the reference: 2e-2 (bf16), 1e-4 (f32).  A case over its
tolerance, failing, timing out or skipped for the time budget is flagged and
makes the exit status 1, after the whole table is printed.  The report is
rewritten to --out (default $OUT: gpu-check.md, gpu-check.json and the logs of
failed harness calls) after every case, so a run cut short still leaves it.

The float64 reference, the visibility rule, the FLOP count, the bf16 rounding,
the manifest and the torch eager path's arithmetic are tested without torch or
a GPU by benchmarks/test_gpu_check.py; ``run --cpu-stand-in`` runs the whole
``run`` half on this machine with the CPU ``attnflow-run`` in place of
``attnflow-cuda-run`` (for testing the script, not for results).

Usage:
  gpu_check.py prepare [--small] [--cases NAME ...] [--no-build] [--cpu-only]
                       [--bundle DIR] [--build-dir DIR] [--gpu-arch sm_90]
  gpu_check.py run [--bundle DIR] [--out DIR] [--budget-s S] [--cases ...]
                   [--no-torch] [--cpu-stand-in]
"""

import argparse
import concurrent.futures
import datetime
import glob
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))

from attnflow import ir, reference  # noqa: E402
from attnflow.random_features import favor_plus_projection  # noqa: E402

MANIFEST_VERSION = 1
DEFAULT_BUNDLE = os.path.join(ROOT, "build", "gpu-bundle")
HARNESS = "attnflow-cuda-run"
MARKER = ".gpu-check-bundle"
RUNTIME_GLOB = "libattnflow_cuda_runtime.so*"
CLANG = "/usr/lib/llvm-22/bin/clang"
BUNDLE_LIMIT_MIB = 60

# Absolute error tolerated against the float64 reference, per element type.
TOLERANCE = {"bf16": 2e-2, "f16": 5e-3, "f32": 1e-4, "f64": 1e-8}
# Query rows checked against the reference: every row up to this many
# queries, else blocks of CHECK_BLOCK rows.
FULL_CHECK_ROWS = 1024
CHECK_BLOCK = 64

# attnflow.attention attributes a case may set (DESIGN §3).  The torch paths
# implement exactly these; sinks, ALiBi, log-n and bias are not needed here.
ATTENTION_KEYS = ("scale", "causal", "window_left", "window_right", "q_offset",
                  "logit_softcap")
ROPE_KEYS = ("theta", "rotary_dim", "layout", "scaling")
# The linear-time ops a case may run instead of attention (DESIGN §3).
LINEAR_OPS = ("linear_attention", "vq_attention")

# Libraries a GPU machine is assumed to have (the CUDA driver included); any
# other library the harness or a module needs must be in the bundle.
SYSTEM_LIBS = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0",
               "librt.so.1", "libstdc++.so.6", "libgcc_s.so.1",
               "ld-linux-x86-64.so.2", "libcuda.so.1"}
# Where prepare looks for a needed library to copy into the bundle (after the
# build folder's lib/).
LIBRARY_DIRS = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib",
                "/usr/lib/llvm-22/lib"]
# Libraries never to carry: a harness or module needing them is built wrong
# (DESIGN §5: attnflow-cuda-run links no MLIR library).
FORBIDDEN_LIBS = re.compile(r"^lib(MLIR|LLVM|clang)")


# ---------------------------------------------------------------------------
# Cases


LLAMA3_ROPE = {"theta": 500000.0,
               "scaling": {"kind": "llama3", "factor": 8.0,
                           "original_max_position": 8192,
                           "low_freq_factor": 1.0, "high_freq_factor": 4.0}}
# Hugging Face sliding_window = 4096 is window_left = 4095 (DESIGN §3).
HF_WINDOW_4096 = 4095


def make_case(name, model, *, dtype, hq, hkv, sq, skv, dim, attention,
              dv=None, batch=1, rope=None, positions=None, source=None,
              seed=None, entry="main", op=None):
    """A case as a JSON-able dict (one manifest entry).

    op: None for attnflow.attention, else a linear-time op (LINEAR_OPS):
      {"kind": "linear_attention", "feature_map": F, "features": M} (M only
      for favor_plus: the projection [M, D] is an argument) or
      {"kind": "vq_attention", "codes": C} (a shared codebook [C, D]); their
      attention holds "causal" only and there is no RoPE.

    attention: attnflow.attention attributes (ATTENTION_KEYS; absent = the
      op's default).  rope: None (no RoPE) or attnflow.rope attributes
      (ROPE_KEYS; {} = all defaults), applied to q and k alike.
    positions: with rope, "shared" (one [S] argument for q and k, Sq = Skv)
      or "separate" (q_positions [Sq] = Skv-Sq..Skv-1, k_positions [Skv]).
    source: repo-relative path of the .mlir this case runs as written (an
      example), or None for a module generated with attnflow.ir.
    seed: of the input generator; default derived from the name.
    """
    if op is not None:
        if op.get("kind") not in LINEAR_OPS or set(attention) - {"causal"} or rope:
            raise ValueError(f"{name}: op {op} needs kind in {LINEAR_OPS}, "
                             "attention {'causal'} at most and no RoPE")
    unknown = set(attention) - set(ATTENTION_KEYS)
    if unknown:
        raise ValueError(f"{name}: attention attributes {sorted(unknown)} are "
                         f"not supported by this check ({ATTENTION_KEYS})")
    if rope is not None:
        unknown = set(rope) - set(ROPE_KEYS)
        if unknown:
            raise ValueError(f"{name}: rope attributes {sorted(unknown)} are "
                             f"not supported by this check ({ROPE_KEYS})")
        if positions not in ("shared", "separate"):
            raise ValueError(f"{name}: rope needs positions 'shared' or 'separate'")
        if positions == "shared" and sq != skv:
            raise ValueError(f"{name}: shared positions need Sq == Skv")
    case = {
        "name": name, "model": model, "kind": "example" if source else "generated",
        "source": source, "entry": entry, "dtype": dtype,
        "batch": batch, "hq": hq, "hkv": hkv, "sq": sq, "skv": skv, "dim": dim,
        "dv": dim if dv is None else dv,
        "attention": dict(attention), "rope": None if rope is None else dict(rope),
        "positions": positions if rope is not None else None,
        "seed": (zlib.crc32(name.encode()) if seed is None else seed),
        "mlir": f"mlir/{name}.mlir", "module": f"modules/{name}.so",
        "op": None if op is None else dict(op),
    }
    case["arguments"] = case_arguments(case)
    case["output"] = {"shape": [batch, hq, sq, case["dv"]], "type": dtype}
    case["check_blocks"] = check_blocks(case)
    case["visible_pairs"] = visible_pairs(case)
    case["flops"] = attention_flops(case) if op is None else linear_flops(case)
    return case


def example_cases():
    """The examples of examples/ as written (f32), with the inputs
    examples/run_examples.py gives them (default_rng(0): q, k, v in order)."""
    return [
        make_case("llama31_8b_attention",
                  "Llama-3.1-8B example: RoPE (theta 5e5, llama3 scaling) + "
                  "causal GQA 32/8", source="examples/llama31_8b_attention.mlir",
                  dtype="f32", hq=32, hkv=8, sq=512, skv=512, dim=128,
                  attention={"causal": True}, rope=LLAMA3_ROPE,
                  positions="shared", seed=0),
        make_case("gemma2_attention",
                  "Gemma-2-2B example: RoPE + window 4096, softcap 50, GQA 8/4, "
                  "64 queries at the end of 4608 keys",
                  source="examples/gemma2_attention.mlir", dtype="f32", hq=8,
                  hkv=4, sq=64, skv=4608, dim=256,
                  attention={"scale": 0.0625, "causal": True,
                             "window_left": HF_WINDOW_4096,
                             "logit_softcap": 50.0},
                  rope={}, positions="separate", seed=0),
        make_case("mistral_7b_window",
                  "Mistral-7B-v0.1 example: RoPE + sliding window 4096, "
                  "GQA 32/8", source="examples/mistral_7b_window.mlir",
                  dtype="f32", hq=32, hkv=8, sq=16384, skv=16384, dim=128,
                  attention={"causal": True, "window_left": HF_WINDOW_4096},
                  rope={}, positions="shared", seed=0),
    ]


def generated_cases():
    """Attention alone at Llama-3.1-8B / Mistral-7B sizes (B=1, Hq=32, Hkv=8,
    D=128), bf16 and f32."""
    cases = []
    for s in (1024, 4096, 16384):
        for dtype in ("bf16", "f32"):
            cases.append(make_case(
                f"llama3-causal-{s // 1024}k-{dtype}",
                "Llama-3.1-8B attention, causal (no RoPE)", dtype=dtype,
                hq=32, hkv=8, sq=s, skv=s, dim=128, attention={"causal": True}))
    for dtype in ("bf16", "f32"):
        cases.append(make_case(
            f"mistral-window-16k-{dtype}",
            "Mistral-7B attention, sliding window 4096, causal (no RoPE)",
            dtype=dtype, hq=32, hkv=8, sq=16384, skv=16384, dim=128,
            attention={"causal": True, "window_left": HF_WINDOW_4096}))
    return cases


def linear_cases():
    """The linear-time ops at the sizes of examples/performer_layer.mlir and
    transformer_vq_layer.mlir (B=1, H=8, D=128, M=256 features, C=512 codes),
    causal, and longer (their cost is linear in S)."""
    performer = {"kind": "linear_attention", "feature_map": "favor_plus",
                 "features": 256}
    vq = {"kind": "vq_attention", "codes": 512}
    cases = []
    for s, dtype in ((4096, "f32"), (16384, "f32"), (16384, "bf16")):
        cases.append(make_case(
            f"performer-causal-{s // 1024}k-{dtype}",
            "Performer FAVOR+ linear attention, M = 256, causal", dtype=dtype,
            hq=8, hkv=8, sq=s, skv=s, dim=128, attention={"causal": True},
            op=performer))
        cases.append(make_case(
            f"transformer-vq-causal-{s // 1024}k-{dtype}",
            "Transformer-VQ attention, C = 512, causal", dtype=dtype, hq=8,
            hkv=8, sq=s, skv=s, dim=128, attention={"causal": True}, op=vq))
    cases.append(make_case(
        "linear-elu-16k-f32", "linear attention elu + 1, non-causal, GQA 8/2",
        dtype="f32", hq=8, hkv=2, sq=16384, skv=16384, dim=128, attention={},
        op={"kind": "linear_attention", "feature_map": "elu_plus_one"}))
    return cases


def small_cases():
    """Small shapes with the same features (GQA, causal, window, softcap,
    RoPE with both position forms, bf16): for testing the script itself."""
    cases = []
    for dtype in ("bf16", "f32"):
        cases.append(make_case(f"small-causal-{dtype}", "small causal GQA 8/2",
                               dtype=dtype, hq=8, hkv=2, sq=192, skv=192, dim=64,
                               attention={"causal": True}))
        cases.append(make_case(f"small-window-{dtype}", "small window 64",
                               dtype=dtype, hq=8, hkv=2, sq=256, skv=256, dim=64,
                               attention={"causal": True, "window_left": 63}))
    cases.append(make_case("small-llama-rope", "small RoPE llama3 + causal",
                           dtype="f32", hq=8, hkv=2, sq=128, skv=128, dim=64,
                           attention={"causal": True}, rope=LLAMA3_ROPE,
                           positions="shared"))
    cases.append(make_case("small-gemma-rope",
                           "small RoPE + window 64 + softcap, Sq < Skv",
                           dtype="f32", hq=4, hkv=2, sq=16, skv=160, dim=64,
                           attention={"scale": 0.125, "causal": True,
                                      "window_left": 63, "logit_softcap": 50.0},
                           rope={}, positions="separate"))
    cases.append(make_case("small-performer", "small favor_plus causal, GQA 4/2",
                           dtype="f32", hq=4, hkv=2, sq=100, skv=100, dim=32,
                           attention={"causal": True},
                           op={"kind": "linear_attention",
                               "feature_map": "favor_plus", "features": 64}))
    cases.append(make_case("small-vq-bf16", "small vq_attention causal, C = 64",
                           dtype="bf16", hq=4, hkv=2, sq=100, skv=100, dim=32,
                           attention={"causal": True},
                           op={"kind": "vq_attention", "codes": 64}))
    return cases


def all_cases(small=False):
    """Every case of a full (or --small) check, cheapest first within each
    group, as the manifest lists them."""
    if small:
        return small_cases()
    return example_cases() + generated_cases() + linear_cases()


def case_arguments(case):
    """The entry function's arguments in order: dicts with name, role (q, k,
    v, positions, q_positions, k_positions), shape, MLIR element type and, for
    positions, the first position."""
    b, d, dv = case["batch"], case["dim"], case["dv"]
    t = case["dtype"]
    args = [{"name": "q", "role": "q", "shape": [b, case["hq"], case["sq"], d], "type": t},
            {"name": "k", "role": "k", "shape": [b, case["hkv"], case["skv"], d], "type": t},
            {"name": "v", "role": "v", "shape": [b, case["hkv"], case["skv"], dv], "type": t}]
    if case["rope"] is not None:
        if case["positions"] == "shared":
            args.append({"name": "positions", "role": "positions",
                         "shape": [case["skv"]], "type": "i64", "start": 0})
        else:
            args.append({"name": "q_positions", "role": "q_positions",
                         "shape": [case["sq"]], "type": "i64",
                         "start": case["skv"] - case["sq"]})
            args.append({"name": "k_positions", "role": "k_positions",
                         "shape": [case["skv"]], "type": "i64", "start": 0})
    op = case.get("op")
    if op and op.get("features"):
        args.append({"name": "projection", "role": "projection",
                     "shape": [op["features"], d], "type": t})
    if op and op.get("codes"):
        args.append({"name": "codebook", "role": "codebook",
                     "shape": [op["codes"], d], "type": t})
    return args


def q_offset_of(case):
    """Position of query row 0 (DESIGN §3: default Skv - Sq)."""
    return case["attention"].get("q_offset", case["skv"] - case["sq"])


def linear_module_text(case):
    """The module of a linear-time op case (attnflow.ir has no builder for
    these ops)."""
    op = case["op"]
    types = [ir.tensor_type(a["shape"], a["type"]) for a in case["arguments"]]
    out = ir.tensor_type(case["output"]["shape"], case["output"]["type"])
    attrs = []
    if op["kind"] == "linear_attention":
        attrs.append(f"feature_map = #attnflow.feature_map<{op['feature_map']}>")
    if case["attention"].get("causal"):
        attrs.append("causal = true")
    args = ", ".join(f"%{a['name']}: {t}" for a, t in zip(case["arguments"], types))
    operands = ", ".join(f"%{a['name']}" for a in case["arguments"])
    return (f"// {case['name']}: {case['model']}.\n"
            f"// Generated by benchmarks/gpu_check.py.\n"
            f"func.func @{case['entry']}({args}) -> {out} {{\n"
            f"  %o = attnflow.{op['kind']} {operands} {{{', '.join(attrs)}}} : "
            f"{', '.join(types)} -> {out}\n"
            f"  return %o : {out}\n}}\n")


def module_text(case):
    """The case's module in AttnFlow MLIR, built with attnflow.ir."""
    if case.get("op"):
        return linear_module_text(case)
    f = ir.Function(case["entry"])
    vals = {a["name"]: f.argument(a["name"], a["shape"], a["type"])
            for a in case["arguments"]}
    q, k = vals["q"], vals["k"]
    if case["rope"] is not None:
        shared = case["positions"] == "shared"
        q = f.rope(q, vals["positions" if shared else "q_positions"], **case["rope"])
        k = f.rope(k, vals["positions" if shared else "k_positions"], **case["rope"])
    f.ret(f.attention(q, k, vals["v"], **case["attention"]))
    head = (f"// {case['name']}: {case['model']}.\n"
            f"// Generated by benchmarks/gpu_check.py (attnflow.ir).\n")
    return head + f.text()


# ---------------------------------------------------------------------------
# Visibility, FLOPs, check rows


def visible_mask(p, j, causal=False, window_left=-1, window_right=-1):
    """Key j visible from the query at position p (DESIGN §3, no sinks), for
    integer arrays p [..., n, 1] and j [..., 1, m] of numpy or torch alike
    (only comparisons and & are used).  Returns a boolean [..., n, m]."""
    vis = (j >= 0) & (p >= p)  # all true, broadcast to [..., n, m]
    # As offsets j - p, as the reference does.
    if window_left >= 0:
        vis = vis & ((j - p) >= -window_left)
    if window_right >= 0:
        vis = vis & ((j - p) <= window_right)
    if causal:
        vis = vis & (j <= p)
    return vis


def key_band(p_first, p_last, skv, causal=False, window_left=-1, window_right=-1):
    """(lo, hi): the contiguous keys any query position in [p_first, p_last]
    can see (hi < lo when none)."""
    lo = 0 if window_left < 0 else max(0, p_first - window_left)
    hi = skv - 1
    if window_right >= 0:
        hi = min(hi, p_last + window_right)
    if causal:
        hi = min(hi, p_last)
    return lo, hi


def visible_counts(case):
    """Visible keys of each query row: int64 [Sq]."""
    a = case["attention"]
    sq, skv = case["sq"], case["skv"]
    p = q_offset_of(case) + np.arange(sq, dtype=np.int64)
    hi = np.full(sq, skv - 1, dtype=np.int64)
    if a.get("window_right", -1) >= 0:
        hi = np.minimum(hi, p + a["window_right"])
    if a.get("causal", False):
        hi = np.minimum(hi, p)
    lo = np.zeros(sq, dtype=np.int64)
    if a.get("window_left", -1) >= 0:
        lo = np.maximum(lo, p - a["window_left"])
    return np.maximum(0, hi - lo + 1)


def visible_pairs(case):
    """Visible (query row, key) pairs of one head."""
    return int(visible_counts(case).sum())


def attention_flops(case):
    """FLOPs of the visible scores: q.k (2 D) and p*v (2 Dv) per visible pair,
    per query head and batch; 4 B Hq D pairs when D = Dv."""
    return (2 * (case["dim"] + case["dv"]) * visible_pairs(case)
            * case["hq"] * case["batch"])


def linear_flops(case):
    """FLOPs of a linear-time op's linear form (what its kernels compute,
    not counting the causal chunks' exact intra-chunk terms), per batch:
    linear_attention 2 M Dv (Sq + Skv) per query head (phi(Q) S and the state
    update), plus 2 M D per row of q and k for the favor_plus logits;
    vq_attention 2 C (D + Dv) Sq per query head (scores, weighted code sums)
    plus 3 C D Skv per kv head (the nearest codes)."""
    op, b = case["op"], case["batch"]
    d, dv, sq, skv = case["dim"], case["dv"], case["sq"], case["skv"]
    if op["kind"] == "linear_attention":
        m = op.get("features") or d
        flops = 2 * m * dv * (sq + skv) * case["hq"]
        if op.get("features"):
            flops += 2 * m * d * (case["hq"] * sq + case["hkv"] * skv)
        return b * flops
    c = op["codes"]
    return b * (2 * c * (d + dv) * sq * case["hq"] + 3 * c * d * skv * case["hkv"])


def _merge(blocks):
    merged = []
    for r0, r1 in sorted(blocks):
        if merged and r0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], r1)
        else:
            merged.append([r0, r1])
    return merged


def check_blocks(case):
    """Query-row blocks [r0, r1) compared with the reference: every row up to
    FULL_CHECK_ROWS rows, else CHECK_BLOCK rows at the start, where the window
    starts to cut the first keys, the middle and the end."""
    sq = case["sq"]
    if sq <= FULL_CHECK_ROWS:
        return [[0, sq]]
    half = CHECK_BLOCK // 2
    starts = [0, sq // 2 - half, sq - CHECK_BLOCK]
    wl = case["attention"].get("window_left", -1)
    if wl >= 0:
        # Row whose window first excludes key 0: position wl + 1.
        starts.append(wl + 1 - q_offset_of(case) - half)
    blocks = []
    for s in starts:
        s = min(max(0, s), sq - CHECK_BLOCK)
        blocks.append((s, s + CHECK_BLOCK))
    return _merge(blocks)


def rows_of(blocks):
    return np.concatenate([np.arange(r0, r1) for r0, r1 in blocks])


# ---------------------------------------------------------------------------
# Inputs and the float64 reference


def round_to_bf16(x):
    """float32 array of the bf16 values nearest to x (round to nearest, ties
    to even; NaN stays NaN), as the harness rounds a bf16 argument."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32)
    r = (u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) \
        & np.uint32(0xFFFF0000)
    r = np.where(np.isnan(x), (u | np.uint32(0x00400000)) & np.uint32(0xFFFF0000), r)
    return r.astype(np.uint32).view(np.float32)


def make_inputs(case):
    """The entry's arguments in order: q, k, v (then a codebook) float32
    N(0, 1) from default_rng(seed) drawn in that order, a FAVOR+ projection
    from favor_plus_projection(M, D, seed) (bf16 cases: all rounded to bf16,
    so the file holds exactly what the kernel sees), positions int64
    arange."""
    rng = np.random.default_rng(case["seed"])
    out = []
    for a in case["arguments"]:
        if a["role"] in ("q", "k", "v", "codebook", "projection"):
            # The FAVOR+ projection: seeded orthogonal random features (C
            # order: the harness reads C-contiguous .npy files only).
            x = (np.ascontiguousarray(favor_plus_projection(*a["shape"], case["seed"]),
                                      dtype=np.float32)
                 if a["role"] == "projection"
                 else rng.standard_normal(tuple(a["shape"]), dtype=np.float32))
            if a["type"] == "bf16":
                x = round_to_bf16(x)
            elif a["type"] == "f16":
                x = x.astype(np.float16)
            elif a["type"] == "f64":
                x = x.astype(np.float64)
            out.append(x)
        else:
            n = a["shape"][0]
            out.append(np.arange(a["start"], a["start"] + n, dtype=np.int64))
    return out


def _by_role(case, inputs):
    return {a["role"]: x for a, x in zip(case["arguments"], inputs)}


def _positions(case, args):
    if case["positions"] == "shared":
        return args["positions"], args["positions"]
    return args["q_positions"], args["k_positions"]


def _rope_needs_all_positions(rope):
    # dynamic_ntk depends on max(positions): rotate whole arrays only.
    return (rope.get("scaling") or {}).get("kind") == "dynamic_ntk"


def reference_rows(case, inputs, blocks=None):
    """float64 reference output [B, Hq, rows, Dv] at the rows of blocks
    (default: the case's check blocks), concatenated in order.  Each block is
    an exact reference of its rows: k is rotated once, q per block, and
    reference.attention runs with the block's own q_offset, band-limited
    (never Sq x Skv in float64)."""
    blocks = case["check_blocks"] if blocks is None else blocks
    args = _by_role(case, inputs)
    op = case.get("op")
    if op:
        # The linear-time references cost O(S): all rows, then the blocks'.
        causal = case["attention"].get("causal", False)
        qkv = [np.asarray(args[r], dtype=np.float64) for r in ("q", "k", "v")]
        if op["kind"] == "linear_attention":
            full = reference.linear_attention(
                *qkv, args.get("projection"), feature_map=op["feature_map"],
                causal=causal)
        else:
            full = reference.vq_attention(*qkv, args["codebook"], causal=causal)
        return full[:, :, rows_of(blocks)]
    q, k, v = args["q"], args["k"], args["v"]
    rope = case["rope"]
    attn = {key: val for key, val in case["attention"].items() if key != "q_offset"}
    offset = q_offset_of(case)
    q_pos = None
    if rope is not None:
        q_pos, k_pos = _positions(case, args)
        k = reference.rope(k, k_pos, **rope)
        if _rope_needs_all_positions(rope):
            q, rope = reference.rope(q, q_pos, **rope), None
    k = np.asarray(k, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    group = case["hq"] // case["hkv"]
    out = []
    for r0, r1 in blocks:
        qb = q[:, :, r0:r1]
        if rope is not None:
            qb = reference.rope(qb, q_pos[r0:r1], **rope)
        # One call per kv head and its query heads: the same result, but the
        # reference's score-size budget then allows far larger row chunks
        # (3-4x faster at S = 16384).
        out.append(np.concatenate([
            reference.attention(qb[:, h * group:(h + 1) * group], k[:, h:h + 1],
                                v[:, h:h + 1], q_offset=offset + r0, **attn)
            for h in range(case["hkv"])], axis=1))
    return np.concatenate(out, axis=2)


def rotated_inputs(case, inputs):
    """(q, k, v) as the attention sees them: float32, RoPE applied with the
    float64 reference (f32 angles, as the contract computes them)."""
    args = _by_role(case, inputs)
    q, k, v = args["q"], args["k"], args["v"]
    if case["rope"] is not None:
        q_pos, k_pos = _positions(case, args)
        q = reference.rope(q, q_pos, **case["rope"]).astype(np.float32)
        k = reference.rope(k, k_pos, **case["rope"]).astype(np.float32)
    return q, k, v


# ---------------------------------------------------------------------------
# Chunked attention for any array library (numpy here, torch on the GPU)


class NumpyOps:
    """Array operations chunked_attention needs, for numpy."""
    xp = np

    @staticmethod
    def zeros(shape, like):
        return np.zeros(shape, dtype=like.dtype)

    @staticmethod
    def arange(start, stop):
        return np.arange(start, stop, dtype=np.int64)

    @staticmethod
    def rowmax(x):
        return x.max(axis=-1, keepdims=True)

    @staticmethod
    def rowsum(x):
        return x.sum(axis=-1, keepdims=True)


class TorchOps:
    """Array operations chunked_attention needs, for torch tensors on one
    device."""

    def __init__(self, torch, device):
        self.xp, self.device = torch, device

    def zeros(self, shape, like):
        return self.xp.zeros(shape, dtype=like.dtype, device=like.device)

    def arange(self, start, stop):
        return self.xp.arange(start, stop, dtype=self.xp.int64, device=self.device)

    @staticmethod
    def rowmax(x):
        return x.amax(dim=-1, keepdim=True)

    @staticmethod
    def rowsum(x):
        return x.sum(dim=-1, keepdim=True)


def chunked_attention(ops, q, k, v, scale=None, causal=False, window_left=-1,
                      window_right=-1, q_offset=None, logit_softcap=0.0,
                      rows=256):
    """attnflow.attention (DESIGN §3, without sinks, ALiBi, log-n, bias) in
    the inputs' dtype, rows query rows at a time, each against only the
    contiguous key band its rows can see; GQA without repeating k and v.
    ops: NumpyOps or TorchOps.  Score: scale * q.k, softcap, mask, softmax;
    a row with no visible key is 0."""
    xp = ops.xp
    batch, hq, sq, dim = q.shape
    hkv, skv, dv = k.shape[1], k.shape[2], v.shape[3]
    group = hq // hkv
    scale = 1.0 / math.sqrt(dim) if scale is None else scale
    q_offset = skv - sq if q_offset is None else q_offset
    out = ops.zeros((batch, hq, sq, dv), like=q)
    for r0 in range(0, sq, rows):
        r1 = min(sq, r0 + rows)
        nr = r1 - r0
        lo, hi = key_band(q_offset + r0, q_offset + r1 - 1, skv, causal,
                          window_left, window_right)
        if hi < lo:
            continue
        kc, vc = k[:, :, lo:hi + 1], v[:, :, lo:hi + 1]
        qc = q[:, :, r0:r1].reshape(batch, hkv, group * nr, dim)
        s = (qc @ kc.swapaxes(-1, -2)).reshape(batch, hq, nr, hi + 1 - lo) * scale
        if logit_softcap and logit_softcap > 0:
            s = logit_softcap * xp.tanh(s / logit_softcap)
        p = ops.arange(q_offset + r0, q_offset + r1)[:, None]
        j = ops.arange(lo, hi + 1)[None, :]
        s = xp.where(visible_mask(p, j, causal, window_left, window_right), s,
                     -math.inf)
        smax = ops.rowmax(s)
        live = xp.isfinite(smax)
        e = xp.exp(s - xp.where(live, smax, 0.0))
        denom = ops.rowsum(e)
        o = (e.reshape(batch, hkv, group * nr, hi + 1 - lo) @ vc).reshape(
            batch, hq, nr, dv)
        out[:, :, r0:r1] = xp.where(live, o / xp.where(live, denom, 1.0), 0.0)
    return out


# ---------------------------------------------------------------------------
# Manifest


def write_manifest(path, cases, prepared):
    with open(path, "w") as fh:
        json.dump({"version": MANIFEST_VERSION, "prepared": prepared,
                   "cases": cases}, fh, indent=1)
        fh.write("\n")


def read_manifest(path):
    """(prepared, cases) of a manifest, each case checked for the fields the
    run needs and for consistency with make_case (so a manifest from another
    version of this script is refused, not misread).

    Raises:
      ValueError: naming the case and field.
    """
    with open(path) as fh:
        data = json.load(fh)
    if data.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{path}: manifest version {data.get('version')}, this "
                         f"script reads version {MANIFEST_VERSION}: prepare again")
    cases = data["cases"]
    for c in cases:
        try:
            rebuilt = make_case(
                c["name"], c["model"], dtype=c["dtype"], hq=c["hq"], hkv=c["hkv"],
                sq=c["sq"], skv=c["skv"], dim=c["dim"], dv=c["dv"],
                batch=c["batch"], attention=c["attention"], rope=c["rope"],
                positions=c["positions"], source=c["source"], seed=c["seed"],
                entry=c["entry"], op=c["op"])
        except KeyError as err:
            raise ValueError(f"{path}: case {c.get('name', '?')} lacks {err}") from None
        for key, val in rebuilt.items():
            if c.get(key) != val:
                raise ValueError(f"{path}: case {c['name']}: {key} is "
                                 f"{c.get(key)!r}, expected {val!r}")
    return data.get("prepared", {}), cases


# ---------------------------------------------------------------------------
# Harness output


_TIMING = re.compile(r"min\s+([0-9.eE+-]+)\s*ms,\s*median\s+([0-9.eE+-]+)\s*ms"
                     r"\s+over\s+(\d+)\s+runs?")
_MEDIAN = re.compile(r"median\s+([0-9.eE+-]+)\s*ms")


def parse_timing(text):
    """(min_ms, median_ms, runs) from the harness's
    'min X ms, median Y ms over N runs' line; min and runs may be None if only
    a median is found; None when there is no timing at all."""
    m = _TIMING.search(text)
    if m:
        return float(m.group(1)), float(m.group(2)), int(m.group(3))
    m = _MEDIAN.search(text)
    if m:
        return None, float(m.group(1)), None
    return None


def plan_repeats(predicted_s):
    """(repeat, warmup) for a call predicted to take predicted_s seconds:
    about 2 s of timed calls, 3 to 20 of them, one warm-up; a single cold call
    when one takes over 5 s."""
    if predicted_s > 5.0:
        return 1, 0
    if predicted_s * 3 > 2.0:
        return 3, 1
    return int(min(20, max(3, 2.0 // max(predicted_s, 1e-4)))), 1


# ---------------------------------------------------------------------------
# ELF inspection (prepare)


def _tool(*names):
    for name in names:
        path = shutil.which(name) or (os.path.join("/usr/lib/llvm-22/bin", name)
                                      if os.path.exists(os.path.join(
                                          "/usr/lib/llvm-22/bin", name)) else None)
        if path:
            return path
    raise FileNotFoundError(f"none of {names} found")


def elf_dynamic(path):
    """{'needed': [...], 'soname': str|None, 'runpath': [...]} of an ELF."""
    text = subprocess.run([_tool("readelf", "llvm-readelf"), "-d", path],
                          capture_output=True, text=True, check=True).stdout
    info = {"needed": [], "soname": None, "runpath": []}
    for line in text.splitlines():
        m = re.search(r"\((NEEDED|SONAME|RUNPATH|RPATH)\)\s+.*\[(.*)\]", line)
        if not m:
            continue
        kind, val = m.groups()
        if kind == "NEEDED":
            info["needed"].append(val)
        elif kind == "SONAME":
            info["soname"] = val
        else:
            info["runpath"] += val.split(":")
    return info


def elf_symbols(path, defined):
    """Dynamic symbol names (versions stripped) an ELF defines, or leaves
    undefined (strong references only)."""
    flag = "--defined-only" if defined else "--undefined-only"
    proc = subprocess.run([_tool("nm", "llvm-nm"), "-D", flag, path],
                          capture_output=True, text=True)
    names = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if not defined and (len(parts) < 2 or parts[-2] != "U"):
            continue  # weak undefined ('w', 'v') may stay unresolved
        names.add(parts[-1].split("@")[0])
    return names


def elf_version_needs(path):
    """Highest GLIBC_ / GLIBCXX_ / CXXABI_ version an ELF requires:
    {prefix: 'GLIBC_2.34', ...}."""
    text = subprocess.run([_tool("readelf", "llvm-readelf"), "-V", path],
                          capture_output=True, text=True).stdout
    best = {}
    for name in re.findall(r"Name: ((?:GLIBC|GLIBCXX|CXXABI)_[0-9.]+)", text):
        prefix, _, ver = name.partition("_")
        key = tuple(int(x) for x in ver.split(".") if x.isdigit())
        if prefix not in best or key > best[prefix][0]:
            best[prefix] = (key, name)
    return {p: n for p, (_, n) in sorted(best.items())}


def system_library(name):
    """Path of a system library on this machine (for its symbol table)."""
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
              "/usr/lib64", "/usr/local/cuda/lib64/stubs"):
        path = os.path.join(d, name)
        if os.path.exists(path):
            return path
    if name == "libcuda.so.1":
        stub = "/usr/local/cuda/lib64/stubs/libcuda.so"
        return stub if os.path.exists(stub) else None
    return None


# ---------------------------------------------------------------------------
# prepare


class PrepareError(Exception):
    pass


def _run_logged(cmd, timeout=900):
    """(exit status, stdout + stderr) of cmd; a command that cannot start or
    times out is a failure with a message, never an exception."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except OSError as err:
        return 127, f"cannot run {cmd[0]}: {err}"
    except subprocess.TimeoutExpired:
        return 124, f"{cmd[0]} timed out after {timeout} s"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def canonical(opt, text):
    """The module as attnflow-opt prints it (SSA names, attribute order and
    defaults normalized), or raises PrepareError."""
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as fh:
        fh.write(text)
        fh.flush()
        rc, log = _run_logged([opt, fh.name], timeout=120)
    if rc != 0:
        raise PrepareError(f"attnflow-opt failed on a module:\n{log}")
    return log


def verify_example(opt, case, text):
    """The example file must be the module this case describes (so the
    reference and torch compute what the kernel computes)."""
    if canonical(opt, text) != canonical(opt, module_text(case)):
        raise PrepareError(
            f"{case['source']} no longer matches the description of case "
            f"{case['name']} in benchmarks/gpu_check.py (shapes, attributes or "
            f"RoPE parameters): update example_cases()")


def compile_case(args, case, bundle, obj_dir):
    """Compiles one case for the target arch and links its shared object;
    with args.check_arch also compiles (only) for that arch.  Returns
    (case name, error or None, warning or None)."""
    src = os.path.join(bundle, case["mlir"])
    obj = os.path.join(obj_dir, case["name"] + ".o")
    cmd = [args.compiler, src, "--target=cuda", f"--gpu-arch={args.gpu_arch}",
           "--emit=obj", "-o", obj]
    rc, log = _run_logged(cmd)
    if rc != 0:
        return case["name"], f"{' '.join(cmd)}\n{log}", None
    so = os.path.join(bundle, case["module"])
    link = [CLANG, "-shared", "-o", so, obj] + list(args.link_flag or [])
    rc, log = _run_logged(link)
    if rc != 0:
        return case["name"], f"{' '.join(link)}\n{log}", None
    warning = None
    if args.check_arch:
        other = os.path.join(obj_dir, f"{case['name']}.{args.check_arch}.o")
        cmd = [args.compiler, src, "--target=cuda", f"--gpu-arch={args.check_arch}",
               "--emit=obj", "-o", other]
        rc, log = _run_logged(cmd)
        if rc != 0:
            warning = f"{args.check_arch}: {' '.join(cmd)}\n{log}"
    return case["name"], None, warning


def collect_libraries(bundle, build_dir, elves):
    """Copies every non-system library the ELFs need (recursively) into
    bundle/lib, found in the build folder or LIBRARY_DIRS.  Returns the list
    of problems."""
    problems = []
    lib_dir = os.path.join(bundle, "lib")
    search = [os.path.join(build_dir, "lib")] + LIBRARY_DIRS
    todo = list(elves)
    seen = set()
    while todo:
        elf = todo.pop()
        for name in elf_dynamic(elf)["needed"]:
            if name in SYSTEM_LIBS or name in seen:
                continue
            seen.add(name)
            rel = os.path.relpath(elf, bundle)
            if FORBIDDEN_LIBS.match(name):
                problems.append(f"{rel} needs {name}: it must link no MLIR/LLVM "
                                "library (DESIGN §5), the GPU machine has none")
                continue
            dest = os.path.join(lib_dir, name)
            if not os.path.exists(dest):
                found = next((os.path.join(d, name) for d in search
                              if os.path.exists(os.path.join(d, name))), None)
                if found is None:
                    hits = glob.glob(os.path.join(build_dir, "**", name), recursive=True)
                    found = hits[0] if hits else None
                if found is None:
                    problems.append(f"{rel} needs {name}, found neither in "
                                    f"{', '.join(search)} nor in the build folder")
                    continue
                shutil.copyfile(os.path.realpath(found), dest)
                print(f"  bundled {name} (needed by {rel}) from {found}")
            todo.append(dest)
    return problems


def check_module_symbols(bundle, harness, cases):
    """Undefined symbols of each module that neither the harness, the
    bundled libraries nor the system libraries define.  Returns problems."""
    pool = set(elf_symbols(harness, defined=True))
    for lib in glob.glob(os.path.join(bundle, "lib", "*.so*")):
        pool |= elf_symbols(lib, defined=True)
    for name in sorted(SYSTEM_LIBS):
        path = system_library(name)
        if path:
            pool |= elf_symbols(path, defined=True)
    problems = []
    for c in cases:
        missing = sorted(elf_symbols(os.path.join(bundle, c["module"]),
                                     defined=False) - pool)
        if missing:
            problems.append(f"{c['module']} needs symbols that nothing on the GPU "
                            f"machine defines: {', '.join(missing[:12])}"
                            + (" ..." if len(missing) > 12 else ""))
    return problems


def _show(path):
    """A path relative to the repository when inside it, else absolute."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith(os.pardir) else rel


def bundle_size(bundle):
    total = 0
    for dirpath, _, files in os.walk(bundle):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    return total


def prepare(args):
    build_dir = os.path.abspath(args.build_dir)
    bundle = os.path.abspath(args.bundle)
    if not args.no_build:
        print(f"== building AttnFlow (scripts/build.sh, build folder {build_dir})",
              flush=True)
        env = dict(os.environ, ATTNFLOW_BUILD_DIR=build_dir)
        if subprocess.run([os.path.join(ROOT, "scripts", "build.sh")],
                          env=env).returncode != 0:
            raise PrepareError("scripts/build.sh failed")
    bin_dir = os.path.join(build_dir, "bin")
    args.compiler = args.compiler or os.path.join(bin_dir, "attnflow-compile")
    opt = os.path.join(bin_dir, "attnflow-opt")

    cases = select_cases(all_cases(args.small), args.cases)
    if os.path.isdir(bundle):
        if os.listdir(bundle) and not os.path.exists(os.path.join(bundle, MARKER)):
            raise PrepareError(f"{bundle} exists and is not a bundle (no "
                               f"{MARKER}): not replacing it")
        shutil.rmtree(bundle)
    for sub in ("bin", "lib", "modules", "mlir"):
        os.makedirs(os.path.join(bundle, sub))
    # Marks the folder as ours (a later prepare may replace it); the manifest
    # is written last, so a failed prepare leaves a bundle the run refuses.
    with open(os.path.join(bundle, MARKER), "w") as fh:
        fh.write("written by benchmarks/gpu_check.py prepare\n")

    print(f"== writing {len(cases)} modules to {bundle}/mlir", flush=True)
    for c in cases:
        if c["source"]:
            with open(os.path.join(ROOT, c["source"])) as fh:
                text = fh.read()
            if os.access(opt, os.X_OK):
                verify_example(opt, c, text)
                print(f"  {c['name']}: {c['source']} matches its description")
            else:
                print(f"  warning: {opt} missing, {c['source']} not checked "
                      "against its description")
        else:
            text = module_text(c)
        with open(os.path.join(bundle, c["mlir"]), "w") as fh:
            fh.write(text)

    prepared = {"utc": datetime.datetime.now(datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M"),
                "commit": _git("rev-parse", "--short", "HEAD"),
                "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
                "mode": "cpu-only" if args.cpu_only else "cuda",
                "gpu_arch": None if args.cpu_only else args.gpu_arch,
                "link_flags": list(args.link_flag or [])}
    warnings = []
    if not args.cpu_only:
        for tool in (args.compiler, CLANG):
            if not os.access(tool, os.X_OK):
                raise PrepareError(f"{tool} not found (build AttnFlow first)")
        harness_src = os.path.join(bin_dir, HARNESS)
        if not os.access(harness_src, os.X_OK):
            raise PrepareError(f"{harness_src} not built: the CUDA runtime and "
                               "harness (runtime/, tools/attnflow-cuda-run) are "
                               "needed; CMake builds them when it finds the CUDA "
                               "toolkit")
        print(f"== compiling for {args.gpu_arch}"
              + (f" (and checking {args.check_arch})" if args.check_arch else ""),
              flush=True)
        errors = []
        with tempfile.TemporaryDirectory(prefix="gpu-check-obj-") as obj_dir, \
                concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(compile_case, args, c, bundle, obj_dir)
                       for c in cases]
            for fut in futures:
                name, error, warning = fut.result()
                print(f"  {name}: " + ("FAILED" if error else "ok")
                      + (f" ({args.check_arch} check failed)" if warning else ""),
                      flush=True)
                if error:
                    errors.append(f"{name}: {error}")
                if warning:
                    warnings.append(f"{name}: {warning}")
        if errors:
            hint = ""
            rc, help_text = _run_logged([args.compiler, "--help"])
            if "cuda" not in help_text:
                hint = ("\nattnflow-compile does not offer --target=cuda yet "
                        "(its --help lists no cuda target).")
            raise PrepareError("compilation failed:\n" + "\n\n".join(errors) + hint)
        prepared["check_arch"] = (args.check_arch, "ok" if not warnings else "failed")

        print("== collecting the harness and its libraries", flush=True)
        harness = os.path.join(bundle, "bin", HARNESS)
        shutil.copy2(harness_src, harness)
        for lib in glob.glob(os.path.join(build_dir, "lib", RUNTIME_GLOB)):
            if not os.path.islink(lib):
                name = elf_dynamic(lib)["soname"] or os.path.basename(lib)
                shutil.copyfile(lib, os.path.join(bundle, "lib", name))
                print(f"  bundled {name} from {lib}")
        problems = collect_libraries(bundle, build_dir, [harness] + [
            os.path.join(bundle, c["module"]) for c in cases])
        runpath = elf_dynamic(harness)["runpath"]
        if os.listdir(os.path.join(bundle, "lib")) and "$ORIGIN/../lib" not in runpath:
            print(f"  note: {HARNESS} has runpath {runpath or 'none'}; the check "
                  "sets LD_LIBRARY_PATH to the bundle's lib/ anyway")
        problems += check_module_symbols(bundle, harness, cases)
        needs = {}
        for elf in [harness] + glob.glob(os.path.join(bundle, "lib", "*")) + [
                os.path.join(bundle, c["module"]) for c in cases]:
            for prefix, name in elf_version_needs(elf).items():
                cur = needs.get(prefix)
                key = tuple(int(x) for x in name.partition("_")[2].split("."))
                if cur is None or key > cur[0]:
                    needs[prefix] = (key, name)
        prepared["requires"] = [n for _, n in needs.values()]
        print("  the GPU machine needs at least: "
              + (", ".join(prepared["requires"]) or "nothing versioned"))
        if problems:
            raise PrepareError("the bundle would not run on the GPU machine:\n  "
                               + "\n  ".join(problems))

    write_manifest(os.path.join(bundle, "manifest.json"), cases, prepared)
    for w in warnings:
        print(f"warning: {w}")
    size = bundle_size(bundle)
    print(f"== bundle {_show(bundle)}: {size / 2**20:.1f} MiB, "
          f"{len(cases)} cases")
    for dirpath, _, files in sorted(os.walk(bundle)):
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            print(f"  {os.path.relpath(path, bundle):48s} "
                  f"{os.path.getsize(path) / 1024:10.1f} KiB")
    if size > BUNDLE_LIMIT_MIB * 2**20:
        raise PrepareError(f"bundle is {size / 2**20:.1f} MiB, over the "
                           f"{BUNDLE_LIMIT_MIB} MiB limit")
    print(f"\nCarry {_show(bundle)} to the GPU machine and run "
          "scripts/gpu-check.sh there (from the repository root"
          + ("" if bundle == DEFAULT_BUNDLE else f", with --bundle {_show(bundle)}")
          + ").")
    return 0


# ---------------------------------------------------------------------------
# run: PyTorch side (imported lazily: prepare and the tests never need it)


class TorchBaseline:
    """PyTorch attention on the GPU: SDPA with each fused backend that accepts
    the case (fastest one kept), else an eager band-limited f32 version."""

    FUSED = ("FLASH_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION")

    def __init__(self, device="cuda"):
        import torch  # noqa: PLC0415 - lazy on purpose
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("torch.cuda.is_available() is False")
        self.torch = torch
        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        # Full f32 where torch offers a choice (never TF32).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        self.ops = TorchOps(torch, self.device)
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: PLC0415
            self.backends = [(n.lower().replace("_attention", ""),
                              getattr(SDPBackend, n)) for n in self.FUSED
                             if hasattr(SDPBackend, n)]
            self.sdpa_kernel = sdpa_kernel
        except ImportError:  # torch < 2.3: let torch pick
            self.backends, self.sdpa_kernel = [("default", None)], None

    def describe(self):
        t = self.torch
        where = (t.cuda.get_device_name(self.device) if self.cuda
                 else "on the CPU (stand-in, not a GPU result)")
        return f"torch {t.__version__} (CUDA {t.version.cuda}), {where}"

    def time_ms(self, fn, target_s=1.0):
        """(median ms, runs) of fn, after one warm-up call: CUDA events
        around each call (wall clock on the CPU), about target_s seconds of
        calls, 3 to 20."""
        torch = self.torch
        fn()
        if self.cuda:
            torch.cuda.synchronize()

        def once():
            if not self.cuda:
                t = time.perf_counter()
                fn()
                return (time.perf_counter() - t) * 1e3
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)

        times = [once()]
        runs = int(min(20, max(3, target_s * 1e3 // max(times[0], 1e-3))))
        times += [once() for _ in range(runs - 1)]
        return float(np.median(times)), runs

    def run(self, case, q, k, v):
        """Dict with out (numpy float32), ms, runs, method: torch's attention
        of the (already rotated and rounded) q, k, v."""
        torch = self.torch
        dtype = {"bf16": torch.bfloat16, "f16": torch.float16,
                 "f32": torch.float32, "f64": torch.float64}[case["dtype"]]
        a = dict(case["attention"])
        qt, kt, vt = (torch.from_numpy(np.ascontiguousarray(x)).to(
            self.device, dtype) for x in (q, k, v))
        try:
            if a.get("logit_softcap", 0.0) > 0:
                return self._eager(case, qt, kt, vt, a, "softcap is not in SDPA")
            return self._sdpa(case, qt, kt, vt, a)
        finally:
            del qt, kt, vt
            if self.cuda:
                torch.cuda.empty_cache()

    def _eager(self, case, q, k, v, a, why):
        f32 = self.torch.float32
        q, k, v = q.to(f32), k.to(f32), v.to(f32)

        def fn():
            return chunked_attention(self.ops, q, k, v, **a)
        out = fn()
        ms, runs = self.time_ms(fn)
        return {"out": out.cpu().numpy(), "ms": ms, "runs": runs,
                "method": f"eager f32, band-limited ({why})"}

    def _sdpa(self, case, q, k, v, a):
        torch = self.torch
        sdpa = torch.nn.functional.scaled_dot_product_attention
        group = case["hq"] // case["hkv"]
        k0, v0 = k, v
        if group > 1:  # GQA: repeat kv heads before timing
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        sq, skv = case["sq"], case["skv"]
        offset = q_offset_of(case)
        causal = a.get("causal", False)
        windowed = a.get("window_left", -1) >= 0 or a.get("window_right", -1) >= 0
        kwargs = {"scale": a.get("scale")}
        if causal and not windowed and offset == 0 and sq == skv:
            kwargs["is_causal"], mask_kind = True, "is_causal"
        elif causal or windowed:
            p = self.ops.arange(offset, offset + sq)[:, None]
            j = self.ops.arange(0, skv)[None, :]
            vis = visible_mask(p, j, causal, a.get("window_left", -1),
                               a.get("window_right", -1))
            kwargs["attn_mask"] = torch.zeros((sq, skv), dtype=q.dtype,
                                              device=self.device).masked_fill(
                                                  ~vis, float("-inf"))
            del vis
            mask_kind = "additive mask, dense Sq x Skv work"
        else:
            mask_kind = "no mask"
        best, failures = None, []
        for name, backend in self.backends:
            def fn(backend=backend):
                if backend is None:
                    return sdpa(q, k, v, **kwargs)
                with self.sdpa_kernel([backend]):
                    return sdpa(q, k, v, **kwargs)
            try:
                with warnings.catch_warnings():
                    # A backend that refuses the case warns why, then raises.
                    warnings.simplefilter("ignore")
                    out = fn()
                    ms, runs = self.time_ms(fn)
            except Exception as err:  # noqa: BLE001 - backend refuses the case
                text = str(err).strip().splitlines()
                failures.append(f"{name}: {(text[0] if text else type(err).__name__)[:80]}")
                continue
            if best is None or ms < best["ms"]:
                best = {"out": out.float().cpu().numpy(), "ms": ms, "runs": runs,
                        "method": f"SDPA {name} ({mask_kind})"}
            del out
        kwargs.clear()
        if best is None:
            return self._eager(case, q, k0, v0, a, "no fused SDPA backend: "
                               + "; ".join(failures))
        return best


# ---------------------------------------------------------------------------
# run: the check


def machine_info(torch_baseline):
    """[(label, value)] describing the machine."""
    info = []
    for fields in ("name,driver_version,memory.total,compute_cap",
                   "name,driver_version,memory.total"):
        try:
            smi = subprocess.run(["nvidia-smi", f"--query-gpu={fields}",
                                  "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            break
        if smi.returncode == 0 and smi.stdout.strip():
            for line in smi.stdout.strip().splitlines():
                info.append((f"GPU (nvidia-smi {fields.replace(',', ', ')})",
                             line.strip()))
            break
    if not info:
        info.append(("GPU", "nvidia-smi not available"))
    if torch_baseline is not None:
        info.append(("PyTorch", torch_baseline.describe()))
    info.append(("Python / numpy", f"{platform.python_version()} / {np.__version__}"))
    info.append(("CPU cores", str(os.cpu_count())))
    info.append(("OS", platform.platform()))
    return info


def select_cases(cases, names):
    if not names:
        return cases
    known = {c["name"]: c for c in cases}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown cases {unknown}; known: {', '.join(known)}")
    return [known[n] for n in names]


def mask_label(case):
    a = case["attention"]
    parts = []
    op = case.get("op")
    if op:
        parts.append(op.get("feature_map") or f"VQ, C = {op['codes']}")
    if a.get("causal"):
        parts.append("causal")
    if a.get("window_left", -1) >= 0:
        parts.append(f"window {a['window_left'] + 1}")
    if a.get("logit_softcap", 0) > 0:
        parts.append(f"softcap {a['logit_softcap']:g}")
    if case["rope"] is not None:
        parts.append("RoPE")
    return ", ".join(parts) or "full"


class Checker:
    """Runs the cases of a bundle and collects one result dict per case."""

    # Rate assumed for a dtype before any case of it has run (TFLOP/s).  The
    # cheapest cases run first and each later case is sized (repeats, time
    # limit, whether it still fits the budget) by the rate its dtype reached
    # on the largest case so far.
    PRIOR_TFLOPS = 0.25

    def __init__(self, args, prepared, torch_baseline, work_root):
        self.args = args
        self.bundle = os.path.abspath(args.bundle)
        self.prepared = prepared
        self.torch = torch_baseline
        self.started = time.monotonic()
        self.rates = {}  # dtype -> TFLOP/s measured on its latest case
        self.env = dict(os.environ)
        lib = os.path.join(self.bundle, "lib")
        self.env["LD_LIBRARY_PATH"] = lib + (
            ":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else "")
        if args.cpu_stand_in:
            # A snapshot: others may rebuild the build folder meanwhile (the
            # tool needs no library of the build folder).
            built = os.path.join(os.path.abspath(args.build_dir), "bin",
                                 "attnflow-run")
            self.harness = os.path.join(work_root, "attnflow-run")
            if os.access(built, os.X_OK):
                shutil.copy2(built, self.harness)
        else:
            self.harness = os.path.join(self.bundle, "bin", HARNESS)

    def remaining(self):
        return self.args.budget_s - (time.monotonic() - self.started)

    def smoke(self):
        """None, or why the harness cannot start at all."""
        if not os.access(self.harness, os.X_OK):
            return f"{self.harness} missing (prepare with the CUDA target)"
        try:
            proc = subprocess.run([self.harness, "--help"], capture_output=True,
                                  text=True, timeout=60, env=self.env)
        except subprocess.TimeoutExpired:
            return f"{self.harness} --help did not return in 60 s"
        text = proc.stdout + proc.stderr
        if "error while loading shared libraries" in text or "version `" in text:
            return text.strip().splitlines()[-1]
        return None

    def command(self, case, in_paths, out_path, repeat, warmup):
        if self.args.cpu_stand_in:
            cmd = [self.harness, os.path.join(self.bundle, case["mlir"]),
                   f"--threads={os.cpu_count()}"]
        else:
            cmd = [self.harness, os.path.join(self.bundle, case["module"])]
        if case["entry"] != "main":
            cmd.append(f"--entry={case['entry']}")
        cmd += [f"--input={p}" for p in in_paths]
        cmd += [f"--output={out_path}", f"--repeat={repeat}", f"--warmup={warmup}"]
        return cmd + list(self.args.harness_arg or [])

    def run_case(self, case, work):
        r = {"case": case["name"], "status": "ok", "detail": ""}
        tol = TOLERANCE[case["dtype"]]
        rate = self.rates.get(case["dtype"], self.PRIOR_TFLOPS)
        predicted = case["flops"] / (rate * 1e12)
        repeat, warmup = plan_repeats(predicted)
        if predicted * (repeat + warmup) + 15 > self.remaining():
            return dict(r, status="skipped", detail=(
                f"{self.remaining():.0f} s left of the {self.args.budget_s:.0f} s "
                f"budget, {predicted * (repeat + warmup):.0f} s predicted at "
                f"{rate:.3g} TFLOP/s"))

        inputs = make_inputs(case)
        in_paths = []
        for i, x in enumerate(inputs):
            path = os.path.join(work, f"in{i}.npy")
            np.save(path, x)
            in_paths.append(path)
        out_path = os.path.join(work, "out.npy")
        cmd = self.command(case, in_paths, out_path, repeat, warmup)
        timeout = min(60 + 4 * (repeat + warmup) * predicted,
                      max(60.0, self.remaining() + 30))
        t0 = time.monotonic()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True,
                                  timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            return dict(r, status="timeout", detail=(
                f"{os.path.basename(self.harness)} killed after {timeout:.0f} s "
                f"(predicted {predicted:.2f} s per call)"))
        r["wall_s"] = time.monotonic() - t0
        log = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or not os.path.exists(out_path):
            self.save_log(case, cmd, log)
            last = log.splitlines()[-1] if log else ""
            return dict(r, status="failed", detail=f"exit {proc.returncode}: {last[:200]}")
        timing = parse_timing(log)
        if timing is None:
            self.save_log(case, cmd, log)
            return dict(r, status="failed", detail="no timing in the harness output")
        r["min_ms"], r["ms"], r["runs"] = timing
        r["tflops"] = case["flops"] / (r["ms"] * 1e-3) / 1e12
        r["runs"] = r["runs"] or repeat
        self.rates[case["dtype"]] = r["tflops"]

        out = np.load(out_path)
        os.remove(out_path)
        expect = tuple(case["output"]["shape"])
        if out.shape != expect:
            return dict(r, status="failed",
                        detail=f"output shape {out.shape}, expected {expect}")
        out = out.astype(np.float32)
        finite = bool(np.isfinite(out).all())
        rows = rows_of(case["check_blocks"])
        ref = reference_rows(case, inputs)
        r["err_ref"] = float(np.max(np.abs(out[:, :, rows].astype(np.float64) - ref)))
        r["checked_rows"] = int(rows.size)
        if not finite:
            r.update(status="wrong", detail="non-finite values in the output")
        elif not r["err_ref"] <= tol:
            r.update(status="wrong", detail=f"max error {r['err_ref']:.2e} over "
                     f"the {case['dtype']} tolerance {tol:.0e}")

        if self.torch is None:
            r["torch"] = "n/a (no torch)"
        elif self.remaining() < 20:
            r["torch"] = "skipped (time budget)"
        else:
            try:
                t = self.torch.run(case, *rotated_inputs(case, inputs))
                r["torch_ms"], r["torch_runs"] = t["ms"], t["runs"]
                r["torch"] = t["method"]
                r["speedup"] = t["ms"] / r["ms"]
                if case.get("op"):
                    # Softmax attention on the same q, k, v and mask: the
                    # time a linear-time op is meant to beat, not its value.
                    r["torch"] = "softmax attention, time only: " + t["method"]
                else:
                    r["torch_tflops"] = case["flops"] / (t["ms"] * 1e-3) / 1e12
                    r["err_torch"] = float(np.max(np.abs(out - t["out"])))
            except Exception as err:  # noqa: BLE001 - reported, never fatal
                r["torch"] = f"failed: {type(err).__name__}: {str(err)[:160]}"
        return r

    def save_log(self, case, cmd, log):
        if not self.args.out:
            return
        d = os.path.join(self.args.out, "gpu-check-logs")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, case["name"] + ".txt"), "w") as fh:
            fh.write(" ".join(cmd) + "\n\n" + log + "\n")


def _fmt(val, spec, missing=""):
    return missing if val is None else format(val, spec)


def report(cases, results, info, prepared, args):
    """The markdown report."""
    by = {r["case"]: r for r in results}
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    harness = "attnflow-run (CPU stand-in, not a GPU result)" if args.cpu_stand_in \
        else HARNESS
    lines = ["## GPU check: AttnFlow CUDA kernels against numpy and PyTorch", "",
             f"`scripts/gpu-check.sh` on {now} UTC with the bundle prepared on "
             f"{prepared.get('utc', '?')} UTC from commit "
             f"{prepared.get('commit', '?')}"
             + (" plus uncommitted changes" if prepared.get("dirty") else "")
             + (f" (`--target=cuda --gpu-arch={prepared.get('gpu_arch')}`)"
                if prepared.get("mode") == "cuda" else " (`--cpu-only`)")
             + f", harness {harness}.", ""]
    bad = [r["case"] for r in results if r["status"] != "ok"]
    lines += [f"**{len(results) - len(bad)} of {len(cases)} cases ok**"
              + (f"; not ok: {', '.join(bad)}" if bad else "")
              + (f"; not run (yet): {len(cases) - len(results)}"
                 if len(results) < len(cases) else "") + ".", "",
              "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in info]
    lines += ["", "| case | B, Hq/Hkv, Sq x Skv, D | dtype | mask | visible GFLOP "
              "| max err vs ref (rows) | max err vs torch | AttnFlow ms (runs) "
              "| AttnFlow TFLOP/s | torch ms | torch TFLOP/s | torch / AttnFlow "
              "| torch method | status |",
              "|" + "---|" * 14]
    for c in cases:
        r = by.get(c["name"], {"status": "not run", "detail": ""})
        shape = (f"{c['batch']}, {c['hq']}/{c['hkv']}, {c['sq']} x {c['skv']}, "
                 f"{c['dim']}")
        err_ref = ""
        if "err_ref" in r:
            err_ref = f"{r['err_ref']:.1e} ({r['checked_rows']})"
        status = r["status"] + (f": {r['detail']}" if r.get("detail") else "")
        lines.append("| " + " | ".join([
            c["name"], shape, c["dtype"], mask_label(c), f"{c['flops'] / 1e9:.2f}",
            err_ref, _fmt(r.get("err_torch"), ".1e"),
            (f"{r['ms']:.3f} ({r['runs']})" if "ms" in r else ""),
            _fmt(r.get("tflops"), ".3g"), _fmt(r.get("torch_ms"), ".3f"),
            _fmt(r.get("torch_tflops"), ".3g"), _fmt(r.get("speedup"), ".2f"),
            r.get("torch", "").replace("|", "/"), status.replace("|", "/")]) + " |")
    lines += ["", "- Inputs: q, k, v float32 N(0, 1) from a seeded generator "
              "(bf16 cases: rounded to bf16 first, so AttnFlow, the reference "
              "and torch see the same values); RoPE positions 0..S-1 (Gemma: "
              "queries at the last Sq positions). The examples run as written in "
              "examples/ (f32) on the inputs examples/run_examples.py gives them.",
              "- max err vs ref: max |AttnFlow - float64 reference| "
              "(python/attnflow/reference.py) over the rows in parentheses "
              f"(every row up to {FULL_CHECK_ROWS} queries, else blocks of "
              f"{CHECK_BLOCK} at the start, window edge, middle and end). "
              "Tolerance " + ", ".join(f"{v:.0e} ({k})" for k, v in
                                       TOLERANCE.items() if k in ("bf16", "f32"))
              + "; `wrong` above it.",
              "- max err vs torch: max |AttnFlow - torch| over the whole output.",
              "- ms: median time of one call. AttnFlow: as "
              f"{os.path.basename(harness.split()[0])} reports it "
              "(`--repeat` / `--warmup`"
              + ("" if args.cpu_stand_in else
                 "; CUDA events around the whole call: launches, the result's "
                 "allocation, kernels, final synchronisation; inputs already on "
                 "the device") + "). torch: CUDA events around the SDPA call "
              "alone (k/v heads repeated for GQA and masks built before timing); "
              "the fastest fused SDPA backend that accepts the case; soft-capped "
              "cases use an eager f32 torch version, chunked over query rows "
              "against the visible key band.",
              "- TFLOP/s: visible FLOPs / median time, visible FLOPs = 4 B Hq D "
              "x (visible (query, key) pairs) (2 (D + Dv) per pair): masked "
              "pairs count zero for both, although SDPA with a mask computes "
              "them; RoPE is not counted. torch / AttnFlow: torch ms / AttnFlow "
              "ms, above 1 AttnFlow is faster.",
              "- Linear-time ops (linear_attention, vq_attention; projection: "
              "seeded FAVOR+ orthogonal features, codebook: N(0, 1)): the "
              "reference is python/attnflow/reference.py's; FLOPs are those of "
              "the linear form (gpu_check.py's linear_flops); torch is causal "
              "softmax SDPA on the same q, k, v, timed only (torch / AttnFlow: "
              "how much faster the linear-time op is than softmax attention).",
              ""]
    return "\n".join(lines)


def write_outputs(args, cases, results, info, prepared):
    """The report's text; also written, with the raw results as JSON, to
    args.out when set."""
    text = report(cases, results, info, prepared, args)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gpu-check.md"), "w") as fh:
            fh.write(text)
        with open(os.path.join(args.out, "gpu-check.json"), "w") as fh:
            json.dump({"prepared": prepared, "machine": info, "cases": cases,
                       "results": results}, fh, indent=1)
    return text


def run(args):
    started = time.monotonic()
    manifest = os.path.join(args.bundle, "manifest.json")
    if not os.path.exists(manifest):
        print(f"gpu-check: {manifest} missing: run `scripts/gpu-check.sh --prepare` "
              "on the build machine and carry build/gpu-bundle", file=sys.stderr)
        return 2
    prepared, cases = read_manifest(manifest)
    if prepared.get("mode") != "cuda" and not args.cpu_stand_in:
        print("gpu-check: the bundle was prepared with --cpu-only (no compiled "
              "modules); use --cpu-stand-in or prepare again", file=sys.stderr)
        return 2
    cases = select_cases(cases, args.cases)
    torch_baseline = None
    if not args.no_torch:
        try:
            torch_baseline = TorchBaseline(args.torch_device)
            print(f"torch: {torch_baseline.describe()}", flush=True)
        except Exception as err:  # noqa: BLE001
            print(f"warning: no torch comparison ({type(err).__name__}: {err})",
                  flush=True)
    info = machine_info(torch_baseline)
    for k, v in info:
        print(f"{k}: {v}")

    results = []
    work_root = tempfile.mkdtemp(prefix="gpu-check-", dir=args.work_dir)
    try:
        checker = Checker(args, prepared, torch_baseline, work_root)
        checker.started = started
        why_not = checker.smoke()
        if why_not:
            print(f"gpu-check: the harness cannot start: {why_not}", flush=True)
            results = [{"case": c["name"], "status": "failed", "detail": why_not}
                       for c in cases]
        else:
            # Cheapest first, so each dtype's measured rate sizes the next case.
            order = sorted(cases, key=lambda c: c["flops"])
            no_gpu = None  # set when the harness finds no driver or device
            for i, c in enumerate(order, 1):
                if no_gpu:
                    results.append({"case": c["name"], "status": "failed",
                                    "detail": f"not run: {no_gpu}"})
                    continue
                print(f"[{i}/{len(order)}] {c['name']}: {c['dtype']}, "
                      f"Sq={c['sq']} Skv={c['skv']}, {mask_label(c)}, "
                      f"{c['flops'] / 1e9:.1f} visible GFLOP "
                      f"({time.monotonic() - started:.0f} s elapsed)", flush=True)
                work = os.path.join(work_root, c["name"])
                os.makedirs(work)
                try:
                    r = checker.run_case(c, work)
                except Exception as err:  # noqa: BLE001 - one case, not the run
                    r = {"case": c["name"], "status": "failed",
                         "detail": f"gpu_check.py: {type(err).__name__}: {err}"}
                shutil.rmtree(work, ignore_errors=True)
                results.append(r)
                # Rewritten after every case: a run killed at the device's
                # time limit still leaves the cases it finished.
                write_outputs(args, cases, results, info, prepared)
                if r["status"] == "failed" and re.search(
                        r"no CUDA (driver|device)", r["detail"]):
                    no_gpu = r["detail"].split("error: ", 1)[-1]
                print("    " + ", ".join(
                    s for s in [
                        f"err vs ref {r['err_ref']:.1e}" if "err_ref" in r else "",
                        f"ours {r['ms']:.3f} ms = {r['tflops']:.3g} TFLOP/s"
                        if "ms" in r else "",
                        f"torch {r['torch_ms']:.3f} ms ({r['torch']})"
                        if "torch_ms" in r else r.get("torch", ""),
                        f"err vs torch {r['err_torch']:.1e}" if "err_torch" in r else "",
                        r["status"] + (f": {r['detail']}" if r["detail"] else "")]
                    if s), flush=True)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)

    text = write_outputs(args, cases, results, info, prepared)
    print()
    print(text)
    if args.out:
        print(f"wrote {os.path.join(args.out, 'gpu-check.md')} and gpu-check.json")
    bad = [r["case"] for r in results if r["status"] != "ok"]
    print(f"\n{len(results) - len(bad)} of {len(cases)} cases ok"
          + (f"; not ok: {', '.join(bad)}" if bad else "")
          + f" ({time.monotonic() - started:.0f} s)")
    return 1 if bad or len(results) != len(cases) else 0


# ---------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    build_default = os.environ.get("ATTNFLOW_BUILD_DIR", os.path.join(ROOT, "build"))

    p = sub.add_parser("prepare", help="build machine: compile the cases and "
                       "fill the bundle")
    p.add_argument("--build-dir", default=build_default)
    p.add_argument("--bundle", default=DEFAULT_BUNDLE)
    p.add_argument("--no-build", action="store_true",
                   help="do not run scripts/build.sh first")
    p.add_argument("--cpu-only", action="store_true",
                   help="write the modules and manifest only (no CUDA "
                        "compilation, no harness): for run --cpu-stand-in")
    p.add_argument("--small", action="store_true",
                   help="small shapes (testing the script itself)")
    p.add_argument("--cases", nargs="+", metavar="NAME")
    p.add_argument("--gpu-arch", default="sm_90")
    p.add_argument("--check-arch", default="sm_80",
                   help="also compile (only) for this arch; '' to skip")
    p.add_argument("--link-flag", action="append", metavar="FLAG",
                   help="extra flag for linking each module (repeatable)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--compiler", help=argparse.SUPPRESS)  # tests: a stand-in

    r = sub.add_parser("run", help="GPU machine: run the bundle's cases")
    r.add_argument("--bundle", default=DEFAULT_BUNDLE)
    r.add_argument("--out", default=os.environ.get("OUT") or None,
                   help="folder for gpu-check.md / .json (default $OUT; "
                        "none: stdout only)")
    r.add_argument("--budget-s", type=float, default=270.0,
                   help="wall-clock budget; cases that no longer fit are "
                        "skipped (and reported)")
    r.add_argument("--cases", nargs="+", metavar="NAME")
    r.add_argument("--no-torch", action="store_true")
    r.add_argument("--torch-device", default="cuda", help=argparse.SUPPRESS)
    r.add_argument("--cpu-stand-in", action="store_true",
                   help="run the modules' MLIR with the CPU attnflow-run "
                        "instead (tests this script without a GPU)")
    r.add_argument("--build-dir", default=build_default,
                   help="for --cpu-stand-in: where bin/attnflow-run is")
    r.add_argument("--work-dir", default=None,
                   help="where inputs and outputs are written (default: TMPDIR)")
    r.add_argument("--harness-arg", action="append", metavar="ARG",
                   help="extra argument for every harness call (repeatable)")
    args = parser.parse_args(argv)
    try:
        if args.mode == "prepare":
            return prepare(args)
        return run(args)
    except PrepareError as err:
        print(f"gpu-check --prepare: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
