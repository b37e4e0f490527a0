"""Compiler-derived Jacobians of RNN cells (DESIGN §3, attnflow.rnn_solve:
forward-mode differentiation of the cell) against central finite differences
in float64 of numpy cells written from the same formulas (_rnn_cells.py).

Each cell is a func.func marked ``attnflow.derive_jacobian``;
``attnflow-opt --attnflow-test-derive-jacobian`` adds ``@cell_jacobian``
returning (F(h, u, params), dF/dh), which attnflow-run executes."""

import os
import subprocess

import numpy as np
import pytest

import attnflow
from attnflow.runner import find_attnflow_run

import _rnn_cells as cells

pytestmark = pytest.mark.compiled

N, M, H = 4, 3, 5

CELLS = {"tanh_rnn": cells.tanh_rnn(N, M), "gru": cells.gru(N, M),
         "mlp": cells.mlp(N, M, H)}


def derive(module, diagonal=False):
    """The module after --attnflow-test-derive-jacobian."""
    opt = os.path.join(os.path.dirname(find_attnflow_run()), "attnflow-opt")
    flag = "--attnflow-test-derive-jacobian"
    if diagonal:
        flag += "=diagonal=true"
    proc = subprocess.run([opt, flag], input=module, capture_output=True,
                          text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return proc.stdout


def cell_function(cell):
    return (f"func.func @cell(%h: tensor<{N}xf64>, %u: tensor<{M}xf64>, "
            f"{cells.param_signature(cell)}) -> tensor<{N}xf64>\n"
            f"    attributes {{attnflow.derive_jacobian}} {{{cell.body}"
            f"  return %out : tensor<{N}xf64>\n}}\n")


def finite_difference_jacobian(f, h, *args, step=1e-6):
    """Central differences: column j = (f(h + s e_j) - f(h - s e_j)) / 2s."""
    cols = []
    for j in range(h.size):
        e = np.zeros_like(h)
        e[j] = step
        cols.append((f(h + e, *args) - f(h - e, *args)) / (2 * step))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("name", sorted(CELLS))
@pytest.mark.parametrize("diagonal", [False, True])
def test_jacobian_matches_finite_differences(name, diagonal):
    cell = CELLS[name]
    rng = np.random.default_rng(7)
    h, u = rng.standard_normal(N), rng.standard_normal(M)
    params = cells.weights(rng, cell)
    f, jac = attnflow.run(derive(cell_function(cell), diagonal),
                          [h, u, *params], entry="cell_jacobian")

    def single(hv, *args):
        return cell.f(hv[None], args[0][None], *args[1:])[0]

    ref = finite_difference_jacobian(single, h, u, *params)
    np.testing.assert_allclose(f, single(h, u, *params), rtol=1e-12, atol=1e-12)
    if cell.jacobian is not None:
        # The analytic Jacobians DEER's reference uses agree with both.
        analytic = cell.jacobian(h[None], u[None], *params)[0]
        np.testing.assert_allclose(analytic, ref, rtol=1e-7, atol=1e-8)
    if diagonal:
        assert jac.shape == (N,)
        ref = np.diag(ref)
    # Central differences with step 1e-6 are accurate to ~1e-9 here.
    np.testing.assert_allclose(jac, ref, rtol=1e-7, atol=1e-8)


def test_unsupported_op_is_diagnosed():
    module = f"""
func.func @cell(%h: tensor<{N}xf64>, %u: tensor<{M}xf64>) -> tensor<{N}xf64>
    attributes {{attnflow.derive_jacobian}} {{
  %s = math.sin %h : tensor<{N}xf64>
  return %s : tensor<{N}xf64>
}}
"""
    with pytest.raises(RuntimeError) as info:
        derive(module)
    message = str(info.value)
    assert "'math.sin' op cannot be differentiated" in message
    assert "`jacobian` region" in message
