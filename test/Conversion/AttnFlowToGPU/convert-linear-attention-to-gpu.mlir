// RUN: attnflow-opt %s --split-input-file --convert-linear-attention-to-gpu --cse | FileCheck %s
// Grid and block sizes are matched through the names MLIR gives constants
// (%c7 holds 7, %c4160_i32 holds 4160); the exact launches and the kernels'
// numbers are checked by python/tests/test_gpu_linear_simt.py.

// Causal FAVOR+ with GQA (Hq = 4, Hkv = 2, S = 100, D = Dv = 64, M = 128).
// Two logits kernels, [ceil(100 / 16), H, B] blocks of 256 threads with
// 4 * 16 * (64 + 1) = 4160 bytes (16 rows, their norms), write the logits of
// q and k to [B, H, S, M] f32 buffers. The scan kernel has one block per
// (32 value columns, query head, batch): [2, 4, 1], and 4 * (2 * 32 * 129 +
// 32 * 32 + 32 * 33 + 33 * 128 + 8) = 58272 bytes: phi(Q), phi(K) of a
// 32-row chunk, V, the intra-chunk products, S [M, 32], z [M], 8 warp maxima.
// CHECK-LABEL: func.func @causal_favor_gqa
// CHECK-DAG:     %[[Q:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG:     %[[K:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG:     %[[V:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK-DAG:     %[[W:.*]] = bufferization.to_buffer %arg3 read_only
// CHECK-DAG:     %[[OUT:.*]] = memref.alloc() : memref<1x4x100x64xf32>
// CHECK-DAG:     %[[LQ:.*]] = memref.alloc() : memref<1x4x100x128xf32>
// CHECK-DAG:     %[[LK:.*]] = memref.alloc() : memref<1x2x100x128xf32>
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c7{{(_[0-9]+)?}}, %{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) dynamic_shared_memory_size %c4160_i32
// CHECK:           memref.load %[[Q]]
// CHECK:           memref.load %[[W]]
// CHECK:           memref.store %{{.*}}, %[[LQ]]
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c7{{(_[0-9]+)?}}, %{{.*}} = %c2{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) dynamic_shared_memory_size %c4160_i32
// CHECK:           memref.load %[[K]]
// CHECK:           memref.store %{{.*}}, %[[LK]]
// CHECK:         gpu.launch blocks(%{{.*}}, %[[HEAD:.*]], %{{.*}}) in (%{{.*}} = %c2{{(_[0-9]+)?}}, %{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads(%[[TID:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) dynamic_shared_memory_size %c58272_i32
// GQA: query head h reads kv head h / 2.
// CHECK:           %[[KVHEAD:.*]] = arith.divui %[[HEAD]], %c2{{(_[0-9]+)?}} : index
// CHECK-COUNT-2:   memref.view {{.*}} to memref<32x129xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<32x32xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<32x33xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<128x32xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<128x1xf32, #gpu.address_space<workgroup>>
// The key max B of (batch, kv head): a strided max over the key logits,
// warp xor-shuffles, one barrier.
// CHECK:           memref.load %[[LK]][%{{.*}}, %[[KVHEAD]],
// CHECK:           gpu.shuffle  xor
// CHECK:           gpu.barrier
// Chunks of 32 rows, in order: stage, features, exact intra-chunk products,
// output, then the chunk's keys enter S and z.
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:             gpu.barrier
// CHECK:             memref.load %[[LQ]]
// CHECK:             memref.load %[[LK]]
// CHECK:             math.exp
// CHECK:             memref.load %[[V]][%{{.*}}, %[[KVHEAD]],
// CHECK:             gpu.barrier
// The query row's max logit A_i (row of 8 threads: shuffles 4, 2, 1).
// CHECK:             gpu.shuffle  xor
// CHECK:             math.exp
// CHECK:             gpu.barrier
// CHECK:             math.fma
// CHECK:             arith.cmpi sle
// CHECK:             gpu.barrier
// CHECK:             math.fma
// CHECK:             math.fma
// eps rescaled by exp(-(A_i + B)); a zero normaliser gives 0.
// CHECK:             math.exp
// CHECK:             arith.divf
// CHECK:             arith.cmpf ogt
// CHECK:             memref.store %{{.*}}, %[[OUT]][%{{.*}}, %[[HEAD]],
// CHECK:             gpu.barrier
// CHECK:             math.fma
// CHECK:           }
// CHECK:           gpu.terminator
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal_favor_gqa(%q: tensor<1x4x100x64xf32>, %k: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x64xf32>, %w: tensor<128x64xf32>) -> tensor<1x4x100x64xf32> {
  %o = attnflow.linear_attention %q, %k, %v, %w {feature_map = #attnflow.feature_map<favor_plus>, causal = true} : tensor<1x4x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32>, tensor<128x64xf32> -> tensor<1x4x100x64xf32>
  return %o : tensor<1x4x100x64xf32>
}

// -----

// Non-causal relu, f16, Sq = 40 != Skv = 70, Dv = 40 (two slices): the scan
// alone ([2, 2, 2] blocks, 4 * (2 * 32 * 17 + 32 * 32 + 33 * 16 + 8) = 10592
// bytes, no intra-chunk products). Every key chunk enters S and z first,
// then every query chunk reads them; phi = relu is applied as q and k are
// staged (widened to f32); the output is rounded to f16 once.
// CHECK-LABEL: func.func @noncausal_relu_f16
// CHECK-NOT:     gpu.launch
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c2{{(_[0-9]+)?}}, %{{.*}} = %c2{{(_[0-9]+)?}}, %{{.*}} = %c2{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}} dynamic_shared_memory_size %c10592_i32
// CHECK-NOT:       memref<32x33xf32
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[C70:.*]] step %{{.*}} {
// CHECK:             arith.extf
// CHECK:             arith.maximumf
// CHECK:             gpu.barrier
// CHECK:             math.fma
// CHECK:           }
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[C40:.*]] step %{{.*}} {
// CHECK:             arith.maximumf
// CHECK:             gpu.barrier
// CHECK:             math.fma
// CHECK:             arith.divf
// CHECK:             arith.truncf %{{.*}} : f32 to f16
// CHECK:           }
// CHECK-NOT:     gpu.launch
func.func @noncausal_relu_f16(%q: tensor<2x2x40x16xf16>, %k: tensor<2x2x70x16xf16>, %v: tensor<2x2x70x40xf16>) -> tensor<2x2x40x40xf16> {
  %o = attnflow.linear_attention %q, %k, %v {feature_map = #attnflow.feature_map<relu>} : tensor<2x2x40x16xf16>, tensor<2x2x70x16xf16>, tensor<2x2x70x40xf16> -> tensor<2x2x40x40xf16>
  return %o : tensor<2x2x40x40xf16>
}

// -----

// Causal vq_attention, per-kv-head codebooks [2, 64, 32], GQA 4 / 2,
// S = 50. The codes kernel: [ceil(50 / 64), Hkv, B] = [1, 2, 1] blocks of 64
// threads (one key each), 4 * (64 * 33 + 32 * 32) = 12544 bytes (the keys,
// a codebook tile of 32 rows), writing i64 codes [B, Hkv, S]. The scan:
// [1, 4, 1] blocks of 256 threads, 4 * (32 * 33 + 32 * 65 + 32 * 33 + 32 * 32
// + 33 * 64 + 32 * 33) = 33536 bytes: q, the scores / weights against the 64
// codes, the exact block weights, V, the per-code sums [64, 32] and counts,
// a codebook tile of 32 rows.
// CHECK-LABEL: func.func @causal_vq_per_head
// CHECK-DAG:     %[[K:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG:     %[[CB:.*]] = bufferization.to_buffer %arg3 read_only
// CHECK-DAG:     %[[CODES:.*]] = memref.alloc() : memref<1x2x50xi64>
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c2{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c64{{(_[0-9]+)?}}, {{.*}} dynamic_shared_memory_size %c12544_i32
// CHECK:           memref.load %[[K]]
// CHECK:           scf.for
// CHECK:             gpu.barrier
// CHECK:             memref.load %[[CB]]
// CHECK:             gpu.barrier
// First minimum: a strictly smaller distance replaces the best code.
// CHECK:             arith.cmpf olt
// CHECK:           arith.index_cast %{{.*}} : index to i64
// CHECK:           memref.store %{{.*}}, %[[CODES]]
// CHECK:         gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{(_[0-9]+)?}}, %{{.*}} = %c4{{(_[0-9]+)?}}, %{{.*}} = %c1{{(_[0-9]+)?}}) threads({{.*}}) in (%{{.*}} = %c256{{(_[0-9]+)?}}, {{.*}} dynamic_shared_memory_size %c33536_i32
// CHECK:           memref.view {{.*}} to memref<32x65xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view {{.*}} to memref<64x32xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.for
// CHECK:             gpu.barrier
// Scores against every code, tile by tile of 32 staged codebook rows, +
// ln n_c for the row max.
// CHECK:             scf.for
// CHECK:               gpu.barrier
// CHECK:               memref.load %[[CB]]
// CHECK:               gpu.barrier
// CHECK:               math.log
// CHECK:             gpu.barrier
// Exact scores of the block's keys through their codes.
// CHECK:             memref.load %[[CODES]]
// CHECK:             gpu.shuffle  xor
// CHECK:             gpu.barrier
// CHECK:             math.exp
// CHECK:             gpu.barrier
// CHECK:             arith.divf
// Then the block's keys enter the counts and sums (one warp, keys in order).
// CHECK:             gpu.barrier
// CHECK:             scf.if
// CHECK:               memref.load %[[CODES]]
// CHECK:           }
func.func @causal_vq_per_head(%q: tensor<1x4x50x32xf32>, %k: tensor<1x2x50x32xf32>, %v: tensor<1x2x50x32xf32>, %cb: tensor<2x64x32xf32>) -> tensor<1x4x50x32xf32> {
  %o = attnflow.vq_attention %q, %k, %v, %cb {causal = true} : tensor<1x4x50x32xf32>, tensor<1x2x50x32xf32>, tensor<1x2x50x32xf32>, tensor<2x64x32xf32> -> tensor<1x4x50x32xf32>
  return %o : tensor<1x4x50x32xf32>
}

// -----

// f64 keeps the reference decomposition (the kernels compute in f32).
// CHECK-LABEL: func.func @f64_is_left
// CHECK-NOT:     gpu.launch
// CHECK:         attnflow.linear_attention
func.func @f64_is_left(%q: tensor<1x1x8x4xf64>, %k: tensor<1x1x8x4xf64>, %v: tensor<1x1x8x4xf64>) -> tensor<1x1x8x4xf64> {
  %o = attnflow.linear_attention %q, %k, %v {feature_map = #attnflow.feature_map<elu_plus_one>} : tensor<1x1x8x4xf64>, tensor<1x1x8x4xf64>, tensor<1x1x8x4xf64> -> tensor<1x1x8x4xf64>
  return %o : tensor<1x1x8x4xf64>
}
