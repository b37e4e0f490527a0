"""Builders that emit AttnFlow MLIR text (custom assembly of DESIGN §3).

A :class:`Function` collects tensor arguments and ``attnflow.rope`` /
``attnflow.attention`` ops and prints one ``func.func``; the ``*_module``
helpers build the common single-entry functions tests and examples need.

Attribute rule: every attribute keyword defaults to None, and an attribute is
written into the op's attr-dict exactly when its keyword is not None (so None
means "absent": the op's default or, for scale / q_offset / rotary_dim, the
shape-derived value).  Floats are printed with ``repr`` so they round-trip,
always with a decimal point.

Element types: "f32", "f16", "bf16", "f64" for float tensors; "i64", "i32"
for positions.
"""

import math
from collections import namedtuple

__all__ = ["FLOAT_TYPES", "POSITION_TYPES", "Value", "Function", "tensor_type",
           "format_float", "rope_module", "attention_module",
           "rope_attention_module"]

FLOAT_TYPES = ("f32", "f16", "bf16", "f64")
POSITION_TYPES = ("i64", "i32")

# Order of the #attnflow.rope_scaling parameters (DESIGN §3).
_SCALING_ORDER = (("kind", str), ("factor", float),
                  ("original_max_position", int), ("beta_fast", float),
                  ("beta_slow", float), ("low_freq_factor", float),
                  ("high_freq_factor", float), ("attention_factor", float))


def tensor_type(shape, element_type):
    """``tensor<2x4x8xf32>`` for shape (2, 4, 8) and "f32"."""
    return "tensor<" + "".join(f"{int(d)}x" for d in shape) + element_type + ">"


def format_float(value):
    """MLIR float literal for a finite Python float, round-tripping exactly
    (``repr``), always with a decimal point ("1.0e+20", not "1e+20")."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"non-finite float {value} cannot be an attribute")
    text = repr(value)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


class Value(namedtuple("Value", "name shape element_type")):
    """An SSA value of a :class:`Function`: name (with ``%``), shape tuple and
    element type string."""

    @property
    def type(self):
        return tensor_type(self.shape, self.element_type)


def _scaling_attr(scaling):
    unknown = set(scaling) - {key for key, _ in _SCALING_ORDER}
    if unknown:
        raise ValueError(f"unknown rope scaling keys {sorted(unknown)}")
    if "kind" not in scaling:
        raise ValueError("rope scaling needs a 'kind'")
    parts = []
    for key, kind in _SCALING_ORDER:
        val = scaling.get(key)
        if val is None:
            continue
        if kind is float:
            val = format_float(val)
        elif kind is int:
            val = str(int(val))
        parts.append(f"{key} = {val}")
    return "#attnflow.rope_scaling<" + ", ".join(parts) + ">"


def _attr_dict(entries):
    """``{a = 1 : i64, ...}`` from (name, text) pairs, or "" when empty."""
    if not entries:
        return ""
    return " {" + ", ".join(f"{name} = {text}" for name, text in entries) + "}"


def _i64(val):
    return f"{int(val)} : i64"


def _f64(val):
    return f"{format_float(val)} : f64"


def _bool(val):
    return "true" if val else "false"


class Function:
    """A ``func.func`` under construction.

    Example::

        f = Function("main")
        x = f.argument("x", (1, 2, 8, 16), "f32")
        pos = f.argument("pos", (8,), "i64")
        f.ret(f.rope(x, pos, theta=500000.0))
        text = f.text()
    """

    def __init__(self, name="main"):
        self.name = name
        self._args = []
        self._body = []
        self._results = None

    def argument(self, name, shape, element_type):
        """Adds argument ``%name`` of ``tensor<shape x element_type>``."""
        if element_type not in FLOAT_TYPES + POSITION_TYPES:
            raise ValueError(f"unsupported element type {element_type!r}")
        value = Value("%" + name, tuple(int(d) for d in shape), element_type)
        self._args.append(value)
        return value

    def _emit(self, op, operands, attrs, result_shape, result_element_type):
        result = Value(f"%{len(self._body)}", tuple(result_shape),
                       result_element_type)
        names = ", ".join(v.name for v in operands)
        types = ", ".join(v.type for v in operands)
        self._body.append(f"{result.name} = {op} {names}{_attr_dict(attrs)} : "
                          f"{types} -> {result.type}")
        return result

    def rope(self, x, positions, theta=None, rotary_dim=None, layout=None,
             mrope_section=None, scaling=None):
        """``attnflow.rope`` (DESIGN §3) of x [B,H,S,D] with positions
        [S] | [B,S] | [A,S] | [A,B,S]; layout "half" | "interleaved";
        mrope_section a sequence of ints; scaling a dict as in
        :func:`attnflow.reference.rope_parameters`.  Returns the result."""
        attrs = []
        if theta is not None:
            attrs.append(("theta", _f64(theta)))
        if rotary_dim is not None:
            attrs.append(("rotary_dim", _i64(rotary_dim)))
        if layout is not None:
            attrs.append(("layout", f"#attnflow.rope_layout<{layout}>"))
        if mrope_section is not None:
            attrs.append(("mrope_section", "array<i64: " + ", ".join(
                str(int(s)) for s in mrope_section) + ">"))
        if scaling is not None:
            attrs.append(("scaling", _scaling_attr(scaling)))
        return self._emit("attnflow.rope", [x, positions], attrs, x.shape,
                          x.element_type)

    def attention(self, q, k, v, bias=None, scale=None, causal=None,
                  window_left=None, window_right=None, q_offset=None,
                  num_sink_tokens=None, logit_softcap=None, alibi_slopes=None,
                  logn_train_len=None):
        """``attnflow.attention`` (DESIGN §3) of q [B,Hq,Sq,D], k [B,Hkv,Skv,D],
        v [B,Hkv,Skv,Dv] and optional bias [B|1,Hq|1,Sq,Skv].  Returns the
        result [B,Hq,Sq,Dv] with q's element type."""
        attrs = []
        for name, val, fmt in (("scale", scale, _f64), ("causal", causal, _bool),
                               ("window_left", window_left, _i64),
                               ("window_right", window_right, _i64),
                               ("q_offset", q_offset, _i64),
                               ("num_sink_tokens", num_sink_tokens, _i64),
                               ("logit_softcap", logit_softcap, _f64)):
            if val is not None:
                attrs.append((name, fmt(val)))
        if alibi_slopes is not None:
            attrs.append(("alibi_slopes", "array<f64: " + ", ".join(
                format_float(s) for s in alibi_slopes) + ">"))
        if logn_train_len is not None:
            attrs.append(("logn_train_len", _i64(logn_train_len)))
        operands = [q, k, v] + ([bias] if bias is not None else [])
        shape = q.shape[:3] + v.shape[3:]
        return self._emit("attnflow.attention", operands, attrs, shape,
                          q.element_type)

    def ret(self, *values):
        """Sets the returned values (the function's results, in order)."""
        self._results = list(values)

    def text(self):
        """The ``func.func`` text.  Raises ValueError if :meth:`ret` was not
        called."""
        if not self._results:
            raise ValueError(f"function @{self.name} returns nothing: call ret()")
        args = ", ".join(f"{a.name}: {a.type}" for a in self._args)
        types = [v.type for v in self._results]
        sig = types[0] if len(types) == 1 else "(" + ", ".join(types) + ")"
        lines = [f"func.func @{self.name}({args}) -> {sig} {{"]
        lines += ["  " + line for line in self._body]
        lines.append("  return " + ", ".join(v.name for v in self._results)
                     + " : " + ", ".join(types))
        lines.append("}")
        return "\n".join(lines) + "\n"


def rope_module(x_shape, positions_shape, element_type="f32",
                positions_type="i64", **rope_attrs):
    """``@main(%x, %pos) -> rope(x, pos)``; rope_attrs as
    :meth:`Function.rope`."""
    f = Function()
    x = f.argument("x", x_shape, element_type)
    pos = f.argument("pos", positions_shape, positions_type)
    f.ret(f.rope(x, pos, **rope_attrs))
    return f.text()


def attention_module(q_shape, k_shape, v_shape, bias_shape=None,
                     element_type="f32", **attention_attrs):
    """``@main(%q, %k, %v [, %bias]) -> attention(...)``; the bias has the
    element type of q; attention_attrs as :meth:`Function.attention`."""
    f = Function()
    q = f.argument("q", q_shape, element_type)
    k = f.argument("k", k_shape, element_type)
    v = f.argument("v", v_shape, element_type)
    bias = (f.argument("bias", bias_shape, element_type)
            if bias_shape is not None else None)
    f.ret(f.attention(q, k, v, bias, **attention_attrs))
    return f.text()


def rope_attention_module(q_shape, k_shape, v_shape, q_positions_shape,
                          k_positions_shape, element_type="f32",
                          positions_type="i64", rope=None, attention=None,
                          bias_shape=None):
    """A LLaMA-style attention block: ``@main(%q, %k, %v, %q_pos, %k_pos
    [, %bias]) -> attention(rope(q, q_pos), rope(k, k_pos), v [, bias])``.

    rope: dict of :meth:`Function.rope` attributes, applied to q and k alike.
    attention: dict of :meth:`Function.attention` attributes.
    """
    rope = rope or {}
    f = Function()
    q = f.argument("q", q_shape, element_type)
    k = f.argument("k", k_shape, element_type)
    v = f.argument("v", v_shape, element_type)
    q_pos = f.argument("q_pos", q_positions_shape, positions_type)
    k_pos = f.argument("k_pos", k_positions_shape, positions_type)
    bias = (f.argument("bias", bias_shape, element_type)
            if bias_shape is not None else None)
    q_rot = f.rope(q, q_pos, **rope)
    k_rot = f.rope(k, k_pos, **rope)
    f.ret(f.attention(q_rot, k_rot, v, bias, **(attention or {})))
    return f.text()
