// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void -shared-libs=%mlir_runner_libs \
// RUN: | FileCheck %s

// x' = a x with x0 = (1, 2), a = (-1, 0.5) from t = 0 to 1. A step of size h
// multiplies x by the method's stability polynomial R(a h): Euler 1 + z,
// midpoint and Heun 1 + z + z^2/2, RK4 1 + z + z^2/2 + z^3/6 + z^4/24, so
// N steps give x0 R(a / N)^N exactly (computed in float64 from these
// polynomials; exp(-1) = 0.367879, 2 exp(0.5) = 3.29744 for comparison).

func.func private @printMemrefF32(tensor<*xf32>)

func.func @decay(%x0: tensor<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  %x1 = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<euler>, num_steps = 8 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %ex = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%ex : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  return %x1 : tensor<2xf32>
}

func.func @main() {
  %x0 = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = arith.constant dense<[-1.0, 0.5]> : tensor<2xf32>

  // Euler, 8 steps: (1 - 1/8)^8 = 0.343609, 2 (1 + 1/16)^8 = 3.24834.
  // CHECK: [0.343609,  3.24834]
  %euler = call @decay(%x0, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %u0 = tensor.cast %euler : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u0) : (tensor<*xf32>) -> ()

  // Midpoint and Heun, 4 steps: 0.372529, 3.29353.
  // CHECK: [0.372529,  3.29353]
  // CHECK: [0.372529,  3.29353]
  %mid = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<midpoint>, num_steps = 4 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %ex = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%ex : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  %u1 = tensor.cast %mid : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u1) : (tensor<*xf32>) -> ()
  %heun = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<heun>, num_steps = 4 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %ex = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%ex : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  %u2 = tensor.cast %heun : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u2) : (tensor<*xf32>) -> ()

  // RK4, 4 steps: 0.367894, 3.29744.
  // CHECK: [0.367894,  3.29744]
  %rk4 = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<rk4>, num_steps = 4 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %ex = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%ex : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  %u3 = tensor.cast %rk4 : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u3) : (tensor<*xf32>) -> ()

  // Euler trajectory on the grid 0, .25, .5, .75, 1: x0 (1 + a/4)^n.
  // CHECK:      [1,   2],
  // CHECK-NEXT: [0.75,   2.25],
  // CHECK-NEXT: [0.5625,   2.53125],
  // CHECK-NEXT: [0.421875,   2.84766],
  // CHECK-NEXT: [0.316406,   3.20361]
  %traj = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<euler>, time_grid = array<f64: 0.0, 0.25, 0.5, 0.75, 1.0>, return_trajectory = true} : tensor<2xf32> -> tensor<5x2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %ex = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%ex : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  %u4 = tensor.cast %traj : tensor<5x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u4) : (tensor<*xf32>) -> ()

  // ode_step backwards: x' = t with t = 1, dt = -0.5 from x = (0, 1): RK4
  // and Heun are exact, x + (0.5^2 - 1^2) / 2 = x - 0.375.
  // CHECK: [-0.375,  0.625]
  %t = arith.constant 1.0 : f32
  %dt = arith.constant -0.5 : f32
  %y0 = arith.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %y1 = attnflow.ode_step %y0, %t, %dt () {method = #attnflow.ode_method<rk4>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%y: tensor<2xf32>, %s: f32):
    %ey = tensor.empty() : tensor<2xf32>
    %v = linalg.fill ins(%s : f32) outs(%ey : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  %u5 = tensor.cast %y1 : tensor<2xf32> to tensor<*xf32>
  call @printMemrefF32(%u5) : (tensor<*xf32>) -> ()
  return
}
