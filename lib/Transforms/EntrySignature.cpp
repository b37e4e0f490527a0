//===- EntrySignature.cpp - Tensor signatures of entry points as strings --===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_ENTRYSIGNATUREPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

/// Appends `type` in the signature syntax; fails for anything the hosts
/// reading it cannot bind.
LogicalResult printTensorType(Type type, llvm::raw_ostream &os) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return failure();
  Type element = tensor.getElementType();
  if (!(element.isF64() || element.isF32() || element.isF16() ||
        element.isBF16() || element.isSignlessInteger(64) ||
        element.isSignlessInteger(32) || element.isSignlessInteger(1)))
    return failure();
  for (int64_t size : tensor.getShape())
    os << size << 'x';
  os << element;
  return success();
}

struct EntrySignaturePass
    : mlir::attnflow::impl::EntrySignaturePassBase<EntrySignaturePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getBodyRegion());
    builder.setInsertionPointToEnd(module.getBody());
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isExternal() || !func.isPublic())
        continue;
      std::string signature;
      llvm::raw_string_ostream os(signature);
      auto printAll = [&](TypeRange types, StringRef what) -> LogicalResult {
        for (auto [i, type] : llvm::enumerate(types)) {
          if (i)
            os << ',';
          if (failed(printTensorType(type, os)))
            return func.emitError()
                   << "entry point " << what << " #" << i << " has type "
                   << type
                   << "; a host-callable entry takes and returns statically "
                      "shaped tensors of f64, f32, f16, bf16, i64, i32 or i1";
        }
        return success();
      };
      if (failed(printAll(func.getArgumentTypes(), "argument")))
        return signalPassFailure();
      os << "->";
      if (failed(printAll(func.getResultTypes(), "result")))
        return signalPassFailure();
      signature.push_back('\0');
      auto type = LLVM::LLVMArrayType::get(IntegerType::get(&getContext(), 8),
                                           signature.size());
      LLVM::GlobalOp::create(builder, func.getLoc(), type, /*isConstant=*/true,
                             LLVM::Linkage::External,
                             ("_attnflow_signature_" + func.getName()).str(),
                             builder.getStringAttr(signature));
    }
  }
};

} // namespace
