"""Unit tests of the float64 references of attnflow.linear_attention,
attnflow.vector_quantize and attnflow.vq_attention (DESIGN §3), and of the
seeded operand helpers in attnflow.random_features.

Pure numpy: nothing here needs the compiler (no ``compiled`` marker).  The
linear-time references are checked against direct quadratic forms written from
the DESIGN formulas, closed forms, and (for FAVOR+) the softmax attention they
approximate.
"""

import math
import tracemalloc

import numpy as np
import pytest

from attnflow import reference as R
from attnflow.random_features import favor_plus_projection, kmeans_codebook

FEATURE_MAPS = R.LINEAR_ATTENTION_FEATURE_MAPS


def _qkv(b=1, hq=2, hkv=2, sq=6, skv=6, d=8, dv=None, seed=0, std=1.0):
    rng = np.random.default_rng(seed)
    return (std * rng.standard_normal((b, hq, sq, d)),
            std * rng.standard_normal((b, hkv, skv, d)),
            rng.standard_normal((b, hkv, skv, dv or d)))


def _projection(feature_map, d, m=12, seed=7):
    """The projection operand: W [m,d] for favor_plus, None otherwise."""
    return favor_plus_projection(m, d, seed) if feature_map == "favor_plus" else None


def _close(got, ref, rtol=1e-11, atol=1e-13):
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# linear_attention
# ---------------------------------------------------------------------------

def prefix_sum_form(q, k, v, projection, feature_map, scale=None, eps=1e-6):
    """Causal linear attention as literal prefix sums, straight from DESIGN §3:
    S_i = sum_{j<=i} phi(k_j) v_j^T, z_i = sum_{j<=i} phi(k_j) (np.cumsum),
    o_i = phi(q_i) S_i / (phi(q_i).z_i + eps).  Unstabilized: moderate inputs."""
    hq, hkv, d = q.shape[1], k.shape[1], q.shape[3]
    k = np.repeat(k, hq // hkv, axis=1)
    v = np.repeat(v, hq // hkv, axis=1)
    if feature_map == "favor_plus":
        scale = 1 / math.sqrt(d) if scale is None else scale
        m = projection.shape[0]

        def phi(x):
            xs = x * math.sqrt(scale)
            return np.exp(xs @ projection.T
                          - 0.5 * np.sum(xs * xs, -1, keepdims=True)) / math.sqrt(m)
    elif feature_map == "relu":
        def phi(x):
            return np.maximum(x, 0)
    else:
        def phi(x):
            return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0)))
    fq, fk = phi(q), phi(k)
    s = np.cumsum(fk[..., :, None] * v[..., None, :], axis=2)   # [B,H,S,M,Dv]
    z = np.cumsum(fk, axis=2)                                  # [B,H,S,M]
    num = np.einsum("bhsm,bhsmv->bhsv", fq, s)
    den = np.einsum("bhsm,bhsm->bhs", fq, z) + eps
    return num / den[..., None]


SHAPES = [dict(sq=7, skv=7), dict(hq=4, hkv=2, sq=9, skv=9, dv=5),
          dict(b=2, hq=4, hkv=1, sq=5, skv=5, d=3),
          dict(hq=4, hkv=2, sq=4, skv=9, dv=3), dict(sq=8, skv=3)]
SHAPE_IDS = ["mha", "gqa-dv", "mqa-b2", "sq<skv", "sq>skv"]


# Causal linear attention needs Sq == Skv: those shapes only run non-causal.
SHAPE_CAUSAL = [pytest.param(shape, causal, id=f"{sid}-{'causal' if causal else 'full'}")
                for shape, sid in zip(SHAPES, SHAPE_IDS)
                for causal in (False, True) if not causal or shape["sq"] == shape["skv"]]


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
@pytest.mark.parametrize("shape,causal", SHAPE_CAUSAL)
def test_linear_attention_matches_quadratic(shape, causal, feature_map):
    q, k, v = _qkv(**shape, seed=1)
    w = _projection(feature_map, q.shape[3])
    got = R.linear_attention(q, k, v, w, feature_map=feature_map, causal=causal)
    ref = R.linear_attention_quadratic(q, k, v, w, feature_map=feature_map,
                                       causal=causal)
    _close(got, ref)
    assert got.shape == q.shape[:3] + (v.shape[3],)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
def test_log_domain_quadratic_matches_direct(feature_map, causal):
    q, k, v = _qkv(hq=4, hkv=2, sq=6, skv=6, seed=2)
    q[0, 0, 0] = -1.0  # relu: a row with phi(q) = 0 (normalizer 0, output 0)
    w = _projection(feature_map, 8)
    kw = dict(feature_map=feature_map, causal=causal)
    _close(R.linear_attention_quadratic(q, k, v, w, log_domain=True, **kw),
           R.linear_attention_quadratic(q, k, v, w, **kw))


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
def test_chunked_causal_equals_prefix_sums(feature_map):
    # S = 10: chunk sizes 3, 4, 7 do not divide it; 1 is the recurrent form.
    q, k, v = _qkv(hq=4, hkv=2, sq=10, skv=10, dv=3, seed=3)
    w = _projection(feature_map, 8)
    ref = prefix_sum_form(q, k, v, w, feature_map)
    for chunk in (None, 1, 2, 3, 4, 7, 10, 64):
        got = R.linear_attention(q, k, v, w, feature_map=feature_map, causal=True,
                                 chunk_size=chunk)
        _close(got, ref)


def test_chunk_splitting_recursion(monkeypatch):
    # A tiny safe spread forces the causal chunks to split down to single
    # rows on ordinary inputs; the result must not change.
    q, k, v = _qkv(hq=2, hkv=1, sq=13, skv=13, seed=4)
    w = _projection("favor_plus", 8)
    ref = R.linear_attention_quadratic(q, k, v, w, feature_map="favor_plus",
                                       causal=True)
    monkeypatch.setattr(R, "_SAFE_SHIFT_SPREAD", 0.05)
    _close(R.linear_attention(q, k, v, w, feature_map="favor_plus", causal=True,
                              chunk_size=8), ref)


@pytest.mark.parametrize("eps", [0.0, 1e-6])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("mult", [30.0, 100.0, 1000.0])
def test_favor_large_inputs_match_log_domain(mult, causal, eps):
    # |q|, |k| x mult: exp(W x' - |x'|^2/2) over/underflows float64, so the
    # direct quadratic form is NaN (eps = 0) or flushes to 0; the fast form
    # must match the log-domain quadratic form.  Key log-features then grow by
    # thousands along the sequence, which exercises the causal chunk splitting.
    q, k, v = _qkv(hq=2, hkv=1, sq=24, skv=24, d=4, dv=3, seed=5)
    q, k = mult * q, mult * k
    w = favor_plus_projection(16, 4, seed=6)
    kw = dict(feature_map="favor_plus", causal=causal, eps=eps)
    got = R.linear_attention(q, k, v, w, **kw)
    ref = R.linear_attention_quadratic(q, k, v, w, log_domain=True, **kw)
    assert np.all(np.isfinite(ref))
    assert np.all(np.isfinite(got))
    # Exponents of size ~|x'|^2 ~ 1e6 carry absolute errors ~1e-10 in float64.
    _close(got, ref, rtol=1e-8, atol=1e-12)
    if eps == 0.0:
        with np.errstate(all="ignore"):
            direct = R.linear_attention_quadratic(q, k, v, w, **kw)
        assert not np.all(np.isfinite(direct))  # the case the stabilization is for


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_favor_overflowing_kernel_is_stabilized(causal):
    # Rows of a large W as queries/keys: log phi reaches thousands, phi = inf
    # in the direct form (inf/inf = NaN), the kernel ratios stay well defined.
    rng = np.random.default_rng(7)
    w = 40.0 * rng.standard_normal((16, 4))
    pick = rng.integers(0, 16, size=(2, 3, 12))
    amp = rng.uniform(0.5, 1.5, size=(2, 3, 12, 1)) * 2 ** 0.5  # sqrt(sqrt(D))
    q = (w[pick[0]] * amp[0]).reshape(1, 3, 12, 4)
    k = (w[pick[1][:1]] * amp[1][:1]).reshape(1, 1, 12, 4)
    v = rng.standard_normal((1, 1, 12, 2))
    kw = dict(feature_map="favor_plus", causal=causal)
    with np.errstate(all="ignore"):
        direct = R.linear_attention_quadratic(q, k, v, w, **kw)
    assert not np.all(np.isfinite(direct))
    got = R.linear_attention(q, k, v, w, **kw)
    _close(got, R.linear_attention_quadratic(q, k, v, w, log_domain=True, **kw),
           rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("feature_map", ["relu", "elu_plus_one"])
def test_relu_elu_large_inputs(feature_map, causal):
    q, k, v = _qkv(hq=2, hkv=2, sq=9, skv=9, seed=8)
    kw = dict(feature_map=feature_map, causal=causal)
    got = R.linear_attention(100 * q, 100 * k, v, **kw)
    ref = R.linear_attention_quadratic(100 * q, 100 * k, v, **kw)
    assert np.all(np.isfinite(ref))
    _close(got, ref)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_favor_scale_zero_gives_running_mean(causal):
    # scale = 0: x' = 0, phi = 1/sqrt(M) for every feature, phi.phi = 1, so
    # o_i = sum_j v_j / (n_i + eps) over the n_i counted keys.
    q, k, v = _qkv(sq=6, skv=6, seed=9)
    w = favor_plus_projection(5, 8, seed=0)
    got = R.linear_attention(q, k, v, w, feature_map="favor_plus", causal=causal,
                             scale=0.0)
    n = np.arange(1, 7.0)[:, None] if causal else 6.0
    total = np.cumsum(v, axis=2) if causal else v.sum(axis=2, keepdims=True)
    _close(got, np.broadcast_to(total / (n + 1e-6), got.shape), rtol=1e-14)


def test_eps_is_added_to_the_unstabilized_normalizer():
    # relu, D = 1, q = k = 1e-3: kernel 1e-6 = eps, so o = v / 2.
    q = np.full((1, 1, 1, 1), 1e-3)
    v = np.array([3.0, -5.0]).reshape(1, 1, 1, 2)
    _close(R.linear_attention(q, q, v, feature_map="relu"), v / 2, rtol=1e-14)
    # favor_plus, M = D = 1, W = [[w]], scale 1: log phi(x) = w x - x^2/2.
    # log phi(q) = 800 overflows exp, log phi(k) = ln(1e-6) - 800 underflows;
    # the kernel is exactly 1e-6 = eps again: o = v / 2 (causal or not).
    w, qv = 40.0, 40.0
    c = math.log(1e-6) - (w * qv - qv * qv / 2)          # log phi(k) wanted
    kv = w + math.sqrt(w * w - 2 * c)                    # root of w k - k^2/2 = c
    q = np.full((1, 1, 1, 1), qv)
    k = np.full((1, 1, 1, 1), kv)
    for causal in (False, True):
        got = R.linear_attention(q, k, v, np.array([[w]]), feature_map="favor_plus",
                                 scale=1.0, causal=causal)
        _close(got, v / 2, rtol=1e-9)


def test_relu_zero_normalizer_gives_zero():
    q, k, v = _qkv(seed=10)
    q[:, :, 2] = -np.abs(q[:, :, 2])  # phi(q_2) = 0
    for causal in (False, True):
        out = R.linear_attention(q, k, v, feature_map="relu", causal=causal)
        np.testing.assert_array_equal(out[:, :, 2], 0.0)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
@pytest.mark.parametrize("hkv", [1, 2, 4])
def test_linear_attention_gqa_equals_repeated_kv(feature_map, hkv):
    q, k, v = _qkv(b=2, hq=4, hkv=hkv, sq=7, skv=7, seed=11)
    w = _projection(feature_map, 8)
    rep = 4 // hkv
    for causal in (False, True):
        kw = dict(feature_map=feature_map, causal=causal)
        mha = R.linear_attention(q, np.repeat(k, rep, 1), np.repeat(v, rep, 1), w, **kw)
        _close(R.linear_attention(q, k, v, w, **kw), mha, rtol=1e-14, atol=0)


@pytest.mark.parametrize("feature_map", FEATURE_MAPS)
def test_linear_attention_float16_inputs_computed_in_float64(feature_map):
    q, k, v = _qkv(hq=4, hkv=2, sq=9, skv=9, seed=12)
    q, k, v = q.astype(np.float16), k.astype(np.float16), v.astype(np.float16)
    w = _projection(feature_map, 8)
    for causal in (False, True):
        got = R.linear_attention(q, k, v, w, feature_map=feature_map, causal=causal)
        assert got.dtype == np.float64
        ref = R.linear_attention(q.astype(np.float64), k.astype(np.float64),
                                 v.astype(np.float64), w, feature_map=feature_map,
                                 causal=causal)
        np.testing.assert_array_equal(got, ref)


def test_favor_plus_approximates_softmax_attention():
    # FAVOR+ estimates each softmax-kernel value exp(scale q.k) without bias
    # (Performer, Lemma 1), so the attention output's error is dominated by
    # the estimator's standard deviation, O(1/sqrt(M)): each 4x increase of M
    # should roughly halve the mean relative error.  Asserted: every ratio
    # err(M) / err(4M) in [1.4, 2.9] (around 2).
    # Inputs q, k ~ N(0, 0.35^2) at D = 16: the random weights
    # exp(w.x' - |x'|^2/2) are log-normal with log-variance ~ |q'+k'|^2, and
    # with a heavier tail (std 0.5: ratios measured 1.3 .. 2.2, mean 1.75) the
    # error has not yet reached its 1/sqrt(M) regime at M = 16..1024.  With
    # these sizes, 30 other seed sets gave ratios 1.58 .. 2.31 (mean 1.95) and
    # errors at M = 1024 of at most 0.042.
    b, h, s, d, dv, std = 1, 2, 32, 16, 8, 0.35
    ms = (16, 64, 256, 1024)
    for orthogonal in (False, True):
        errors = []
        for m in ms:
            rel = []
            for seed in range(16):
                q, k, v = _qkv(b, h, h, s, s, d, dv, seed=100 + seed, std=std)
                w = favor_plus_projection(m, d, seed=1000 * seed + m,
                                          orthogonal=orthogonal)
                got = R.linear_attention(q, k, v, w, feature_map="favor_plus")
                ref = R.attention(q, k, v)
                rel.append(np.linalg.norm(got - ref) / np.linalg.norm(ref))
            errors.append(np.mean(rel))
        ratios = [errors[i] / errors[i + 1] for i in range(len(ms) - 1)]
        assert errors[-1] < 0.06, (orthogonal, errors)
        assert all(1.4 <= r <= 2.9 for r in ratios), (orthogonal, errors, ratios)


def test_causal_favor_long_sequence_is_memory_bounded():
    # S = 8192: an S x S float64 kernel would be 512 MiB; the chunked form
    # keeps a few chunk-sized temporaries plus the [S, M] features.
    s, d, m = 8192, 8, 16
    q, k, v = _qkv(hq=1, hkv=1, sq=s, skv=s, d=d, dv=4, seed=13)
    w = favor_plus_projection(m, d, seed=14)
    tracemalloc.start()
    out = R.linear_attention(q, k, v, w, feature_map="favor_plus", causal=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"
    i = 5000
    xs = np.concatenate([q[0, 0, i:i + 1], k[0, 0, :i + 1]]) / d ** 0.25  # x sqrt(scale)
    phi = np.exp(xs @ w.T - 0.5 * np.sum(xs * xs, -1, keepdims=True)) / math.sqrt(m)
    kern = phi[1:] @ phi[0]
    _close(out[0, 0, i], kern @ v[0, 0, :i + 1] / (kern.sum() + 1e-6))


@pytest.mark.parametrize("kwargs", [
    {"feature_map": "softmax"},
    {"feature_map": "favor_plus", "projection": None},
    {"feature_map": "favor_plus", "projection": np.zeros((4, 5))},
    {"feature_map": "favor_plus", "projection": np.zeros((0, 8))},
    {"feature_map": "favor_plus", "scale": -1.0},
    {"feature_map": "relu", "projection": np.zeros((4, 8))},
    {"feature_map": "relu", "chunk_size": 0, "causal": True},
])
def test_linear_attention_rejects_bad_arguments(kwargs):
    q, k, v = _qkv()
    kwargs = dict(kwargs)
    projection = kwargs.pop("projection", np.ones((4, 8)))
    with pytest.raises(ValueError):
        R.linear_attention(q, k, v, projection, **kwargs)


@pytest.mark.parametrize("sq,skv", [(0, 0), (0, 4), (3, 0)])
def test_empty_sequences(sq, skv):
    q, k, v = _qkv(hq=4, hkv=2, sq=sq, skv=skv, dv=3)
    w = favor_plus_projection(6, 8, seed=0)
    for causal in ((False, True) if sq == skv else (False,)):
        out = R.linear_attention(q, k, v, w, feature_map="favor_plus", causal=causal)
        assert out.shape == (1, 4, sq, 3)
        np.testing.assert_array_equal(out, 0.0)  # no key: 0 / (0 + eps)
    for causal in (False, True):
        out = R.vq_attention(q, k, v, np.ones((2, 8)), causal=causal)
        np.testing.assert_array_equal(out, R.attention(q, k, v, causal=causal))


def test_linear_attention_rejects_bad_shapes():
    q, k, v = _qkv(sq=4, skv=6)
    with pytest.raises(ValueError, match="Sq == Skv"):
        R.linear_attention(q, k, v, feature_map="relu", causal=True)
    q, k, v = _qkv(hq=3, hkv=2)
    with pytest.raises(ValueError):
        R.linear_attention(q, k, v, feature_map="relu")
    q, k, v = _qkv()
    with pytest.raises(ValueError):
        R.linear_attention(q, k, v[:, :, :5], feature_map="relu")


# ---------------------------------------------------------------------------
# vector_quantize
# ---------------------------------------------------------------------------

def brute_force_quantize(x, codebook):
    """One row at a time: min over c of sum_d (x_d - c_d)^2, first minimum."""
    flat = x.reshape(-1, x.shape[-1])
    idx = []
    for row in flat:
        best, best_c = math.inf, -1
        for c, code in enumerate(codebook):
            dist = float(np.sum((row - code) ** 2))
            if dist < best:
                best, best_c = dist, c
        idx.append(best_c)
    return np.array(idx, dtype=np.int64).reshape(x.shape[:-1])


@pytest.mark.parametrize("shape", [(8,), (5, 8), (2, 3, 4, 8)])
def test_vector_quantize_matches_brute_force(shape):
    rng = np.random.default_rng(20)
    x = rng.standard_normal(shape)
    codebook = rng.standard_normal((11, 8))
    idx, xq = R.vector_quantize(x, codebook)
    assert idx.dtype == np.int64 and idx.shape == shape[:-1]
    np.testing.assert_array_equal(idx, brute_force_quantize(x, codebook))
    np.testing.assert_array_equal(xq, codebook[idx])


def test_vector_quantize_ties_go_to_lowest_index():
    rng = np.random.default_rng(21)
    base = rng.standard_normal((4, 6))
    # Rows 4..7 duplicate rows 0..3 in reverse order: never chosen.
    codebook = np.concatenate([base, base[::-1]])
    x = base[[3, 0, 2, 1]] + 1e-3 * rng.standard_normal((4, 6))
    idx, _ = R.vector_quantize(x, codebook)
    np.testing.assert_array_equal(idx, [3, 0, 2, 1])
    # Exactly equidistant codes: x = 0 between +-e_d; x on the midpoint of
    # two codes with non-representable coordinates.
    codes = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0], [0.0, -1.0]])
    idx, _ = R.vector_quantize(np.zeros((3, 2)), codes)
    np.testing.assert_array_equal(idx, [0, 0, 0])
    a, b = np.array([0.1, 0.7]), np.array([0.3, 0.2])
    mid_codes = np.stack([a + b, a - b])   # x = a is exactly in the middle
    # Index 0 in both orders: the two distances are bitwise equal.
    idx, _ = R.vector_quantize(a, mid_codes[::-1])
    assert idx == 0
    idx, _ = R.vector_quantize(a, mid_codes)
    assert idx == 0


def test_vector_quantize_per_head_codebook():
    rng = np.random.default_rng(22)
    x = rng.standard_normal((2, 3, 5, 4))
    codebooks = rng.standard_normal((3, 6, 4))
    idx, xq = R.vector_quantize(x, codebooks)
    for h in range(3):
        idx_h, xq_h = R.vector_quantize(x[:, h], codebooks[h])
        np.testing.assert_array_equal(idx[:, h], idx_h)
        np.testing.assert_array_equal(xq[:, h], xq_h)
    # A per-head codebook with identical heads equals the shared one.
    same = np.broadcast_to(codebooks[1], (3, 6, 4))
    np.testing.assert_array_equal(R.vector_quantize(x, same)[0],
                                  R.vector_quantize(x, codebooks[1])[0])


def test_vector_quantize_float16_and_chunking(monkeypatch):
    rng = np.random.default_rng(23)
    x = rng.standard_normal((3, 50, 8)).astype(np.float16)
    codebook = rng.standard_normal((9, 8)).astype(np.float16)
    idx, xq = R.vector_quantize(x, codebook)
    assert xq.dtype == np.float64
    ref = brute_force_quantize(x.astype(np.float64), codebook.astype(np.float64))
    np.testing.assert_array_equal(idx, ref)
    monkeypatch.setattr(R, "_CHUNK_SCORE_ELEMENTS", 100)  # 1-row chunks
    np.testing.assert_array_equal(R.vector_quantize(x, codebook)[0], ref)


@pytest.mark.parametrize("x_shape,cb_shape", [
    ((5, 8), (4, 7)), ((5, 8), (0, 8)), ((2, 3, 5, 8), (2, 4, 8)),
    ((3, 5, 8), (3, 4, 8)), ((5, 8), (1, 1, 4, 8)),
])
def test_vector_quantize_rejects_bad_codebooks(x_shape, cb_shape):
    with pytest.raises(ValueError):
        R.vector_quantize(np.zeros(x_shape), np.zeros(cb_shape))


# ---------------------------------------------------------------------------
# vq_attention
# ---------------------------------------------------------------------------

def _vq_operands(b=1, hq=2, hkv=2, sq=10, skv=10, d=6, dv=4, c=5, per_head=False,
                 seed=30):
    q, k, v = _qkv(b, hq, hkv, sq, skv, d, dv, seed=seed)
    rng = np.random.default_rng(seed + 1)
    codebook = rng.standard_normal((hkv, c, d) if per_head else (c, d))
    return q, k, v, codebook


VQ_SHAPES = [dict(sq=10, skv=10), dict(hq=4, hkv=2, sq=11, skv=11),
             dict(b=2, hq=4, hkv=1, sq=4, skv=13), dict(sq=1, skv=9),
             dict(sq=9, skv=5), dict(hq=4, hkv=4, sq=7, skv=7, c=1)]
VQ_IDS = ["mha", "gqa", "mqa-sq<skv", "decode", "sq>skv", "one-code"]


@pytest.mark.parametrize("block_len", [None, 1, 3, 4, 64])
@pytest.mark.parametrize("per_head", [False, True], ids=["shared", "per-head"])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", VQ_SHAPES, ids=VQ_IDS)
def test_vq_attention_equals_attention_on_quantized_keys(shape, causal, per_head,
                                                         block_len):
    q, k, v, codebook = _vq_operands(**shape, per_head=per_head)
    _, kq = R.vector_quantize(k, codebook)
    ref = R.attention(q, kq, v, causal=causal)
    got = R.vq_attention(q, k, v, codebook, causal=causal, block_len=block_len)
    _close(got, ref, rtol=1e-12, atol=1e-14)


def test_vq_attention_scale_and_duplicate_codes():
    q, k, v, codebook = _vq_operands(hq=4, hkv=2, sq=8, skv=12, c=4)
    codebook = np.concatenate([codebook, codebook[::-1]])  # ties -> first copy
    _, kq = R.vector_quantize(k, codebook)
    for causal in (False, True):
        _close(R.vq_attention(q, k, v, codebook, scale=0.3, causal=causal,
                              block_len=5),
               R.attention(q, kq, v, scale=0.3, causal=causal), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_vq_attention_stable_for_large_scores(causal):
    # Scores of order 1e4..1e5: exp overflows without max-subtraction.
    q, k, v, codebook = _vq_operands(hq=4, hkv=2, sq=9, skv=14, c=6, per_head=True)
    q, codebook = 300.0 * q, 30.0 * codebook
    got = R.vq_attention(q, 30.0 * k, v, codebook, causal=causal, block_len=4)
    _, kq = R.vector_quantize(30.0 * k, codebook)
    assert np.all(np.isfinite(got))
    _close(got, R.attention(q, kq, v, causal=causal), rtol=1e-9, atol=1e-12)


def test_vq_attention_rows_without_keys_are_zero():
    # Sq > Skv, causal: rows i < Sq - Skv have position p < 0.
    q, k, v, codebook = _vq_operands(sq=7, skv=3)
    out = R.vq_attention(q, k, v, codebook, causal=True, block_len=2)
    np.testing.assert_array_equal(out[:, :, :4], 0.0)
    assert np.all(out[:, :, 4:] != 0.0)


def test_vq_attention_float16_inputs_computed_in_float64():
    q, k, v, codebook = _vq_operands(hq=4, hkv=2, sq=9, skv=9, per_head=True)
    half = [x.astype(np.float16) for x in (q, k, v, codebook)]
    wide = [x.astype(np.float64) for x in half]
    for causal in (False, True):
        got = R.vq_attention(*half, causal=causal, block_len=4)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, R.vq_attention(*wide, causal=causal,
                                                          block_len=4))
        _, kq = R.vector_quantize(wide[1], wide[3])
        _close(got, R.attention(wide[0], kq, wide[2], causal=causal),
               rtol=1e-12, atol=1e-14)


def test_vq_attention_long_sequence_is_memory_bounded():
    # S = 20000: an S x S float64 score matrix would be 3.2 GB.
    s, c = 20000, 16
    q, k, v, codebook = _vq_operands(hq=1, hkv=1, sq=s, skv=s, d=4, dv=2, c=c,
                                     seed=31)
    tracemalloc.start()
    out = R.vq_attention(q, k, v, codebook, causal=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2 ** 20, f"peak {peak / 2 ** 20:.0f} MiB"
    i = 12345
    _, kq = R.vector_quantize(k[0, 0, :i + 1], codebook)
    sc = kq @ q[0, 0, i] / 2.0
    wts = np.exp(sc - sc.max())
    _close(out[0, 0, i], wts @ v[0, 0, :i + 1] / wts.sum(), rtol=1e-10)


def test_vq_attention_rejects_bad_arguments():
    q, k, v, codebook = _vq_operands(hq=4, hkv=2)
    with pytest.raises(ValueError):
        R.vq_attention(q, k, v, codebook[:, :5])               # D mismatch
    with pytest.raises(ValueError):
        R.vq_attention(q, k, v, np.zeros((4, 5, 6)))           # [H,C,D], H != Hkv
    with pytest.raises(ValueError):
        R.vq_attention(q, k, v, codebook, causal=True, block_len=0)
    with pytest.raises(ValueError):
        R.vq_attention(q[:, :3], k, v, codebook)               # Hq % Hkv


# ---------------------------------------------------------------------------
# random_features
# ---------------------------------------------------------------------------

def test_favor_plus_projection_structure():
    d, m = 8, 20
    w = favor_plus_projection(m, d, seed=1)
    assert w.shape == (m, d) and w.dtype == np.float64
    np.testing.assert_array_equal(w, favor_plus_projection(m, d, seed=1))
    assert not np.array_equal(w, favor_plus_projection(m, d, seed=2))
    # Blocks of d rows are mutually orthogonal (the last block is partial).
    for start in range(0, m, d):
        block = w[start:start + d]
        gram = block @ block.T
        np.testing.assert_allclose(gram - np.diag(np.diag(gram)), 0.0, atol=1e-12)
    iid = favor_plus_projection(m, d, seed=1, orthogonal=False)
    assert iid.shape == (m, d)
    assert abs(np.sum(iid[:d] @ iid[:d].T - np.diag(np.sum(iid[:d] ** 2, 1)))) > 1e-3


@pytest.mark.parametrize("orthogonal", [False, True])
def test_favor_plus_projection_rows_are_standard_normal(orthogonal):
    # Marginally every row is N(0, I_d): entries with mean 0 and variance 1,
    # squared row norms chi^2_d with mean d and variance 2d.
    d, m = 8, 4096
    w = favor_plus_projection(m, d, seed=3, orthogonal=orthogonal)
    assert abs(w.mean()) < 4 / math.sqrt(m * d)
    assert abs(w.var() - 1) < 4 * math.sqrt(2 / (m * d))
    norms2 = np.sum(w * w, axis=1)
    assert abs(norms2.mean() - d) < 4 * math.sqrt(2 * d / m)
    assert abs(norms2.var() - 2 * d) < 0.15 * 2 * d


def test_favor_plus_projection_rejects_bad_sizes():
    with pytest.raises(ValueError):
        favor_plus_projection(0, 4, seed=0)
    with pytest.raises(ValueError):
        favor_plus_projection(4, 0, seed=0)


def test_kmeans_codebook_recovers_separated_clusters():
    rng = np.random.default_rng(40)
    centers = 10.0 * rng.standard_normal((5, 3))
    labels = rng.integers(0, 5, size=400)
    x = centers[labels] + 0.1 * rng.standard_normal((400, 3))
    codebook = kmeans_codebook(x.reshape(4, 100, 3), 5, seed=0, iterations=20)
    assert codebook.shape == (5, 3) and codebook.dtype == np.float64
    np.testing.assert_array_equal(codebook, kmeans_codebook(x.reshape(4, 100, 3), 5,
                                                            seed=0, iterations=20))
    # Every true center has one code within the noise of its cluster mean.
    for c in range(5):
        mean = x[labels == c].mean(axis=0)
        assert np.min(np.linalg.norm(codebook - mean, axis=1)) < 1e-9
    # Quantizing with it puts each cluster on a single code.
    idx, _ = R.vector_quantize(x, codebook)
    for c in range(5):
        assert len(set(idx[labels == c])) == 1


def test_kmeans_codebook_edge_cases():
    x = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    cb = kmeans_codebook(x, 3, seed=0)  # more codes than distinct rows
    assert cb.shape == (3, 2) and np.all(np.isfinite(cb))
    seeded = kmeans_codebook(x, 1, seed=0, iterations=0)  # k-means++ seed only
    assert any(np.array_equal(seeded[0], row) for row in x)
    np.testing.assert_array_equal(kmeans_codebook(x, 1, seed=0), [[1 / 3, 1 / 3]])
    with pytest.raises(ValueError):
        kmeans_codebook(x, 4, seed=0)
    with pytest.raises(ValueError):
        kmeans_codebook(x, 0, seed=0)
