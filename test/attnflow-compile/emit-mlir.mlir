// --emit=mlir writes the module after the whole CPU pipeline: LLVM dialect
// only, with the C interface wrapper of every public function.
//
// RUN: attnflow-compile %s --target=cpu --emit=mlir -o %t.mlir
// RUN: FileCheck %s < %t.mlir --implicit-check-not=func.func --implicit-check-not=linalg. --implicit-check-not=memref. --implicit-check-not=bufferization. --implicit-check-not=_mlir_ciface_helper
// RUN: attnflow-compile %s --emit=mlir | FileCheck %s
//
// The output is valid IR that mlir-runner can execute.
// RUN: mlir-runner %t.mlir -e print_sum -entry-point-result=void -shared-libs=%mlir_runner_libs | FileCheck %s --check-prefix=EXEC

// CHECK-DAG: llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG: llvm.func @add(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64, {{.*}}) -> !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> attributes {llvm.emit_c_interface}
// CHECK-DAG: llvm.func @_mlir_ciface_add(
// CHECK-DAG: llvm.func @_mlir_ciface_print_sum(
// Private functions keep the plain convention only (--implicit-check-not).
// CHECK-DAG: llvm.func @helper(

// EXEC: rank = 1 offset = 0 sizes = [4] strides = [1] data =
// EXEC-NEXT: [3,{{ +}}5,{{ +}}7,{{ +}}9]

func.func @add(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %c = linalg.add ins(%a, %b : tensor<4xf32>, tensor<4xf32>)
                  outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %d = func.call @helper(%c) : (tensor<4xf32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

func.func private @helper(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print_sum() {
  %a = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %b = arith.constant dense<[2.0, 3.0, 4.0, 5.0]> : tensor<4xf32>
  %c = func.call @add(%a, %b) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %u = tensor.cast %c : tensor<4xf32> to tensor<*xf32>
  func.call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
