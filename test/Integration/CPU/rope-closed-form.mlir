// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// D = 4, theta = 1e4: inv_freq = [1, 0.01]. Rotating a unit vector of pair i
// by position p gives (cos p f_i, sin p f_i). Position 1000 checks that large
// angles are range-reduced accurately: cos 1000 = 0.562379, sin 1000 = 0.826880.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @main() {
  %pos = arith.constant dense<[0, 1, 2, 1000]> : tensor<4xi64>

  // half layout pairs (0, 2), (1, 3): x = (1, 1, 0, 0) -> (cos p, cos .01p, sin p, sin .01p).
  // CHECK:      [1,   1,   0,   0],
  // CHECK-NEXT: [0.540302,   0.99995,   0.841471,   0.00999983],
  // CHECK-NEXT: [-0.416147,   0.9998,   0.909297,   0.0199987],
  // CHECK-NEXT: [0.562379,   -0.839072,   0.82688,   -0.544021]
  %x = arith.constant dense<[1.0, 1.0, 0.0, 0.0]> : tensor<4xf32>
  %xb = tensor.expand_shape %x [[0, 1, 2]] output_shape [1, 1, 4] : tensor<4xf32> into tensor<1x1x4xf32>
  %xe = tensor.empty() : tensor<1x1x4x4xf32>
  %xs = linalg.broadcast ins(%xb : tensor<1x1x4xf32>) outs(%xe : tensor<1x1x4x4xf32>) dimensions = [2]
  %0 = attnflow.rope %xs, %pos : tensor<1x1x4x4xf32>, tensor<4xi64> -> tensor<1x1x4x4xf32>
  %u0 = tensor.cast %0 : tensor<1x1x4x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u0) : (tensor<*xf32>) -> ()

  // interleaved pairs (0, 1), (2, 3): x = (1, 0, 1, 0) -> (cos p, sin p, cos .01p, sin .01p).
  // CHECK:      [1,   0,   1,   0],
  // CHECK-NEXT: [0.540302,   0.841471,   0.99995,   0.00999983],
  // CHECK-NEXT: [-0.416147,   0.909297,   0.9998,   0.0199987],
  // CHECK-NEXT: [0.562379,   0.82688,   -0.839072,   -0.544021]
  %y = arith.constant dense<[1.0, 0.0, 1.0, 0.0]> : tensor<4xf32>
  %yb = tensor.expand_shape %y [[0, 1, 2]] output_shape [1, 1, 4] : tensor<4xf32> into tensor<1x1x4xf32>
  %ys = linalg.broadcast ins(%yb : tensor<1x1x4xf32>) outs(%xe : tensor<1x1x4x4xf32>) dimensions = [2]
  %1 = attnflow.rope %ys, %pos {layout = #attnflow.rope_layout<interleaved>} : tensor<1x1x4x4xf32>, tensor<4xi64> -> tensor<1x1x4x4xf32>
  %u1 = tensor.cast %1 : tensor<1x1x4x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u1) : (tensor<*xf32>) -> ()

  // rotary_dim = 2 of D = 4 (pairs (0, 1) only): dims 2 and 3 pass through.
  // CHECK:      [1,   0,   7,   -3],
  // CHECK-NEXT: [0.540302,   0.841471,   7,   -3],
  // CHECK-NEXT: [-0.416147,   0.909297,   7,   -3],
  // CHECK-NEXT: [0.562379,   0.82688,   7,   -3]
  %z = arith.constant dense<[1.0, 0.0, 7.0, -3.0]> : tensor<4xf32>
  %zb = tensor.expand_shape %z [[0, 1, 2]] output_shape [1, 1, 4] : tensor<4xf32> into tensor<1x1x4xf32>
  %zs = linalg.broadcast ins(%zb : tensor<1x1x4xf32>) outs(%xe : tensor<1x1x4x4xf32>) dimensions = [2]
  %2 = attnflow.rope %zs, %pos {rotary_dim = 2 : i64} : tensor<1x1x4x4xf32>, tensor<4xi64> -> tensor<1x1x4x4xf32>
  %u2 = tensor.cast %2 : tensor<1x1x4x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u2) : (tensor<*xf32>) -> ()

  // linear scaling by 2 halves every angle: row p equals the unscaled row at
  // p / 2, so position 2 gives (cos 1, cos .01, sin 1, sin .01); cos .005 in
  // f32 is 0.99998748.
  // CHECK:      [1,   1,   0,   0],
  // CHECK-NEXT: [0.877583,   0.999987,   0.479426,   0.00499998],
  // CHECK-NEXT: [0.540302,   0.99995,   0.841471,   0.00999983],
  %3 = attnflow.rope %xs, %pos {scaling = #attnflow.rope_scaling<kind = linear, factor = 2.0>} : tensor<1x1x4x4xf32>, tensor<4xi64> -> tensor<1x1x4x4xf32>
  %u3 = tensor.cast %3 : tensor<1x1x4x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u3) : (tensor<*xf32>) -> ()
  return
}
