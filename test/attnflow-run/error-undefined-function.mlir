// A function declared but defined nowhere is reported before JIT compilation,
// without LLVM's own "JIT session error" output; no output is written.
//
// RUN: %python %S/Inputs/npytool.py save %t.x.npy "np.array(0.5, dtype=np.float32)"
// RUN: not attnflow-run %s --input=%t.x.npy --output=%t.z.npy 2>&1 | FileCheck %s
// RUN: %python %S/Inputs/npytool.py absent %t.z.npy

// CHECK: attnflow-run: error: function 'attnflow_test_not_defined_anywhere' is declared in {{.*}}error-undefined-function.mlir but defined neither there nor in the C / math libraries
// CHECK-NOT: JIT session error

func.func private @attnflow_test_not_defined_anywhere(f32) -> f32

func.func @main(%a: tensor<f32>) -> tensor<f32> {
  %v = tensor.extract %a[] : tensor<f32>
  %r = func.call @attnflow_test_not_defined_anywhere(%v) : (f32) -> f32
  %t = tensor.from_elements %r : tensor<f32>
  return %t : tensor<f32>
}
