// RUN: attnflow-opt %s --transform-interpreter --canonicalize --cse | FileCheck %s

// The transform dialect drives attnflow ops through TilingInterface: tile the
// attention over [B, Hq, Sq] into an scf.forall and fuse the RoPE of q into
// it with upstream transform ops.

// CHECK-LABEL: func @tile_and_fuse
// CHECK:         scf.forall (%[[B:.*]], %[[HT:.*]], %[[IT:.*]]) in (2, 4, 3)
// CHECK:           %[[H:.*]] = affine.apply #{{.*}}(%[[HT]])
// CHECK:           %[[I:.*]] = affine.apply #{{.*}}(%[[IT]])
// CHECK:           %[[QROT:.*]] = attnflow.rope %{{.*}}, %{{.*}} : tensor<1x2x16x32xf16>, tensor<1x16xi32> -> tensor<1x2x16x32xf16>
// CHECK:           scf.for
// CHECK:             attnflow.online_attention %[[QROT]], {{.*}} at(%{{.*}}, %{{.*}}, %[[H]]) {{.*}} into tensor<1x2x16x32xf32>
// CHECK:           tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%[[B]], %[[H]], %[[I]], 0] [1, 2, 16, 32]
func.func @tile_and_fuse(%q: tensor<2x8x48x32xf16>, %k: tensor<2x4x112x32xf16>, %v: tensor<2x4x112x32xf16>, %pos: tensor<2x48xi32>) -> tensor<2x8x48x32xf16> {
  %qr = attnflow.rope %q, %pos {layout = #attnflow.rope_layout<interleaved>} : tensor<2x8x48x32xf16>, tensor<2x48xi32> -> tensor<2x8x48x32xf16>
  %o = attnflow.attention %qr, %k, %v {causal = true} : tensor<2x8x48x32xf16>, tensor<2x4x112x32xf16>, tensor<2x4x112x32xf16> -> tensor<2x8x48x32xf16>
  return %o : tensor<2x8x48x32xf16>
}

module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %attention = transform.structured.match ops{["attnflow.attention"]} in %root : (!transform.any_op) -> !transform.any_op
    %rope = transform.structured.match ops{["attnflow.rope"]} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %forall = transform.structured.tile_using_forall %attention tile_sizes [1, 2, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %fused, %new_forall = transform.structured.fuse_into_containing_op %rope into %forall : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }
}
