// REQUIRES: ptxas
// f16 and bf16 attention on the tensor-core kernel (the default for them):
// D = Dv = 64, 128 (f16, GQA) and 256 (bf16, Gemma-2's softcap and window)
// assemble for both chips, with m16n8k16 mma.sync on f32 accumulators for
// both Q K^T and P V, 32-bit shared loads of the fragments, quad shuffles,
// and P rounded to the element type (packed: cvt.rn.f16x2.f32). f32 keeps
// the SIMT kernel (no mma).
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.sm_80.ptx -o %t.sm_80.cubin
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.sm_90.ptx -o %t.sm_90.cubin
// RUN: FileCheck %s --input-file=%t.sm_80.ptx
// RUN: FileCheck %s --input-file=%t.sm_90.ptx --check-prefix=SM90
// RUN: attnflow-opt %s --convert-attnflow-to-gpu | FileCheck %s --check-prefix=KERNEL

// CHECK: .target sm_80
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-DAG: ld.shared.b32
// CHECK-DAG: shfl.sync.bfly.b32 {{.*}}, 2, 31, -1;
// CHECK-DAG: cvt.rn.f16x2.f32
// CHECK-DAG: cvt.rn.bf16x2.f32

// SM90: .target sm_90
// SM90-DAG: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// SM90-DAG: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// 128 threads; 16-bit Q [64][D + 8], K [64][D + 8], V^T [Dv][64 + 8].
// KERNEL-LABEL: func.func @main
// KERNEL: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c128{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size
// KERNEL: memref<64x72xf16, #gpu.address_space<workgroup>>
// KERNEL: memref<64x72xf16, #gpu.address_space<workgroup>>
// KERNEL: memref<64x72xf16, #gpu.address_space<workgroup>>
// KERNEL: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// KERNEL: memref<64x136xf16, #gpu.address_space<workgroup>>
// KERNEL: memref<128x72xf16, #gpu.address_space<workgroup>>
// KERNEL: memref<64x264xbf16, #gpu.address_space<workgroup>>
// KERNEL: memref<256x72xbf16, #gpu.address_space<workgroup>>
// KERNEL: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// The f32 attention keeps the SIMT kernel.
// KERNEL: memref<64x65xf32, #gpu.address_space<workgroup>>
// KERNEL-NOT: nvgpu.mma.sync
// KERNEL: return
func.func @main(%q: tensor<1x4x64x64xf16>, %k: tensor<1x4x64x64xf16>, %v: tensor<1x4x64x64xf16>,
                %q2: tensor<1x32x128x128xf16>, %k2: tensor<1x8x128x128xf16>, %v2: tensor<1x8x128x128xf16>,
                %q3: tensor<1x8x128x256xbf16>, %k3: tensor<1x4x128x256xbf16>, %v3: tensor<1x4x128x256xbf16>,
                %q4: tensor<1x4x64x64xf32>, %k4: tensor<1x4x64x64xf32>, %v4: tensor<1x4x64x64xf32>)
    -> (tensor<1x4x64x64xf16>, tensor<1x32x128x128xf16>, tensor<1x8x128x256xbf16>, tensor<1x4x64x64xf32>) {
  %o = attnflow.attention %q, %k, %v
      : tensor<1x4x64x64xf16>, tensor<1x4x64x64xf16>, tensor<1x4x64x64xf16> -> tensor<1x4x64x64xf16>
  %o2 = attnflow.attention %q2, %k2, %v2 {causal = true}
      : tensor<1x32x128x128xf16>, tensor<1x8x128x128xf16>, tensor<1x8x128x128xf16> -> tensor<1x32x128x128xf16>
  %o3 = attnflow.attention %q3, %k3, %v3 {causal = true, logit_softcap = 50.0 : f64, window_left = 4095 : i64}
      : tensor<1x8x128x256xbf16>, tensor<1x4x128x256xbf16>, tensor<1x4x128x256xbf16> -> tensor<1x8x128x256xbf16>
  %o4 = attnflow.attention %q4, %k4, %v4 {causal = true}
      : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32> -> tensor<1x4x64x64xf32>
  return %o, %o2, %o3, %o4 : tensor<1x4x64x64xf16>, tensor<1x32x128x128xf16>, tensor<1x8x128x256xbf16>, tensor<1x4x64x64xf32>
}
