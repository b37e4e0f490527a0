//===- GPUHostMemory.cpp - Device buffers for the host side of CUDA code --===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_GPUHOSTMEMORYPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

/// Ops that touch buffer contents from the host thread.
bool accessesMemory(Operation *op) {
  return isa<memref::LoadOp, memref::StoreOp, affine::AffineLoadOp,
             affine::AffineStoreOp, vector::TransferReadOp,
             vector::TransferWriteOp, vector::LoadOp, vector::StoreOp,
             vector::MaskedLoadOp, vector::MaskedStoreOp, linalg::LinalgOp>(
      op);
}

struct GPUHostMemoryPass
    : mlir::attnflow::impl::GPUHostMemoryPassBase<GPUHostMemoryPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> hostOps;
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (auto launch = dyn_cast<gpu::LaunchOp>(op)) {
        launches.push_back(launch);
        return WalkResult::skip();
      }
      hostOps.push_back(op);
      return WalkResult::advance();
    });

    // Globals read by a kernel move into it; outlining copies the global.
    for (gpu::LaunchOp launch : launches) {
      llvm::SetVector<Value> captured;
      launch.getBody().walk([&](Operation *op) {
        for (Value operand : op->getOperands())
          if (operand.getDefiningOp<memref::GetGlobalOp>() &&
              !launch->isAncestor(operand.getDefiningOp()))
            captured.insert(operand);
      });
      rewriter.setInsertionPointToStart(&launch.getBody().front());
      for (Value global : captured) {
        Operation *copy = rewriter.clone(*global.getDefiningOp());
        rewriter.replaceUsesWithIf(global, copy->getResult(0),
                                   [&](OpOperand &use) {
                                     return launch->isProperAncestor(
                                         use.getOwner());
                                   });
      }
    }

    for (Operation *op : hostOps) {
      Location loc = op->getLoc();
      if (accessesMemory(op)) {
        op->emitError() << "'" << op->getName()
                        << "' accesses a buffer from host code, but on the "
                           "GPU path buffers live in device memory; only "
                           "kernels may read or write them";
        return signalPassFailure();
      }
      if (isa<memref::AllocaOp>(op)) {
        op->emitError() << "'memref.alloca' in host code: a host stack "
                           "buffer is not visible to kernels";
        return signalPassFailure();
      }
      rewriter.setInsertionPoint(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (alloc->getParentRegion() != &getOperation().getBody()) {
          op->emitError() << "allocation inside host control flow: the GPU "
                             "pipeline frees host-side buffers at the end of "
                             "the function and supports straight-line host "
                             "code only";
          return signalPassFailure();
        }
        MemRefType type = alloc.getType();
        auto device = gpu::AllocOp::create(
            rewriter, loc, type, /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange{}, alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        rewriter.replaceOp(op, device.getMemref());
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(rewriter, loc, /*asyncToken=*/Type(),
                               ValueRange{}, dealloc.getMemref());
        rewriter.eraseOp(op);
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        if (failed(createCopy(rewriter, copy, copy.getSource(),
                              copy.getTarget())))
          return signalPassFailure();
        rewriter.eraseOp(op);
      }
    }
    if (failed(freeAndReturnFresh(rewriter)))
      signalPassFailure();
  }

  LogicalResult createCopy(RewriterBase &rewriter, Operation *at, Value source,
                           Value target) {
    auto sourceType = dyn_cast<MemRefType>(source.getType());
    auto targetType = dyn_cast<MemRefType>(target.getType());
    if (!sourceType || !targetType || !sourceType.getLayout().isIdentity() ||
        !targetType.getLayout().isIdentity())
      return at->emitError() << "copies between non-identity layouts need a "
                                "kernel: run attnflow-expand-strided-copies "
                                "first";
    gpu::MemcpyOp::create(rewriter, at->getLoc(), /*asyncToken=*/Type(),
                          ValueRange{}, target, source);
    return success();
  }

  /// Bufferization's ownership-based deallocation cannot analyse functions
  /// that launch kernels (gpu.launch and gpu.barrier have no declared memory
  /// effects), so host buffers are freed here: the host code is straight
  /// line, every result is made a fresh allocation the caller owns (a
  /// returned argument or global is copied; a buffer returned twice is
  /// copied for its second use), and every other allocation is freed before
  /// the return (unless the host code frees it itself).
  LogicalResult freeAndReturnFresh(RewriterBase &rewriter) {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return success();
    if (!func.getBody().hasOneBlock())
      return func.emitError() << "host code with control flow between blocks "
                                 "is not supported by the GPU pipeline";
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    auto rootOf = [](Value value) {
      while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
        value = view.getViewSource();
      return value;
    };
    llvm::SmallPtrSet<Operation *, 8> returned;
    rewriter.setInsertionPoint(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type)
        continue;
      Operation *root = rootOf(operand.get()).getDefiningOp();
      auto alloc = dyn_cast_or_null<gpu::AllocOp>(root);
      if (alloc && alloc.getMemref() == operand.get() &&
          returned.insert(alloc).second)
        continue;
      if (!type.getLayout().isIdentity() || !type.hasStaticShape())
        return ret.emitError() << "result #" << operand.getOperandNumber()
                               << " is a view of type " << type
                               << "; GPU entry points return contiguous, "
                                  "statically shaped buffers";
      auto fresh = gpu::AllocOp::create(
          rewriter, ret.getLoc(), type, /*asyncToken=*/Type(), ValueRange{},
          ValueRange{}, ValueRange{}, /*hostShared=*/false);
      if (failed(createCopy(rewriter, ret, operand.get(), fresh.getMemref())))
        return failure();
      operand.set(fresh.getMemref());
      returned.insert(fresh);
    }
    SmallVector<gpu::AllocOp> allocs(func.getBody().front().getOps<gpu::AllocOp>());
    auto freed = [](gpu::AllocOp alloc) {
      return llvm::any_of(alloc.getMemref().getUsers(), [](Operation *user) {
        return isa<gpu::DeallocOp>(user);
      });
    };
    for (gpu::AllocOp alloc : allocs)
      if (!returned.contains(alloc) && !freed(alloc))
        gpu::DeallocOp::create(rewriter, ret.getLoc(), /*asyncToken=*/Type(),
                               ValueRange{}, alloc.getMemref());
    return success();
  }
};

} // namespace
