"""Flow samplers as AttnFlow modules: ``attnflow.ode_solve`` /
``attnflow.ode_step`` text builders (DESIGN §3) and a rectified-flow sampler
around an MLP velocity with classifier-free guidance.

The MLP velocity (`mlp_velocity`, float64 numpy) and the MLIR region
`sampler_module` emits compute the same network:

    a    = x @ wx + t * wt + b1                   (both branches share it)
    v(e) = silu(silu(a + e) @ w2 + b2) @ w3 + b3, silu(z) = z / (1 + exp(-z))
    v    = v_u + w (v_c - v_u),  v_c = v(emb), v_u = v(0)

with x [B, D], emb [B, H] the class embedding of each sample (the null class
is the zero embedding) and w the guidance scale (Ho & Salimans 2022,
"Classifier-Free Diffusion Guidance", eq. 6, written for velocities as in
Esser et al. 2024, "Scaling Rectified Flow Transformers", §2). Sampling
integrates dx/dt = v from t = 0 (noise) to t = 1 (data) (Liu et al. 2023,
"Flow Straight and Fast", eq. 1).
"""

import numpy as np

from .ir import format_float, tensor_type
from .reference import ODE_METHODS

__all__ = ["ODE_METHODS", "MLP_PARAM_NAMES", "ode_attrs", "ode_solve_module",
           "mlp_params", "mlp_velocity", "mlp_velocity_body", "mlp_param_types",
           "sampler_module"]

# Operand order of the sampler's params (after x0).
MLP_PARAM_NAMES = ("wx", "wt", "emb", "b1", "w2", "b2", "w3", "b3")


def ode_attrs(method, t0=None, t1=None, num_steps=None, time_grid=None,
              return_trajectory=None):
    """The attr-dict text of an ode_solve (``{method = ..., ...}``); None
    means absent."""
    if method not in ODE_METHODS:
        raise ValueError(f"method must be one of {ODE_METHODS}, got {method!r}")
    parts = [f"method = #attnflow.ode_method<{method}>"]
    if t0 is not None:
        parts.append(f"t0 = {format_float(t0)} : f64")
    if t1 is not None:
        parts.append(f"t1 = {format_float(t1)} : f64")
    if num_steps is not None:
        parts.append(f"num_steps = {int(num_steps)} : i64")
    if time_grid is not None:
        parts.append("time_grid = array<f64: "
                     + ", ".join(format_float(t) for t in time_grid) + ">")
    if return_trajectory is not None:
        parts.append(f"return_trajectory = {'true' if return_trajectory else 'false'}")
    return "{" + ", ".join(parts) + "}"


def _result_shape(shape, num_steps, time_grid, return_trajectory):
    if not return_trajectory:
        return tuple(shape)
    points = len(time_grid) if time_grid is not None else num_steps + 1
    return (points,) + tuple(shape)


def ode_solve_module(x_type, velocity_body, param_types=(), step=False,
                     name="main", **attrs):
    """``@name(%x0, %in0, ...) -> ode_solve(x0, params)`` (or, with ``step``,
    ``@name(%x0, %t: tensor<f32>, %dt: tensor<f32>, %in0, ...) -> ode_step``).

    x_type: (shape, element_type) of the state. velocity_body: MLIR lines of
    the region body over its block arguments ``%x``, ``%t`` and ``%p0``,
    ``%p1``... (one per param), ending with ``attnflow.yield``.
    param_types: MLIR type texts of the params. attrs: :func:`ode_attrs`
    keywords (only ``method`` for a step).
    """
    shape, element_type = x_type
    state = tensor_type(shape, element_type)
    result = tensor_type(
        _result_shape(shape, attrs.get("num_steps"), attrs.get("time_grid"),
                      attrs.get("return_trajectory")), element_type)
    inputs = [f"%in{i}" for i in range(len(param_types))]
    # attnflow-run binds tensors: a step's t and dt come as 0-d tensors.
    args = [f"%x0: {state}"] + (["%tt: tensor<f32>", "%dtt: tensor<f32>"]
                                if step else [])
    args += [f"{v}: {ty}" for v, ty in zip(inputs, param_types)]
    operands = (f"({', '.join(inputs)} : {', '.join(param_types)})"
                if inputs else "()")
    if step:
        op = f"attnflow.ode_step %x0, %t0, %dt {operands} {ode_attrs(**attrs)}"
    else:
        op = f"attnflow.ode_solve %x0 {operands} {ode_attrs(**attrs)}"
    block_args = ", ".join([f"%x: {state}", "%t: f32"]
                           + [f"%p{i}: {ty}" for i, ty in enumerate(param_types)])
    body = "\n".join("    " + line for line in velocity_body.strip().splitlines())
    scalars = ("  %t0 = tensor.extract %tt[] : tensor<f32>\n"
               "  %dt = tensor.extract %dtt[] : tensor<f32>\n") if step else ""
    return (f"func.func @{name}({', '.join(args)}) -> {result} {{\n"
            f"{scalars}  %r = {op} : {state} -> {result} velocity {{\n"
            f"  ^bb0({block_args}):\n{body}\n  }}\n"
            f"  return %r : {result}\n}}\n")


def mlp_params(rng, dim, hidden, batch, scale=0.5):
    """Seeded float32 MLP weights in MLP_PARAM_NAMES order: wx [D, H], wt [H],
    emb [B, H], b1 [H], w2 [H, H], b2 [H], w3 [H, D], b3 [D], each N(0, 1)
    scaled by ``scale`` / sqrt(fan-in)."""
    def w(shape, fan_in):
        return (rng.standard_normal(shape) * scale / np.sqrt(fan_in)).astype(np.float32)
    return [w((dim, hidden), dim), w((hidden,), 1), w((batch, hidden), 1),
            w((hidden,), 1), w((hidden, hidden), hidden), w((hidden,), 1),
            w((hidden, dim), hidden), w((dim,), 1)]


def _silu_f64(z):
    return z / (1.0 + np.exp(-z))


def mlp_velocity(x, t, wx, wt, emb, b1, w2, b2, w3, b3, guidance=1.0):
    """The guided MLP velocity in float64 (module docstring)."""
    f = [np.asarray(a, dtype=np.float64) for a in (x, wx, wt, emb, b1, w2, b2, w3, b3)]
    x, wx, wt, emb, b1, w2, b2, w3, b3 = f
    a = x @ wx + float(t) * wt + b1

    def branch(e):
        return _silu_f64(_silu_f64(a + e) @ w2 + b2) @ w3 + b3
    v_c, v_u = branch(emb), branch(0.0)
    return v_u + guidance * (v_c - v_u)


_PAR = "\"parallel\""


def _generic(result, ins, maps, out, out_element, body, yielded):
    """Lines of a 2-D elementwise linalg.generic: ins are (value, type)
    pairs read as f32 block arguments %i0, %i1, ...; out is (value, type)."""
    args = ", ".join([f"%i{k}: f32" for k in range(len(ins))]
                     + [f"%o: {out_element}"])
    return ([f"{result} = linalg.generic {{indexing_maps = [{', '.join(maps)}], "
             f"iterator_types = [{_PAR}, {_PAR}]}} "
             f"ins({', '.join(v for v, _ in ins)} : {', '.join(t for _, t in ins)}) "
             f"outs({out[0]} : {out[1]}) {{",
             f"^bb0({args}):"]
            + ["  " + line for line in body]
            + [f"  linalg.yield {yielded} : {out_element}", f"}} -> {out[1]}"])


def _silu(z):
    """Lines computing silu(%z) = %z / (1 + exp(-%z)) into %s<z>."""
    return [f"%n{z} = arith.negf %{z} : f32", f"%e{z} = math.exp %n{z} : f32",
            f"%d{z} = arith.addf %e{z}, %one : f32",
            f"%s{z} = arith.divf %{z}, %d{z} : f32"]


def mlp_velocity_body(batch, dim, hidden, guidance, element_type="f32"):
    """The guided MLP velocity (module docstring) as region body lines over
    %x [B, D] x element_type, %t and params %p0..%p7 (MLP_PARAM_NAMES order,
    f32), computed in f32; an f16 / bf16 state is extended on entry and v
    rounded on exit. The guidance combination is the last elementwise op, so
    the lowering fuses the state update into it."""
    B, D, H = batch, dim, hidden
    T = element_type
    x_t = tensor_type((B, D), T)
    bd, bh = tensor_type((B, D), "f32"), tensor_type((B, H), "f32")
    dh, h1 = tensor_type((D, H), "f32"), tensor_type((H,), "f32")
    hh, hd = tensor_type((H, H), "f32"), tensor_type((H, D), "f32")
    d1 = tensor_type((D,), "f32")
    m2 = "affine_map<(b, j) -> (b, j)>"
    m1 = "affine_map<(b, j) -> (j)>"
    lines = ["%zero = arith.constant 0.0 : f32",
             "%one = arith.constant 1.0 : f32",
             f"%w = arith.constant {format_float(guidance)} : f32",
             f"%eh = tensor.empty() : {bh}",
             f"%ed = tensor.empty() : {bd}",
             f"%zh = linalg.fill ins(%zero : f32) outs(%eh : {bh}) -> {bh}",
             f"%zd = linalg.fill ins(%zero : f32) outs(%ed : {bd}) -> {bd}"]
    xf = "%x"
    if T != "f32":
        xf = "%xf"
        lines += [f"%xf = linalg.generic {{indexing_maps = [{m2}, {m2}], "
                  f"iterator_types = [{_PAR}, {_PAR}]}} ins(%x : {x_t}) "
                  f"outs(%ed : {bd}) {{",
                  f"^bb0(%i0: {T}, %o: f32):",
                  f"  %c = arith.extf %i0 : {T} to f32",
                  "  linalg.yield %c : f32", f"}} -> {bd}"]
    lines.append(f"%xw = linalg.matmul ins({xf}, %p0 : {bd}, {dh}) "
                 f"outs(%zh : {bh}) -> {bh}")
    lines += _generic("%pre", [("%xw", bh), ("%p1", h1), ("%p3", h1)],
                      [m2, m1, m1, m2], ("%eh", bh), "f32",
                      ["%tw = arith.mulf %t, %i1 : f32",
                       "%u = arith.addf %i0, %tw : f32",
                       "%y = arith.addf %u, %i2 : f32"], "%y")
    for br in ("c", "u"):
        if br == "c":
            ins, maps = [("%pre", bh), ("%p2", bh)], [m2, m2, m2]
            first = ["%z = arith.addf %i0, %i1 : f32"]
        else:
            ins, maps = [("%pre", bh)], [m2, m2]
            first = ["%z = arith.addf %i0, %zero : f32"]
        lines += _generic(f"%h1{br}", ins, maps, ("%eh", bh), "f32",
                          first + _silu("z"), "%sz")
        lines.append(f"%m2{br} = linalg.matmul ins(%h1{br}, %p4 : {bh}, {hh}) "
                     f"outs(%zh : {bh}) -> {bh}")
        lines += _generic(f"%h2{br}", [(f"%m2{br}", bh), ("%p5", h1)],
                          [m2, m1, m2], ("%eh", bh), "f32",
                          ["%z = arith.addf %i0, %i1 : f32"] + _silu("z"), "%sz")
        lines.append(f"%o{br} = linalg.matmul ins(%h2{br}, %p6 : {bh}, {hd}) "
                     f"outs(%zd : {bd}) -> {bd}")
    guided = ["%ub = arith.addf %i0, %i2 : f32", "%dc = arith.subf %i1, %i0 : f32",
              "%g = arith.mulf %w, %dc : f32", "%v = arith.addf %ub, %g : f32"]
    if T != "f32":
        guided.append(f"%vr = arith.truncf %v : f32 to {T}")
    lines.append(f"%ev = tensor.empty() : {x_t}")
    lines += _generic("%vel", [("%ou", bd), ("%oc", bd), ("%p7", d1)],
                      [m2, m2, m1, m2], ("%ev", x_t), T, guided,
                      "%v" if T == "f32" else "%vr")
    lines.append(f"attnflow.yield %vel : {x_t}")
    return lines


def mlp_param_types(dim, hidden, batch):
    """MLIR types of the MLP params, MLP_PARAM_NAMES order."""
    D, H, B = dim, hidden, batch
    return [tensor_type(s, "f32") for s in
            ((D, H), (H,), (B, H), (H,), (H, H), (H,), (H, D), (D,))]


def sampler_module(batch, dim, hidden, guidance, element_type="f32",
                   name="main", **attrs):
    """``@name(%x0: [B, D] x element_type, %in0..%in7: the f32 MLP params)
    -> ode_solve(...)``: a rectified-flow sampler whose velocity region is
    the guided MLP of :func:`mlp_velocity`. attrs: :func:`ode_attrs`
    keywords (method, num_steps, t0, t1, time_grid, return_trajectory)."""
    body = "\n".join(mlp_velocity_body(batch, dim, hidden, guidance,
                                       element_type))
    return ode_solve_module(((batch, dim), element_type), body,
                            mlp_param_types(dim, hidden, batch), name=name,
                            **attrs)
