"""attnflow.rnn_solve with method newton (DEER) and quasi_newton, compiled
for the CPU, against the float64 reference (DESIGN §3): the sequential
recurrence written from the cell's formulas (reference.rnn_sequential) and
the same Newton iteration (reference.rnn_deer, analytic Jacobians from
_rnn_cells.py). The compiled solves derive the cell's Jacobian themselves
(forward mode) unless a ``jacobian`` region is given."""

import numpy as np
import pytest

import attnflow
from attnflow import reference as R

import _rnn_cells as cells
from _helpers import as_element_type

pytestmark = pytest.mark.compiled


def sequential(cell, h0, u, params):
    return R.rnn_sequential(lambda h, ut, *p: cell.f(h[None], ut[None], *p)[0],
                            h0, u, params)


def tanh_rnn_problem(rho, batch=1, steps=1000, n=4, m=4, seed=1):
    """A tanh RNN whose recurrent weights have spectral radius rho."""
    rng = np.random.default_rng(seed)
    cell = cells.tanh_rnn(n, m)
    w, uw, b = cells.weights(rng, cell)
    w *= rho / np.max(np.abs(np.linalg.eigvals(w)))
    h0 = rng.standard_normal((batch, n))
    u = rng.standard_normal((batch, steps, m))
    return cell, h0, u, (w, uw, b)


def run(cell, method, h0, u, params, **attrs):
    (batch, n), (_, steps, m) = h0.shape, u.shape
    module = cells.rnn_solve_module(cell, method, batch, steps, n, m, **attrs)
    states, iters = attnflow.run(module, [h0, u, *params])
    return states, int(iters)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_deer_tanh_rnn_converges_quadratically(rho):
    cell, h0, u, params = tanh_rnn_problem(rho)
    seq = sequential(cell, h0, u, params)
    ref, ref_iters = R.rnn_deer(cell.f, cell.jacobian, h0, u, params,
                                method="newton", tolerance=1e-10)
    states, iters = run(cell, "newton", h0, u, params, tolerance=1e-10)
    assert iters == ref_iters <= 8, (iters, ref_iters)
    np.testing.assert_allclose(states, seq, rtol=0, atol=1e-10)
    # The error after each of the first k updates (max_iterations = k).
    errors = []
    for k in range(1, iters):
        states_k, iters_k = run(cell, "newton", h0, u, params,
                                max_iterations=k, tolerance=1e-10)
        assert iters_k == k
        ref_k, _ = R.rnn_deer(cell.f, cell.jacobian, h0, u, params,
                              method="newton", max_iterations=k, tolerance=1e-10)
        np.testing.assert_allclose(states_k, ref_k, rtol=0, atol=1e-9)
        errors.append(float(np.max(np.abs(states_k - seq))))
    print(f"rho = {rho}: max |h^(k) - h| for k = 1..{iters - 1}: "
          + ", ".join(f"{e:.1e}" for e in errors))
    # Quadratic convergence: once within 0.5, each error is below the square
    # of the previous one (until float64 round-off).
    close = [(a, b) for a, b in zip(errors, errors[1:]) if a < 0.5 and b > 1e-13]
    assert len(close) >= 2, errors
    for previous, current in close:
        assert current <= previous ** 2, errors


def test_quasi_newton_converges_in_more_iterations():
    cell, h0, u, params = tanh_rnn_problem(0.5, batch=2, steps=300)
    seq = sequential(cell, h0, u, params)
    _, newton_iters = run(cell, "newton", h0, u, params, tolerance=1e-8)
    states, iters = run(cell, "quasi_newton", h0, u, params, tolerance=1e-8,
                        max_iterations=64)
    _, ref_iters = R.rnn_deer(cell.f, cell.jacobian, h0, u, params,
                              method="quasi_newton", tolerance=1e-8,
                              max_iterations=64)
    assert iters == ref_iters
    assert newton_iters < iters < 64, (newton_iters, iters)
    # The last update changed the states by <= 1e-8; convergence is linear
    # (ratio <= ~0.5 here), so the error is of the same order.
    np.testing.assert_allclose(states, seq, rtol=0, atol=1e-7)


def test_deer_gru_matches_sequential():
    n, m = 8, 3
    rng = np.random.default_rng(3)
    cell = cells.gru(n, m)
    params = cells.weights(rng, cell)
    h0 = rng.standard_normal((2, n))
    u = rng.standard_normal((2, 500, m))
    seq = sequential(cell, h0, u, params)
    states, iters = run(cell, "newton", h0, u, params, tolerance=1e-9)
    _, ref_iters = R.rnn_deer(cell.f, cell.jacobian, h0, u, params,
                              method="newton", tolerance=1e-9)
    assert iters == ref_iters <= 12
    np.testing.assert_allclose(states, seq, rtol=0, atol=1e-9)


def test_deer_f32_tanh_rnn():
    cell, h0, u, params = tanh_rnn_problem(0.9, batch=2, steps=1000)
    f32_cell = cells.tanh_rnn(4, 4, "f32")
    seq = sequential(cell, h0.astype(np.float32), u.astype(np.float32),
                     [p.astype(np.float32) for p in params])
    states, iters = run(f32_cell, "newton", h0, u, params, t="f32")
    assert iters <= 10
    np.testing.assert_allclose(states, seq, rtol=0, atol=1e-5)


def test_not_converging_reports_max_iterations():
    # Three Newton updates cannot solve 1000 steps of a spectral-radius-0.9
    # RNN to tolerance 0: the op returns the third iterate and iters = 3.
    cell, h0, u, params = tanh_rnn_problem(0.9)
    states, iters = run(cell, "newton", h0, u, params, max_iterations=3,
                        tolerance=0.0)
    assert iters == 3
    ref, ref_iters = R.rnn_deer(cell.f, cell.jacobian, h0, u, params,
                                method="newton", max_iterations=3, tolerance=0.0)
    assert ref_iters == 3
    np.testing.assert_allclose(states, ref, rtol=0, atol=1e-9)
    assert np.max(np.abs(states - sequential(cell, h0, u, params))) > 1e-3


# h' = 0.5 sin(W h) + u: math.sin has no derivation rule, so the Jacobian
# comes from a jacobian region, diag(0.5 cos(W h)) W.
SIN_BODY = """
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<3xf64>
  %z = linalg.fill ins(%zero : f64) outs(%e : tensor<3xf64>) -> tensor<3xf64>
  %wh = linalg.matvec ins(%w, %h : tensor<3x3xf64>, tensor<3xf64>) outs(%z : tensor<3xf64>) -> tensor<3xf64>
  %s = math.sin %wh : tensor<3xf64>
  %half = arith.constant dense<0.5> : tensor<3xf64>
  %hs = arith.mulf %half, %s : tensor<3xf64>
  %out = arith.addf %hs, %u : tensor<3xf64>
"""
SIN_JACOBIAN = """
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<3xf64>
  %z = linalg.fill ins(%zero : f64) outs(%e : tensor<3xf64>) -> tensor<3xf64>
  %wh = linalg.matvec ins(%w, %h : tensor<3x3xf64>, tensor<3xf64>) outs(%z : tensor<3xf64>) -> tensor<3xf64>
  %e2 = tensor.empty() : tensor<3x3xf64>
  %jac = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>,
                                          affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%wh, %w : tensor<3xf64>, tensor<3x3xf64>) outs(%e2 : tensor<3x3xf64>) {
  ^bb0(%a: f64, %wij: f64, %o: f64):
    %c = math.cos %a : f64
    %half = arith.constant 0.5 : f64
    %d = arith.mulf %half, %c : f64
    %r = arith.mulf %d, %wij : f64
    linalg.yield %r : f64
  } -> tensor<3x3xf64>
"""
SIN_CELL = cells.Cell([("w", (3, 3))], SIN_BODY,
                      lambda h, u, w: 0.5 * np.sin(h @ w.T) + u,
                      lambda h, u, w: 0.5 * np.cos(h @ w.T)[:, :, None] * w[None])


@pytest.mark.parametrize("method", ["newton", "quasi_newton"])
def test_jacobian_region_overrides_derivation(method):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 3))
    h0 = rng.standard_normal((1, 3))
    u = rng.standard_normal((1, 200, 3))
    # quasi_newton takes the diagonal of the dense region.
    states, iters = run(SIN_CELL, method, h0, u, [w], tolerance=1e-10,
                        max_iterations=100, jacobian_body=SIN_JACOBIAN,
                        jacobian_type="tensor<3x3xf64>")
    ref, ref_iters = R.rnn_deer(SIN_CELL.f, SIN_CELL.jacobian, h0, u, [w],
                                method=method, tolerance=1e-10,
                                max_iterations=100)
    assert iters == ref_iters < 100
    np.testing.assert_allclose(states, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(states, sequential(SIN_CELL, h0, u, [w]),
                               rtol=0, atol=1e-8)


def expect_diagnostic(module, inputs, *words):
    with pytest.raises(RuntimeError) as info:
        attnflow.run(module, inputs)
    message = str(info.value)
    assert "exit code -" not in message, f"the tool crashed:\n{message}"
    for word in words:
        assert word in message, f"diagnostic lacks {word!r}:\n{message}"


def test_unsupported_op_without_jacobian_region_is_diagnosed():
    h0, u, w = np.zeros((1, 3)), np.zeros((1, 5, 3)), np.eye(3)
    expect_diagnostic(cells.rnn_solve_module(SIN_CELL, "newton", 1, 5, 3, 3), [h0, u, w],
                      "'math.sin' op cannot be differentiated",
                      "`jacobian` region")


def test_wrong_yield_type_is_diagnosed():
    h0, u, w = np.zeros((1, 3)), np.zeros((1, 5, 3)), np.eye(3)
    module = cells.rnn_solve_module(SIN_CELL, "newton", 1, 5, 3, 3,
                         jacobian_body=SIN_BODY.replace("%out", "%jac"),
                         jacobian_type="tensor<3xf64>")
    expect_diagnostic(module, [h0, u, w], "jacobian", "tensor<3x3xf64>")


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
def test_deer_low_precision(element_type):
    # Every op of the cell and of its derived Jacobian rounds to the element
    # type (unit roundoff u); the recurrence contracts (spectral radius 0.5),
    # so the states stay within about 20 u of the float64 recurrence on the
    # same rounded inputs. The tolerance, 1e-2, is above the f16 / bf16
    # resolution of the changes.
    u_round = {"f16": 2.0 ** -11, "bf16": 2.0 ** -8}[element_type]
    cell, h0, u, params = tanh_rnn_problem(0.5, steps=200)
    low = cells.tanh_rnn(4, 4, element_type)
    inputs = [as_element_type(a, element_type) for a in (h0, u, *params)]
    states, iters = run(low, "newton", inputs[0], inputs[1], inputs[2:],
                        t=element_type, tolerance=1e-2)
    f64 = [np.asarray(a, dtype=np.float64) for a in inputs]
    seq = sequential(cell, f64[0], f64[1], f64[2:])
    assert 1 <= iters < 32
    assert np.max(np.abs(states.astype(np.float64) - seq)) <= 20 * u_round


DIVERGING_MODULE = """
func.func @main(%h0: tensor<1x1xf32>, %u: tensor<1x64x1xf32>)
    -> (tensor<1x64x1xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<METHOD>,
      max_iterations = 16 : i64}
      : tensor<1x1xf32>, tensor<1x64x1xf32> -> tensor<1x64x1xf32>, tensor<i64>
  cell {
  ^bb0(%x: tensor<1xf32>, %ut: tensor<1xf32>):
    %c = arith.constant dense<-8.0> : tensor<1xf32>
    %m = arith.mulf %x, %c : tensor<1xf32>
    %e = math.exp %m : tensor<1xf32>
    %y = arith.addf %e, %ut : tensor<1xf32>
    attnflow.yield %y : tensor<1xf32>
  }
  return %h, %it : tensor<1x64x1xf32>, tensor<i64>
}
"""


@pytest.mark.parametrize("method", ["newton", "quasi_newton"])
def test_diverging_iterate_is_not_convergence(method):
    # h' = exp(-8 h) + u from h0 = -1: the first Newton iterates overflow to
    # inf and the change becomes NaN. NaN does not meet the tolerance, so the
    # solve runs all max_iterations updates (DESIGN §3) rather than stopping
    # early as if it had converged.
    h0 = np.full((1, 1), -1.0, np.float32)
    u = np.full((1, 64, 1), 0.5, np.float32)
    states, iters = attnflow.run(DIVERGING_MODULE.replace("METHOD", method),
                                 [h0, u])
    assert int(iters) == 16
    cell = lambda h, ut: np.exp(-8.0 * h) + ut
    jac = lambda h, ut: (-8.0 * np.exp(-8.0 * h))[:, :, None]
    with np.errstate(over="ignore", invalid="ignore"):
        _, ref_iters = R.rnn_deer(cell, jac, h0.astype(np.float64),
                                  u.astype(np.float64), method=method,
                                  max_iterations=16)
    assert ref_iters == 16
