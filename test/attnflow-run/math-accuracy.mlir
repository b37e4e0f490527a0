// Transcendental functions of the CPU pipeline against numpy in float64:
// f32 exp / tanh / erf / log1p use polynomial approximations (a few ulp),
// everything else (expm1, log, sin / cos of large angles, f64) libm.
//
// RUN: %python %S/Inputs/npytool.py save %t.x.npy "np.concatenate([np.linspace(-80, 80, 4001), np.geomspace(1e-30, 10, 500), -np.geomspace(1e-30, 0.99, 500)]).astype(np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.angle.npy "np.concatenate([np.linspace(-100, 100, 1001), np.linspace(1e4, 1e6, 1000), [12437.6, 3.0e5, 8.5e6]]).astype(np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.d.npy "np.linspace(-30, 30, 601)"
// RUN: attnflow-run %s --input=%t.x.npy --input=%t.angle.npy --input=%t.d.npy --output=%t.exp.npy --output=%t.tanh.npy --output=%t.erf.npy --output=%t.log1p.npy --output=%t.expm1.npy --output=%t.log.npy --output=%t.sin.npy --output=%t.cos.npy --output=%t.exp64.npy --output=%t.tanh64.npy
//
// Error in units of the f32 spacing at the float64 reference (ulp).
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.exp(x.astype(np.float64))) <= 4 * np.spacing(np.abs(np.exp(x.astype(np.float64))).astype(np.float32)))" x=%t.x.npy y=%t.exp.npy
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.tanh(x.astype(np.float64))) <= 4 * np.spacing(np.abs(np.tanh(x.astype(np.float64))).astype(np.float32)))" x=%t.x.npy y=%t.tanh.npy
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.vectorize(__import__('math').erf)(x.astype(np.float64))) <= 4 * np.spacing(np.abs(np.vectorize(__import__('math').erf)(x.astype(np.float64))).astype(np.float32)))" x=%t.x.npy y=%t.erf.npy
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.log1p(np.maximum(x, -0.99).astype(np.float64))) <= 4 * np.spacing(np.abs(np.log1p(np.maximum(x, -0.99).astype(np.float64))).astype(np.float32)))" x=%t.x.npy y=%t.log1p.npy
//
// expm1 keeps its precision for tiny x (exp(x) - 1 would return 0).
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.expm1(x.astype(np.float64))) <= 2 * np.spacing(np.abs(np.expm1(x.astype(np.float64))).astype(np.float32)))" x=%t.x.npy y=%t.expm1.npy
// RUN: %python %S/Inputs/npytool.py assert "np.all(np.abs(y - np.log(np.abs(x).astype(np.float64) + 1e-30)) <= 2 * np.spacing(np.abs(np.log(np.abs(x).astype(np.float64) + 1e-30)).astype(np.float32)))" x=%t.x.npy y=%t.log.npy
//
// sin / cos stay accurate for large angles (absolute error of a few f32 ulp
// of 1, not of the angle).
// RUN: %python %S/Inputs/npytool.py assert "np.max(np.abs(y - np.sin(a.astype(np.float64)))) < 2e-7" a=%t.angle.npy y=%t.sin.npy
// RUN: %python %S/Inputs/npytool.py assert "np.max(np.abs(y - np.cos(a.astype(np.float64)))) < 2e-7" a=%t.angle.npy y=%t.cos.npy
//
// f64 math is libm's.
// RUN: %python %S/Inputs/npytool.py assert "np.allclose(y, np.exp(d), rtol=1e-15, atol=0)" d=%t.d.npy y=%t.exp64.npy
// RUN: %python %S/Inputs/npytool.py assert "np.allclose(y, np.tanh(d), rtol=1e-15, atol=1e-300)" d=%t.d.npy y=%t.tanh64.npy

#map = affine_map<(d0) -> (d0)>
func.func @main(%x: tensor<5001xf32>, %a: tensor<2004xf32>, %d: tensor<601xf64>)
    -> (tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>,
        tensor<5001xf32>, tensor<5001xf32>, tensor<2004xf32>, tensor<2004xf32>,
        tensor<601xf64>, tensor<601xf64>) {
  %ex = tensor.empty() : tensor<5001xf32>
  %r:6 = linalg.generic {indexing_maps = [#map, #map, #map, #map, #map, #map, #map],
                         iterator_types = ["parallel"]}
      ins(%x : tensor<5001xf32>)
      outs(%ex, %ex, %ex, %ex, %ex, %ex : tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>,
           tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>) {
  ^bb0(%v: f32, %o0: f32, %o1: f32, %o2: f32, %o3: f32, %o4: f32, %o5: f32):
    %exp = math.exp %v : f32
    %tanh = math.tanh %v : f32
    %erf = math.erf %v : f32
    %lo = arith.constant -0.99 : f32
    %clamped = arith.maximumf %v, %lo : f32
    %log1p = math.log1p %clamped : f32
    %expm1 = math.expm1 %v : f32
    %abs = math.absf %v : f32
    %tiny = arith.constant 1.0e-30 : f32
    %pos = arith.addf %abs, %tiny : f32
    %log = math.log %pos : f32
    linalg.yield %exp, %tanh, %erf, %log1p, %expm1, %log : f32, f32, f32, f32, f32, f32
  } -> (tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>,
        tensor<5001xf32>, tensor<5001xf32>)
  %ea = tensor.empty() : tensor<2004xf32>
  %t:2 = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel"]}
      ins(%a : tensor<2004xf32>) outs(%ea, %ea : tensor<2004xf32>, tensor<2004xf32>) {
  ^bb0(%v: f32, %o0: f32, %o1: f32):
    %sin = math.sin %v : f32
    %cos = math.cos %v : f32
    linalg.yield %sin, %cos : f32, f32
  } -> (tensor<2004xf32>, tensor<2004xf32>)
  %ed = tensor.empty() : tensor<601xf64>
  %e64 = linalg.exp ins(%d : tensor<601xf64>) outs(%ed : tensor<601xf64>) -> tensor<601xf64>
  %t64 = linalg.tanh ins(%d : tensor<601xf64>) outs(%ed : tensor<601xf64>) -> tensor<601xf64>
  return %r#0, %r#1, %r#2, %r#3, %r#4, %r#5, %t#0, %t#1, %e64, %t64
      : tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>, tensor<5001xf32>,
        tensor<5001xf32>, tensor<5001xf32>, tensor<2004xf32>, tensor<2004xf32>,
        tensor<601xf64>, tensor<601xf64>
}
