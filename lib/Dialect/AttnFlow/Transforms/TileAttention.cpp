//===- TileAttention.cpp - Tile attention, fuse RoPE of q -----------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"

#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_TILEATTENTIONPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
struct TileAttentionPass
    : mlir::attnflow::impl::TileAttentionPassBase<TileAttentionPass> {
  using TileAttentionPassBase::TileAttentionPassBase;

  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation()->walk([&](AttentionOp op) { attentions.push_back(op); });
    int64_t rows = queryTile;
    if (!attentions.empty() && (rows < 1 || headTile < 0)) {
      attentions.front().emitError()
          << "attnflow-tile-attention expects query-tile >= 1 and "
             "head-tile >= 0, got "
          << rows << " and " << static_cast<int64_t>(headTile);
      return signalPassFailure();
    }

    IRRewriter rewriter(&getContext());
    for (AttentionOp op : attentions) {
      int64_t numHeads = op.getQ().getType().getDimSize(1);
      int64_t group = numHeads / op.getK().getType().getDimSize(1);
      // Few query rows (decode) underfill the kernels' lanes: let a GQA
      // group's heads share each tile and its key reads instead.
      int64_t heads = headTile;
      if (heads == 0)
        heads = op.getQ().getType().getDimSize(2) <= 16 ? group : 1;
      // A head tile must cover whole GQA groups and divide Hq, so that every
      // tile reads whole kv heads and all tiles have one shape.
      if (heads != 1 && (heads % group != 0 || numHeads % heads != 0)) {
        op.emitError() << "attnflow-tile-attention: head-tile = " << heads
                       << " must be 1 or a multiple of Hq / Hkv = " << group
                       << " that divides Hq = " << numHeads;
        return signalPassFailure();
      }
      scf::SCFTilingOptions tiling;
      tiling.setTileSizes({rewriter.getIndexAttr(1),
                           rewriter.getIndexAttr(heads),
                           rewriter.getIndexAttr(rows)});
      tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      // The tiled implementation reports only q's slice as a fusion
      // candidate, so a RoPE producing q is rotated per tile while k's RoPE
      // (read by every query tile) stays outside and runs once.
      scf::SCFTileAndFuseOptions options;
      options.setTilingOptions(tiling);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTileAndFuseResult> tiled =
          scf::tileConsumerAndFuseProducersUsingSCF(
              rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        return signalPassFailure();
      rewriter.replaceOp(op, tiled->replacements.lookup(op.getOutput()));
    }
  }
};
} // namespace
