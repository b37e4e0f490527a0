//===- RegionUtils.cpp - Helpers for attnflow region ops ------------------===//

#include "attnflow/Dialect/AttnFlow/IR/RegionUtils.h"

#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::attnflow;

FailureOr<YieldOp>
mlir::attnflow::verifyRegionSignature(Operation *op, Region &region,
                                      StringRef regionName, TypeRange argTypes,
                                      ArrayRef<std::string> argNames) {
  if (!llvm::hasSingleElement(region))
    return op->emitOpError()
           << "expects the '" << regionName
           << "' region to have one block, got " << llvm::range_size(region);
  Block &block = region.front();
  if (block.getNumArguments() != argTypes.size())
    return op->emitOpError()
           << "expects the '" << regionName << "' region to have "
           << argTypes.size() << " arguments, got " << block.getNumArguments();
  for (auto [i, arg, expected] :
       llvm::enumerate(block.getArguments(), argTypes)) {
    if (arg.getType() == expected)
      continue;
    InFlightDiagnostic diag = op->emitOpError() << "expects '" << regionName
                                                << "' argument #" << i;
    if (i < argNames.size())
      diag << " (" << argNames[i] << ")";
    return diag << " to be " << expected << ", got " << arg.getType();
  }
  auto yield =
      dyn_cast_if_present<YieldOp>(block.empty() ? nullptr : &block.back());
  if (!yield)
    return op->emitOpError()
           << "expects the '" << regionName
           << "' region to end in attnflow.yield, got "
           << (block.empty() ? StringRef("an empty block")
                             : block.back().getName().getStringRef());
  return yield;
}

FailureOr<unsigned> mlir::attnflow::verifyYieldsOneOf(Operation *op,
                                                      YieldOp yield,
                                                      StringRef regionName,
                                                      TypeRange allowed,
                                                      StringRef what) {
  if (yield.getValues().size() != 1)
    return op->emitOpError()
           << "expects the '" << regionName << "' region to yield one value ("
           << what << "), got " << yield.getValues().size();
  Type actual = yield.getValues().front().getType();
  for (auto [i, type] : llvm::enumerate(allowed))
    if (type == actual)
      return static_cast<unsigned>(i);
  InFlightDiagnostic diag = op->emitOpError()
                            << "expects the '" << regionName
                            << "' region to yield " << what << " of type ";
  llvm::interleave(
      allowed, [&](Type type) { diag << type; }, [&] { diag << " or "; });
  return diag << ", got " << actual;
}

SmallVector<Value> mlir::attnflow::inlineRegionBody(OpBuilder &builder,
                                                    Region &region,
                                                    ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    builder.clone(op, mapping);
  auto yield = cast<YieldOp>(block.getTerminator());
  return llvm::map_to_vector(yield.getValues(), [&](Value value) {
    return mapping.lookupOrDefault(value);
  });
}
