// Several results, written in order. The module also returns an argument
// unchanged, the same value twice and a constant: each comes back as a buffer
// the runner owns (the pipeline copies them), and nothing is freed twice.
//
// RUN: %python %S/Inputs/npytool.py save %t.a.npy "np.array([1, 2, 3, 4], dtype=np.float64)"
// RUN: %python %S/Inputs/npytool.py save %t.b.npy "np.array([2, 2, 2, 0.5], dtype=np.float64)"
// RUN: attnflow-run %s --input=%t.a.npy --input=%t.b.npy --output=%t.0.npy --output=%t.1.npy --output=%t.2.npy --output=%t.3.npy --output=%t.4.npy --repeat=3
// RUN: %python %S/Inputs/npytool.py print %t.0.npy %t.1.npy %t.2.npy %t.3.npy %t.4.npy | FileCheck %s
//
// Results may be left unwritten: no --output at all.
// RUN: attnflow-run %s --input=%t.a.npy --input=%t.b.npy

// CHECK: float64 (4,)
// CHECK-NEXT: [2.0, 4.0, 6.0, 2.0]
// CHECK-NEXT: float64 (4,)
// CHECK-NEXT: [1.0, 2.0, 3.0, 4.0]
// CHECK-NEXT: int32 (2,)
// CHECK-NEXT: [7, -8]
// CHECK-NEXT: float64 (4,)
// CHECK-NEXT: [2.0, 4.0, 6.0, 2.0]
// CHECK-NEXT: float64 (2, 2)
// CHECK-NEXT: {{\[\[}}1.0, 2.0], [3.0, 4.0]]

func.func @main(%a: tensor<4xf64>, %b: tensor<4xf64>)
    -> (tensor<4xf64>, tensor<4xf64>, tensor<2xi32>, tensor<4xf64>, tensor<2x2xf64>) {
  %empty = tensor.empty() : tensor<4xf64>
  %p = linalg.mul ins(%a, %b : tensor<4xf64>, tensor<4xf64>)
                  outs(%empty : tensor<4xf64>) -> tensor<4xf64>
  %c = arith.constant dense<[7, -8]> : tensor<2xi32>
  %r = tensor.expand_shape %a [[0, 1]] output_shape [2, 2] : tensor<4xf64> into tensor<2x2xf64>
  return %p, %a, %c, %p, %r : tensor<4xf64>, tensor<4xf64>, tensor<2xi32>, tensor<4xf64>, tensor<2x2xf64>
}
