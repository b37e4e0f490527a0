"""attnflow.rope compiled by attnflow-run against attnflow.reference.rope
(DESIGN §3), plus RoPE invariants checked on the compiled output.

Tolerance: |got - ref| <= 1e-4 (1 + |ref|) for f32/f64; for f16/bf16 the
reference runs on the rounded inputs and the bound adds the output rounding,
u |ref| with u = 2^-11 (f16) or 2^-8 (bf16).  The reference reproduces the
contract's f32 angles (f32_angles=True).
"""

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R

from _helpers import assert_close, randn

pytestmark = pytest.mark.compiled

B, H, S, D = 2, 3, 13, 24

SCALINGS = {
    "default": None,
    "none": {"kind": "none"},
    "linear": {"kind": "linear", "factor": 4.0},
    "ntk": {"kind": "ntk", "factor": 4.0},
    "dynamic_ntk_below": {"kind": "dynamic_ntk", "factor": 4.0, "original_max_position": 64},
    "dynamic_ntk_above": {"kind": "dynamic_ntk", "factor": 4.0, "original_max_position": 64},
    "yarn": {"kind": "yarn", "factor": 4.0, "original_max_position": 32},
    "yarn_explicit": {"kind": "yarn", "factor": 8.0, "original_max_position": 128,
                      "beta_fast": 16.0, "beta_slow": 2.0, "attention_factor": 1.25},
    # L0 = 64 puts pairs 0-1 above, 2-3 inside and 4-11 below the smoothed band.
    "llama3": {"kind": "llama3", "factor": 8.0, "original_max_position": 64,
               "low_freq_factor": 1.0, "high_freq_factor": 4.0},
}


def run_rope(x, positions, element_type="f32", positions_type="i64", **attrs):
    """Compiled rope of (x, positions) with the given ir attributes."""
    text = ir.rope_module(x.shape, positions.shape, element_type, positions_type, **attrs)
    (out,) = attnflow.run(text, [x, positions])
    return out


def check_rope(x_shape, positions, element_type="f32", positions_type="i64", seed=0, **attrs):
    x = randn(np.random.default_rng(seed), x_shape, element_type)
    got = run_rope(x, positions, element_type, positions_type, **attrs)
    ref = R.rope(x, positions, **{k: v for k, v in attrs.items() if v is not None})
    assert_close(got, ref, element_type, what=f"rope {element_type} {attrs}")


def positions_up_to(high, shape, seed=1):
    return np.random.default_rng(seed).integers(0, high, size=shape)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("name", list(SCALINGS))
def test_layouts_and_scalings(layout, name):
    high = {"dynamic_ntk_below": 60, "dynamic_ntk_above": 200}.get(name, 100)
    pos = positions_up_to(high, (B, S))
    if name == "dynamic_ntk_below":
        assert pos.max() + 1 <= 64
    if name == "dynamic_ntk_above":
        assert pos.max() + 1 > 64
    check_rope((B, H, S, D), pos, layout=layout, scaling=SCALINGS[name], theta=10000.0)


@pytest.mark.parametrize("layout, scaling", [("half", None), ("interleaved", "yarn"),
                                             ("half", "llama3")])
def test_partial_rotary_dim(layout, scaling):
    check_rope((B, H, S, D), positions_up_to(100, (S,)), rotary_dim=16, layout=layout,
               scaling=SCALINGS.get(scaling))


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("pos_shape", [(3, S), (3, B, S)], ids=["AxS", "AxBxS"])
def test_mrope(layout, pos_shape):
    check_rope((B, H, S, D), positions_up_to(100, pos_shape), layout=layout,
               mrope_section=[2, 5, 5], theta=1000000.0)


@pytest.mark.parametrize("scaling", ["llama3", "dynamic_ntk_above", "yarn"])
def test_mrope_with_scaling_and_partial_rotary(scaling):
    check_rope((B, H, S, D), positions_up_to(200, (3, B, S)), rotary_dim=16,
               mrope_section=[2, 3, 3], scaling=SCALINGS[scaling])


@pytest.mark.parametrize("pos_shape", [(S,), (B, S)], ids=["S", "BxS"])
@pytest.mark.parametrize("positions_type", ["i64", "i32"])
def test_positions_shape_and_type(pos_shape, positions_type):
    pos = positions_up_to(1000, pos_shape).astype(
        {"i64": np.int64, "i32": np.int32}[positions_type])
    check_rope((B, H, S, D), pos, positions_type=positions_type, theta=500000.0)


@pytest.mark.parametrize("element_type", ["f16", "bf16", "f64"])
def test_element_types(element_type):
    check_rope((B, H, S, D), positions_up_to(100, (B, S)), element_type=element_type,
               scaling=SCALINGS["llama3"], layout="interleaved")


def test_large_positions():
    # Angles up to 1e5 rad: needs accurate range reduction (DESIGN §4); the
    # reference reproduces the f32 angle, so no extra tolerance is needed.
    pos = np.array([0, 1, 4095, 8191, 65535, 65536, 99991, 100000] + [123456] * 5)
    check_rope((1, 2, S, 8), pos)


def test_preserves_norm():
    x = randn(np.random.default_rng(2), (B, H, S, D))
    y = run_rope(x, positions_up_to(5000, (B, S)), theta=500000.0, scaling=SCALINGS["llama3"])
    assert_close(np.linalg.norm(y, axis=-1), np.linalg.norm(x.astype(np.float64), axis=-1),
                 what="norm")


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_relative_position(layout):
    # Batch 0 holds q at positions m, batch 1 holds k at positions m + 5: the
    # dot products <rope(q, m), rope(k, m + 5)> must not depend on m.
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal(D), rng.standard_normal(D)
    x = np.stack([np.broadcast_to(q, (1, S, D)), np.broadcast_to(k, (1, S, D))]).astype(np.float32)
    m = np.array([0, 1, 2, 3, 7, 10, 31, 64, 100, 255, 256, 500, 1000])
    y = run_rope(x, np.stack([m, m + 5]), layout=layout).astype(np.float64)
    dots = np.sum(y[0, 0] * y[1, 0], axis=-1)
    exact = np.sum(R.rope(x[:1, :, :1], np.array([0]), layout=layout, f32_angles=False)
                   * R.rope(x[1:, :, :1], np.array([5]), layout=layout, f32_angles=False))
    # f32 angles at position P are off by up to P 2^-24 rad per pair, which
    # moves the dot product by up to |q| |k| 2 (m + 5) 2^-23.
    tol = 1e-4 * (1 + abs(exact)) + np.linalg.norm(q) * np.linalg.norm(k) * (m + 5) * 2.0 ** -22
    err = np.abs(dots - exact)
    assert np.all(err <= tol), f"q_m . k_(m+5) - exact = {err} (tol {tol})"


@pytest.mark.parametrize("name, pos_shape, attrs", [
    ("llama3.1-8b", (S,), {"theta": 500000.0, "scaling": {
        "kind": "llama3", "factor": 8.0, "original_max_position": 8192,
        "low_freq_factor": 1.0, "high_freq_factor": 4.0}}),
    ("qwen2-vl", (3, S), {"theta": 1000000.0, "mrope_section": [16, 24, 24]}),
    ("yarn-128k", (B, S), {"theta": 10000.0, "scaling": {
        "kind": "yarn", "factor": 4.0, "original_max_position": 32768}}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_model_configurations_at_long_positions(name, pos_shape, attrs):
    # DESIGN §6 configurations, D = 128, positions up to 2e4 (f32 angles are
    # reproduced by the reference).
    check_rope((B, 2, S, 128), positions_up_to(20000, pos_shape), **attrs)
