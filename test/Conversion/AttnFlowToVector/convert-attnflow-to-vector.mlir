// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-vector --canonicalize | FileCheck %s
// RUN: attnflow-opt %s --split-input-file --convert-attnflow-to-vector="vector-width=8" --canonicalize | FileCheck %s --check-prefix=W8
// RUN: not attnflow-opt %s --split-input-file --convert-attnflow-to-vector="vector-width=0" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: convert-attnflow-to-vector expects vector-width >= 1, got 0

// A full 64 x 64 block of one head: Q^T is built once (linalg.transpose, to be
// hoisted out of the key loop); S^T = K Q^T accumulates 8 key rows x 32 query
// lanes with FMAs over d; the masked scores' running max, exp and sum are
// lane-wise; acc += P V accumulates 8 query rows x 32 dims over the keys.
// CHECK-LABEL: func @full_block
// CHECK:         linalg.transpose ins(%{{.*}} : tensor<64x128xf32>) outs(%{{.*}} : tensor<128x64xf32>) permutation = [1, 0]
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK:           scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK:             scf.for %{{.*}} = %c0 to %c128 step %c1 iter_args
// CHECK-COUNT-8:       vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK:             arith.cmpi sle, %{{.*}}, %{{.*}} : vector<32xi64>
// CHECK:             arith.maximumf %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK:           math.exp %{{.*}} : vector<32xf32>
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c8
// CHECK:           scf.for %{{.*}} = %c0 to %c128 step %c32
// CHECK:             scf.for %{{.*}} = %c0 to %c64 step %c1 iter_args
// CHECK-COUNT-8:       vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK-NOT:     attnflow.online_attention
func.func @full_block(%q: tensor<1x1x64x128xf32>, %k: tensor<1x1x64x128xf32>, %v: tensor<1x1x64x128xf32>,
    %acc: tensor<1x1x64x128xf32>, %max: tensor<1x1x64xf32>, %sum: tensor<1x1x64xf32>, %qp: index, %kp: index, %h: index)
    -> (tensor<1x1x64x128xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>) {
  %a, %m, %s = attnflow.online_attention %q, %k, %v at(%qp, %kp, %h) into(%acc, %max, %sum) {scale = 0.088388347648318433 : f64, causal = true} : tensor<1x1x64x128xf32>, tensor<1x1x64x128xf32>, tensor<1x1x64x128xf32> into tensor<1x1x64x128xf32>, tensor<1x1x64xf32>
  return %a, %m, %s : tensor<1x1x64x128xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>
}

// -----

// An edge tile: rows and keys are dynamic but bounded (affine.min with 40
// and 24), so the kernels run over 64 lanes / 24 keys with clamped reads and
// masked max / sum writes. f16 inputs are widened to f32 as they are read.
// CHECK-LABEL: func @bounded_edge_tile
// CHECK:         scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK:           vector.transfer_read %{{.*}} : tensor<?xf32>, vector<32xf32>
// CHECK:           scf.for %{{.*}} = %c0 to %c24 step %c8
// CHECK:             arith.extf %{{.*}} : vector<32xf16> to vector<32xf32>
// CHECK:           vector.transfer_write %{{.*}} : vector<32xf32>, tensor<?xf32>
// CHECK-NOT:     attnflow.online_attention
// W8-LABEL: func @bounded_edge_tile
// W8:         vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
func.func @bounded_edge_tile(%q: tensor<1x1x40x32xf16>, %k: tensor<1x1x24x32xf16>, %v: tensor<1x1x24x32xf16>, %n: index, %m: index)
    -> (tensor<1x1x?x32xf32>, tensor<1x1x?xf32>, tensor<1x1x?xf32>) {
  %c0 = arith.constant 0 : index
  %rows = affine.min affine_map<(d0) -> (d0, 40)>(%n)
  %keys = affine.min affine_map<(d0) -> (d0, 24)>(%m)
  %qs = tensor.extract_slice %q[0, 0, 0, 0] [1, 1, %rows, 32] [1, 1, 1, 1] : tensor<1x1x40x32xf16> to tensor<1x1x?x32xf16>
  %ks = tensor.extract_slice %k[0, 0, 0, 0] [1, 1, %keys, 32] [1, 1, 1, 1] : tensor<1x1x24x32xf16> to tensor<1x1x?x32xf16>
  %vs = tensor.extract_slice %v[0, 0, 0, 0] [1, 1, %keys, 32] [1, 1, 1, 1] : tensor<1x1x24x32xf16> to tensor<1x1x?x32xf16>
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %e4 = tensor.empty(%rows) : tensor<1x1x?x32xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x1x?x32xf32>) -> tensor<1x1x?x32xf32>
  %e3 = tensor.empty(%rows) : tensor<1x1x?xf32>
  %max = linalg.fill ins(%ninf : f32) outs(%e3 : tensor<1x1x?xf32>) -> tensor<1x1x?xf32>
  %sum = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x1x?xf32>) -> tensor<1x1x?xf32>
  %a, %mx, %s = attnflow.online_attention %qs, %ks, %vs at(%c0, %c0, %c0) into(%acc, %max, %sum) {scale = 0.125 : f64, window_left = 3 : i64, num_sink_tokens = 1 : i64} : tensor<1x1x?x32xf16>, tensor<1x1x?x32xf16>, tensor<1x1x?x32xf16> into tensor<1x1x?x32xf32>, tensor<1x1x?xf32>
  return %a, %mx, %s : tensor<1x1x?x32xf32>, tensor<1x1x?xf32>, tensor<1x1x?xf32>
}

// -----

// Left for --convert-attnflow-to-linalg: extents without a static bound, a
// bias operand, f64 and blocks of several heads.
// CHECK-LABEL: func @not_covered
// CHECK-COUNT-4: attnflow.online_attention
func.func @not_covered(%q: tensor<1x1x?x32xf32>, %k: tensor<1x1x?x32xf32>, %acc: tensor<1x1x?x32xf32>, %max: tensor<1x1x?xf32>,
    %qs: tensor<1x1x8x32xf32>, %bias: tensor<1x1x8x8xf32>, %acc8: tensor<1x1x8x32xf32>, %max8: tensor<1x1x8xf32>,
    %q64: tensor<1x1x8x32xf64>, %acc64: tensor<1x1x8x32xf64>, %max64: tensor<1x1x8xf64>,
    %q2: tensor<1x2x8x32xf32>, %acc2: tensor<1x2x8x32xf32>, %max2: tensor<1x2x8xf32>, %i: index)
    -> (tensor<1x1x?x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf64>, tensor<1x2x8x32xf32>) {
  %0:3 = attnflow.online_attention %q, %k, %k at(%i, %i, %i) into(%acc, %max, %max) {scale = 1.0 : f64} : tensor<1x1x?x32xf32>, tensor<1x1x?x32xf32>, tensor<1x1x?x32xf32> into tensor<1x1x?x32xf32>, tensor<1x1x?xf32>
  %1:3 = attnflow.online_attention %qs, %qs, %qs, %bias at(%i, %i, %i) into(%acc8, %max8, %max8) {scale = 1.0 : f64} : tensor<1x1x8x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x8xf32> into tensor<1x1x8x32xf32>, tensor<1x1x8xf32>
  %2:3 = attnflow.online_attention %q64, %q64, %q64 at(%i, %i, %i) into(%acc64, %max64, %max64) {scale = 1.0 : f64} : tensor<1x1x8x32xf64>, tensor<1x1x8x32xf64>, tensor<1x1x8x32xf64> into tensor<1x1x8x32xf64>, tensor<1x1x8xf64>
  %3:3 = attnflow.online_attention %q2, %q2, %q2 at(%i, %i, %i) into(%acc2, %max2, %max2) {scale = 1.0 : f64} : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32> into tensor<1x2x8x32xf32>, tensor<1x2x8xf32>
  return %0#0, %1#0, %2#0, %3#0 : tensor<1x1x?x32xf32>, tensor<1x1x8x32xf32>, tensor<1x1x8x32xf64>, tensor<1x2x8x32xf32>
}
