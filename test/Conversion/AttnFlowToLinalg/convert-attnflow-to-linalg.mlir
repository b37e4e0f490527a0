// RUN: attnflow-opt %s --convert-attnflow-to-linalg --split-input-file | FileCheck %s

// yarn with r = 4, theta = 1e4, factor 4, L0 = 64: the correction range is
// [floor(-0.249) -> 0, ceil(0.504) = 1], so pair 0 keeps inv_freq 1 and pair 1
// is interpolated to 0.01 / 4 = 0.0025; attention factor 0.1 ln 4 + 1.
// f16 is computed in f32 and rounded once; dims >= rotary_dim pass through.
// CHECK-LABEL: func @rope_yarn_f16
// CHECK-DAG:     %[[AF:.*]] = arith.constant 1.13862944 : f32
// CHECK-DAG:     %[[FREQ:.*]] = arith.constant dense<[1.000000e+00, 2.500000e-03]> : tensor<2xf32>
// CHECK:         linalg.generic
// CHECK-SAME:      iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK:           %[[POS:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<4xi32>
// CHECK:           %[[POSF:.*]] = arith.sitofp %[[POS]] : i32 to f32
// CHECK:           %[[F:.*]] = tensor.extract %[[FREQ]]
// CHECK:           %[[ANGLE:.*]] = arith.mulf %[[POSF]], %[[F]] : f32
// CHECK:           %[[COS:.*]] = math.cos %[[ANGLE]] : f32
// CHECK:           %[[SIN:.*]] = math.sin %[[ANGLE]] : f32
// CHECK:           arith.mulf %[[COS]], %[[AF]]
// CHECK:           arith.mulf %[[SIN]], %[[AF]]
// CHECK:           arith.extf %{{.*}} : f16 to f32
// CHECK:           arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT:     attnflow.rope
func.func @rope_yarn_f16(%x: tensor<1x2x4x8xf16>, %pos: tensor<4xi32>) -> tensor<1x2x4x8xf16> {
  %0 = attnflow.rope %x, %pos {rotary_dim = 4 : i64, scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 64>} : tensor<1x2x4x8xf16>, tensor<4xi32> -> tensor<1x2x4x8xf16>
  return %0 : tensor<1x2x4x8xf16>
}

// -----

// llama3 (factor 8, low 1, high 4, L0 = 8192) at theta 5e5 and r = 8:
// wavelengths 2 pi, 2 pi * 5e5^(1/4) = 167.1, ... 2 pi * 5e5^(3/4) = 118143:
// the first two are high-frequency (kept), the last is low-frequency (/ 8),
// the third (wavelen 4442.9, between 2048 and 8192) is smoothed:
// s = (8192 / 4442.9 - 1) / 3 = 0.2813 (values checked with numpy), inv = (1 - s) / 8 * f + s * f.
// CHECK-LABEL: func @rope_llama3_table
// CHECK: arith.constant dense<[1.000000e+00, 0.0376060307, 5.24846138E-4, 6.64786967E-6]> : tensor<4xf32>
func.func @rope_llama3_table(%x: tensor<1x1x2x8xf32>, %pos: tensor<2xi64>) -> tensor<1x1x2x8xf32> {
  %0 = attnflow.rope %x, %pos {theta = 500000.0 : f64, scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192>} : tensor<1x1x2x8xf32>, tensor<2xi64> -> tensor<1x1x2x8xf32>
  return %0 : tensor<1x1x2x8xf32>
}

// -----

// dynamic_ntk computes its base from max(positions) at run time.
// CHECK-LABEL: func @rope_dynamic_ntk
// CHECK:         linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK:           arith.maxsi
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel"]
// CHECK:           math.powf
// CHECK:           arith.cmpf ogt
// CHECK:           arith.truncf %{{.*}} : f64 to f32
func.func @rope_dynamic_ntk(%x: tensor<2x1x3x8xf32>, %pos: tensor<2x3xi64>) -> tensor<2x1x3x8xf32> {
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = dynamic_ntk, factor = 2.0, original_max_position = 2>} : tensor<2x1x3x8xf32>, tensor<2x3xi64> -> tensor<2x1x3x8xf32>
  return %0 : tensor<2x1x3x8xf32>
}

// -----

// The reference is one online-softmax step over all keys from the empty
// state (acc = 0, max = -inf, sum = 0), then acc / sum. GQA (Hq = 4, Hkv = 2)
// splits the query heads into [Hkv, G] so kv head hk serves query heads 2 hk
// and 2 hk + 1; bf16 accumulates in f32. The softmax is -inf-safe: the max
// starts from -inf (never NaN), alpha = 1 and p = 0 while the max is -inf, and
// a row whose sum stays 0 outputs 0.
// CHECK-LABEL: func @attention_gqa_bf16
// CHECK-DAG:     %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK:         %[[ACC0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x4x3x8xf32>)
// CHECK:         %[[MAX0:.*]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.*}} : tensor<1x4x3xf32>)
// CHECK:         %[[SUM0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x4x3xf32>)
// CHECK:         %[[Q5:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 3, 8] : tensor<1x4x3x8xbf16> into tensor<1x2x2x3x8xbf16>
// CHECK:         %[[MAX4:.*]] = tensor.expand_shape %[[MAX0]] {{\[}}[0], [1, 2], [3]]
// CHECK:         %[[S:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[Q5]], %{{.*}} : tensor<1x2x2x3x8xbf16>, tensor<1x2x5x8xbf16>)
// CHECK:           arith.extf %{{.*}} : bf16 to f32
// CHECK:         } -> tensor<1x2x2x3x5xf32>
// CHECK:         %[[MASKED:.*]] = linalg.generic {{.*}} ins(%[[S]]
// CHECK:           arith.cmpi sle
// CHECK:           arith.select %{{.*}}, %{{.*}}, %[[NEGINF]]
// CHECK:         %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[MASKED]] : {{.*}}) outs(%[[MAX4]] :
// CHECK:           arith.maximumf
// CHECK:         %[[ALPHA:.*]] = linalg.generic {{.*}} ins(%[[MAX4]], %[[MAX]] :
// CHECK:           arith.cmpf oeq, %{{.*}}, %[[NEGINF]]
// CHECK:           math.exp
// CHECK:           arith.select %{{.*}}, %[[ONE]]
// CHECK:         %[[P:.*]] = linalg.generic {{.*}} ins(%[[MASKED]], %[[MAX]] :
// CHECK:           math.exp
// CHECK:           arith.select %{{.*}}, %[[ZERO]]
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[ALPHA]] :
// CHECK:           arith.mulf
// CHECK:         %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[P]] :
// CHECK:           arith.addf
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[ALPHA]] :
// CHECK:         %[[ACC:.*]] = linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<1x2x2x3x5xf32>, tensor<1x2x5x8xbf16>)
// CHECK:         %[[ACC4:.*]] = tensor.collapse_shape %[[ACC]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x3x8xf32> into tensor<1x4x3x8xf32>
// CHECK:         %[[SUM3:.*]] = tensor.collapse_shape %[[SUM]] {{\[}}[0], [1, 2], [3]] : tensor<1x2x2x3xf32> into tensor<1x4x3xf32>
// CHECK:         %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[ACC4]], %[[SUM3]] :
// CHECK:           arith.cmpf oeq, %{{.*}}, %[[ZERO]]
// CHECK:           arith.divf
// CHECK:           arith.truncf %{{.*}} : f32 to bf16
// CHECK:         return %[[OUT]] : tensor<1x4x3x8xbf16>
func.func @attention_gqa_bf16(%q: tensor<1x4x3x8xbf16>, %k: tensor<1x2x5x8xbf16>, %v: tensor<1x2x5x8xbf16>) -> tensor<1x4x3x8xbf16> {
  %0 = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x3x8xbf16>, tensor<1x2x5x8xbf16>, tensor<1x2x5x8xbf16> -> tensor<1x4x3x8xbf16>
  return %0 : tensor<1x4x3x8xbf16>
}

// -----

// Score modifiers in the order of the contract: scale * g(p), softcap, ALiBi,
// bias; the default scale is 1/sqrt(8) and q_offset = Skv - Sq = 2.
// CHECK-LABEL: func @attention_score_order
// CHECK-DAG:     %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-DAG:     %[[CAP:.*]] = arith.constant 5.000000e+01 : f32
// CHECK-DAG:     %[[OFF:.*]] = arith.constant 2 : i64
// CHECK:         linalg.generic
// CHECK:           arith.addi %{{.*}}, %[[OFF]] : i64
// CHECK:           %[[SLOPE:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<2xf32>
// CHECK:           %[[BIAS:.*]] = tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x1x3x5xf32>
// CHECK:           arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:           math.log
// CHECK:           arith.maximumf
// CHECK:           arith.divf %{{.*}}, %[[CAP]]
// CHECK:           math.tanh
// CHECK:           math.absi
// CHECK:           arith.mulf %[[SLOPE]]
// CHECK:           arith.subf
// CHECK:           arith.addf %{{.*}}, %[[BIAS]] : f32
func.func @attention_score_order(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %b: tensor<1x1x3x5xf32>) -> tensor<1x2x3x8xf32> {
  %0 = attnflow.attention %q, %k, %v, %b {logn_train_len = 4 : i64, logit_softcap = 50.0 : f64, alibi_slopes = array<f64: 0.5, 0.25>} : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x3x5xf32> -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

// An edge tile of the tiled attention: dynamic query rows and keys, absolute
// positions from the index operands (row i at %qp + i, key j at %kp + j) and
// ALiBi slopes indexed by %h + local head (here one head: %h itself).
// CHECK-LABEL: func @online_attention_edge_tile
// CHECK-SAME:    %[[QP:[a-z0-9]+]]: index, %[[KP:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index
// CHECK-DAG:     %[[QP64:.*]] = arith.index_cast %[[QP]] : index to i64
// CHECK-DAG:     %[[KP64:.*]] = arith.index_cast %[[KP]] : index to i64
// CHECK:         tensor.empty(%{{.*}}, %{{.*}}) : tensor<1x1x1x?x?xf32>
// CHECK:         linalg.generic
// CHECK:           arith.addi %{{.*}}, %[[QP64]] : i64
// CHECK:           arith.addi %{{.*}}, %[[KP64]] : i64
// CHECK:           tensor.extract %{{.*}}[%[[H]]] : tensor<4xf32>
// CHECK:         tensor.collapse_shape {{.*}} into tensor<1x1x?x16xf32>
func.func @online_attention_edge_tile(%q: tensor<1x1x?x16xf32>, %k: tensor<1x1x?x16xf32>, %v: tensor<1x1x?x16xf32>,
    %acc: tensor<1x1x?x16xf32>, %max: tensor<1x1x?xf32>, %sum: tensor<1x1x?xf32>, %qp: index, %kp: index, %h: index)
    -> (tensor<1x1x?x16xf32>, tensor<1x1x?xf32>, tensor<1x1x?xf32>) {
  %a, %m, %s = attnflow.online_attention %q, %k, %v at(%qp, %kp, %h) into(%acc, %max, %sum) {scale = 0.25 : f64, causal = true, alibi_slopes = array<f64: 0.5, 0.25, 0.125, 0.0625>} : tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32>, tensor<1x1x?x16xf32> into tensor<1x1x?x16xf32>, tensor<1x1x?xf32>
  return %a, %m, %s : tensor<1x1x?x16xf32>, tensor<1x1x?xf32>, tensor<1x1x?xf32>
}

// -----

// vector_quantize: squared distances to every codeword (f16 computed in
// f32), a first-minimum argmin over the codes (strict <, so ties keep the
// lowest index), then a gather from the per-head codebook.
// CHECK-LABEL: func.func @vector_quantize
// CHECK:         %[[DIST:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x2x6x4xf16>, tensor<2x3x4xf16>) outs(%{{.*}} : tensor<1x2x6x3xf32>)
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:         %[[ARGMIN:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[DIST]] : tensor<1x2x6x3xf32>) outs(%{{.*}}, %{{.*}} : tensor<1x2x6xf32>, tensor<1x2x6xi64>)
// CHECK:           arith.cmpf olt
// CHECK:         linalg.generic {{.*}} ins(%[[ARGMIN]]#1 : tensor<1x2x6xi64>) outs(%{{.*}} : tensor<1x2x6x4xf16>)
// CHECK:           tensor.extract %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x3x4xf16>
// CHECK:         return %[[ARGMIN]]#1
func.func @vector_quantize(%x: tensor<1x2x6x4xf16>, %cb: tensor<2x3x4xf16>) -> (tensor<1x2x6xi64>, tensor<1x2x6x4xf16>) {
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<1x2x6x4xf16>, tensor<2x3x4xf16> -> tensor<1x2x6xi64>, tensor<1x2x6x4xf16>
  return %i, %q : tensor<1x2x6xi64>, tensor<1x2x6x4xf16>
}

// -----

// vq_attention is attention over the quantized keys: no attnflow op is left.
// CHECK-LABEL: func.func @vq_attention
// CHECK-NOT:     attnflow.
// CHECK:         arith.cmpf olt
// CHECK:         math.exp
// CHECK:         return
func.func @vq_attention(%q: tensor<1x2x6x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x4xf32>, %cb: tensor<3x4xf32>) -> tensor<1x2x6x4xf32> {
  %o = attnflow.vq_attention %q, %k, %v, %cb {causal = true} : tensor<1x2x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<3x4xf32> -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// linear_attention with favor_plus: logits sqrt(scale) W x - scale |x|^2/2 -
// ln(M)/2 (scale = 1/sqrt(D) = 0.5, M = 16: sqrt(scale) = 0.7071, scale/2 =
// 0.25 and ln(16)/2 = 1.386),
// query rows stabilized by their max and keys by one max per (batch, kv
// head), then the causal kernel matrix, (K V) / (K 1 + eps exp(-(A + B))).
// CHECK-LABEL: func.func @linear_attention_favor_plus
// CHECK-DAG:     arith.constant 0.707106769 : f32
// CHECK-DAG:     arith.constant 2.500000e-01 : f32
// CHECK-DAG:     arith.constant 1.38629{{[0-9]*}} : f32
// CHECK-DAG:     arith.constant 9.99999997E-7 : f32
// CHECK:         arith.maximumf
// CHECK:         math.exp
// CHECK:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x1x2x6x16xf32>, tensor<1x1x6x16xf32>) outs(%{{.*}} : tensor<1x1x2x6x6xf32>)
// CHECK:           arith.cmpi ule
// CHECK:         arith.negf
// CHECK:         math.exp
// CHECK:         arith.divf
func.func @linear_attention_favor_plus(%q: tensor<1x2x6x4xf32>, %k: tensor<1x1x6x4xf32>, %v: tensor<1x1x6x4xf32>, %w: tensor<16x4xf32>) -> tensor<1x2x6x4xf32> {
  %o = attnflow.linear_attention %q, %k, %v, %w {feature_map = #attnflow.feature_map<favor_plus>, causal = true} : tensor<1x2x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<16x4xf32> -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// relu and elu_plus_one need no stabilization: eps is added as is.
// CHECK-LABEL: func.func @linear_attention_elu
// CHECK:         arith.cmpf ogt
// CHECK:         math.exp
// CHECK-NOT:     arith.negf
// CHECK:         arith.divf
func.func @linear_attention_elu(%q: tensor<1x2x6x4xbf16>, %k: tensor<1x1x7x4xbf16>, %v: tensor<1x1x7x4xbf16>) -> tensor<1x2x6x4xbf16> {
  %o = attnflow.linear_attention %q, %k, %v {feature_map = #attnflow.feature_map<elu_plus_one>} : tensor<1x2x6x4xbf16>, tensor<1x1x7x4xbf16>, tensor<1x1x7x4xbf16> -> tensor<1x2x6x4xbf16>
  return %o : tensor<1x2x6x4xbf16>
}
