// The SIMT kernel (f32; f16 / bf16 with tensor-cores=false, as here; the
// tensor-core kernel is convert-attnflow-to-gpu-mma.mlir).
// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-gpu=tensor-cores=false --cse | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-gpu --cse | FileCheck %s --check-prefix=DEFAULT

// Causal GQA attention (Hq = 4, Hkv = 2, Sq = Skv = 100, D = 64): a grid of
// [ceil(100 / 64), Hq, B] = [2, 4, 1] blocks of 256 threads with
// 4 * (64 * 65 + 64 * 65 + 64 * 64 + 64 * 65) = 66304 bytes of dynamic
// shared memory (Q, K padded by one column; V; P padded). Inputs are read
// through read-only buffers, the output is a fresh buffer.
// CHECK-LABEL: func.func @causal_gqa
// CHECK-DAG:     %[[Q:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG:     %[[K:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG:     %[[V:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK:         %[[OUT:.*]] = memref.alloc() : memref<1x4x100x64xf32>
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG:     %[[SMEM:.*]] = arith.constant 66304 : i32
// CHECK:         gpu.launch blocks(%[[TILE:[a-z0-9]+]], %[[HEAD:[a-z0-9]+]], %[[BATCH:[a-z0-9]+]]) in (%{{[a-z0-9]+}} = %[[C2]], %{{[a-z0-9]+}} = %[[C4]], %{{[a-z0-9]+}} = %[[C1]])
// CHECK-SAME:      threads(%[[TID:[a-z0-9]+]], %{{[a-z0-9]+}}, %{{[a-z0-9]+}}) in (%{{[a-z0-9]+}} = %[[C256]], %{{[a-z0-9]+}} = %[[C1]], %{{[a-z0-9]+}} = %[[C1]])
// CHECK-SAME:      dynamic_shared_memory_size %[[SMEM]]
// GQA: query head h reads kv head h / 2.
// CHECK:           %[[KVHEAD:.*]] = arith.divui %[[HEAD]], %[[C2]] : index
// CHECK:           %[[SHARED:.*]] = gpu.dynamic_shared_memory
// CHECK:           memref.view %[[SHARED]]{{.*}} to memref<64x65xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view %[[SHARED]]{{.*}} to memref<64x65xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view %[[SHARED]]{{.*}} to memref<64x64xf32, #gpu.address_space<workgroup>>
// CHECK:           memref.view %[[SHARED]]{{.*}} to memref<64x65xf32, #gpu.address_space<workgroup>>
// The query tile is staged once, coalesced: thread t copies elements t, t + 256, ...
// CHECK:           scf.for %{{.*}} = %[[TID]] to %{{.*}} step %[[C256]]
// CHECK:             memref.load %[[Q]][%[[BATCH]], %[[HEAD]],
// Causal band: keys [0, min(100, p_last + 1)) in tiles of 64, each staged
// between two barriers.
// CHECK:           scf.for %[[KSTART:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:             gpu.barrier
// CHECK:             memref.load %[[K]][%[[BATCH]], %[[KVHEAD]],
// CHECK:             memref.load %[[V]][%[[BATCH]], %[[KVHEAD]],
// CHECK:             gpu.barrier
// CHECK:             math.fma
// Row max and row sum over a half warp: xor shuffles 8, 4, 2, 1.
// CHECK:             gpu.shuffle  xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK:             math.exp
// CHECK:             gpu.barrier
// CHECK:             scf.for
// CHECK:               math.fma
// Rows without a visible key give 0; only rows < 100 are written.
// CHECK:           arith.divf
// CHECK:           memref.store %{{.*}}, %[[OUT]][%[[BATCH]], %[[HEAD]], %{{.*}}, %{{.*}}] : memref<1x4x100x64xf32>
// CHECK:           gpu.terminator
// CHECK:         bufferization.to_tensor %[[OUT]] restrict writable
func.func @causal_gqa(%q: tensor<1x4x100x64xf32>, %k: tensor<1x2x100x64xf32>, %v: tensor<1x2x100x64xf32>) -> tensor<1x4x100x64xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x100x64xf32>, tensor<1x2x100x64xf32>, tensor<1x2x100x64xf32> -> tensor<1x4x100x64xf32>
  return %o : tensor<1x4x100x64xf32>
}

// -----

// Sink tokens: the window band starts at max(2, p_first - 20); the sink keys
// [0, 2) are folded first, by their own loop.
// CHECK-LABEL: func.func @window_sinks
// CHECK:         gpu.launch
// CHECK:           arith.maxsi %{{.*}}, %c2 : index
// CHECK:           %[[SINKS:.*]]:{{[0-9]+}} = scf.for %{{.*}} = %c0 to %c2 step %c64
// CHECK:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c64 iter_args(%{{.*}} = %[[SINKS]]#0,
func.func @window_sinks(%q: tensor<1x2x300x64xf32>, %k: tensor<1x2x300x64xf32>, %v: tensor<1x2x300x64xf32>) -> tensor<1x2x300x64xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true, window_left = 20 : i64, num_sink_tokens = 2 : i64} : tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32> -> tensor<1x2x300x64xf32>
  return %o : tensor<1x2x300x64xf32>
}

// -----

// bf16 with D = 256 (Gemma): key tiles of 32 to fit the shared memory,
// 4 * (64 * 257 + 32 * 257 + 32 * 256 + 64 * 33) = 139904 bytes; inputs are
// widened to f32 when staged and the output rounded once.
// (By default bf16 takes the tensor-core kernel instead; f32 never does.)
// DEFAULT-LABEL: func.func @causal_gqa
// DEFAULT-NOT:   nvgpu.mma.sync
// DEFAULT-LABEL: func.func @bf16_d256
// DEFAULT:         nvgpu.mma.sync
// CHECK-LABEL: func.func @bf16_d256
// CHECK-DAG:     arith.constant 139904 : i32
// CHECK:         gpu.launch
// CHECK:           memref.view {{.*}} to memref<32x257xf32, #gpu.address_space<workgroup>>
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
func.func @bf16_d256(%q: tensor<1x2x16x256xbf16>, %k: tensor<1x2x16x256xbf16>, %v: tensor<1x2x16x256xbf16>) -> tensor<1x2x16x256xbf16> {
  %o = attnflow.attention %q, %k, %v : tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16>, tensor<1x2x16x256xbf16> -> tensor<1x2x16x256xbf16>
  return %o : tensor<1x2x16x256xbf16>
}

// -----

// Score terms: ALiBi slopes are a constant table indexed by the block's
// head, softcap is tanh, the bias is read per score.
// CHECK-LABEL: func.func @alibi_softcap_bias
// CHECK:         gpu.launch blocks(%{{[a-z0-9]+}}, %[[HEAD:[a-z0-9]+]], %{{[a-z0-9]+}}) in
// CHECK:           %[[SLOPES:.*]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : vector<2xf32>
// CHECK:           vector.extract %[[SLOPES]][%[[HEAD]]] : f32 from vector<2xf32>
// CHECK:           math.tanh
// CHECK:           memref.load %{{.*}}[%c0, %[[HEAD]], %{{.*}}, %{{.*}}] : memref<1x2x8x8xf32>
func.func @alibi_softcap_bias(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<1x2x8x8xf32>) -> tensor<1x2x8x16xf32> {
  %o = attnflow.attention %q, %k, %v, %b {alibi_slopes = array<f64: 0.5, 0.25>, logit_softcap = 30.0 : f64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32> -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}
