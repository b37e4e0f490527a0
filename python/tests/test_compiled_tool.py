"""attnflow-run through attnflow.run: several results, other entries, and
clean diagnostics (never a crash) for invalid IR and mismatched inputs
(DESIGN §3 verifiers, §5 CLI contract)."""

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R

from _helpers import assert_close, randn

pytestmark = pytest.mark.compiled


def test_several_results_and_entry():
    f = ir.Function("rope_qk")
    q = f.argument("q", (1, 4, 6, 16), "f32")
    k = f.argument("k", (1, 2, 6, 16), "f32")
    pos = f.argument("pos", (6,), "i64")
    f.ret(f.rope(q, pos, layout="interleaved"), f.rope(k, pos, layout="interleaved"))
    rng = np.random.default_rng(0)
    qv, kv = randn(rng, (1, 4, 6, 16)), randn(rng, (1, 2, 6, 16))
    p = np.arange(6) * 3
    text = "func.func @main() {\n  return\n}\n" + f.text()
    q_rot, k_rot = attnflow.run(text, [qv, kv, p], entry="rope_qk")
    assert_close(q_rot, R.rope(qv, p, layout="interleaved"), what="q")
    assert_close(k_rot, R.rope(kv, p, layout="interleaved"), what="k")


def expect_diagnostic(text, inputs, *words):
    with pytest.raises(RuntimeError) as info:
        attnflow.run(text, inputs)
    message = str(info.value)
    assert "exit code -" not in message, f"the tool crashed:\n{message}"
    for word in words:
        assert word in message, f"diagnostic lacks {word!r}:\n{message}"


X = np.zeros((1, 2, 4, 8), np.float32)
POS = np.arange(4)
Q = np.zeros((1, 4, 4, 8), np.float32)
KV = np.zeros((1, 2, 4, 8), np.float32)


@pytest.mark.parametrize("attrs, word", [
    ({"rotary_dim": 5}, "rotary_dim"),
    ({"rotary_dim": 10}, "rotary_dim"),
    ({"mrope_section": [1, 1]}, "mrope_section"),
    ({"scaling": {"kind": "yarn", "factor": 4.0}}, "original_max_position"),
])
def test_invalid_rope_is_diagnosed(attrs, word):
    pos = np.zeros((2, 4), np.int64) if "mrope_section" in attrs else POS
    expect_diagnostic(ir.rope_module(X.shape, pos.shape, **attrs), [X, pos], word)


@pytest.mark.parametrize("shapes, attrs, word", [
    ((Q.shape, KV.shape, KV.shape), {"window_left": -2}, "window_left"),
    ((Q.shape, KV.shape, KV.shape), {"alibi_slopes": [1.0]}, "alibi_slopes"),
    (((1, 3, 4, 8), KV.shape, KV.shape), {}, "Hkv"),
    ((Q.shape, KV.shape, KV.shape, (1, 3, 4, 4)), {}, "bias"),
], ids=["window", "alibi", "gqa", "bias"])
def test_invalid_attention_is_diagnosed(shapes, attrs, word):
    inputs = [np.zeros(s, np.float32) for s in shapes]
    expect_diagnostic(ir.attention_module(*shapes, **attrs), inputs, word)


def test_input_shape_mismatch_is_diagnosed():
    expect_diagnostic(ir.rope_module(X.shape, POS.shape), [X[:, :, :3], POS[:3]], "shape")
