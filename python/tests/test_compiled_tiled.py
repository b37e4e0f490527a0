"""The tiled attention path (--attnflow-tile-attention, query tiles of 64 rows
and key blocks of 64, the default CPU pipeline) with head dims that take the
vector kernels (Dv a multiple of 32), against attnflow.reference.attention:
sequence lengths that are not multiples of any tile size, windows smaller
than a tile and windows that straddle tile boundaries, sinks beyond the
band, decode, Sq != Skv, GQA, f16 / bf16, and the score modifiers.

Tolerance: as test_compiled_attention.py.
"""

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R

from _helpers import assert_close, randn

pytestmark = pytest.mark.compiled


def check(b, hq, hkv, sq, skv, d, element_type="f32", **attrs):
    rng = np.random.default_rng(sq * 1000 + skv)
    q = randn(rng, (b, hq, sq, d), element_type)
    k = randn(rng, (b, hkv, skv, d), element_type)
    v = randn(rng, (b, hkv, skv, d), element_type)
    text = ir.attention_module(q.shape, k.shape, v.shape, element_type=element_type, **attrs)
    (got,) = attnflow.run(text, [q, k, v])
    assert_close(got, R.attention(q, k, v, **attrs), element_type,
                 what=f"tiled attention {element_type} Sq={sq} Skv={skv} {attrs}")


@pytest.mark.parametrize("sq, skv, attrs", [
    (100, 100, {"causal": True}),                                   # 64 + 36 rows
    (130, 130, {"causal": True}),                                   # 2 full tiles + 2
    (200, 200, {"causal": True, "window_left": 10}),                # window < tile
    (200, 200, {"causal": True, "window_left": 70}),                # straddles blocks
    (200, 200, {"causal": True, "window_left": 64}),                # exactly one block
    (200, 200, {"window_left": 5, "window_right": 5}),              # two-sided band
    (150, 150, {"causal": True, "window_left": 16, "num_sink_tokens": 4}),
    (150, 150, {"causal": True, "window_left": 16, "num_sink_tokens": 100}),
    (1, 300, {"causal": True}),                                     # decode
    (1, 300, {"causal": True, "window_left": 127, "num_sink_tokens": 4}),
    (70, 190, {"causal": True}),                                    # Sq != Skv, bottom-right
    (70, 190, {"causal": True, "q_offset": 0}),                     # top-left
    (90, 90, {"causal": True, "q_offset": -80}),                    # empty rows -> 0
    (96, 96, {"causal": True, "logit_softcap": 50.0, "scale": 4.0}),
    (96, 96, {"causal": True, "alibi_slopes": [0.5, 0.25, 0.125, 0.0625]}),
    (96, 96, {"causal": True, "logn_train_len": 16}),
    (77, 77, {}),
    # Sinks past the band of a non-causal window are still visited.
    (4, 8, {"q_offset": 0, "window_left": 0, "window_right": 0, "num_sink_tokens": 8}),
    (100, 100, {"window_left": 0, "window_right": 0, "num_sink_tokens": 70}),
    (90, 90, {"q_offset": -20, "num_sink_tokens": 3, "window_right": 0}),
    # Windows wider than any distance mean "unbounded", without overflow.
    (40, 40, {"window_right": 2**63 - 1}),
    (40, 40, {"causal": True, "window_left": 2**63 - 8, "q_offset": -2}),
])
def test_tiled_f32(sq, skv, attrs):
    check(1, 4, 2, sq, skv, 64, **attrs)


@pytest.mark.parametrize("hq, hkv", [(4, 4), (8, 2), (4, 1)])
def test_tiled_gqa(hq, hkv):
    check(2, hq, hkv, 80, 80, 32, causal=True, window_left=30)


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
def test_tiled_low_precision(element_type):
    check(1, 4, 2, 100, 100, 64, element_type, causal=True, window_left=40)


def test_tiled_head_dim_128():
    check(1, 8, 2, 140, 140, 128, causal=True)
