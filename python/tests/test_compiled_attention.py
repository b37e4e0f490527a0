"""attnflow.attention compiled by attnflow-run against
attnflow.reference.attention (DESIGN §3), the attention invariants checked on
compiled outputs, and rope feeding attention.

Tolerance: |got - ref| <= 1e-4 (1 + |ref|) for f32/f64; for f16/bf16 the
reference runs on the rounded inputs and the bound adds the output rounding,
u |ref| with u = 2^-11 (f16) or 2^-8 (bf16).
"""

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R

from _helpers import assert_close, randn

pytestmark = pytest.mark.compiled

SLOPES4 = [0.5, 0.25, 0.125, 0.0625]


def make_inputs(b=2, hq=4, hkv=2, sq=13, skv=13, d=24, dv=None, bias_shape=None,
                element_type="f32", seed=0):
    rng = np.random.default_rng(seed)
    inputs = [randn(rng, (b, hq, sq, d), element_type), randn(rng, (b, hkv, skv, d), element_type),
              randn(rng, (b, hkv, skv, dv or d), element_type)]
    if bias_shape is not None:
        inputs.append(randn(rng, bias_shape, element_type))
    return inputs


def run_attention(inputs, element_type="f32", **attrs):
    """Compiled attention of inputs = [q, k, v (, bias)]."""
    shapes = [x.shape for x in inputs] + [None] * (4 - len(inputs))
    text = ir.attention_module(*shapes, element_type=element_type, **attrs)
    (out,) = attnflow.run(text, inputs)
    return out


def check_attention(inputs, element_type="f32", **attrs):
    got = run_attention(inputs, element_type, **attrs)
    ref = R.attention(*inputs, **attrs)
    assert_close(got, ref, element_type, what=f"attention {element_type} {attrs}")
    return got


CASES = {
    "full": {},
    "causal": {"causal": True},
    "scale": {"causal": True, "scale": 0.3},
    "window_left_causal": {"causal": True, "window_left": 3},
    "window_left_right": {"window_left": 2, "window_right": 1},
    "window_right_only": {"window_right": 2},
    "window_left_only": {"window_left": 4},
    "window_causal_right_ignored": {"causal": True, "window_left": 4, "window_right": 2},
    "window_zero": {"window_left": 0, "window_right": 0},
    "mistral_like": {"causal": True, "window_left": 7},  # HF sliding_window = 8
    "sinks_causal": {"causal": True, "window_left": 2, "num_sink_tokens": 3},
    "sinks_bidirectional": {"window_left": 1, "window_right": 1, "num_sink_tokens": 2},
    "softcap": {"causal": True, "logit_softcap": 0.5, "scale": 2.0},
    "softcap_gemma": {"logit_softcap": 50.0, "scale": 4.0},
    "alibi_causal": {"causal": True, "alibi_slopes": SLOPES4},
    "alibi_full": {"alibi_slopes": SLOPES4},
    "logn": {"causal": True, "logn_train_len": 4},
    "q_offset_top_left": {"causal": True, "q_offset": 0},
    "everything": {"causal": True, "window_left": 5, "num_sink_tokens": 2, "logit_softcap": 3.0,
                   "alibi_slopes": SLOPES4, "logn_train_len": 6, "scale": 0.5},
}


@pytest.mark.parametrize("name", list(CASES))
def test_masks_and_score_modifiers(name):
    check_attention(make_inputs(), **CASES[name])


@pytest.mark.parametrize("hq, hkv", [(4, 4), (4, 1), (8, 2)], ids=["mha", "mqa", "gqa4"])
@pytest.mark.parametrize("causal", [False, True])
def test_gqa_ratios(hq, hkv, causal):
    check_attention(make_inputs(hq=hq, hkv=hkv), causal=causal)


@pytest.mark.parametrize("attrs", [
    {}, {"causal": True}, {"causal": True, "q_offset": 5}, {"causal": True, "window_left": 3},
    {"causal": True, "alibi_slopes": SLOPES4, "logn_train_len": 4, "q_offset": 100},
], ids=["default", "causal", "q_offset", "window", "alibi_logn_offset"])
def test_decode_single_query(attrs):
    check_attention(make_inputs(sq=1, skv=13), **attrs)


@pytest.mark.parametrize("sq, skv, attrs", [
    (5, 13, {"causal": True}),
    (5, 13, {"causal": True, "q_offset": 0}),
    (5, 13, {"window_left": 2, "window_right": 3, "q_offset": 4}),
    (13, 5, {}),
], ids=["bottom_right", "top_left", "window_offset", "sq_gt_skv"])
def test_sq_ne_skv(sq, skv, attrs):
    check_attention(make_inputs(sq=sq, skv=skv), **attrs)


@pytest.mark.parametrize("sq, skv, attrs", [
    (5, 13, {"causal": True, "window_left": 0, "q_offset": 10}),  # p = 13, 14 >= Skv
    (13, 5, {"causal": True}),  # default q_offset = -8: rows 0-7 have p < 0
    (13, 13, {"window_left": 0, "window_right": 0, "q_offset": 9}),
], ids=["past_end", "negative_offset", "window_past_end"])
def test_rows_without_visible_keys_are_zero(sq, skv, attrs):
    got = check_attention(make_inputs(sq=sq, skv=skv), **attrs)
    assert np.any(np.all(got == 0, axis=-1)), "expected rows of zeros"


@pytest.mark.parametrize("bias_shape", [(1, 1, 13, 11), (2, 1, 13, 11), (1, 4, 13, 11),
                                        (2, 4, 13, 11)], ids=["11", "B1", "1H", "BH"])
def test_bias_broadcast(bias_shape):
    check_attention(make_inputs(skv=11, bias_shape=bias_shape), causal=True)


def test_bias_minus_inf():
    inputs = make_inputs(bias_shape=(2, 4, 13, 13))
    bias = inputs[3]
    bias[0, 1, 3, :] = -np.inf  # a whole row: output 0
    bias[1, :, 5, :6] = -np.inf  # part of a row
    bias[:, 2, :, 0] = -np.inf  # a key masked for one head
    got = check_attention(inputs, causal=True, window_left=6)
    np.testing.assert_array_equal(got[0, 1, 3], 0.0)


def test_value_dim_differs():
    check_attention(make_inputs(d=24, dv=16), causal=True)


@pytest.mark.parametrize("s, d, attrs", [
    (70, 16, {"causal": True, "window_left": 15}),
    (70, 16, {"causal": True, "window_left": 15, "num_sink_tokens": 4}),
    (130, 64, {"causal": True}),
    (97, 40, {"window_left": 20, "window_right": 9, "alibi_slopes": [0.1, 0.05]}),
], ids=["window70", "sinks70", "causal130", "bidir97"])
def test_several_tiles(s, d, attrs):
    check_attention(make_inputs(b=1, hq=2, hkv=1, sq=s, skv=s, d=d), **attrs)


@pytest.mark.parametrize("element_type", ["f16", "bf16", "f64"])
@pytest.mark.parametrize("bias", [False, True])
def test_element_types(element_type, bias):
    inputs = make_inputs(element_type=element_type,
                         bias_shape=(1, 4, 13, 13) if bias else None)
    check_attention(inputs, element_type, causal=True, window_left=5, logit_softcap=20.0)


# --- invariants on compiled outputs ------------------------------------------

@pytest.mark.parametrize("causal, window", [(True, 13), (True, 12), (False, 12)])
def test_window_covering_sequence_equals_unwindowed(causal, window):
    inputs = make_inputs()
    windowed = run_attention(inputs, causal=causal, window_left=window,
                             window_right=None if causal else window)
    assert_close(windowed, run_attention(inputs, causal=causal), what="window >= S")


def test_keys_outside_window_do_not_matter():
    attrs = {"causal": True, "window_left": 2, "num_sink_tokens": 1}
    q, k, v = make_inputs()
    out = run_attention([q, k, v], **attrs)
    k2, v2 = k.copy(), v.copy()
    k2[:, :, 4:6] += 10.0  # keys 4, 5 are seen only by rows 4..7
    v2[:, :, 4:6] -= 7.0
    out2 = run_attention([q, k2, v2], **attrs)
    rows = np.r_[0:4, 8:13]
    np.testing.assert_allclose(out2[:, :, rows], out[:, :, rows], rtol=1e-6, atol=1e-6)
    assert not np.allclose(out2[:, :, 4:8], out[:, :, 4:8])


@pytest.mark.parametrize("hkv", [1, 2])
def test_gqa_equals_mha_with_repeated_kv(hkv):
    q, k, v = make_inputs(hq=4, hkv=hkv)
    rep = 4 // hkv
    gqa = run_attention([q, k, v], causal=True, window_left=4)
    mha = run_attention([q, np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)],
                        causal=True, window_left=4)
    assert_close(gqa, mha, what="GQA vs MHA")


# --- rope feeding attention ---------------------------------------------------

@pytest.mark.parametrize("sq, rope, attention", [
    (13, {"theta": 500000.0, "scaling": {"kind": "llama3", "factor": 8.0,
                                         "original_max_position": 64}},
     {"causal": True}),
    (1, {"layout": "interleaved", "rotary_dim": 16}, {"causal": True, "window_left": 7}),
    (13, {"scaling": {"kind": "yarn", "factor": 4.0, "original_max_position": 32}},
     {"causal": True, "logit_softcap": 30.0}),
], ids=["llama3_prefill", "decode_window", "yarn_softcap"])
def test_rope_then_attention(sq, rope, attention):
    skv = 13
    q, k, v = make_inputs(sq=sq, skv=skv)
    k_pos = np.arange(skv, dtype=np.int64) + 40
    q_pos = k_pos[skv - sq:]
    text = ir.rope_attention_module(q.shape, k.shape, v.shape, q_pos.shape, k_pos.shape,
                                    rope=rope, attention=attention)
    (got,) = attnflow.run(text, [q, k, v, q_pos, k_pos])
    ref = R.attention(R.rope(q, q_pos, **rope), R.rope(k, k_pos, **rope), v, **attention)
    assert_close(got, ref, what=f"rope {rope} -> attention {attention}")


@pytest.mark.parametrize("sq, skv, attrs", [
    (13, 13, {"causal": True, "scale": 10.0}),  # scores of several hundred
    (13, 13, {"q_offset": -3, "window_left": 1, "window_right": 2}),
    (13, 13, {"causal": True, "num_sink_tokens": 20, "window_left": 1}),
    (1, 1000, {"causal": True, "window_left": 255, "num_sink_tokens": 4}),
    (256, 256, {"causal": True, "window_left": 63, "logit_softcap": 50.0}),
], ids=["large_scores", "negative_offset_window", "sinks_beyond_skv", "decode_long_window",
        "prefill_window256"])
def test_edges_and_longer_sequences(sq, skv, attrs):
    d = 128 if skv > 13 else 24
    check_attention(make_inputs(b=1, hq=4, hkv=1, sq=sq, skv=skv, d=d), **attrs)


def test_threads_do_not_change_results():
    inputs = make_inputs(b=2, hq=4, hkv=2, sq=64, skv=64, d=32)
    text = ir.attention_module(*[x.shape for x in inputs], causal=True, window_left=20)
    (one,) = attnflow.run(text, inputs, threads=1)
    (two,) = attnflow.run(text, inputs, threads=2)
    assert_close(one, R.attention(*inputs, causal=True, window_left=20), what="threads=1")
    assert_close(two, one, what="threads=2 vs 1")
