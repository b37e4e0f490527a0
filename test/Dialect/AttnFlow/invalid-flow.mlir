// RUN: attnflow-opt %s -split-input-file -verify-diagnostics

// One case per verifier rule of attnflow.ode_solve and attnflow.ode_step.

func.func @dynamic_state(%x0: tensor<?x2xf32>) -> tensor<?x2xf32> {
  // expected-error @+1 {{expects 'x0' with a static shape, got 'tensor<?x2xf32>'}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<?x2xf32> -> tensor<?x2xf32> velocity {
  ^bb0(%x: tensor<?x2xf32>, %t: f32):
    attnflow.yield %x : tensor<?x2xf32>
  }
  return %0 : tensor<?x2xf32>
}

// -----

func.func @no_steps(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects num_steps (>= 1) or a time_grid}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @zero_steps(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects num_steps >= 1, got 0}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 0 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @trajectory_too_long(%x0: tensor<2xf32>) -> tensor<?x2xf32> {
  // expected-error @+1 {{expects num_steps + 1 (the trajectory length) to fit in int64, got num_steps = 9223372036854775807}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 9223372036854775807 : i64, return_trajectory = true} : tensor<2xf32> -> tensor<?x2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<?x2xf32>
}

// -----

func.func @missing_method(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{requires attribute 'method'}}
  %0 = attnflow.ode_solve %x0 () {num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @t0_not_finite(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects t0 to be finite, got INF}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64, t0 = 0x7FF0000000000000 : f64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @t1_not_finite(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects t1 to be finite, got nan}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64, t1 = 0x7FF8000000000000 : f64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_too_short(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects a time_grid of at least 2 times, got 1}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: 0.0>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_not_finite(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects finite time_grid times, got INF at index 1}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: 0.0, 0x7FF0000000000000>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_overflows_f32(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects times that fit in f32 (the type of the velocity's t), got 1.000000e+300}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: 0.0, 1.0e300>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @t1_overflows_f32(%x0: tensor<2xbf16>) -> tensor<2xbf16> {
  // expected-error @+1 {{expects times that fit in f32 (the type of the velocity's t), got 1.000000e+39}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 4 : i64, t1 = 1.0e39 : f64} : tensor<2xbf16> -> tensor<2xbf16> velocity {
  ^bb0(%x: tensor<2xbf16>, %t: f32):
    attnflow.yield %x : tensor<2xbf16>
  }
  return %0 : tensor<2xbf16>
}

// -----

func.func @step_overflows_f32(%x0: tensor<2xf16>) -> tensor<2xf16> {
  // expected-error @+1 {{expects steps that fit in f32 (the compute type of the state), got a step from -3.000000e+38 to 3.000000e+38}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: -3.0e38, 3.0e38>} : tensor<2xf16> -> tensor<2xf16> velocity {
  ^bb0(%x: tensor<2xf16>, %t: f32):
    attnflow.yield %x : tensor<2xf16>
  }
  return %0 : tensor<2xf16>
}

// -----

func.func @grid_not_monotonic(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects a strictly increasing time_grid (as its first step), got 5.000000e-01 then 2.500000e-01 at indices 1 and 2}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: 0.0, 0.5, 0.25, 1.0>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_repeated_time(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects a strictly decreasing time_grid (as its first step), got 5.000000e-01 then 5.000000e-01 at indices 1 and 2}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, time_grid = array<f64: 1.0, 0.5, 0.5>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_steps_mismatch(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects num_steps to equal the time_grid length - 1 = 2, got 3}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 3 : i64, time_grid = array<f64: 0.0, 0.5, 1.0>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_t0_mismatch(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects t0 to be absent or equal the time_grid's first time 0.000000e+00, got 1.000000e-01}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, t0 = 0.1 : f64, time_grid = array<f64: 0.0, 0.5, 1.0>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @grid_t1_mismatch(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects t1 to be absent or equal the time_grid's last time 1.000000e+00, got 2.000000e+00}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, t1 = 2.0 : f64, time_grid = array<f64: 0.0, 0.5, 1.0>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @result_type(%x0: tensor<2xf32>) -> tensor<2xf16> {
  // expected-error @+1 {{expects the result type to be 'tensor<2xf32>' (x0's type), got 'tensor<2xf16>'}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf16> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf16>
}

// -----

func.func @trajectory_type(%x0: tensor<2xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{expects the result type to be 'tensor<3x2xf32>' ([num_steps + 1, ...x0] with return_trajectory), got 'tensor<2x2xf32>'}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64, return_trajectory = true} : tensor<2xf32> -> tensor<2x2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2x2xf32>
}

// -----

func.func @velocity_arg_count(%x0: tensor<2xf32>, %w: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects the 'velocity' region to have 3 arguments, got 2}}
  %0 = attnflow.ode_solve %x0 (%w : tensor<2xf32>) {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_state_arg(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects 'velocity' argument #0 (x0) to be 'tensor<2xf32>', got 'tensor<3xf32>'}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<3xf32>, %t: f32):
    attnflow.yield %x : tensor<3xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_time_arg(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects 'velocity' argument #1 (t) to be 'f32', got 'f64'}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f64):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_param_arg(%x0: tensor<2xf32>, %w: tensor<4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects 'velocity' argument #2 (params #0) to be 'tensor<4xf32>', got 'tensor<2xf32>'}}
  %0 = attnflow.ode_solve %x0 (%w : tensor<4xf32>) {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %p: tensor<2xf32>):
    attnflow.yield %x : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_yield_count(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects the 'velocity' region to yield one value (v with x0's type), got 2}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    attnflow.yield %x, %x : tensor<2xf32>, tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_yield_type(%x0: tensor<2xf32>, %v: tensor<2xf16>) -> tensor<2xf32> {
  // expected-error @+1 {{expects the 'velocity' region to yield v with x0's type of type 'tensor<2xf32>', got 'tensor<2xf16>'}}
  %0 = attnflow.ode_solve %x0 (%v : tensor<2xf16>) {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %p: tensor<2xf16>):
    attnflow.yield %p : tensor<2xf16>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_terminator(%x0: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects the 'velocity' region to end in attnflow.yield, got llvm.unreachable}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    llvm.unreachable
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @velocity_not_isolated(%x0: tensor<2xf32>, %w: tensor<2xf32>) -> tensor<2xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 2 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32):
    // expected-error @+1 {{using value defined outside the region}}
    attnflow.yield %w : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @step_dynamic(%x: tensor<?xf32>, %t: f32, %dt: f32) -> tensor<?xf32> {
  // expected-error @+1 {{expects 'x' with a static shape, got 'tensor<?xf32>'}}
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<?xf32> -> tensor<?xf32> velocity {
  ^bb0(%y: tensor<?xf32>, %s: f32):
    attnflow.yield %y : tensor<?xf32>
  }
  return %0 : tensor<?xf32>
}

// -----

func.func @step_result_type(%x: tensor<2xf32>, %t: f32, %dt: f32) -> tensor<3xf32> {
  // expected-error @+1 {{expects the result type to equal x's type 'tensor<2xf32>', got 'tensor<3xf32>'}}
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<2xf32> -> tensor<3xf32> velocity {
  ^bb0(%y: tensor<2xf32>, %s: f32):
    attnflow.yield %y : tensor<2xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

func.func @step_velocity_arg(%x: tensor<2xf32>, %t: f32, %dt: f32) -> tensor<2xf32> {
  // expected-error @+1 {{expects 'velocity' argument #0 (x) to be 'tensor<2xf32>', got 'tensor<2xf64>'}}
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%y: tensor<2xf64>, %s: f32):
    attnflow.yield %y : tensor<2xf64>
  }
  return %0 : tensor<2xf32>
}

// -----

func.func @step_velocity_yield(%x: tensor<2xf32>, %t: f32, %dt: f32) -> tensor<2xf32> {
  // expected-error @+1 {{expects the 'velocity' region to yield one value (v with x's type), got 0}}
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%y: tensor<2xf32>, %s: f32):
    attnflow.yield
  }
  return %0 : tensor<2xf32>
}

// -----

// expected-note @+1 {{prior use here}}
func.func @step_time_type(%x: tensor<2xf32>, %t: f64, %dt: f32) -> tensor<2xf32> {
  // expected-error @+1 {{use of value '%t' expects different type than prior uses: 'f32' vs 'f64'}}
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%y: tensor<2xf32>, %s: f32):
    attnflow.yield %y : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}
