// Mistral-7B-v0.1 self-attention at its real configuration (Hugging Face
// mistralai/Mistral-7B-v0.1 config.json, as DESIGN.md §6 lists it): 32 query
// heads, 8 kv heads (GQA 4:1), head_dim 128, rope_theta 10000, sliding_window
// 4096 (window_left = 4095), causal. RoPE on q and k, then attention.
//
// Sequence length 16384, four times the window: each query sees at most
// 4096 keys, so the work is O(S * 4096 * D), and the tiled lowering never
// materializes more than one [64, 64] score block per tile.
func.func @main(%q: tensor<1x32x16384x128xf32>, %k: tensor<1x8x16384x128xf32>,
                %v: tensor<1x8x16384x128xf32>, %positions: tensor<16384xi64>)
    -> tensor<1x32x16384x128xf32> {
  %q_rot = attnflow.rope %q, %positions
      : tensor<1x32x16384x128xf32>, tensor<16384xi64> -> tensor<1x32x16384x128xf32>
  %k_rot = attnflow.rope %k, %positions
      : tensor<1x8x16384x128xf32>, tensor<16384xi64> -> tensor<1x8x16384x128xf32>
  %out = attnflow.attention %q_rot, %k_rot, %v {causal = true, window_left = 4095 : i64}
      : tensor<1x32x16384x128xf32>, tensor<1x8x16384x128xf32>, tensor<1x8x16384x128xf32>
      -> tensor<1x32x16384x128xf32>
  return %out : tensor<1x32x16384x128xf32>
}
