"""Shared test utilities: seeded inputs, low-precision rounding and the
tolerance checks of the compiled-vs-reference comparisons."""

import numpy as np

# Unit roundoff (half an ulp, relative) of each output element type.
UNIT_ROUNDOFF = {"f32": 0.0, "f64": 0.0, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}

# Tolerance of an f32 computation: |err| <= F32_TOL * (1 + |ref|).
F32_TOL = 1e-4


def round_bf16(x):
    """Rounds to the nearest bfloat16 (ties to even); returns float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return bits.astype(np.uint32).view(np.float32)


def as_element_type(x, element_type):
    """x rounded to element_type, as the numpy array the runner passes:
    f16 -> float16, bf16 -> float32 holding bf16 values, f32, f64."""
    if element_type == "bf16":
        return round_bf16(x)
    return np.asarray(x).astype({"f16": np.float16, "f32": np.float32,
                                 "f64": np.float64}[element_type])


def randn(rng, shape, element_type="f32"):
    """N(0, 1) samples rounded to element_type."""
    return as_element_type(rng.standard_normal(shape), element_type)


def assert_close(got, ref, element_type="f32", what=""):
    """Checks |got - ref| <= 1e-4 (1 + |ref|) + u |ref|, u the unit roundoff
    of element_type (0 for f32/f64; 2^-11 for f16, 2^-8 for bf16): an f32
    computation's error plus the rounding of the output to element_type.
    ref must be computed on the already-rounded inputs."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    assert np.all(np.isfinite(got)), f"{what}: non-finite output"
    u = UNIT_ROUNDOFF[element_type]
    err = np.abs(got - ref)
    tol = F32_TOL * (1 + np.abs(ref)) + u * np.abs(ref)
    if np.all(err <= tol):
        return
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    raise AssertionError(
        f"{what}: {np.count_nonzero(err > tol)}/{err.size} elements out of "
        f"tolerance; max |err| = {err.max():.3e}, worst at {worst}: "
        f"got {got[worst]!r}, ref {ref[worst]!r}, tol {tol[worst]:.3e}")
