// REQUIRES: ptxas
// bf16 and f16 attention at Gemma-2 / Llama head dims on the SIMT kernel
// (tensor-cores=false; the default tensor-core kernel is mma-ptxas.mlir)
// assemble for both chips; inputs are widened to f32 and the output rounded
// once.
// RUN: attnflow-opt %s --convert-attnflow-to-gpu=tensor-cores=false -o %t.simt.mlir
// RUN: attnflow-compile %t.simt.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.sm_80.ptx -o %t.sm_80.cubin
// RUN: attnflow-compile %t.simt.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.sm_90.ptx -o %t.sm_90.cubin
// RUN: FileCheck %s --input-file=%t.sm_80.ptx

// CHECK: .target sm_80
// CHECK-DAG: cvt.f32.bf16
// CHECK-DAG: cvt.rn.bf16.f32
// CHECK-DAG: cvt.f32.f16
// CHECK-DAG: cvt.rn.f16.f32
// CHECK-NOT: mma.sync
func.func @main(%q: tensor<1x8x128x256xbf16>, %k: tensor<1x4x128x256xbf16>, %v: tensor<1x4x128x256xbf16>,
                %q2: tensor<1x32x64x128xf16>, %k2: tensor<1x8x64x128xf16>, %v2: tensor<1x8x64x128xf16>)
    -> (tensor<1x8x128x256xbf16>, tensor<1x32x64x128xf16>) {
  %o = attnflow.attention %q, %k, %v {causal = true, logit_softcap = 50.0 : f64, window_left = 4095 : i64}
      : tensor<1x8x128x256xbf16>, tensor<1x4x128x256xbf16>, tensor<1x4x128x256xbf16> -> tensor<1x8x128x256xbf16>
  %o2 = attnflow.attention %q2, %k2, %v2 {causal = true}
      : tensor<1x32x64x128xf16>, tensor<1x8x64x128xf16>, tensor<1x8x64x128xf16> -> tensor<1x32x64x128xf16>
  return %o, %o2 : tensor<1x8x128x256xbf16>, tensor<1x32x64x128xf16>
}
