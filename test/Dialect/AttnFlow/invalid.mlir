// RUN: attnflow-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attnflow.rope, attnflow.attention and
// #attnflow.rope_scaling.

func.func @f0(%x: tensor<2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<2x8x16xf32> {
  // expected-error @+1 {{expects 'x' of rank 4 ([B, H, S, D]), got 'tensor<2x8x16xf32>'}}
  %0 = attnflow.rope %x, %pos : tensor<2x8x16xf32>, tensor<8xi64> -> tensor<2x8x16xf32>
  return %0 : tensor<2x8x16xf32>
}

// -----

func.func @f1(%x: tensor<1x2x8x?xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x?xf32> {
  // expected-error @+1 {{expects 'x' with a static head dim D, got 'tensor<1x2x8x?xf32>'}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x?xf32>, tensor<8xi64> -> tensor<1x2x8x?xf32>
  return %0 : tensor<1x2x8x?xf32>
}

// -----

func.func @f2(%x: tensor<1x2x8x16xi32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xi32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<1x2x8x16xi32>'}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xi32>, tensor<8xi64> -> tensor<1x2x8x16xi32>
  return %0 : tensor<1x2x8x16xi32>
}

// -----

func.func @f3(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<8xf32>'}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<8xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f4(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf16> {
  // expected-error @+1 {{expects the result type to equal x's type 'tensor<1x2x8x16xf32>', got 'tensor<1x2x8x16xf16>'}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf16>
  return %0 : tensor<1x2x8x16xf16>
}

// -----

func.func @f5(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects theta to be a finite value > 0, got 0}}
  %0 = attnflow.rope %x, %pos {theta = 0.0 : f64} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f6(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects rotary_dim to be even and in [2, D = 16], got 7}}
  %0 = attnflow.rope %x, %pos {rotary_dim = 7 : i64} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f7(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects rotary_dim to be even and in [2, D = 16], got 18}}
  %0 = attnflow.rope %x, %pos {rotary_dim = 18 : i64} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f8(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects rotary_dim to be even and in [2, D = 16], got 0}}
  %0 = attnflow.rope %x, %pos {rotary_dim = 0 : i64} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f10(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects a non-empty mrope_section}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64>} : tensor<1x2x8x16xf32>, tensor<3x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f11(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects every mrope_section entry to be > 0, got 0}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 0, 4, 4>} : tensor<1x2x8x16xf32>, tensor<3x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f12(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects mrope_section to sum to rotary_dim / 2 = 8, got 9}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 1, 4, 4>} : tensor<1x2x8x16xf32>, tensor<3x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f13(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' of shape [A, S] or [A, B, S] with mrope_section, got 'tensor<8xi64>'}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 2, 3, 3>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f14(%x: tensor<1x2x8x16xf32>, %pos: tensor<2x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' dimension 0 (number of mrope sections) to be 3, got 2}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 2, 3, 3>} : tensor<1x2x8x16xf32>, tensor<2x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f15(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x2x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' dimension 1 (batch B of x) to be 1, got 2}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 2, 3, 3>} : tensor<1x2x8x16xf32>, tensor<3x2x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f16(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x1x9xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' dimension 2 (sequence length S of x) to be 8, got 9}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 2, 3, 3>} : tensor<1x2x8x16xf32>, tensor<3x1x9xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f17(%x: tensor<1x2x8x16xf32>, %pos: tensor<1x1x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' of shape [S] or [B, S], got 'tensor<1x1x8xi64>'}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<1x1x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f18(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' dimension 0 (batch B of x) to be 1, got 3}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<3x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f19(%x: tensor<1x2x8x16xf32>, %pos: tensor<7xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'positions' dimension 0 (sequence length S of x) to be 8, got 7}}
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<7xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f20(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects rotary_dim > 2 for ntk scaling (its exponent is r / (r - 2)), got 2}}
  %0 = attnflow.rope %x, %pos {rotary_dim = 2 : i64, scaling = #attnflow.rope_scaling<kind = ntk, factor = 2.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f21(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects rotary_dim > 2 for dynamic_ntk scaling (its exponent is r / (r - 2)), got 2}}
  %0 = attnflow.rope %x, %pos {rotary_dim = 2 : i64, scaling = #attnflow.rope_scaling<kind = dynamic_ntk, factor = 2.0, original_max_position = 4>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f22(%q: tensor<4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'q' of rank 4 ([B, Hq, Sq, D]), got 'tensor<4x8x16xf32>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f23(%q: tensor<1x4x8x16xf32>, %k: tensor<2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'k' of rank 4 ([B, Hkv, Skv, D]), got 'tensor<2x8x16xf32>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f24(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'v' of rank 4 ([B, Hkv, Skv, Dv]), got 'tensor<2x8x16xf32>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f25(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'k' with a static shape (dynamic sizes, including a dynamic sequence length, are not supported), got 'tensor<1x2x?x16xf32>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f26(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf16>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'k' element type to equal q's element type 'f32', got 'f16'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f27(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xbf16>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'v' element type to equal q's element type 'f32', got 'bf16'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xbf16> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f28(%q: tensor<1x4x8x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'k' dimension 0 (batch B of q) to be 1, got 2}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f29(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'k' dimension 3 (head dim D of q) to be 16, got 32}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f30(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<2x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'v' dimension 0 (batch B of q) to be 1, got 2}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f31(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'v' dimension 1 (kv heads Hkv of k) to be 2, got 4}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f32(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x9x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'v' dimension 2 (kv length Skv of k) to be 8, got 9}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f33(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %v: tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects the query heads Hq = 4 to be a multiple of the kv heads Hkv = 3}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f34(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects the result type to be 'tensor<1x4x8x16xf32>' ([B, Hq, Sq, Dv]), got 'tensor<1x2x8x16xf32>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @f35(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf16> {
  // expected-error @+1 {{expects the result type to be 'tensor<1x4x8x16xf32>' ([B, Hq, Sq, Dv]), got 'tensor<1x4x8x16xf16>'}}
  %0 = attnflow.attention %q, %k, %v : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf16>
  return %0 : tensor<1x4x8x16xf16>
}

// -----

func.func @f36(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<8x8xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'bias' of rank 4 ([B|1, Hq|1, Sq, Skv]), got 'tensor<8x8xf32>'}}
  %0 = attnflow.attention %q, %k, %v, %b : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8x8xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f37(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<1x1x8x8xf16>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'bias' element type to equal q's element type 'f32', got 'f16'}}
  %0 = attnflow.attention %q, %k, %v, %b : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xf16> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f38(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<1x2x8x8xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'bias' dimensions 0 and 1 to be 1 or [B, Hq] = [1, 4], got [1, 2]}}
  %0 = attnflow.attention %q, %k, %v, %b : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f39(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<1x1x7x8xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'bias' dimension 2 (query length Sq) to be 8, got 7}}
  %0 = attnflow.attention %q, %k, %v, %b : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x7x8xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f40(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %b: tensor<1x4x8x9xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'bias' dimension 3 (kv length Skv) to be 8, got 9}}
  %0 = attnflow.attention %q, %k, %v, %b : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x9xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f41(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects a finite scale, got INF}}
  %0 = attnflow.attention %q, %k, %v {scale = 0x7FF0000000000000 : f64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f42(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects window_left >= -1 (-1 = unbounded), got -2}}
  %0 = attnflow.attention %q, %k, %v {window_left = -2 : i64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f43(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects window_right >= -1 (-1 = unbounded), got -5}}
  %0 = attnflow.attention %q, %k, %v {window_right = -5 : i64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f44(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects num_sink_tokens >= 0, got -1}}
  %0 = attnflow.attention %q, %k, %v {num_sink_tokens = -1 : i64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f45(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects logit_softcap >= 0 (0 = off), got -3}}
  %0 = attnflow.attention %q, %k, %v {logit_softcap = -3.0 : f64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f46(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects alibi_slopes of length Hq = 4, got 2}}
  %0 = attnflow.attention %q, %k, %v {alibi_slopes = array<f64: 0.5, 0.25>} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f47(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects logn_train_len = 0 (off) or >= 2, got 1}}
  %0 = attnflow.attention %q, %k, %v {logn_train_len = 1 : i64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @f48(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects logn_train_len = 0 (off) or >= 2, got -4}}
  %0 = attnflow.attention %q, %k, %v {logn_train_len = -4 : i64} : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @a0(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling factor must be a finite value > 0, got 0}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = linear, factor = 0.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a1(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling kind 'yarn' requires original_max_position}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a2(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling kind 'llama3' requires original_max_position}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a3(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling kind 'dynamic_ntk' requires original_max_position}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = dynamic_ntk, factor = 2.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a4(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling original_max_position must be > 0, got 0}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a5(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling yarn needs beta_fast > 0 and beta_slow > 0, got beta_fast = 3.200000e+01, beta_slow = -1.000000e+00}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 4096, beta_slow = -1.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a6(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling llama3 needs 0 < low_freq_factor < high_freq_factor, got low_freq_factor = 4.000000e+00, high_freq_factor = 4.000000e+00}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192, low_freq_factor = 4.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @a7(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{rope_scaling attention_factor must be > 0, got -1}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 4096, attention_factor = -1.0>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @int_literal(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+3 {{unexpected decimal integer literal for a floating point value}}
  // expected-note @+2 {{add a trailing dot to make the literal a float}}
  // expected-error @+1 {{failed to parse AttnFlow_RopeScalingAttr parameter 'factor'}}
  %0 = attnflow.rope %x, %pos {scaling = #attnflow.rope_scaling<kind = linear, factor = 2>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @bad_layout(%x: tensor<1x2x8x16xf32>, %pos: tensor<8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+2 {{expected ::mlir::attnflow::RopeLayout to be one of: half, interleaved}}
  // expected-error @+1 {{failed to parse AttnFlow_RopeLayoutAttr parameter 'value'}}
  %0 = attnflow.rope %x, %pos {layout = #attnflow.rope_layout<neox>} : tensor<1x2x8x16xf32>, tensor<8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @online_rank(%q: tensor<4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects 'q' of rank 4 ([B, Hq, Sq, D]), got 'tensor<4x16x8xf32>'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @online_acc_type(%q: tensor<1x4x16x8xf16>, %k: tensor<1x2x9x8xf16>, %acc: tensor<1x4x16x8xf16>, %m: tensor<1x4x16xf16>, %i: index) {
  // expected-error @+1 {{operand #3 must be ranked tensor of 32-bit float or 64-bit float values, but got 'tensor<1x4x16x8xf16>'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf16>, tensor<1x2x9x8xf16>, tensor<1x2x9x8xf16> into tensor<1x4x16x8xf16>, tensor<1x4x16xf16>
  return
}

// -----

func.func @online_acc_f64(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %acc: tensor<1x4x16x8xf64>, %m: tensor<1x4x16xf64>, %i: index) {
  // expected-error @+1 {{expects acc, max and sum of element type 'f32' for 'f32' inputs, got 'f64'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> into tensor<1x4x16x8xf64>, tensor<1x4x16xf64>
  return
}

// -----

func.func @online_elements(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf16>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects q, k and v of one element type, got 'f32', 'f16', 'f16'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf16>, tensor<1x2x9x8xf16> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @online_head_dim(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x?x6xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects matching head dim D of q and k, got 8 and 6}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x?x6xf32>, tensor<1x2x?x6xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @online_rows(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %acc: tensor<1x4x15x8xf32>, %m: tensor<1x4x15xf32>, %i: index) {
  // expected-error @+1 {{expects matching query rows of acc and q, got 15 and 16}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> into tensor<1x4x15x8xf32>, tensor<1x4x15xf32>
  return
}

// -----

func.func @online_groups(%q: tensor<1x4x16x8xf32>, %k: tensor<1x3x9x8xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects the query heads 4 to be a multiple of the kv heads 3}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x3x9x8xf32>, tensor<1x3x9x8xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @attention_q_offset_range(%q: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{expects |q_offset| <= 2^60, got -4611686018427387904}}
  %0 = attnflow.attention %q, %q, %q {q_offset = -4611686018427387904 : i64} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

func.func @attention_empty_head_dim(%q: tensor<1x2x4x0xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{expects non-empty head dims, got D = 0 and Dv = 8}}
  %0 = attnflow.attention %q, %q, %v : tensor<1x2x4x0xf32>, tensor<1x2x4x0xf32>, tensor<1x2x4x8xf32> -> tensor<1x2x4x8xf32>
  return %0 : tensor<1x2x4x8xf32>
}

// -----

func.func @attention_scale_f32_range(%q: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{expects a scale representable in f32 for 'f32' inputs, got 1.000000e+39}}
  %0 = attnflow.attention %q, %q, %q {scale = 1.0e+39 : f64} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

func.func @attention_softcap_f32_range(%q: tensor<1x1x4x8xf16>) -> tensor<1x1x4x8xf16> {
  // expected-error @+1 {{expects a logit_softcap representable in f32 for 'f16' inputs, got 1.000000e+300}}
  %0 = attnflow.attention %q, %q, %q {logit_softcap = 1.0e+300 : f64} : tensor<1x1x4x8xf16>, tensor<1x1x4x8xf16>, tensor<1x1x4x8xf16> -> tensor<1x1x4x8xf16>
  return %0 : tensor<1x1x4x8xf16>
}

// -----

func.func @attention_alibi_no_heads(%q: tensor<1x0x4x8xf32>, %kv: tensor<1x1x4x8xf32>) -> tensor<1x0x4x8xf32> {
  // expected-error @+1 {{expects no alibi_slopes when Hq = 0}}
  %0 = attnflow.attention %q, %kv, %kv {alibi_slopes = array<f64>} : tensor<1x0x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x0x4x8xf32>
  return %0 : tensor<1x0x4x8xf32>
}

// -----

func.func @attention_alibi_range(%q: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  // expected-error @+1 {{expects finite alibi_slopes representable in the compute type, got 1.000000e+39}}
  %0 = attnflow.attention %q, %q, %q {alibi_slopes = array<f64: 1.0e+39>} : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %0 : tensor<1x1x4x8xf32>
}

// -----

func.func @rope_mrope_overflow(%x: tensor<1x2x8x16xf32>, %pos: tensor<3x8xi64>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects mrope_section to sum to rotary_dim / 2 = 8, got a sum beyond int64}}
  %0 = attnflow.rope %x, %pos {mrope_section = array<i64: 9223372036854775807, 9223372036854775807, 4>} : tensor<1x2x8x16xf32>, tensor<3x8xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @online_max_type(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf64>, %i: index) {
  // expected-error @+1 {{expects max and sum of element type 'f32', got 'f64'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf64>
  return
}

// -----

func.func @online_bias_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %bias: tensor<16x9xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects 'bias' of rank 4 ([B|1, Hq|1, Sq, Skv]), got 'tensor<16x9xf32>'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k, %bias at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<16x9xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @online_bias_broadcast(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %bias: tensor<3x5x16x9xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects 'bias' dimensions 0 and 1 to be 1 or those of q 'tensor<1x4x16x8xf32>', got 'tensor<3x5x16x9xf32>'}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k, %bias at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32>, tensor<3x5x16x9xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @online_window(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x9x8xf32>, %acc: tensor<1x4x16x8xf32>, %m: tensor<1x4x16xf32>, %i: index) {
  // expected-error @+1 {{expects window_left, window_right >= -1 and num_sink_tokens >= 0}}
  %a, %b, %c = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %m, %m) {scale = 1.0 : f64, window_left = -5 : i64} : tensor<1x4x16x8xf32>, tensor<1x2x9x8xf32>, tensor<1x2x9x8xf32> into tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @linear_missing_projection(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects a 'projection' [M, D] operand with feature map favor_plus}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<favor_plus>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_extra_projection(%q: tensor<1x2x8x16xf32>, %w: tensor<4x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects no 'projection' with feature map relu (only favor_plus uses random features)}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<relu>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_projection_rank(%q: tensor<1x2x8x16xf32>, %w: tensor<4x16x1xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'projection' of rank 2 ([M, D]), got 'tensor<4x16x1xf32>'}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x16x1xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_projection_dim(%q: tensor<1x2x8x16xf32>, %w: tensor<4x8xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'projection' dimension 1 (head dim D of q) to be 16, got 8}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x8xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_projection_empty(%q: tensor<1x2x8x16xf32>, %w: tensor<0x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'projection' [M, D] with M >= 1 random features, got M = 0}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<0x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_projection_type(%q: tensor<1x2x8x16xf32>, %w: tensor<4x16xf16>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'projection' element type to equal q's element type 'f32', got 'f16'}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x16xf16> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_causal_lengths(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x9x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects Sq == Skv when causal, got Sq = 8 and Skv = 9}}
  %0 = attnflow.linear_attention %q, %k, %k {feature_map = #attnflow.feature_map<relu>, causal = true} : tensor<1x2x8x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_scale(%q: tensor<1x2x8x16xf32>, %w: tensor<4x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects a finite scale > 0, got -1.000000e+00}}
  %0 = attnflow.linear_attention %q, %q, %q, %w {feature_map = #attnflow.feature_map<favor_plus>, scale = -1.0 : f64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_eps(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects a finite eps >= 0, got -1.000000e-06}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<relu>, eps = -1.0e-6 : f64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_gqa(%q: tensor<1x3x8x16xf32>, %k: tensor<1x2x8x16xf32>) -> tensor<1x3x8x16xf32> {
  // expected-error @+1 {{expects the query heads Hq = 3 to be a multiple of the kv heads Hkv = 2}}
  %0 = attnflow.linear_attention %q, %k, %k {feature_map = #attnflow.feature_map<relu>} : tensor<1x3x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x3x8x16xf32>
  return %0 : tensor<1x3x8x16xf32>
}

// -----

func.func @linear_result(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error @+1 {{expects the result type to be 'tensor<1x2x8x16xf32>' ([B, Hq, Sq, Dv]), got 'tensor<1x2x8x8xf32>'}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<relu>} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

func.func @linear_feature_map_required(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{requires attribute 'feature_map'}}
  %0 = attnflow.linear_attention %q, %q, %q : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_dynamic(%q: tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32> {
  // expected-error @+1 {{expects 'q' with a static shape (dynamic sizes, including a dynamic sequence length, are not supported), got 'tensor<1x2x?x16xf32>'}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<relu>} : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x2x?x16xf32>
  return %0 : tensor<1x2x?x16xf32>
}

// -----

func.func @vq_codebook_rank(%x: tensor<4x16xf32>, %cb: tensor<16xf32>) -> (tensor<4xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects 'codebook' of rank 2 ([C, D]) or 3 ([H, C, D]), got 'tensor<16xf32>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<16xf32> -> tensor<4xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_codebook_dim(%x: tensor<4x16xf32>, %cb: tensor<8x15xf32>) -> (tensor<4xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects 'codebook' dimension 1 (head dim D) to be 16, got 15}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<8x15xf32> -> tensor<4xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_codebook_empty(%x: tensor<4x16xf32>, %cb: tensor<0x16xf32>) -> (tensor<4xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects a non-empty 'codebook' (C >= 1), got 'tensor<0x16xf32>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<0x16xf32> -> tensor<4xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_codebook_heads(%x: tensor<1x4x8x16xf32>, %cb: tensor<2x8x16xf32>) -> (tensor<1x4x8xi64>, tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{expects 'codebook' dimension 0 (heads H of x) to be 4, got 2}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<1x4x8x16xf32>, tensor<2x8x16xf32> -> tensor<1x4x8xi64>, tensor<1x4x8x16xf32>
  return %i, %q : tensor<1x4x8xi64>, tensor<1x4x8x16xf32>
}

// -----

func.func @vq_codebook_per_head_rank(%x: tensor<4x16xf32>, %cb: tensor<2x8x16xf32>) -> (tensor<4xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects a shared 'codebook' [C, D] for x of rank other than 4 ([B, H, S, D]), got 'tensor<2x8x16xf32>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<2x8x16xf32> -> tensor<4xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_codebook_type(%x: tensor<4x16xf32>, %cb: tensor<8x16xf16>) -> (tensor<4xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects 'codebook' element type to equal x's element type 'f32', got 'f16'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<8x16xf16> -> tensor<4xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_indices_type(%x: tensor<4x16xf32>, %cb: tensor<8x16xf32>) -> (tensor<4x1xi64>, tensor<4x16xf32>) {
  // expected-error @+1 {{expects 'indices' of type 'tensor<4xi64>' (x's shape without D), got 'tensor<4x1xi64>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<8x16xf32> -> tensor<4x1xi64>, tensor<4x16xf32>
  return %i, %q : tensor<4x1xi64>, tensor<4x16xf32>
}

// -----

func.func @vq_quantized_type(%x: tensor<4x16xf32>, %cb: tensor<8x16xf32>) -> (tensor<4xi64>, tensor<4x16xf16>) {
  // expected-error @+1 {{expects 'quantized' of x's type 'tensor<4x16xf32>', got 'tensor<4x16xf16>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<4x16xf32>, tensor<8x16xf32> -> tensor<4xi64>, tensor<4x16xf16>
  return %i, %q : tensor<4xi64>, tensor<4x16xf16>
}

// -----

func.func @vq_x_rank(%x: tensor<f32>, %cb: tensor<8x16xf32>) -> (tensor<i64>, tensor<f32>) {
  // expected-error @+1 {{expects 'x' [..., D] of rank >= 1 with a static shape, got 'tensor<f32>'}}
  %i, %q = attnflow.vector_quantize %x, %cb : tensor<f32>, tensor<8x16xf32> -> tensor<i64>, tensor<f32>
  return %i, %q : tensor<i64>, tensor<f32>
}

// -----

func.func @vq_attention_codebook_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %cb: tensor<4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{expects 'codebook' dimension 0 (kv heads Hkv of k) to be 2, got 4}}
  %0 = attnflow.vq_attention %q, %k, %k, %cb : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<4x8x16xf32> -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

func.func @vq_attention_block_len(%q: tensor<1x2x8x16xf32>, %cb: tensor<8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects block_len >= 1, got 0}}
  %0 = attnflow.vq_attention %q, %q, %q, %cb {block_len = 0 : i64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @vq_attention_scale(%q: tensor<1x2x8x16xf32>, %cb: tensor<8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects a finite scale > 0, got 0.000000e+00}}
  %0 = attnflow.vq_attention %q, %q, %q, %cb {scale = 0.0 : f64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @vq_attention_kv(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x8x8xf32>, %cb: tensor<8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects 'k' dimension 3 (head dim D of q) to be 16, got 8}}
  %0 = attnflow.vq_attention %q, %k, %q, %cb : tensor<1x2x8x16xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>, tensor<8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_eps_f32(%q: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  // expected-error @+1 {{expects eps = 0 or a normal f32 number for 'f32' inputs, got 1.000000e-50}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<relu>, eps = 1.0e-50 : f64} : tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}

// -----

func.func @linear_no_kv_heads(%q: tensor<1x0x8x16xf32>) -> tensor<1x0x8x16xf32> {
  // expected-error @+1 {{expects at least one kv head, got Hkv = 0}}
  %0 = attnflow.linear_attention %q, %q, %q {feature_map = #attnflow.feature_map<relu>} : tensor<1x0x8x16xf32>, tensor<1x0x8x16xf32>, tensor<1x0x8x16xf32> -> tensor<1x0x8x16xf32>
  return %0 : tensor<1x0x8x16xf32>
}

// -----

func.func @yield_outside(%x: f32) -> f32 {
  %r = scf.execute_region -> f32 {
    // expected-error @+1 {{'attnflow.yield' op expects a parent op of the attnflow dialect (rnn_solve, ode_solve or ode_step), got scf.execute_region}}
    attnflow.yield %x : f32
  }
  return %r : f32
}
