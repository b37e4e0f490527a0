//===- Passes.td - AttnFlow conversion passes --------------*- tablegen -*-===//

#ifndef ATTNFLOW_CONVERSION_PASSES_TD
#define ATTNFLOW_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnFlowToLinalgPass : Pass<"convert-attnflow-to-linalg"> {
  let summary = "Decompose attnflow ops into linalg / tensor / arith / math";
  let description = [{
    The reference decomposition (DESIGN.md §4.4): each attnflow op becomes
    linalg.generic ops on tensors that follow its definition literally. It is
    the oracle faster lowerings are tested against.

    - `attnflow.rope`: an inverse-frequency table (folded to a constant, or
      computed from max(positions) for `dynamic_ntk`), f32 angles from the
      integer positions, and one elementwise generic that reads each
      element's pair partner.
    - `attnflow.attention`: one `attnflow.online_attention` step over all
      keys, then acc / sum: it materializes the [B, Hkv, G, Sq, Skv] scores
      (G = Hq / Hkv). A row with no visible key yields 0; f16 / bf16
      accumulate in f32.
    - `attnflow.online_attention` (the tile op of tiled attention): masked
      scores of one key block folded into the running max, sum and
      accumulator, -inf-safe.
    - `attnflow.ode_solve`: an scf.for over the steps (t_n and h_n in closed
      form on a uniform grid, an scf.index_switch of constants on an explicit
      one) whose body inlines the velocity region once per Runge-Kutta stage
      (euler 1, midpoint 2, heun 2, rk4 4) and combines the stages with
      elementwise generics in f32 (f64 for f64 states), rounded to the state
      type; the last combination updates the loop-carried x in place and is
      fused into the last stage's velocity producer when that is an
      elementwise generic. A trajectory is a second loop-carried tensor.
    - `attnflow.ode_step`: the same step body, once, at the operands t, dt.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ConvertAttnFlowToVectorPass : Pass<"convert-attnflow-to-vector"> {
  let summary = "Lower online-attention blocks to register-tiled vector code";
  let description = [{
    Rewrites each `attnflow.online_attention` of one batch and one query head
    (the blocks --attnflow-tile-attention creates) whose accumulator is f32
    and whose query-row and key extents have static upper bounds into vector
    code on tensors: S^T = K Q^T and acc += P V as outer-product register
    tiles of 8 rows x 2 vectors of FMAs, and the online softmax lane-wise
    across query rows (FlashAttention's Algorithm 1 with the block in [keys,
    queries] layout). Masks are applied as lane selects. Blocks this does not
    cover (a bias operand, f64, several heads) are left for
    --convert-attnflow-to-linalg.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes per vector; a register tile is 8 rows x 2 vectors "
           "(16 = AVX-512)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertAttnFlowToGPUPass : Pass<"convert-attnflow-to-gpu"> {
  let summary = "Lower attnflow.attention to a FlashAttention-2 CUDA kernel "
                "(gpu.launch)";
  let description = [{
    Replaces each `attnflow.attention` on tensors by a `gpu.launch` on its
    operands' buffers (`bufferization.to_buffer`, read-only) writing a fresh
    output buffer (`memref.alloc`, returned through `bufferization.to_tensor
    restrict writable`), so one-shot bufferization and the host-memory pass
    of the GPU pipeline see ordinary allocations.

    The kernel is FlashAttention-2's forward pass (Dao 2023, Algorithm 1):
    a 256-thread block per (64-row query tile, query head, batch), so the
    grid is [ceil(Sq / 64), Hq, B]; K / V tiles of 64 keys (32 when D or Dv
    exceeds 128) are staged through dynamic shared memory (~113 KiB for
    D = Dv = 128, ~137 KiB for 256); each thread keeps 4 query rows' running
    max, sum and accumulator columns in registers; the key loop visits only
    the sinks and the tile's mask band, so a window w costs O(Sq * w * D).
    Masks, softcap, ALiBi, log-n and bias follow DESIGN.md §3 exactly (the
    same buildMaskedScore as the CPU kernels). f16 / bf16 are widened to f32
    when staged; scores, sums and accumulators are f32; the output is
    rounded once. GQA: block (.., h, ..) reads kv head h / (Hq / Hkv).

    f16 / bf16 with `tensor-cores` (the default) take the tensor-core kernel
    instead: a 128-thread block (4 warps of 16 query rows) per 64-row query
    tile, Q / K / V^T kept in f16 / bf16 in shared memory (D padded to 16,
    Dv to 8), S = Q K^T and O += P V as `nvgpu.mma.sync` m16n8k16 with f32
    accumulators, the online softmax on the accumulator fragments (quad
    shuffles), P rounded to f16 / bf16 for the P V product as in
    FlashAttention-2 (the row sums use the unrounded P). bf16 needs
    --attnflow-lower-bf16-mma-sync before --convert-nvgpu-to-nvvm.

    Errors: f64 operands (not supported on the GPU; use the CPU target),
    head dims above 4096 or whose shared-memory plan exceeds
    `shared-memory-limit`, Hq or B above 65535 (CUDA's grid y / z limit) and
    more than 2^31 - 1 query tiles (grid x).
  }];
  let options = [
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t",
           /*default=*/"166912",
           "Dynamic shared memory a block may use, in bytes (sm_80: 166912, "
           "sm_90: 232448)">,
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "f16 / bf16 attention on tensor cores (nvgpu.mma.sync m16n8k16, "
           "f32 accumulators; sm_80+); false: the f32 SIMT kernel for every "
           "element type">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ConvertLinearAttentionToGPUPass
    : Pass<"convert-linear-attention-to-gpu"> {
  let summary = "Lower attnflow.linear_attention and attnflow.vq_attention "
                "to linear-time CUDA kernels (gpu.launch)";
  let description = [{
    Replaces each `attnflow.linear_attention` and `attnflow.vq_attention`
    with static, non-empty f32, f16 or bf16 operands by kernels whose cost
    is linear in S. linear_attention costs O(S * M * Dv) (DESIGN.md
    §3; Katharopoulos et al. 2020, eq. 4 and 9 - 12; Choromanski et al.
    2021, FAVOR+), on the operands' read-only buffers, writing a fresh
    output buffer returned through `bufferization.to_tensor restrict
    writable` (as --convert-attnflow-to-gpu does). f64 ops are left to the
    reference decomposition.

    - favor_plus: two logits kernels (q, then k), grid [ceil(S / 16), H, B]
      of 256 threads, write l = sqrt(scale) W x - scale |x|^2 / 2 - ln(M) / 2
      to f32 buffers [B, H, S, M].
    - One scan kernel, grid [ceil(Dv / 32), Hq, B] of 256 threads: the block
      of (32 value columns, query head, batch) keeps S = phi(K)^T V [M, 32]
      and z = phi(K)^T 1 [M] of its kv head (GQA: h / (Hq / Hkv)) in shared
      memory and walks chunks of L = 32 rows (16 when 32 do not fit) in
      order. Causal: each chunk's output is phi(Q_c) S plus the exact
      masked intra-chunk products, then its keys enter S and z.
      Non-causal: all key chunks enter S and z, then every query chunk reads
      them. Shared memory: 4 (2 L (M + 1) + 32 L + [causal] L (L + 1) +
      33 M + 8) bytes.
    - FAVOR+ is stabilised as in --attnflow-chunk-linear-attention: phi(k)
      = exp(l - B) with B the largest key logit of (batch, kv head),
      phi(q_i) = exp(l_i - A_i) with A_i the row's largest; eps is rescaled
      by exp(-(A_i + B)), and a normaliser that underflows to 0 gives 0.
      f16 / bf16 are computed in f32 and rounded once.

    vq_attention (Lingle 2024, "Transformer-VQ", Theorem 3.4 and §3.3),
    exactly attention(q, vector_quantize(k, codebook).xq, v):

    - A codes kernel, grid [ceil(Skv / 64), Hkv, B] of 64 threads (one key
      each, codebook tiles of 32 rows staged), writes argmin_c |k - c|^2
      (ties: lowest c; the reference's summation order) to an i64 buffer
      [B, Hkv, Skv].
    - A scan kernel, grid [ceil(Dv / 32), Hq, B] of 256 threads, carries
      per-code counts n_c and value sums V_c [C, 32] in shared memory and
      walks query chunks of L = 32 (or 16) rows: o_i = (sum_c w_ic V_c +
      sum_j p_ij v_j) / (sum_c w_ic n_c + sum_j p_ij) with t_ic = scale
      q_i . c, w_ic = exp(t_ic - m_i) for n_c > 0, m_i the row max of
      t_ic + ln n_c and of the exact scores p_ij = exp(t_i,code(j) - m_i) of
      the chunk's own keys j <= p_i (causal, q_offset = Skv - Sq; the keys
      before the first chunk enter the aggregates first). A row without a
      visible key is 0. Non-causal: all keys enter the aggregates, then the
      query chunks read them. Cost O(S (C + L) (D + Dv)). Shared memory:
      4 (L (D + 1) + L (C + 1) + [causal] L (L + 1) + 32 L + 33 C +
      32 (D + 1)) bytes (the last: codebook tiles of 32 rows for the scores).

    Errors: M above 65536 or whose scan does not fit `shared-memory-limit`
    with chunks of 16 rows; for vq_attention D or C above 65536, or a codes
    kernel or scan that does not fit; Hq or B above 65535 (CUDA's grid y / z
    limit).
  }];
  let options = [
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t",
           /*default=*/"166912",
           "Dynamic shared memory a block may use, in bytes (sm_80: 166912, "
           "sm_90: 232448)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def ConvertLinearRecurrenceToGPUPass
    : Pass<"convert-linear-recurrence-to-gpu"> {
  let summary = "Lower attnflow.linear_recurrence to a block-level parallel "
                "scan kernel (gpu.launch)";
  let description = [{
    Replaces each `attnflow.linear_recurrence` by one kernel on the operands'
    read-only buffers writing a fresh output buffer (returned through
    `bufferization.to_tensor restrict writable`): a reduce-then-scan per
    block (Blelloch 1990, §1.4; combine (A_j A_i, A_j b_i + b_j)). A block
    owns one batch element and 32 state columns (diagonal a: grid
    [ceil(N / 32), B] of 32 x 8 threads) or the whole state (dense a: grid
    [1, B] of 64 threads); each thread owns a time segment of its column,
    reduces it to (A_s, b_s) in shared memory, the segment-0 thread scans
    the pairs from h0 into carries, and every thread reruns its segment from
    its carry. reverse walks each segment backwards. States in f32 (f64 for
    f64), rounded when stored. Shared memory: 8 x 32 x 3 accumulator
    elements (diagonal), 64 (N^2 + 2N) (dense).

    Errors: dense a with N > 8 (the per-thread N x N product), B above 65535
    (CUDA's grid y).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def LowerBF16MmaSyncPass : Pass<"attnflow-lower-bf16-mma-sync"> {
  let summary = "Lower bf16 nvgpu.mma.sync m16n8k16 to nvvm.mma.sync";
  let description = [{
    MLIR 22's --convert-nvgpu-to-nvvm handles f16 but not bf16 operands of
    `nvgpu.mma.sync` ("failed to deduce operand PTX types"). This rewrites
    each bf16 m16n8k16 `nvgpu.mma.sync` with f32 accumulators into
    `nvvm.mma.sync` (row x col, multiplicand types bf16): each vector<2xbf16>
    row of the A / B fragments is bitcast to the i32 register PTX expects,
    the C fragment's four f32 are passed as scalars and the result struct is
    reassembled into vector<2x2xf32>. Run it before --convert-nvgpu-to-nvvm.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTNFLOW_CONVERSION_PASSES_TD
