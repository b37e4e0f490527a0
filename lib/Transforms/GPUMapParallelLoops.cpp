//===- GPUMapParallelLoops.cpp - Host parallel loops onto a full grid -----===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_GPUMAPPARALLELLOOPSPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

void mapLoop(scf::ParallelOp loop, gpu::Processor processor) {
  MLIRContext *ctx = loop.getContext();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, ctx);
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
  for (unsigned i = 0, e = loop.getNumLoops(); i < e; ++i)
    mapping.push_back(gpu::ParallelLoopDimMappingAttr::get(
        ctx, i == 0 ? processor : gpu::Processor::Sequential, identity,
        identity));
  (void)gpu::setMappingAttr(loop, mapping);
}

struct GPUMapParallelLoopsPass
    : mlir::attnflow::impl::GPUMapParallelLoopsPassBase<
          GPUMapParallelLoopsPass> {
  using GPUMapParallelLoopsPassBase::GPUMapParallelLoopsPassBase;

  void runOnOperation() override {
    if (blockSize < 1 || blockSize > 1024) {
      getOperation().emitError()
          << "attnflow-gpu-map-parallel-loops expects 1 <= block-size <= "
             "1024, got "
          << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        outermost.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermost) {
      if (loop.getNumLoops() > 1) {
        // collapseParallelLoops replaces the loop in place.
        Block *block = loop->getBlock();
        Operation *before = loop->getPrevNode();
        std::vector<unsigned> all(loop.getNumLoops());
        std::iota(all.begin(), all.end(), 0u);
        collapseParallelLoops(rewriter, loop, {all});
        Operation *next = before ? before->getNextNode() : &block->front();
        while (!isa<scf::ParallelOp>(next))
          next = next->getNextNode();
        loop = cast<scf::ParallelOp>(next);
      }
      auto [tiles, elements] =
          scf::tileParallelLoop(loop, {blockSize}, /*noMinMaxBounds=*/true);
      mapLoop(tiles, gpu::Processor::BlockX);
      mapLoop(elements, gpu::Processor::ThreadX);
      elements.walk([&](scf::ParallelOp nested) {
        if (nested != elements)
          mapLoop(nested, gpu::Processor::Sequential);
      });
    }
  }
};

} // namespace
