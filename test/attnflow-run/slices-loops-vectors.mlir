// Slices, transposes, loops carrying tensors and vector ops go through the
// CPU pipeline (strided copies become loops: no runtime-library call).
//
// RUN: %python %S/Inputs/npytool.py save %t.a.npy "np.arange(24, dtype=np.float32).reshape(4, 6)"
// RUN: attnflow-run %s --input=%t.a.npy --output=%t.t.npy --output=%t.ins.npy --output=%t.s.npy --output=%t.w.npy
// RUN: %python %S/Inputs/npytool.py assert "np.array_equal(t, a.T)" a=%t.a.npy t=%t.t.npy
// RUN: %python %S/Inputs/npytool.py assert "np.array_equal(s, a[1:3, 1:6:2])" a=%t.a.npy s=%t.s.npy
// RUN: %python %S/Inputs/npytool.py assert "np.array_equal(i[2:4, 1:4], a[1:3, 1:6:2]) and i.sum() == a[1:3, 1:6:2].sum()" a=%t.a.npy i=%t.ins.npy
// RUN: %python %S/Inputs/npytool.py assert "np.array_equal(w, a[:, 0:3].sum(1) ** 2)" a=%t.a.npy w=%t.w.npy
// RUN: attnflow-compile %s --emit=mlir | FileCheck %s --implicit-check-not=memrefCopy
// CHECK: llvm.func @main

func.func @main(%a: tensor<4x6xf32>) -> (tensor<6x4xf32>, tensor<4x6xf32>, tensor<2x3xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<6x4xf32>
  %t = linalg.transpose ins(%a : tensor<4x6xf32>) outs(%e : tensor<6x4xf32>) permutation = [1, 0]
  %s = tensor.extract_slice %a[1, 1] [2, 3] [1, 2] : tensor<4x6xf32> to tensor<2x3xf32>
  %z = arith.constant dense<0.0> : tensor<4x6xf32>
  %ins = tensor.insert_slice %s into %z[2, 1] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<4x6xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %init = arith.constant dense<0.0> : tensor<4xf32>
  %loop = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %init) -> tensor<4xf32> {
    %col = tensor.extract_slice %a[0, %i] [4, 1] [1, 1] : tensor<4x6xf32> to tensor<4xf32>
    %ee = tensor.empty() : tensor<4xf32>
    %sum = linalg.add ins(%acc, %col : tensor<4xf32>, tensor<4xf32>) outs(%ee : tensor<4xf32>) -> tensor<4xf32>
    scf.yield %sum : tensor<4xf32>
  }
  %pad = arith.constant 0.0 : f32
  %v = vector.transfer_read %loop[%c0], %pad : tensor<4xf32>, vector<4xf32>
  %v2 = arith.mulf %v, %v : vector<4xf32>
  %w = vector.transfer_write %v2, %loop[%c0] : vector<4xf32>, tensor<4xf32>
  return %t, %ins, %s, %w : tensor<6x4xf32>, tensor<4x6xf32>, tensor<2x3xf32>, tensor<4xf32>
}
