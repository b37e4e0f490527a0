// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// DEER on cells whose recurrences have closed forms. A cell affine in h is
// solved exactly by the first Newton update (its Jacobian is exact), so the
// second update changes nothing and iters = 2.

func.func private @printMemrefF32(tensor<*xf32>)
func.func private @printMemrefF64(tensor<*xf64>)
func.func private @printMemrefI64(tensor<*xi64>)

func.func @main() {
  // newton, h' = 0.5 h + u with u_t = 1: h_t = 2 + 0.5^(t+1) (h0 - 2);
  // h0 = (0, 2) gives (2 - 2^-t, 2).
  // CHECK:      [1,   2],
  // CHECK-NEXT: [1.5,   2],
  // CHECK-NEXT: [1.75,   2],
  // CHECK-NEXT: [1.875,   2],
  // CHECK-NEXT: [1.9375,   2]
  // CHECK:      [2]
  %h0 = arith.constant dense<[[0.0, 2.0]]> : tensor<1x2xf32>
  %u = arith.constant dense<1.0> : tensor<1x5x2xf32>
  %h, %it = attnflow.rnn_solve %h0, %u ()
      {method = #attnflow.rnn_method<newton>, tolerance = 1.0e-6 : f64}
      : tensor<1x2xf32>, tensor<1x5x2xf32> -> tensor<1x5x2xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf32>, %ut: tensor<2xf32>):
        %half = arith.constant dense<0.5> : tensor<2xf32>
        %m = arith.mulf %half, %hp : tensor<2xf32>
        %o = arith.addf %m, %ut : tensor<2xf32>
        attnflow.yield %o : tensor<2xf32>
      }
  %hc = tensor.cast %h : tensor<1x5x2xf32> to tensor<*xf32>
  call @printMemrefF32(%hc) : (tensor<*xf32>) -> ()
  %itc = tensor.cast %it : tensor<i64> to tensor<*xi64>
  call @printMemrefI64(%itc) : (tensor<*xi64>) -> ()

  // quasi_newton, h' = log(exp(h)) + u (derived Jacobian exp(h) / exp(h) = 1)
  // with u_t = (0.25, -1): h_t = h0 + (t + 1) u from h0 = (1, 3).
  // CHECK:      [1.25,   2],
  // CHECK-NEXT: [1.5,   1],
  // CHECK-NEXT: [1.75,   0],
  // CHECK-NEXT: [2,   -1]
  // CHECK:      [2]
  %g0 = arith.constant dense<[[1.0, 3.0]]> : tensor<1x2xf64>
  %v = arith.constant dense<[[[0.25, -1.0], [0.25, -1.0], [0.25, -1.0], [0.25, -1.0]]]> : tensor<1x4x2xf64>
  %g, %git = attnflow.rnn_solve %g0, %v ()
      {method = #attnflow.rnn_method<quasi_newton>, tolerance = 1.0e-12 : f64}
      : tensor<1x2xf64>, tensor<1x4x2xf64> -> tensor<1x4x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %e = math.exp %hp : tensor<2xf64>
        %l = math.log %e : tensor<2xf64>
        %o = arith.addf %l, %ut : tensor<2xf64>
        attnflow.yield %o : tensor<2xf64>
      }
  %gc = tensor.cast %g : tensor<1x4x2xf64> to tensor<*xf64>
  call @printMemrefF64(%gc) : (tensor<*xf64>) -> ()
  %gitc = tensor.cast %git : tensor<i64> to tensor<*xi64>
  call @printMemrefI64(%gitc) : (tensor<*xi64>) -> ()
  return
}
