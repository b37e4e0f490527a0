// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// Score modifiers on one query row (D = 1, scale = 1, Sq = 1 so the row's
// position is p = q_offset = Skv - 1). Expected values are the closed forms
// below, evaluated in float64 with numpy.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<1x1x1x1xf32>) {
  %u = tensor.cast %t : tensor<1x1x1x1xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %one = arith.constant dense<1.0> : tensor<1x1x1x1xf32>

  // Scores ln 1, ln 2, ln 3 give weights 1/6, 2/6, 3/6: (6 + 24 + 54) / 6 = 14.
  // CHECK: [14]
  %k0 = arith.constant dense<[[[[0.0], [0.69314718055994531], [1.0986122886681098]]]]> : tensor<1x1x3x1xf32>
  %v0 = arith.constant dense<[[[[6.0], [12.0], [18.0]]]]> : tensor<1x1x3x1xf32>
  %0 = attnflow.attention %one, %k0, %v0 {scale = 1.0 : f64} : tensor<1x1x1x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x1x1xf32>
  call @print(%0) : (tensor<1x1x1x1xf32>) -> ()

  // Softcap 1: s = tanh([0, 1, 2]); sum_j softmax(s)_j * j = 1.28144653...
  // CHECK: [1.28145]
  %k1 = arith.constant dense<[[[[0.0], [1.0], [2.0]]]]> : tensor<1x1x3x1xf32>
  %v1 = arith.constant dense<[[[[0.0], [1.0], [2.0]]]]> : tensor<1x1x3x1xf32>
  %1 = attnflow.attention %one, %k1, %v1 {scale = 1.0 : f64, logit_softcap = 1.0 : f64} : tensor<1x1x1x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x1x1xf32>
  call @print(%1) : (tensor<1x1x1x1xf32>) -> ()

  // ALiBi slope 1 at p = 2 with zero scores: s = -|2 - j| = [-2, -1, 0];
  // (e^-1 + 2) / (e^-2 + e^-1 + 1) = 1.57521038...
  // CHECK: [1.57521]
  %zero = arith.constant dense<0.0> : tensor<1x1x1x1xf32>
  %2 = attnflow.attention %zero, %k1, %v1 {alibi_slopes = array<f64: 1.0>} : tensor<1x1x1x1xf32>, tensor<1x1x3x1xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x1x1xf32>
  call @print(%2) : (tensor<1x1x1x1xf32>) -> ()

  // Log-n with L = 2 at p = 3: g = ln 4 / ln 2 = 2, scores [0, 2, 0, 0];
  // e^2 / (3 + e^2) = 0.71123459...
  // CHECK: [0.711235]
  %k3 = arith.constant dense<[[[[0.0], [1.0], [0.0], [0.0]]]]> : tensor<1x1x4x1xf32>
  %3 = attnflow.attention %one, %k3, %k3 {scale = 1.0 : f64, logn_train_len = 2 : i64} : tensor<1x1x1x1xf32>, tensor<1x1x4x1xf32>, tensor<1x1x4x1xf32> -> tensor<1x1x1x1xf32>
  call @print(%3) : (tensor<1x1x1x1xf32>) -> ()

  // Log-n never shrinks scores: at p = 0 (Skv = 1) g = 1, and a single
  // visible key returns its v row exactly.
  // CHECK: [6]
  %k4 = arith.constant dense<[[[[5.0]]]]> : tensor<1x1x1x1xf32>
  %v4 = arith.constant dense<[[[[6.0]]]]> : tensor<1x1x1x1xf32>
  %4 = attnflow.attention %one, %k4, %v4 {logn_train_len = 8 : i64} : tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x1x1xf32>
  call @print(%4) : (tensor<1x1x1x1xf32>) -> ()
  return
}
