"""RNN cells shared by the Jacobian and DEER tests and the DEER benchmark: each is MLIR text for the
body of a cell (arguments %h, %u and its parameters, ending in a terminator
given by the caller) plus the same cell and its Jacobian written in float64
numpy from the formulas (batched: h [K, N], u [K, M])."""

from collections import namedtuple

import numpy as np

Cell = namedtuple("Cell", "params body f jacobian")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _mv(w, x):
    """W x for a batch of vectors x [K, n]."""
    return x @ w.T


def _diag_times(d, w):
    """diag(d_k) W for each k: [K, N, n]."""
    return d[:, :, None] * w[None]


def tanh_rnn(n, m, t="f64"):
    """h' = tanh(W h + U u + b) (Elman RNN): matvec, tensor arith, tanh."""
    def f(h, u, w, uw, b):
        return np.tanh(_mv(w, h) + _mv(uw, u) + b)

    def jac(h, u, w, uw, b):
        return _diag_times(1 - f(h, u, w, uw, b) ** 2, w)

    body = f"""
  %wh = linalg.matvec ins(%w, %h : tensor<{n}x{n}x{t}>, tensor<{n}x{t}>)
                      outs(%b : tensor<{n}x{t}>) -> tensor<{n}x{t}>
  %zero = arith.constant 0.0 : {t}
  %e = tensor.empty() : tensor<{n}x{t}>
  %z = linalg.fill ins(%zero : {t}) outs(%e : tensor<{n}x{t}>) -> tensor<{n}x{t}>
  %ux = linalg.matvec ins(%uw, %u : tensor<{n}x{m}x{t}>, tensor<{m}x{t}>)
                      outs(%z : tensor<{n}x{t}>) -> tensor<{n}x{t}>
  %pre = arith.addf %wh, %ux : tensor<{n}x{t}>
  %out = math.tanh %pre : tensor<{n}x{t}>
"""
    params = [("w", (n, n)), ("uw", (n, m)), ("b", (n,))]
    return Cell(params, body, f, jac)


def gru(n, m, t="f64"):
    """GRU (Cho et al. 2014, eq. 5-8, reset gate before W_n):
    z, r = sigmoid(W h + U u), n = tanh(W_n (r * h) + U_n u),
    h' = (1 - z) * n + z * h. z's sigmoid is written as tensor arith
    1 / (1 + exp(-x)), r's inside a linalg.generic body."""
    def gates(h, u, wz, uz, wr, ur, wn, un):
        z = sigmoid(_mv(wz, h) + _mv(uz, u))
        r = sigmoid(_mv(wr, h) + _mv(ur, u))
        c = np.tanh(_mv(wn, r * h) + _mv(un, u))
        return z, r, c

    def f(h, u, *p):
        z, _, c = gates(h, u, *p)
        return (1 - z) * c + z * h

    def jac(h, u, wz, uz, wr, ur, wn, un):
        z, r, c = gates(h, u, wz, uz, wr, ur, wn, un)
        eye = np.eye(h.shape[1])[None]
        dz = _diag_times(z * (1 - z), wz)
        dr = _diag_times(r * (1 - r), wr)
        drh = h[:, :, None] * dr + r[:, :, None] * eye
        dc = (1 - c ** 2)[:, :, None] * np.einsum("ij,kjl->kil", wn, drh)
        return ((h - c)[:, :, None] * dz + (1 - z)[:, :, None] * dc
                + z[:, :, None] * eye)

    vec = f"tensor<{n}x{t}>"
    body = f"""
  %zero = arith.constant 0.0 : {t}
  %e = tensor.empty() : {vec}
  %z0 = linalg.fill ins(%zero : {t}) outs(%e : {vec}) -> {vec}
  %ones = arith.constant dense<1.0> : {vec}
  %a1 = linalg.matvec ins(%wz, %h : tensor<{n}x{n}x{t}>, {vec}) outs(%z0 : {vec}) -> {vec}
  %a2 = linalg.matvec ins(%uz, %u : tensor<{n}x{m}x{t}>, tensor<{m}x{t}>) outs(%a1 : {vec}) -> {vec}
  %na = arith.negf %a2 : {vec}
  %ex = math.exp %na : {vec}
  %den = arith.addf %ones, %ex : {vec}
  %z = arith.divf %ones, %den : {vec}
  %r1 = linalg.matvec ins(%wr, %h : tensor<{n}x{n}x{t}>, {vec}) outs(%z0 : {vec}) -> {vec}
  %r2 = linalg.matvec ins(%ur, %u : tensor<{n}x{m}x{t}>, tensor<{m}x{t}>) outs(%r1 : {vec}) -> {vec}
  %r = linalg.generic {{indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                        iterator_types = ["parallel"]}}
      ins(%r2 : {vec}) outs(%e : {vec}) {{
  ^bb0(%x: {t}, %o: {t}):
    %one = arith.constant 1.0 : {t}
    %nx = arith.negf %x : {t}
    %ez = math.exp %nx : {t}
    %d = arith.addf %one, %ez : {t}
    %s = arith.divf %one, %d : {t}
    linalg.yield %s : {t}
  }} -> {vec}
  %rh = arith.mulf %r, %h : {vec}
  %n1 = linalg.matvec ins(%wn, %rh : tensor<{n}x{n}x{t}>, {vec}) outs(%z0 : {vec}) -> {vec}
  %n2 = linalg.matvec ins(%un, %u : tensor<{n}x{m}x{t}>, tensor<{m}x{t}>) outs(%n1 : {vec}) -> {vec}
  %c = math.tanh %n2 : {vec}
  %omz = arith.subf %ones, %z : {vec}
  %p = arith.mulf %omz, %c : {vec}
  %q = arith.mulf %z, %h : {vec}
  %out = arith.addf %p, %q : {vec}
"""
    params = [("wz", (n, n)), ("uz", (n, m)), ("wr", (n, n)), ("ur", (n, m)),
              ("wn", (n, n)), ("un", (n, m))]
    return Cell(params, body, f, jac)


def mlp(n, m, hidden, t="f64"):
    """A residual MLP cell on x = concat(h, u):
    y = softplus(tanh([x] W1) W2), softplus = log(1 + exp(.)), then y[0] is
    scaled by h[1] and h' = h + y (tensor concat, linalg broadcast, matmul,
    extract_slice, extract, insert, exp, log, a product of two h-dependent
    scalars)."""
    def f(h, u, w1, w2):
        y = np.log1p(np.exp(np.tanh(np.concatenate([h, u], axis=1) @ w1) @ w2))
        y[:, 0] *= h[:, 1]
        return h + y

    x, k = n + m, hidden
    body = f"""
  %zero = arith.constant 0.0 : {t}
  %x = tensor.concat dim(0) %h, %u : (tensor<{n}x{t}>, tensor<{m}x{t}>) -> tensor<{x}x{t}>
  %e1 = tensor.empty() : tensor<1x{x}x{t}>
  %x2 = linalg.broadcast ins(%x : tensor<{x}x{t}>) outs(%e1 : tensor<1x{x}x{t}>) dimensions = [0]
  %eh = tensor.empty() : tensor<1x{k}x{t}>
  %zh = linalg.fill ins(%zero : {t}) outs(%eh : tensor<1x{k}x{t}>) -> tensor<1x{k}x{t}>
  %a = linalg.matmul ins(%x2, %w1 : tensor<1x{x}x{t}>, tensor<{x}x{k}x{t}>) outs(%zh : tensor<1x{k}x{t}>) -> tensor<1x{k}x{t}>
  %th = math.tanh %a : tensor<1x{k}x{t}>
  %en = tensor.empty() : tensor<1x{n}x{t}>
  %zn = linalg.fill ins(%zero : {t}) outs(%en : tensor<1x{n}x{t}>) -> tensor<1x{n}x{t}>
  %b = linalg.matmul ins(%th, %w2 : tensor<1x{k}x{t}>, tensor<{k}x{n}x{t}>) outs(%zn : tensor<1x{n}x{t}>) -> tensor<1x{n}x{t}>
  %sp = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}}
      ins(%b : tensor<1x{n}x{t}>) outs(%en : tensor<1x{n}x{t}>) {{
  ^bb0(%v: {t}, %o: {t}):
    %one = arith.constant 1.0 : {t}
    %ev = math.exp %v : {t}
    %s = arith.addf %one, %ev : {t}
    %l = math.log %s : {t}
    linalg.yield %l : {t}
  }} -> tensor<1x{n}x{t}>
  %y = tensor.extract_slice %sp[0, 0] [1, {n}] [1, 1] : tensor<1x{n}x{t}> to tensor<{n}x{t}>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %y0 = tensor.extract %y[%c0] : tensor<{n}x{t}>
  %h1 = tensor.extract %h[%c1] : tensor<{n}x{t}>
  %y0s = arith.mulf %y0, %h1 : {t}
  %ys = tensor.insert %y0s into %y[%c0] : tensor<{n}x{t}>
  %out = arith.addf %h, %ys : tensor<{n}x{t}>
"""
    params = [("w1", (x, k)), ("w2", (k, n))]
    return Cell(params, body, f, None)


def weights(rng, cell):
    """Seeded N(0, 1 / fan_in) weights for the cell's parameters."""
    return [rng.standard_normal(s) / np.sqrt(s[-1]) for _, s in cell.params]


def param_signature(cell, t="f64"):
    return ", ".join(f"%{name}: tensor<{'x'.join(map(str, s))}x{t}>"
                     for name, s in cell.params)


def _tensor(shape, t):
    return f"tensor<{'x'.join(map(str, shape))}x{t}>"


def rnn_solve_module(cell, method, batch, steps, n, m, t="f64", max_iterations=32,
                tolerance=1e-5, jacobian_body=None, jacobian_type=None):
    """@main(h0, u, params...) -> (states, iters) around one rnn_solve whose
    cell region is ``cell.body`` (and jacobian region ``jacobian_body``,
    yielding %jac of ``jacobian_type``)."""
    types = [_tensor(shape, t) for _, shape in cell.params]
    outer = ", ".join(f"%p_{name}: {ty}" for (name, _), ty in zip(cell.params, types))
    operands = ", ".join(f"%p_{name}" for name, _ in cell.params)
    block = (f"^bb0(%h: {_tensor((n,), t)}, %u: {_tensor((m,), t)}, "
             f"{param_signature(cell, t)}):")
    states = _tensor((batch, steps, n), t)
    jacobian = ""
    if jacobian_body is not None:
        jacobian = (f" jacobian {{\n  {block}{jacobian_body}"
                    f"  attnflow.yield %jac : {jacobian_type}\n  }}")
    return f"""
func.func @main(%h0: {_tensor((batch, n), t)}, %useq: {_tensor((batch, steps, m), t)},
                {outer}) -> ({states}, tensor<i64>) {{
  %s, %it = attnflow.rnn_solve %h0, %useq ({operands} : {", ".join(types)})
      {{method = #attnflow.rnn_method<{method}>, max_iterations = {max_iterations},
       tolerance = {tolerance:.17e} : f64}}
      : {_tensor((batch, n), t)}, {_tensor((batch, steps, m), t)} -> {states}, tensor<i64>
      cell {{
  {block}{cell.body}  attnflow.yield %out : {_tensor((n,), t)}
  }}{jacobian}
  return %s, %it : {states}, tensor<i64>
}}
"""
