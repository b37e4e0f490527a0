// The entry function must exist, have a body and take and return statically
// shaped tensors of f64, f32, f16, bf16, i64, i32 or i1.
//
// RUN: not attnflow-run %s 2>&1 | FileCheck %s --check-prefix=NOMAIN
// NOMAIN: attnflow-run: error: no function named 'main' in {{.*}}error-signature.mlir
// RUN: not attnflow-run %s --entry=nothere 2>&1 | FileCheck %s --check-prefix=NOTHERE
// NOTHERE: attnflow-run: error: no function named 'nothere' in
// RUN: not attnflow-run %s --entry=declared 2>&1 | FileCheck %s --check-prefix=DECL
// DECL: attnflow-run: error: function 'declared' is only a declaration
// RUN: not attnflow-run %s --entry=global 2>&1 | FileCheck %s --check-prefix=GLOBAL
// GLOBAL: attnflow-run: error: 'global' is a 'memref.global', not a func.func
// RUN: not attnflow-run %s --entry=dynamic 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: attnflow-run: error: argument 0 of 'dynamic' has type tensor<?x4xf32>; attnflow-run supports statically shaped tensors of f64, f32, f16, bf16, i64, i32 and i1
// RUN: not attnflow-run %s --entry=scalar 2>&1 | FileCheck %s --check-prefix=SCALAR
// SCALAR: attnflow-run: error: argument 1 of 'scalar' has type f32;
// RUN: not attnflow-run %s --entry=int8 2>&1 | FileCheck %s --check-prefix=INT8
// INT8: attnflow-run: error: argument 0 of 'int8' has type tensor<4xi8>;
// RUN: not attnflow-run %s --entry=unranked --random-inputs 2>&1 | FileCheck %s --check-prefix=UNRANKED
// UNRANKED: attnflow-run: error: argument 0 of 'unranked' has type tensor<*xf32>;
// RUN: not attnflow-run %s --entry=memref_result 2>&1 | FileCheck %s --check-prefix=MEMREF
// MEMREF: attnflow-run: error: result 0 of 'memref_result' has type memref<2xf32>;

func.func private @declared(%a: tensor<4xf32>)
memref.global "private" @global : memref<2xf32>
func.func @dynamic(%a: tensor<?x4xf32>) { return }
func.func @scalar(%a: tensor<4xf32>, %b: f32) { return }
func.func @int8(%a: tensor<4xi8>) { return }
func.func @unranked(%a: tensor<*xf32>) { return }
func.func @memref_result() -> memref<2xf32> {
  %0 = memref.alloc() : memref<2xf32>
  return %0 : memref<2xf32>
}
