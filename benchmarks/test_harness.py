"""Tests of the benchmark harness's own arithmetic and of its numpy baseline.

They need only Debian's numpy and pytest (never the benchmark's virtual
environment): the FLOP count every GFLOP/s figure divides by, the rows the
correctness check samples, and the numpy baseline against the float64
reference.  Timing is not tested.
"""

import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import backends  # noqa: E402
import harness  # noqa: E402
from attnflow import reference  # noqa: E402


def small_case(sq, skv, window):
    case = harness.make_case("t", "window" if window else "causal", sq, skv, window)
    case.update(batch=1, hq=4, hkv=2, dim=8, threads=1)
    return case


CASES = [small_case(37, 37, 0), small_case(50, 50, 7), small_case(1, 40, 0),
         small_case(5, 40, 16), small_case(130, 130, 64)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['sq']}x{c['skv']}w{c['window_left']}")
def test_visible_pairs_counts_the_mask(case):
    mask = backends.visible_mask(range(case["sq"]), range(case["skv"]),
                                 case["q_offset"], case["causal"],
                                 case["window_left"])
    assert harness.visible_pairs(case) == int(mask.sum())
    assert harness.visible_flops(case) == 4 * 8 * int(mask.sum()) * 4


def test_full_shapes_flops():
    by = {c["name"]: c for c in harness.FULL_CASES}
    # Causal S: S(S+1)/2 pairs; window W=4096 at S: the first W rows see
    # i+1 keys, the rest W keys.
    assert harness.visible_pairs(by["causal-4k"]) == 4096 * 4097 // 2
    w = 4096
    assert harness.visible_pairs(by["window-8k"]) == w * (w + 1) // 2 + (8192 - w) * w
    assert harness.visible_pairs(by["decode-32k"]) == 32768


@pytest.mark.parametrize("case", CASES + [small_case(300, 300, 100)],
                         ids=lambda c: f"{c['sq']}x{c['skv']}w{c['window_left']}")
def test_check_rows_are_valid_and_cover_the_ends(case):
    rows = harness.check_rows(case)
    assert rows[0] == 0 and rows[-1] == case["sq"] - 1
    assert np.all(np.diff(rows) > 0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['sq']}x{c['skv']}w{c['window_left']}")
def test_numpy_baseline_and_reference_rows(case):
    rng = np.random.default_rng(0)
    q = rng.standard_normal((1, 4, case["sq"], 8), dtype=np.float32)
    k = rng.standard_normal((1, 2, case["skv"], 8), dtype=np.float32)
    v = rng.standard_normal((1, 2, case["skv"], 8), dtype=np.float32)
    expected = reference.attention(q, k, v, causal=True,
                                   window_left=case["window_left"])
    baseline = backends.NumpyBaseline()
    baseline.SCORE_BYTES = 4096  # several chunks even at these sizes
    baseline.prepare(case, q, k, v)
    assert np.max(np.abs(baseline() - expected)) < 1e-5
    rows = harness.check_rows(case)
    got = harness.reference_rows(case, q, k, v, rows)
    assert np.max(np.abs(got - expected[:, :, rows])) < 1e-12


def test_iree_modules_name_every_operand():
    case = small_case(50, 50, 7)
    attention = backends.iree_attention_module(case, 8)
    assert "iree_linalg_ext.attention" in attention and "%mask" in attention
    assert "%vis = arith.andi %causal, %window : i1" in attention
    linalg = backends.iree_linalg_module(case, 8)
    assert "linalg.softmax dimension(3)" in linalg
    # Decode sees every key: no mask at all.
    assert "%mask" not in backends.iree_attention_module(small_case(1, 40, 0), 8)
