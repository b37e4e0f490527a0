// --emit=obj writes a relocatable ELF object for the host CPU holding the
// function and its C interface wrapper.
//
// RUN: rm -f %t.o
// RUN: attnflow-compile %s --target=cpu --emit=obj -o %t.o
// RUN: %python %S/../attnflow-run/Inputs/npytool.py elf %t.o | FileCheck %s --check-prefix=ELF
// RUN: llvm-nm %t.o | FileCheck %s
// RUN: attnflow-compile %s --emit=obj --mcpu=x86-64 -o %t.generic.o
// RUN: llvm-nm %t.generic.o | FileCheck %s

// ELF: ELF relocatable object
// CHECK-DAG: T _mlir_ciface_exp_sum
// CHECK-DAG: T exp_sum
// CHECK-DAG: U malloc

func.func @exp_sum(%a: tensor<64xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %s = linalg.reduce ins(%a : tensor<64xf32>) outs(%init : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %x = math.exp %in : f32
      %r = arith.addf %x, %acc : f32
      linalg.yield %r : f32
    }
  return %s : tensor<f32>
}
