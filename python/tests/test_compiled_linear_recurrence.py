"""attnflow.linear_recurrence compiled for the CPU against float64 references:
closed forms of scalar recurrences (geometric sums, alternating signs, a
rotation), the chunked scan (--attnflow-chunk-linear-recurrence, in the CPU
pipeline) with chunk sizes that do not divide T, a hierarchical carry scan
(T > chunk^2), diagonal vs dense-with-diagonal-matrices vs reversed vs h0,
f16 / bf16 / f32 / f64, and the sequential reference decomposition (the
oracle, --convert-attnflow-to-linalg before the pipeline).

Tolerance: |err| <= 1e-4 (1 + |ref|) plus the output rounding of f16 / bf16
(_helpers.assert_close); |a| <= 1 keeps the states bounded, so f32
accumulation over T steps stays well inside it. f64 is checked to 1e-12.
"""

import os
import subprocess

import numpy as np
import pytest

import attnflow
from attnflow import ir, reference as R
from attnflow.runner import find_attnflow_run

from _helpers import as_element_type, assert_close

pytestmark = pytest.mark.compiled

PASS = "attnflow-chunk-linear-recurrence"


def recurrence_module(a_shape, b_shape, element_type, h0=False, reverse=False):
    types = [ir.tensor_type(a_shape, element_type),
             ir.tensor_type(b_shape, element_type)]
    if h0:
        types.append(ir.tensor_type((b_shape[0], b_shape[2]), element_type))
    out = types[1]
    args = ", ".join(f"%a{i}: {t}" for i, t in enumerate(types))
    operands = ", ".join(f"%a{i}" for i in range(len(types)))
    attrs = " {reverse = true}" if reverse else ""
    return (f"func.func @main({args}) -> {out} {{\n"
            f"  %h = attnflow.linear_recurrence {operands}{attrs} : "
            f"{', '.join(types)} -> {out}\n"
            f"  return %h : {out}\n}}\n")


def lower(text, flags):
    """attnflow-opt with `flags` (the pipeline's own run then finds no
    linear_recurrence)."""
    opt = os.path.join(os.path.dirname(find_attnflow_run()), "attnflow-opt")
    proc = subprocess.run([opt, "-", *flags], input=text, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "attnflow.linear_recurrence" not in proc.stdout
    return proc.stdout


def run(a, b, element_type, h0=None, reverse=False, flags=()):
    text = recurrence_module(a.shape, b.shape, element_type, h0 is not None,
                             reverse)
    if flags:
        text = lower(text, flags)
    inputs = [a, b] + ([h0] if h0 is not None else [])
    (out,) = attnflow.run(text, inputs)
    return out


def check(got, ref, element_type, what):
    if element_type == "f64":
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12,
                                   err_msg=what)
    else:
        assert_close(got, ref, element_type, what)


def test_reference_closed_forms():
    """The float64 reference itself against closed forms."""
    t = np.arange(50)
    a = np.full((1, 50, 1), 0.9)
    h = R.linear_recurrence(a, np.ones((1, 50, 1)))
    np.testing.assert_allclose(h[0, :, 0], (1 - 0.9 ** (t + 1)) / 0.1,
                               rtol=1e-13)
    h = R.linear_recurrence(a, np.ones((1, 50, 1)), np.full((1, 1), 5.0),
                            reverse=True)
    s = 49 - t
    np.testing.assert_allclose(h[0, :, 0], 5 * 0.9 ** (s + 1)
                               + (1 - 0.9 ** (s + 1)) / 0.1, rtol=1e-13)


@pytest.mark.parametrize("flags", [(), (f"--{PASS}=chunk-size=7",),
                                   ("--convert-attnflow-to-linalg",)],
                         ids=["pipeline", "chunk7", "oracle"])
@pytest.mark.parametrize("element_type", ["f32", "f64"])
def test_geometric_and_alternating(flags, element_type):
    """a = r (constant), b = 1, h0 = 0: h_t = (1 - r^(t+1)) / (1 - r); for
    r = -1 that is 1, 0, 1, 0, ...; for r = 0, h_t = 1; r = 1 counts t + 1."""
    T = 1500
    rs = np.array([0.999, -1.0, 0.0, 1.0, 0.5])
    a = np.broadcast_to(rs, (1, T, rs.size)).copy()
    b = np.ones((1, T, rs.size))
    t = np.arange(T)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = np.where(rs == 1.0, t + 1.0,
                          (1 - rs ** (t + 1)) / np.where(rs == 1.0, 1, 1 - rs))
    got = run(as_element_type(a, element_type),
              as_element_type(b, element_type), element_type, flags=flags)
    check(got[0], closed, element_type, f"closed form {flags}")


@pytest.mark.parametrize("flags", [(), (f"--{PASS}=chunk-size=5",),
                                   ("--convert-attnflow-to-linalg",)],
                         ids=["pipeline", "chunk5", "oracle"])
def test_dense_rotation(flags):
    """A rotation by 0.01 per step: h_t = (cos 0.01(t+1), sin 0.01(t+1))."""
    T, theta = 1200, 0.01
    c, s = np.cos(theta), np.sin(theta)
    a = np.broadcast_to(np.array([[c, -s], [s, c]]), (1, T, 2, 2)).copy()
    h0 = np.array([[1.0, 0.0]])
    got = run(a, np.zeros((1, T, 2)), "f64", h0=h0, flags=flags)
    angle = theta * (np.arange(T) + 1)
    np.testing.assert_allclose(got[0], np.stack([np.cos(angle),
                                                 np.sin(angle)], -1),
                               rtol=0, atol=1e-12)


GRID = [
    # (B, T, N, dense, chunk flag or None)
    (2, 37, 5, False, 8),
    (1, 1000, 33, False, 64),
    (3, 100, 3, True, 9),
    (1, 2049, 4, True, None),
    (2, 300, 1, False, 7),
    (1, 400, 16, True, 17),
    (1, 250, 17, True, None),   # dense N > 16: the reference path
    (1, 5000, 2, False, 6),     # T > chunk^2: the carries are chunked again
]


@pytest.mark.parametrize("element_type", ["f32", "f16", "bf16", "f64"])
@pytest.mark.parametrize("with_h0,reverse", [(False, False), (True, False),
                                             (True, True)])
@pytest.mark.parametrize("B,T,N,dense,chunk", GRID)
def test_random_grid(B, T, N, dense, chunk, with_h0, reverse, element_type):
    rng = np.random.default_rng(B * 1000 + T + N)
    if dense:
        # Spectral norm <= 0.95: states stay O(1) over any T.
        a = rng.standard_normal((B, T, N, N))
        a *= 0.95 / np.linalg.norm(a, ord=2, axis=(2, 3))[..., None, None]
    else:
        a = rng.uniform(-1.0, 1.0, (B, T, N))
    a = as_element_type(a, element_type)
    b = as_element_type(rng.standard_normal((B, T, N)), element_type)
    h0 = (as_element_type(rng.standard_normal((B, N)), element_type)
          if with_h0 else None)
    flags = (f"--{PASS}=chunk-size={chunk}",) if chunk else ()
    got = run(a, b, element_type, h0, reverse, flags)
    ref = R.linear_recurrence(a, b, h0, reverse)
    check(got, ref, element_type, f"B={B} T={T} N={N} dense={dense}")


@pytest.mark.parametrize("reverse", [False, True])
def test_diagonal_equals_dense_diagonal_matrices(reverse):
    """A diagonal recurrence and the dense one with diag(a_t) agree, and
    reversing equals flipping time on both sides."""
    rng = np.random.default_rng(7)
    B, T, N = 2, 333, 6
    a = rng.uniform(-1.0, 1.0, (B, T, N)).astype(np.float32)
    b = rng.standard_normal((B, T, N)).astype(np.float32)
    h0 = rng.standard_normal((B, N)).astype(np.float32)
    dense = np.zeros((B, T, N, N), np.float32)
    idx = np.arange(N)
    dense[:, :, idx, idx] = a
    flags = (f"--{PASS}=chunk-size=50",)
    diag = run(a, b, "f32", h0, reverse, flags)
    full = run(dense, b, "f32", h0, reverse, flags)
    np.testing.assert_allclose(diag, full, rtol=1e-5, atol=1e-5)
    flipped = run(a[:, ::-1].copy(), b[:, ::-1].copy(), "f32", h0,
                  not reverse, flags)
    np.testing.assert_allclose(diag, flipped[:, ::-1], rtol=1e-5, atol=1e-5)
