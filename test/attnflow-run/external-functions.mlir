// Functions a module declares are taken from the process (the C and math
// libraries); error-undefined-function.mlir covers a missing one.
//
// RUN: %python %S/Inputs/npytool.py save %t.x.npy "np.array(0.5, dtype=np.float32)"
// RUN: attnflow-run %s --input=%t.x.npy --output=%t.y.npy
// RUN: %python %S/Inputs/npytool.py assert "abs(y - np.cbrt(0.5)) < 1e-7" y=%t.y.npy

func.func private @cbrtf(f32) -> f32

func.func @main(%a: tensor<f32>) -> tensor<f32> {
  %v = tensor.extract %a[] : tensor<f32>
  %r = func.call @cbrtf(%v) : (f32) -> f32
  %t = tensor.from_elements %r : tensor<f32>
  return %t : tensor<f32>
}
