// f16 arguments and results are float16 files; a bf16 argument is read from
// a float32 file and rounded to nearest even, a bf16 result is written as
// float32.
//
// RUN: %python %S/Inputs/npytool.py save %t.h.npy "np.array([1.5, 300.0, 6e-5, -0.0], dtype=np.float16)"
// RUN: %python %S/Inputs/npytool.py save %t.b.npy "np.array([1.0, 1.00390625, 1.01171875, np.nextafter(np.float32(1.00390625), np.float32(2)), 3.0e38, 0.1], dtype=np.float32)"
// RUN: attnflow-run %s --input=%t.h.npy --input=%t.b.npy --output=%t.hh.npy --output=%t.bb.npy --output=%t.bf.npy
// RUN: %python %S/Inputs/npytool.py print %t.hh.npy %t.bb.npy %t.bf.npy | FileCheck %s

// h * h in f16: 300^2 overflows to inf, 6e-5^2 underflows to 0.
// CHECK: float16 (4,)
// CHECK-NEXT: [2.25, inf, 0.0, 0.0]
//
// b rounded to bf16, then b + b:
//   1.00390625 = 1 + 2^-8 is a tie between 1.0 and 1.0078125: even -> 1.0
//   1.01171875 = 1 + 3 * 2^-8 ties between 1.0078125 (odd) and 1.015625
//   the float just above 1 + 2^-8 is past the tie -> 1.0078125
//   3.0e38 = 225.7 * 2^120 -> 226 * 2^120 = 3.0041e38 (bf16 max 3.3895e38),
//   doubled: inf
//   0.1 -> 0.10009765625
// CHECK-NEXT: float32 (6,)
// CHECK-NEXT: [2.0, 2.0, 2.03125, 2.015625, inf, 0.2001953125]
//
// The bf16 argument itself, widened to f32 in the module.
// CHECK-NEXT: float32 (6,)
// CHECK-NEXT: [1.0, 1.0, 1.015625, 1.0078125, 3.00405527047391e+38, 0.10009765625]

#map = affine_map<(d0) -> (d0)>
func.func @main(%h: tensor<4xf16>, %b: tensor<6xbf16>)
    -> (tensor<4xf16>, tensor<6xbf16>, tensor<6xf32>) {
  %eh = tensor.empty() : tensor<4xf16>
  %hh = linalg.mul ins(%h, %h : tensor<4xf16>, tensor<4xf16>)
                   outs(%eh : tensor<4xf16>) -> tensor<4xf16>
  %eb = tensor.empty() : tensor<6xbf16>
  %bb = linalg.add ins(%b, %b : tensor<6xbf16>, tensor<6xbf16>)
                   outs(%eb : tensor<6xbf16>) -> tensor<6xbf16>
  %ef = tensor.empty() : tensor<6xf32>
  %bf = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%b : tensor<6xbf16>) outs(%ef : tensor<6xf32>) {
  ^bb0(%x: bf16, %out: f32):
    %w = arith.extf %x : bf16 to f32
    linalg.yield %w : f32
  } -> tensor<6xf32>
  return %hh, %bb, %bf : tensor<4xf16>, tensor<6xbf16>, tensor<6xf32>
}
