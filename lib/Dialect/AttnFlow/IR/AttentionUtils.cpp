//===- AttentionUtils.cpp - Building blocks of attention lowerings --------===//

#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
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
      masked ? b.getI64IntegerAttr(attention.getEffectiveWindowLeft())
             : IntegerAttr(),
      masked ? b.getI64IntegerAttr(attention.getEffectiveWindowRight())
             : IntegerAttr(),
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

/// A constant of `type` (a scalar, or splat over a vector type).
static Value constantLike(OpBuilder &b, Location loc, Type type,
                          double value) {
  Type element = getElementTypeOrSelf(type);
  TypedAttr scalar = isa<FloatType>(element)
                         ? TypedAttr(b.getFloatAttr(element, value))
                         : TypedAttr(b.getIntegerAttr(
                               element, static_cast<int64_t>(value)));
  if (auto vectorType = dyn_cast<VectorType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vectorType, scalar));
  return arith::ConstantOp::create(b, loc, scalar);
}

/// `value` broadcast to `type` when `type` is a vector and `value` is not.
static Value broadcastTo(OpBuilder &b, Location loc, Value value, Type type) {
  auto vectorType = dyn_cast<VectorType>(type);
  if (!vectorType || isa<VectorType>(value.getType()))
    return value;
  return vector::BroadcastOp::create(
      b, loc, VectorType::get(vectorType.getShape(), value.getType()), value);
}

Value mlir::attnflow::buildLognFactor(OpBuilder &b, Location loc,
                                      int64_t lognLen, Value p,
                                      Type floatType) {
  Value one = constantLike(b, loc, floatType, 1.0);
  Value p1 = arith::AddIOp::create(b, loc, p,
                                   constantLike(b, loc, p.getType(), 1));
  Value ratio = arith::DivFOp::create(
      b, loc,
      math::LogOp::create(b, loc,
                          arith::SIToFPOp::create(b, loc, floatType, p1)),
      constantLike(b, loc, floatType,
                   std::log(static_cast<double>(lognLen))));
  Value positive =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, p1,
                            constantLike(b, loc, p.getType(), 1));
  return arith::SelectOp::create(
      b, loc, positive, arith::MaximumFOp::create(b, loc, ratio, one), one);
}

AttentionScoreAttrs AttentionScoreAttrs::get(AttentionOp op) {
  return {op.getEffectiveScale(),
          op.getCausal(),
          op.getEffectiveWindowLeft(),
          op.getEffectiveWindowRight(),
          static_cast<int64_t>(op.getNumSinkTokens()),
          op.getLogitSoftcap().convertToDouble(),
          static_cast<int64_t>(op.getLognTrainLen())};
}

AttentionScoreAttrs AttentionScoreAttrs::get(OnlineAttentionOp op) {
  return {op.getScale().convertToDouble(),
          op.getCausal(),
          static_cast<int64_t>(op.getWindowLeft()),
          static_cast<int64_t>(op.getWindowRight()),
          static_cast<int64_t>(op.getNumSinkTokens()),
          op.getLogitSoftcap().convertToDouble(),
          static_cast<int64_t>(op.getLognTrainLen())};
}

KeyBand mlir::attnflow::computeKeyBand(OpBuilder &b, Location loc,
                                       AttentionOp op, Value pFirst,
                                       Value pLast) {
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  int64_t seqKv = op.getK().getType().getDimSize(2);
  Value lo = cst(0), hi = cst(seqKv);
  if (int64_t windowLeft = op.getEffectiveWindowLeft(); windowLeft >= 0)
    lo = arith::MaxSIOp::create(
        b, loc, lo, arith::SubIOp::create(b, loc, pFirst, cst(windowLeft)));
  if (op.getCausal())
    hi = arith::MinSIOp::create(b, loc, hi,
                                arith::AddIOp::create(b, loc, pLast, cst(1)));
  if (int64_t windowRight = op.getEffectiveWindowRight(); windowRight >= 0)
    hi = arith::MinSIOp::create(
        b, loc, hi,
        arith::AddIOp::create(b, loc, pLast, cst(windowRight + 1)));
  lo = arith::MinSIOp::create(b, loc, lo, cst(seqKv));
  Value sinkEnd;
  if (int64_t sinks = op.getNumSinkTokens(); sinks > 0) {
    sinkEnd = cst(std::min<int64_t>(sinks, seqKv));
    lo = arith::MaxSIOp::create(b, loc, lo, sinkEnd);
  }
  return {sinkEnd, lo, hi};
}

Value mlir::attnflow::buildMaskedScore(OpBuilder &b, Location loc,
                                       const AttentionScoreAttrs &attrs,
                                       Value dot,
                                       Value p, Value j, Value slope,
                                       Value bias, Value lognFactor,
                                       Value keyExists) {
  Type type = dot.getType();
  Type intType = p.getType();
  auto cst = [&](Type t, double v) { return constantLike(b, loc, t, v); };

  Value s = arith::MulFOp::create(b, loc, dot, cst(type, attrs.scale));
  if (int64_t lognLen = attrs.lognTrainLen; lognLen > 0) {
    if (!lognFactor)
      lognFactor = buildLognFactor(b, loc, lognLen, p, type);
    s = arith::MulFOp::create(b, loc, s, lognFactor);
  }
  if (double cap = attrs.logitSoftcap; cap > 0.0) {
    Value capC = cst(type, cap);
    s = arith::MulFOp::create(
        b, loc, capC,
        math::TanhOp::create(b, loc, arith::DivFOp::create(b, loc, s, capC)));
  }
  if (slope) {
    Value dist = math::AbsIOp::create(b, loc,
                                      arith::SubIOp::create(b, loc, p, j));
    Value penalty = arith::MulFOp::create(
        b, loc, broadcastTo(b, loc, slope, type),
        arith::SIToFPOp::create(b, loc, type, dist));
    s = arith::SubFOp::create(b, loc, s, penalty);
  }
  if (bias)
    s = arith::AddFOp::create(b, loc, s, bias);

  // Visible iff (j < sinks or in window) and (not causal or j <= p).
  auto cmp = [&](arith::CmpIPredicate pred, Value lhs, Value rhs) {
    return Value(arith::CmpIOp::create(b, loc, pred, lhs, rhs));
  };
  Value visible;
  auto both = [&](Value cond) {
    visible = visible ? Value(arith::AndIOp::create(b, loc, visible, cond))
                      : cond;
  };
  int64_t windowLeft = attrs.windowLeft, windowRight = attrs.windowRight;
  if (windowLeft >= 0)
    both(cmp(arith::CmpIPredicate::sge, j,
             arith::SubIOp::create(b, loc, p, cst(intType, windowLeft))));
  if (windowRight >= 0)
    both(cmp(arith::CmpIPredicate::sle, j,
             arith::AddIOp::create(b, loc, p, cst(intType, windowRight))));
  if (int64_t sinks = attrs.numSinkTokens; visible && sinks > 0)
    visible = arith::OrIOp::create(
        b, loc, visible, cmp(arith::CmpIPredicate::slt, j, cst(intType, sinks)));
  if (attrs.causal)
    both(cmp(arith::CmpIPredicate::sle, j, p));
  if (keyExists)
    both(broadcastTo(b, loc, keyExists, intType));
  if (!visible)
    return s;
  return arith::SelectOp::create(
      b, loc, visible, s,
      cst(type, -std::numeric_limits<double>::infinity()));
}
