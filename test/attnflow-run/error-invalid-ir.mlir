// Invalid IR is reported with MLIR's location, one line per diagnostic.
//
// RUN: not attnflow-run %s --random-inputs --output=%t.o.npy 2>&1 | FileCheck %s
// RUN: %python %S/Inputs/npytool.py absent %t.o.npy

// CHECK: attnflow-run: error: {{.*}}error-invalid-ir.mlir:[[@LINE+5]]:{{[0-9]+}}: use of value '%a' expects different type than prior uses: 'tensor<4xf64>' vs 'tensor<4xf32>'
// CHECK-NEXT: attnflow-run: note: {{.*}}error-invalid-ir.mlir:[[@LINE+3]]:{{[0-9]+}}: prior use here
// CHECK-NEXT: attnflow-run: error: cannot parse {{.*}}error-invalid-ir.mlir
// CHECK-NOT: {{.}}
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = arith.addf %a, %a : tensor<4xf64>
  return %0 : tensor<4xf32>
}
