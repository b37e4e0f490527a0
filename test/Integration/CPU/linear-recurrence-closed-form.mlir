// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s
// The sequential oracle (reference decomposition) prints the same numbers.
// RUN: attnflow-opt %s --convert-attnflow-to-linalg --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// Closed forms, T = 2500 (three chunks of the CPU pipeline's 1024 steps; the
// printed windows straddle the chunk boundary at t = 1024):
// - a = r = 0.999, b = 1, h0 = 0: h_t = (1 - r^(t+1)) / (1 - r);
// - the same reversed from h0 = 10: with s = T - 1 - t,
//   h_t = 10 r^(s+1) + (1 - r^(s+1)) / (1 - r);
// - dense rotation a = [[cos 0.01, -sin 0.01], [sin 0.01, cos 0.01]], b = 0,
//   h0 = (1, 0): h_t = (cos 0.01(t+1), sin 0.01(t+1));
// - f16, a = 0.5, b = 1: h_t = 2 - 2^-t, exact in f16 for t < 11 (printed
//   to 6 digits).

func.func private @printMemrefF64(tensor<*xf64>)
func.func private @printMemrefF32(tensor<*xf32>)

func.func @print(%h: tensor<1x2500x1xf64>) {
  %w = tensor.extract_slice %h[0, 1020, 0] [1, 8, 1] [1, 1, 1] : tensor<1x2500x1xf64> to tensor<8xf64>
  %u = tensor.cast %w : tensor<8xf64> to tensor<*xf64>
  call @printMemrefF64(%u) : (tensor<*xf64>) -> ()
  %e = tensor.extract_slice %h[0, 0, 0] [1, 2, 1] [1, 2499, 1] : tensor<1x2500x1xf64> to tensor<2xf64>
  %v = tensor.cast %e : tensor<2xf64> to tensor<*xf64>
  call @printMemrefF64(%v) : (tensor<*xf64>) -> ()
  return
}

func.func @main() {
  %a = arith.constant dense<0.999> : tensor<1x2500x1xf64>
  %b = arith.constant dense<1.0> : tensor<1x2500x1xf64>

  // CHECK: [639.949,  640.31,  640.669,  641.029,  641.387,  641.746,  642.104,  642.462]
  // CHECK: [1,  918.018]
  %h = attnflow.linear_recurrence %a, %b : tensor<1x2500x1xf64>, tensor<1x2500x1xf64> -> tensor<1x2500x1xf64>
  call @print(%h) : (tensor<1x2500x1xf64>) -> ()

  // CHECK: [774.806,  774.58,  774.354,  774.129,  773.902,  773.676,  773.45,  773.223]
  // CHECK: [918.837,  10.99]
  %h0 = arith.constant dense<10.0> : tensor<1x1xf64>
  %r = attnflow.linear_recurrence %a, %b, %h0 {reverse = true} : tensor<1x2500x1xf64>, tensor<1x2500x1xf64>, tensor<1x1xf64> -> tensor<1x2500x1xf64>
  call @print(%r) : (tensor<1x2500x1xf64>) -> ()

  // CHECK:      {{\[}}[0.99995,   0.00999983],
  // CHECK-NEXT:  [-0.685707,   -0.727878]]
  // CHECK:      {{\[}}[-0.678394,   -0.734698],
  // CHECK-NEXT:  [0.991203,   -0.132352]]
  %c = arith.constant 0.99995000041666526 : f64
  %s = arith.constant 0.0099998333341666645 : f64
  %ns = arith.constant -0.0099998333341666645 : f64
  %rot = tensor.from_elements %c, %ns, %s, %c : tensor<1x2x2xf64>
  %rotE = tensor.empty() : tensor<1x2500x2x2xf64>
  %rotT = linalg.broadcast ins(%rot : tensor<1x2x2xf64>) outs(%rotE : tensor<1x2500x2x2xf64>) dimensions = [1]
  %zero = arith.constant dense<0.0> : tensor<1x2500x2xf64>
  %e0 = arith.constant dense<[[1.0, 0.0]]> : tensor<1x2xf64>
  %d = attnflow.linear_recurrence %rotT, %zero, %e0 : tensor<1x2500x2x2xf64>, tensor<1x2500x2xf64>, tensor<1x2xf64> -> tensor<1x2500x2xf64>
  %d0 = tensor.extract_slice %d[0, 0, 0] [1, 2, 2] [1, 1023, 1] : tensor<1x2500x2xf64> to tensor<2x2xf64>
  %u0 = tensor.cast %d0 : tensor<2x2xf64> to tensor<*xf64>
  call @printMemrefF64(%u0) : (tensor<*xf64>) -> ()
  %d1 = tensor.extract_slice %d[0, 1024, 0] [1, 2, 2] [1, 1475, 1] : tensor<1x2500x2xf64> to tensor<2x2xf64>
  %u1 = tensor.cast %d1 : tensor<2x2xf64> to tensor<*xf64>
  call @printMemrefF64(%u1) : (tensor<*xf64>) -> ()

  // CHECK: {{\[\[}}[1],
  // CHECK-NEXT: [1.5],
  // CHECK-NEXT: [1.75],
  // CHECK-NEXT: [1.875],
  // CHECK-NEXT: [1.9375],
  // CHECK-NEXT: [1.96875],
  // CHECK-NEXT: [1.98438],
  // CHECK-NEXT: [1.99219],
  // CHECK-NEXT: [1.99609],
  // CHECK-NEXT: [1.99805],
  // CHECK-NEXT: [1.99902]]]
  %ah = arith.constant dense<0.5> : tensor<1x11x1xf16>
  %bh = arith.constant dense<1.0> : tensor<1x11x1xf16>
  %hh = attnflow.linear_recurrence %ah, %bh : tensor<1x11x1xf16>, tensor<1x11x1xf16> -> tensor<1x11x1xf16>
  %hf = arith.extf %hh : tensor<1x11x1xf16> to tensor<1x11x1xf32>
  %uh = tensor.cast %hf : tensor<1x11x1xf32> to tensor<*xf32>
  call @printMemrefF32(%uh) : (tensor<*xf32>) -> ()
  return
}
