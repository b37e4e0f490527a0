// RUN: attnflow-opt %s --split-input-file --attnflow-test-derive-jacobian --canonicalize | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --attnflow-test-derive-jacobian=diagonal=true --canonicalize | FileCheck %s --check-prefix=DIAG
// Numbers (against finite differences) are checked by
// python/tests/test_compiled_rnn_jacobian.py; here the form.

// tanh(W h + u): the seed I_N, the matvec's tangent W I (a sum over the
// reduction loop, with N seed directions as a trailing parallel loop), then
// (1 - tanh^2) times it row by row.
// CHECK-LABEL: func.func @tanh_rnn_jacobian
// CHECK-SAME:    (%[[H:.*]]: tensor<4xf32>, %[[U:.*]]: tensor<4xf32>, %[[W:.*]]: tensor<4x4xf32>) -> (tensor<4xf32>, tensor<4x4xf32>)
// CHECK:         %[[I:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK:           linalg.index 0
// CHECK:           linalg.index 1
// CHECK:           arith.cmpi eq
// CHECK:         %[[PRE:.*]] = linalg.matvec ins(%[[W]], %[[H]] : {{.*}}) outs(%[[U]] : tensor<4xf32>)
// CHECK:         %[[DPRE:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME:      ins(%[[W]], %{{.*}}, %[[I]] : tensor<4x4xf32>, tensor<4xf32>, tensor<4x4xf32>)
// CHECK:           ^bb0(%[[A:.*]]: f32, %{{.*}}: f32, %[[T:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK:             %[[P:.*]] = arith.mulf %[[A]], %[[T]] : f32
// CHECK:             %[[S:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK:             linalg.yield %[[S]]
// CHECK:         %[[F:.*]] = math.tanh %[[PRE]] : tensor<4xf32>
// CHECK:         %[[J:.*]] = linalg.generic {{.*}} ins(%[[PRE]], %[[DPRE]] : tensor<4xf32>, tensor<4x4xf32>)
// CHECK:           math.tanh
// CHECK:           arith.mulf
// CHECK:           arith.subf
// CHECK:           arith.mulf
// CHECK:         return %[[F]], %[[J]] : tensor<4xf32>, tensor<4x4xf32>
// quasi-Newton's diagonal needs no N x N tangent here: the seed is ones, the
// matvec's diagonal tangent is diag(W) * 1, then (1 - tanh^2) elementwise.
// DIAG-LABEL: func.func @tanh_rnn_jacobian
// DIAG-SAME:    (%[[H:.*]]: tensor<4xf32>, %[[U:.*]]: tensor<4xf32>, %[[W:.*]]: tensor<4x4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
// DIAG-NOT:     -> tensor<4x4xf32>
// DIAG:         %[[ONES:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
// DIAG-NOT:     -> tensor<4x4xf32>
// DIAG:         %[[DW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[ONES]] : tensor<4x4xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<4xf32>)
// DIAG-NOT:     -> tensor<4x4xf32>
// DIAG:         %[[D:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[DW]] : tensor<4xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<4xf32>)
// DIAG:           math.tanh
// DIAG-NOT:     -> tensor<4x4xf32>
// DIAG:         return %{{.*}}, %[[D]] : tensor<4xf32>, tensor<4xf32>
func.func @tanh_rnn(%h: tensor<4xf32>, %u: tensor<4xf32>, %w: tensor<4x4xf32>) -> tensor<4xf32>
    attributes {attnflow.derive_jacobian} {
  %wh = linalg.matvec ins(%w, %h : tensor<4x4xf32>, tensor<4xf32>) outs(%u : tensor<4xf32>) -> tensor<4xf32>
  %t = math.tanh %wh : tensor<4xf32>
  return %t : tensor<4xf32>
}

// -----

// The logistic sigmoid written as 1 / (1 + exp(-h)) on scalars: its tangent
// follows from the rules of negf, exp, addf and divf (d(a/b) = (da - (a/b) db)
// / b with da = 0), element by element of the extracted scalar's tangent row.
// CHECK-LABEL: func.func @scalar_sigmoid_jacobian
// CHECK:         %[[ROW:.*]] = tensor.extract_slice %{{.*}}[2, 0] [1, 3] [1, 1] : tensor<3x3xf64> to tensor<3xf64>
// CHECK:         linalg.generic {{.*}} ins(%{{.*}}, %[[ROW]] : f64, tensor<3xf64>)
// CHECK:           arith.negf
// CHECK:         linalg.generic
// CHECK:           math.exp
// CHECK:           arith.mulf
// CHECK:         linalg.generic
// CHECK:           arith.divf
// CHECK:           arith.mulf
// CHECK:           arith.negf
// CHECK:           arith.divf
// CHECK:         tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 3] [1, 1] : tensor<3xf64> into tensor<3x3xf64>
// Scalars extracted from h need the dense tangent; its diagonal is returned.
// DIAG-LABEL: func.func @scalar_sigmoid_jacobian
// DIAG:         %[[J:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [1, 3] [1, 1] : tensor<3xf64> into tensor<3x3xf64>
// DIAG:         linalg.generic {{.*}} ins(%[[J]] : tensor<3x3xf64>) outs(%{{.*}} : tensor<3xf64>)
func.func @scalar_sigmoid(%h: tensor<3xf64>, %u: tensor<1xf64>) -> tensor<3xf64>
    attributes {attnflow.derive_jacobian} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f64
  %x = tensor.extract %h[%c2] : tensor<3xf64>
  %nx = arith.negf %x : f64
  %e = math.exp %nx : f64
  %d = arith.addf %one, %e : f64
  %s = arith.divf %one, %d : f64
  %r = tensor.insert %s into %h[%c0] : tensor<3xf64>
  return %r : tensor<3xf64>
}

// -----

// Values that do not depend on h (here the whole cell) have zero tangents,
// which are materialized only where a Jacobian must be returned.
// CHECK-LABEL: func.func @constant_cell_jacobian
// CHECK:         %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x2xf32>)
// CHECK:         return %{{.*}}, %[[Z]]
func.func @constant_cell(%h: tensor<2xf32>, %u: tensor<2xf32>) -> tensor<2xf32>
    attributes {attnflow.derive_jacobian} {
  %t = math.sin %u : tensor<2xf32>
  return %t : tensor<2xf32>
}
