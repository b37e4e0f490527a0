// RUN: attnflow-opt %s --convert-attnflow-to-linalg --split-input-file --verify-diagnostics

// Newton / quasi-Newton solves are lowered by --attnflow-lower-rnn-solve; the
// diagnostic names the op, not the yield inside its region.
func.func @newton_needs_lowering(%h0: tensor<1x2xf32>, %u: tensor<1x8x2xf32>) -> tensor<1x8x2xf32> {
  // expected-error @+1 {{'attnflow.rnn_solve' op has no reference decomposition to linalg for method newton: run --attnflow-lower-rnn-solve first (it lowers the Newton updates to linear_recurrence)}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>}
      : tensor<1x2xf32>, tensor<1x8x2xf32> -> tensor<1x8x2xf32>, tensor<i64>
  cell {
  ^bb0(%x: tensor<2xf32>, %ut: tensor<2xf32>):
    %t = math.tanh %x : tensor<2xf32>
    %y = arith.addf %t, %ut : tensor<2xf32>
    attnflow.yield %y : tensor<2xf32>
  }
  return %h : tensor<1x8x2xf32>
}
