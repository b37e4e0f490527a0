// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// With q = 0 every visible key scores the same, so each output row is the
// mean of the v rows its mask lets through (closed form). v[j] = (j, 10 j).

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%t: tensor<1x1x4x2xf32>) {
  %u = tensor.cast %t : tensor<1x1x4x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %q = arith.constant dense<0.0> : tensor<1x1x4x2xf32>
  %k = arith.constant dense<1.0> : tensor<1x1x4x2xf32>
  %v = arith.constant dense<[[[[0.0, 0.0], [1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]]]> : tensor<1x1x4x2xf32>

  // Causal: row i sees keys 0..i, mean i / 2.
  // CHECK:      [0,     0],
  // CHECK-NEXT: [0.5,     5],
  // CHECK-NEXT: [1,     10],
  // CHECK-NEXT: [1.5,     15]
  %0 = attnflow.attention %q, %k, %v {causal = true} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  call @print(%0) : (tensor<1x1x4x2xf32>) -> ()

  // Sliding window (HF sliding_window = 2, window_left = 1): keys i-1..i.
  // CHECK:      [0,     0],
  // CHECK-NEXT: [0.5,     5],
  // CHECK-NEXT: [1.5,     15],
  // CHECK-NEXT: [2.5,     25]
  %1 = attnflow.attention %q, %k, %v {causal = true, window_left = 1 : i64} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  call @print(%1) : (tensor<1x1x4x2xf32>) -> ()

  // One sink token and a window of only the diagonal: keys {0, i}.
  // CHECK:      [0,     0],
  // CHECK-NEXT: [0.5,     5],
  // CHECK-NEXT: [1,     10],
  // CHECK-NEXT: [1.5,     15]
  %2 = attnflow.attention %q, %k, %v {causal = true, window_left = 0 : i64, num_sink_tokens = 1 : i64} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  call @print(%2) : (tensor<1x1x4x2xf32>) -> ()

  // Two-sided window, not causal: keys i-1..i+1 clipped to [0, 3].
  // CHECK:      [0.5,     5],
  // CHECK-NEXT: [1,     10],
  // CHECK-NEXT: [2,     20],
  // CHECK-NEXT: [2.5,     25]
  %3 = attnflow.attention %q, %k, %v {window_left = 1 : i64, window_right = 1 : i64} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  call @print(%3) : (tensor<1x1x4x2xf32>) -> ()

  // q_offset = -2 (top-left shifted): rows 0 and 1 have positions -2, -1 and
  // see no key, so they output 0, never NaN; row 3 (p = 1) sees keys 0..1.
  // CHECK:      [0,     0],
  // CHECK-NEXT: [0,     0],
  // CHECK-NEXT: [0,     0],
  // CHECK-NEXT: [0.5,     5]
  %4 = attnflow.attention %q, %k, %v {causal = true, q_offset = -2 : i64} : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32> -> tensor<1x1x4x2xf32>
  call @print(%4) : (tensor<1x1x4x2xf32>) -> ()

  // A bias of -inf on every key of row 1 also yields 0; row 2's bias hides
  // keys 0 and 1, so it sees 2 and 3.
  // CHECK:      [1.5,     15],
  // CHECK-NEXT: [0,     0],
  // CHECK-NEXT: [2.5,     25],
  // CHECK-NEXT: [1.5,     15]
  %ninf = arith.constant 0xFF800000 : f32
  %bias = arith.constant dense<[[[[0.0, 0.0, 0.0, 0.0], [0xFF800000, 0xFF800000, 0xFF800000, 0xFF800000], [0xFF800000, 0xFF800000, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]> : tensor<1x1x4x4xf32>
  %5 = attnflow.attention %q, %k, %v, %bias : tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x2xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x4x2xf32>
  call @print(%5) : (tensor<1x1x4x2xf32>) -> ()
  return
}
