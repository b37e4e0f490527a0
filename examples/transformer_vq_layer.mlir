// A Transformer-VQ attention layer (Lingle 2024, "Transformer-VQ: Linear-Time
// Transformers via Vector Quantization"): keys quantized against a codebook
// of C = 512 codes per head (the paper's S = 512 codebook size), 8 heads of
// dimension 128, causal. vq_attention equals softmax attention over the
// quantized keys and is computed from per-code aggregates in time linear in
// the sequence length. The codebook [H, C, D] is an input: run_examples.py
// fits it with attnflow.random_features.kmeans_codebook on the keys (seeded
// k-means), as the paper's codebooks are learned by k-means-style EMA
// updates.
//
// Sequence length 4096 keeps the demo short; nothing depends on it but cost.
func.func @main(%q: tensor<1x8x4096x128xf32>, %k: tensor<1x8x4096x128xf32>,
                %v: tensor<1x8x4096x128xf32>, %codebook: tensor<8x512x128xf32>)
    -> tensor<1x8x4096x128xf32> {
  %out = attnflow.vq_attention %q, %k, %v, %codebook {causal = true}
      : tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>, tensor<1x8x4096x128xf32>,
        tensor<8x512x128xf32> -> tensor<1x8x4096x128xf32>
  return %out : tensor<1x8x4096x128xf32>
}
