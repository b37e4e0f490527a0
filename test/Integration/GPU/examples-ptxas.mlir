// REQUIRES: ptxas
// Every example compiles to PTX for sm_80 and sm_90, and ptxas assembles it
// (DESIGN.md §4.3: emitted PTX must assemble with ptxas).
// RUN: attnflow-compile %attnflow_src/examples/llama31_8b_attention.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.llama.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.llama.sm_80.ptx -o %t.llama.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/llama31_8b_attention.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.llama.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.llama.sm_90.ptx -o %t.llama.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/gemma2_attention.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.gemma.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.gemma.sm_80.ptx -o %t.gemma.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/gemma2_attention.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.gemma.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.gemma.sm_90.ptx -o %t.gemma.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/mistral_7b_window.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.mistral.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.mistral.sm_80.ptx -o %t.mistral.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/mistral_7b_window.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.mistral.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.mistral.sm_90.ptx -o %t.mistral.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/performer_layer.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.performer.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.performer.sm_80.ptx -o %t.performer.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/performer_layer.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.performer.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.performer.sm_90.ptx -o %t.performer.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/transformer_vq_layer.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.vq.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.vq.sm_80.ptx -o %t.vq.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/transformer_vq_layer.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.vq.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.vq.sm_90.ptx -o %t.vq.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/rectified_flow_sampler.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.flow.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.flow.sm_80.ptx -o %t.flow.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/rectified_flow_sampler.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.flow.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.flow.sm_90.ptx -o %t.flow.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/deer_tanh_rnn.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.deer_tanh.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.deer_tanh.sm_80.ptx -o %t.deer_tanh.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/deer_tanh_rnn.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.deer_tanh.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.deer_tanh.sm_90.ptx -o %t.deer_tanh.sm_90.cubin
// RUN: attnflow-compile %attnflow_src/examples/deer_gru.mlir --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.deer_gru.sm_80.ptx
// RUN: %ptxas -arch=sm_80 %t.deer_gru.sm_80.ptx -o %t.deer_gru.sm_80.cubin
// RUN: attnflow-compile %attnflow_src/examples/deer_gru.mlir --target=cuda --gpu-arch=sm_90 --emit=ptx -o %t.deer_gru.sm_90.ptx
// RUN: %ptxas -arch=sm_90 %t.deer_gru.sm_90.ptx -o %t.deer_gru.sm_90.cubin
// RUN: FileCheck %s --check-prefix=DEER --input-file=%t.deer_gru.sm_90.ptx
// RUN: FileCheck %s --check-prefix=FLOW --input-file=%t.flow.sm_90.ptx
// RUN: FileCheck %s --input-file=%t.llama.sm_90.ptx
// RUN: FileCheck %s --check-prefix=PERFORMER --input-file=%t.performer.sm_90.ptx
// RUN: FileCheck %s --check-prefix=VQ --input-file=%t.vq.sm_90.ptx

// Llama: RoPE of q and of k (elementwise kernels, 256 threads, libdevice
// sin / cos with full range reduction) and the attention kernel (256
// threads, dynamic shared memory, half-warp shuffles, barriers, FMAs).
// CHECK: .target sm_90
// CHECK: .visible .entry main_kernel(
// CHECK: .maxntid 256, 1, 1
// CHECK: __cudart_i2opi_f
// CHECK: .visible .entry main_kernel_0(
// CHECK: .visible .entry main_kernel_1(
// CHECK: .maxntid 256, 1, 1
// CHECK: .shared .align 16 .b8 __dynamic_shmem__
// CHECK: bar.sync
// CHECK: fma.rn.f32
// CHECK: shfl.sync.bfly.b32

// Performer and Transformer-VQ: the linear-time kernels only
// (--convert-linear-attention-to-gpu), no kernel of the quadratic reference
// decomposition. Performer: the FAVOR+ logits of q and of k, then the
// chunked causal scan (S and z in dynamic shared memory, barriers,
// row-max shuffles).
// PERFORMER: .target sm_90
// PERFORMER: .visible .entry main_kernel(
// PERFORMER: .maxntid 256, 1, 1
// PERFORMER: .visible .entry main_kernel_0(
// PERFORMER: .maxntid 256, 1, 1
// PERFORMER: .visible .entry main_kernel_1(
// PERFORMER: .maxntid 256, 1, 1
// PERFORMER: bar.sync
// PERFORMER: shfl.sync.bfly.b32
// PERFORMER: fma.rn.f32
// PERFORMER-NOT: .entry
// Transformer-VQ: the nearest-code kernel (64 threads), then the blockwise
// causal scan over the per-code aggregates.
// VQ: .visible .entry main_kernel(
// VQ: .maxntid 64, 1, 1
// VQ: .visible .entry main_kernel_0(
// VQ: .maxntid 256, 1, 1
// VQ: bar.sync
// VQ: shfl.sync.bfly.b32
// VQ-NOT: .entry

// The rectified-flow sampler: the step loops stay on the host (buffers
// hoisted out of them); each function's MLP (matmuls, SiLU with ex2) and the
// fused guidance + state update are kernels, one module for both functions.
// FLOW: .target sm_90
// FLOW: .visible .entry euler8_kernel(
// FLOW: ex2.approx
// FLOW: .visible .entry rk4_4_kernel

// DEER GRU (newton, N = 16): the per-step cell and derived-Jacobian kernel and
// the dense block-level scan of the linearised recurrence (32 time segments of
// one thread each, pairs in dynamic shared memory between two barriers).
// DEER: .target sm_90
// DEER: .maxntid 32, 1, 1
// DEER: .shared .align 16 .b8 __dynamic_shmem__
// DEER: bar.sync
// DEER: bar.sync
