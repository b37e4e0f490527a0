//===- TestDeriveJacobian.cpp - Jacobians of cell functions (tests) -------===//
//
// Exposes the forward-mode Jacobian derivation rnn_solve uses on plain
// functions, so lit and pytest check it (against finite differences) apart
// from the Newton solve.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/Transforms/ForwardModeJacobian.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_TESTDERIVEJACOBIANPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
constexpr const char *kMarker = "attnflow.derive_jacobian";

struct TestDeriveJacobianPass
    : public mlir::attnflow::impl::TestDeriveJacobianPassBase<
          TestDeriveJacobianPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<func::FuncOp> cells;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(kMarker))
        cells.push_back(func);
    for (func::FuncOp cell : cells)
      if (failed(derive(cell)))
        return signalPassFailure();
  }

  LogicalResult derive(func::FuncOp cell) {
    if (cell.isExternal() || !cell.getBody().hasOneBlock())
      return cell.emitOpError("marked ")
             << kMarker << " must have a body of one block";
    if (cell.getNumResults() != 1)
      return cell.emitOpError("marked ")
             << kMarker << " must return one value (the new state), got "
             << cell.getNumResults();
    OpBuilder builder(cell);
    builder.setInsertionPointAfter(cell);
    Location loc = cell.getLoc();
    // The result types are known once the Jacobian is built: start with the
    // state alone and fix the signature afterwards.
    auto derived =
        func::FuncOp::create(builder, loc, (cell.getName() + "_jacobian").str(),
                             cell.getFunctionType());
    Block *entry = derived.addEntryBlock();
    builder.setInsertionPointToStart(entry);
    FailureOr<CellAndJacobian> result = emitCellAndJacobian(
        builder, loc, cell.getBody().front(), entry->getArguments(),
        diagonal ? JacobianForm::Diagonal : JacobianForm::Dense);
    if (failed(result)) {
      derived.erase();
      return failure();
    }
    func::ReturnOp::create(builder, loc,
                           ValueRange{result->state, result->jacobian});
    derived.setFunctionType(builder.getFunctionType(
        cell.getArgumentTypes(),
        {result->state.getType(), result->jacobian.getType()}));
    return success();
  }
};
} // namespace
