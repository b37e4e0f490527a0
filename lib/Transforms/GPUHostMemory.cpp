//===- GPUHostMemory.cpp - Device buffers for the host side of CUDA code --===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_GPUHOSTMEMORYPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

/// A host load of the only element of a statically shaped, identity-layout
/// buffer: a scalar the host reads back (e.g. the change that decides
/// whether DEER's Newton loop goes on), worth one small copy.
bool isScalarReadBack(Operation *op) {
  auto load = dyn_cast<memref::LoadOp>(op);
  if (!load)
    return false;
  MemRefType type = load.getMemRefType();
  return type.hasStaticShape() && type.getNumElements() == 1 &&
         type.getLayout().isIdentity();
}

/// Ops that touch buffer contents from the host thread.
bool accessesMemory(Operation *op) {
  return isa<memref::LoadOp, memref::StoreOp, affine::AffineLoadOp,
             affine::AffineStoreOp, vector::TransferReadOp,
             vector::TransferWriteOp, vector::LoadOp, vector::StoreOp,
             vector::MaskedLoadOp, vector::MaskedStoreOp, linalg::LinalgOp>(op);
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

    // Allocations in a kernel are per-thread scratch (an scf.forall's body
    // run by each thread): stack buffers at the start of the kernel, since
    // kernels cannot call the host allocator. Inside a loop of the kernel
    // one buffer may be live across iterations, so that is not done there.
    for (gpu::LaunchOp launch : launches) {
      SmallVector<memref::AllocOp> allocs;
      launch.getBody().walk(
          [&](memref::AllocOp alloc) { allocs.push_back(alloc); });
      for (memref::AllocOp alloc : allocs) {
        bool inLoop = false;
        for (Operation *parent = alloc->getParentOp(); parent != launch;
             parent = parent->getParentOp())
          inLoop |= isa<LoopLikeOpInterface>(parent);
        if (inLoop) {
          alloc.emitError() << "allocation inside a loop of a kernel: its "
                               "buffer may live across iterations, so it "
                               "cannot become one per-thread stack buffer";
          return signalPassFailure();
        }
        if (!alloc.getType().hasStaticShape()) {
          alloc.emitError() << "allocation of a dynamic shape inside a "
                               "kernel: per-thread scratch must be statically "
                               "shaped";
          return signalPassFailure();
        }
        rewriter.setInsertionPointToStart(&launch.getBody().front());
        rewriter.replaceOpWithNewOp<memref::AllocaOp>(alloc, alloc.getType(),
                                                      alloc.getAlignmentAttr());
      }
      launch.getBody().walk(
          [&](memref::DeallocOp dealloc) { rewriter.eraseOp(dealloc); });
    }

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
        rewriter.replaceUsesWithIf(
            global, copy->getResult(0), [&](OpOperand &use) {
              return launch->isProperAncestor(use.getOwner());
            });
      }
    }

    for (Operation *op : hostOps) {
      Location loc = op->getLoc();
      if (isScalarReadBack(op)) {
        readBack(rewriter, cast<memref::LoadOp>(op));
        continue;
      }
      if (accessesMemory(op)) {
        op->emitError() << "'" << op->getName()
                        << "' accesses a buffer from host code, but on the "
                           "GPU path buffers live in device memory; only "
                           "kernels may read or write them (ops without a "
                           "parallel dimension, such as rank-0 results and "
                           "full reductions, are not mapped to kernels yet)";
        return signalPassFailure();
      }
      auto isUnranked = [](Type type) { return isa<UnrankedMemRefType>(type); };
      if (llvm::any_of(op->getOperandTypes(), isUnranked) ||
          llvm::any_of(op->getResultTypes(), isUnranked)) {
        op->emitError() << "'" << op->getName()
                        << "' passes an unranked buffer in host code; the GPU "
                           "pipeline tracks the ownership of ranked buffers "
                           "only";
        return signalPassFailure();
      }
      if (auto call = dyn_cast<func::CallOp>(op)) {
        auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
            call, call.getCalleeAttr());
        auto isBuffer = [](Type type) { return isa<MemRefType>(type); };
        if (callee && callee.isExternal() &&
            (llvm::any_of(call.getOperandTypes(), isBuffer) ||
             llvm::any_of(call.getResultTypes(), isBuffer))) {
          op->emitError() << "calls the external function '" << call.getCallee()
                          << "' with buffers, but on the GPU path buffers "
                             "live in device memory";
          return signalPassFailure();
        }
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
        if (failed(
                createCopy(rewriter, copy, copy.getSource(), copy.getTarget())))
          return signalPassFailure();
        rewriter.eraseOp(op);
      }
    }
    if (failed(freeAndReturnFresh(rewriter)))
      signalPassFailure();
  }

  /// Redirects `load` to a host buffer (a stack slot of the function, so a
  /// loop does not grow the stack) that a gpu.memcpy fills right before it.
  /// gpu-async-region puts the host wait for the copy in front of the load.
  void readBack(RewriterBase &rewriter, memref::LoadOp load) {
    MemRefType type = load.getMemRefType();
    rewriter.setInsertionPointToStart(&getOperation().getBody().front());
    Value host = memref::AllocaOp::create(
        rewriter, load.getLoc(),
        MemRefType::get(type.getShape(), type.getElementType()));
    rewriter.setInsertionPoint(load);
    gpu::MemcpyOp::create(rewriter, load.getLoc(), /*asyncToken=*/Type(),
                          ValueRange{}, host, load.getMemRef());
    rewriter.modifyOpInPlace(load,
                             [&] { load.getMemrefMutable().assign(host); });
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
  /// effects), so host buffers are freed here. The host code is straight
  /// line; the function owns its allocations and the results of the calls it
  /// makes (every function returns fresh buffers). Every result is made a
  /// buffer the caller owns (a returned argument, global, view or buffer
  /// returned twice is copied into a fresh one), and every other owned
  /// buffer is freed before the return (unless the host code frees it).
  LogicalResult freeAndReturnFresh(RewriterBase &rewriter) {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return success();
    if (!func.getBody().hasOneBlock())
      return func.emitError() << "host code with control flow between blocks "
                                 "is not supported by the GPU pipeline";
    Block &body = func.getBody().front();
    SmallVector<Value> owned;
    for (Operation &op : body) {
      if (auto alloc = dyn_cast<gpu::AllocOp>(op))
        owned.push_back(alloc.getMemref());
      else if (isa<func::CallOp>(op))
        for (Value result : op.getResults())
          if (isa<MemRefType>(result.getType()))
            owned.push_back(result);
    }
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    llvm::SmallPtrSet<Value, 8> returned;
    rewriter.setInsertionPoint(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type)
        continue;
      if (llvm::is_contained(owned, operand.get()) &&
          returned.insert(operand.get()).second)
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
      returned.insert(fresh.getMemref());
    }
    auto freed = [](Value buffer) {
      return llvm::any_of(buffer.getUsers(), [](Operation *user) {
        return isa<gpu::DeallocOp>(user);
      });
    };
    for (Value buffer : owned)
      if (!returned.contains(buffer) && !freed(buffer))
        gpu::DeallocOp::create(rewriter, ret.getLoc(), /*asyncToken=*/Type(),
                               ValueRange{}, buffer);
    return success();
  }
};

} // namespace
