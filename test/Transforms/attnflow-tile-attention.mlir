// RUN: attnflow-opt %s --split-input-file --attnflow-tile-attention --canonicalize --cse | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --attnflow-tile-attention="query-tile=16 head-tile=2" --canonicalize --cse | FileCheck %s --check-prefix=GQA
// RUN: not attnflow-opt %s --split-input-file --attnflow-tile-attention="query-tile=0" 2>&1 | FileCheck %s --check-prefix=BAD

// RUN: not attnflow-opt %s --split-input-file --attnflow-tile-attention="head-tile=3" 2>&1 | FileCheck %s --check-prefix=HEADS

// BAD: error: attnflow-tile-attention expects query-tile >= 1 and head-tile >= 0, got 0 and 0
// HEADS: error: attnflow-tile-attention: head-tile = 3 must be 1 or a multiple of Hq / Hkv = 2 that divides Hq = 4

// Causal Llama-style block: tiles of 64 query rows of one head run in an
// scf.forall; each visits keys [0, min(Skv, p_last + 1)) only (no block above
// the diagonal), 64 at a time, masking only the blocks on the diagonal. RoPE of q is fused into the tile (rotating
// exactly the tile's rows); RoPE of k runs once, before the loop nest.
// CHECK-LABEL: func @causal_rope
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x200x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x200x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x200x16xf32>, %[[POS:[a-z0-9]+]]: tensor<200xi64>
// CHECK-DAG:     %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG:     %[[C200:.*]] = arith.constant 200 : index
// CHECK:         %[[KROT:.*]] = attnflow.rope %[[K]], %[[POS]] : tensor<1x2x200x16xf32>
// CHECK:         scf.forall (%[[H:.*]], %[[I:.*]]) = (0, 0) to (4, 200) step (1, 64)
// CHECK:           %[[ROWS:.*]] = affine.min
// CHECK:           %[[QT:.*]] = tensor.extract_slice %[[Q]][0, %[[H]], %[[I]], 0] [1, 1, %[[ROWS]], 16]
// CHECK:           %[[PT:.*]] = tensor.extract_slice %[[POS]][%[[I]]] [%[[ROWS]]]
// CHECK:           %[[QROT:.*]] = attnflow.rope %[[QT]], %[[PT]] : tensor<1x1x?x16xf32>, tensor<?xi64>
// CHECK:           %[[END:.*]] = arith.minsi %{{.*}}, %[[C200]] : index
// CHECK:           scf.for %[[J:.*]] = %{{.*}} to %[[END]] step %[[C64]]
// CHECK:             %[[N:.*]] = affine.min #{{.*}}(%[[J]])[%[[END]]]
// CHECK:             %[[KT:.*]] = tensor.extract_slice %[[KROT]][0, %{{.*}}, %[[J]], 0] [1, 1, %[[N]], 16]
// Blocks wholly below the diagonal (last key <= first row) skip the mask.
// CHECK:             %[[KEND:.*]] = arith.addi %[[J]], %[[N]] : index
// CHECK:             %[[KLAST:.*]] = arith.subi %[[KEND]], %{{.*}} : index
// CHECK:             %[[INTERIOR:.*]] = arith.cmpi sle, %[[KLAST]], %[[I]] : index
// CHECK:             scf.if %[[INTERIOR]]
// CHECK:               attnflow.online_attention %[[QROT]], %[[KT]], %{{.*}} at(%[[I]], %[[J]], %[[H]])
// CHECK-SAME:            {scale = 2.500000e-01 : f64}
// CHECK:             } else {
// CHECK:               attnflow.online_attention %[[QROT]], %[[KT]], %{{.*}} at(%[[I]], %[[J]], %[[H]])
// CHECK-SAME:            {causal = true, scale = 2.500000e-01 : f64}
// CHECK:           linalg.generic
// CHECK:             arith.divf
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice
// CHECK-NOT:     attnflow.attention
func.func @causal_rope(%q: tensor<1x4x200x16xf32>, %k: tensor<1x2x200x16xf32>, %v: tensor<1x2x200x16xf32>, %pos: tensor<200xi64>) -> tensor<1x4x200x16xf32> {
  %qr = attnflow.rope %q, %pos : tensor<1x4x200x16xf32>, tensor<200xi64> -> tensor<1x4x200x16xf32>
  %kr = attnflow.rope %k, %pos : tensor<1x2x200x16xf32>, tensor<200xi64> -> tensor<1x2x200x16xf32>
  %o = attnflow.attention %qr, %kr, %v {causal = true} : tensor<1x4x200x16xf32>, tensor<1x2x200x16xf32>, tensor<1x2x200x16xf32> -> tensor<1x4x200x16xf32>
  return %o : tensor<1x4x200x16xf32>
}

// -----

// Sliding window (left 20) with 2 sink tokens: the sink keys [0, 2) are
// folded first (one block, so no loop is left), then the band
// [max(2, p_first - 20), p_last + 1); keys between them are never read.
// CHECK-LABEL: func @window_sinks
// CHECK-DAG:     %[[C20:.*]] = arith.constant 20 : index
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK:         scf.forall (%{{.*}}, %[[I:.*]]) = (0, 0) to (2, 300) step (1, 64)
// CHECK:           %[[SHIFT:.*]] = arith.subi %[[I]], %[[C20]] : index
// CHECK:           %[[LO0:.*]] = arith.maxsi %[[SHIFT]], %[[C0]] : index
// CHECK:           %[[LO:.*]] = arith.minsi %[[LO0]], %{{.*}} : index
// CHECK:           %[[BANDLO:.*]] = arith.maxsi %[[LO]], %[[C2]] : index
// CHECK:           %[[SINKS:.*]]:3 = scf.if
// CHECK:             attnflow.online_attention {{.*}} at(%[[I]], %[[C0]], %{{.*}})
// CHECK:           scf.for %{{.*}} = %[[BANDLO]] to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[SINKS]]#0, %{{.*}} = %[[SINKS]]#1, %{{.*}} = %[[SINKS]]#2)
// CHECK:             scf.if
// CHECK:               attnflow.online_attention {{.*}} {scale = 1.250000e-01 : f64}
// CHECK:             } else {
// CHECK:               attnflow.online_attention {{.*}} {causal = true, num_sink_tokens = 2 : i64, scale = 1.250000e-01 : f64, window_left = 20 : i64}
func.func @window_sinks(%q: tensor<1x2x300x64xf32>, %k: tensor<1x2x300x64xf32>, %v: tensor<1x2x300x64xf32>) -> tensor<1x2x300x64xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true, window_left = 20 : i64, num_sink_tokens = 2 : i64} : tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32> -> tensor<1x2x300x64xf32>
  return %o : tensor<1x2x300x64xf32>
}

// -----

// A head tile of 2 covers one GQA group (Hq / Hkv = 2): the tile reads kv
// head h / 2 and the online op sees 2 query heads over 1 kv head; without a
// mask all 160 keys are visited in blocks of 64.
// GQA-LABEL: func @gqa_group_tile
// GQA:         scf.forall (%[[H:.*]], %[[I:.*]]) = (0, 0) to (4, 32) step (2, 16)
// GQA:           %[[KVH:.*]] = affine.apply #{{.*}}(%[[H]])
// GQA:           scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}}
// GQA:             tensor.extract_slice %{{.*}}[0, %[[KVH]], %{{.*}}, 0] [1, 1, %{{.*}}, 8]
// GQA:             attnflow.online_attention {{.*}} : tensor<1x2x16x8xf32>, tensor<1x1x?x8xf32>, tensor<1x1x?x8xf32> into tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
func.func @gqa_group_tile(%q: tensor<1x4x32x8xf32>, %k: tensor<1x2x160x8xf32>, %v: tensor<1x2x160x8xf32>) -> tensor<1x4x32x8xf32> {
  %o = attnflow.attention %q, %k, %v : tensor<1x4x32x8xf32>, tensor<1x2x160x8xf32>, tensor<1x2x160x8xf32> -> tensor<1x4x32x8xf32>
  return %o : tensor<1x4x32x8xf32>
}

// -----

// Decode (Sq = 1 <= 16): by default a tile holds a whole GQA group (here 2
// query heads over one kv head), so the group's heads share the key reads.
// CHECK-LABEL: func @decode_group
// CHECK:         scf.forall (%[[H:.*]]) = (0) to (4) step (2)
// CHECK:           attnflow.online_attention {{.*}} at(%{{.*}}, %{{.*}}, %[[H]]) {{.*}} : tensor<1x2x?x64xf32>, tensor<1x1x?x64xf32>, tensor<1x1x?x64xf32> into tensor<1x2x?x64xf32>, tensor<1x2x?xf32>
func.func @decode_group(%q: tensor<1x4x1x64xf32>, %k: tensor<1x2x300x64xf32>, %v: tensor<1x2x300x64xf32>) -> tensor<1x4x1x64xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x1x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32> -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
