// A tanh (Elman) RNN solved over the whole sequence by DEER (Lim et al.
// 2024, "Parallelizing non-linear sequential models over the sequence
// length"): B = 4 sequences of T = 2048 steps, N = 16 hidden units,
// M = 16 inputs,
//   h_t = tanh(W h_{t-1} + U u_t + b),  h_{-1} = h0.
// Newton iterations start from h_t = h0; each evaluates the cell and its
// Jacobian diag(1 - h_t^2) W (derived by the compiler from the cell) at
// every step in parallel and solves the linearized recurrence as a parallel
// scan, until the states change by <= 1e-5. Weights are inputs:
// examples/run_examples.py draws them seeded, with W scaled to spectral
// radius 0.9, and checks the states against the sequential recurrence in
// float64.

func.func @main(%h0: tensor<4x16xf32>, %u: tensor<4x2048x16xf32>,
                %w: tensor<16x16xf32>, %uw: tensor<16x16xf32>,
                %b: tensor<16xf32>) -> tensor<4x2048x16xf32> {
  %h, %iters = attnflow.rnn_solve %h0, %u (%w, %uw, %b : tensor<16x16xf32>, tensor<16x16xf32>, tensor<16xf32>)
      {method = #attnflow.rnn_method<newton>, max_iterations = 32, tolerance = 1.0e-5 : f64}
      : tensor<4x16xf32>, tensor<4x2048x16xf32> -> tensor<4x2048x16xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<16xf32>, %ut: tensor<16xf32>, %wr: tensor<16x16xf32>, %ur: tensor<16x16xf32>, %br: tensor<16xf32>):
        %wh = linalg.matvec ins(%wr, %hp : tensor<16x16xf32>, tensor<16xf32>) outs(%br : tensor<16xf32>) -> tensor<16xf32>
        %pre = linalg.matvec ins(%ur, %ut : tensor<16x16xf32>, tensor<16xf32>) outs(%wh : tensor<16xf32>) -> tensor<16xf32>
        %t = math.tanh %pre : tensor<16xf32>
        attnflow.yield %t : tensor<16xf32>
      }
  return %h : tensor<4x2048x16xf32>
}
