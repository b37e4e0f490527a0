// Llama-3.1-8B self-attention at its real configuration (Hugging Face
// meta-llama/Llama-3.1-8B config.json): 32 query heads, 8 kv heads (GQA 4:1),
// head_dim 128, rope_theta 500000, rope_scaling {rope_type: llama3, factor 8,
// low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings
// 8192}, causal. This is LlamaAttention.forward after the q/k/v projections:
// RoPE on q and k, then softmax attention with scale 1/sqrt(128).
//
// Sequence length 512 (the model allows 131072) keeps the demo's run and its
// float64 reference to seconds on 2 cores; nothing in this block depends on
// the length beyond cost.
func.func @main(%q: tensor<1x32x512x128xf32>, %k: tensor<1x8x512x128xf32>,
                %v: tensor<1x8x512x128xf32>, %positions: tensor<512xi64>)
    -> tensor<1x32x512x128xf32> {
  %q_rot = attnflow.rope %q, %positions {theta = 500000.0 : f64,
      scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192, low_freq_factor = 1.0, high_freq_factor = 4.0>}
      : tensor<1x32x512x128xf32>, tensor<512xi64> -> tensor<1x32x512x128xf32>
  %k_rot = attnflow.rope %k, %positions {theta = 500000.0 : f64,
      scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192, low_freq_factor = 1.0, high_freq_factor = 4.0>}
      : tensor<1x8x512x128xf32>, tensor<512xi64> -> tensor<1x8x512x128xf32>
  %out = attnflow.attention %q_rot, %k_rot, %v {causal = true}
      : tensor<1x32x512x128xf32>, tensor<1x8x512x128xf32>, tensor<1x8x512x128xf32>
      -> tensor<1x32x512x128xf32>
  return %out : tensor<1x32x512x128xf32>
}
