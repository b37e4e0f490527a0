"""The linear-time GPU kernels of linear_attention and vq_attention
(``attnflow-opt --convert-linear-attention-to-gpu``, lib/Conversion/AttnFlowToGPU/
LinearAttentionToGPU.cpp) checked without a GPU, as test_gpu_kernel_simt.py
checks the attention kernel: each case's module is lowered, printed in
generic form and run by the SIMT interpreter (simt_interpreter.py), which
flags shared-memory races, uninitialized reads and divergent barriers or
shuffles, and raises on out-of-bounds accesses. Each case then requires (a)
no issue, (b) every output element written exactly once, (c) the launches
the lowering promises (favor_plus: a logits kernel for q and one for k; VQ:
a codes kernel; then one scan kernel over [ceil(Dv / 32), Hq, B] blocks of
256 threads; nothing of size Sq x Skv anywhere in the IR), (d) the output
within tolerance of the float64 reference attnflow.reference.linear_attention
(vq_attention):

  |got - ref| <= rel (1 + |ref|) + u |ref|

with rel = 1e-5 in the interpreter's float64 mode (what remains is the
kernel's f32 constants sqrt(scale), ln(M) / 2 and ln(eps), whose relative
error of 2^-24 moves logits of magnitude <= ~20 by <= ~1e-6), 2e-4 in its
f32 mode (single-precision arithmetic, as test_gpu_kernel_simt.py), and u
the unit roundoff of the output type (0 for f32, 2^-11 for f16, 2^-8 for
bf16: the output's rounding).

Cases: every feature map, causal and not, GQA and MQA, sequence lengths
that are not multiples of the 32-row chunk, Sq != Skv (non-causal), Dv over
two value slices and off the slice, f32 / f16 / bf16 and both arithmetic
modes, attributes (scale, eps = 0), large-magnitude favor_plus inputs (the
stabilisation), and a feature count that forces 16-row chunks; for
vq_attention: causal and not, q_offset > 0 and < 0, shared and per-head
codebooks, GQA / MQA, C off the code tile, f32 / f16 / bf16, and a codebook
that forces 16-row chunks; 30 seeded random configurations of either op
(ATTNFLOW_SIMT_RANDOM_CASES=N runs N). The mutation tests delete each
gpu.barrier of the causal kernels in turn and require a race to be reported. Sizes are small:
the interpreter runs in Python (the file takes ~1 min on two cores).

Marked ``compiled``; attnflow-opt comes from ATTNFLOW_BIN_DIR or PATH (as
test_gpu_kernel_simt.py).
"""

import os
import random
import re
import subprocess
from dataclasses import dataclass, field

import numpy as np
import pytest

from attnflow import reference as R
from attnflow.random_features import favor_plus_projection

import simt_interpreter as simt
from _helpers import UNIT_ROUNDOFF, as_element_type, randn
from test_compiled_linear_vq import (linear_attention_module, vq_attention_module,
                                     vq_operands)
from test_gpu_kernel_simt import BARRIER, attnflow_opt  # noqa: F401 (fixture)

pytestmark = pytest.mark.compiled

PASS = "--convert-linear-attention-to-gpu"
REL_TOL = {"float64": 1e-5, "f32": 2e-4}


@dataclass
class Case:
    """q [b,hq,sq,d], k [b,hkv,skv,d], v [b,hkv,skv,dv], projection [m,d]
    for favor_plus; inputs N(0, std^2) rounded to element_type."""
    feature_map: str = "favor_plus"
    causal: bool = False
    b: int = 1
    hq: int = 1
    hkv: int = 1
    sq: int = 40
    skv: int = 40
    d: int = 8
    dv: int = 8
    m: int = 16
    element_type: str = "f32"
    float_mode: str = "float64"
    std: float = 1.0
    attrs: dict = field(default_factory=dict)
    chunk: int = 32
    options: str = ""

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        et = self.element_type
        q = as_element_type(self.std * rng.standard_normal((self.b, self.hq, self.sq, self.d)), et)
        k = as_element_type(self.std * rng.standard_normal((self.b, self.hkv, self.skv, self.d)),
                            et)
        v = randn(rng, (self.b, self.hkv, self.skv, self.dv), et)
        if self.feature_map != "favor_plus":
            return [q, k, v]
        return [q, k, v, as_element_type(favor_plus_projection(self.m, self.d, seed + 1), et)]

    def module(self, inputs):
        w = inputs[3] if len(inputs) > 3 else None
        return linear_attention_module(*inputs[:3], w, self.element_type, self.feature_map,
                                       self.causal, **self.attrs)

    def reference(self, inputs):
        return R.linear_attention(*inputs, feature_map=self.feature_map, causal=self.causal,
                                  **self.attrs)

    def launches(self):
        """(grid, block) of each kernel: favor_plus logits of q and k (16
        rows per block), then the scan."""
        favor = [((-(-self.sq // 16), self.hq, self.b), (256, 1, 1)),
                 ((-(-self.skv // 16), self.hkv, self.b), (256, 1, 1))]
        scan = ((-(-self.dv // 32), self.hq, self.b), (256, 1, 1))
        return (favor if self.feature_map == "favor_plus" else []) + [scan]


@dataclass
class VQCase:
    """vq_attention on test_compiled_linear_vq.vq_operands (keys near
    codewords: no near-ties between f32 and float64 distances); a codebook
    [c, d] or, per_head, [hkv, c, d]."""
    causal: bool = False
    b: int = 1
    hq: int = 1
    hkv: int = 1
    sq: int = 40
    skv: int = 40
    d: int = 8
    dv: int = 8
    c: int = 16
    per_head: bool = False
    element_type: str = "f32"
    float_mode: str = "float64"
    attrs: dict = field(default_factory=dict)
    chunk: int = 32
    options: str = ""

    def inputs(self, seed=0):
        return list(vq_operands(self.b, self.hq, self.hkv, self.sq, self.skv, self.d, self.dv,
                                self.c, self.per_head, self.element_type, seed))

    def module(self, inputs):
        return vq_attention_module(*inputs, self.element_type, self.causal, **self.attrs)

    def reference(self, inputs):
        return R.vq_attention(*inputs, causal=self.causal, scale=self.attrs.get("scale"))

    def launches(self):
        """(grid, block) of the codes kernel (64 keys per block), then the
        scan."""
        return [((-(-self.skv // 64), self.hkv, self.b), (64, 1, 1)),
                ((-(-self.dv // 32), self.hq, self.b), (256, 1, 1))]


CASES = {
    # Each feature map, causal and not; S off the 32-row chunk.
    "favor_causal_s40": Case(causal=True),
    "favor_noncausal_sq40_skv70": Case(sq=40, skv=70),
    "relu_causal_s33": Case("relu", causal=True, sq=33, skv=33),
    "relu_noncausal_sq17_skv45": Case("relu", sq=17, skv=45),
    "elu_causal_s65": Case("elu_plus_one", causal=True, sq=65, skv=65, d=4),
    "elu_noncausal_s1": Case("elu_plus_one", sq=1, skv=1),
    "favor_causal_s1": Case(causal=True, sq=1, skv=1),
    # GQA / MQA and several batches; Dv over two slices, off the slice.
    "favor_causal_gqa": Case(causal=True, b=2, hq=4, hkv=2, sq=35, skv=35),
    "elu_noncausal_mqa": Case("elu_plus_one", hq=3, hkv=1, sq=20, skv=50),
    "relu_causal_dv40": Case("relu", causal=True, sq=36, skv=36, dv=40),
    "favor_noncausal_dv33_m20": Case(sq=30, skv=34, dv=33, m=20),
    # Attributes.
    "favor_causal_scale_eps": Case(causal=True, attrs={"scale": 0.5, "eps": 1e-2}),
    "elu_causal_eps0": Case("elu_plus_one", causal=True, attrs={"eps": 0.0}),
    # Large |q|, |k|: unstabilized f32 features would underflow (see
    # test_compiled_linear_vq.py's test_linear_attention_large_favor_plus).
    "favor_causal_large": Case(causal=True, std=8.0, attrs={"eps": 0.0}),
    "favor_noncausal_large": Case(std=8.0),
    # Element types and single-precision arithmetic.
    "favor_causal_f16": Case(causal=True, element_type="f16", d=16),
    "relu_noncausal_f16": Case("relu", element_type="f16", sq=33, skv=40),
    "elu_causal_bf16": Case("elu_plus_one", causal=True, element_type="bf16"),
    "favor_causal_f32_arithmetic": Case(causal=True, hq=2, hkv=1, float_mode="f32"),
    "elu_noncausal_f32_arithmetic_f16": Case("elu_plus_one", element_type="f16",
                                             float_mode="f32", sq=30, skv=45),
    # M = 400 features: 32-row chunks need 4 (2 * 32 * 401 + 32 * 32 +
    # 32 * 33 + 33 * 400 + 8) = 163808 bytes (+ 16 static), over the 160000
    # given here, so the scan takes 16-row chunks (16 threads per row).
    "favor_causal_m400_chunk16": Case(causal=True, m=400, sq=20, skv=20, chunk=16,
                                      options="shared-memory-limit=160000"),
}


def lower(opt, module, options=""):
    """The kernels of `module`, in generic form."""
    flag = PASS + (f"={options}" if options else "")
    proc = subprocess.run([opt, flag, "--cse", "--mlir-print-op-generic"], input=module,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"attnflow-opt failed:\n{proc.stderr}\non:\n{module}"
    return proc.stdout


def check(case, kernel, inputs):
    assert "attnflow." not in kernel
    # Nothing quadratic: no buffer or view ends in Sq x Skv (checked where
    # no other size of the IR, a tile or a head dim, can spell the same).
    sizes = {1, 32, 33, 64, 65, case.d, case.d + 1, case.dv}
    sizes |= {getattr(case, "m", 0), getattr(case, "m", 0) + 1,
              getattr(case, "c", 0), getattr(case, "c", 0) + 1}
    if not sizes & {case.sq, case.skv}:
        assert not re.search(rf"[<x]{case.sq}x{case.skv}x(f16|bf16|f32)\b", kernel)
    run = simt.interpret(kernel, inputs, float_mode=case.float_mode)
    assert not run.issues, "\n".join(issue.message for issue in run.issues)
    counts = run.write_counts[0]
    assert np.all(counts == 1), (f"{np.count_nonzero(counts == 0)} output elements never "
                                 f"written, {np.count_nonzero(counts > 1)} more than once")
    assert [(launch.grid, launch.block) for launch in run.launches] == case.launches()
    got, ref = run.outputs[0], case.reference(inputs)
    err = np.abs(got - ref)
    u = UNIT_ROUNDOFF[case.element_type]
    tol = REL_TOL[case.float_mode] * (1 + np.abs(ref)) + u * np.abs(ref)
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), (f"{np.count_nonzero(err > tol)}/{err.size} elements out of "
                                f"tolerance; worst at {worst}: got {got[worst]!r}, ref "
                                f"{ref[worst]!r}, tol {tol[worst]:.2e}")


@pytest.mark.parametrize("name", list(CASES))
def test_linear_attention_kernels_match_reference(name, attnflow_opt):  # noqa: F811
    case = CASES[name]
    inputs = case.inputs()
    kernel = lower(attnflow_opt, case.module(inputs), case.options)
    # The chunk's staged features are [chunk][M + 1] f32.
    m = case.m if case.feature_map == "favor_plus" else case.d
    assert f"memref<{case.chunk}x{m + 1}xf32, #gpu.address_space<workgroup>>" in kernel
    check(case, kernel, inputs)


VQ_CASES = {
    "causal_s40": VQCase(causal=True),
    "noncausal_sq30_skv70": VQCase(sq=30, skv=70),
    # Causal with q_offset = Skv - Sq > 0 (keys before the first chunk) and
    # < 0 (the first 20 rows see no key: 0).
    "causal_sq20_skv50": VQCase(causal=True, sq=20, skv=50),
    "causal_sq50_skv30": VQCase(causal=True, sq=50, skv=30),
    # Per-head codebooks, GQA; C off the 32-code tile, Skv over two code
    # blocks, Dv over two slices.
    "causal_per_head_gqa": VQCase(causal=True, b=2, hq=4, hkv=2, sq=33, skv=33,
                                  per_head=True),
    "noncausal_c100_skv130_dv40": VQCase(sq=20, skv=130, c=100, dv=40),
    "causal_c1_s65": VQCase(causal=True, sq=65, skv=65, c=1),
    "causal_block_len_scale": VQCase(causal=True, attrs={"block_len": 5, "scale": 0.5}),
    # Element types and single-precision arithmetic.
    "causal_f16": VQCase(causal=True, element_type="f16", d=16),
    "noncausal_bf16_mqa": VQCase(hq=3, element_type="bf16", sq=20, skv=45),
    "causal_f32_arithmetic": VQCase(causal=True, hq=2, float_mode="f32", sq=45, skv=45),
    # C = 700 codes: 32-row chunks need 4 (32 * 9 + 32 * 701 + 32 * 33 +
    # 32 * 32 + 33 * 700 + 32 * 9) = 192752 bytes, over sm_80's 166912:
    # 16-row chunks.
    "causal_c700_chunk16": VQCase(causal=True, c=700, sq=20, skv=20, chunk=16),
}


@pytest.mark.parametrize("name", list(VQ_CASES))
def test_vq_attention_kernels_match_reference(name, attnflow_opt):  # noqa: F811
    case = VQ_CASES[name]
    inputs = case.inputs()
    kernel = lower(attnflow_opt, case.module(inputs), case.options)
    # The chunk's weights against every code are [chunk][C + 1] f32.
    assert f"memref<{case.chunk}x{case.c + 1}xf32, #gpu.address_space<workgroup>>" in kernel
    check(case, kernel, inputs)


def random_case(seed):
    """A random configuration of either op: sizes around the 32-row chunk,
    the 32-column value slice, the 64-key and 32-code tiles of the codes
    kernel; any feature map, mask, element type and arithmetic."""
    rng = random.Random(seed)
    hkv = rng.choice([1, 2])
    causal = rng.random() < 0.6
    sq = rng.choice([1, 2, 31, 32, 33, 64, 65, 100])
    common = dict(causal=causal, b=rng.choice([1, 2]), hkv=hkv, hq=hkv * rng.choice([1, 2, 3]),
                  sq=sq, d=rng.choice([1, 3, 8, 16]), dv=rng.choice([1, 5, 32, 33]),
                  element_type=rng.choice(["f32", "f32", "f16", "bf16"]),
                  float_mode=rng.choice(["float64", "f32"]))
    if rng.random() < 0.5:
        skv = sq if causal else rng.choice([1, 17, 40, 65])
        feature_map = rng.choice(["favor_plus", "relu", "elu_plus_one"])
        return Case(feature_map, skv=skv, m=rng.choice([1, 7, 16, 33]), **common)
    skv = rng.choice([1, 17, 40, 65, 130])
    return VQCase(skv=skv, c=rng.choice([1, 5, 32, 33, 70]), per_head=rng.random() < 0.5,
                  **common)


# More with ATTNFLOW_SIMT_RANDOM_CASES=N.
RANDOM_CASES = int(os.environ.get("ATTNFLOW_SIMT_RANDOM_CASES", "30"))


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_configuration(seed, attnflow_opt):  # noqa: F811
    case = random_case(seed)
    inputs = case.inputs(seed)
    check(case, lower(attnflow_opt, case.module(inputs)), inputs)


# Every gpu.barrier of the causal kernels is needed: deleting any one of
# them must make the interpreter report a race. The shapes make every loop
# run at least twice (two chunks, two key chunks before the first query
# chunk, two code tiles), so even the barriers at the top of a loop (the
# previous iteration's readers are done before shared memory is restaged)
# matter. Linear favor_plus: 2 per logits kernel (after the staged rows,
# after the norms); the scan's key-max reduction, then per chunk the top,
# after the staging, after the query-row shift (its exp rewrites features
# other threads of the row read), after the intra-chunk products, after the
# output (its reads of S and z precede the update). VQ: 2 per code tile
# (top, after staging); per key chunk of the prefix pass 2 (top, after
# staging); per query chunk the top, per codebook tile of the scores 2 (top,
# after staging; the first also orders the chunk's staging), after the
# scores (the exact scores read other threads' scores), after the exact scores
# (the weights overwrite the scores), after the weights, before the keys
# enter the aggregates (the output's reads of them precede the update).
MUTATIONS = {
    "linear_favor_causal": (Case(causal=True, sq=40, skv=40, d=4, dv=8, m=16), 2 * 2 + 1 + 5),
    # C = 64: two codebook tiles, and keys quantized to code 32 (the last
    # tile's), whose scores the exact part reads right after they are written.
    "vq_causal_prefix_keys": (VQCase(causal=True, sq=40, skv=80, c=64, d=4), 2 + 2 + 7),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_deleted_barriers_are_reported(name, attnflow_opt):  # noqa: F811
    case, count = MUTATIONS[name]
    inputs = case.inputs()
    lines = lower(attnflow_opt, case.module(inputs)).splitlines()
    barriers = [i for i, line in enumerate(lines) if line.strip() == BARRIER]
    assert len(barriers) == count
    assert not simt.interpret("\n".join(lines), inputs).issues
    for n, line in enumerate(barriers):
        mutant = "\n".join(lines[:line] + lines[line + 1:])
        kinds = {issue.kind for issue in simt.interpret(mutant, inputs).issues}
        assert kinds & {"RAW race", "WAR race"}, f"barrier {n} deleted: no race reported"


def test_too_many_features_is_diagnosed(attnflow_opt):  # noqa: F811
    case = Case(causal=True, m=600, sq=4, skv=4)
    proc = subprocess.run([attnflow_opt, PASS + "=shared-memory-limit=100000"],
                          input=case.module(case.inputs()), capture_output=True, text=True)
    assert proc.returncode != 0
    assert re.search(r"has M = 600 features, whose scan needs \d+ bytes of shared memory",
                     proc.stderr), proc.stderr
