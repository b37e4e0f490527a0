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

#endif // ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_TD
