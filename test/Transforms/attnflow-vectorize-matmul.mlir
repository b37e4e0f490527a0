// RUN: attnflow-opt %s --split-input-file --attnflow-vectorize-matmul="vector-width=8" --canonicalize --cse | FileCheck %s
// RUN: not attnflow-opt %s --attnflow-vectorize-matmul="vector-width=0" 2>&1 | FileCheck %s --check-prefix=BAD
// Compiled and run on the CPU (the pipeline runs the pass): a product whose
// M, N and K are not multiples of the tiles against numpy in float64.
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t.a.npy "np.random.default_rng(1).standard_normal((20, 12)).astype(np.float32)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t.b.npy "np.random.default_rng(2).standard_normal((12, 40)).astype(np.float32)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t.c.npy "np.random.default_rng(3).standard_normal((20, 40)).astype(np.float32)"
// RUN: attnflow-run %s --entry=static_f32 --input=%t.a.npy --input=%t.b.npy --input=%t.c.npy --output=%t.o.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py assert "np.max(np.abs(o - (c.astype(np.float64) + a.astype(np.float64) @ b))) < 1e-5" a=%t.a.npy b=%t.b.npy c=%t.c.npy o=%t.o.npy

// BAD: error: attnflow-vectorize-matmul expects vector-width >= 1, got 0

// C += A B with C read: register tiles of 8 rows (two in the loop, a static
// tail of 4) x 16 lanes (two in the loop, a tail of 8), K innermost, one
// broadcast A element and one B row vector per FMA.
// CHECK-LABEL: func.func @static_f32
// CHECK-NOT:     linalg.matmul
// CHECK:         scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:           scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK:             vector.transfer_read %arg2[%[[I]], %[[J]]]
// CHECK:             scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:               vector.transfer_read %arg1[%[[K]], %[[J]]]
// CHECK:               tensor.extract %arg0[%[[I]], %[[K]]]
// CHECK-COUNT-8:       vector.fma
// CHECK:             vector.transfer_write
func.func @static_f32(%a: tensor<20x12xf32>, %b: tensor<12x40xf32>, %c: tensor<20x40xf32>) -> tensor<20x40xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<20x12xf32>, tensor<12x40xf32>) outs(%c : tensor<20x40xf32>) -> tensor<20x40xf32>
  return %r : tensor<20x40xf32>
}

// -----

// f16 operands are widened as they are read into an f32 accumulator.
// CHECK-LABEL: func.func @f16_into_f32
// CHECK-NOT:     linalg.matmul
// CHECK:         arith.extf {{.*}} : vector<16xf16> to vector<16xf32>
// CHECK:         vector.fma
func.func @f16_into_f32(%a: tensor<8x4xf16>, %b: tensor<4x16xf16>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x4xf16>, tensor<4x16xf16>) outs(%c : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// Left alone: transposed maps, an f16 accumulator, dynamic sizes, integers,
// buffers.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-5: linalg.matmul
// CHECK-NOT:     vector.fma
func.func @left_alone(%a: tensor<4x8xf32>, %bt: tensor<16x8xf32>, %c: tensor<4x16xf32>,
                      %h: tensor<4x8xf16>, %hb: tensor<8x16xf16>, %hc: tensor<4x16xf16>,
                      %d: tensor<?x8xf32>, %b: tensor<8x16xf32>, %dc: tensor<?x16xf32>,
                      %i: tensor<4x8xi32>, %ib: tensor<8x16xi32>, %ic: tensor<4x16xi32>,
                      %ma: memref<4x8xf32>, %mb: memref<8x16xf32>, %mc: memref<4x16xf32>)
    -> (tensor<4x16xf32>, tensor<4x16xf16>, tensor<?x16xf32>, tensor<4x16xi32>) {
  %0 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
       ins(%a, %bt : tensor<4x8xf32>, tensor<16x8xf32>) outs(%c : tensor<4x16xf32>) -> tensor<4x16xf32>
  %1 = linalg.matmul ins(%h, %hb : tensor<4x8xf16>, tensor<8x16xf16>) outs(%hc : tensor<4x16xf16>) -> tensor<4x16xf16>
  %2 = linalg.matmul ins(%d, %b : tensor<?x8xf32>, tensor<8x16xf32>) outs(%dc : tensor<?x16xf32>) -> tensor<?x16xf32>
  %3 = linalg.matmul ins(%i, %ib : tensor<4x8xi32>, tensor<8x16xi32>) outs(%ic : tensor<4x16xi32>) -> tensor<4x16xi32>
  linalg.matmul ins(%ma, %mb : memref<4x8xf32>, memref<8x16xf32>) outs(%mc : memref<4x16xf32>)
  return %0, %1, %2, %3 : tensor<4x16xf32>, tensor<4x16xf16>, tensor<?x16xf32>, tensor<4x16xi32>
}
