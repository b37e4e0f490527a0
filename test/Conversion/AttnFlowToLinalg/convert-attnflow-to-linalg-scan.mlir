// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-linalg | FileCheck %s

// The sequential oracle of linear_recurrence: an scf.for over t carrying h
// [B, N] in the accumulator type; each step one linalg.generic.
// CHECK-LABEL: func.func @diagonal_f16_reverse
// CHECK-NOT: attnflow.
// CHECK: %[[H0:.*]] = linalg.generic {{.*}} ins(%arg2 : tensor<2x4xf16>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[I:.*]] = %c0 to %c9 step %c1 iter_args(%[[H:.*]] = %[[H0]], %{{.*}} = %{{.*}}) -> (tensor<2x4xf32>, tensor<2x9x4xf16>)
// CHECK: %[[T:.*]] = arith.subi %c8, %[[I]] : index
// CHECK: tensor.extract_slice %arg0[0, %[[T]], 0] [2, 1, 4] [1, 1, 1] : tensor<2x9x4xf16> to tensor<2x4xf16>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[H]] : tensor<2x4xf16>, tensor<2x4xf16>, tensor<2x4xf32>) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, %[[T]], 0] [2, 1, 4] [1, 1, 1] : tensor<2x4xf16> into tensor<2x9x4xf16>
// CHECK: return %[[LOOP]]#1
func.func @diagonal_f16_reverse(%a: tensor<2x9x4xf16>, %b: tensor<2x9x4xf16>, %h0: tensor<2x4xf16>) -> tensor<2x9x4xf16> {
  %h = attnflow.linear_recurrence %a, %b, %h0 {reverse = true} : tensor<2x9x4xf16>, tensor<2x9x4xf16>, tensor<2x4xf16> -> tensor<2x9x4xf16>
  return %h : tensor<2x9x4xf16>
}

// -----

// Dense: h_t[b, i] = b_t[b, i] + sum_j a_t[b, i, j] h[b, j], a reduction over j.
// CHECK-LABEL: func.func @dense
// CHECK: scf.for
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<1x3x3xf32>, tensor<1x3xf32>) outs(%{{.*}} : tensor<1x3xf32>)
func.func @dense(%a: tensor<1x5x3x3xf32>, %b: tensor<1x5x3xf32>) -> tensor<1x5x3xf32> {
  %h = attnflow.linear_recurrence %a, %b : tensor<1x5x3x3xf32>, tensor<1x5x3xf32> -> tensor<1x5x3xf32>
  return %h : tensor<1x5x3xf32>
}

// -----

// A sequential rnn_solve: loops over the batch and t, the cell inlined with
// h, u_t and the params mapped; iters = 1.
// CHECK-LABEL: func.func @sequential
// CHECK-NOT: attnflow.
// CHECK: %[[ONE:.*]] = arith.constant dense<1> : tensor<i64>
// CHECK: %[[OUT:.*]] = scf.for %[[B:.*]] = %c0 to %c2 step %c1 iter_args
// CHECK: %[[H0:.*]] = tensor.extract_slice %arg0[%[[B]], 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
// CHECK: scf.for %[[T:.*]] = %c0 to %c6 step %c1 iter_args(%[[H:.*]] = %[[H0]], %{{.*}} = %{{.*}}) -> (tensor<4xf32>, tensor<2x6x4xf32>)
// CHECK: %[[U:.*]] = tensor.extract_slice %arg1[%[[B]], %[[T]], 0] [1, 1, 3] [1, 1, 1] : tensor<2x6x3xf32> to tensor<3xf32>
// CHECK: %[[WU:.*]] = linalg.matvec ins(%arg3, %[[U]] : tensor<4x3xf32>, tensor<3xf32>) outs(%[[H]] : tensor<4xf32>)
// CHECK: %[[PRE:.*]] = linalg.matvec ins(%arg2, %[[H]] : tensor<4x4xf32>, tensor<4xf32>) outs(%[[WU]] : tensor<4xf32>)
// CHECK: %[[NEW:.*]] = math.tanh %[[PRE]] : tensor<4xf32>
// CHECK: tensor.insert_slice %[[NEW]] into %{{.*}}[%[[B]], %[[T]], 0] [1, 1, 4] [1, 1, 1] : tensor<4xf32> into tensor<2x6x4xf32>
// CHECK: return %[[OUT]], %[[ONE]]
func.func @sequential(%h0: tensor<2x4xf32>, %u: tensor<2x6x3xf32>, %w: tensor<4x4xf32>, %v: tensor<4x3xf32>)
    -> (tensor<2x6x4xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w, %v : tensor<4x4xf32>, tensor<4x3xf32>)
      {method = #attnflow.rnn_method<sequential>}
      : tensor<2x4xf32>, tensor<2x6x3xf32> -> tensor<2x6x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<3xf32>, %wr: tensor<4x4xf32>, %vr: tensor<4x3xf32>):
        %vu = linalg.matvec ins(%vr, %ut : tensor<4x3xf32>, tensor<3xf32>)
                            outs(%hp : tensor<4xf32>) -> tensor<4xf32>
        %pre = linalg.matvec ins(%wr, %hp : tensor<4x4xf32>, tensor<4xf32>)
                             outs(%vu : tensor<4xf32>) -> tensor<4xf32>
        %t = math.tanh %pre : tensor<4xf32>
        attnflow.yield %t : tensor<4xf32>
      }
  return %h, %it : tensor<2x6x4xf32>, tensor<i64>
}
