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
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

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
      // Loop-carried reductions would need a cross-block combine; linalg
      // lowers its reductions to sequential loops inside the parallel ones.
      if (loop.getNumReductions() != 0) {
        loop.emitError() << "attnflow-gpu-map-parallel-loops does not map an "
                            "scf.parallel with reductions (init values) to "
                            "the GPU";
        return signalPassFailure();
      }
      // CUDA grids hold at most 2^31 - 1 blocks in x.
      std::optional<int64_t> iterations = 1;
      for (auto [lb, ub, step] : llvm::zip(
               loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
        std::optional<int64_t> l = getConstantIntValue(lb),
                               u = getConstantIntValue(ub),
                               st = getConstantIntValue(step);
        if (!iterations || !l || !u || !st || *st <= 0) {
          iterations = std::nullopt;
          break;
        }
        int64_t trips = *u > *l ? llvm::divideCeil(*u - *l, *st) : 0;
        if (trips != 0 &&
            *iterations > std::numeric_limits<int64_t>::max() / trips) {
          iterations = std::numeric_limits<int64_t>::max();
          break;
        }
        *iterations *= trips;
      }
      constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1;
      if (iterations &&
          llvm::divideCeil(*iterations, int64_t(blockSize)) > kMaxGridX) {
        loop.emitError() << "parallel loop of " << *iterations
                         << " iterations needs more than " << kMaxGridX
                         << " blocks of " << static_cast<int64_t>(blockSize)
                         << " threads (CUDA's grid x limit)";
        return signalPassFailure();
      }
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
      // Nested loops (an scf.forall body's linalg ops) become scf.for:
      // convert-parallel-loops-to-gpu rejects mapped loops under the tail
      // guard's scf.if. Innermost first, so each loop's body is final.
      SmallVector<scf::ParallelOp> nested;
      elements.walk([&](scf::ParallelOp loop) {
        if (loop != elements)
          nested.push_back(loop);
      });
      for (scf::ParallelOp loop : nested) {
        rewriter.setInsertionPoint(loop);
        if (failed(scf::parallelForToNestedFors(rewriter, loop))) {
          loop.emitError() << "attnflow-gpu-map-parallel-loops cannot run "
                              "this nested scf.parallel sequentially";
          return signalPassFailure();
        }
      }
    }
  }
};

} // namespace
