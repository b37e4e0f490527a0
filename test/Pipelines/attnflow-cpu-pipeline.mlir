// RUN: attnflow-opt %s --attnflow-cpu-pipeline \
// RUN: | FileCheck %s --implicit-check-not=attnflow. --implicit-check-not=linalg. \
// RUN:   --implicit-check-not=tensor. --implicit-check-not=memref. --implicit-check-not=scf. \
// RUN:   --implicit-check-not=llvm.intr.exp --implicit-check-not=llvm.intr.tanh
// RUN: attnflow-opt %s --pass-pipeline="builtin.module(attnflow-cpu-pipeline)" | FileCheck %s

// The named pipeline takes attnflow ops on tensors to the LLVM dialect only:
// the public function keeps its expanded-descriptor form and gains a C
// interface wrapper; RoPE's sin / cos stay on libm-accurate intrinsics (large
// angles), while exp and tanh become polynomials (no llvm.intr.exp left).

// CHECK-LABEL: llvm.func @main(
// CHECK-SAME:    llvm.emit_c_interface
// CHECK-DAG:     llvm.intr.cos
// CHECK-DAG:     llvm.intr.sin
// CHECK-DAG:     llvm.call @malloc
// CHECK-LABEL: llvm.func @_mlir_ciface_main(
// CHECK:         llvm.call @main(
func.func @main(%q: tensor<1x4x6x8xbf16>, %k: tensor<1x2x6x8xbf16>, %v: tensor<1x2x6x8xbf16>, %pos: tensor<6xi32>) -> tensor<1x4x6x8xbf16> {
  %qr = attnflow.rope %q, %pos {layout = #attnflow.rope_layout<interleaved>} : tensor<1x4x6x8xbf16>, tensor<6xi32> -> tensor<1x4x6x8xbf16>
  %kr = attnflow.rope %k, %pos {layout = #attnflow.rope_layout<interleaved>} : tensor<1x2x6x8xbf16>, tensor<6xi32> -> tensor<1x2x6x8xbf16>
  %o = attnflow.attention %qr, %kr, %v {causal = true, logit_softcap = 30.0 : f64} : tensor<1x4x6x8xbf16>, tensor<1x2x6x8xbf16>, tensor<1x2x6x8xbf16> -> tensor<1x4x6x8xbf16>
  return %o : tensor<1x4x6x8xbf16>
}
