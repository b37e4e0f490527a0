//===- ValueBoundsOpInterfaceImpl.cpp - Shape bounds of attnflow ops ------===//
//
// Results of rope and online_attention have the shapes of an operand, so the
// value bounds analysis sees through them: a tile's static upper bound
// (affine.min of the tile size) reaches the vector lowering of the ops that
// consume it.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

using namespace mlir;
using namespace mlir::attnflow;

void RopeOp::populateBoundsForShapedValueDim(Value value, int64_t dim,
                                             ValueBoundsConstraintSet &cstr) {
  cstr.bound(value)[dim] == cstr.getExpr(getX(), dim);
}

void OnlineAttentionOp::populateBoundsForShapedValueDim(
    Value value, int64_t dim, ValueBoundsConstraintSet &cstr) {
  Value operand = value == getResultAcc()   ? getAcc()
                  : value == getResultMax() ? getMax()
                                            : getSum();
  cstr.bound(value)[dim] == cstr.getExpr(operand, dim);
}
