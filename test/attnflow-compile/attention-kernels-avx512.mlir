// RUN: attnflow-compile %s --target=cpu --emit=obj --mcpu=znver4 -o %t.o
// RUN: llvm-objdump -d %t.o | FileCheck %s
// RUN: attnflow-compile %s --target=cpu --emit=mlir --mcpu=znver4 -o - | FileCheck %s --check-prefix=ZMM
// RUN: attnflow-compile %s --target=cpu --emit=mlir --mcpu=haswell -o - | FileCheck %s --check-prefix=YMM

// The register tiles follow --mcpu: 2 vectors of 16 f32 lanes with AVX-512,
// of 8 with AVX2.
// ZMM: llvm.intr.fma({{.*}}) : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// YMM: llvm.intr.fma({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>

// The tiled attention kernels on an AVX-512 CPU: both inner products are
// FMAs on 512-bit registers, and exp is a vector polynomial (no libm call).
// CHECK: vfmadd{{[0-9]+}}ps {{.*}}%zmm
// CHECK-NOT: call{{.*}}exp
func.func @main(%q: tensor<1x4x256x128xf32>, %k: tensor<1x2x256x128xf32>, %v: tensor<1x2x256x128xf32>) -> tensor<1x4x256x128xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x256x128xf32>, tensor<1x2x256x128xf32>, tensor<1x2x256x128xf32> -> tensor<1x4x256x128xf32>
  return %o : tensor<1x4x256x128xf32>
}
