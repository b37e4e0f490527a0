// Gemma-2-2B local (sliding-window) attention layer at its real configuration
// (Hugging Face google/gemma-2-2b config.json): 8 query heads, 4 kv heads
// (GQA 2:1), head_dim 256, rope_theta 10000, query_pre_attn_scalar 256
// (scale 256^-1/2 = 1/16), attn_logit_softcapping 50, sliding_window 4096
// (window_left = 4095), causal. RoPE on q and k, then attention.
//
// Shortened for the demo: one chunk of 64 queries (positions 4544..4607) of a
// chunked prefill against a 4608-token kv cache (positions 0..4607). The
// window stays the model's 4096, so it still matters: query 4607 sees keys
// 512..4607 and query 4544 keys 449..4544; keys below 449 are outside every
// query's window. The full 8192-token context would only cost more time.
func.func @main(%q: tensor<1x8x64x256xf32>, %k: tensor<1x4x4608x256xf32>,
                %v: tensor<1x4x4608x256xf32>, %q_positions: tensor<64xi64>,
                %k_positions: tensor<4608xi64>) -> tensor<1x8x64x256xf32> {
  %q_rot = attnflow.rope %q, %q_positions
      : tensor<1x8x64x256xf32>, tensor<64xi64> -> tensor<1x8x64x256xf32>
  %k_rot = attnflow.rope %k, %k_positions
      : tensor<1x4x4608x256xf32>, tensor<4608xi64> -> tensor<1x4x4608x256xf32>
  %out = attnflow.attention %q_rot, %k_rot, %v {scale = 0.0625 : f64,
      causal = true, window_left = 4095 : i64, logit_softcap = 50.0 : f64}
      : tensor<1x8x64x256xf32>, tensor<1x4x4608x256xf32>, tensor<1x4x4608x256xf32>
      -> tensor<1x8x64x256xf32>
  return %out : tensor<1x8x64x256xf32>
}
