// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-lower-rnn-solve

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

// -----

// Targets without host loops (the GPU pipeline) diagnose DEER solves.
// RUN: not attnflow-opt %s --split-input-file --attnflow-lower-rnn-solve=host-loops=false 2>&1 | FileCheck %s --check-prefix=NOLOOPS
// NOLOOPS: error: 'attnflow.rnn_solve' op with method quasi_newton iterates Newton updates in a host loop, which this pipeline (straight-line host code, e.g. attnflow-gpu-pipeline) does not support yet; compile it for the CPU
func.func @no_host_loops(%h0: tensor<1x2xf64>, %u: tensor<1x7x2xf64>)
    -> (tensor<1x7x2xf64>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u ()
      {method = #attnflow.rnn_method<quasi_newton>}
      : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %s = arith.addf %hp, %ut : tensor<2xf64>
        attnflow.yield %s : tensor<2xf64>
      }
  return %h, %it : tensor<1x7x2xf64>, tensor<i64>
}
