// RUN: attnflow-opt %s | attnflow-opt | FileCheck %s
// RUN: attnflow-opt %s --mlir-print-op-generic | attnflow-opt | FileCheck %s

// Round trips of attnflow.linear_recurrence and attnflow.rnn_solve; default
// attributes are elided by the printer.

// CHECK-LABEL: func.func @diagonal
// CHECK: attnflow.linear_recurrence %{{.*}}, %{{.*}} : tensor<2x16x8xf32>, tensor<2x16x8xf32> -> tensor<2x16x8xf32>
func.func @diagonal(%a: tensor<2x16x8xf32>, %b: tensor<2x16x8xf32>) -> tensor<2x16x8xf32> {
  %h = attnflow.linear_recurrence %a, %b {reverse = false}
       : tensor<2x16x8xf32>, tensor<2x16x8xf32> -> tensor<2x16x8xf32>
  return %h : tensor<2x16x8xf32>
}

// CHECK-LABEL: func.func @dense_reverse_h0
// CHECK: attnflow.linear_recurrence %{{.*}}, %{{.*}}, %{{.*}} {reverse = true} : tensor<1x5x3x3xbf16>, tensor<1x5x3xbf16>, tensor<1x3xbf16> -> tensor<1x5x3xbf16>
func.func @dense_reverse_h0(%a: tensor<1x5x3x3xbf16>, %b: tensor<1x5x3xbf16>,
                            %h0: tensor<1x3xbf16>) -> tensor<1x5x3xbf16> {
  %h = attnflow.linear_recurrence %a, %b, %h0 {reverse = true}
       : tensor<1x5x3x3xbf16>, tensor<1x5x3xbf16>, tensor<1x3xbf16> -> tensor<1x5x3xbf16>
  return %h : tensor<1x5x3xbf16>
}

// CHECK-LABEL: func.func @tanh_rnn
// CHECK: %states, %iters = attnflow.rnn_solve %{{.*}}, %{{.*}} (%{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x3xf32>) {max_iterations = 8 : i64, method = #attnflow.rnn_method<newton>, tolerance = 9.9999999999999995E-7 : f64} : tensor<2x4xf32>, tensor<2x100x3xf32> -> tensor<2x100x4xf32>, tensor<i64> cell {
// CHECK: ^bb0(%{{.*}}: tensor<4xf32>, %{{.*}}: tensor<3xf32>, %{{.*}}: tensor<4x4xf32>, %{{.*}}: tensor<4x3xf32>):
// CHECK: linalg.matvec
// CHECK: math.tanh
// CHECK: attnflow.yield %{{.*}} : tensor<4xf32>
// CHECK-NEXT: }
// CHECK-NOT: jacobian
// CHECK: return
func.func @tanh_rnn(%h0: tensor<2x4xf32>, %u: tensor<2x100x3xf32>,
                    %w: tensor<4x4xf32>, %v: tensor<4x3xf32>)
    -> (tensor<2x100x4xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w, %v : tensor<4x4xf32>, tensor<4x3xf32>)
      {method = #attnflow.rnn_method<newton>, max_iterations = 8,
       tolerance = 1.0e-6 : f64}
      : tensor<2x4xf32>, tensor<2x100x3xf32>
        -> tensor<2x100x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<3xf32>, %wr: tensor<4x4xf32>, %vr: tensor<4x3xf32>):
        %vu = linalg.matvec ins(%vr, %ut : tensor<4x3xf32>, tensor<3xf32>)
                            outs(%hp : tensor<4xf32>) -> tensor<4xf32>
        %pre = linalg.matvec ins(%wr, %hp : tensor<4x4xf32>, tensor<4xf32>)
                             outs(%vu : tensor<4xf32>) -> tensor<4xf32>
        %t = math.tanh %pre : tensor<4xf32>
        attnflow.yield %t : tensor<4xf32>
      }
  return %h, %it : tensor<2x100x4xf32>, tensor<i64>
}

// CHECK-LABEL: func.func @quasi_newton_diagonal_jacobian
// CHECK: attnflow.rnn_solve %{{.*}}, %{{.*}} () {method = #attnflow.rnn_method<quasi_newton>} : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64> cell {
// CHECK: attnflow.yield %{{.*}} : tensor<2xf64>
// CHECK: } jacobian {
// CHECK: ^bb0(%{{.*}}: tensor<2xf64>, %{{.*}}: tensor<2xf64>):
// CHECK: attnflow.yield %{{.*}} : tensor<2xf64>
func.func @quasi_newton_diagonal_jacobian(%h0: tensor<1x2xf64>, %u: tensor<1x7x2xf64>)
    -> (tensor<1x7x2xf64>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<quasi_newton>}
      : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %s = arith.addf %hp, %ut : tensor<2xf64>
        %t = math.tanh %s : tensor<2xf64>
        attnflow.yield %t : tensor<2xf64>
      } jacobian {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %s = arith.addf %hp, %ut : tensor<2xf64>
        %t = math.tanh %s : tensor<2xf64>
        %t2 = arith.mulf %t, %t : tensor<2xf64>
        %one = arith.constant dense<1.0> : tensor<2xf64>
        %d = arith.subf %one, %t2 : tensor<2xf64>
        attnflow.yield %d : tensor<2xf64>
      }
  return %h, %it : tensor<1x7x2xf64>, tensor<i64>
}

// CHECK-LABEL: func.func @sequential_dense_jacobian_scalar_param
// CHECK: attnflow.rnn_solve %{{.*}}, %{{.*}} (%{{.*}} : f16) {method = #attnflow.rnn_method<sequential>} : tensor<3x2xf16>, tensor<3x9x1xf16> -> tensor<3x9x2xf16>, tensor<i64> cell {
// CHECK: } jacobian {
// CHECK: attnflow.yield %{{.*}} : tensor<2x2xf16>
func.func @sequential_dense_jacobian_scalar_param(%h0: tensor<3x2xf16>, %u: tensor<3x9x1xf16>, %c: f16)
    -> (tensor<3x9x2xf16>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%c : f16) {method = #attnflow.rnn_method<sequential>}
      : tensor<3x2xf16>, tensor<3x9x1xf16> -> tensor<3x9x2xf16>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf16>, %ut: tensor<1xf16>, %cc: f16):
        %s = tensor.splat %cc : tensor<2xf16>
        %m = arith.mulf %hp, %s : tensor<2xf16>
        attnflow.yield %m : tensor<2xf16>
      } jacobian {
      ^bb0(%hp: tensor<2xf16>, %ut: tensor<1xf16>, %cc: f16):
        %z = arith.constant 0.0 : f16
        %j = tensor.generate {
        ^bb1(%i: index, %k: index):
          %eq = arith.cmpi eq, %i, %k : index
          %v = arith.select %eq, %cc, %z : f16
          tensor.yield %v : f16
        } : tensor<2x2xf16>
        attnflow.yield %j : tensor<2x2xf16>
      }
  return %h, %it : tensor<3x9x2xf16>, tensor<i64>
}
