//===- CPUEntryABI.cpp - C interface, read-only tensor arguments ----------===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_CPUENTRYABIPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {
struct CPUEntryABIPass
    : mlir::attnflow::impl::CPUEntryABIPassBase<CPUEntryABIPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(ctx));
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type) && !func.getArgAttr(i, writable))
          func.setArgAttr(i, writable, BoolAttr::get(ctx, false));
    }
  }
};
} // namespace
