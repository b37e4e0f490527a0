//===- ScanToLinalg.cpp - linear_recurrence / rnn_solve to loops ----------===//
//
// The reference decompositions of the scan ops, written to be obviously
// right rather than fast (they are the oracle of the chunked and GPU scans):
// linear_recurrence is an scf.for over t carrying h in the accumulator type,
// each step one linalg.generic (a matvec for dense a); a sequential
// rnn_solve is an scf.for over the batch around an scf.for over t whose body
// inlines the cell region.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/AttnFlowToLinalg/AttnFlowToLinalg.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"
#include "attnflow/Dialect/AttnFlow/IR/RegionUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::attnflow;

namespace {
constexpr utils::IteratorType kPar = utils::IteratorType::parallel;
constexpr utils::IteratorType kRed = utils::IteratorType::reduction;

/// Slice [offsets..., sizes...] of `source` with unit strides, rank-reduced to
/// `resultShape`.
Value extractSlice(ImplicitLocOpBuilder &b, Value source,
                   ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
                   ArrayRef<int64_t> resultShape) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizeAttrs =
      getAsIndexOpFoldResult(b.getContext(), sizes);
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(
      b, RankedTensorType::get(resultShape, type.getElementType()), source,
      offsets, sizeAttrs, strides);
}

Value insertSlice(ImplicitLocOpBuilder &b, Value source, Value dest,
                  ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> sizeAttrs =
      getAsIndexOpFoldResult(b.getContext(), sizes);
  SmallVector<OpFoldResult> strides(sizes.size(), b.getIndexAttr(1));
  return tensor::InsertSliceOp::create(b, source, dest, offsets, sizeAttrs,
                                       strides);
}

/// `value` (a static tensor) with its elements converted to `elementType`.
Value castTensor(ImplicitLocOpBuilder &b, Value value, Type elementType) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == elementType)
    return value;
  AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(), kPar);
  return createGeneric(
      b, createEmptyTensor(b, type.getShape(), elementType), value, identity,
      identity, iterators, [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        linalg::YieldOp::create(nb, castFloat(nb, args[0], elementType));
      });
}

//===----------------------------------------------------------------------===//
// linear_recurrence
//===----------------------------------------------------------------------===//

/// h_t = a_t h_{t-1} + b_t for [B, N] slices, in the accumulator type.
Value buildRecurrenceStep(ImplicitLocOpBuilder &b, Value aT, Value bT, Value h,
                          bool dense) {
  auto hType = cast<RankedTensorType>(h.getType());
  Type accType = hType.getElementType();
  MLIRContext *ctx = b.getContext();
  if (!dense) {
    AffineMap identity = b.getMultiDimIdentityMap(2);
    return createGeneric(
        b, createEmptyTensor(b, hType.getShape(), accType), {aT, bT, h},
        {identity, identity, identity}, identity, {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value prod = arith::MulFOp::create(
              nb, castFloat(nb, args[0], accType), args[2]);
          linalg::YieldOp::create(
              nb, ValueRange{arith::AddFOp::create(
                      nb, prod, castFloat(nb, args[1], accType))});
        });
  }
  // (batch, i, j): h_t[batch, i] = b_t[batch, i] + sum_j a_t[batch, i, j] *
  // h[batch, j].
  return createGeneric(
      b, castTensor(b, bT, accType), {aT, h},
      {getDimsMap(ctx, 3, {0, 1, 2}), getDimsMap(ctx, 3, {0, 2})},
      getDimsMap(ctx, 3, {0, 1}), {kPar, kPar, kRed},
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value prod =
            arith::MulFOp::create(nb, castFloat(nb, args[0], accType), args[1]);
        linalg::YieldOp::create(
            nb, ValueRange{arith::AddFOp::create(nb, args[2], prod)});
      });
}

struct LinearRecurrenceToLoops : OpRewritePattern<LinearRecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto bType = cast<RankedTensorType>(op.getB().getType());
    int64_t batch = bType.getDimSize(0), length = bType.getDimSize(1),
            n = bType.getDimSize(2);
    Type elementType = bType.getElementType();
    Type accType = getAccumulatorType(elementType);
    bool dense = op.isDense();
    Value h0 = op.getH0()
                   ? castTensor(b, op.getH0(), accType)
                   : createFilledTensor(b, {batch, n}, accType,
                                        createFloatConstant(b, accType, 0.0));
    Value out = createEmptyTensor(b, bType.getShape(), elementType);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value last = arith::ConstantIndexOp::create(b, length - 1);
    auto loop = scf::ForOp::create(
        b, zero, arith::ConstantIndexOp::create(b, length),
        arith::ConstantIndexOp::create(b, 1), ValueRange{h0, out},
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange iter) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value t = op.getReverse() ? arith::SubIOp::create(nb, last, iv) : iv;
          OpFoldResult zeroIndex = nb.getIndexAttr(0);
          Value aT =
              dense ? extractSlice(nb, op.getA(),
                                   {zeroIndex, t, zeroIndex, zeroIndex},
                                   {batch, 1, n, n}, {batch, n, n})
                    : extractSlice(nb, op.getA(), {zeroIndex, t, zeroIndex},
                                   {batch, 1, n}, {batch, n});
          Value bT = extractSlice(nb, op.getB(), {zeroIndex, t, zeroIndex},
                                  {batch, 1, n}, {batch, n});
          Value h = buildRecurrenceStep(nb, aT, bT, iter[0], dense);
          Value updated =
              insertSlice(nb, castTensor(nb, h, elementType), iter[1],
                          {zeroIndex, t, zeroIndex}, {batch, 1, n});
          scf::YieldOp::create(nb, ValueRange{h, updated});
        });
    rewriter.replaceOp(op, loop.getResult(1));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// rnn_solve, method = sequential
//===----------------------------------------------------------------------===//

struct SequentialRnnSolveToLoops : OpRewritePattern<RnnSolveOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RnnSolveOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getMethod() != RnnMethod::sequential)
      return rewriter.notifyMatchFailure(op, "Newton methods are lowered by "
                                             "--attnflow-lower-rnn-solve");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto statesType = cast<RankedTensorType>(op.getStates().getType());
    int64_t batch = statesType.getDimSize(0), length = statesType.getDimSize(1),
            n = statesType.getDimSize(2), m = op.getU().getType().getDimSize(2);
    Value zero = arith::ConstantIndexOp::create(b, 0);
    Value one = arith::ConstantIndexOp::create(b, 1);
    OpFoldResult zeroIndex = b.getIndexAttr(0);
    auto batchLoop = scf::ForOp::create(
        b, zero, arith::ConstantIndexOp::create(b, batch), one,
        ValueRange{createEmptyTensor(b, statesType.getShape(),
                                     statesType.getElementType())},
        [&](OpBuilder &nested, Location loc, Value bi, ValueRange outer) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value h0 = extractSlice(nb, op.getH0(), {bi, zeroIndex}, {1, n}, {n});
          auto timeLoop = scf::ForOp::create(
              nb, zero, arith::ConstantIndexOp::create(nb, length), one,
              ValueRange{h0, outer[0]},
              [&](OpBuilder &inner, Location loc, Value t, ValueRange iter) {
                ImplicitLocOpBuilder ib(loc, inner);
                Value uT = extractSlice(ib, op.getU(), {bi, t, zeroIndex},
                                        {1, 1, m}, {m});
                SmallVector<Value> args = {iter[0], uT};
                llvm::append_range(args, op.getParams());
                Value h = inlineRegionBody(ib, op.getCell(), args).front();
                Value updated =
                    insertSlice(ib, h, iter[1], {bi, t, zeroIndex}, {1, 1, n});
                scf::YieldOp::create(ib, ValueRange{h, updated});
              });
          scf::YieldOp::create(nb, timeLoop.getResult(1));
        });
    auto itersType = cast<RankedTensorType>(op.getIters().getType());
    Value iters = arith::ConstantOp::create(
        b, DenseElementsAttr::get(itersType, b.getI64IntegerAttr(1)));
    rewriter.replaceOp(op, {batchLoop.getResult(0), iters});
    return success();
  }
};
} // namespace

void mlir::attnflow::populateScanToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LinearRecurrenceToLoops, SequentialRnnSolveToLoops>(
      patterns.getContext());
}
