//===- Passes.td - attnflow dialect transforms -------------*- tablegen -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TileAttentionPass : Pass<"attnflow-tile-attention"> {
  let summary = "Tile attention into flash-attention loops and fuse RoPE of q";
  let description = [{
    Tiles every `attnflow.attention` over [B, Hq, Sq] with upstream
    tile-and-fuse (`scf.forall` over batch, head and query blocks) through its
    TilingInterface. Each tile runs the online-softmax loop over only the
    key/value blocks its mask can see (FlashAttention, Dao et al. 2022,
    Algorithm 1, with the band of a causal / sliding-window mask): blocks
    above the causal diagonal or outside the window are never visited, and
    sink blocks once. An `attnflow.rope` producing q is fused into the tile,
    so no rotated copy of q is materialized; k is rotated once, outside.

    Peak memory is O(tiles): a tile holds [query-tile, 64] scores.
  }];
  let options = [
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "query rows per tile">,
    Option<"headTile", "head-tile", "int64_t", /*default=*/"0",
           "query heads per tile: 1 or a multiple of Hq / Hkv dividing Hq; "
           "0 = one GQA group when Sq <= 16 (decode: the group shares its "
           "key reads), else 1">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ChunkLinearAttentionPass : Pass<"attnflow-chunk-linear-attention"> {
  let summary = "Linear-time lowering of linear_attention and vq_attention";
  let description = [{
    Rewrites every `attnflow.linear_attention` and `attnflow.vq_attention`
    into linalg ops on tensors whose cost is linear in the sequence length
    (DESIGN.md §3), inside an `scf.forall` over (batch, kv head): each kv
    head's key-side state is computed once and serves its Hq / Hkv query
    heads (GQA), and the CPU pipeline runs the heads in parallel (OpenMP).
    f16 / bf16 are computed in f32, f64 in f64. The dense products (feature
    logits, intra-chunk kernels, state reads and updates, VQ scores and
    weighted sums), row sums and exps are register-tiled vector kernels on
    tensors (VectorKernels.h: 8 rows x 2 vectors of `vector-width` f32
    lanes of FMAs, as convert-attnflow-to-vector's); the rest is linalg.

    linear_attention:
      - non-causal: key features phi(K) [Skv, M] per kv head, S = phi(K)^T V
        [M, Dv] and z = phi(K)^T 1 [M], and o = phi(Q) S / (phi(Q) z + eps);
      - causal: an `scf.for` over chunks of `chunk-size` rows carrying S and
        z (the prefix sums of the chunks before); a chunk adds the masked
        (j <= i, diagonal included) intra-chunk kernel phi(Q_c) phi(K_c)^T,
        times V_c, to phi(Q_c) S. A final static chunk takes S % chunk-size
        rows. Key features are computed per chunk (favor_plus: after one
        pass over the keys for their max logit), so no [S, M] or [S, S]
        tensor is written and the working set stays chunk-sized. Cost
        O(S M (D + Dv) + S L (M + Dv)) per head.
      favor_plus is stabilized with shifts that cancel in the ratio: the
      query logits of row i lose their max A_i, the key logits one constant
      B per (batch, kv head) (their max over all keys and features), and eps
      becomes eps exp(-(A_i + B)), as the reference decomposition does. A
      row whose every shifted term underflows (keys far below B; possible
      for causal rows whose visible keys are all much smaller than the
      head's largest) outputs 0 rather than 0 / 0.

    vq_attention: k is quantized per kv head with the arithmetic of the
    vector_quantize reference (squared differences summed over d, first
    minimum; here with the codes innermost, so the loop vectorizes), keys are
    summarized per code by their count n_c and value sum V_c (a scatter
    loop), and scores s_ic = scale q_i . c_c are computed against the
    codebook only:
      - non-causal: o_i = sum_c w_ic V_c / n_c / sum_c w_ic with
        w_ic = exp(s_ic + ln n_c - m_i), m_i = max_c (s_ic + ln n_c);
      - causal (q_offset = Skv - Sq): an `scf.for` over blocks of L query
        rows (L = the op's block_len, else `vq-block`); the rows at positions
        [p0, p0 + L) see the aggregates of keys [0, p0) (carried by the loop)
        and the exact scores s_{i, code(j)} of keys p0 <= j <= p, all under
        one max; rows with p < 0 output 0. Cost O(S C (D + Dv) + S L Dv)
        per head.

    Not part of the GPU pipeline, whose host code must stay straight-line
    (it decomposes these ops with convert-attnflow-to-linalg, the oracle).
    Ops with an empty dimension are left to that reference decomposition.
  }];
  let options = [
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"64",
           "rows per chunk of causal linear_attention (>= 1)">,
    Option<"vqBlock", "vq-block", "int64_t", /*default=*/"64",
           "rows per block of causal vq_attention when the op has no "
           "block_len (>= 1)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector register of the product, reduction and "
           "exp kernels (>= 1; the CPU pipeline passes the host's)">
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

def LowerRnnSolvePass : Pass<"attnflow-lower-rnn-solve"> {
  let summary = "DEER Newton / quasi-Newton lowering of rnn_solve";
  let description = [{
    Rewrites every `attnflow.rnn_solve` with method `newton` or
    `quasi_newton` (DESIGN.md §3; Lim et al. 2024, eq. 5-7; Gonzalez et al.
    2024) into an `scf.while` over Newton updates carrying the iterate
    h^(k) [B, T, N] (h^(0)_t = h0 for all t), the update count and the last
    change. An update
    1. shifts the iterate to h_{t-1} (h_{-1} = h0),
    2. evaluates the cell and A_t = df/dh at every (b, t) in an scf.forall
       over B x T (the cell cloned into its body; the Jacobian from the
       `jacobian` region, else derived by forward-mode differentiation,
       ForwardModeJacobian.h; quasi_newton keeps the diagonal),
    3. forms b_t = f_t - A_t h_{t-1} and solves h_t = A_t h_{t-1} + b_t with
       `attnflow.linear_recurrence` from h0 (dense for newton, diagonal for
       quasi_newton),
    4. measures max |h^(k+1) - h^(k)| (in f32 for f16 / bf16).
    The loop runs while fewer than `max_iterations` updates were made and
    the last change is not within `tolerance` (a NaN change is not); iters is
    the number of updates. A cell the derivation cannot differentiate is
    diagnosed at the offending op. `sequential` solves are left to the
    reference decomposition, except with `gpu=true`.
    With `gpu=true` (the GPU pipeline, where only kernels touch buffers) the
    loop keeps host code free of buffer accesses:
    each update overwrites the iterate in place (linalg.copy into the
    iter_arg, so bufferization keeps one buffer), the change is reduced in
    three stages that each keep a parallel dimension (into [B, T], [B], [1];
    the host reads back the one element, attnflow-gpu-host-memory) and
    iters is written by a one-element linalg.generic. `sequential` solves
    are lowered too: a host scf.for over t whose step is an scf.forall over
    B (one kernel) reading h_{t-1} from, and writing h_t into, the states in
    place.
  }];
  let options = [
    Option<"gpu", "gpu", "bool", /*default=*/"false",
           "emit the GPU form (in-place iterate, device-side reductions and "
           "iters)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def TestDeriveJacobianPass : Pass<"attnflow-test-derive-jacobian", "ModuleOp"> {
  let summary = "Derive the Jacobian of cell functions (forward mode; tests)";
  let description = [{
    For every `func.func @f(%h: tensor<N>, %u_t, %params...) -> tensor<N>`
    carrying the unit attribute `attnflow.derive_jacobian`, adds
    `@f_jacobian` with the same arguments returning (f(h, ...), dF/dh): the
    tensor<NxN> Jacobian J[i][j] = dF_i / dh_j, or with `diagonal` its
    diagonal tensor<N>. The derivation is the one attnflow.rnn_solve uses
    for cells without a `jacobian` region (vector-mode forward
    differentiation seeded with the identity, ForwardModeJacobian.h, which
    lists the supported ops); an op it cannot differentiate is diagnosed
    and the pass fails.
  }];
  let options = [
    Option<"diagonal", "diagonal", "bool", /*default=*/"false",
           "return only the diagonal of dF/dh (tensor<N>)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ChunkLinearRecurrencePass : Pass<"attnflow-chunk-linear-recurrence"> {
  let summary = "Chunked parallel scan of linear_recurrence (CPU)";
  let description = [{
    Rewrites `attnflow.linear_recurrence` into a reduce-then-scan over chunks
    of `chunk-size` steps (Blelloch 1990, §1.4; the combine of step pairs is
    (a_j a_i, a_j b_i + b_j)):
    1. every chunk but the last, in an scf.forall over (batch, chunk),
       reduces its steps to one pair (A_c, b_c): the product of its a's and
       its state from a zero start;
    2. the carries into the chunks are the linear_recurrence of those pairs
       from h0 (one step per chunk, so T / chunk-size steps; chunked again
       when that is still long);
    3. every chunk, in an scf.forall over (batch, chunk), reruns its steps
       from its carry and writes the states.
    Steps are vector FMAs over N (blocks of 4 x `vector-width` lanes, a
    static tail); a dense a (N <= 16) is one vector.contract per step (and
    a matrix product per step in 1.). States are carried in f32 for f16 /
    bf16 (f64 for f64) and rounded when written. A sequence no longer than
    one chunk is one scan per batch element. Dense recurrences with N > 16
    are left to the reference decomposition.
  }];
  let options = [
    Option<"chunkSize", "chunk-size", "int64_t", /*default=*/"1024",
           "steps per chunk (>= 1)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector register (>= 1; the CPU pipeline passes "
           "the host's)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def VectorizeMatmulPass : Pass<"attnflow-vectorize-matmul"> {
  let summary = "Static linalg.matmul on tensors as register-tiled FMA kernels";
  let description = [{
    Networks written inside attnflow regions (an ode_solve velocity MLP, an
    rnn_solve cell) are plain `linalg.matmul` ops once the regions are
    inlined, and the generic linalg-to-loops path runs them one scalar at a
    time. This pass rewrites every `linalg.matmul` on tensors with static
    shapes, the default indexing maps (C[m, n] += A[m, k] B[k, n]), float
    operands and an f32 or f64 result into the vector kernel of the
    linear-time attention lowering (VectorKernels.h: register tiles of 8 rows
    x 2 vectors of `vector-width` f32 lanes of FMAs, static edge tiles;
    f16 / bf16 operands widened as they are read). Other matmuls are left
    as they are. Errors: vector-width < 1.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"8",
           "f32 lanes per vector register (>= 1; the CPU pipeline passes "
           "the host's)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_TD
