"""Unit tests of attnflow.reference.attention against closed forms, a
row-by-row brute force written from the DESIGN §3 rule, and invariants."""

import math
import tracemalloc

import numpy as np
import pytest

from attnflow import reference as R


def _qkv(b=1, hq=2, hkv=2, sq=6, skv=6, d=8, dv=None, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((b, hq, sq, d)), rng.standard_normal((b, hkv, skv, d)),
            rng.standard_normal((b, hkv, skv, dv or d)))


def brute_force(q, k, v, bias=None, scale=None, causal=False, window_left=-1,
                window_right=-1, q_offset=None, num_sink_tokens=0,
                logit_softcap=0.0, alibi_slopes=None, logn_train_len=0):
    """One query row and one key at a time, straight from DESIGN §3."""
    b_, hq, sq, d = q.shape
    hkv, skv = k.shape[1], k.shape[2]
    scale = 1 / math.sqrt(d) if scale is None else scale
    q_offset = skv - sq if q_offset is None else q_offset
    out = np.zeros((b_, hq, sq, v.shape[3]))
    for b in range(b_):
        for h in range(hq):
            kh = h // (hq // hkv)
            for i in range(sq):
                p = q_offset + i
                g = 1.0
                if logn_train_len > 0 and p + 1 > 1:
                    g = max(1.0, math.log(p + 1) / math.log(logn_train_len))
                scores, rows = [], []
                for j in range(skv):
                    lo_ok = window_left == -1 or j >= p - window_left
                    hi_ok = window_right == -1 or j <= p + window_right
                    if not ((j < num_sink_tokens or (lo_ok and hi_ok))
                            and (not causal or j <= p)):
                        continue
                    s = scale * g * float(q[b, h, i] @ k[b, kh, j])
                    if logit_softcap > 0:
                        s = logit_softcap * math.tanh(s / logit_softcap)
                    if alibi_slopes is not None:
                        s -= alibi_slopes[h] * abs(p - j)
                    if bias is not None:
                        s += bias[min(b, bias.shape[0] - 1), min(h, bias.shape[1] - 1), i, j]
                    scores.append(s)
                    rows.append(v[b, kh, j])
                if not scores or max(scores) == -math.inf:
                    continue
                w = np.exp(np.array(scores) - max(scores))
                out[b, h, i] = (w / w.sum()) @ np.array(rows)
    return out


CONFIGS = [
    {},
    {"causal": True},
    {"causal": True, "window_left": 2},
    {"window_left": 1, "window_right": 2},
    {"window_right": 0},
    {"causal": True, "window_left": 1, "num_sink_tokens": 2},
    {"window_left": 0, "window_right": 0, "num_sink_tokens": 1},
    {"logit_softcap": 0.5, "scale": 2.0},
    {"alibi_slopes": [0.5, 0.125]},
    {"causal": True, "logn_train_len": 3},
    {"causal": True, "q_offset": 0},
    {"causal": True, "q_offset": 4, "window_left": 0},  # late rows see no key
    {"causal": True, "q_offset": -3},                   # early rows see no key
    {"causal": True, "window_left": 3, "num_sink_tokens": 1, "logit_softcap": 3.0,
     "alibi_slopes": [0.25, 1.0], "logn_train_len": 2, "q_offset": 2},
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "full")
@pytest.mark.parametrize("shape", [dict(sq=6, skv=6), dict(sq=4, skv=9), dict(sq=1, skv=7)],
                         ids=["square", "sq<skv", "decode"])
def test_matches_brute_force(cfg, shape):
    q, k, v = _qkv(**shape, dv=5)
    cfg = dict(cfg)
    if cfg.get("alibi_slopes") is not None:
        cfg["alibi_slopes"] = np.array(cfg["alibi_slopes"])
    np.testing.assert_allclose(R.attention(q, k, v, **cfg), brute_force(q, k, v, **cfg),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cfg", CONFIGS[:7], ids=range(7))
def test_chunking_matches_brute_force(cfg, monkeypatch):
    # A tiny score budget forces many chunks of one or two rows.
    monkeypatch.setattr(R, "_CHUNK_SCORE_ELEMENTS", 40)
    q, k, v = _qkv(b=2, hq=4, hkv=2, sq=11, skv=13, seed=1)
    np.testing.assert_allclose(R.attention(q, k, v, **cfg), brute_force(q, k, v, **cfg),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bias_shape", [(1, 1, 5, 7), (2, 1, 5, 7), (1, 4, 5, 7), (2, 4, 5, 7)])
def test_bias_broadcast_matches_brute_force(bias_shape):
    q, k, v = _qkv(b=2, hq=4, hkv=2, sq=5, skv=7, seed=2)
    bias = np.random.default_rng(3).standard_normal(bias_shape)
    bias[..., 0, 1] = -np.inf
    got = R.attention(q, k, v, bias=bias, causal=True)
    np.testing.assert_allclose(got, brute_force(q, k, v, bias=bias, causal=True),
                               rtol=1e-12, atol=1e-12)
    full = np.broadcast_to(bias, (2, 4, 5, 7))
    np.testing.assert_array_equal(got, R.attention(q, k, v, bias=full, causal=True))


def test_one_visible_key_returns_its_value():
    # causal + window_left = 0 (bottom-right aligned): row i sees exactly key i.
    q, k, v = _qkv(sq=6, skv=6)
    np.testing.assert_allclose(R.attention(q, k, v, causal=True, window_left=0), v,
                               rtol=1e-15)


def test_uniform_scores_give_mean_of_values():
    _, k, v = _qkv(sq=5, skv=5)
    q = np.zeros((1, 2, 5, 8))
    np.testing.assert_allclose(R.attention(q, k, v), np.broadcast_to(
        v.mean(axis=2, keepdims=True), v.shape), rtol=1e-14)
    running_mean = np.cumsum(v, axis=2) / np.arange(1, 6)[:, None]
    np.testing.assert_allclose(R.attention(q, k, v, causal=True), running_mean, rtol=1e-14)


def test_alibi_closed_form():
    # q = 0: s_j = -slope |p - j|; softmax weights exp(-slope |p - j|).
    _, k, v = _qkv(hq=1, hkv=1, sq=1, skv=4)
    q = np.zeros((1, 1, 1, 8))
    w = np.exp(-0.7 * np.array([3.0, 2.0, 1.0, 0.0]))
    np.testing.assert_allclose(R.attention(q, k, v, alibi_slopes=[0.7])[0, 0, 0],
                               (w / w.sum()) @ v[0, 0], rtol=1e-14)


def test_softcap_and_logn_closed_form():
    # Two keys with unit dot products of +1 / -1; p = 7, L = 2: g = ln 8 / ln 2 = 3.
    q = np.array([1.0, 0.0]).reshape(1, 1, 1, 2)
    k = np.array([[1.0, 0.0], [-1.0, 0.0]]).reshape(1, 1, 2, 2)
    v = np.array([[1.0], [0.0]]).reshape(1, 1, 2, 1)
    s = 2.0 * math.tanh(3.0 / 2.0)  # scale 1, g 3, cap 2
    expected = math.exp(s) / (math.exp(s) + math.exp(-s))
    got = R.attention(q, k, v, scale=1.0, q_offset=7, logn_train_len=2, logit_softcap=2.0)
    assert got.item() == pytest.approx(expected, rel=1e-14)


def test_no_visible_key_and_minus_inf_bias_rows_are_zero():
    q, k, v = _qkv(sq=4, skv=4)
    out = R.attention(q, k, v, causal=True, window_left=0, q_offset=2)
    np.testing.assert_array_equal(out[:, :, 2:], 0.0)  # p = 4, 5 >= Skv
    bias = np.zeros((1, 1, 4, 4))
    bias[..., 1, :] = -np.inf
    out = R.attention(q, k, v, bias=bias)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[:, :, 1], 0.0)


def test_window_covering_sequence_equals_causal():
    q, k, v = _qkv(sq=7, skv=7)
    np.testing.assert_array_equal(R.attention(q, k, v, causal=True, window_left=7),
                                  R.attention(q, k, v, causal=True))
    np.testing.assert_array_equal(R.attention(q, k, v, window_left=6, window_right=6),
                                  R.attention(q, k, v))


def test_keys_outside_window_do_not_matter():
    q, k, v = _qkv(sq=10, skv=10)
    cfg = dict(causal=True, window_left=2, num_sink_tokens=1)
    ref = R.attention(q, k, v, **cfg)
    k2, v2 = k.copy(), v.copy()
    k2[:, :, 3:5] += 10.0  # keys 3, 4 are seen only by rows 3..6
    v2[:, :, 3:5] -= 7.0
    out = R.attention(q, k2, v2, **cfg)
    np.testing.assert_array_equal(out[:, :, :3], ref[:, :, :3])
    np.testing.assert_array_equal(out[:, :, 7:], ref[:, :, 7:])
    assert not np.allclose(out[:, :, 3:7], ref[:, :, 3:7])


@pytest.mark.parametrize("hkv", [1, 2, 4])
def test_gqa_equals_mha_with_repeated_kv(hkv):
    q, k, v = _qkv(b=2, hq=4, hkv=hkv, sq=5, skv=6, seed=3)
    rep = 4 // hkv
    mha = R.attention(q, np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1), causal=True)
    np.testing.assert_allclose(R.attention(q, k, v, causal=True), mha, rtol=1e-14)


def test_long_sequence_is_memory_bounded():
    # Sq = Skv = 20000 with a window: the Sq x Skv float64 score matrix would be
    # 3.2 GB; the chunked band-limited reference must stay far below that.
    s, w = 20000, 16
    q, k, v = _qkv(hq=1, hkv=1, sq=s, skv=s, d=4, seed=4)
    tracemalloc.start()
    out = R.attention(q, k, v, causal=True, window_left=w - 1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"
    i = 12345
    rows = slice(i - w + 1, i + 1)
    sc = (k[0, 0, rows] @ q[0, 0, i]) / 2.0
    wts = np.exp(sc - sc.max())
    np.testing.assert_allclose(out[0, 0, i], wts @ v[0, 0, rows] / wts.sum(), rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"window_left": -2}, {"window_right": -5}, {"num_sink_tokens": -1},
    {"alibi_slopes": [1.0]}, {"logn_train_len": 1}, {"bias": np.zeros((1, 3, 6, 6))},
    {"bias": np.zeros((1, 1, 6, 5))},
])
def test_attention_rejects_bad_arguments(kwargs):
    q, k, v = _qkv()
    with pytest.raises(ValueError):
        R.attention(q, k, v, **kwargs)


def test_attention_rejects_bad_shapes():
    q, k, v = _qkv(hq=3, hkv=2)
    with pytest.raises(ValueError):
        R.attention(q, k, v)
    q, k, v = _qkv()
    with pytest.raises(ValueError):
        R.attention(q, k[..., :4], v)
