// RUN: attnflow-opt %s --convert-attnflow-to-linalg --split-input-file | FileCheck %s

// RK4: one scf.for over the 4 steps, the velocity inlined 4 times per step
// (k1 at x, then x + h/2 k1, x + h/2 k2, x + h k3), h = 1/4; the step's
// update x + h (k1 + 2 k2 + 2 k3 + k4) / 6 writes into the loop-carried x and
// absorbs the last velocity op (k4 = r * x3, generalized and fused).
// CHECK-LABEL: func.func @rk4
// CHECK-DAG:     %[[H:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[C4]] step %{{.*}} iter_args(%[[X:.*]] = %{{.*}}) -> (tensor<2xf32>)
// CHECK:           %[[K1:.*]] = linalg.mul ins(%{{.*}}, %[[X]] :
// CHECK:           %[[X2:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[K1]] :
// CHECK:           %[[K2:.*]] = linalg.mul ins(%{{.*}}, %[[X2]] :
// CHECK:           %[[X3:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[K2]] :
// CHECK:           %[[K3:.*]] = linalg.mul ins(%{{.*}}, %[[X3]] :
// CHECK:           %[[X4:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[K3]] :
// CHECK-NOT:       linalg.mul
// CHECK:           %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[K1]], %[[K2]], %[[K3]], %{{.*}}, %[[X4]] : {{.*}}) outs(%[[X]] : tensor<2xf32>)
// CHECK:             arith.mulf %{{.*}}, %[[H]] : f32
// CHECK:           scf.yield %[[NEXT]]
func.func @rk4(%x0: tensor<2xf32>, %a: tensor<2xf32>) -> tensor<2xf32> {
  %x1 = attnflow.ode_solve %x0 (%a : tensor<2xf32>) {method = #attnflow.ode_method<rk4>, num_steps = 4 : i64} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%x: tensor<2xf32>, %t: f32, %r: tensor<2xf32>):
    %e = tensor.empty() : tensor<2xf32>
    %v = linalg.mul ins(%r, %x : tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  return %x1 : tensor<2xf32>
}

// -----

// An explicit grid: t_n and h_n come from an scf.index_switch of constants;
// midpoint evaluates the velocity at t_n and t_n + h_n / 2 (t reaches the
// region as f32). The trajectory is a second loop-carried tensor, row 0 = x0.
// CHECK-LABEL: func.func @grid_trajectory
// CHECK-DAG:     %[[HALF:.*]] = arith.constant 5.000000e-01 : f64
// CHECK-DAG:     %[[C075:.*]] = arith.constant 7.500000e-01 : f64
// CHECK-DAG:     %[[C025:.*]] = arith.constant 2.500000e-01 : f64
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0.000000e+00 : f64
// CHECK:         %[[T0:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 3] [1, 1]
// CHECK:         scf.for %[[N:.*]] = {{.*}} iter_args(%[[X:.*]] = %{{.*}}, %[[TRAJ:.*]] = %[[T0]])
// CHECK:           %[[TH:.*]]:2 = scf.index_switch %[[N]] -> f64, f64
// CHECK:           case 0 {
// CHECK-NEXT:        scf.yield %[[C0]], %[[C025]] : f64, f64
// CHECK:           case 1 {
// CHECK-NEXT:        scf.yield %[[C025]], %[[C075]] : f64, f64
// CHECK:           default {
// CHECK:           %[[HH:.*]] = arith.mulf %[[TH]]#1, %[[HALF]] : f64
// CHECK:           %[[TM:.*]] = arith.addf %[[TH]]#0, %[[HH]] : f64
// CHECK:           arith.truncf %[[TM]] : f64 to f32
// CHECK:           %[[NEXT:.*]] = linalg.generic {{.*}} outs(%[[X]] : tensor<3xf64>)
// CHECK:           %[[ROW:.*]] = arith.addi %[[N]], %{{.*}} : index
// CHECK:           %[[T:.*]] = tensor.insert_slice %[[NEXT]] into %[[TRAJ]][%[[ROW]], 0] [1, 3] [1, 1]
// CHECK:           scf.yield %[[NEXT]], %[[T]]
func.func @grid_trajectory(%x0: tensor<3xf64>) -> tensor<3x3xf64> {
  %x1 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<midpoint>, time_grid = array<f64: 0.0, 0.25, 1.0>, return_trajectory = true} : tensor<3xf64> -> tensor<3x3xf64> velocity {
  ^bb0(%x: tensor<3xf64>, %t: f32):
    %e = tensor.empty() : tensor<3xf64>
    %te = arith.extf %t : f32 to f64
    %v = linalg.fill ins(%te : f64) outs(%e : tensor<3xf64>) -> tensor<3xf64>
    attnflow.yield %v : tensor<3xf64>
  }
  return %x1 : tensor<3x3xf64>
}

// -----

// f16 state: stages and the update extend to f32, combine, round to f16.
// Euler with an elementwise generic velocity: the update fuses into it, so
// the step is a single generic writing x.
// CHECK-LABEL: func.func @euler_f16
// CHECK:         scf.for {{.*}} iter_args(%[[X:.*]] = %{{.*}}) -> (tensor<4xf16>)
// CHECK-NEXT:      %[[NEXT:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4xf16>) outs(%[[X]] : tensor<4xf16>)
// CHECK:             arith.negf
// CHECK:             arith.extf %{{.*}} : f16 to f32
// CHECK:             arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT:       linalg.generic
// CHECK:           scf.yield %[[NEXT]]
func.func @euler_f16(%x0: tensor<4xf16>) -> tensor<4xf16> {
  %x1 = attnflow.ode_solve %x0 () {method = #attnflow.ode_method<euler>, num_steps = 3 : i64} : tensor<4xf16> -> tensor<4xf16> velocity {
  ^bb0(%x: tensor<4xf16>, %t: f32):
    %e = tensor.empty() : tensor<4xf16>
    %v = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<4xf16>) outs(%e : tensor<4xf16>) {
    ^bb0(%in: f16, %out: f16):
      %n = arith.negf %in : f16
      linalg.yield %n : f16
    } -> tensor<4xf16>
    attnflow.yield %v : tensor<4xf16>
  }
  return %x1 : tensor<4xf16>
}

// -----

// ode_step: no loop; Heun evaluates at t and t + dt (the runtime operands);
// the second velocity (a fill, generalized) fuses into the update.
// CHECK-LABEL: func.func @step
// CHECK-SAME:    (%[[X:.*]]: tensor<2xf32>, %[[T:.*]]: f32, %[[DT:.*]]: f32)
// CHECK-NOT:     scf.for
// CHECK:         %[[K1:.*]] = linalg.fill ins(%[[T]] : f32)
// CHECK:         %[[T1:.*]] = arith.addf %[[T]], %[[DT]] : f32
// CHECK:         linalg.generic {{.*}} ins(%[[K1]], %[[T1]] : tensor<2xf32>, f32) outs(%[[X]] : tensor<2xf32>)
// CHECK:           arith.mulf %[[DT]]
func.func @step(%x: tensor<2xf32>, %t: f32, %dt: f32) -> tensor<2xf32> {
  %y = attnflow.ode_step %x, %t, %dt () {method = #attnflow.ode_method<heun>} : tensor<2xf32> -> tensor<2xf32> velocity {
  ^bb0(%s: tensor<2xf32>, %u: f32):
    %e = tensor.empty() : tensor<2xf32>
    %v = linalg.fill ins(%u : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
    attnflow.yield %v : tensor<2xf32>
  }
  return %y : tensor<2xf32>
}
