// RUN: attnflow-opt %s --split-input-file --attnflow-chunk-linear-attention="chunk-size=32 vq-block=16" --canonicalize --cse | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --attnflow-chunk-linear-attention --canonicalize --cse | FileCheck %s --check-prefix=DEFAULT
// No [S, S] (or [Sq, Skv]) tensor anywhere: chunks are [G, L, L] at most.
// RUN: attnflow-opt %s --split-input-file --attnflow-chunk-linear-attention="chunk-size=32 vq-block=16" | FileCheck %s --check-prefix=NOSQ
// RUN: not attnflow-opt %s --split-input-file --attnflow-chunk-linear-attention="chunk-size=0" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not attnflow-opt %s --split-input-file --attnflow-chunk-linear-attention="vector-width=0" 2>&1 | FileCheck %s --check-prefix=BADW
// The CPU pipeline runs the pass (no linear_attention survives to the
// reference decomposition's [S, S] kernel).
// RUN: attnflow-opt %s --split-input-file --attnflow-cpu-pipeline | FileCheck %s --check-prefix=CPU

// NOSQ-NOT: x100x100x
// NOSQ-NOT: <100x100x
// NOSQ-NOT: x37x45x
// NOSQ-NOT: x40x57x
// BAD: error: attnflow-chunk-linear-attention expects chunk-size >= 1, vq-block >= 1 and vector-width >= 1, got 0, 64 and 8
// BADW: error: attnflow-chunk-linear-attention expects chunk-size >= 1, vq-block >= 1 and vector-width >= 1, got 64, 64 and 0
// CPU-NOT: attnflow.
// CPU: omp.parallel

// Causal FAVOR+, GQA (Hq = 4, Hkv = 2), S = 100: one scf.forall over the kv
// heads; the max key logit B in a first pass; then chunks of
// 32 rows (3 in the loop, a static tail of 4) carrying S [M, Dv], z [M] and
// the output block. Products are register tiles of 8 rows x 2 vectors
// (vector-width 8: 16 lanes) of FMAs, the edges static smaller tiles.
// CHECK-LABEL: func @causal_favor
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x100x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x100x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x100x8xf32>, %[[W:[a-z0-9]+]]: tensor<32x16xf32>
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG:     %[[C96:.*]] = arith.constant 96 : index
// CHECK:         %[[WT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<32x16xf32>) outs(%{{.*}} : tensor<16x32xf32>)
// CHECK:         scf.forall (%[[HK:.*]]) in (2) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x4x100x8xf32>)
// CHECK:           %[[H0:.*]] = arith.muli %[[HK]], %{{.*}} : index
// CHECK:           %[[DEST:.*]] = tensor.extract_slice %[[OUT]][0, %[[H0]], 0, 0] [1, 2, 100, 8]
// CHECK:           %[[QH:.*]] = tensor.extract_slice %[[Q]][0, %[[H0]], 0, 0] [1, 2, 100, 16] {{.*}} to tensor<2x100x16xf32>
// CHECK:           %[[KH:.*]] = tensor.extract_slice %[[K]][0, %[[HK]], 0, 0] [1, 1, 100, 16] {{.*}} to tensor<100x16xf32>
// CHECK:           %[[VH:.*]] = tensor.extract_slice %[[V]][0, %[[HK]], 0, 0] [1, 1, 100, 8] {{.*}} to tensor<100x8xf32>
// First pass: B, the max key logit, folded over chunks of 32 keys (3 in the
// loop, a tail of 4), no [S, M] buffer. Per chunk: |k|^2 per key (a row
// reduction over vectors of d), then the logits, whose product starts from
// -(scale |k|^2 + ln M) / 2 and also yields each row's max (4 tiles of 8
// rows).
// CHECK:           %[[BLOOP:.*]] = scf.for %[[J:.*]] = %[[C0]] to %[[C96]] step %[[C32]] iter_args(%{{.*}} = %{{.*}}) -> (tensor<f32>)
// CHECK:             %[[KB:.*]] = tensor.extract_slice %[[KH]][%[[J]], 0] [32, 16]
// CHECK:             %[[NORMS:.*]] = scf.for {{.*}} -> (tensor<32xf32>)
// CHECK:               vector.transfer_read %[[KB]]
// CHECK:               vector.reduction <add>
// CHECK:             %[[SHIFT:.*]] = linalg.generic {{.*}} outs(%[[NORMS]] : tensor<32xf32>)
// CHECK:               arith.negf
// CHECK:             %[[LK:.*]]:2 = scf.for %{{.*}} = %[[C0]] to %[[C32]] step %[[C8]] iter_args({{.*}}) -> (tensor<32x32xf32>, tensor<32xf32>)
// CHECK:               tensor.extract %[[SHIFT]]
// CHECK:               scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:                 vector.transfer_read %[[WT]]
// CHECK:                 tensor.extract %[[KB]]
// CHECK-COUNT-8:         vector.fma
// CHECK:               vector.reduction <maximumf>
// CHECK:             linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%[[LK]]#1 : tensor<32xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK:           tensor.extract_slice %[[KH]][96, 0] [4, 16]
// CHECK:           %[[B:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]{{.*}} ins(%{{.*}} : tensor<4xf32>) outs(%[[BLOOP]] : tensor<f32>)
// The chunks: phi(K_c) [L, M] from the chunk's keys (logits without row
// maxima, exp(logit - B)).
// CHECK:           %[[LOOP:.*]]:3 = scf.for %[[I:.*]] = %[[C0]] to %[[C96]] step %[[C32]] iter_args(%[[S:.*]] = %{{.*}}, %[[Z:.*]] = %{{.*}}, %[[O:.*]] = %[[DEST]]) -> (tensor<32x8xf32>, tensor<32xf32>, tensor<2x100x8xf32>)
// CHECK:             %[[QC:.*]] = tensor.extract_slice %[[QH]][0, %[[I]], 0] [2, 32, 16]
// CHECK:             %[[KR:.*]] = tensor.extract_slice %[[KH]][%[[I]], 0] [32, 16]
// CHECK:             %[[LKC:[0-9]+]] = scf.for %{{.*}} = %[[C0]] to %[[C32]] step %[[C8]] iter_args(%{{.*}} = %{{.*}}) -> (tensor<32x32xf32>)
// CHECK:               tensor.extract %[[KR]]
// CHECK-NOT:           vector.reduction <maximumf>
// CHECK:             tensor.extract %[[B]][] : tensor<f32>
// CHECK:             %[[KC:[0-9]+]] = scf.for %{{.*}} -> (tensor<32x32xf32>)
// CHECK:               vector.transfer_read %[[LKC]]
// CHECK:               math.exp %{{.*}} : vector<16xf32>
// CHECK:             %[[KT:.*]] = linalg.generic {{.*}} ins(%[[KC]] : tensor<32x32xf32>)
// CHECK:             %[[VC:.*]] = tensor.extract_slice %[[VH]][%[[I]], 0] [32, 8]
// The group's query rows as one [G * L, D] block; features with a per-row
// max A subtracted.
// CHECK:             %[[QR:.*]] = tensor.collapse_shape %[[QC]] {{\[\[}}0, 1], [2]] : tensor<2x32x16xf32> into tensor<64x16xf32>
// CHECK:             %[[LQ:.*]]:2 = scf.for {{.*}} -> (tensor<64x32xf32>, tensor<64xf32>)
// CHECK:               tensor.extract %[[QR]]
// CHECK:             %[[PHIQ:.*]] = scf.for {{.*}} -> (tensor<64x32xf32>)
// CHECK:               vector.transfer_read %[[LQ]]#0
// CHECK:               math.exp
// The intra-chunk kernel [G * L, L]; j <= i kept, row r being query row
// r mod L of its head.
// CHECK:             %[[KER:.*]] = scf.for {{.*}} -> (tensor<64x32xf32>)
// CHECK:               vector.transfer_read %[[KT]]
// CHECK:               tensor.extract %[[PHIQ]]
// CHECK:             %[[MASKED:.*]] = linalg.generic {{.*}} outs(%[[KER]] : tensor<64x32xf32>)
// CHECK:               %[[ROW:.*]] = linalg.index 0 : index
// CHECK:               %[[R:.*]] = arith.remui %[[ROW]], %[[C32]] : index
// CHECK:               %[[COL:.*]] = linalg.index 1 : index
// CHECK:               arith.cmpi ule, %[[COL]], %[[R]] : index
// The carried state: phi(Q_c) S and phi(Q_c) z, plus the masked kernel
// times V_c and its row sums.
// CHECK:             %[[NUM0:.*]] = scf.for {{.*}} -> (tensor<64x8xf32>)
// CHECK:               vector.transfer_read %[[S]]
// CHECK:             %[[DEN0:.*]] = scf.for {{.*}} -> (tensor<64xf32>)
// CHECK:               vector.transfer_read %[[Z]]
// CHECK:             %[[NUM:.*]] = scf.for {{.*}} -> (tensor<64x8xf32>)
// CHECK:               vector.transfer_read %[[NUM0]]
// CHECK:               vector.transfer_read %[[VC]]
// CHECK:               tensor.extract %[[MASKED]]
// CHECK:             %[[DEN:.*]] = scf.for {{.*}} -> (tensor<64xf32>)
// CHECK:               vector.transfer_read %[[MASKED]]
// CHECK:               tensor.extract %[[DEN0]]
// eps' = eps exp(-(A + B)), on [G, L, Dv] again.
// CHECK:             %[[NUM3:.*]] = tensor.expand_shape %[[NUM]] {{.*}} into tensor<2x32x8xf32>
// CHECK:             %[[DEN3:.*]] = tensor.expand_shape %[[DEN]] {{.*}} into tensor<2x32xf32>
// CHECK:             %[[A3:.*]] = tensor.expand_shape %[[LQ]]#1 {{.*}} into tensor<2x32xf32>
// CHECK:             %[[OC:.*]] = linalg.generic {{.*}} ins(%[[NUM3]], %[[DEN3]], %[[A3]], %[[B]] : tensor<2x32x8xf32>, tensor<2x32xf32>, tensor<2x32xf32>, tensor<f32>)
// CHECK:             %[[ONEXT:.*]] = tensor.insert_slice %[[OC]] into %[[O]][0, %[[I]], 0] [2, 32, 8]
// S += phi(K_c)^T V_c (phi(K_c) read transposed), z += phi(K_c)^T 1.
// CHECK:             %[[SNEXT:.*]] = scf.for {{.*}} -> (tensor<32x8xf32>)
// CHECK:               vector.transfer_read %[[S]]
// CHECK:               vector.transfer_read %[[VC]]
// CHECK:               tensor.extract %[[KC]]
// CHECK:             %[[ZNEXT:.*]] = linalg.generic {{.*}} ins(%[[KC]] : tensor<32x32xf32>) outs(%[[Z]] : tensor<32xf32>)
// CHECK:             scf.yield %[[SNEXT]], %[[ZNEXT]], %[[ONEXT]]
// The tail: rows 96..99, reading the loop's state.
// CHECK:           tensor.extract_slice %[[QH]][0, 96, 0] [2, 4, 16]
// CHECK:           linalg.generic {{.*}} outs(%{{.*}} : tensor<8x4xf32>)
// CHECK:           vector.transfer_read %[[LOOP]]#0
// CHECK:           %[[LAST:.*]] = tensor.insert_slice %{{.*}} into %[[LOOP]]#2[0, 96, 0] [2, 4, 8]
// CHECK:           scf.forall.in_parallel
// CHECK:             tensor.parallel_insert_slice %[[LAST]] into %[[OUT]][0, %[[H0]], 0, 0] [1, 2, 100, 8]

// The default chunk is 64: one full chunk (its one-trip loop folds away) and
// a tail of 36.
// DEFAULT-LABEL: func @causal_favor
// DEFAULT-NOT:     scf.for %{{.*}} step %c64
// DEFAULT:         linalg.generic {{.*}} outs(%{{.*}} : tensor<128x64xf32>)
// DEFAULT-NOT:     scf.for %{{.*}} step %c64
// DEFAULT:         linalg.generic {{.*}} outs(%{{.*}} : tensor<72x36xf32>)
// DEFAULT-LABEL: func @noncausal_relu
func.func @causal_favor(%q: tensor<1x4x100x16xf32>, %k: tensor<1x2x100x16xf32>, %v: tensor<1x2x100x8xf32>, %w: tensor<32x16xf32>) -> tensor<1x4x100x8xf32> {
  %0 = attnflow.linear_attention %q, %k, %v, %w {feature_map = #attnflow.feature_map<favor_plus>, causal = true} : tensor<1x4x100x16xf32>, tensor<1x2x100x16xf32>, tensor<1x2x100x8xf32>, tensor<32x16xf32> -> tensor<1x4x100x8xf32>
  return %0 : tensor<1x4x100x8xf32>
}

// -----

// Non-causal relu, bf16: no loop over rows; S = phi(K)^T V [D, Dv] and
// z [D] once per (batch, kv head), computed in f32, then phi(Q) S / (phi(Q) z
// + eps) rounded to bf16.
// CHECK-LABEL: func @noncausal_relu
// CHECK-DAG:     %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK:         scf.forall (%[[B:.*]], %[[HK:.*]]) in (2, 2)
// CHECK-NOT:       scf.for %
// CHECK:           %[[PHIK:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<45x16xbf16>) outs(%{{.*}} : tensor<45x16xf32>)
// CHECK:             arith.maximumf
// S: phi(K) read transposed, rows of V extended from bf16.
// CHECK:           %[[S:.*]] = scf.for {{.*}} -> (tensor<16x8xf32>)
// CHECK:             vector.transfer_read %{{.*}} : tensor<45x8xbf16>, vector<8xbf16>
// CHECK:             arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// CHECK:             tensor.extract %[[PHIK]][%{{.*}}, %{{.*}}] : tensor<45x16xf32>
// CHECK:           %[[Z:.*]] = linalg.generic {{.*}} ins(%[[PHIK]] : tensor<45x16xf32>) outs(%{{.*}} : tensor<16xf32>)
// CHECK:           %[[QR:.*]] = tensor.collapse_shape %{{.*}} : tensor<1x37x16xbf16> into tensor<37x16xbf16>
// CHECK:           %[[PHIQ:.*]] = linalg.generic {{.*}} ins(%[[QR]] : tensor<37x16xbf16>) outs(%{{.*}} : tensor<37x16xf32>)
// phi(Q) S over 37 rows: 4 tiles of 8 in a loop, then a static tile of 5.
// CHECK:           %[[NUM0:.*]] = scf.for %{{.*}} = %{{.*}} to %c32 step %c8 {{.*}} -> (tensor<37x8xf32>)
// CHECK:             vector.transfer_read %[[S]]
// CHECK:             tensor.extract %[[PHIQ]]
// CHECK:           scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:           %[[DEN:.*]] = scf.for {{.*}} -> (tensor<37xf32>)
// CHECK:             vector.transfer_read %[[Z]]
// CHECK:           %[[DEN3:.*]] = tensor.expand_shape %[[DEN]] {{.*}} into tensor<1x37xf32>
// CHECK:           linalg.generic {{.*}} ins(%{{.*}}, %[[DEN3]] : tensor<1x37x8xf32>, tensor<1x37xf32>) outs(%{{.*}} : tensor<1x37x8xbf16>)
// CHECK:             arith.addf %{{.*}}, %[[EPS]] : f32
// CHECK:             arith.truncf %{{.*}} : f32 to bf16
// CHECK:           scf.forall.in_parallel
func.func @noncausal_relu(%q: tensor<2x2x37x16xbf16>, %k: tensor<2x2x45x16xbf16>, %v: tensor<2x2x45x8xbf16>) -> tensor<2x2x37x8xbf16> {
  %0 = attnflow.linear_attention %q, %k, %v {feature_map = #attnflow.feature_map<relu>} : tensor<2x2x37x16xbf16>, tensor<2x2x45x16xbf16>, tensor<2x2x45x8xbf16> -> tensor<2x2x37x8xbf16>
  return %0 : tensor<2x2x37x8xbf16>
}

// -----

// Causal vq_attention, shared codebook, Sq = 40 < Skv = 57 (q_offset = 17),
// block_len 16: k is quantized per kv head (squared distances to C^T [D, C],
// a first-minimum argmin); keys [0, 17) enter the per-code
// counts [C] and value sums [C, Dv] by a scatter loop, then blocks of 16 rows
// (2 in the loop, a tail of 8) score the aggregates and, exactly, the keys
// of their own positions (s[g, i, code(j)], j <= i), then add those keys.
// CHECK-LABEL: func @vq_causal
// CHECK-SAME:    %[[Q:[a-z0-9]+]]: tensor<1x4x40x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x57x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x57x8xf32>, %[[CB:[a-z0-9]+]]: tensor<12x16xf32>
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG:     %[[C17:.*]] = arith.constant 17 : index
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK:         %[[CT:.*]] = linalg.generic {{.*}} ins(%[[CB]] : tensor<12x16xf32>) outs(%{{.*}} : tensor<16x12xf32>)
// CHECK:         %[[CBT:.*]] = linalg.generic {{.*}} ins(%[[CB]] : tensor<12x16xf32>) outs(%{{.*}} : tensor<16x12xf32>)
// CHECK:           arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:         scf.forall (%[[HK:.*]]) in (2)
// CHECK:           %[[KH:.*]] = tensor.extract_slice %[[K]][0, %[[HK]], 0, 0] [1, 1, 57, 16] {{.*}} to tensor<57x16xf32>
// CHECK:           %[[VH:.*]] = tensor.extract_slice %[[V]][0, %[[HK]], 0, 0] [1, 1, 57, 8] {{.*}} to tensor<57x8xf32>
// CHECK:           %[[DIST:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[KH]], %[[CT]] : tensor<57x16xf32>, tensor<16x12xf32>) outs(%{{.*}} : tensor<57x12xf32>)
// CHECK:           %[[ARGMIN:.*]]:2 = linalg.generic {{.*}} ins(%[[DIST]] : tensor<57x12xf32>) outs(%{{.*}}, %{{.*}} : tensor<57xf32>, tensor<57xi64>)
// CHECK:             arith.cmpf olt
// CHECK:           } -> (tensor<57xf32>, tensor<57xi64>)
// CHECK:           %[[PRE:.*]]:2 = scf.for %[[J:.*]] = %[[C0]] to %[[C17]] step %[[C1]] iter_args(%[[N:.*]] = %{{.*}}, %[[VS:.*]] = %{{.*}}) -> (tensor<12xf32>, tensor<12x8xf32>)
// CHECK:             %[[CODE:.*]] = tensor.extract %[[ARGMIN]]#1[%[[J]]] : tensor<57xi64>
// CHECK:             %[[C:.*]] = arith.index_cast %[[CODE]] : i64 to index
// CHECK:             tensor.insert %{{.*}} into %[[N]][%[[C]]] : tensor<12xf32>
// CHECK:             tensor.extract_slice %[[VS]][%[[C]], 0] [1, 8]
// CHECK:             tensor.insert_slice %{{.*}} into %[[VS]][%[[C]], 0] [1, 8]
// CHECK:           %[[LOOP:.*]]:3 = scf.for %[[I:.*]] = %[[C0]] to %[[C32]] step %[[C16]] iter_args(%[[N:.*]] = %[[PRE]]#0, %[[VS:.*]] = %[[PRE]]#1, %[[O:.*]] = %{{.*}}) -> (tensor<12xf32>, tensor<12x8xf32>, tensor<2x40x8xf32>)
// CHECK:             %[[KEY0:.*]] = arith.addi %[[I]], %[[C17]] : index
// CHECK:             %[[IDXC:.*]] = tensor.extract_slice %[[ARGMIN]]#1[%[[KEY0]]] [16]
// Scores of the group's 32 rows against the 12 codes (one 12-lane block).
// CHECK:             %[[QR:.*]] = tensor.collapse_shape %{{.*}} : tensor<2x16x16xf32> into tensor<32x16xf32>
// CHECK:             %[[SR:.*]] = scf.for {{.*}} -> (tensor<32x12xf32>)
// CHECK:               vector.transfer_read %[[CBT]]{{.*}} : tensor<16x12xf32>, vector<12xf32>
// CHECK:               tensor.extract %[[QR]]
// CHECK:             %[[SC:.*]] = tensor.expand_shape %[[SR]] {{.*}} into tensor<2x16x12xf32>
// CHECK:             %[[LOGW:.*]] = linalg.generic {{.*}} ins(%[[SC]], %[[N]] : tensor<2x16x12xf32>, tensor<12xf32>)
// CHECK:               math.log
// CHECK:             %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[VS]], %[[N]] : tensor<12x8xf32>, tensor<12xf32>)
// CHECK:             %[[EXACT:.*]] = linalg.generic {{.*}} ins(%[[IDXC]] : tensor<16xi64>) outs(%{{.*}} : tensor<2x16x16xf32>)
// CHECK:               tensor.extract %[[SC]]
// CHECK:               arith.cmpi ule
// One max over the code terms and the exact scores.
// CHECK:             %[[M0:.*]] = linalg.generic {{.*}} ins(%[[LOGW]] : tensor<2x16x12xf32>) outs(%{{.*}} : tensor<2x16xf32>)
// CHECK:             %[[M:.*]] = linalg.generic {{.*}} ins(%[[EXACT]] : tensor<2x16x16xf32>) outs(%[[M0]] : tensor<2x16xf32>)
// CHECK:             %[[WAGG:.*]] = linalg.generic {{.*}} ins(%[[M]] : tensor<2x16xf32>) outs(%[[LOGW]] : tensor<2x16x12xf32>)
// CHECK:             %[[WEX:.*]] = linalg.generic {{.*}} ins(%[[M]] : tensor<2x16xf32>) outs(%[[EXACT]] : tensor<2x16x16xf32>)
// CHECK:             %[[WAGGR:.*]] = tensor.collapse_shape %[[WAGG]] {{.*}} into tensor<32x12xf32>
// CHECK:             %[[NUM0:.*]] = scf.for {{.*}} -> (tensor<32x8xf32>)
// CHECK:               vector.transfer_read %[[MEAN]]
// CHECK:               tensor.extract %[[WAGGR]]
// CHECK:             %[[DEN0:.*]] = scf.for {{.*}} -> (tensor<32xf32>)
// CHECK:             %[[WEXR:.*]] = tensor.collapse_shape %[[WEX]] {{.*}} into tensor<32x16xf32>
// CHECK:             scf.for {{.*}} -> (tensor<32x8xf32>)
// CHECK:               vector.transfer_read %[[NUM0]]
// CHECK:               tensor.extract %[[WEXR]]
// CHECK:             scf.for {{.*}} -> (tensor<32xf32>)
// CHECK:               tensor.extract %[[DEN0]]
// CHECK:             %[[ONEXT:.*]] = tensor.insert_slice %{{.*}} into %[[O]][0, %[[I]], 0] [2, 16, 8]
// CHECK:             %[[ADD:.*]]:2 = scf.for %{{.*}} = %[[KEY0]] to %{{.*}} step %[[C1]] iter_args(%{{.*}} = %[[N]], %{{.*}} = %[[VS]])
// CHECK:             scf.yield %[[ADD]]#0, %[[ADD]]#1, %[[ONEXT]]
// CHECK:           tensor.extract_slice %[[ARGMIN]]#1[49] [8]
// CHECK:           linalg.generic {{.*}} outs(%{{.*}} : tensor<2x8x8xf32>)
// CHECK:           tensor.insert_slice %{{.*}} into %[[LOOP]]#2[0, 32, 0] [2, 8, 8]
// CHECK:           scf.forall.in_parallel
func.func @vq_causal(%q: tensor<1x4x40x16xf32>, %k: tensor<1x2x57x16xf32>, %v: tensor<1x2x57x8xf32>, %cb: tensor<12x16xf32>) -> tensor<1x4x40x8xf32> {
  %0 = attnflow.vq_attention %q, %k, %v, %cb {causal = true, block_len = 16 : i64} : tensor<1x4x40x16xf32>, tensor<1x2x57x16xf32>, tensor<1x2x57x8xf32>, tensor<12x16xf32> -> tensor<1x4x40x8xf32>
  return %0 : tensor<1x4x40x8xf32>
}

// -----

// Sq = 20 > Skv = 12 with vq-block = 16: rows 0..7 (positions < 0) are 0,
// rows 8..19 form one static block of 12 (no loop); a per-head codebook is
// sliced per kv head.
// CHECK-LABEL: func @vq_empty_rows
// CHECK:         scf.forall (%[[HK:.*]]) in (2)
// CHECK:           %[[CBH:.*]] = tensor.extract_slice %{{.*}}[%[[HK]], 0, 0] [1, 6, 8] {{.*}} to tensor<6x8xf32>
// CHECK:           %[[CT:.*]] = linalg.generic {{.*}} ins(%[[CBH]] : tensor<6x8xf32>) outs(%{{.*}} : tensor<8x6xf32>)
// CHECK:           %[[CBT:.*]] = linalg.generic {{.*}} ins(%[[CBH]] : tensor<6x8xf32>) outs(%{{.*}} : tensor<8x6xf32>)
// CHECK:           linalg.generic {{.*}} ins(%{{.*}}, %[[CT]] : tensor<12x8xf32>, tensor<8x6xf32>) outs(%{{.*}} : tensor<12x6xf32>)
// CHECK:           %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<1x8x4xf32>
// CHECK:           %[[O:.*]] = tensor.insert_slice %[[ZERO]] into %{{.*}}[0, 0, 0] [1, 8, 4]
// CHECK-NOT:       scf.for %{{.*}} step %c16
// CHECK:           linalg.generic {{.*}} outs(%{{.*}} : tensor<1x12x12xf32>)
// CHECK:           tensor.insert_slice %{{.*}} into %[[O]][0, 8, 0] [1, 12, 4]
func.func @vq_empty_rows(%q: tensor<1x2x20x8xf32>, %k: tensor<1x2x12x8xf32>, %v: tensor<1x2x12x4xf32>, %cb: tensor<2x6x8xf32>) -> tensor<1x2x20x4xf32> {
  %0 = attnflow.vq_attention %q, %k, %v, %cb {causal = true} : tensor<1x2x20x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x4xf32>, tensor<2x6x8xf32> -> tensor<1x2x20x4xf32>
  return %0 : tensor<1x2x20x4xf32>
}
