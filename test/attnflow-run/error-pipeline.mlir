// A module the CPU pipeline cannot lower (an op without bufferization
// support): located diagnostics, then a summary; no output is written.
//
// RUN: rm -f %t.o.npy
// RUN: not attnflow-run %s --random-inputs --output=%t.o.npy 2>&1 | FileCheck %s
// RUN: %python %S/Inputs/npytool.py absent %t.o.npy

// CHECK: attnflow-run: error: {{.*}}error-pipeline.mlir:[[@LINE+3]]:{{[0-9]+}}: op was not bufferized
// CHECK: attnflow-run: error: lowering {{.*}}error-pipeline.mlir with attnflow-cpu-pipeline failed
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.abs %a : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
