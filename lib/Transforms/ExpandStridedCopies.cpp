//===- ExpandStridedCopies.cpp - memref.copy without memrefCopy -----------===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_EXPANDSTRIDEDCOPIESPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {
struct ExpandStridedCopiesPass
    : mlir::attnflow::impl::ExpandStridedCopiesPassBase<
          ExpandStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      // Unranked copies stay: linalg.generic cannot index them.
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (source && target &&
          (!source.getLayout().isIdentity() ||
           !target.getLayout().isIdentity()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      linalg::makeMemRefCopyOp(builder, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
