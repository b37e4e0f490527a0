// RUN: attnflow-opt %s --attnflow-gpu-merge-modules | FileCheck %s

// Outlining gave two modules a kernel named @k and both a copy of @table:
// the second kernel moves into the first module under its module's name,
// the global is kept once, and the launches follow.
// CHECK:     gpu.module @m1 {
// CHECK:       memref.global "private" constant @table
// CHECK:       gpu.func @k() kernel
// CHECK:       gpu.func @m2() kernel
// CHECK:       gpu.func @other() kernel
// CHECK:     }
// CHECK-NOT: gpu.module
// CHECK:     func.func @main
// CHECK:       gpu.launch_func  @m1::@k
// CHECK:       gpu.launch_func  @m1::@m2
// CHECK:       gpu.launch_func  @m1::@other
module attributes {gpu.container_module} {
  gpu.module @m1 {
    memref.global "private" constant @table : memref<2xf32> = dense<1.0>
    gpu.func @k() kernel {
      gpu.return
    }
  }
  gpu.module @m2 {
    memref.global "private" constant @table : memref<2xf32> = dense<1.0>
    gpu.func @k() kernel {
      gpu.return
    }
  }
  gpu.module @m3 {
    gpu.func @other() kernel {
      gpu.return
    }
  }
  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @m1::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @m2::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @m3::@other blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}
