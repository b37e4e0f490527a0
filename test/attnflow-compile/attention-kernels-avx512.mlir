// RUN: attnflow-compile %s --target=cpu --emit=obj --mcpu=znver4 -o %t.o
// RUN: llvm-objdump -d %t.o | FileCheck %s

// The tiled attention kernels on an AVX-512 CPU: both inner products are
// FMAs on 512-bit registers, and exp is a vector polynomial (no libm call).
// CHECK: vfmadd{{[0-9]+}}ps {{.*}}%zmm
// CHECK-NOT: call{{.*}}exp
func.func @main(%q: tensor<1x4x256x128xf32>, %k: tensor<1x2x256x128xf32>, %v: tensor<1x2x256x128xf32>) -> tensor<1x4x256x128xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x256x128xf32>, tensor<1x2x256x128xf32>, tensor<1x2x256x128xf32> -> tensor<1x4x256x128xf32>
  return %o : tensor<1x4x256x128xf32>
}
