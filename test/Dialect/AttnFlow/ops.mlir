// RUN: attnflow-opt %s | attnflow-opt | FileCheck %s
// RUN: attnflow-opt %s --mlir-print-op-generic | attnflow-opt | FileCheck %s

// Round trip of every attribute of attnflow.rope and attnflow.attention:
// defaults are elided, the generic form parses back to the same ops.

// CHECK-LABEL: func @rope_defaults
func.func @rope_defaults(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // CHECK: attnflow.rope %{{.*}}, %{{.*}} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// CHECK-LABEL: func @rope_all_attributes
func.func @rope_all_attributes(%x: tensor<2x4x8x64xbf16>, %pos: tensor<2x8xi32>) -> tensor<2x4x8x64xbf16> {
  // CHECK: attnflow.rope %{{.*}}, %{{.*}} {layout = #attnflow.rope_layout<interleaved>, rotary_dim = 32 : i64, scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 4096, beta_fast = 16.0, attention_factor = 1.25>, theta = 5.000000e+05 : f64}
  // CHECK-SAME: : tensor<2x4x8x64xbf16>, tensor<2x8xi32> -> tensor<2x4x8x64xbf16>
  %0 = attnflow.rope %x, %pos {theta = 500000.0 : f64, rotary_dim = 32 : i64, layout = #attnflow.rope_layout<interleaved>, scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 4096, beta_fast = 16.0, attention_factor = 1.25>} : tensor<2x4x8x64xbf16>, tensor<2x8xi32> -> tensor<2x4x8x64xbf16>
  return %0 : tensor<2x4x8x64xbf16>
}

// CHECK-LABEL: func @rope_llama3
func.func @rope_llama3(%x: tensor<1x32x4x128xf32>, %pos: tensor<4xi64>) -> tensor<1x32x4x128xf32> {
  // CHECK: scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192>
  %0 = attnflow.rope %x, %pos {theta = 500000.0 : f64, scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192, low_freq_factor = 1.0, high_freq_factor = 4.0>} : tensor<1x32x4x128xf32>, tensor<4xi64> -> tensor<1x32x4x128xf32>
  return %0 : tensor<1x32x4x128xf32>
}

// CHECK-LABEL: func @rope_scaling_kinds
func.func @rope_scaling_kinds(%x: tensor<1x1x4x8xf16>, %pos: tensor<4xi64>) -> tensor<1x1x4x8xf16> {
  // CHECK: #attnflow.rope_scaling<kind = none>
  // CHECK: #attnflow.rope_scaling<kind = linear, factor = 2.0>
  // CHECK: #attnflow.rope_scaling<kind = ntk, factor = 2.5>
  // CHECK: #attnflow.rope_scaling<kind = dynamic_ntk, factor = 2.0, original_max_position = 2>
  // CHECK: #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 16, low_freq_factor = 2.0, high_freq_factor = 3.0>
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = none>} : tensor<1x1x4x8xf16>, tensor<4xi64> -> tensor<1x1x4x8xf16>
  %1 = attnflow.rope %0, %pos {scaling = #attnflow.rope_scaling<kind = linear, factor = 2.0>} : tensor<1x1x4x8xf16>, tensor<4xi64> -> tensor<1x1x4x8xf16>
  %2 = attnflow.rope %1, %pos {scaling = #attnflow.rope_scaling<kind = ntk, factor = 2.5>} : tensor<1x1x4x8xf16>, tensor<4xi64> -> tensor<1x1x4x8xf16>
  %3 = attnflow.rope %2, %pos {scaling = #attnflow.rope_scaling<kind = dynamic_ntk, factor = 2.0, original_max_position = 2>} : tensor<1x1x4x8xf16>, tensor<4xi64> -> tensor<1x1x4x8xf16>
  %4 = attnflow.rope %3, %pos {scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 16, low_freq_factor = 2.0, high_freq_factor = 3.0>} : tensor<1x1x4x8xf16>, tensor<4xi64> -> tensor<1x1x4x8xf16>
  return %4 : tensor<1x1x4x8xf16>
}

// CHECK-LABEL: func @rope_mrope
func.func @rope_mrope(%x: tensor<2x2x5x128xf32>, %pos3: tensor<3x5xi64>, %pos3b: tensor<3x2x5xi64>) -> (tensor<2x2x5x128xf32>, tensor<2x2x5x128xf64>) {
  // CHECK: attnflow.rope %{{.*}}, %{{.*}} {mrope_section = array<i64: 16, 24, 24>, theta = 1.000000e+06 : f64} : tensor<2x2x5x128xf32>, tensor<3x5xi64>
  %0 = attnflow.rope %x, %pos3 {theta = 1000000.0 : f64, mrope_section = array<i64: 16, 24, 24>} : tensor<2x2x5x128xf32>, tensor<3x5xi64> -> tensor<2x2x5x128xf32>
  %x64 = arith.extf %0 : tensor<2x2x5x128xf32> to tensor<2x2x5x128xf64>
  // CHECK: attnflow.rope %{{.*}}, %{{.*}} {mrope_section = array<i64: 16, 24, 24>} : tensor<2x2x5x128xf64>, tensor<3x2x5xi64>
  %1 = attnflow.rope %x64, %pos3b {mrope_section = array<i64: 16, 24, 24>} : tensor<2x2x5x128xf64>, tensor<3x2x5xi64> -> tensor<2x2x5x128xf64>
  return %0, %1 : tensor<2x2x5x128xf32>, tensor<2x2x5x128xf64>
}

// CHECK-LABEL: func @attention_defaults
func.func @attention_defaults(%q: tensor<1x4x8x16xf32>, %k: tensor<1x4x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // CHECK: attnflow.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// CHECK-LABEL: func @attention_all_attributes
func.func @attention_all_attributes(%q: tensor<2x4x3x16xf16>, %k: tensor<2x2x9x16xf16>, %v: tensor<2x2x9x24xf16>, %bias: tensor<1x4x3x9xf16>) -> tensor<2x4x3x24xf16> {
  // CHECK: attnflow.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {alibi_slopes = array<f64: 5.000000e-01, 2.500000e-01, 1.250000e-01, 6.250000e-02>, causal = true, logit_softcap = 5.000000e+01 : f64, logn_train_len = 4096 : i64, num_sink_tokens = 4 : i64, q_offset = 6 : i64, scale = 1.250000e-01 : f64, window_left = 3 : i64, window_right = 1 : i64}
  // CHECK-SAME: : tensor<2x4x3x16xf16>, tensor<2x2x9x16xf16>, tensor<2x2x9x24xf16>, tensor<1x4x3x9xf16> -> tensor<2x4x3x24xf16>
  %0 = attnflow.attention %q, %k, %v, %bias {scale = 0.125 : f64, causal = true, window_left = 3 : i64, window_right = 1 : i64, q_offset = 6 : i64, num_sink_tokens = 4 : i64, logit_softcap = 50.0 : f64, alibi_slopes = array<f64: 0.5, 0.25, 0.125, 0.0625>, logn_train_len = 4096 : i64} : tensor<2x4x3x16xf16>, tensor<2x2x9x16xf16>, tensor<2x2x9x24xf16>, tensor<1x4x3x9xf16> -> tensor<2x4x3x24xf16>
  return %0 : tensor<2x4x3x24xf16>
}

// Explicit defaults are elided by the printer.
// CHECK-LABEL: func @attention_explicit_defaults
func.func @attention_explicit_defaults(%q: tensor<1x8x1x32xbf16>, %k: tensor<1x1x16x32xbf16>, %v: tensor<1x1x16x32xbf16>) -> tensor<1x8x1x32xbf16> {
  // CHECK: attnflow.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x1x32xbf16>
  %0 = attnflow.attention %q, %k, %v {causal = false, window_left = -1 : i64, window_right = -1 : i64, num_sink_tokens = 0 : i64, logit_softcap = 0.0 : f64, logn_train_len = 0 : i64} : tensor<1x8x1x32xbf16>, tensor<1x1x16x32xbf16>, tensor<1x1x16x32xbf16> -> tensor<1x8x1x32xbf16>
  return %0 : tensor<1x8x1x32xbf16>
}

// The generic form with inherent attributes in the plain attribute dictionary.
// CHECK-LABEL: func @generic_form
func.func @generic_form(%q: tensor<1x2x4x8xf64>, %pos: tensor<4xi64>) -> tensor<1x2x4x8xf64> {
  // CHECK: attnflow.rope %{{.*}}, %{{.*}} {layout = #attnflow.rope_layout<interleaved>, rotary_dim = 4 : i64}
  %r = "attnflow.rope"(%q, %pos) {rotary_dim = 4 : i64, layout = #attnflow.rope_layout<interleaved>} : (tensor<1x2x4x8xf64>, tensor<4xi64>) -> tensor<1x2x4x8xf64>
  // CHECK: attnflow.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, window_left = 2 : i64}
  %o = "attnflow.attention"(%r, %r, %r) {causal = true, window_left = 2 : i64} : (tensor<1x2x4x8xf64>, tensor<1x2x4x8xf64>, tensor<1x2x4x8xf64>) -> tensor<1x2x4x8xf64>
  return %o : tensor<1x2x4x8xf64>
}

// The tile-level op of tiled attention, with static and dynamic (edge-tile)
// sizes and an optional bias block.
// CHECK-LABEL: func @online_attention
func.func @online_attention(%q: tensor<1x4x16x8xbf16>, %k: tensor<1x2x?x8xbf16>, %v: tensor<1x2x?x8xbf16>, %bias: tensor<1x1x16x?xbf16>,
    %acc: tensor<1x4x16x8xf32>, %max: tensor<1x4x16xf32>, %sum: tensor<1x4x16xf32>, %qp: index, %kp: index, %h: index)
    -> (tensor<1x4x16x8xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>) {
  // CHECK: attnflow.online_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} at(%{{.*}}, %{{.*}}, %{{.*}}) into(%{{.*}}, %{{.*}}, %{{.*}}) {causal = true, scale = 1.250000e-01 : f64, window_left = 7 : i64}
  // CHECK-SAME: : tensor<1x4x16x8xbf16>, tensor<1x2x?x8xbf16>, tensor<1x2x?x8xbf16>, tensor<1x1x16x?xbf16> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  %a, %m, %s = attnflow.online_attention %q, %k, %v, %bias at(%qp, %kp, %h) into(%acc, %max, %sum) {scale = 0.125 : f64, causal = true, window_left = 7 : i64} : tensor<1x4x16x8xbf16>, tensor<1x2x?x8xbf16>, tensor<1x2x?x8xbf16>, tensor<1x1x16x?xbf16> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return %a, %m, %s : tensor<1x4x16x8xf32>, tensor<1x4x16xf32>, tensor<1x4x16xf32>
}

// Linear attention with each feature map: favor_plus takes the projection,
// the others none; causal, scale and eps round-trip, defaults are elided.
// CHECK-LABEL: func @linear_attention
func.func @linear_attention(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %w: tensor<128x32xf32>,
    %qh: tensor<2x4x10x8xbf16>, %kh: tensor<2x4x12x8xbf16>, %vh: tensor<2x4x12x8xbf16>)
    -> (tensor<1x8x64x16xf32>, tensor<2x4x10x8xbf16>, tensor<2x4x10x8xbf16>) {
  // CHECK: attnflow.linear_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = true, eps = 1.000000e-03 : f64, feature_map = #attnflow.feature_map<favor_plus>, scale = 2.500000e-01 : f64}
  // CHECK-SAME: : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<128x32xf32> -> tensor<1x8x64x16xf32>
  %0 = attnflow.linear_attention %q, %k, %v, %w {feature_map = #attnflow.feature_map<favor_plus>, causal = true, scale = 0.25 : f64, eps = 1.0e-3 : f64} : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<128x32xf32> -> tensor<1x8x64x16xf32>
  // CHECK: attnflow.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {feature_map = #attnflow.feature_map<relu>} : tensor<2x4x10x8xbf16>
  %1 = attnflow.linear_attention %qh, %kh, %vh {feature_map = #attnflow.feature_map<relu>, causal = false, eps = 1.0e-6 : f64} : tensor<2x4x10x8xbf16>, tensor<2x4x12x8xbf16>, tensor<2x4x12x8xbf16> -> tensor<2x4x10x8xbf16>
  // CHECK: attnflow.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {feature_map = #attnflow.feature_map<elu_plus_one>} : tensor<2x4x10x8xbf16>
  %2 = attnflow.linear_attention %qh, %kh, %vh {feature_map = #attnflow.feature_map<elu_plus_one>} : tensor<2x4x10x8xbf16>, tensor<2x4x12x8xbf16>, tensor<2x4x12x8xbf16> -> tensor<2x4x10x8xbf16>
  return %0, %1, %2 : tensor<1x8x64x16xf32>, tensor<2x4x10x8xbf16>, tensor<2x4x10x8xbf16>
}

// Vector quantization with a shared codebook (any rank of x) and a per-head
// one (x [B, H, S, D]).
// CHECK-LABEL: func @vector_quantize
func.func @vector_quantize(%x: tensor<3x5x16xf16>, %cb: tensor<32x16xf16>, %xh: tensor<1x4x8x16xf32>, %cbh: tensor<4x32x16xf32>)
    -> (tensor<3x5xi64>, tensor<3x5x16xf16>, tensor<1x4x8xi64>, tensor<1x4x8x16xf32>) {
  // CHECK: attnflow.vector_quantize %{{.*}}, %{{.*}} : tensor<3x5x16xf16>, tensor<32x16xf16> -> tensor<3x5xi64>, tensor<3x5x16xf16>
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<3x5x16xf16>, tensor<32x16xf16> -> tensor<3x5xi64>, tensor<3x5x16xf16>
  // CHECK: attnflow.vector_quantize %{{.*}}, %{{.*}} : tensor<1x4x8x16xf32>, tensor<4x32x16xf32> -> tensor<1x4x8xi64>, tensor<1x4x8x16xf32>
  %ih, %qh = attnflow.vector_quantize %xh, %cbh : tensor<1x4x8x16xf32>, tensor<4x32x16xf32> -> tensor<1x4x8xi64>, tensor<1x4x8x16xf32>
  return %i, %q, %ih, %qh : tensor<3x5xi64>, tensor<3x5x16xf16>, tensor<1x4x8xi64>, tensor<1x4x8x16xf32>
}

// Transformer-VQ attention, shared and per-kv-head codebooks.
// CHECK-LABEL: func @vq_attention
func.func @vq_attention(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %cb: tensor<512x32xf32>, %cbh: tensor<2x512x32xf32>)
    -> (tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>) {
  // CHECK: attnflow.vq_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {block_len = 16 : i64, causal = true, scale = 1.250000e-01 : f64} : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<512x32xf32> -> tensor<1x8x64x16xf32>
  %0 = attnflow.vq_attention %q, %k, %v, %cb {causal = true, scale = 0.125 : f64, block_len = 16 : i64} : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<512x32xf32> -> tensor<1x8x64x16xf32>
  // CHECK: attnflow.vq_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<2x512x32xf32> -> tensor<1x8x64x16xf32>
  %1 = attnflow.vq_attention %q, %k, %v, %cbh : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32>, tensor<2x512x32xf32> -> tensor<1x8x64x16xf32>
  return %0, %1 : tensor<1x8x64x16xf32>, tensor<1x8x64x16xf32>
}
