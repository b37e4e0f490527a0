// RUN: attnflow-opt %s --attnflow-cpu-entry-abi | FileCheck %s

// A public function with a body is an entry point: it gets a C interface and
// its tensor arguments become read-only, unless one says otherwise; non-tensor
// arguments carry no bufferization attribute.
// CHECK-LABEL: func.func @entry(
// CHECK-SAME:    %{{[^:]*}}: tensor<4xf32> {bufferization.writable = false},
// CHECK-SAME:    %{{[^:]*}}: tensor<4xf32> {bufferization.writable = true},
// CHECK-SAME:    %{{[^:]*}}: index, %{{[^:]*}}: memref<4xf32>)
// CHECK-SAME:    -> tensor<4xf32> attributes {llvm.emit_c_interface}
func.func @entry(%a: tensor<4xf32>, %b: tensor<4xf32> {bufferization.writable = true},
                 %n: index, %m: memref<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// Private functions and declarations are not entry points: untouched.
// CHECK-LABEL: func.func private @helper(
// CHECK-SAME:    %{{[^:]*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func private @helper(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}

// CHECK:       func.func private @decl(tensor<4xf32>) -> tensor<4xf32>{{$}}
func.func private @decl(%a: tensor<4xf32>) -> tensor<4xf32>

