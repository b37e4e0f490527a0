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

Cases: a named grid (CASES) and 40 seeded random configurations
(ATTNFLOW_SIMT_RANDOM_CASES=N runs N instead). The mutation test deletes each
gpu.barrier of the kernel in turn and requires the race the deletion opens to
be reported, so the race check is known to fail when it should. Sizes are
small because the interpreter runs in Python: the file takes ~11 s on two
cores.

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
    "bf16_causal": Case(hq=2, sq=70, skv=70, d=16, dv=24, element_type="bf16",
                        attrs={"causal": True}),
    "bf16_f32_arithmetic_bias": Case(sq=40, skv=70, d=16, dv=17, element_type="bf16",
                                     float_mode="f32", bias="11", neg_inf_bias=True),
    "f16_window_sinks": Case(hq=2, sq=70, skv=130, d=16, dv=24, element_type="f16",
                             attrs={"window_left": 9, "num_sink_tokens": 2}),
    "f16_f32_arithmetic_gqa": Case(hq=4, hkv=2, sq=40, skv=70, d=16, dv=8, element_type="f16",
                                   float_mode="f32", attrs={"causal": True}),
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
    return case


# More with ATTNFLOW_SIMT_RANDOM_CASES=N (300 take one to two minutes).
RANDOM_CASES = int(os.environ.get("ATTNFLOW_SIMT_RANDOM_CASES", "40"))


def lower_to_gpu(attnflow_opt, module):
    """The kernel of `module`, in generic form."""
    proc = subprocess.run([attnflow_opt, "--convert-attnflow-to-gpu", "--cse",
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
    ref = R.attention(*case.inputs(), **case.attrs)
    err = np.abs(got - ref)
    tol = (REL_TOL[case.float_mode] * (1 + np.abs(ref))
           + UNIT_ROUNDOFF[case.element_type] * np.abs(ref))
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), (f"{np.count_nonzero(err > tol)}/{err.size} elements out of "
                                f"tolerance; worst at {worst}: got {got[worst]!r}, ref "
                                f"{ref[worst]!r}, tol {tol[worst]:.2e}")


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_reference(name, attnflow_opt):
    case = CASES[name]
    kernel = lower_to_gpu(attnflow_opt, case.module())
    # The P tile in shared memory is [64 query rows][key tile + 1].
    assert f"memref<64x{case.key_tile + 1}xf32, #gpu.address_space<workgroup>>" in kernel
    check_run(simt.interpret(kernel, case.inputs(), float_mode=case.float_mode), case)


@pytest.mark.parametrize("seed", range(RANDOM_CASES))
def test_random_configuration(seed, attnflow_opt):
    case = random_case(seed)
    kernel = lower_to_gpu(attnflow_opt, case.module())
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
