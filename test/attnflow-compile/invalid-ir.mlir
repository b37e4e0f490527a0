// Invalid IR: MLIR's located diagnostic on one line, exit code 1, no output.
//
// RUN: rm -f %t.ll
// RUN: not attnflow-compile %s --emit=llvm-ir -o %t.ll 2>&1 | FileCheck %s
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t.ll

// CHECK: attnflow-compile: error: {{.*}}invalid-ir.mlir:[[@LINE+3]]:{{[0-9]+}}: custom op 'arith.addx' is unknown
// CHECK: attnflow-compile: error: cannot parse {{.*}}invalid-ir.mlir
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addx %a, %a : tensor<4xf32>
  return %0 : tensor<4xf32>
}
