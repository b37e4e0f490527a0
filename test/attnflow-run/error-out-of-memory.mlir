// An allocation of the compiled function that fails (4 TiB here) is reported
// and the run exits non-zero before writing outputs, instead of the code
// writing through the null pointer malloc returned.
// RUN: rm -f %t.npy
// RUN: not attnflow-run %s --output=%t.npy 2>&1 | FileCheck %s
// RUN: not test -e %t.npy
// CHECK: attnflow-run: error: out of memory: the compiled function could not allocate 43980465111{{[0-9]+}} bytes
func.func @main() -> tensor<1099511627776xf32> {
  %one = arith.constant 1.0 : f32
  %empty = tensor.empty() : tensor<1099511627776xf32>
  %filled = linalg.fill ins(%one : f32) outs(%empty : tensor<1099511627776xf32>) -> tensor<1099511627776xf32>
  return %filled : tensor<1099511627776xf32>
}
