// A 0-d result is written with shape (); a 0-d argument is read from one.
//
// RUN: %python %S/Inputs/npytool.py save %t.x.npy "np.array([1.5, 2.0, -0.5, 4.0], dtype=np.float32)"
// RUN: %python %S/Inputs/npytool.py save %t.s.npy "np.array(10.0, dtype=np.float64)"
// RUN: attnflow-run %s --input=%t.x.npy --input=%t.s.npy --output=%t.sum.npy --output=%t.scaled.npy
// RUN: %python %S/Inputs/npytool.py print %t.sum.npy %t.scaled.npy | FileCheck %s

// CHECK: float32 ()
// CHECK-NEXT: 7.0
// CHECK-NEXT: float64 ()
// CHECK-NEXT: 70.0

func.func @main(%x: tensor<4xf32>, %s: tensor<f64>) -> (tensor<f32>, tensor<f64>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%x : tensor<4xf32>) outs(%init : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %r = arith.addf %in, %acc : f32
      linalg.yield %r : f32
    }
  %v = tensor.extract %sum[] : tensor<f32>
  %vd = arith.extf %v : f32 to f64
  %sv = tensor.extract %s[] : tensor<f64>
  %p = arith.mulf %vd, %sv : f64
  %scaled = tensor.from_elements %p : tensor<f64>
  return %sum, %scaled : tensor<f32>, tensor<f64>
}
