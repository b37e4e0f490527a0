// RUN: attnflow-opt %s | attnflow-opt | FileCheck %s
// RUN: attnflow-opt %s --mlir-print-op-generic | attnflow-opt | FileCheck %s

// Round trip of attnflow.ode_solve and attnflow.ode_step: every attribute,
// with and without params; defaults (return_trajectory = false) are elided,
// absent t0 / t1 stay absent.

// CHECK-LABEL: func @solve_euler_no_params
func.func @solve_euler_no_params(%x0: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // CHECK: attnflow.ode_solve %{{.*}} () {method = #attnflow.ode_method<euler>, num_steps = 8 : i64} : tensor<4x2xf32> -> tensor<4x2xf32> velocity {
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<4x2xf32>, %{{.*}}: f32):
  // CHECK-NEXT: attnflow.yield %{{.*}} : tensor<4x2xf32>
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 8 : i64} : tensor<4x2xf32> -> tensor<4x2xf32> velocity {
  ^bb0(%x: tensor<4x2xf32>, %t: f32):
    attnflow.yield %x : tensor<4x2xf32>
  }
  return %0 : tensor<4x2xf32>
}

// CHECK-LABEL: func @solve_rk4_params
func.func @solve_rk4_params(%x0: tensor<3xf64>, %a: tensor<3xf64>, %s: f32) -> tensor<3xf64> {
  // CHECK: attnflow.ode_solve %{{.*}} (%{{.*}}, %{{.*}} : tensor<3xf64>, f32) {method = #attnflow.ode_method<rk4>, num_steps = 4 : i64, t0 = 1.000000e+00 : f64, t1 = 0.000000e+00 : f64} : tensor<3xf64> -> tensor<3xf64> velocity {
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<3xf64>, %{{.*}}: f32, %{{.*}}: tensor<3xf64>, %{{.*}}: f32):
  %0 = attnflow.ode_solve %x0 (%a, %s : tensor<3xf64>, f32) {method = #attnflow.ode_method<rk4>, num_steps = 4 : i64, t0 = 1.0 : f64, t1 = 0.0 : f64} : tensor<3xf64> -> tensor<3xf64> velocity {
  ^bb0(%x: tensor<3xf64>, %t: f32, %pa: tensor<3xf64>, %ps: f32):
    %e = tensor.empty() : tensor<3xf64>
    %v = linalg.mul ins(%x, %pa : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>
    attnflow.yield %v : tensor<3xf64>
  }
  return %0 : tensor<3xf64>
}

// CHECK-LABEL: func @solve_grid_trajectory
func.func @solve_grid_trajectory(%x0: tensor<2x2xf16>) -> tensor<4x2x2xf16> {
  // CHECK: attnflow.ode_solve %{{.*}} () {method = #attnflow.ode_method<heun>, return_trajectory = true, time_grid = array<f64: 0.000000e+00, 2.500000e-01, 7.500000e-01, 1.000000e+00>} : tensor<2x2xf16> -> tensor<4x2x2xf16> velocity {
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<heun>, time_grid = array<f64: 0.0, 0.25, 0.75, 1.0>, return_trajectory = true} : tensor<2x2xf16> -> tensor<4x2x2xf16> velocity {
  ^bb0(%x: tensor<2x2xf16>, %t: f32):
    attnflow.yield %x : tensor<2x2xf16>
  }
  return %0 : tensor<4x2x2xf16>
}

// A decreasing grid with the redundant ends and step count given.
// CHECK-LABEL: func @solve_midpoint_decreasing_grid
func.func @solve_midpoint_decreasing_grid(%x0: tensor<8xbf16>) -> tensor<8xbf16> {
  // CHECK: {method = #attnflow.ode_method<midpoint>, num_steps = 2 : i64, t0 = 1.000000e+00 : f64, t1 = 0.000000e+00 : f64, time_grid = array<f64: 1.000000e+00, 4.000000e-01, 0.000000e+00>}
  %0 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<midpoint>, time_grid = array<f64: 1.0, 0.4, 0.0>, num_steps = 2 : i64, t0 = 1.0 : f64, t1 = 0.0 : f64, return_trajectory = false} : tensor<8xbf16> -> tensor<8xbf16> velocity {
  ^bb0(%x: tensor<8xbf16>, %t: f32):
    attnflow.yield %x : tensor<8xbf16>
  }
  return %0 : tensor<8xbf16>
}

// CHECK-LABEL: func @step
func.func @step(%x: tensor<2x3xf32>, %t: f32, %dt: f32, %w: tensor<3x3xf32>) -> tensor<2x3xf32> {
  // CHECK: attnflow.ode_step %{{.*}}, %{{.*}}, %{{.*}} (%{{.*}} : tensor<3x3xf32>) {method = #attnflow.ode_method<rk4>} : tensor<2x3xf32> -> tensor<2x3xf32> velocity {
  // CHECK-NEXT: ^bb0(%{{.*}}: tensor<2x3xf32>, %{{.*}}: f32, %{{.*}}: tensor<3x3xf32>):
  %0 = attnflow.ode_step %x, %t, %dt (%w : tensor<3x3xf32>) {method = #attnflow.ode_method<rk4>} : tensor<2x3xf32> -> tensor<2x3xf32> velocity {
  ^bb0(%y: tensor<2x3xf32>, %s: f32, %m: tensor<3x3xf32>):
    %e = tensor.empty() : tensor<2x3xf32>
    %v = linalg.matmul ins(%y, %m : tensor<2x3xf32>, tensor<3x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
    attnflow.yield %v : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func @step_no_params
func.func @step_no_params(%x: tensor<f64>, %t: f32, %dt: f32) -> tensor<f64> {
  // CHECK: attnflow.ode_step %{{.*}}, %{{.*}}, %{{.*}} () {method = #attnflow.ode_method<euler>} : tensor<f64> -> tensor<f64> velocity {
  %0 = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<euler>} : tensor<f64> -> tensor<f64> velocity {
  ^bb0(%y: tensor<f64>, %s: f32):
    attnflow.yield %y : tensor<f64>
  }
  return %0 : tensor<f64>
}
