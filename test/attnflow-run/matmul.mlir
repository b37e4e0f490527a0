// A small f32 matmul; the result is pinned against numbers worked out by hand
// and against numpy.
//
// RUN: %python %S/Inputs/npytool.py save %t.a.npy "np.arange(6, dtype=np.float32).reshape(2, 3)"
// RUN: %python %S/Inputs/npytool.py save %t.b.npy "np.arange(6, dtype=np.float32).reshape(3, 2) * 0.5"
// RUN: rm -f %t.o.npy
// RUN: attnflow-run %s --input=%t.a.npy --input=%t.b.npy --output=%t.o.npy
// RUN: %python %S/Inputs/npytool.py print %t.o.npy | FileCheck %s
// RUN: %python %S/Inputs/npytool.py assert "o.dtype == np.float32 and np.array_equal(o, a @ b)" a=%t.a.npy b=%t.b.npy o=%t.o.npy
//
// The default entry is main; --entry selects another function.
// RUN: attnflow-run %s --entry=matmul_plus_one --input=%t.a.npy --input=%t.b.npy --output=%t.p.npy
// RUN: %python %S/Inputs/npytool.py print %t.p.npy | FileCheck %s --check-prefix=PLUS

// [[0 1 2] [3 4 5]] @ [[0 .5] [1 1.5] [2 2.5]] = [[5 6.5] [14 20]]
// CHECK: float32 (2, 2)
// CHECK-NEXT: {{\[\[}}5.0, 6.5], [14.0, 20.0]]
// PLUS: float32 (2, 2)
// PLUS-NEXT: {{\[\[}}6.0, 7.5], [15.0, 21.0]]

func.func @main(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x2xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>)
                     outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %c : tensor<2x2xf32>
}

func.func @matmul_plus_one(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %c = func.call @main(%a, %b) : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  %one = arith.constant dense<1.0> : tensor<2x2xf32>
  %empty = tensor.empty() : tensor<2x2xf32>
  %d = linalg.add ins(%c, %one : tensor<2x2xf32>, tensor<2x2xf32>)
                  outs(%empty : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %d : tensor<2x2xf32>
}
