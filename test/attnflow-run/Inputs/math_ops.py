"""Generates and checks the math-ops.mlir test (attnflow-cpu-pipeline's
lowering of every unary math op, per element type).

  math_ops.py module              print the module: @unary_<T>(tensor<16xT>)
                                  -> tensor<NOPSx16xT>, row i = op i
  math_ops.py input FILE          save the 16 inputs (float32, exact in f16
                                  and bf16)
  math_ops.py check T IN OUT      compare OUT with numpy in float64; exit 1
                                  and print the worst rows otherwise
"""

import math
import sys

import numpy as np

# (mnemonic, argument): x in (0, 1); c = x - 1/2; p1 = x + 1; s = 8 c, which
# hits the rounding ties +-0.5 and +-2.5.
OPS = [
    ("absf", "c"), ("acosh", "p1"), ("asin", "x"), ("asinh", "c"),
    ("atan", "c"), ("atanh", "x"), ("cbrt", "c"), ("ceil", "s"), ("cos", "c"),
    ("acos", "x"), ("cosh", "c"), ("sin", "c"), ("sinh", "c"), ("erf", "c"),
    ("erfc", "c"), ("exp", "c"), ("exp2", "c"), ("expm1", "c"),
    ("floor", "s"), ("log", "x"), ("log10", "x"), ("log1p", "x"),
    ("log2", "x"), ("rsqrt", "x"), ("sqrt", "x"), ("tan", "c"), ("tanh", "c"),
    ("roundeven", "s"), ("round", "s"), ("trunc", "s"),
]

REFERENCE = {
    "absf": np.abs, "acosh": np.arccosh, "asin": np.arcsin,
    "asinh": np.arcsinh, "atan": np.arctan, "atanh": np.arctanh,
    "cbrt": np.cbrt, "ceil": np.ceil, "cos": np.cos, "acos": np.arccos,
    "cosh": np.cosh, "sin": np.sin, "sinh": np.sinh,
    "erf": np.vectorize(math.erf), "erfc": np.vectorize(math.erfc),
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "floor": np.floor,
    "log": np.log, "log10": np.log10, "log1p": np.log1p, "log2": np.log2,
    "rsqrt": lambda v: 1 / np.sqrt(v), "sqrt": np.sqrt, "tan": np.tan,
    "tanh": np.tanh, "roundeven": np.rint,
    "round": lambda v: np.sign(v) * np.floor(np.abs(v) + 0.5),
    "trunc": np.trunc,
}

TYPES = ["f32", "f64", "f16", "bf16"]
INPUT = np.array([1, 5, 9, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 61],
                 dtype=np.float64) / 64


def module():
    lines = []
    for t in TYPES:
        n = len(OPS)
        lines += [
            f"func.func @unary_{t}(%x: tensor<16x{t}>) -> tensor<{n}x16x{t}> {{",
            f"  %e = tensor.empty() : tensor<{n}x16x{t}>",
            "  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>,",
            "                                        affine_map<(d0, d1) -> (d0, d1)>],",
            "                       iterator_types = [\"parallel\", \"parallel\"]}",
            f"      ins(%x : tensor<16x{t}>) outs(%e : tensor<{n}x16x{t}>) {{",
            f"  ^bb0(%x0: {t}, %out: {t}):",
            "    %op = linalg.index 0 : index",
            f"    %half = arith.constant 0.5 : {t}",
            f"    %one = arith.constant 1.0 : {t}",
            f"    %eight = arith.constant 8.0 : {t}",
            f"    %c = arith.subf %x0, %half : {t}",
            f"    %p1 = arith.addf %x0, %one : {t}",
            f"    %s = arith.mulf %c, %eight : {t}",
            f"    %y = scf.index_switch %op -> {t}",
        ]
        for i, (name, arg) in enumerate(OPS):
            lines += [
                f"    case {i} {{",
                f"      %v = math.{name} %{'x0' if arg == 'x' else arg} : {t}",
                f"      scf.yield %v : {t}",
                "    }",
            ]
        lines += [
            "    default {",
            f"      scf.yield %x0 : {t}",
            "    }",
            f"    linalg.yield %y : {t}",
            f"  }} -> tensor<{n}x16x{t}>",
            f"  return %r : tensor<{n}x16x{t}>",
            "}",
        ]
    print("\n".join(lines))


def bf16_spacing(v):
    return np.spacing(np.abs(v).astype(np.float32)) * 2.0**16


def check(t, inp, out):
    x = np.load(inp).astype(np.float64)
    y = np.load(out).astype(np.float64)
    args = {"x": x, "c": x - 0.5, "p1": x + 1, "s": (x - 0.5) * 8}
    failed = False
    for i, (name, arg) in enumerate(OPS):
        ref = REFERENCE[name](args[arg])
        if t == "f64":
            tol = 4 * np.spacing(np.abs(ref))
        elif t == "f32":
            tol = 4 * np.spacing(np.abs(ref).astype(np.float32))
        elif t == "f16":
            tol = np.spacing(np.abs(ref).astype(np.float16)).astype(np.float64)
        else:
            tol = bf16_spacing(ref)
        err = np.abs(y[i] - ref)
        if not np.all(err <= tol + 1e-300):
            failed = True
            worst = int(np.argmax(err - tol))
            print(f"{t} math.{name}({arg}={args[arg][worst]!r}) = "
                  f"{y[i][worst]!r}, expected {ref[worst]!r} (+-{tol[worst]:.3g})",
                  file=sys.stderr)
    return 1 if failed else 0


def main(argv):
    if argv[1] == "module":
        module()
    elif argv[1] == "input":
        np.save(argv[2], INPUT.astype(np.float32))
    elif argv[1] == "check":
        return check(argv[2], argv[3], argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
