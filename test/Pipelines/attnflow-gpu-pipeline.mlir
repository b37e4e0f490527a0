// RUN: attnflow-opt %s --attnflow-gpu-pipeline | FileCheck %s
// RUN: attnflow-opt %s --attnflow-gpu-pipeline="chip=sm_80 block-size=128" | FileCheck %s --check-prefix=SM80
// RUN: not attnflow-opt %s --attnflow-gpu-pipeline="chip=sm_75" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not attnflow-opt %s --attnflow-gpu-pipeline="format=elf" 2>&1 | FileCheck %s --check-prefix=FORMAT

// RoPE then causal GQA attention (Hq = 4, Hkv = 2, S = 100, D = 64), lowered
// to host code that launches two kernels from one GPU module:
//  - RoPE elementwise over all 4 * 100 * 64 = 25600 elements: 100 blocks of
//    256 threads (200 of 128 with block-size=128);
//  - attention: [ceil(100 / 64), Hq, B] = [2, 4, 1] blocks of 256 threads
//    with 66304 bytes of dynamic shared memory.
// The rotated q is a device buffer freed after the attention kernel; the
// result is a fresh device buffer returned to the caller; the function
// synchronises its stream before it returns.
// The host's copy of the RoPE frequency table is dead (the kernel reads the
// GPU module's copy) and removed.
// CHECK-NOT:   __constant_32xf32
// CHECK-LABEL: llvm.func @main(
// CHECK-DAG:     %[[C1:.*]] = llvm.mlir.constant(1 : index) : i64
// CHECK-DAG:     %[[C2:.*]] = llvm.mlir.constant(2 : index) : i64
// CHECK-DAG:     %[[C4:.*]] = llvm.mlir.constant(4 : index) : i64
// CHECK-DAG:     %[[C100:.*]] = llvm.mlir.constant(100 : index) : i64
// CHECK-DAG:     %[[C256:.*]] = llvm.mlir.constant(256 : index) : i64
// CHECK-DAG:     %[[SMEM:.*]] = llvm.mlir.constant(66304 : i32) : i32
// CHECK:         %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// CHECK:         %[[ROPE:.*]] = llvm.call @mgpuMemAlloc(
// CHECK:         gpu.launch_func <%[[STREAM]] : !llvm.ptr> @main_kernel::@main_kernel blocks in (%[[C100]], %[[C1]], %[[C1]]) threads in (%[[C256]], %[[C1]], %[[C1]]) : i64 args(
// CHECK:         %[[OUT:.*]] = llvm.call @mgpuMemAlloc(
// CHECK:         gpu.launch_func <%[[STREAM]] : !llvm.ptr> @main_kernel::@main_kernel_0 blocks in (%[[C2]], %[[C4]], %[[C1]]) threads in (%[[C256]], %[[C1]], %[[C1]]) : i64 dynamic_shared_memory_size %[[SMEM]] args(
// CHECK:         llvm.call @mgpuMemFree(%[[ROPE]], %[[STREAM]])
// CHECK:         llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK:         llvm.call @mgpuStreamDestroy(%[[STREAM]])
// CHECK:       llvm.func @_mlir_ciface_main(
// CHECK:       gpu.binary @main_kernel  [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
// CHECK-SAME:    .target sm_90
// CHECK-SAME:    .visible .entry main_kernel(
// CHECK-SAME:    .visible .entry main_kernel_0(
// CHECK-NOT:   gpu.binary
// CHECK:       llvm.mlir.global external constant @_attnflow_signature_main("1x4x100x64xf32,1x2x100x64xf32,1x2x100x64xf32,100xi64->1x4x100x64xf32\00")

// SM80-DAG:    %[[C128:.*]] = llvm.mlir.constant(128 : index) : i64
// SM80-DAG:    %[[C200:.*]] = llvm.mlir.constant(200 : index) : i64
// SM80-DAG:    %[[C1:.*]] = llvm.mlir.constant(1 : index) : i64
// SM80:        gpu.launch_func {{.*}} @main_kernel::@main_kernel blocks in (%[[C200]], %[[C1]], %[[C1]]) threads in (%[[C128]], %[[C1]], %[[C1]])
// SM80:        gpu.binary @main_kernel  [#gpu.object<#nvvm.target<chip = "sm_80", features = "+ptx80">
// SM80-SAME:     .target sm_80

// CHIP: attnflow-gpu-pipeline: chip must be sm_80 or sm_90, got 'sm_75'
// FORMAT: attnflow-gpu-pipeline: format must be isa, bin or fatbin, got 'elf'
func.func @main(%q: tensor<1x4x100x64xf32>, %k: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x64xf32>, %pos: tensor<100xi64>) -> tensor<1x4x100x64xf32> {
  %qr = attnflow.rope %q, %pos : tensor<1x4x100x64xf32>, tensor<100xi64> -> tensor<1x4x100x64xf32>
  %o = attnflow.attention %qr, %k, %v {causal = true} : tensor<1x4x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32> -> tensor<1x4x100x64xf32>
  return %o : tensor<1x4x100x64xf32>
}
