"""The GPU attention kernel (``attnflow-opt --convert-attnflow-to-gpu``,
lib/Conversion/AttnFlowToGPU) checked without a GPU: each case's module is
lowered, printed in generic form and run by the SIMT interpreter of
simt_interpreter.py, which flags shared-memory races, uninitialized reads,
divergent barriers and shuffles, and raises on out-of-bounds accesses. Each
case then requires (a) no issue, (b) every output element written exactly
once, (c) the output within tolerance of attnflow.reference.attention:

  |got - ref| <= rel (1 + |ref|) + u |ref|

with rel = 1e-6 in the interpreter's float64 mode (what remains is the
kernel's f32 constants: scale, ln L, ALiBi slopes), 2e-4 in its f32 mode
(single-precision arithmetic), and u the unit roundoff of the output element
type (0 for f32, 2^-11 for f16, 2^-8 for bf16: the output's rounding).

f16 / bf16 run the tensor-core kernel (nvgpu.mma.sync) unless a case sets
tensor_cores=False (the SIMT kernel, as --convert-attnflow-to-gpu=
tensor-cores=false). That kernel rounds P = exp(s - m) to the element type
before O += P V, as FlashAttention-2 does, while the row sum l uses the
unrounded P. With |P~ - P| <= u P per element (P <= 1; f16 subnormals below
2^-14 add at most 2^-25 absolutely, after the later rescalings by alpha <= 1
too) and l >= 1 (the row's maximum contributes exp(0)), the output moves by

  |sum_j (P~_j - P_j) v_j| / l <= u max_j |v_j| + [f16] Skv 2^-25 max_j |v_j|,

which the tolerance adds for that kernel (max |v| over the whole input).

Cases: a named grid of the SIMT kernel (CASES), one of the tensor-core
kernel (MMA_CASES: f16 / bf16, D and Dv up to 256 and off the mma tiles,
masks, modifiers, bias, GQA, decode), single-key-tile cases that check its
P rounding exactly (SINGLE_TILE_CASES), and 40 seeded random configurations
(ATTNFLOW_SIMT_RANDOM_CASES=N runs N instead; f16 / bf16 take either kernel). The mutation test deletes each
gpu.barrier of the kernel in turn and requires the race the deletion opens to
be reported, so the race check is known to fail when it should (for both
kernels). Sizes are small because the interpreter runs in Python: the file
takes ~30 s on two cores.

Marked ``compiled`` like the other tests that need the tools (conftest.py);
attnflow-opt itself is found through ATTNFLOW_BIN_DIR (its absence there is
an error, as under ctest) or else PATH (its absence is a skip).
"""

import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np
import pytest

from attnflow import ir, reference as R

import simt_interpreter as simt
from _helpers import UNIT_ROUNDOFF, randn

pytestmark = pytest.mark.compiled

REL_TOL = {"float64": 1e-6, "f32": 2e-4}
BARRIER = '"gpu.barrier"() : () -> ()'


@pytest.fixture(scope="module")
def attnflow_opt():
    """Path of attnflow-opt (ATTNFLOW_BIN_DIR, else PATH)."""
    bin_dir = os.environ.get("ATTNFLOW_BIN_DIR")
    if bin_dir:
        path = os.path.join(bin_dir, "attnflow-opt")
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.fail(f"ATTNFLOW_BIN_DIR={bin_dir} holds no executable attnflow-opt")
        return path
    path = shutil.which("attnflow-opt")
    if path is None:
        pytest.skip("attnflow-opt not found: set ATTNFLOW_BIN_DIR or put it on PATH")
    return path


@dataclass
class Case:
    """q [b,hq,sq,d], k [b,hkv,skv,d], v [b,hkv,skv,dv], attention attributes
    `attrs`, an optional bias [b|1, hq|1, sq, skv] ("BH", "1H", "B1", "11":
    which of its first two dims are full), with `neg_inf_bias` every third
    row -inf and the next row's first 70 keys too (so its first key tile has
    no visible key). `key_tile` is the key tile the kernel must choose."""
    b: int = 1
    hq: int = 1
    hkv: int = 1
    sq: int = 64
    skv: int = 64
    d: int = 4
    dv: int = 8
    attrs: dict = field(default_factory=dict)
    bias: str = None
    neg_inf_bias: bool = False
    element_type: str = "f32"
    float_mode: str = "float64"
    key_tile: int = 64
    tensor_cores: bool = True

    def uses_mma(self):
        """Whether the tensor-core kernel runs (f16 / bf16 unless
        tensor_cores=False)."""
        return self.tensor_cores and self.element_type in ("f16", "bf16")

    def bias_shape(self):
        if self.bias is None:
            return None
        return (self.b if self.bias[0] == "B" else 1,
                self.hq if self.bias[1] == "H" else 1, self.sq, self.skv)

    def inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        shapes = [(self.b, self.hq, self.sq, self.d), (self.b, self.hkv, self.skv, self.d),
                  (self.b, self.hkv, self.skv, self.dv)]
        if self.bias is not None:
            shapes.append(self.bias_shape())
        inputs = [randn(rng, shape, self.element_type) for shape in shapes]
        if self.neg_inf_bias:
            inputs[3][..., ::3, :] = -np.inf
            inputs[3][..., 1::3, :70] = -np.inf
        return inputs

    def module(self):
        q, k, v = ((self.b, self.hq, self.sq, self.d), (self.b, self.hkv, self.skv, self.d),
                   (self.b, self.hkv, self.skv, self.dv))
        return ir.attention_module(q, k, v, self.bias_shape(),
                                   element_type=self.element_type, **self.attrs)


def slopes(n):
    return [2.0 ** -(i + 1) for i in range(n)]


CASES = {
    # Sizes around the 64-row query tile and the 64-key tile.
    "sq1_skv1": Case(sq=1, skv=1),
    "sq63_skv65_causal": Case(sq=63, skv=65, attrs={"causal": True}),
    "sq64_skv64_causal": Case(sq=64, skv=64, attrs={"causal": True}),
    "sq65_skv63": Case(sq=65, skv=63),
    "sq65_skv63_causal_empty_rows": Case(sq=65, skv=63, attrs={"causal": True}),
    "skv1_causal": Case(sq=65, skv=1, attrs={"causal": True}),
    "decode_sq1_gqa": Case(hq=8, hkv=2, sq=1, skv=130,
                           attrs={"causal": True, "window_left": 100, "num_sink_tokens": 4}),
    # Head dims: D = 256 needs the 32-key tile; Dv around the 16-column stride.
    "d1_dv1": Case(sq=65, skv=65, d=1, dv=1, attrs={"causal": True}),
    "d256_key_tile_32": Case(sq=33, skv=70, d=256, dv=8, key_tile=32,
                             attrs={"causal": True, "window_left": 40}),
    "dv17": Case(sq=40, skv=70, d=8, dv=17),
    "dv40_rectangular": Case(hq=2, sq=70, skv=130, dv=40),
    # Masks.
    "causal_bottom_right": Case(sq=65, skv=130, dv=24, attrs={"causal": True}),
    "causal_gqa": Case(b=2, hq=4, hkv=2, sq=40, skv=40, attrs={"causal": True}),
    "causal_mqa": Case(hq=4, sq=40, skv=70, attrs={"causal": True}),
    "window_left_causal": Case(sq=130, skv=130, attrs={"causal": True, "window_left": 20}),
    "window_left_right": Case(sq=100, skv=130, attrs={"window_left": 5, "window_right": 3}),
    "window_right_only_q_offset_0": Case(sq=70, skv=130,
                                         attrs={"window_right": 5, "q_offset": 0}),
    "window_zero": Case(sq=40, skv=70, attrs={"window_left": 0, "window_right": 0}),
    "window_right_huge": Case(sq=40, skv=40, attrs={"window_right": 2 ** 63 - 1}),
    "sinks_window_causal": Case(sq=130, skv=130, attrs={"causal": True, "window_left": 20,
                                                        "num_sink_tokens": 2}),
    "sinks_over_two_key_tiles": Case(sq=64, skv=200, attrs={
        "window_left": 5, "window_right": 3, "num_sink_tokens": 70}),
    "sinks_more_than_skv": Case(sq=40, skv=30, attrs={"causal": True, "window_left": 3,
                                                      "num_sink_tokens": 100}),
    "q_offset_negative": Case(sq=130, skv=100, attrs={"causal": True, "q_offset": -70}),
    "q_offset_large_causal": Case(sq=70, skv=100, attrs={"causal": True, "q_offset": 1000}),
    "q_offset_large_window": Case(sq=70, skv=100, attrs={"window_left": 10, "q_offset": 1000}),
    # Score modifiers.
    "softcap": Case(sq=40, skv=70, attrs={"causal": True, "logit_softcap": 5.0, "scale": 2.0}),
    "alibi": Case(hq=4, hkv=2, sq=40, skv=70, attrs={"causal": True, "alibi_slopes": slopes(4)}),
    "logn": Case(sq=65, skv=130, attrs={"causal": True, "logn_train_len": 16}),
    "everything_gqa_bias": Case(b=2, hq=4, hkv=2, sq=40, skv=90, d=8, dv=40, bias="BH", attrs={
        "causal": True, "window_left": 30, "num_sink_tokens": 3, "alibi_slopes": slopes(4),
        "logit_softcap": 5.0, "logn_train_len": 16}),
    # Bias broadcast shapes; -inf rows and -inf first key tiles.
    "bias_BH": Case(b=2, hq=2, sq=40, skv=70, bias="BH"),
    "bias_1H_neg_inf": Case(b=2, hq=2, hkv=2, sq=40, skv=130, bias="1H", neg_inf_bias=True),
    "bias_B1_window": Case(b=2, hq=2, sq=33, skv=90, bias="B1",
                           attrs={"window_left": 7, "window_right": 0}),
    "bias_11_neg_inf_causal": Case(hq=2, sq=65, skv=100, bias="11", neg_inf_bias=True,
                                   attrs={"causal": True}),
    # Element types and single-precision arithmetic.
    "f32_arithmetic_causal": Case(sq=65, skv=100, d=16, dv=40, float_mode="f32",
                                  attrs={"causal": True}),
    "f32_arithmetic_everything": Case(hq=2, sq=40, skv=90, d=8, bias="1H", float_mode="f32",
                                      attrs={"causal": True, "window_left": 30,
                                             "num_sink_tokens": 3, "alibi_slopes": slopes(2),
                                             "logit_softcap": 5.0, "logn_train_len": 16}),
    "bf16_causal": Case(tensor_cores=False, hq=2, sq=70, skv=70, d=16, dv=24, element_type="bf16",
                        attrs={"causal": True}),
    "bf16_f32_arithmetic_bias": Case(tensor_cores=False, sq=40, skv=70, d=16, dv=17, element_type="bf16",
                                     float_mode="f32", bias="11", neg_inf_bias=True),
    "f16_window_sinks": Case(tensor_cores=False, hq=2, sq=70, skv=130, d=16, dv=24, element_type="f16",
                             attrs={"window_left": 9, "num_sink_tokens": 2}),
    "f16_f32_arithmetic_gqa": Case(tensor_cores=False, hq=4, hkv=2, sq=40, skv=70, d=16, dv=8, element_type="f16",
                                   float_mode="f32", attrs={"causal": True}),
}


# The tensor-core kernel (f16 / bf16): its tiles are 64 query rows (4 warps
# of 16), 64 keys, head dims padded to 16 (D) and 8 (Dv).
MMA_CASES = {
    "f16_causal_d64": Case(hq=2, sq=70, skv=130, d=64, dv=64, element_type="f16",
                           attrs={"causal": True}),
    "bf16_causal_d64": Case(hq=2, sq=70, skv=130, d=64, dv=64, element_type="bf16",
                            attrs={"causal": True}),
    "f16_d128": Case(sq=65, skv=100, d=128, dv=128, element_type="f16"),
    "bf16_d128_causal": Case(sq=65, skv=100, d=128, dv=128, element_type="bf16",
                             attrs={"causal": True}),
    "f16_d256_window": Case(sq=33, skv=70, d=256, dv=256, element_type="f16",
                            attrs={"causal": True, "window_left": 40}),
    "bf16_d256": Case(sq=40, skv=65, d=256, dv=256, element_type="bf16"),
    "f16_window_sinks": Case(hq=2, sq=70, skv=130, d=16, dv=24, element_type="f16",
                             attrs={"window_left": 9, "num_sink_tokens": 2}),
    "bf16_window_sinks_two_tiles": Case(sq=64, skv=200, d=32, dv=16, element_type="bf16",
                                        attrs={"window_left": 5, "window_right": 3,
                                               "num_sink_tokens": 70}),
    "f16_gqa_causal": Case(b=2, hq=4, hkv=2, sq=40, skv=40, d=32, dv=32,
                           element_type="f16", attrs={"causal": True}),
    "bf16_mqa": Case(hq=4, sq=40, skv=70, d=16, dv=8, element_type="bf16",
                     attrs={"causal": True}),
    "f16_decode_gqa": Case(hq=8, hkv=2, sq=1, skv=130, d=64, dv=64, element_type="f16",
                           attrs={"causal": True, "window_left": 100,
                                  "num_sink_tokens": 4}),
    "bf16_decode": Case(hq=2, sq=1, skv=200, d=128, dv=128, element_type="bf16",
                        attrs={"causal": True}),
    "f16_softcap": Case(sq=40, skv=70, d=32, dv=32, element_type="f16",
                        attrs={"causal": True, "logit_softcap": 5.0, "scale": 2.0}),
    "bf16_softcap_alibi_logn": Case(hq=2, sq=65, skv=130, d=16, dv=16,
                                    element_type="bf16",
                                    attrs={"causal": True, "logit_softcap": 5.0,
                                           "alibi_slopes": slopes(2),
                                           "logn_train_len": 16}),
    "f16_bias_BH": Case(b=2, hq=2, sq=40, skv=70, d=16, dv=16, element_type="f16",
                        bias="BH"),
    "bf16_bias_1H_neg_inf": Case(b=2, hq=2, hkv=2, sq=40, skv=130, d=16, dv=16,
                                 element_type="bf16", bias="1H", neg_inf_bias=True),
    "f16_bias_11_neg_inf_causal": Case(hq=2, sq=65, skv=100, d=16, dv=16,
                                       element_type="f16", bias="11",
                                       neg_inf_bias=True, attrs={"causal": True}),
    # Head dims that are not multiples of the mma tiles; sizes off the tiles.
    "f16_d1_dv1": Case(sq=65, skv=65, d=1, dv=1, element_type="f16",
                       attrs={"causal": True}),
    "bf16_d40_dv17": Case(sq=63, skv=65, d=40, dv=17, element_type="bf16"),
    "f16_d200_dv5": Case(sq=17, skv=33, d=200, dv=5, element_type="f16",
                         attrs={"causal": True}),
    "bf16_sq65_skv63_causal_empty_rows": Case(sq=65, skv=63, d=16, dv=16,
                                              element_type="bf16",
                                              attrs={"causal": True}),
    "f16_skv1_causal": Case(sq=65, skv=1, d=16, dv=16, element_type="f16",
                            attrs={"causal": True}),
    "bf16_q_offset_negative": Case(sq=130, skv=100, d=16, dv=16, element_type="bf16",
                                   attrs={"causal": True, "q_offset": -70}),
    "f16_window_right_only": Case(sq=70, skv=130, d=16, dv=16, element_type="f16",
                                  attrs={"window_right": 5, "q_offset": 0}),
    "f16_everything_gqa_bias": Case(b=2, hq=4, hkv=2, sq=40, skv=90, d=24, dv=40,
                                    element_type="f16", bias="BH", attrs={
                                        "causal": True, "window_left": 30,
                                        "num_sink_tokens": 3, "alibi_slopes": slopes(4),
                                        "logit_softcap": 5.0, "logn_train_len": 16}),
    # Single-precision arithmetic (the interpreter rounds each op, and each
    # mma's result, to f32).
    "f16_f32_arithmetic_gqa": Case(hq=4, hkv=2, sq=40, skv=70, d=64, dv=64,
                                   element_type="f16", float_mode="f32",
                                   attrs={"causal": True}),
    "bf16_f32_arithmetic_bias": Case(sq=40, skv=70, d=16, dv=17, element_type="bf16",
                                     float_mode="f32", bias="11", neg_inf_bias=True),
}


def random_case(seed):
    """A random configuration (as the reviewer's sweep that validated the
    kernel): sizes around the tiles, random masks, modifiers, bias, element
    type and arithmetic."""
    rng = random.Random(seed)
    hkv = rng.choice([1, 2])
    case = Case(b=rng.choice([1, 2]), hkv=hkv, hq=hkv * rng.choice([1, 2, 3]),
                sq=rng.choice([1, 2, 17, 63, 64, 65, 128, 130]),
                skv=rng.choice([1, 3, 31, 32, 33, 64, 65, 100, 129, 200]),
                d=rng.choice([1, 3, 4, 8, 16, 200]), dv=rng.choice([1, 5, 8, 16, 17, 40, 64]),
                element_type=rng.choice(["f32", "f32", "f16", "bf16"]),
                float_mode=rng.choice(["float64", "f32"]))
    choices = {"causal": [True], "window_left": [0, 1, 7, 40, 70, 150],
               "window_right": [0, 1, 7, 40, 70, 150], "num_sink_tokens": [1, 2, 4, 65, 300],
               "q_offset": [-150, -64, -5, 0, 3, 70, 500], "logit_softcap": [3.0],
               "alibi_slopes": [slopes(case.hq)], "logn_train_len": [2, 16]}
    for (key, values), chance in zip(choices.items(), [0.5, 0.4, 0.3, 0.3, 0.4, 0.2, 0.2, 0.2]):
        if rng.random() < chance:
            case.attrs[key] = rng.choice(values)
    if rng.random() < 0.3:
        case.bias = rng.choice(["BH", "1H", "B1", "11"])
        case.neg_inf_bias = rng.random() < 0.5
    case.tensor_cores = rng.random() < 0.5  # f16 / bf16: either kernel
    return case


# More with ATTNFLOW_SIMT_RANDOM_CASES=N (300 take one to two minutes).
RANDOM_CASES = int(os.environ.get("ATTNFLOW_SIMT_RANDOM_CASES", "40"))


def lower_to_gpu(attnflow_opt, module, tensor_cores=True):
    """The kernel of `module`, in generic form."""
    option = "" if tensor_cores else "=tensor-cores=false"
    proc = subprocess.run([attnflow_opt, f"--convert-attnflow-to-gpu{option}", "--cse",
                           "--mlir-print-op-generic"],
                          input=module, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"attnflow-opt failed:\n{proc.stderr}\non:\n{module}"
    return proc.stdout


def check_run(run, case):
    """Asserts (a) no issue, (b) every output element written once, (c) the
    output within tolerance of the reference."""
    assert not run.issues, "\n".join(issue.message for issue in run.issues)
    counts = run.write_counts[0]
    assert np.all(counts == 1), (f"{np.count_nonzero(counts == 0)} output elements never "
                                 f"written, {np.count_nonzero(counts > 1)} written more "
                                 "than once")
    got = run.outputs[0]
    inputs = case.inputs()
    ref = R.attention(*inputs, **case.attrs)
    err = np.abs(got - ref)
    u = UNIT_ROUNDOFF[case.element_type]
    tol = REL_TOL[case.float_mode] * (1 + np.abs(ref)) + u * np.abs(ref)
    if case.uses_mma():
        # P rounded to the element type before P V (module docstring).
        v_max = np.max(np.abs(inputs[2]))
        tol = tol + u * v_max + (case.skv * 2.0 ** -25 * v_max
                                 if case.element_type == "f16" else 0.0)
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), (f"{np.count_nonzero(err > tol)}/{err.size} elements out of "
                                f"tolerance; worst at {worst}: got {got[worst]!r}, ref "
                                f"{ref[worst]!r}, tol {tol[worst]:.2e}")


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_reference(name, attnflow_opt):
    case = CASES[name]
    assert not case.uses_mma()
    kernel = lower_to_gpu(attnflow_opt, case.module(), case.tensor_cores)
    # The P tile in shared memory is [64 query rows][key tile + 1].
    assert f"memref<64x{case.key_tile + 1}xf32, #gpu.address_space<workgroup>>" in kernel
    assert '"nvgpu.mma.sync"' not in kernel
    check_run(simt.interpret(kernel, case.inputs(), float_mode=case.float_mode), case)


@pytest.mark.parametrize("name", list(MMA_CASES))
def test_mma_kernel_matches_reference(name, attnflow_opt):
    case = MMA_CASES[name]
    assert case.uses_mma()
    kernel = lower_to_gpu(attnflow_opt, case.module())
    # Q, K and V^T stay 16-bit in shared memory; 128 threads (4 warps).
    d_pad, dv_pad = -(-case.d // 16) * 16, -(-case.dv // 8) * 8
    for shape in (f"64x{d_pad + 8}", f"{dv_pad}x72"):
        assert (f"memref<{shape}x{case.element_type}, #gpu.address_space<workgroup>>"
                in kernel)
    assert '"nvgpu.mma.sync"' in kernel
    run = simt.interpret(kernel, case.inputs(), float_mode=case.float_mode)
    assert all(launch.block == (128, 1, 1) for launch in run.launches)
    check_run(run, case)


# One key tile (Skv <= 64, no sinks): the kernel's shift is the row's max
# over all its visible keys, so its output is exactly (up to the f32
# constants and the output's rounding) the model
#   O = sum_j round(P_j) v_j / sum_j P_j,  P_j = exp(s_j - max_j s_j),
# which the test computes from the reference: with V = I, attention returns
# softmax(s) = P / sum P, whose row max is 1 / sum P. The only slack is for
# the P_j within 1e-5 (relative) of a rounding midpoint, which the kernel's
# float64 scores (f32 constants) may round the other way: 2u P_j |v_j|.
SINGLE_TILE_CASES = {
    "f16_causal_d64": Case(hq=2, sq=70, skv=64, d=64, dv=64, element_type="f16",
                           attrs={"causal": True}),
    "bf16_causal_d64": Case(hq=2, sq=70, skv=64, d=64, dv=64, element_type="bf16",
                            attrs={"causal": True}),
    "f16_gqa_window": Case(b=2, hq=4, hkv=2, sq=40, skv=50, d=40, dv=24,
                           element_type="f16",
                           attrs={"window_left": 7, "window_right": 3}),
    "bf16_softcap_alibi_logn": Case(hq=2, sq=33, skv=60, d=16, dv=17, element_type="bf16",
                                    attrs={"causal": True, "logit_softcap": 5.0,
                                           "alibi_slopes": slopes(2),
                                           "logn_train_len": 16}),
    "f16_bias_neg_inf": Case(hq=2, sq=65, skv=63, d=8, dv=8, element_type="f16",
                             bias="1H", neg_inf_bias=True),
    "bf16_d1_dv1": Case(sq=65, skv=64, d=1, dv=1, element_type="bf16",
                        attrs={"causal": True}),
}


@pytest.mark.parametrize("name", list(SINGLE_TILE_CASES))
def test_mma_kernel_rounds_p_as_flashattention(name, attnflow_opt):
    case = SINGLE_TILE_CASES[name]
    assert case.uses_mma() and case.skv <= 64 and "num_sink_tokens" not in case.attrs
    inputs = case.inputs()
    kernel = lower_to_gpu(attnflow_opt, case.module())
    run = simt.interpret(kernel, inputs)
    assert not run.issues and np.all(run.write_counts[0] == 1)
    q, k, v = inputs[:3]
    eye = np.broadcast_to(np.eye(case.skv), (case.b, case.hkv, case.skv, case.skv))
    softmax = R.attention(q, k, eye, *inputs[3:], **case.attrs)  # [b, hq, sq, skv]
    row_max = softmax.max(axis=-1, keepdims=True)
    live = row_max > 0
    prob = softmax / np.where(live, row_max, 1.0)  # P = exp(s - max) in [0, 1]
    rounded = simt.round_to_type(prob, case.element_type)
    at_risk = (simt.round_to_type(prob * (1 + 1e-5), case.element_type)
               != simt.round_to_type(prob * (1 - 1e-5), case.element_type))
    v_rows = np.repeat(np.asarray(v, dtype=np.float64), case.hq // case.hkv, axis=1)
    ref = np.where(live, rounded @ v_rows * row_max, 0.0)
    u = UNIT_ROUNDOFF[case.element_type]
    slack = 2 * u * (np.where(at_risk, prob, 0.0) @ np.abs(v_rows)) * row_max
    tol = 1e-6 * (1 + np.abs(ref)) + u * np.abs(ref) + slack
    err = np.abs(run.outputs[0] - ref)
    assert np.all(err <= tol), (f"{np.count_nonzero(err > tol)}/{err.size} out of "
                                f"tolerance; max err {err.max():.2e}")


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_configuration(seed, attnflow_opt):
    case = random_case(seed)
    kernel = lower_to_gpu(attnflow_opt, case.module(), case.tensor_cores)
    assert ('"nvgpu.mma.sync"' in kernel) == case.uses_mma()
    check_run(simt.interpret(kernel, case.inputs(), float_mode=case.float_mode), case)


# The kernel has three barriers in its key loop, which runs twice when there
# are sinks (the sink keys, then the band): barriers 0-2 in the sink loop,
# 3-5 in the band loop. In each loop:
#   0 / 3 (top of the body): the previous tile's readers are done, before
#     K and V are restaged; deleting it lets a tile's V staging overwrite V
#     while the previous tile's P V product still reads it (WAR race);
#   1 / 4 (after staging): K, V (and, in the first tile, Q) are staged
#     before the dot products read them (RAW race);
#   2 / 5 (after the softmax): P is written before the P V product reads
#     it (RAW race).
# Barrier 0 (the first loop's top barrier) is redundant in the kernel's
# first key tile: nothing has read K, V or P yet, and Q's staging is ordered
# before its reads by barrier 1. So deleting it is harmless when the first
# loop runs a single tile (sinks within the first 64 keys) and a WAR race
# when it runs more (sinks over two key tiles; without sinks, a band of more
# than one tile). The outputs stay right under lockstep execution either way:
# only the race check sees the deletions.
MUTATIONS = {
    "sinks_in_one_key_tile": (Case(sq=64, skv=200, attrs={"num_sink_tokens": 2}), {
        0: set(), 1: {"RAW race"}, 2: {"RAW race"},
        3: {"WAR race"}, 4: {"RAW race"}, 5: {"RAW race"}}),
    "sinks_over_two_key_tiles": (Case(sq=64, skv=200, attrs={"num_sink_tokens": 70}), {
        0: {"WAR race"}, 1: {"RAW race"}, 2: {"RAW race"},
        3: {"WAR race"}, 4: {"RAW race"}, 5: {"RAW race"}}),
}


# The tensor-core kernel has two barriers per key loop (P stays in
# registers): 0 / 2 at the top (deleting it lets the next tile's K / V^T
# staging overwrite what the previous tile's mma fragments still read: a WAR
# race once the loop runs two tiles; harmless in a loop's first tile after
# nothing read, as in the SIMT kernel) and 1 / 3 after the staging (RAW).
MUTATIONS.update({
    "mma_sinks_in_one_key_tile": (Case(sq=64, skv=200, d=16, dv=16, element_type="f16",
                                       attrs={"num_sink_tokens": 2}), {
        0: set(), 1: {"RAW race"}, 2: {"WAR race"}, 3: {"RAW race"}}),
    "mma_sinks_over_two_key_tiles": (Case(sq=64, skv=200, d=16, dv=16,
                                          element_type="bf16",
                                          attrs={"num_sink_tokens": 70}), {
        0: {"WAR race"}, 1: {"RAW race"}, 2: {"WAR race"}, 3: {"RAW race"}}),
})


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_deleted_barriers_are_reported(name, attnflow_opt):
    case, expected = MUTATIONS[name]
    lines = lower_to_gpu(attnflow_opt, case.module()).splitlines()
    barriers = [i for i, line in enumerate(lines) if line.strip() == BARRIER]
    assert len(barriers) == len(expected)
    inputs = case.inputs()
    assert not simt.interpret("\n".join(lines), inputs).issues
    reported = {}
    for n, line in enumerate(barriers):
        mutant = "\n".join(lines[:line] + lines[line + 1:])
        reported[n] = {issue.kind for issue in simt.interpret(mutant, inputs).issues}
    assert reported == expected


def test_unsupported_op_is_named(attnflow_opt):
    case = Case(sq=16, skv=16)
    kernel = lower_to_gpu(attnflow_opt, case.module()).replace('"math.exp"', '"math.exp2"')
    with pytest.raises(simt.UnsupportedOpError, match=r"unsupported op 'math\.exp2' at line"):
        simt.interpret(kernel, case.inputs())
