"""The GPU kernel of linear_recurrence (``attnflow-opt
--convert-linear-recurrence-to-gpu``, lib/Conversion/AttnFlowToGPU/
LinearRecurrenceToGPU.cpp) checked without a GPU by the SIMT interpreter
(simt_interpreter.py), as test_gpu_linear_simt.py checks the linear-attention
kernels: (a) no shared-memory race, uninitialized read or divergent barrier,
(b) every output element written exactly once, (c) the promised launch
(diagonal: grid [ceil(N / 32), B] of 256 threads; dense: [1, B] of 64, 32
for N > 8), (d)
the output within |err| <= rel (1 + |ref|) + u |ref| of the float64
reference attnflow.reference.linear_recurrence (rel = 1e-12 in the
interpreter's float64 mode, 1e-4 in its f32 mode; u the output type's unit
roundoff). Cases: diagonal and dense, h0, reverse, N off the 32-column
block, T shorter than the segment count and not a multiple of it,
f32 / f16 / bf16 (the interpreter has no f64 shared memory; f64 kernels
are checked for assembly only). A mutation test deletes each gpu.barrier in turn and
requires a race to be reported.

Marked ``compiled``; attnflow-opt comes from ATTNFLOW_BIN_DIR or PATH.
"""

import re
import subprocess

import numpy as np
import pytest

from attnflow import reference as R

import simt_interpreter as simt
from _helpers import UNIT_ROUNDOFF, as_element_type
from test_compiled_linear_recurrence import recurrence_module
from test_gpu_kernel_simt import attnflow_opt  # noqa: F401 (fixture)

pytestmark = pytest.mark.compiled

PASS = "--convert-linear-recurrence-to-gpu"
REL_TOL = {"float64": 1e-12, "f32": 1e-4}

# name: (B, T, N, dense, h0, reverse, element_type, float_mode)
CASES = {
    "diag": (2, 37, 5, False, False, False, "f32", "float64"),
    "diag_h0_reverse": (1, 50, 40, False, True, True, "f32", "float64"),
    "diag_short": (1, 3, 33, False, True, False, "f16", "f32"),
    "dense": (1, 70, 3, True, True, False, "f32", "float64"),
    "dense_reverse_bf16": (2, 65, 4, True, False, True, "bf16", "f32"),
    "dense_short": (1, 10, 2, True, True, True, "f32", "float64"),
    "dense_12_reverse": (1, 45, 12, True, True, True, "f32", "float64"),
}


def operands(case, seed=0):
    batch, length, n, dense, with_h0, _, element_type, _ = case
    rng = np.random.default_rng(seed)
    if dense:
        a = rng.standard_normal((batch, length, n, n))
        a *= 0.9 / np.linalg.norm(a, ord=2, axis=(2, 3))[..., None, None]
    else:
        a = rng.uniform(-1.0, 1.0, (batch, length, n))
    b = rng.standard_normal((batch, length, n))
    h0 = rng.standard_normal((batch, n)) if with_h0 else None
    ops = [as_element_type(x, element_type) for x in (a, b)]
    if h0 is not None:
        ops.append(as_element_type(h0, element_type))
    return ops


def lower(opt, module):
    proc = subprocess.run([opt, PASS, "--cse", "--mlir-print-op-generic"],
                          input=module, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def kernel_of(opt, case):
    batch, length, n, dense, with_h0, reverse, element_type, _ = case
    a_shape = (batch, length, n, n) if dense else (batch, length, n)
    return lower(opt, recurrence_module(a_shape, (batch, length, n),
                                        element_type, with_h0, reverse))


@pytest.mark.parametrize("name", list(CASES))
def test_kernel_matches_reference(name, attnflow_opt):  # noqa: F811
    case = CASES[name]
    batch, length, n, dense, with_h0, reverse, element_type, float_mode = case
    kernel = kernel_of(attnflow_opt, case)
    assert "attnflow." not in kernel
    inputs = operands(case)
    run = simt.interpret(kernel, inputs, float_mode=float_mode)
    assert not run.issues, "\n".join(issue.message for issue in run.issues)
    assert np.all(run.write_counts[0] == 1)
    expected = ([(1, batch, 1), (64 if n <= 8 else 32, 1, 1)] if dense
                else [(-(-n // 32), batch, 1), (256, 1, 1)])
    assert [[tuple(launch.grid), tuple(launch.block)]
            for launch in run.launches] == [expected]
    ref = R.linear_recurrence(inputs[0], inputs[1],
                              inputs[2] if with_h0 else None, reverse)
    got = run.outputs[0]
    tol = (REL_TOL[float_mode] * (1 + np.abs(ref))
           + UNIT_ROUNDOFF[element_type] * np.abs(ref))
    err = np.abs(got - ref)
    assert np.all(err <= tol), f"max err {err.max():.3e}"


@pytest.mark.parametrize("name", ["diag_h0_reverse", "dense"])
def test_deleted_barriers_are_reported(name, attnflow_opt):  # noqa: F811
    kernel = kernel_of(attnflow_opt, CASES[name])
    barriers = [m.start() for m in re.finditer(r'"gpu\.barrier"\(\)', kernel)]
    assert len(barriers) == 2
    for start in barriers:
        mutant = kernel[:start] + kernel[start:].replace('"gpu.barrier"() : () -> ()', "", 1)
        run = simt.interpret(mutant, operands(CASES[name]))
        assert run.issues, f"deleting the barrier at {start} went unnoticed"


def test_dense_large_state_is_diagnosed(attnflow_opt):  # noqa: F811
    module = recurrence_module((1, 4, 17, 17), (1, 4, 17), "f32")
    proc = subprocess.run([attnflow_opt, PASS], input=module,
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert ("on the GPU supports dense a with N <= 16 (the per-thread N x N "
            "chunk product), got N = 17") in proc.stderr
