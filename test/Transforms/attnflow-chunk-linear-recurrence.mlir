// RUN: attnflow-opt %s --split-input-file --attnflow-chunk-linear-recurrence="chunk-size=8 vector-width=1" | FileCheck %s
// RUN: not attnflow-opt %s --split-input-file --attnflow-chunk-linear-recurrence="chunk-size=0" 2>&1 | FileCheck %s --check-prefix=BAD
// The CPU pipeline runs the pass: no linear_recurrence reaches the reference
// decomposition's sequential loop of linalg ops.
// RUN: attnflow-opt %s --split-input-file --attnflow-cpu-pipeline | FileCheck %s --check-prefix=CPU

// BAD: error: attnflow-chunk-linear-recurrence expects chunk-size >= 1 and vector-width >= 1, got 0 and 8
// CPU-NOT: attnflow.
// CPU: omp.parallel

// Diagonal, T = 37, chunk 8: chunks 0..3 reduce to (A_c, b_c) in an
// scf.forall over (batch, chunk), the carries are a linear_recurrence of 4
// steps (itself one chunk), and all 5 chunks rerun from their carries. N = 5
// in blocks of 4 f32 lanes (vector-width 1 x 4 registers) and a tail of 1.
// CHECK-LABEL: func.func @diagonal
// CHECK-NOT: attnflow.linear_recurrence
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, 4) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<2x4x5xf32>, tensor<2x4x5xf32>)
// CHECK: %[[PA:.*]] = arith.mulf %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<1xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, 1) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<2x4x5xf32>)
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (2, 5) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<2x37x5xf32>)
// CHECK: arith.minsi
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<4xf32>
// CHECK: vector.transfer_write
// CHECK: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}, 0] [1, %{{.*}}, 5] [1, 1, 1] : tensor<?x5xf32> into tensor<2x37x5xf32>
func.func @diagonal(%a: tensor<2x37x5xf32>, %b: tensor<2x37x5xf32>, %h0: tensor<2x5xf32>) -> tensor<2x37x5xf32> {
  %h = attnflow.linear_recurrence %a, %b, %h0 : tensor<2x37x5xf32>, tensor<2x37x5xf32>, tensor<2x5xf32> -> tensor<2x37x5xf32>
  return %h : tensor<2x37x5xf32>
}

// -----

// Dense bf16, reversed: states carried in f32, a_t read as one vector<3x3>,
// one vector.contract (matvec) per step and a matrix product per step in the
// chunk reduction; the physical step is T - 1 - s.
// CHECK-LABEL: func.func @dense_reverse
// CHECK-NOT: attnflow.linear_recurrence
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (1, 2)
// CHECK: arith.subi %c19, %{{.*}} : index
// CHECK: vector.transfer_read %{{.*}} : tensor<1x20x3x3xbf16>, vector<3x3xbf16>
// CHECK: arith.extf %{{.*}} : vector<3x3xbf16> to vector<3x3xf32>
// CHECK: vector.contract {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} vector<3x3xf32>, vector<3x3xf32> into vector<3x3xf32>
// CHECK: vector.contract {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} vector<3x3xf32>, vector<3xf32> into vector<3xf32>
// CHECK: scf.forall (%{{.*}}, %{{.*}}) in (1, 3)
// CHECK: arith.truncf %{{.*}} : vector<3xf32> to vector<3xbf16>
func.func @dense_reverse(%a: tensor<1x20x3x3xbf16>, %b: tensor<1x20x3xbf16>) -> tensor<1x20x3xbf16> {
  %h = attnflow.linear_recurrence %a, %b {reverse = true} : tensor<1x20x3x3xbf16>, tensor<1x20x3xbf16> -> tensor<1x20x3xbf16>
  return %h : tensor<1x20x3xbf16>
}

// -----

// Dense with N > 16 is left to the reference decomposition.
// CHECK-LABEL: func.func @dense_large
// CHECK: attnflow.linear_recurrence
func.func @dense_large(%a: tensor<1x4x17x17xf32>, %b: tensor<1x4x17xf32>) -> tensor<1x4x17xf32> {
  %h = attnflow.linear_recurrence %a, %b : tensor<1x4x17x17xf32>, tensor<1x4x17xf32> -> tensor<1x4x17xf32>
  return %h : tensor<1x4x17xf32>
}
