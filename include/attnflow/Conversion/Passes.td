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

#endif // ATTNFLOW_CONVERSION_PASSES_TD
