//===- ScanOps.td - Linear recurrences and RNN solves ------*- tablegen -*-===//
//
// Parallel-scan ops: the linear recurrence h_t = a_t h_{t-1} + b_t and the
// nonlinear RNN h_t = f(h_{t-1}, u_t) solved by Newton (DEER) iterations
// whose linear steps are linear recurrences (DESIGN.md §3).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_SCANOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_SCANOPS_TD

include "attnflow/Dialect/AttnFlow/IR/AttentionOps.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// LinearRecurrenceOp
//===----------------------------------------------------------------------===//

def AttnFlow_LinearRecurrenceOp : AttnFlow_Op<"linear_recurrence", [Pure]> {
  let summary = "first-order linear recurrence h_t = a_t h_{t-1} + b_t "
                "(parallel scan)";
  let description = [{
    Computes every state of the first-order linear recurrence

        h_t = a_t * h_{t-1} + b_t        (diagonal: elementwise product)
        h_t = a_t @ h_{t-1} + b_t        (dense: matrix-vector product)

    for t = 0 .. T-1 with h_{-1} = `h0` (zeros when absent). With
    `reverse = true` time runs from T-1 down to 0: h_t = a_t h_{t+1} + b_t
    and h0 enters at t = T-1, i.e. the forward recurrence on time-flipped
    inputs with the result flipped back.

    The pairs (a_t, b_t) compose associatively, (a_i, b_i) then (a_j, b_j)
    = (a_j a_i, a_j b_i + b_j), so the recurrence is a prefix scan
    (Blelloch 1990, "Prefix Sums and Their Applications", §1.4 first-order
    recurrences; Martin and Cundy 2018, "Parallelizing Linear Recurrent
    Neural Nets Over Sequence Length", eq. 2). Lowerings: a sequential loop
    in the reference decomposition (the oracle), a chunked scan on CPU
    (`--attnflow-chunk-linear-recurrence`) and a block-level scan on GPU.

    Shapes: `b` `[B, T, N]`; `a` `[B, T, N]` (diagonal) or `[B, T, N, N]`
    (dense, a_t[i][j] multiplies h_{t-1}[j] into h_t[i]); `h0` `[B, N]`;
    result `[B, T, N]`. One element type for all (f32, f16, bf16 or f64;
    f16 / bf16 computed in f32 and rounded once per state). Values are
    unitless; states are as in the recurrence.

    Errors: dynamic shapes (including a dynamic T), `a` of a rank other
    than 3 or 4, sizes of `a`, `h0` or the result that differ from `b`'s
    B, T, N, element types that differ from `b`'s.

    Example (a diagonal recurrence with an initial state, run backwards):
    ```mlir
    %h = attnflow.linear_recurrence %a, %b, %h0 {reverse = true}
         : tensor<2x1024x64xf32>, tensor<2x1024x64xf32>, tensor<2x64xf32>
           -> tensor<2x1024x64xf32>
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$a,
    AttnFlow_FloatTensor:$b,
    Optional<AttnFlow_FloatTensor>:$h0,
    DefaultValuedAttr<BoolAttr, "false">:$reverse
  );
  let results = (outs AttnFlow_FloatTensor:$result);

  let assemblyFormat = [{
    $a `,` $b (`,` $h0^)? attr-dict `:` type($a) `,` type($b)
    (`,` type($h0)^)? `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// True when `a` is [B, T, N, N] (a matrix per step).
    bool isDense() { return getA().getType().getRank() == 4; }
  }];
}

//===----------------------------------------------------------------------===//
// RnnSolveOp
//===----------------------------------------------------------------------===//

def AttnFlow_RnnSolveOp : AttnFlow_Op<"rnn_solve", [RecursiveMemoryEffects,
    IsolatedFromAbove]> {
  let summary = "nonlinear RNN h_t = f(h_{t-1}, u_t) solved over the whole "
                "sequence (DEER Newton, quasi-Newton or sequential)";
  let description = [{
    Computes all states of the nonlinear recurrence

        h_t = f(h_{t-1}, u_t, params...),  t = 0 .. T-1,  h_{-1} = h0

    where f is the `cell` region. `method` (required) chooses how:

    - `newton` (DEER; Lim et al. 2024, "Parallelizing non-linear sequential
      models over the sequence length", ICLR, eq. 5-7): start from h_t = h0
      for every t; each iteration evaluates f and J_t = df/dh at
      h^(k)_{t-1} for all t in parallel and solves the linearised
      recurrence h_t = J_t h_{t-1} + (f(h^(k)_{t-1}, u_t) - J_t h^(k)_{t-1})
      with `attnflow.linear_recurrence` (dense a = J). Converges
      quadratically near the solution, and in at most T iterations.
    - `quasi_newton` (quasi-DEER; Gonzalez et al. 2024, "Towards scalable
      and stable parallelization of nonlinear RNNs", NeurIPS, §3): the same
      with diag(J_t) (a diagonal linear_recurrence); more, cheaper
      iterations.
    - `sequential`: the plain loop over t (iters = 1).

    Newton and quasi-Newton stop after the first update whose max |h^(k+1) -
    h^(k)| over all elements is <= `tolerance` (absolute, in the units of h;
    default 1e-5), or after `max_iterations` (default 32, >= 1) updates,
    returning the last iterate.

    Operands: `h0` `[B, N]`, `u` `[B, T, M]` (same element type as h0:
    f32, f16, bf16 or f64), `params`: any values the regions use (weights).
    Regions are isolated from above: everything they use comes in as a block
    argument.

    - `cell`: `^bb0(%h: tensor<N x E>, %u_t: tensor<M x E>, %p: <params'
      types>...)` yields h_t : `tensor<N x E>` (one batch element, one step;
      the compiler batches it over B and T).
    - `jacobian` (optional; empty = derived by forward-mode differentiation
      of the cell): the same arguments; yields df/dh as `tensor<N x N x E>`
      (row i = d h_t[i] / d h_{t-1}), or for `quasi_newton` either that
      (its diagonal is used) or the diagonal itself, `tensor<N x E>`.

    Results: `states` `[B, T, N]` (all h_t, equal to the sequential
    recurrence within tolerance) and `iters`, a 0-d `tensor<i64>`: Newton
    updates performed, counting the one that met the tolerance, max over the
    batch; 1 for `sequential`.

    Errors: dynamic shapes, ranks other than above, B / N / T / element
    types that disagree between h0, u and states, a cell or jacobian region
    with other than one block, argument count or types that differ from
    (tensor<N x E>, tensor<M x E>, params...), a terminator other than one
    `attnflow.yield` of the types above, a dense-only jacobian violated,
    max_iterations < 1, a tolerance that is not finite and >= 0, iters other
    than tensor<i64>.

    Example (a tanh RNN h_t = tanh(W h_{t-1} + u_t)):
    ```mlir
    %h, %it = attnflow.rnn_solve %h0, %u (%w : tensor<4x4xf32>)
        {method = #attnflow.rnn_method<newton>, tolerance = 1.0e-6 : f64}
        : tensor<1x4xf32>, tensor<1x1000x4xf32>
          -> tensor<1x1000x4xf32>, tensor<i64>
        cell {
        ^bb0(%h: tensor<4xf32>, %ut: tensor<4xf32>, %wr: tensor<4x4xf32>):
          %wh = linalg.matvec ins(%wr, %h : tensor<4x4xf32>, tensor<4xf32>)
                              outs(%ut : tensor<4xf32>) -> tensor<4xf32>
          %t = math.tanh %wh : tensor<4xf32>
          attnflow.yield %t : tensor<4xf32>
        }
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$h0,
    AttnFlow_FloatTensor:$u,
    Variadic<AnyType>:$params,
    AttnFlow_RnnMethodAttr:$method,
    DefaultValuedAttr<I64Attr, "32">:$max_iterations,
    DefaultValuedAttr<F64Attr, "1e-5">:$tolerance
  );
  let results = (outs
    AttnFlow_FloatTensor:$states,
    AnyType:$iters
  );
  let regions = (region SizedRegion<1>:$cell, MaxSizedRegion<1>:$jacobian);

  let assemblyFormat = [{
    $h0 `,` $u ` ` `(` ($params^ `:` type($params))? `)` attr-dict `:`
    type($h0) `,` type($u) `->` type($states) `,` type($iters)
    `cell` $cell (`jacobian` $jacobian^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// The cell's terminator (valid once the op verified).
    YieldOp getCellYield();
    /// True when the op carries a jacobian region (else it is derived).
    bool hasJacobian() { return !getJacobian().empty(); }
  }];
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_SCANOPS_TD
