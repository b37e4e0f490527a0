// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-lower-rnn-solve
// The GPU form diagnoses the same cells.
// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-lower-rnn-solve=gpu=true

// An op the derivation cannot differentiate, without a jacobian region.
func.func @unsupported(%h0: tensor<1x2xf64>, %u: tensor<1x7x2xf64>)
    -> (tensor<1x7x2xf64>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u ()
      {method = #attnflow.rnn_method<newton>}
      : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        // expected-error @below {{'math.sin' op cannot be differentiated with respect to the state h}}
        %s = math.sin %hp : tensor<2xf64>
        attnflow.yield %s : tensor<2xf64>
      }
  return %h, %it : tensor<1x7x2xf64>, tensor<i64>
}

