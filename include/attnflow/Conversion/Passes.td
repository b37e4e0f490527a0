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
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
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

#endif // ATTNFLOW_CONVERSION_PASSES_TD
