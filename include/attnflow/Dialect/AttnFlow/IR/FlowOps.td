//===- FlowOps.td - ODE flow-sampling ops ------------------*- tablegen -*-===//
//
// attnflow.ode_solve and attnflow.ode_step: explicit Runge-Kutta integration
// of a velocity field written as a region, the sampling loop of flow-matching
// and rectified-flow models (DESIGN.md §3).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_FLOWOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_FLOWOPS_TD

include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// OdeSolveOp
//===----------------------------------------------------------------------===//

def AttnFlow_OdeSolveOp : AttnFlow_Op<"ode_solve", [
    IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "integrates dx/dt = v(x, t) with an explicit Runge-Kutta "
                "method (flow-matching / rectified-flow sampler)";
  let description = [{
    Integrates the ODE dx/dt = v(x, t, params) from t0 to t1 and returns
    x(t1) (or every grid point), the sampler of flow matching (Lipman et al.
    2023, "Flow Matching for Generative Modeling", eq. 1) and rectified flow
    (Liu et al. 2023, "Flow Straight and Fast", eq. 1: dZ_t = v(Z_t, t) dt,
    sampled with Euler steps). Per step of size h from t_n (Hairer, Norsett,
    Wanner, "Solving ODEs I", II.1, eq. 1.8 with the tableaus of Table 1.1):
    - `euler`: x += h k1, k1 = v(x, t_n).
    - `midpoint`: k2 = v(x + h/2 k1, t_n + h/2); x += h k2.
    - `heun` (explicit trapezoid): k2 = v(x + h k1, t_n + h);
      x += h/2 (k1 + k2).
    - `rk4` (classical): k2 = v(x + h/2 k1, t_n + h/2),
      k3 = v(x + h/2 k2, t_n + h/2), k4 = v(x + h k3, t_n + h);
      x += h/6 (k1 + 2 k2 + 2 k3 + k4).

    The `velocity` region is `^bb0(%x: <x0's type>, %t: f32, %p...)` with
    one argument per `params` operand (same types; the region is isolated
    from above, so everything it uses comes in this way) and yields v with
    x0's type through `attnflow.yield`.

    Time grid: `time_grid` (DenseF64Array of N+1 strictly increasing or
    strictly decreasing times) or N = `num_steps` (>= 1) uniform steps from
    `t0` (absent: 0.0, or the grid's first time) to `t1` (absent: 1.0, or the
    grid's last time). t1 < t0 integrates backwards (h < 0). Times are
    unitless, in the velocity's time coordinate.

    Shapes and types: `x0` any static ranked tensor of f16, bf16, f32 or f64;
    the result is x0's type, or `[N+1, ...x0's shape]` with
    `return_trajectory = true` (x0 first, then x after each step). f16 / bf16
    states are combined in f32 within a step and rounded to the state type
    between stages and steps; f64 states use f64.

    Errors: a dynamic x0 shape; num_steps absent without a time_grid, or
    < 1; a time_grid with fewer than 2 times, not finite or not strictly
    monotonic, whose length is not num_steps + 1, or whose ends differ from
    t0 / t1; t0 / t1 not finite; a velocity block whose argument count or
    types do not match (x0's type, f32, the params' types), or that does
    not yield exactly one value of x0's type; a result type other than the
    one above.

    Example (8 Euler steps of a velocity with weights %w):
    ```mlir
    %x1 = attnflow.ode_solve %x0 (%w : tensor<2x2xf32>)
          {method = #attnflow.ode_method<euler>, num_steps = 8 : i64}
          : tensor<4x2xf32> -> tensor<4x2xf32> velocity {
    ^bb0(%x: tensor<4x2xf32>, %t: f32, %wa: tensor<2x2xf32>):
      %c0 = arith.constant 0.0 : f32
      %e = tensor.empty() : tensor<4x2xf32>
      %z = linalg.fill ins(%c0 : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
      %v = linalg.matmul ins(%x, %wa : tensor<4x2xf32>, tensor<2x2xf32>)
           outs(%z : tensor<4x2xf32>) -> tensor<4x2xf32>
      attnflow.yield %v : tensor<4x2xf32>
    }
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$x0,
    Variadic<AnyType>:$params,
    AttnFlow_OdeMethodAttr:$method,
    OptionalAttr<F64Attr>:$t0,
    OptionalAttr<F64Attr>:$t1,
    OptionalAttr<I64Attr>:$num_steps,
    OptionalAttr<DenseF64ArrayAttr>:$time_grid,
    DefaultValuedAttr<BoolAttr, "false">:$return_trajectory
  );
  let results = (outs AttnFlow_FloatTensor:$result);
  let regions = (region SizedRegion<1>:$velocity);

  let assemblyFormat = [{
    $x0 ` ` `(` ($params^ `:` type($params))? `)` attr-dict `:` type($x0) `->`
    type($result) `velocity` $velocity
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;

  let extraClassDeclaration = [{
    /// The first and last times: t0 / t1, else the time_grid's ends, else
    /// 0.0 / 1.0.
    double getEffectiveT0();
    double getEffectiveT1();
    /// N: num_steps, or the time_grid's length - 1.
    int64_t getEffectiveNumSteps();
  }];
}

//===----------------------------------------------------------------------===//
// OdeStepOp
//===----------------------------------------------------------------------===//

def AttnFlow_OdeStepOp : AttnFlow_Op<"ode_step", [
    IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "one explicit Runge-Kutta step of dx/dt = v(x, t) from a "
                "runtime t by a runtime dt";
  let description = [{
    One step of attnflow.ode_solve's `method` (euler, midpoint, heun or rk4;
    the formulas are ode_solve's with t_n = `t` and h = `dt`) with the same
    `velocity` region `^bb0(%x: <x's type>, %t: f32, %p...)` yielding v of
    x's type (Hairer, Norsett, Wanner, "Solving ODEs I", II.1). For samplers
    whose schedule is computed at run time. `dt` may be negative
    (integration backwards in time); `t` and `dt` are f32 scalars in the
    velocity's time unit.

    Shapes and types: `x` any static ranked tensor of f16, bf16, f32 or f64;
    the result has x's type. f16 / bf16 are combined in f32 and rounded to
    the state type between stages; f64 states use f64 (t and dt are
    extended from f32).

    Errors: a dynamic x shape; a result type other than x's; a velocity
    block whose argument count or types do not match (x's type, f32, the
    params' types), or that does not yield exactly one value of x's type.

    Example:
    ```mlir
    %x1 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<rk4>}
          : tensor<8xf32> -> tensor<8xf32> velocity {
    ^bb0(%y: tensor<8xf32>, %s: f32):
      attnflow.yield %y : tensor<8xf32>
    }
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$x,
    F32:$t,
    F32:$dt,
    Variadic<AnyType>:$params,
    AttnFlow_OdeMethodAttr:$method
  );
  let results = (outs AttnFlow_FloatTensor:$result);
  let regions = (region SizedRegion<1>:$velocity);

  let assemblyFormat = [{
    $x `,` $t `,` $dt ` ` `(` ($params^ `:` type($params))? `)` attr-dict `:`
    type($x) `->` type($result) `velocity` $velocity
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_FLOWOPS_TD
