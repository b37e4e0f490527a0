"""Unit tests of attnflow.reference's RoPE against closed forms, hand-computed
configurations and invariants (DESIGN §3 attnflow.rope)."""

import math

import numpy as np
import pytest

from attnflow import reference as R

LLAMA3 = {"kind": "llama3", "factor": 8.0, "original_max_position": 8192,
          "low_freq_factor": 1.0, "high_freq_factor": 4.0}


# --- inverse frequencies -----------------------------------------------------

def test_inv_freq_default_closed_form():
    np.testing.assert_allclose(R.rope_inv_freq(8, theta=10000.0),
                               [1.0, 0.1, 0.01, 0.001], rtol=1e-15)


def test_inv_freq_linear():
    inv = R.rope_inv_freq(4, theta=100.0, scaling={"kind": "linear", "factor": 4.0})
    np.testing.assert_allclose(inv, [0.25, 0.025], rtol=1e-15)


def test_inv_freq_ntk():
    # theta' = 100 * 4^(4/2) = 1600 -> [1, 1600^-1/2].
    inv = R.rope_inv_freq(4, theta=100.0, scaling={"kind": "ntk", "factor": 4.0})
    np.testing.assert_allclose(inv, [1.0, 1.0 / 40.0], rtol=1e-14)


@pytest.mark.parametrize("max_position, expected", [
    (None, [1.0, 0.1]),   # HF init time: seq_len = original_max_position
    (5, [1.0, 0.1]),      # L = 6 <= 10: unchanged
    (9, [1.0, 0.1]),      # L = 10 = L0: unchanged
    (19, [1.0, 1.0 / 30.0]),  # L = 20: theta' = 100 (2*20/10 - 1)^2 = 900
])
def test_inv_freq_dynamic_ntk(max_position, expected):
    scaling = {"kind": "dynamic_ntk", "factor": 2.0, "original_max_position": 10}
    inv = R.rope_inv_freq(4, theta=100.0, scaling=scaling, max_position=max_position)
    np.testing.assert_allclose(inv, expected, rtol=1e-14)


def test_inv_freq_yarn_by_hand():
    # r = 8, theta = 1e4, F = 4, L0 = 64, beta_fast 32, beta_slow 1.
    # correction dim d(n) = 8 ln(64 / (2 pi n)) / (2 ln 1e4):
    #   d(32) = -0.497 -> floor -1 -> clamp 0 = low;  d(1) = 1.008 -> ceil 2 = high.
    # ramp_i = clip((i - 0) / 2) = [0, .5, 1, 1]; inv = extrap (1 - ramp) + interp ramp
    # with extrap = [1, .1, .01, .001] and interp = extrap / 4.
    inv, attn = R.rope_parameters(8, theta=1e4, scaling={
        "kind": "yarn", "factor": 4.0, "original_max_position": 64})
    np.testing.assert_allclose(inv, [1.0, 0.0625, 0.0025, 0.00025], rtol=1e-13)
    assert attn == pytest.approx(0.1 * math.log(4.0) + 1.0, rel=1e-15)


def test_inv_freq_yarn_equal_correction_range():
    # L0 = 2: d(1) = -0.497 -> ceil 0, d(32) -> floor < 0 -> clamp 0: low == high
    # = 0, so high becomes 0.001 and ramp = [0, 1, 1, 1].
    inv, _ = R.rope_parameters(8, theta=1e4, scaling={
        "kind": "yarn", "factor": 2.0, "original_max_position": 2})
    np.testing.assert_allclose(inv, [1.0, 0.05, 0.005, 0.0005], rtol=1e-13)


def test_yarn_attention_factor_explicit_and_unit_factor():
    _, attn = R.rope_parameters(8, scaling={"kind": "yarn", "factor": 4.0,
                                            "original_max_position": 64,
                                            "attention_factor": 0.75})
    assert attn == 0.75
    _, attn = R.rope_parameters(8, scaling={"kind": "yarn", "factor": 1.0,
                                            "original_max_position": 64})
    assert attn == 1.0
    # attention_factor is ignored by other kinds.
    _, attn = R.rope_parameters(8, scaling={"kind": "linear", "factor": 2.0,
                                            "attention_factor": 3.0})
    assert attn == 1.0


def test_inv_freq_llama3_by_hand():
    # r = 8, theta = 1e4: inv = [1, .1, .01, .001], wavelen = 2 pi / inv.
    # L0 = 1000, low/high freq factor 1/4: low_freq_wavelen 1000, high 250.
    # pairs 0, 1 (wavelen 6.3, 62.8 < 250): kept; pair 3 (6283 > 1000): / 8;
    # pair 2 (628.3, medium): s = (1000 / 628.3 - 1) / 3, (1 - s) inv/8 + s inv.
    s = (1000 * 0.01 / (2 * math.pi) - 1) / 3
    inv = R.rope_inv_freq(8, theta=1e4, scaling={
        "kind": "llama3", "factor": 8.0, "original_max_position": 1000,
        "low_freq_factor": 1.0, "high_freq_factor": 4.0})
    np.testing.assert_allclose(
        inv, [1.0, 0.1, (1 - s) * 0.01 / 8 + s * 0.01, 0.001 / 8], rtol=1e-13)


def test_llama3_defaults_match_explicit():
    # low_freq_factor = 1 and high_freq_factor = 4 are the DESIGN defaults.
    a = R.rope_inv_freq(128, 500000.0, LLAMA3)
    b = R.rope_inv_freq(128, 500000.0, {"kind": "llama3", "factor": 8.0,
                                        "original_max_position": 8192})
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scaling", [
    {"kind": "dynamic_ntk", "factor": 2.0},
    {"kind": "yarn", "factor": 2.0},
    {"kind": "llama3", "factor": 8.0},
    {"kind": "bogus"},
    {"factor": 2.0},
    {"kind": "linear", "scale": 2.0},
])
def test_bad_scaling_rejected(scaling):
    with pytest.raises(ValueError):
        R.rope_inv_freq(8, scaling=scaling)


# --- rope -------------------------------------------------------------------

def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_single_pair_closed_form(layout):
    # D = 2, x = (1, 0), position 3: (cos 3, sin 3) for inv_freq = 1.
    x = np.array([1.0, 0.0]).reshape(1, 1, 1, 2)
    y = R.rope(x, np.array([3]), layout=layout, f32_angles=False)
    np.testing.assert_allclose(y.ravel(), [math.cos(3), math.sin(3)], rtol=1e-15)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_positions_zero_is_identity(layout):
    x = _x((2, 3, 5, 8))
    np.testing.assert_array_equal(R.rope(x, np.zeros(5, np.int64), layout=layout), x)


@pytest.mark.parametrize("layout", ["half", "interleaved"])
@pytest.mark.parametrize("scaling", [None, LLAMA3, {"kind": "linear", "factor": 3.0}])
def test_preserves_norm(layout, scaling):
    x = _x((2, 3, 7, 16))
    pos = np.random.default_rng(1).integers(0, 10000, size=(2, 7))
    y = R.rope(x, pos, theta=500000.0, layout=layout, scaling=scaling)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1),
                               np.linalg.norm(x, axis=-1), rtol=1e-13)


def test_yarn_scales_rotated_dims_only():
    x = _x((1, 2, 6, 16))
    scaling = {"kind": "yarn", "factor": 4.0, "original_max_position": 64}
    y = R.rope(x, np.arange(6), rotary_dim=8, scaling=scaling)
    mscale = 0.1 * math.log(4.0) + 1.0
    np.testing.assert_allclose(np.linalg.norm(y[..., :8], axis=-1),
                               mscale * np.linalg.norm(x[..., :8], axis=-1),
                               rtol=1e-13)
    np.testing.assert_array_equal(y[..., 8:], x[..., 8:])


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_relative_position(layout):
    # <rope(q, m), rope(k, n)> depends only on n - m (exact in float64 angles).
    q, k = _x((1, 1, 1, 16), 2), _x((1, 1, 1, 16), 3)

    def dot(m, n):
        qm = R.rope(q, np.array([m]), layout=layout, f32_angles=False)
        kn = R.rope(k, np.array([n]), layout=layout, f32_angles=False)
        return float(np.sum(qm * kn))

    ref = dot(0, 5)
    for m in (1, 17, 300):
        assert dot(m, m + 5) == pytest.approx(ref, rel=1e-9, abs=1e-9)
    assert dot(0, 6) != pytest.approx(ref, rel=1e-3)


def test_interleaved_is_permuted_half():
    # Interleaved pairs (2i, 2i+1) are half pairs (i, i + r/2) after permuting dims.
    x = _x((2, 2, 5, 12))
    pos = np.arange(5) * 7
    r = 8
    perm = np.concatenate([np.arange(0, r, 2), np.arange(1, r, 2), np.arange(r, 12)])
    y_int = R.rope(x, pos, rotary_dim=r, layout="interleaved")
    y_half = R.rope(x[..., perm], pos, rotary_dim=r, layout="half")
    np.testing.assert_allclose(y_int[..., perm], y_half, rtol=1e-15, atol=1e-15)


def test_partial_rotary_passthrough():
    x = _x((1, 2, 4, 24))
    y = R.rope(x, np.arange(4) + 3, rotary_dim=16)
    np.testing.assert_array_equal(y[..., 16:], x[..., 16:])
    assert not np.allclose(y[..., :16], x[..., :16])


def test_batch_positions_match_per_batch_calls():
    x = _x((3, 2, 5, 8))
    pos = np.random.default_rng(4).integers(0, 100, size=(3, 5))
    y = R.rope(x, pos)
    for b in range(3):
        np.testing.assert_array_equal(y[b:b + 1], R.rope(x[b:b + 1], pos[b]))


@pytest.mark.parametrize("layout", ["half", "interleaved"])
def test_mrope_equal_axes_is_plain_rope(layout):
    x = _x((2, 2, 6, 16))
    pos = np.random.default_rng(5).integers(0, 50, size=(2, 6))
    plain = R.rope(x, pos, layout=layout)
    m = R.rope(x, np.stack([pos] * 3), layout=layout, mrope_section=[2, 3, 3])
    np.testing.assert_array_equal(m, plain)
    m2 = R.rope(x[:1], np.stack([pos[0]] * 3), layout=layout, mrope_section=[2, 3, 3])
    np.testing.assert_array_equal(m2, plain[:1])


def test_mrope_sections_select_axis():
    # Pairs 0-1 take axis 0 (t), pairs 2-4 axis 1 (h), pairs 5-7 axis 2 (w): each
    # pair must equal plain rope driven by its own axis.
    x = _x((1, 2, 6, 16))
    pos = np.random.default_rng(6).integers(0, 50, size=(3, 6))
    y = R.rope(x, pos, mrope_section=[2, 3, 3])
    for axis, pairs in enumerate([range(0, 2), range(2, 5), range(5, 8)]):
        plain = R.rope(x, pos[axis])
        for i in pairs:
            np.testing.assert_array_equal(y[..., [i, i + 8]], plain[..., [i, i + 8]])


def test_dynamic_ntk_uses_max_position():
    x = _x((1, 1, 4, 8))
    scaling = {"kind": "dynamic_ntk", "factor": 2.0, "original_max_position": 16}
    short = np.array([0, 1, 2, 15])
    np.testing.assert_array_equal(R.rope(x, short, scaling=scaling), R.rope(x, short))
    long = np.array([0, 1, 2, 40])
    y = R.rope(x, long, scaling=scaling, f32_angles=False)
    inv = R.rope_inv_freq(8, scaling=scaling, max_position=40)
    ang = long[:, None] * inv
    a, b = x[..., :4], x[..., 4:]
    np.testing.assert_allclose(y[..., :4], a * np.cos(ang) - b * np.sin(ang), rtol=1e-14)


def test_f32_angles_emulation():
    # The f32 angle is float32(float32(p) * float32(inv_freq)); it deviates from
    # the float64 angle by about |angle| 2^-24, as TOOLCHAIN.md states.
    x = _x((1, 1, 3, 8))
    pos = np.array([1, 2000, 100000])
    y32 = R.rope(x, pos, f32_angles=True)
    y64 = R.rope(x, pos, f32_angles=False)
    inv32 = (1.0 / 10000.0 ** (np.arange(0, 8, 2) / 8)).astype(np.float32)
    ang = (pos[:, None].astype(np.float32) * inv32).astype(np.float64)
    a, b = x[..., :4], x[..., 4:]
    np.testing.assert_array_equal(y32[..., :4], a * np.cos(ang) - b * np.sin(ang))
    assert np.abs(y32 - y64).max() < 100000 * 2.0 ** -23 * 4
    assert np.abs(y32[..., 0, :] - y64[..., 0, :]).max() < 1e-6


@pytest.mark.parametrize("kwargs", [
    {"rotary_dim": 5}, {"rotary_dim": 10}, {"layout": "neox"},
    {"mrope_section": [1, 1]}, {"positions": np.zeros((2, 4), np.int64)},
    {"positions": np.zeros(4)},
])
def test_rope_rejects_bad_arguments(kwargs):
    pos = kwargs.pop("positions", np.zeros(4, np.int64))
    with pytest.raises(ValueError):
        R.rope(np.zeros((1, 1, 4, 8)), pos, **kwargs)


def test_rope_promotes_dtypes():
    x = _x((1, 1, 3, 8)).astype(np.float16)
    y = R.rope(x, np.arange(3, dtype=np.int32))
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, R.rope(x.astype(np.float64), np.arange(3)))
