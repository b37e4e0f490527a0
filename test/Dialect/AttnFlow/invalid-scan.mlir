// RUN: attnflow-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attnflow.linear_recurrence and
// attnflow.rnn_solve.

func.func @lr_b_rank(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{expects 'b' of rank 3 ([B, T, N]), got 'tensor<4x8xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %h : tensor<4x8xf32>
}

// -----

func.func @lr_b_dynamic(%a: tensor<1x?x8xf32>, %b: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{expects 'b' with a static shape (dynamic sizes, including a dynamic sequence length, are not supported), got 'tensor<1x?x8xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %h : tensor<1x?x8xf32>
}

// -----

func.func @lr_b_empty(%a: tensor<1x0x8xf32>, %b: tensor<1x0x8xf32>) -> tensor<1x0x8xf32> {
  // expected-error @+1 {{expects 'b' with non-zero sizes, got 'tensor<1x0x8xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x0x8xf32>, tensor<1x0x8xf32> -> tensor<1x0x8xf32>
  return %h : tensor<1x0x8xf32>
}

// -----

func.func @lr_a_rank(%a: tensor<1x8xf32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'a' of rank 3 ([B, T, N], diagonal) or 4 ([B, T, N, N], dense), got 'tensor<1x8xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_a_dynamic(%a: tensor<1x8x4x?xf32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'a' with a static shape (dynamic sizes, including a dynamic sequence length, are not supported), got 'tensor<1x8x4x?xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8x4x?xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_a_element_type(%a: tensor<1x8x4xf16>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'a' element type to equal b's element type 'f32', got 'f16'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8x4xf16>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_a_length(%a: tensor<1x7x4xf32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'a' dimension 1 (length T of b) to be 8, got 7}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x7x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_a_dense_columns(%a: tensor<1x8x4x3xf32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'a' dimension 3 (state size N of b) to be 4, got 3}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8x4x3xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_a_integer(%a: tensor<1x8x4xi32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<1x8x4xi32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8x4xi32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_h0_rank(%a: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<4xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'h0' of rank 2 ([B, N]), got 'tensor<4xf32>'}}
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<4xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_h0_element_type(%a: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x4xf64>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'h0' element type to equal b's element type 'f32', got 'f64'}}
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x4xf64> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_h0_batch(%a: tensor<2x8x4xf32>, %b: tensor<2x8x4xf32>, %h0: tensor<1x4xf32>) -> tensor<2x8x4xf32> {
  // expected-error @+1 {{expects 'h0' dimension 0 (batch B of b) to be 2, got 1}}
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<2x8x4xf32>, tensor<2x8x4xf32>, tensor<1x4xf32> -> tensor<2x8x4xf32>
  return %h : tensor<2x8x4xf32>
}

// -----

func.func @lr_h0_state(%a: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>, %h0: tensor<1x5xf32>) -> tensor<1x8x4xf32> {
  // expected-error @+1 {{expects 'h0' dimension 1 (state size N of b) to be 4, got 5}}
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<1x8x4xf32>, tensor<1x8x4xf32>, tensor<1x5xf32> -> tensor<1x8x4xf32>
  return %h : tensor<1x8x4xf32>
}

// -----

func.func @lr_result(%a: tensor<1x8x4xf32>, %b: tensor<1x8x4xf32>) -> tensor<1x8x5xf32> {
  // expected-error @+1 {{expects the result type to equal b's type 'tensor<1x8x4xf32>' ([B, T, N]), got 'tensor<1x8x5xf32>'}}
  %h = attnflow.linear_recurrence %a, %b : tensor<1x8x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x5xf32>
  return %h : tensor<1x8x5xf32>
}

// -----

func.func @rnn_h0_rank(%h0: tensor<4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'h0' of rank 2 ([B, N]), got 'tensor<4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_h0_empty(%h0: tensor<1x0xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x0xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'h0' with non-zero sizes, got 'tensor<1x0xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x0xf32>, tensor<1x8x4xf32> -> tensor<1x8x0xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<0xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<0xf32>
      }
  return %h, %it : tensor<1x8x0xf32>, tensor<i64>
}

// -----

func.func @rnn_u_rank(%h0: tensor<1x4xf32>, %u: tensor<8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'u' of rank 3 ([B, T, M]), got 'tensor<8x4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_u_dynamic(%h0: tensor<1x4xf32>, %u: tensor<1x?x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'u' with a static shape (dynamic sizes, including a dynamic sequence length, are not supported), got 'tensor<1x?x4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x?x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_u_element_type(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf16>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'u' element type to equal h0's element type 'f32', got 'f16'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf16> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_u_batch(%h0: tensor<2x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<2x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'u' dimension 0 (batch B of h0) to be 2, got 1}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<2x4xf32>, tensor<1x8x4xf32> -> tensor<2x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<2x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_states(%h0: tensor<1x4xf32>, %u: tensor<1x8x3xf32>) -> (tensor<1x8x3xf32>, tensor<i64>) {
  // expected-error @+1 {{expects result 'states' of type 'tensor<1x8x4xf32>' ([B, T, N]), got 'tensor<1x8x3xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x3xf32> -> tensor<1x8x3xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<3xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x3xf32>, tensor<i64>
}

// -----

func.func @rnn_iters(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i32>) {
  // expected-error @+1 {{expects result 'iters' of type 'tensor<i64>', got 'tensor<i32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i32>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i32>
}

// -----

func.func @rnn_method_missing(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{requires attribute 'method'}}
  %h, %it = attnflow.rnn_solve %h0, %u ()
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_max_iterations(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects max_iterations >= 1, got 0}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>, max_iterations = 0}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_tolerance_negative(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects a finite tolerance >= 0, got -1.000000e-03}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>, tolerance = -1.0e-3 : f64}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_tolerance_nan(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects a finite tolerance >= 0, got nan}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>, tolerance = 0x7FF8000000000000 : f64}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_blocks(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{region #0 ('cell') failed to verify constraint: region with 1 blocks}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        cf.br ^bb1
      ^bb1:
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_arg_count(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>, %w: tensor<4x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'cell' region to have 3 arguments, got 2}}
  %h, %it = attnflow.rnn_solve %h0, %u (%w : tensor<4x4xf32>) {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_arg_h(%h0: tensor<1x4xf32>, %u: tensor<1x8x3xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'cell' argument #0 (h) to be 'tensor<4xf32>', got 'tensor<1x4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x3xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<1x4xf32>, %ut: tensor<3xf32>):
        %e = tensor.empty() : tensor<4xf32>
        attnflow.yield %e : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_arg_u(%h0: tensor<1x4xf32>, %u: tensor<1x8x3xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'cell' argument #1 (u_t) to be 'tensor<3xf32>', got 'tensor<4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x3xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_arg_param(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>, %w: tensor<4x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects 'cell' argument #2 (params #0) to be 'tensor<4x4xf32>', got 'tensor<4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u (%w : tensor<4x4xf32>) {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>, %wr: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_terminator(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'cell' region to end in attnflow.yield, got llvm.unreachable}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        llvm.unreachable
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_yield_count(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'cell' region to yield one value (h_t), got 2}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp, %ut : tensor<4xf32>, tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_yield_type(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'cell' region to yield h_t of type 'tensor<4xf32>', got 'tensor<4xf16>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        %t = arith.truncf %hp : tensor<4xf32> to tensor<4xf16>
        attnflow.yield %t : tensor<4xf16>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_cell_not_isolated(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>, %w: tensor<4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<sequential>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        // expected-error @+1 {{using value defined outside the region}}
        %s = arith.addf %hp, %w : tensor<4xf32>
        attnflow.yield %s : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_jacobian_arg_count(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'jacobian' region to have 2 arguments, got 1}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      } jacobian {
      ^bb0(%hp: tensor<4xf32>):
        %j = arith.constant dense<0.0> : tensor<4x4xf32>
        attnflow.yield %j : tensor<4x4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_jacobian_diagonal_for_newton(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'jacobian' region to yield df/dh of type 'tensor<4x4xf32>', got 'tensor<4xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      } jacobian {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        %j = arith.constant dense<1.0> : tensor<4xf32>
        attnflow.yield %j : tensor<4xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_jacobian_quasi_newton_type(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'jacobian' region to yield df/dh (dense, or its diagonal) of type 'tensor<4x4xf32>' or 'tensor<4xf32>', got 'tensor<4x3xf32>'}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<quasi_newton>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      } jacobian {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        %j = arith.constant dense<1.0> : tensor<4x3xf32>
        attnflow.yield %j : tensor<4x3xf32>
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}

// -----

func.func @rnn_jacobian_yield_count(%h0: tensor<1x4xf32>, %u: tensor<1x8x4xf32>) -> (tensor<1x8x4xf32>, tensor<i64>) {
  // expected-error @+1 {{expects the 'jacobian' region to yield one value (df/dh), got 0}}
  %h, %it = attnflow.rnn_solve %h0, %u () {method = #attnflow.rnn_method<newton>}
      : tensor<1x4xf32>, tensor<1x8x4xf32> -> tensor<1x8x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield %hp : tensor<4xf32>
      } jacobian {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<4xf32>):
        attnflow.yield
      }
  return %h, %it : tensor<1x8x4xf32>, tensor<i64>
}
