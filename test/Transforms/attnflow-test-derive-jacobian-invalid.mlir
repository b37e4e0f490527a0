// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-test-derive-jacobian

// An op without a derivative rule that depends on h is named, with the way
// out (a `jacobian` region).
func.func @sin(%h: tensor<4xf32>, %u: tensor<2xf32>) -> tensor<4xf32>
    attributes {attnflow.derive_jacobian} {
  // expected-error @below {{'math.sin' op cannot be differentiated with respect to the state h}}
  %s = math.sin %h : tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// The same op on values that do not depend on h is just copied.
func.func @sin_of_input(%h: tensor<4xf32>, %u: tensor<4xf32>) -> tensor<4xf32>
    attributes {attnflow.derive_jacobian} {
  %s = math.sin %u : tensor<4xf32>
  %r = arith.addf %h, %s : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Inside a linalg body the offending scalar op is named.
#map = affine_map<(i) -> (i)>
func.func @generic_sin(%h: tensor<4xf32>, %u: tensor<2xf32>) -> tensor<4xf32>
    attributes {attnflow.derive_jacobian} {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%h : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    // expected-error @below {{'math.sin' op cannot be differentiated with respect to the state h}}
    %s = math.sin %x : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A reduction other than a sum.
#in = affine_map<(i) -> (i)>
#out = affine_map<(i) -> ()>
func.func @max_reduction(%h: tensor<4xf32>, %u: tensor<2xf32>) -> tensor<4xf32>
    attributes {attnflow.derive_jacobian} {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  // expected-error @below {{reduces other than by a sum `acc + ...`}}
  %m = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["reduction"]}
      ins(%h : tensor<4xf32>) outs(%z : tensor<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %v = arith.maximumf %x, %acc : f32
    linalg.yield %v : f32
  } -> tensor<f32>
  %s = tensor.extract %m[] : tensor<f32>
  %e4 = tensor.empty() : tensor<4xf32>
  %r = linalg.fill ins(%s : f32) outs(%e4 : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// The state must be a static rank-1 float tensor.
// expected-error @below {{the cell's first argument (the state h) must be a statically shaped rank-1 float tensor, got 'tensor<2x2xf32>'}}
func.func @matrix_state(%h: tensor<2x2xf32>, %u: tensor<2xf32>) -> tensor<2x2xf32>
    attributes {attnflow.derive_jacobian} {
  return %h : tensor<2x2xf32>
}

// -----

// expected-error @below {{'func.func' op marked attnflow.derive_jacobian must return one value (the new state), got 2}}
func.func @two_results(%h: tensor<4xf32>, %u: tensor<2xf32>) -> (tensor<4xf32>, tensor<4xf32>)
    attributes {attnflow.derive_jacobian} {
  return %h, %h : tensor<4xf32>, tensor<4xf32>
}
