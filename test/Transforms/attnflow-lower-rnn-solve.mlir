// RUN: attnflow-opt %s --split-input-file --attnflow-lower-rnn-solve | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --attnflow-lower-rnn-solve=gpu=true | FileCheck %s --check-prefix=GPU
// Numbers: python/tests/test_compiled_deer.py (DEER vs the sequential
// recurrence and the float64 Newton reference).

// Newton (DEER): h^(0) = h0 broadcast over T; a while loop over updates
// (fewer than max_iterations and last change > tolerance); each update
// shifts the iterate to h_{t-1}, evaluates the cell and its derived Jacobian
// at every (b, t) in an scf.forall, forms b_t = f_t - A_t h_{t-1}, solves the
// dense linear recurrence from h0 and measures max |change|.
// CHECK-LABEL: func.func @newton
// CHECK-SAME:    (%[[H0:.*]]: tensor<2x4xf32>, %[[U:.*]]: tensor<2x10x3xf32>, %[[W:.*]]: tensor<4x4xf32>, %[[V:.*]]: tensor<4x3xf32>)
// CHECK:         %[[INIT:.*]] = linalg.broadcast ins(%[[H0]] : tensor<2x4xf32>) outs(%{{.*}} : tensor<2x10x4xf32>) dimensions = [1]
// CHECK:         %[[LOOP:.*]]:3 = scf.while (%[[S:.*]] = %[[INIT]], %[[K:.*]] = %{{.*}}, %[[C:.*]] = %{{.*}}) : (tensor<2x10x4xf32>, i64, f64)
// CHECK:           %[[MORE:.*]] = arith.cmpi slt, %[[K]], %{{.*}} : i64
// CHECK:           %[[ABOVE:.*]] = arith.cmpf ugt, %[[C]], %{{.*}} : f64
// CHECK:           %[[GO:.*]] = arith.andi %[[MORE]], %[[ABOVE]] : i1
// CHECK:           scf.condition(%[[GO]])
// CHECK:         } do {
// CHECK:         ^bb0(%[[IT:.*]]: tensor<2x10x4xf32>, %[[KK:.*]]: i64, %{{.*}}: f64):
// CHECK:           %[[P0:.*]] = tensor.insert_slice %[[H0]] into %{{.*}}[0, 0, 0] [2, 1, 4] [1, 1, 1]
// CHECK:           %[[HEAD:.*]] = tensor.extract_slice %[[IT]][0, 0, 0] [2, 9, 4] [1, 1, 1]
// CHECK:           %[[PREV:.*]] = tensor.insert_slice %[[HEAD]] into %[[P0]][0, 1, 0] [2, 9, 4] [1, 1, 1]
// CHECK:           %[[FA:.*]]:2 = scf.forall (%[[B:.*]], %[[T:.*]]) in (2, 10) shared_outs(%[[FO:.*]] = %{{.*}}, %[[AO:.*]] = %{{.*}}) -> (tensor<2x10x4xf32>, tensor<2x10x4x4xf32>)
// CHECK:             %[[HP:.*]] = tensor.extract_slice %[[PREV]][%[[B]], %[[T]], 0] [1, 1, 4] [1, 1, 1] : tensor<2x10x4xf32> to tensor<4xf32>
// CHECK:             %[[UT:.*]] = tensor.extract_slice %[[U]][%[[B]], %[[T]], 0] [1, 1, 3] [1, 1, 1] : tensor<2x10x3xf32> to tensor<3xf32>
// CHECK:             linalg.index 0
// CHECK:             linalg.matvec ins(%[[V]], %[[UT]]
// CHECK:             linalg.matvec ins(%[[W]], %[[HP]]
// CHECK:             %[[F:.*]] = math.tanh %{{.*}} : tensor<4xf32>
// CHECK:             %[[J:.*]] = linalg.generic
// CHECK:             scf.forall.in_parallel
// CHECK:               tensor.parallel_insert_slice %[[F]] into %[[FO]][%[[B]], %[[T]], 0] [1, 1, 4] [1, 1, 1]
// CHECK:               tensor.parallel_insert_slice %[[J]] into %[[AO]][%[[B]], %[[T]], 0, 0] [1, 1, 4, 4] [1, 1, 1, 1]
// CHECK:           %[[BIAS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[FA]]#1, %[[PREV]] : tensor<2x10x4x4xf32>, tensor<2x10x4xf32>) outs(%[[FA]]#0 : tensor<2x10x4xf32>)
// CHECK:             arith.mulf
// CHECK:             arith.subf
// CHECK:           %[[NEXT:.*]] = attnflow.linear_recurrence %[[FA]]#1, %[[BIAS]], %[[H0]] : tensor<2x10x4x4xf32>, tensor<2x10x4xf32>, tensor<2x4xf32> -> tensor<2x10x4xf32>
// CHECK:           %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]} ins(%[[NEXT]], %[[IT]] : {{.*}}) outs(%{{.*}} : tensor<f32>)
// CHECK:             math.absf
// CHECK:             arith.maximumf
// CHECK:           %[[M32:.*]] = tensor.extract %[[MAX]][] : tensor<f32>
// CHECK:           %[[M64:.*]] = arith.extf %[[M32]] : f32 to f64
// CHECK:           %[[K1:.*]] = arith.addi %[[KK]], %{{.*}} : i64
// CHECK:           scf.yield %[[NEXT]], %[[K1]], %[[M64]]
// CHECK:         %[[ITERS:.*]] = tensor.from_elements %[[LOOP]]#1 : tensor<i64>
// CHECK:         return %[[LOOP]]#0, %[[ITERS]]
// GPU form (gpu=true): host code touches no buffer but one read-back
// element. The update is copied into the iterate (so bufferization keeps
// one buffer across updates), max |change| is reduced over N into [B, T],
// over T into [B] and over B into [1] (each keeping a parallel dimension, so
// each is a kernel), and iters is written by a one-element generic.
// GPU-LABEL: func.func @newton
// GPU:         %[[LOOP:.*]]:3 = scf.while (%[[S:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) : (tensor<2x10x4xf32>, i64, f64)
// GPU:         } do {
// GPU:         ^bb0(%[[IT:.*]]: tensor<2x10x4xf32>, %[[KK:.*]]: i64, %{{.*}}: f64):
// GPU:           %[[NEXT:.*]] = attnflow.linear_recurrence
// GPU:           %[[Z0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x10xf32>)
// GPU:           %[[PER_STEP:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[NEXT]], %[[IT]] : tensor<2x10x4xf32>, tensor<2x10x4xf32>) outs(%[[Z0]] : tensor<2x10xf32>)
// GPU:             math.absf
// GPU:           %[[PER_ROW:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[PER_STEP]] : tensor<2x10xf32>) outs(%{{.*}} : tensor<2xf32>)
// GPU:           %[[TOTAL:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[PER_ROW]] : tensor<2xf32>) outs(%{{.*}} : tensor<1xf32>)
// GPU:           %[[M32:.*]] = tensor.extract %[[TOTAL]][%{{.*}}] : tensor<1xf32>
// GPU:           %[[M64:.*]] = arith.extf %[[M32]] : f32 to f64
// GPU:           %[[INPLACE:.*]] = linalg.copy ins(%[[NEXT]] : tensor<2x10x4xf32>) outs(%[[IT]] : tensor<2x10x4xf32>)
// GPU:           scf.yield %[[INPLACE]], %{{.*}}, %[[M64]]
// GPU:         %[[ONE:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} outs(%{{.*}} : tensor<1xi64>)
// GPU:           linalg.yield %[[LOOP]]#1 : i64
// GPU:         %[[ITERS:.*]] = tensor.collapse_shape %[[ONE]] [] : tensor<1xi64> into tensor<i64>
// GPU:         return %[[LOOP]]#0, %[[ITERS]]
func.func @newton(%h0: tensor<2x4xf32>, %u: tensor<2x10x3xf32>,
                  %w: tensor<4x4xf32>, %v: tensor<4x3xf32>)
    -> (tensor<2x10x4xf32>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u (%w, %v : tensor<4x4xf32>, tensor<4x3xf32>)
      {method = #attnflow.rnn_method<newton>, max_iterations = 8,
       tolerance = 1.0e-6 : f64}
      : tensor<2x4xf32>, tensor<2x10x3xf32> -> tensor<2x10x4xf32>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<4xf32>, %ut: tensor<3xf32>, %wr: tensor<4x4xf32>, %vr: tensor<4x3xf32>):
        %vu = linalg.matvec ins(%vr, %ut : tensor<4x3xf32>, tensor<3xf32>)
                            outs(%hp : tensor<4xf32>) -> tensor<4xf32>
        %pre = linalg.matvec ins(%wr, %hp : tensor<4x4xf32>, tensor<4xf32>)
                             outs(%vu : tensor<4xf32>) -> tensor<4xf32>
        %t = math.tanh %pre : tensor<4xf32>
        attnflow.yield %t : tensor<4xf32>
      }
  return %h, %it : tensor<2x10x4xf32>, tensor<i64>
}

// -----

// quasi_newton with a dense jacobian region: the region is inlined (nothing
// derived) and its diagonal feeds a diagonal linear recurrence. f64 changes
// need no extension.
// CHECK-LABEL: func.func @quasi_newton_region
// CHECK:         scf.while
// CHECK:           scf.forall (%{{.*}}, %{{.*}}) in (1, 7) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<1x7x2xf64>, tensor<1x7x2xf64>)
// CHECK:             math.exp
// CHECK:             %[[DENSE:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2xf64>)
// CHECK:               arith.select
// CHECK:             %[[DIAG:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[DENSE]] : tensor<2x2xf64>) outs(%{{.*}} : tensor<2xf64>)
// CHECK:             tensor.parallel_insert_slice %[[DIAG]] into %{{.*}}[%{{.*}}, %{{.*}}, 0] [1, 1, 2] [1, 1, 1] : tensor<2xf64> into tensor<1x7x2xf64>
// CHECK:           %[[BIAS:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK:           attnflow.linear_recurrence %{{.*}}, %[[BIAS]], %{{.*}} : tensor<1x7x2xf64>, tensor<1x7x2xf64>, tensor<1x2xf64> -> tensor<1x7x2xf64>
// CHECK:           %[[M:.*]] = tensor.extract %{{.*}}[] : tensor<f64>
// CHECK:           scf.yield %{{.*}}, %{{.*}}, %[[M]]
#id = affine_map<(i, j) -> (i)>
#ij = affine_map<(i, j) -> (i, j)>
func.func @quasi_newton_region(%h0: tensor<1x2xf64>, %u: tensor<1x7x2xf64>)
    -> (tensor<1x7x2xf64>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u ()
      {method = #attnflow.rnn_method<quasi_newton>}
      : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %e = math.exp %hp : tensor<2xf64>
        %s = arith.addf %e, %ut : tensor<2xf64>
        attnflow.yield %s : tensor<2xf64>
      } jacobian {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %e = math.exp %hp : tensor<2xf64>
        %init = tensor.empty() : tensor<2x2xf64>
        %j = linalg.generic {indexing_maps = [#id, #ij], iterator_types = ["parallel", "parallel"]}
            ins(%e : tensor<2xf64>) outs(%init : tensor<2x2xf64>) {
        ^bb0(%x: f64, %o: f64):
          %i = linalg.index 0 : index
          %k = linalg.index 1 : index
          %same = arith.cmpi eq, %i, %k : index
          %zero = arith.constant 0.0 : f64
          %v = arith.select %same, %x, %zero : f64
          linalg.yield %v : f64
        } -> tensor<2x2xf64>
        attnflow.yield %j : tensor<2x2xf64>
      }
  return %h, %it : tensor<1x7x2xf64>, tensor<i64>
}

// -----

// sequential is left to the reference decomposition.
// CHECK-LABEL: func.func @sequential
// CHECK:         attnflow.rnn_solve
// CHECK-NOT:     scf.while
// On the GPU it is lowered here: step 0 from h0, then a host loop over
// t = 1 .. T-1 whose step is an scf.forall over the batch reading h_{t-1}
// from the states it writes h_t into (in place: nothing else is carried).
// GPU-LABEL: func.func @sequential
// GPU-SAME:    (%[[H0:.*]]: tensor<1x2xf64>, %[[U:.*]]: tensor<1x7x2xf64>)
// GPU:         %[[FIRST:.*]] = scf.forall (%[[B0:.*]]) in (1) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x7x2xf64>)
// GPU:           tensor.extract_slice %[[H0]][%[[B0]], 0] [1, 2] [1, 1]
// GPU:         %[[LOOP:.*]] = scf.for %[[T:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ST:.*]] = %[[FIRST]]) -> (tensor<1x7x2xf64>)
// GPU:           %[[STEP:.*]] = scf.forall (%[[B:.*]]) in (1) shared_outs(%[[OUT:.*]] = %[[ST]]) -> (tensor<1x7x2xf64>)
// GPU:             %[[TP:.*]] = arith.subi %[[T]], %{{.*}} : index
// GPU:             %[[HP:.*]] = tensor.extract_slice %[[OUT]][%[[B]], %[[TP]], 0] [1, 1, 2] [1, 1, 1]
// GPU:             %[[UT:.*]] = tensor.extract_slice %[[U]][%[[B]], %[[T]], 0] [1, 1, 2] [1, 1, 1]
// GPU:             %[[H:.*]] = arith.addf %[[HP]], %[[UT]] : tensor<2xf64>
// GPU:             tensor.parallel_insert_slice %[[H]] into %[[OUT]][%[[B]], %[[T]], 0] [1, 1, 2] [1, 1, 1]
// GPU:           scf.yield %[[STEP]]
// GPU:         %[[ONE:.*]] = arith.constant dense<1> : tensor<i64>
// GPU:         return %[[LOOP]], %[[ONE]]
func.func @sequential(%h0: tensor<1x2xf64>, %u: tensor<1x7x2xf64>)
    -> (tensor<1x7x2xf64>, tensor<i64>) {
  %h, %it = attnflow.rnn_solve %h0, %u ()
      {method = #attnflow.rnn_method<sequential>}
      : tensor<1x2xf64>, tensor<1x7x2xf64> -> tensor<1x7x2xf64>, tensor<i64>
      cell {
      ^bb0(%hp: tensor<2xf64>, %ut: tensor<2xf64>):
        %s = arith.addf %hp, %ut : tensor<2xf64>
        attnflow.yield %s : tensor<2xf64>
      }
  return %h, %it : tensor<1x7x2xf64>, tensor<i64>
}

