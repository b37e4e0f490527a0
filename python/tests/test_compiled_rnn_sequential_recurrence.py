"""attnflow.rnn_solve with method = sequential (the reference decomposition's
loop over the batch and t with the cell region inlined), compiled for the
CPU, against the float64 reference.rnn_sequential written from the cells'
formulas (_rnn_cells.py): a linear cell with a closed form, a tanh RNN and a
GRU, f64 / f32 / f16, B > 1; iters is 1.

Tolerance: f64 1e-12; f32 1e-5 (1 + |ref|) (bounded tanh / GRU states);
f16 20 unit roundoffs (the cell runs in f16, rounding every step).
"""

import numpy as np
import pytest

import attnflow
from attnflow import reference as R

import _rnn_cells as cells
from _helpers import as_element_type

pytestmark = pytest.mark.compiled

TOL = {"f64": 1e-12, "f32": 1e-5, "f16": 20 * 2.0 ** -11}


def solve(cell, h0, u, params, t):
    (batch, n), (_, steps, m) = h0.shape, u.shape
    module = cells.rnn_solve_module(cell, "sequential", batch, steps, n, m, t=t)
    states, iters = attnflow.run(module, [h0, u, *params])
    return states, int(iters)


def test_linear_cell_closed_form():
    """h' = tanh(W h + U u + b) with W = 0, U = I, b = 0 is h_t = tanh(u_t);
    with the tanh RNN cell this pins the inlined cell per step exactly."""
    n = m = 3
    cell = cells.tanh_rnn(n, m)
    u = np.linspace(-2.0, 2.0, 2 * 50 * m).reshape(2, 50, m)
    params = [np.zeros((n, n)), np.eye(n), np.zeros(n)]
    states, iters = solve(cell, np.ones((2, n)), u, params, "f64")
    assert iters == 1
    np.testing.assert_allclose(states, np.tanh(u), rtol=0, atol=1e-14)


@pytest.mark.parametrize("t", ["f64", "f32", "f16"])
@pytest.mark.parametrize("kind", ["tanh_rnn", "gru"])
def test_matches_reference(kind, t):
    rng = np.random.default_rng(3)
    batch, steps, n, m = 2, 300, 4, 3
    cell = getattr(cells, kind)(n, m, t=t)
    params = [as_element_type(p, t) for p in cells.weights(rng, cell)]
    h0 = as_element_type(rng.standard_normal((batch, n)), t)
    u = as_element_type(rng.standard_normal((batch, steps, m)), t)
    states, iters = solve(cell, h0, u, params, t)
    ref = R.rnn_sequential(lambda h, ut, *p: cell.f(h[None], ut[None], *p)[0],
                           h0, u, params)
    assert iters == 1
    np.testing.assert_allclose(states, ref, rtol=0, atol=TOL[t] * (1 + np.abs(ref).max()))
