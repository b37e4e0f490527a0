// RUN: attnflow-opt %s --split-input-file --attnflow-entry-signature --verify-diagnostics | FileCheck %s

// Each public function with a body gets its tensor signature as a
// NUL-terminated string: arguments, "->", results; 0-d tensors are just the
// element type. Private functions and declarations get none.
// CHECK-DAG: llvm.mlir.global external constant @_attnflow_signature_main("1x32x512x128xbf16,512xi64,f32->1x32x512x128xbf16,4x4xi1\00")
// CHECK-DAG: llvm.mlir.global external constant @_attnflow_signature_no_results("2xf16,3xi32,4xf64->\00")
// CHECK-NOT: _attnflow_signature_helper
// CHECK-NOT: _attnflow_signature_external
func.func @main(%q: tensor<1x32x512x128xbf16>, %p: tensor<512xi64>, %s: tensor<f32>) -> (tensor<1x32x512x128xbf16>, tensor<4x4xi1>) {
  %m = arith.constant dense<true> : tensor<4x4xi1>
  return %q, %m : tensor<1x32x512x128xbf16>, tensor<4x4xi1>
}
func.func @no_results(%a: tensor<2xf16>, %b: tensor<3xi32>, %c: tensor<4xf64>) {
  return
}
func.func private @helper(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}
func.func private @external(%a: tensor<?xf32>)

// -----

// expected-error @+1 {{entry point argument #0 has type 'tensor<?xf32>'; a host-callable entry takes and returns statically shaped tensors of f64, f32, f16, bf16, i64, i32 or i1}}
func.func @dynamic(%a: tensor<?xf32>) -> tensor<?xf32> {
  return %a : tensor<?xf32>
}

// -----

// expected-error @+1 {{entry point result #0 has type 'index'}}
func.func @scalar(%a: tensor<2xf32>) -> index {
  %c = arith.constant 0 : index
  return %c : index
}

// -----

// expected-error @+1 {{entry point argument #0 has type 'tensor<2xi8>'}}
func.func @i8(%a: tensor<2xi8>) {
  return
}

// -----

// expected-error @+1 {{entry point argument #0 has type 'tensor<2xui32>'}}
func.func @unsigned(%a: tensor<2xui32>) {
  return
}
