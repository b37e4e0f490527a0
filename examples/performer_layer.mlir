// A Performer attention layer (Choromanski et al. 2021, "Rethinking Attention
// with Performers"): causal FAVOR+ linear attention with M = 256 positive
// orthogonal random features over 8 heads of dimension 128, the setting of
// the paper's language-modelling experiments (its Table 1 uses M = 256 for
// d = 64 .. 128 heads). The projection W [M, D] is an input: run_examples.py
// draws it with attnflow.random_features.favor_plus_projection (block-
// orthogonal rows with chi-distributed norms, seeded).
//
// Sequence length 4096: the cost is O(S * M * D) (the running feature sums
// of the keys), so the length is limited by the demo's time budget only.
func.func @main(%q: tensor<1x8x4096x128xf32>, %k: tensor<1x8x4096x128xf32>,
                %v: tensor<1x8x4096x128xf32>, %projection: tensor<256x128xf32>)
    -> tensor<1x8x4096x128xf32> {
  %out = attnflow.linear_attention %q, %k, %v, %projection
      {feature_map = #attnflow.feature_map<favor_plus>, causal = true}
      : tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>,
        tensor<256x128xf32> -> tensor<1x8x4096x128xf32>
  return %out : tensor<1x8x4096x128xf32>
}
