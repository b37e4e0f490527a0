"""attnflow.ode_solve / attnflow.ode_step compiled by attnflow-run against
closed-form solutions and the float64 reference integrators
(attnflow.reference.ode_solve / ode_step), DESIGN §3."""

import math

import numpy as np
import pytest

from attnflow import flow, reference, run
from attnflow.ir import tensor_type

from _helpers import as_element_type

pytestmark = pytest.mark.compiled

METHODS = ("euler", "midpoint", "heun", "rk4")
ORDER = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


def elementwise_body(shape, element_type, num_params, lines, result):
    """A velocity region body: one elementwise linalg.generic over x and
    `num_params` params of x's shape. In its body %cx is x, %c0.. the params
    and %ct the time, all in the compute type (f64 for f64 states, else f32,
    so f16 / bf16 states use f32 arithmetic); `lines` compute `result`."""
    state = tensor_type(shape, element_type)
    compute = "f64" if element_type == "f64" else "f32"
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    ident = f"affine_map<({dims}) -> ({dims})>"
    maps = ", ".join([ident] * (num_params + 2))
    iters = ", ".join(['"parallel"'] * rank)
    params = [f"%p{i}" for i in range(num_params)]
    p_type = tensor_type(shape, compute)
    ins = ", ".join(["%x"] + params)
    ins_types = ", ".join([state] + [p_type] * num_params)
    args = ", ".join([f"%bx: {element_type}"]
                     + [f"%c{i}: {compute}" for i in range(num_params)]
                     + [f"%o: {element_type}"])
    body = []
    body.append(f"%cx = arith.extf %bx : {element_type} to {compute}"
                if element_type != compute else "%cx = arith.addf %bx, %zero : f64"
                if compute == "f64" else "%cx = arith.addf %bx, %zero : f32")
    body.append("%ct = arith.extf %t : f32 to f64" if compute == "f64"
                else "%ct = arith.addf %t, %tzero : f32")
    body += lines
    out = result
    if element_type != compute:
        body.append(f"%rr = arith.truncf {result} : {compute} to {element_type}")
        out = "%rr"
    text = [f"%zero = arith.constant 0.0 : {compute}",
            "%tzero = arith.constant 0.0 : f32",
            f"%e = tensor.empty() : {state}",
            f"%v = linalg.generic {{indexing_maps = [{maps}], iterator_types = [{iters}]}} "
            f"ins({ins} : {ins_types}) outs(%e : {state}) {{",
            f"^bb0({args}):"]
    text += ["  " + line for line in body]
    text += [f"  linalg.yield {out} : {element_type}", f"}} -> {state}",
             f"attnflow.yield %v : {state}"]
    return "\n".join(text), [p_type] * num_params


def solve(shape, element_type, num_params, lines, result, inputs, **attrs):
    body, p_types = elementwise_body(shape, element_type, num_params, lines, result)
    module = flow.ode_solve_module((shape, element_type), body, p_types, **attrs)
    return run(module, inputs)[0].astype(np.float64)


# x' = a x (elementwise rate a, a param).
LINEAR = (["%r = arith.mulf %c0, %cx : {c}"], "%r")
# x' = t x.
TIME_LINEAR = (["%r = arith.mulf %ct, %cx : {c}"], "%r")
# x' = t (independent of x).
TIME = (["%r = arith.addf %ct, %zero : {c}"], "%r")


def _lines(kind, element_type):
    compute = "f64" if element_type == "f64" else "f32"
    return [line.format(c=compute) for line in kind[0]], kind[1]


@pytest.mark.parametrize("element_type", ["f32", "f64"])
@pytest.mark.parametrize("method", METHODS)
def test_linear_decay_closed_form(method, element_type):
    """x' = a x from 0 to 1: x(1) = x0 exp(a); the compiled solve equals the
    reference integrator and approaches the closed form within the method's
    error (C h^p)."""
    rng = np.random.default_rng(1)
    shape, steps = (3, 4), 16
    x0 = rng.standard_normal(shape)
    a = rng.uniform(-2.0, 1.0, shape)
    ctype = np.float64 if element_type == "f64" else np.float32
    x0c, ac = x0.astype(ctype), a.astype(ctype)
    lines, res = _lines(LINEAR, element_type)
    got = solve(shape, element_type, 1, lines, res, [x0c, ac], method=method,
                num_steps=steps)
    ref = reference.ode_solve(lambda x, t, r: r * x, x0c, method,
                              num_steps=steps, params=(ac,))
    exact = x0c * np.exp(ac.astype(np.float64))
    tol = 1e-12 if element_type == "f64" else 2e-6
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)
    bound = 8.0 * (1.0 / steps) ** ORDER[method] * np.exp(2.0) * np.abs(x0c)
    assert np.all(np.abs(got - exact) <= bound + 1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_rotation_closed_form(method):
    """x' = A x, A = [[0, -w], [w, 0]]: x(T) = R(w T) x0 (a matvec inside the
    region, a param matrix); 64 steps of each method against the rotation,
    with the method's error bound, and the reference exactly."""
    w, t1, steps = 3.0, 2.0, 64
    A = np.array([[0.0, -w], [w, 0.0]])
    x0 = np.array([1.0, 0.5])
    body = "\n".join([
        "%zero = arith.constant 0.0 : f64",
        "%e = tensor.empty() : tensor<2xf64>",
        "%z = linalg.fill ins(%zero : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>",
        "%v = linalg.matvec ins(%p0, %x : tensor<2x2xf64>, tensor<2xf64>) "
        "outs(%z : tensor<2xf64>) -> tensor<2xf64>",
        "attnflow.yield %v : tensor<2xf64>"])
    module = flow.ode_solve_module(((2,), "f64"), body, ["tensor<2x2xf64>"],
                                   method=method, num_steps=steps, t1=t1)
    got = run(module, [x0, A])[0]
    c, s = math.cos(w * t1), math.sin(w * t1)
    exact = np.array([[c, -s], [s, c]]) @ x0
    ref = reference.ode_solve(lambda x, t, m: m @ x, x0, method, t1=t1,
                              num_steps=steps, params=(A,))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    h = t1 / steps
    bound = {"euler": 3.0, "midpoint": 0.2, "heun": 0.2, "rk4": 0.01}[method]
    assert np.max(np.abs(got - exact)) <= bound * (w * h) ** ORDER[method] * w * t1


@pytest.mark.parametrize("method", METHODS)
def test_time_velocity_closed_form(method):
    """x' = t from t0 = 0.5 to t1 = 2: x = x0 + (t1^2 - t0^2) / 2 exactly for
    the order-2 and order-4 methods; Euler gives the left Riemann sum
    x0 + h sum t_n."""
    x0 = np.array([1.0, -2.0, 0.25])
    t0, t1, steps = 0.5, 2.0, 6
    lines, res = _lines(TIME, "f64")
    got = solve((3,), "f64", 0, lines, res, [x0], method=method, t0=t0, t1=t1,
                num_steps=steps)
    h = (t1 - t0) / steps
    if method == "euler":
        exact = x0 + h * sum(t0 + n * h for n in range(steps))
    else:
        exact = x0 + (t1 ** 2 - t0 ** 2) / 2
    # t reaches the region as f32: t0 + n h rounded to f32.
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-7)


@pytest.mark.parametrize("method", METHODS)
def test_convergence_order(method):
    """Observed order log2(e(h) / e(h/2)) of x' = t x, x(1) = x0 e^(1/2), in
    f64 state from 4, 8, 16 steps (stage times c h are exact in f32):
    1 / 2 / 2 / 4 within 0.25."""
    x0 = np.array([1.0, -0.5])
    lines, res = _lines(TIME_LINEAR, "f64")
    exact = x0 * math.exp(0.5)
    errors = []
    for steps in (4, 8, 16):
        got = solve((2,), "f64", 0, lines, res, [x0], method=method,
                    num_steps=steps)
        errors.append(np.max(np.abs(got - exact)))
    orders = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    for order in orders:
        assert abs(order - ORDER[method]) <= 0.25, (errors, orders)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("grid", [[0.0, 0.1, 0.35, 0.5, 0.9, 1.0],
                                  [1.0, 0.75, 0.3, 0.0]],
                         ids=["nonuniform", "decreasing"])
def test_explicit_grid_trajectory(method, grid):
    """An explicit (non-uniform, or decreasing = backwards) time_grid with
    return_trajectory: every row equals the reference trajectory (x0 first)."""
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((2, 3))
    lines, res = _lines(TIME_LINEAR, "f64")
    got = solve((2, 3), "f64", 0, lines, res, [x0], method=method,
                time_grid=grid, return_trajectory=True)
    ref = reference.ode_solve(lambda x, t: t * x, x0, method, time_grid=grid,
                              return_trajectory=True)
    assert got.shape == (len(grid), 2, 3)
    # Times reach the region rounded to f32 (relative 2^-24).
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(got[0], x0)


def test_uniform_backwards():
    """t0 = 1 > t1 = 0 integrates backwards: x' = t x gives x0 e^(-1/2)."""
    x0 = np.array([2.0, 3.0])
    lines, res = _lines(TIME_LINEAR, "f64")
    got = solve((2,), "f64", 0, lines, res, [x0], method="rk4", t0=1.0, t1=0.0,
                num_steps=16)
    ref = reference.ode_solve(lambda x, t: t * x, x0, "rk4", t0=1.0, t1=0.0,
                              num_steps=16)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    # RK4's global error at h = 1/16 is ~2e-8 here.
    np.testing.assert_allclose(got, x0 * math.exp(-0.5), rtol=1e-7)


@pytest.mark.parametrize("method,steps", [("euler", 1), ("euler", 5),
                                          ("midpoint", 3)])
def test_straight_velocity_exact(method, steps):
    """The rectified-flow property: v(x, t) = (p - x) / (1 - t) is constant
    along each straight path x_t = x0 + t (p - x0), so one Euler step (or
    any number, or midpoint) from 0 to 1 lands exactly on p."""
    rng = np.random.default_rng(3)
    x0, p = rng.standard_normal((4,)), rng.standard_normal((4,))
    lines = ["%one = arith.constant 1.0 : f64",
             "%d = arith.subf %c0, %cx : f64",
             "%s = arith.subf %one, %ct : f64",
             "%r = arith.divf %d, %s : f64"]
    got = solve((4,), "f64", 1, lines, "%r", [x0, p], method=method,
                num_steps=steps)
    # One step never evaluates past t = 0; more steps pass t_n = n / steps to
    # the region rounded to f32, which 1 / (1 - t) amplifies to ~1e-7.
    np.testing.assert_allclose(got, p, rtol=0, atol=1e-12 if steps == 1 else 1e-6)


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_low_precision_state(method, element_type):
    """f16 / bf16 state, f32 arithmetic in the velocity and the step
    combinations, rounded between stages and steps: within the accumulated
    rounding (steps x unit roundoff) of the float64 reference."""
    rng = np.random.default_rng(4)
    shape, steps = (4, 8), 8
    x0 = as_element_type(rng.standard_normal(shape), element_type)
    a = rng.uniform(-1.0, 0.5, shape).astype(np.float32)
    lines, res = _lines(LINEAR, element_type)
    got = solve(shape, element_type, 1, lines, res, [x0, a], method=method,
                num_steps=steps)
    ref = reference.ode_solve(lambda x, t, r: r * x, x0.astype(np.float64),
                              method, num_steps=steps,
                              params=(a.astype(np.float64),))
    u = {"f16": 2.0 ** -11, "bf16": 2.0 ** -8}[element_type]
    stages = {"euler": 1, "rk4": 4}[method]
    tol = (steps * stages + 1) * u * (1 + np.abs(ref))
    assert np.all(np.abs(got - ref) <= tol)


@pytest.mark.parametrize("element_type", ["f32", "f64"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("t,dt", [(0.25, 0.125), (0.75, -0.3)])
def test_ode_step(method, element_type, t, dt):
    """One ode_step of x' = a x + t (params a) at runtime t, dt (negative dt
    steps backwards) equals reference.ode_step."""
    rng = np.random.default_rng(5)
    shape = (5,)
    ctype = np.float64 if element_type == "f64" else np.float32
    x0 = rng.standard_normal(shape).astype(ctype)
    a = rng.uniform(-1.0, 1.0, shape).astype(ctype)
    compute = "f64" if element_type == "f64" else "f32"
    lines = [f"%m = arith.mulf %c0, %cx : {compute}",
             f"%r = arith.addf %m, %ct : {compute}"]
    body, p_types = elementwise_body(shape, element_type, 1, lines, "%r")
    module = flow.ode_solve_module((shape, element_type), body, p_types,
                                   step=True, method=method)
    got = run(module, [x0, np.float32(t), np.float32(dt), a])[0]
    tf, dtf = float(np.float32(t)), float(np.float32(dt))
    ref = reference.ode_step(lambda x, s, r: r * x + s, x0, tf, dtf, method,
                             params=(a,))
    # Stage times t + c dt reach the region rounded to f32 (2^-24 relative).
    tol = 1e-7 if element_type == "f64" else 1e-6
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("method,steps", [("euler", 8), ("rk4", 4),
                                          ("heun", 3)])
def test_guided_mlp_sampler(method, steps):
    """flow.sampler_module (a 2-hidden-layer SiLU MLP velocity with
    classifier-free guidance w = 2.5 inside the region) against
    reference.ode_solve of flow.mlp_velocity."""
    rng = np.random.default_rng(6)
    batch, dim, hidden, w = 6, 3, 16, 2.5
    params = flow.mlp_params(rng, dim, hidden, batch)
    x0 = rng.standard_normal((batch, dim)).astype(np.float32)
    module = flow.sampler_module(batch, dim, hidden, w, method=method,
                                 num_steps=steps)
    got = run(module, [x0, *params])[0]
    ref = reference.ode_solve(
        lambda x, t, *p: flow.mlp_velocity(x, t, *p, guidance=w), x0, method,
        num_steps=steps, params=params)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)


def test_guided_mlp_sampler_f16_state():
    """The sampler with an f16 state (network in f32, v and x rounded)."""
    rng = np.random.default_rng(7)
    batch, dim, hidden, w = 4, 2, 8, 1.5
    params = flow.mlp_params(rng, dim, hidden, batch)
    x0 = rng.standard_normal((batch, dim)).astype(np.float16)
    module = flow.sampler_module(batch, dim, hidden, w, element_type="f16",
                                 method="euler", num_steps=8)
    got = run(module, [x0, *params])[0].astype(np.float64)
    ref = reference.ode_solve(
        lambda x, t, *p: flow.mlp_velocity(x, t, *p, guidance=w),
        x0.astype(np.float64), "euler", num_steps=8, params=params)
    assert np.all(np.abs(got - ref) <= 17 * 2.0 ** -11 * (1 + np.abs(ref)))
