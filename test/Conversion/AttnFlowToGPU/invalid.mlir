// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-gpu --verify-diagnostics

func.func @f64(%q: tensor<1x1x4x8xf64>) -> tensor<1x1x4x8xf64> {
  // expected-error @+1 {{has f64 operands, which the GPU lowering does not support (f32, f16 and bf16 are)}}
  %o = attnflow.attention %q, %q, %q : tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64> -> tensor<1x1x4x8xf64>
  return %o : tensor<1x1x4x8xf64>
}

// -----

func.func @head_dim_too_large(%q: tensor<1x1x4x512xf32>) -> tensor<1x1x4x512xf32> {
  // expected-error @+1 {{head dims D = 512, Dv = 512 need 270976 bytes of shared memory per block (plus 16 static), more than the target's 166912}}
  %o = attnflow.attention %q, %q, %q : tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32>, tensor<1x1x4x512xf32> -> tensor<1x1x4x512xf32>
  return %o : tensor<1x1x4x512xf32>
}

// -----

func.func @grid_too_large(%q: tensor<70000x1x1x8xf32>) -> tensor<70000x1x1x8xf32> {
  // expected-error @+1 {{has Hq = 1 and B = 70000; the GPU grid holds at most 65535 of each}}
  %o = attnflow.attention %q, %q, %q : tensor<70000x1x1x8xf32>, tensor<70000x1x1x8xf32>, tensor<70000x1x1x8xf32> -> tensor<70000x1x1x8xf32>
  return %o : tensor<70000x1x1x8xf32>
}

// -----

// The tensor-core kernel's plan: 2 * (64 * 520 + 64 * 520 + 512 * 72) bytes.
func.func @mma_head_dim_too_large(%q: tensor<1x1x4x512xf16>) -> tensor<1x1x4x512xf16> {
  // expected-error @+1 {{head dims D = 512, Dv = 512 need 206848 bytes of shared memory per block (plus 16 static), more than the target's 166912}}
  %o = attnflow.attention %q, %q, %q : tensor<1x1x4x512xf16>, tensor<1x1x4x512xf16>, tensor<1x1x4x512xf16> -> tensor<1x1x4x512xf16>
  return %o : tensor<1x1x4x512xf16>
}

// -----

func.func @head_dim_limit(%q: tensor<1x1x1x8192xf16>) -> tensor<1x1x1x8192xf16> {
  // expected-error @+1 {{head dims D = 8192, Dv = 8192 exceed the GPU kernels' limit of 4096}}
  %o = attnflow.attention %q, %q, %q : tensor<1x1x1x8192xf16>, tensor<1x1x1x8192xf16>, tensor<1x1x1x8192xf16> -> tensor<1x1x1x8192xf16>
  return %o : tensor<1x1x1x8192xf16>
}

// -----

func.func @grid_x(%q: tensor<1x1x300000000000x8xf32>, %k: tensor<1x1x4x8xf32>) -> tensor<1x1x300000000000x8xf32> {
  // expected-error @+1 {{has Sq = 300000000000; the GPU grid holds at most 2147483647 query tiles of 64}}
  %o = attnflow.attention %q, %k, %k : tensor<1x1x300000000000x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x300000000000x8xf32>
  return %o : tensor<1x1x300000000000x8xf32>
}
