"""The linear-time lowering of linear_attention and vq_attention
(--attnflow-chunk-linear-attention, part of the CPU pipeline) against the
float64 references of attnflow.reference: every feature map, causal or not,
GQA, chunk / block sizes that do not divide S (pass options, applied with
attnflow-opt before attnflow-run, or the op's block_len), shared and
per-head codebooks, f16 inputs, vq_attention == attention on quantized keys,
and large-magnitude favor_plus inputs (stabilized, finite).

Tolerance: as test_compiled_attention.py (|err| <= 1e-4 (1 + |ref|) plus the
output rounding of f16).
"""

import os
import subprocess

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R
from attnflow.random_features import favor_plus_projection
from attnflow.runner import find_attnflow_run

from _helpers import as_element_type, assert_close, randn

pytestmark = pytest.mark.compiled

PASS = "attnflow-chunk-linear-attention"


def _attrs(entries):
    entries = [(k, v) for k, v in entries if v is not None]
    return "{" + ", ".join(f"{k} = {v}" for k, v in entries) + "}"


def linear_attention_module(q, k, v, w, element_type, feature_map, causal,
                            scale=None, eps=None):
    shapes = [q.shape, k.shape, v.shape] + ([w.shape] if w is not None else [])
    types = [ir.tensor_type(s, element_type) for s in shapes]
    out = ir.tensor_type(q.shape[:3] + v.shape[3:], element_type)
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    operands = ", ".join(f"%a{i}" for i in range(len(types)))
    attrs = _attrs([
        ("feature_map", f"#attnflow.feature_map<{feature_map}>"),
        ("causal", "true" if causal else None),
        ("scale", None if scale is None else f"{ir.format_float(scale)} : f64"),
        ("eps", None if eps is None else f"{ir.format_float(eps)} : f64")])
    return (f"func.func @main({args}) -> {out} {{\n"
            f"  %o = attnflow.linear_attention {operands} {attrs} : "
            f"{', '.join(types)} -> {out}\n"
            f"  return %o : {out}\n}}\n")


def vq_attention_module(q, k, v, cb, element_type, causal, scale=None,
                        block_len=None):
    types = [ir.tensor_type(x.shape, element_type) for x in (q, k, v, cb)]
    out = ir.tensor_type(q.shape[:3] + v.shape[3:], element_type)
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    attrs = _attrs([
        ("causal", "true" if causal else None),
        ("scale", None if scale is None else f"{ir.format_float(scale)} : f64"),
        ("block_len", None if block_len is None else f"{int(block_len)} : i64")])
    return (f"func.func @main({args}) -> {out} {{\n"
            f"  %o = attnflow.vq_attention %a0, %a1, %a2, %a3 {attrs} : "
            f"{', '.join(types)} -> {out}\n"
            f"  return %o : {out}\n}}\n")


def run(text, inputs, options=None):
    """Runs @main; with pass options, the chunking pass runs first through
    attnflow-opt with them (the pipeline's own run then finds nothing)."""
    if options:
        opt = os.path.join(os.path.dirname(find_attnflow_run()), "attnflow-opt")
        proc = subprocess.run([opt, "-", f"--{PASS}={options}"], input=text,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        text = proc.stdout
        assert "attnflow.linear_attention" not in text
        assert "attnflow.vq_attention" not in text
    (out,) = attnflow.run(text, inputs)
    return out


# ---------------------------------------------------------------------------
# linear_attention
# ---------------------------------------------------------------------------

def check_linear(b, hq, hkv, sq, skv, d, dv, feature_map, causal, m=16,
                 element_type="f32", options=None, std=1.0, seed=0, **attrs):
    rng = np.random.default_rng(seed)
    q = as_element_type(std * rng.standard_normal((b, hq, sq, d)), element_type)
    k = as_element_type(std * rng.standard_normal((b, hkv, skv, d)), element_type)
    v = randn(rng, (b, hkv, skv, dv), element_type)
    w = None
    if feature_map == "favor_plus":
        w = as_element_type(favor_plus_projection(m, d, seed + 1), element_type)
    text = linear_attention_module(q, k, v, w, element_type, feature_map,
                                   causal, **attrs)
    inputs = [q, k, v] + ([w] if w is not None else [])
    got = run(text, inputs, options)
    ref = R.linear_attention(q, k, v, w, feature_map=feature_map,
                             causal=causal,
                             **{a: x for a, x in attrs.items() if x is not None})
    assert_close(got, ref, element_type,
                 what=f"linear_attention {feature_map} causal={causal} "
                      f"{element_type} S={sq}/{skv} {options} {attrs}")
    return got, ref


@pytest.mark.parametrize("feature_map", R.LINEAR_ATTENTION_FEATURE_MAPS)
@pytest.mark.parametrize("causal, sq, skv, options", [
    (False, 37, 45, None),
    (True, 100, 100, None),                  # one chunk of 64 + a tail of 36
    (True, 50, 50, "chunk-size=16"),         # 3 chunks + 2
    (True, 33, 33, "chunk-size=1"),          # the pure recurrence
    (True, 20, 20, "chunk-size=64"),         # only the tail
])
def test_linear_attention(feature_map, causal, sq, skv, options):
    check_linear(1, 4, 2, sq, skv, 16, 8, feature_map, causal, options=options)


@pytest.mark.parametrize("hq, hkv", [(6, 3), (4, 1), (2, 2)])
def test_linear_attention_gqa(hq, hkv):
    check_linear(2, hq, hkv, 41, 41, 8, 12, "favor_plus", True,
                 options="chunk-size=12")
    check_linear(2, hq, hkv, 23, 31, 8, 12, "elu_plus_one", False)


def test_linear_attention_attributes():
    check_linear(1, 2, 1, 30, 30, 16, 16, "favor_plus", True, m=24,
                 options="chunk-size=7", scale=0.5, eps=1e-2)
    check_linear(1, 2, 1, 30, 30, 16, 16, "elu_plus_one", True, eps=0.0)


@pytest.mark.parametrize("feature_map", R.LINEAR_ATTENTION_FEATURE_MAPS)
def test_linear_attention_f16(feature_map):
    check_linear(1, 4, 2, 70, 70, 16, 16, feature_map, True, element_type="f16")


def test_linear_attention_bf16():
    check_linear(1, 4, 2, 70, 70, 16, 16, "favor_plus", True, element_type="bf16")
    check_linear(1, 4, 2, 30, 40, 16, 16, "elu_plus_one", False, element_type="bf16")


def test_linear_attention_f64():
    check_linear(1, 2, 2, 40, 40, 8, 8, "favor_plus", True, element_type="f64",
                 options="chunk-size=9")


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("std, eps", [(8.0, 0.0), (12.0, None)])
def test_linear_attention_large_favor_plus(causal, std, eps):
    """|q|, |k| ~ std sqrt(D): the FAVOR+ logits are about -300 .. -10 (std
    8) and -680 .. -30 (std 12), so unstabilized f32 features exp(l) underflow
    to 0 (0 / 0 with eps = 0). The shifted form is finite and matches the
    float64 reference; with eps = 1e-6 its rescaled eps' = eps exp(-(A + B))
    overflows to inf for the std-12 rows, whose exact output is ~0 too."""
    got, _ = check_linear(1, 2, 1, 48, 48, 8, 8, "favor_plus", causal, m=16,
                          options="chunk-size=20", std=std, seed=3, eps=eps)
    assert np.all(np.isfinite(got))
    # The same operands (check_linear's seeding): some unstabilized f32
    # normalizer underflows to 0.
    rng = np.random.default_rng(3)
    q = (std * rng.standard_normal((1, 2, 48, 8))).astype(np.float32)
    k = (std * rng.standard_normal((1, 1, 48, 8))).astype(np.float32)
    w = favor_plus_projection(16, 8, 4).astype(np.float32)
    phi_q, phi_k = (np.exp(R._favor_log_features(x, w, 8 ** -0.5)).astype(np.float32)
                    for x in (q, k))
    assert np.any((phi_q[0] @ phi_k[0, 0].T).sum(axis=-1) == 0)


# ---------------------------------------------------------------------------
# vq_attention
# ---------------------------------------------------------------------------

def vq_operands(b, hq, hkv, sq, skv, d, dv, c, per_head, element_type, seed):
    """q, k, v and a codebook; keys are codewords plus small noise, so the
    nearest code is the same in f32 and float64 (no near-ties)."""
    rng = np.random.default_rng(seed)
    cb_shape = (hkv, c, d) if per_head else (c, d)
    cb = as_element_type(2.0 * rng.standard_normal(cb_shape), element_type)
    codes = rng.integers(0, c // 2 + 1, size=(b, hkv, skv))  # some codes unused
    cbh = np.broadcast_to(np.asarray(cb, np.float64), (hkv, c, d))
    base = cbh[np.arange(hkv)[None, :, None], codes]
    k = as_element_type(base + 0.05 * rng.standard_normal(base.shape), element_type)
    q = randn(rng, (b, hq, sq, d), element_type)
    v = randn(rng, (b, hkv, skv, dv), element_type)
    return q, k, v, cb


def check_vq(b, hq, hkv, sq, skv, d, dv, c, causal, per_head=False,
             element_type="f32", options=None, block_len=None, scale=None,
             seed=0):
    q, k, v, cb = vq_operands(b, hq, hkv, sq, skv, d, dv, c, per_head,
                              element_type, seed)
    text = vq_attention_module(q, k, v, cb, element_type, causal, scale=scale,
                               block_len=block_len)
    got = run(text, [q, k, v, cb], options)
    ref = R.vq_attention(q, k, v, cb, scale=scale, causal=causal)
    assert_close(got, ref, element_type,
                 what=f"vq_attention causal={causal} per_head={per_head} "
                      f"{element_type} Sq={sq} Skv={skv} {options} "
                      f"block_len={block_len}")
    return q, k, v, cb, got


@pytest.mark.parametrize("per_head", [False, True])
@pytest.mark.parametrize("causal, sq, skv, options, block_len", [
    (False, 37, 45, None, None),
    (True, 100, 100, None, None),            # one block of 64 + 36
    (True, 50, 50, "vq-block=16", None),     # 3 blocks + 2
    (True, 50, 50, "vq-block=16", 7),        # block_len wins over the option
    (True, 30, 47, None, 8),                 # Sq < Skv: 17 prefix keys
    (True, 45, 30, None, 8),                 # Sq > Skv: 15 rows see no key
    (True, 25, 25, None, 1),                 # blocks of one row
])
def test_vq_attention(per_head, causal, sq, skv, options, block_len):
    check_vq(1, 4, 2, sq, skv, 16, 8, 12, causal, per_head=per_head,
             options=options, block_len=block_len)


@pytest.mark.parametrize("hq, hkv", [(6, 3), (4, 1)])
def test_vq_attention_gqa(hq, hkv):
    check_vq(2, hq, hkv, 41, 41, 8, 12, 10, True, per_head=True, block_len=12)
    check_vq(2, hq, hkv, 23, 31, 8, 12, 10, False, scale=0.7)


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
def test_vq_attention_low_precision(element_type):
    check_vq(1, 4, 2, 70, 70, 16, 16, 16, True, element_type=element_type)
    check_vq(1, 4, 2, 30, 40, 16, 16, 16, False, per_head=True,
             element_type=element_type)


def test_vq_attention_f64():
    check_vq(1, 2, 1, 50, 50, 8, 8, 10, True, element_type="f64", block_len=12)


@pytest.mark.parametrize("causal", [False, True])
def test_vq_attention_is_attention_on_quantized_keys(causal):
    """Compiled vq_attention equals compiled attention(q, xq, v) with xq
    = vector_quantize(k), both to f32 rounding."""
    q, k, v, cb, got = check_vq(1, 4, 2, 60, 60, 16, 16, 20, causal,
                                per_head=True, block_len=16, seed=5)
    _, xq = R.vector_quantize(k, cb)
    text = ir.attention_module(q.shape, xq.shape, v.shape, causal=causal)
    (want,) = attnflow.run(text, [q, xq.astype(np.float32), v])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# vector kernels (VectorKernels.h) at other register widths


@pytest.mark.parametrize("width", [1, 4])
def test_vector_widths(width):
    """The product / row-sum / exp kernels at 1 lane (blocks of 2 f32 or 1
    f64 element) and 4 (SSE), with partial row tiles and column blocks of
    every kind (the host width is covered by the tests above)."""
    check_linear(1, 4, 2, 53, 53, 12, 10, "favor_plus", True, m=20,
                 options=f"chunk-size=24 vector-width={width}")
    check_linear(1, 2, 1, 29, 29, 6, 5, "elu_plus_one", False,
                 element_type="f64", options=f"vector-width={width}")
    check_vq(1, 4, 2, 45, 45, 12, 10, 11, True,
             options=f"vq-block=16 vector-width={width}")
