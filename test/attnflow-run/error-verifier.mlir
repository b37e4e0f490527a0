// A module that parses but fails the verifier.
//
// RUN: not attnflow-run %s --random-inputs 2>&1 | FileCheck %s

// CHECK: attnflow-run: error: {{.*}}error-verifier.mlir:[[@LINE+3]]:{{[0-9]+}}: 'func.return' op has 1 operands, but enclosing function (@main) returns 0
// CHECK: attnflow-run: error: cannot parse
func.func @main(%a: tensor<4xf32>) {
  return %a : tensor<4xf32>
}
