//===- RegionUtils.h - Helpers for attnflow region ops ----------*- C++ -*-===//
//
// What the region-carrying ops (rnn_solve, ode_solve, ode_step) share: a
// verifier of a region's block arguments and `attnflow.yield`, and the
// inlining of a region into a loop body with its arguments mapped to values.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONUTILS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONUTILS_H

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attnflow {

/// Verifies that `region` (called `regionName` in messages) of `op` has one
/// block whose arguments have `argTypes` (argument i described as
/// `argNames[i]` when given, e.g. "h") and that it ends in `attnflow.yield`;
/// returns that yield. Errors name the region, the argument, the expected and
/// the actual type.
FailureOr<YieldOp> verifyRegionSignature(Operation *op, Region &region,
                                         StringRef regionName,
                                         TypeRange argTypes,
                                         ArrayRef<std::string> argNames);

/// Verifies that `yield` of region `regionName` returns one value whose type
/// is one of `allowed` (described as `what`, e.g. "h_t"); returns the index of
/// the matching type in `allowed`.
FailureOr<unsigned> verifyYieldsOneOf(Operation *op, YieldOp yield,
                                      StringRef regionName, TypeRange allowed,
                                      StringRef what);

/// Clones the single block of `region` at `builder`'s insertion point with
/// its arguments replaced by `args` (same count and types) and returns the
/// values its `attnflow.yield` returns, mapped to the clones.
SmallVector<Value> inlineRegionBody(OpBuilder &builder, Region &region,
                                    ValueRange args);

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONUTILS_H
