//===- AttentionUtils.cpp - Building blocks of attention lowerings --------===//

#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace mlir::attnflow;

FloatType mlir::attnflow::getAccumulatorType(Type elementType) {
  if (elementType.isF64())
    return cast<FloatType>(elementType);
  return Float32Type::get(elementType.getContext());
}

static Value filled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                    FloatType type, double value) {
  Value empty = tensor::EmptyOp::create(b, loc, sizes, type);
  Value fill = arith::ConstantOp::create(b, loc, b.getFloatAttr(type, value));
  return linalg::FillOp::create(b, loc, ValueRange{fill}, ValueRange{empty})
      .getResult(0);
}

OnlineSoftmaxState mlir::attnflow::createOnlineSoftmaxInit(
    OpBuilder &b, Location loc, ArrayRef<OpFoldResult> rows,
    OpFoldResult headDimV, FloatType accType) {
  SmallVector<OpFoldResult> accSizes(rows);
  accSizes.push_back(headDimV);
  return {filled(b, loc, accSizes, accType, 0.0),
          filled(b, loc, rows, accType,
                 -std::numeric_limits<double>::infinity()),
          filled(b, loc, rows, accType, 0.0)};
}

OnlineSoftmaxState mlir::attnflow::createOnlineAttention(
    OpBuilder &b, Location loc, AttentionOp attention, Value q, Value k,
    Value v, Value bias, OnlineSoftmaxState state, Value qPosition,
    Value kPosition, Value headOffset, bool masked) {
  // Absent mask attributes take their defaults: not causal, no window, no
  // sinks.
  auto online = OnlineAttentionOp::create(
      b, loc, q, k, v, state.acc, state.max, state.sum, qPosition, kPosition,
      headOffset, bias, b.getF64FloatAttr(attention.getEffectiveScale()),
      masked ? attention.getCausalAttr() : BoolAttr(),
      masked ? attention.getWindowLeftAttr() : IntegerAttr(),
      masked ? attention.getWindowRightAttr() : IntegerAttr(),
      masked ? attention.getNumSinkTokensAttr() : IntegerAttr(),
      attention.getLogitSoftcapAttr(), attention.getAlibiSlopesAttr(),
      attention.getLognTrainLenAttr());
  return {online.getResultAcc(), online.getResultMax(),
          online.getResultSum()};
}

Value mlir::attnflow::createOnlineSoftmaxFinalize(OpBuilder &b, Location loc,
                                                  OnlineSoftmaxState state,
                                                  Type elementType) {
  MLIRContext *ctx = b.getContext();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, state.acc);
  Value init = tensor::EmptyOp::create(b, loc, sizes, elementType);
  auto id = AffineMap::getMultiDimIdentityMap(4, ctx);
  auto row = AffineMap::get(4, 0,
                            {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx),
                             getAffineDimExpr(2, ctx)},
                            ctx);
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{state.acc, state.sum},
      ValueRange{init}, ArrayRef<AffineMap>{id, row, id}, parallel,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        // The sum is >= 1 once a row has a visible key, so 0 means none.
        Type accType = args[0].getType();
        Value zero =
            arith::ConstantOp::create(nb, nloc, nb.getFloatAttr(accType, 0.0));
        Value empty = arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OEQ,
                                            args[1], zero);
        Value ratio = arith::DivFOp::create(nb, nloc, args[0], args[1]);
        Value value = arith::SelectOp::create(nb, nloc, empty, zero, ratio);
        if (value.getType() != elementType)
          value = arith::TruncFOp::create(nb, nloc, elementType, value);
        linalg::YieldOp::create(nb, nloc, value);
      });
  return generic.getResult(0);
}
