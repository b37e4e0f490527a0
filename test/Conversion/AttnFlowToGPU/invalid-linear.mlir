// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --convert-linear-attention-to-gpu="shared-memory-limit=100000"

// M = 600: the scan needs 4 (2 * 16 * 601 + 16 * 32 + 16 * 17 + 33 * 600 + 8)
// = 159296 bytes even with 16-row chunks.
func.func @too_many_features(%q: tensor<1x1x4x8xf32>, %w: tensor<600x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{'attnflow.linear_attention' op has M = 600 features, whose scan needs 159296 bytes of shared memory per block (chunks of 16 rows, plus 16 static), more than the target's 100000}}
  %o = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>, causal = true} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<600x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

// C = 1000 codes: 4 (16 * 9 + 16 * 1001 + 16 * 17 + 16 * 32 + 33 * 1000 +
// 32 * 9) = 200928 bytes with 16-row chunks.
func.func @too_many_codes(%q: tensor<1x1x4x8xf32>, %cb: tensor<1000x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{'attnflow.vq_attention' op has D = 8 and C = 1000 codes, whose scan needs 200928 bytes of shared memory per block (chunks of 16 rows, plus 16 static), more than the target's 100000}}
  %o = attnflow.vq_attention %q, %q, %q, %cb {causal = true} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1000x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

// D = 1024: the codes kernel stages 64 keys and 32 code rows, 4 (64 * 1025 +
// 32 * 1024) = 393472 bytes.
func.func @head_dim_too_large_for_codes(%q: tensor<1x1x4x1024xf32>, %cb: tensor<4x1024xf32>) -> tensor<1x1x4x1024xf32> {
  // expected-error @+1 {{'attnflow.vq_attention' op has D = 1024, whose quantization kernel needs 393472 bytes of shared memory per block (plus 16 static), more than the target's 100000}}
  %o = attnflow.vq_attention %q, %q, %q, %cb : tensor<1x1x4x1024xf32>, tensor<1x1x4x1024xf32>, tensor<1x1x4x1024xf32>, tensor<4x1024xf32> -> tensor<1x1x4x1024xf32>
  return %o : tensor<1x1x4x1024xf32>
}

// -----

func.func @too_many_heads(%q: tensor<1x65536x1x4xf32>, %k: tensor<1x1x1x4xf32>) -> tensor<1x65536x1x4xf32> {
  // expected-error @+1 {{'attnflow.linear_attention' op has Hq = 65536 and B = 1; the GPU grid holds at most 65535 of each}}
  %o = attnflow.linear_attention %q, %k, %k {feature_map = #attnflow.feature_map<relu>} : tensor<1x65536x1x4xf32>, tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32> -> tensor<1x65536x1x4xf32>
  return %o : tensor<1x65536x1x4xf32>
}
