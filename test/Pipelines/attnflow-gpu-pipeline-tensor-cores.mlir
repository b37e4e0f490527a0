// RUN: attnflow-opt %s --attnflow-gpu-pipeline | FileCheck %s --check-prefix=MMA
// RUN: attnflow-opt %s --attnflow-gpu-pipeline="tensor-cores=false" | FileCheck %s --check-prefix=SIMT

// bf16 attention runs on tensor cores by default (128-thread blocks,
// mma.sync m16n8k16 with f32 accumulators); tensor-cores=false keeps the
// 256-thread SIMT kernel with f32 FMAs.
// MMA: .maxntid 128, 1, 1
// MMA: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SIMT: .maxntid 256, 1, 1
// SIMT-NOT: mma.sync
func.func @main(%q: tensor<1x4x64x64xbf16>, %k: tensor<1x2x64x64xbf16>, %v: tensor<1x2x64x64xbf16>) -> tensor<1x4x64x64xbf16> {
  %o = attnflow.attention %q, %k, %v {causal = true} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>
  return %o : tensor<1x4x64x64xbf16>
}
