// RUN: attnflow-opt %s --split-input-file --verify-diagnostics --attnflow-gpu-merge-modules

module attributes {gpu.container_module} {
  gpu.module @a [#nvvm.target<chip = "sm_80">] {
    gpu.func @k() kernel {
      gpu.return
    }
  }
  // expected-error @+1 {{cannot merge GPU modules with different targets}}
  gpu.module @b [#nvvm.target<chip = "sm_90">] {
    gpu.func @k2() kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @a {
    memref.global "private" constant @g : memref<2xf32> = dense<[1.0, 2.0]>
  }
  gpu.module @b {
    // expected-error @+1 {{GPU modules define different symbols named 'g'}}
    memref.global "private" constant @g : memref<2xf32> = dense<[5.0, 6.0]>
  }
}
