// A statically shaped argument whose byte size overflows is rejected before
// anything is allocated (no wrapped-around allocation, no crash).
// RUN: not attnflow-run %s --random-inputs 2>&1 | FileCheck %s
// CHECK: attnflow-run: error: argument 0 of 'main' (tensor<4611686018427387904xf32>) is too large to allocate
func.func @main(%a: tensor<4611686018427387904xf32>) -> tensor<4611686018427387904xf32> {
  return %a : tensor<4611686018427387904xf32>
}
