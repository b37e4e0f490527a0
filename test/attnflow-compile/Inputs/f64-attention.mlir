// f64 attention has no GPU lowering (cuda.mlir checks the diagnostic).
func.func @main(%q: tensor<1x1x4x8xf64>) -> tensor<1x1x4x8xf64> {
  %o = attnflow.attention %q, %q, %q : tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64>, tensor<1x1x4x8xf64> -> tensor<1x1x4x8xf64>
  return %o : tensor<1x1x4x8xf64>
}
