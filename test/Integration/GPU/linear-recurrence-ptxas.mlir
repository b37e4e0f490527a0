// REQUIRES: ptxas
// linear_recurrence on the GPU (--convert-linear-recurrence-to-gpu, in the
// GPU pipeline): the block-level scan kernels of a diagonal f32 recurrence
// with h0, reversed, and a dense bf16 one assemble for both chips.
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.sm_80.ptx -o %t.sm_80.cubin
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.sm_90.ptx -o %t.sm_90.cubin
// RUN: FileCheck %s --input-file=%t.sm_90.ptx

// Two kernels, each with its three phases split by two barriers.
// CHECK: .target sm_90
// CHECK-COUNT-2: .entry
// CHECK-DAG: bar.sync
// CHECK-DAG: st.shared
// CHECK-DAG: ld.shared
// CHECK-DAG: mul.rn.f32
// CHECK-DAG: add.rn.f32
// CHECK-DAG: cvt.f32.bf16
// CHECK-DAG: cvt.rn.bf16.f32
func.func @main(%a: tensor<2x1000x40xf32>, %b: tensor<2x1000x40xf32>, %h0: tensor<2x40xf32>,
                %ad: tensor<1x500x4x4xbf16>, %bd: tensor<1x500x4xbf16>)
    -> (tensor<2x1000x40xf32>, tensor<1x500x4xbf16>) {
  %h = attnflow.linear_recurrence %a, %b, %h0 {reverse = true}
       : tensor<2x1000x40xf32>, tensor<2x1000x40xf32>, tensor<2x40xf32> -> tensor<2x1000x40xf32>
  %d = attnflow.linear_recurrence %ad, %bd
       : tensor<1x500x4x4xbf16>, tensor<1x500x4xbf16> -> tensor<1x500x4xbf16>
  return %h, %d : tensor<2x1000x40xf32>, tensor<1x500x4xbf16>
}
