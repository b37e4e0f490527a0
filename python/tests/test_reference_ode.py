"""The float64 ODE reference (attnflow.reference.ode_solve / ode_step) and
attnflow.flow's MLP velocity against closed forms, no compiler involved."""

import math

import numpy as np
import pytest

from attnflow import flow, reference

METHODS = ("euler", "midpoint", "heun", "rk4")


@pytest.mark.parametrize("method", METHODS)
def test_stability_polynomial(method):
    """For x' = a x one step multiplies x by R(a h): 1 + z, 1 + z + z^2/2
    (midpoint and Heun), or the degree-4 Taylor polynomial (RK4)."""
    a, h, x = -0.7, 0.3, 1.5
    z = a * h
    r = {"euler": 1 + z, "midpoint": 1 + z + z * z / 2,
         "heun": 1 + z + z * z / 2,
         "rk4": 1 + z + z * z / 2 + z ** 3 / 6 + z ** 4 / 24}[method]
    got = reference.ode_step(lambda y, t: a * y, np.array(x), 0.0, h, method)
    assert got == pytest.approx(x * r, rel=1e-15)


@pytest.mark.parametrize("method,order", [("euler", 1), ("midpoint", 2),
                                          ("heun", 2), ("rk4", 4)])
def test_reference_order(method, order):
    """x' = cos(t) x, x(2) = e^(sin 2): observed order from 32 / 64 steps."""
    errors = [abs(reference.ode_solve(lambda y, t: math.cos(t) * y,
                                      np.array(1.0), method, t1=2.0,
                                      num_steps=n) - math.exp(math.sin(2.0)))
              for n in (32, 64)]
    assert math.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.1)


def test_time_grid():
    np.testing.assert_array_equal(reference.ode_time_grid(num_steps=4),
                                  [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(
        reference.ode_time_grid(t0=1.0, t1=0.0, num_steps=2), [1.0, 0.5, 0.0])
    for bad in ({"time_grid": [0.0, 0.5, 0.5]}, {"num_steps": 0},
                {"time_grid": [0.0, 1.0], "num_steps": 2},
                {"time_grid": [0.0, 1.0], "t1": 2.0}):
        with pytest.raises(ValueError):
            reference.ode_time_grid(**bad)


def test_trajectory_rows():
    traj = reference.ode_solve(lambda y, t: np.ones_like(y), np.zeros(2),
                               "euler", time_grid=[0.0, 0.1, 0.5],
                               return_trajectory=True)
    np.testing.assert_allclose(traj, [[0, 0], [0.1, 0.1], [0.5, 0.5]])


def test_guidance_combination():
    """w = 0 gives the unconditional branch, w = 1 the conditional one, and
    v is affine in w (v_u + w (v_c - v_u))."""
    rng = np.random.default_rng(0)
    params = flow.mlp_params(rng, 3, 5, 2)
    x = rng.standard_normal((2, 3))
    v = {w: flow.mlp_velocity(x, 0.3, *params, guidance=w) for w in (0.0, 1.0, 2.5)}
    wx, wt, emb, b1, w2, b2, w3, b3 = [p.astype(np.float64) for p in params]

    def silu(z):
        return z / (1 + np.exp(-z))
    a = x @ wx + 0.3 * wt + b1
    v_c = silu(silu(a + emb) @ w2 + b2) @ w3 + b3
    v_u = silu(silu(a) @ w2 + b2) @ w3 + b3
    np.testing.assert_allclose(v[0.0], v_u, rtol=1e-14)
    np.testing.assert_allclose(v[1.0], v_c, rtol=1e-14)
    np.testing.assert_allclose(v[2.5], v_u + 2.5 * (v_c - v_u), rtol=1e-12)
