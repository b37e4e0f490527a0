// A GRU (Cho et al. 2014, "Learning Phrase Representations using RNN
// Encoder-Decoder", eq. 5-8, reset gate applied before W_n) solved over the
// whole sequence by DEER (Lim et al. 2024): B = 2 sequences of T = 1024
// steps, N = 16 hidden units, M = 8 inputs,
//   z = sigmoid(Wz h + Uz u + bz),  r = sigmoid(Wr h + Ur u + br),
//   n = tanh(Wn (r * h) + Un u + bn),  h' = (1 - z) * n + z * h,
// with sigmoid(x) = 1 / (1 + exp(-x)) written with arith / math ops. The
// compiler derives dh'/dh (dense, 16 x 16 per step) from this cell by
// forward-mode differentiation. Weights are inputs: examples/run_examples.py
// draws them seeded and checks the states against the sequential recurrence
// in float64.

#vec = affine_map<(i) -> (i)>
func.func @main(%h0: tensor<2x16xf32>, %u: tensor<2x1024x8xf32>,
                %wz: tensor<16x16xf32>, %uz: tensor<16x8xf32>, %bz: tensor<16xf32>,
                %wr: tensor<16x16xf32>, %ur: tensor<16x8xf32>, %br: tensor<16xf32>,
                %wn: tensor<16x16xf32>, %un: tensor<16x8xf32>, %bn: tensor<16xf32>)
    -> tensor<2x1024x16xf32> {
  %h, %iters = attnflow.rnn_solve %h0, %u (%wz, %uz, %bz, %wr, %ur, %br, %wn, %un, %bn
        : tensor<16x16xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<16x16xf32>, tensor<16x8xf32>, tensor<16xf32>,
          tensor<16x16xf32>, tensor<16x8xf32>, tensor<16xf32>)
      {method = #attnflow.rnn_method<newton>, max_iterations = 32, tolerance = 1.0e-5 : f64}
      : tensor<2x16xf32>, tensor<2x1024x8xf32> -> tensor<2x1024x16xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<16xf32>, %ut: tensor<8xf32>,
           %pwz: tensor<16x16xf32>, %puz: tensor<16x8xf32>, %pbz: tensor<16xf32>,
           %pwr: tensor<16x16xf32>, %pur: tensor<16x8xf32>, %pbr: tensor<16xf32>,
           %pwn: tensor<16x16xf32>, %pun: tensor<16x8xf32>, %pbn: tensor<16xf32>):
        %ones = arith.constant dense<1.0> : tensor<16xf32>
        %e = tensor.empty() : tensor<16xf32>
        // z gate: sigmoid as tensor arith.
        %z1 = linalg.matvec ins(%pwz, %hp : tensor<16x16xf32>, tensor<16xf32>) outs(%pbz : tensor<16xf32>) -> tensor<16xf32>
        %z2 = linalg.matvec ins(%puz, %ut : tensor<16x8xf32>, tensor<8xf32>) outs(%z1 : tensor<16xf32>) -> tensor<16xf32>
        %zn = arith.negf %z2 : tensor<16xf32>
        %ze = math.exp %zn : tensor<16xf32>
        %zd = arith.addf %ones, %ze : tensor<16xf32>
        %z = arith.divf %ones, %zd : tensor<16xf32>
        // r gate: sigmoid in a linalg.generic body.
        %r1 = linalg.matvec ins(%pwr, %hp : tensor<16x16xf32>, tensor<16xf32>) outs(%pbr : tensor<16xf32>) -> tensor<16xf32>
        %r2 = linalg.matvec ins(%pur, %ut : tensor<16x8xf32>, tensor<8xf32>) outs(%r1 : tensor<16xf32>) -> tensor<16xf32>
        %r = linalg.generic {indexing_maps = [#vec, #vec], iterator_types = ["parallel"]}
            ins(%r2 : tensor<16xf32>) outs(%e : tensor<16xf32>) {
        ^bb0(%x: f32, %o: f32):
          %one = arith.constant 1.0 : f32
          %nx = arith.negf %x : f32
          %ex = math.exp %nx : f32
          %d = arith.addf %one, %ex : f32
          %s = arith.divf %one, %d : f32
          linalg.yield %s : f32
        } -> tensor<16xf32>
        // candidate n and the interpolation.
        %rh = arith.mulf %r, %hp : tensor<16xf32>
        %n1 = linalg.matvec ins(%pwn, %rh : tensor<16x16xf32>, tensor<16xf32>) outs(%pbn : tensor<16xf32>) -> tensor<16xf32>
        %n2 = linalg.matvec ins(%pun, %ut : tensor<16x8xf32>, tensor<8xf32>) outs(%n1 : tensor<16xf32>) -> tensor<16xf32>
        %n = math.tanh %n2 : tensor<16xf32>
        %omz = arith.subf %ones, %z : tensor<16xf32>
        %a = arith.mulf %omz, %n : tensor<16xf32>
        %c = arith.mulf %z, %hp : tensor<16xf32>
        %out = arith.addf %a, %c : tensor<16xf32>
        attnflow.yield %out : tensor<16xf32>
      }
  return %h : tensor<2x1024x16xf32>
}
