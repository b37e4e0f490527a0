// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-gpu --cse | FileCheck %s

// The tensor-core kernel of f16 / bf16 attention. Causal GQA f16 (Hq = 4,
// Hkv = 2, Sq = Skv = 100, D = 64, Dv = 40): a grid of [2, 4, 1] blocks of
// 128 threads (4 warps of 16 query rows) with
// 2 * (64 * 72 + 64 * 72 + 40 * 72) = 24192 bytes of dynamic shared memory:
// Q [64][D + 8], K [64][D + 8] and V^T [Dv][64 + 8], all f16.
// CHECK-LABEL: func.func @causal_gqa_f16
// CHECK-DAG:     %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG:     %[[SMEM:.*]] = arith.constant 24192 : i32
// CHECK:         gpu.launch
// CHECK-SAME:      threads(%[[TID:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C128]],
// CHECK-SAME:      dynamic_shared_memory_size %[[SMEM]]
// CHECK:           %[[QS:.*]] = memref.view {{.*}} to memref<64x72xf16, #gpu.address_space<workgroup>>
// CHECK:           %[[KS:.*]] = memref.view {{.*}} to memref<64x72xf16, #gpu.address_space<workgroup>>
// CHECK:           %[[VT:.*]] = memref.view {{.*}} to memref<40x72xf16, #gpu.address_space<workgroup>>
// Q staged once (kept f16), then per key tile K and V^T (transposed store)
// between two barriers; no third barrier: P stays in registers.
// CHECK:           scf.for %{{.*}} = %[[TID]] to %{{.*}} step %[[C128]]
// CHECK:             memref.store %{{.*}}, %[[QS]][%{{.*}}, %{{.*}}] : memref<64x72xf16
// CHECK:           scf.for %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// CHECK:             gpu.barrier
// CHECK:             memref.store %{{.*}}, %[[KS]][%[[KR:.*]], %[[KC:.*]]] : memref<64x72xf16
// CHECK:             memref.store %{{.*}}, %[[VT]][%[[VC:.*]], %[[VR:.*]]] : memref<40x72xf16
// CHECK:             gpu.barrier
// S = Q K^T: k-steps of 16 over D, 8 n-tiles of 8 keys; fragments are
// 32-bit loads of element pairs.
// CHECK:             scf.for %{{.*}} = %c0 to %c64 step %c16 iter_args
// CHECK:               vector.load %[[QS]][{{.*}}] {alignment = 4 : i64} : memref<64x72xf16, #gpu.address_space<workgroup>>, vector<2xf16>
// CHECK:               vector.from_elements {{.*}} : vector<4x2xf16>
// CHECK:               vector.load %[[KS]]
// CHECK:               vector.from_elements {{.*}} : vector<2x2xf16>
// CHECK:               nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// Row max over a quad (xor 2, 1), P = exp(s - m) rounded to f16.
// CHECK:             gpu.shuffle  xor %{{.*}}, %c2_i32
// CHECK:             gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK:             math.exp
// CHECK:             arith.truncf %{{.*}} : f32 to f16
// O += P V: P's C fragments are the A operand; V^T fragments.
// CHECK:             vector.from_elements {{.*}} : vector<4x2xf16>
// CHECK:             vector.load %[[VT]]
// CHECK:             nvgpu.mma.sync
// CHECK-NOT:         gpu.barrier
// CHECK:             scf.yield
// Final sums over the quad; rows < 100 and columns < 40 are written.
// CHECK:           gpu.shuffle  xor
// CHECK:           arith.divf
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK:           memref.store %{{.*}} : memref<1x4x100x40xf16>
func.func @causal_gqa_f16(%q: tensor<1x4x100x64xf16>, %k: tensor<1x2x100x64xf16>, %v: tensor<1x2x100x40xf16>) -> tensor<1x4x100x40xf16> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x100x64xf16>, tensor<1x2x100x64xf16>, tensor<1x2x100x40xf16> -> tensor<1x4x100x40xf16>
  return %o : tensor<1x4x100x40xf16>
}

// -----

// bf16 with D = 40, Dv = 17: padded to 48 (the mma's k) and 24 (its n),
// the padding staged as 0; 2 * (64 * 56 + 64 * 56 + 24 * 72) = 17792 bytes.
// CHECK-LABEL: func.func @bf16_padded
// CHECK-DAG:     arith.constant 17792 : i32
// CHECK:         gpu.launch
// CHECK:           memref.view {{.*}} to memref<64x56xbf16, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<24x72xbf16, #gpu.address_space<workgroup>>
// CHECK:           scf.for %{{.*}} = %c0 to %c48 step %c16
// CHECK:             nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
func.func @bf16_padded(%q: tensor<1x1x16x40xbf16>, %k: tensor<1x1x16x40xbf16>, %v: tensor<1x1x16x17xbf16>) -> tensor<1x1x16x17xbf16> {
  %o = attnflow.attention %q, %k, %v : tensor<1x1x16x40xbf16>, tensor<1x1x16x40xbf16>, tensor<1x1x16x17xbf16> -> tensor<1x1x16x17xbf16>
  return %o : tensor<1x1x16x17xbf16>
}

// -----

// bf16 mma.sync, which MLIR 22's --convert-nvgpu-to-nvvm rejects, becomes
// nvvm.mma.sync on the fragments' 32-bit registers.
// RUN: attnflow-opt %s --split-input-file --attnflow-lower-bf16-mma-sync | FileCheck %s --check-prefix=BF16
// BF16-LABEL: func.func @bf16_mma
// BF16-COUNT-6: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// BF16:         nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// BF16-COUNT-4: llvm.extractvalue
// BF16:         vector.from_elements {{.*}} : vector<2x2xf32>
// BF16-NOT:     nvgpu.mma.sync
// BF16-LABEL: func.func @f16_mma
// BF16:         nvgpu.mma.sync
func.func @bf16_mma(%a: vector<4x2xbf16>, %b: vector<2x2xbf16>, %c: vector<2x2xf32>) -> vector<2x2xf32> {
  %d = nvgpu.mma.sync(%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %d : vector<2x2xf32>
}
func.func @f16_mma(%a: vector<4x2xf16>, %b: vector<2x2xf16>, %c: vector<2x2xf32>) -> vector<2x2xf32> {
  %d = nvgpu.mma.sync(%a, %b, %c) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
  return %d : vector<2x2xf32>
}
