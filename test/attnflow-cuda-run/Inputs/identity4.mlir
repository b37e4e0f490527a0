// The identity on tensor<4xf32>, run by attnflow-run in fake-driver.mlir.
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
