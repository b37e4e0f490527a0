//===- GPUHoistLoopBuffers.cpp - Host buffers out of host loops -----------===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_GPUHOISTLOOPBUFFERSPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

/// True when no iteration but the allocating one can observe `buffer`: all
/// its uses, through views, are kernels, copies, host loads (a scalar read
/// back, see attnflow-gpu-host-memory), deallocs or views.
bool staysInIteration(Value buffer, SmallVectorImpl<Operation *> &deallocs) {
  for (OpOperand &use : buffer.getUses()) {
    Operation *user = use.getOwner();
    if (user->getParentOfType<gpu::LaunchOp>() ||
        isa<memref::CopyOp, memref::LoadOp>(user))
      continue;
    if (isa<memref::DeallocOp>(user)) {
      deallocs.push_back(user);
      continue;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (view && view.getViewSource() == buffer &&
        llvm::all_of(user->getResults(), [&](Value result) {
          return staysInIteration(result, deallocs);
        }))
      continue;
    return false;
  }
  return true;
}

struct GPUHoistLoopBuffersPass
    : mlir::attnflow::impl::GPUHoistLoopBuffersPassBase<
          GPUHoistLoopBuffersPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        allocs.push_back(alloc);
      return WalkResult::advance();
    });
    for (memref::AllocOp alloc : allocs) {
      Operation *outermost = nullptr;
      for (Operation *parent = alloc->getParentOp();
           parent != getOperation().getOperation();
           parent = parent->getParentOp())
        if (isa<LoopLikeOpInterface>(parent))
          outermost = parent;
      SmallVector<Operation *> deallocs;
      if (!outermost || !alloc->getOperands().empty() ||
          !staysInIteration(alloc.getMemref(), deallocs))
        continue;
      alloc->moveBefore(outermost);
      for (Operation *dealloc : deallocs)
        dealloc->erase();
    }
  }
};

} // namespace
