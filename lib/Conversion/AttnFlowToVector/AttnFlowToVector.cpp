//===- AttnFlowToVector.cpp - Online attention as vector microkernels -----===//
//
// Rewrites an `attnflow.online_attention` block of one query head (the tiles
// of --attnflow-tile-attention) into register-tiled vector code on tensors.
//
// Layout: the block works on S^T = K Q^T ([keys, queries]) so that every
// softmax step is vertical across query lanes: the row max, exp and row sum
// of a query are plain lane-wise ops, never horizontal reductions. Q^T is
// built once per query tile (loop-invariant code motion hoists it out of the
// key loop). Both products are outer-product register tiles of 8 rows x 2
// vectors with FMAs:
//   S^T[j, i:i+2W] += k[j, d] * Q^T[d, i:i+2W]      (8 keys j, d = 0..D-1)
//   acc[i, e:e+2W] += P^T[j, i] * v[j, e:e+2W]      (8 queries i, all keys j)
// Query rows and keys beyond the tile's dynamic extent (edge tiles) are read
// from clamped indices, masked out of the softmax (keys) or never written
// (rows), so the kernels only need static upper bounds of the extents.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTATTNFLOWTOVECTORPASS
#include "attnflow/Conversion/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {

/// Rows of a register tile; its columns are two vectors.
constexpr int64_t kTileRows = 8;

/// The static upper bound of dim `dim` of `value` (its size if static).
std::optional<int64_t> upperBound(Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return type.getDimSize(dim);
  FailureOr<int64_t> bound = ValueBoundsConstraintSet::computeConstantBound(
      presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(value, dim),
      /*stopCondition=*/nullptr, /*closedUB=*/true);
  if (failed(bound))
    return std::nullopt;
  return *bound;
}

struct OnlineAttentionToVector : OpRewritePattern<OnlineAttentionOp> {
  OnlineAttentionToVector(MLIRContext *ctx, int64_t vectorWidth)
      : OpRewritePattern(ctx, /*benefit=*/2), width(vectorWidth) {}

  LogicalResult matchAndRewrite(OnlineAttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = op.getQ().getType();
    auto kType = op.getK().getType();
    auto vType = op.getV().getType();
    FloatType f32 = rewriter.getF32Type();
    AttentionScoreAttrs scoreAttrs = AttentionScoreAttrs::get(op);
    if (op.getBias() || op.getAcc().getType().getElementType() != f32)
      return rewriter.notifyMatchFailure(op, "bias or f64: generic path");
    // One batch and one kv head; the query heads of a GQA group (decode
    // tiles) are folded into the rows of the block.
    int64_t group = qType.getDimSize(1);
    if (qType.getDimSize(0) != 1 || ShapedType::isDynamic(group))
      return rewriter.notifyMatchFailure(op, "one batch, static heads");
    for (auto type : {kType, vType})
      if (type.getDimSize(0) != 1 || type.getDimSize(1) != 1)
        return rewriter.notifyMatchFailure(op, "one kv head per block");
    if (group > 1 && op.getAlibiSlopes())
      return rewriter.notifyMatchFailure(op, "ALiBi slopes differ per head");
    int64_t headDim = qType.getDimSize(3), headDimV = vType.getDimSize(3);
    int64_t cols = 2 * width;
    if (ShapedType::isDynamic(headDim) || ShapedType::isDynamic(headDimV) ||
        headDimV % cols != 0)
      return rewriter.notifyMatchFailure(op, "head dims not vector multiples");
    std::optional<int64_t> rowBound = upperBound(op.getQ(), 2);
    std::optional<int64_t> keyBound = upperBound(op.getK(), 2);
    if (!rowBound || !keyBound)
      return rewriter.notifyMatchFailure(op, "unbounded block extents");
    int64_t rowCap = llvm::divideCeil(group * *rowBound, cols) * cols;
    int64_t keyCap = llvm::divideCeil(*keyBound, kTileRows) * kTileRows;

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type elementType = qType.getElementType();
    Type i64 = b.getI64Type();
    auto vecF = VectorType::get({cols}, f32);
    auto vecI = VectorType::get({cols}, i64);
    auto cIdx = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, v);
    };
    auto cF = [&](double v) -> Value {
      return arith::ConstantOp::create(b, b.getFloatAttr(f32, v));
    };
    auto splatF = [&](double v) -> Value {
      return arith::ConstantOp::create(
          b, DenseElementsAttr::get(vecF, b.getFloatAttr(f32, v)));
    };
    auto toF32 = [&](ImplicitLocOpBuilder &nb, Value value) -> Value {
      Type type = getElementTypeOrSelf(value.getType());
      if (type == f32)
        return value;
      Type target = isa<VectorType>(value.getType())
                        ? Type(VectorType::get(
                              cast<VectorType>(value.getType()).getShape(),
                              f32))
                        : Type(f32);
      return arith::ExtFOp::create(nb, target, value);
    };
    double negInf = -std::numeric_limits<double>::infinity();

    // 2-D / 1-D views of the block: keys, and rows = (query head, query row).
    Value oneIdx = cIdx(1);
    // Extents as attributes when constant, so that types stay static.
    auto extent = [&](Value value, int64_t dim) -> OpFoldResult {
      OpFoldResult size = tensor::getMixedSize(b, b.getLoc(), value, dim);
      if (std::optional<int64_t> constant = getConstantIntValue(size))
        return b.getIndexAttr(*constant);
      return size;
    };
    OpFoldResult keysOfr = extent(op.getK(), 2);
    Value rowsPerHead =
        getValueOrCreateConstantIndexOp(b, b.getLoc(), extent(op.getQ(), 2));
    Value rows = arith::MulIOp::create(b, rowsPerHead, cIdx(group));
    Value keys = getValueOrCreateConstantIndexOp(b, b.getLoc(), keysOfr);
    auto view = [&](Value source, ArrayRef<OpFoldResult> tail) -> Value {
      auto type = cast<RankedTensorType>(source.getType());
      SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1)};
      SmallVector<int64_t> shape;
      for (OpFoldResult size : tail) {
        sizes.push_back(size);
        shape.push_back(
            getConstantIntValue(size).value_or(ShapedType::kDynamic));
      }
      SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
      auto resultType = RankedTensorType::get(shape, type.getElementType());
      return tensor::ExtractSliceOp::create(b, resultType, source, offsets,
                                            sizes, strides);
    };
    Value k = view(op.getK(), {keysOfr, b.getIndexAttr(headDim)});
    Value v = view(op.getV(), {keysOfr, b.getIndexAttr(headDimV)});
    // [1, G, R, ...] -> [G * R, ...].
    auto foldRows = [&](OpBuilder &fb, Value value) -> Value {
      int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
      SmallVector<ReassociationIndices> reassociation = {{0, 1, 2}};
      if (rank == 4)
        reassociation.push_back({3});
      return tensor::CollapseShapeOp::create(fb, value.getLoc(), value,
                                             reassociation);
    };
    auto rowsOf = [&](Value value) { return extent(value, 2); };
    Value acc = foldRows(b, op.getAcc());
    Value maxIn = foldRows(b, op.getMax());
    Value sumIn = foldRows(b, op.getSum());

    // Q^T [D, rows] is built once per query tile: right after q's
    // definition, outside the key loops and the interior / boundary split of
    // each block (CSE merges the copies of the two branches).
    Value qT;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      Value qTile = op.getQ();
      if (Operation *def = qTile.getDefiningOp())
        rewriter.setInsertionPointAfter(def);
      else
        rewriter.setInsertionPointToStart(
            cast<BlockArgument>(qTile).getOwner());
      ImplicitLocOpBuilder tb(op.getLoc(), rewriter);
      Value qView = foldRows(tb, qTile);
      OpFoldResult qRows = tensor::getMixedSize(tb, tb.getLoc(), qView, 0);
      if (std::optional<int64_t> constant = getConstantIntValue(qRows))
        qRows = tb.getIndexAttr(*constant);
      Value qTInit = tensor::EmptyOp::create(
          tb, ArrayRef<OpFoldResult>{tb.getIndexAttr(headDim), qRows},
          elementType);
      qT = linalg::TransposeOp::create(tb, qView, qTInit,
                                       ArrayRef<int64_t>{1, 0})
               ->getResult(0);
    }

    Value slope;
    if (std::optional<ArrayRef<double>> slopes = op.getAlibiSlopes()) {
      auto tableType =
          RankedTensorType::get({static_cast<int64_t>(slopes->size())}, f32);
      SmallVector<float> values(slopes->begin(), slopes->end());
      Value table = arith::ConstantOp::create(
          b, DenseElementsAttr::get(tableType, ArrayRef<float>(values)));
      slope = tensor::ExtractOp::create(b, table, op.getHeadOffset());
    }
    Value qPos = arith::IndexCastOp::create(b, i64, op.getQPosition());
    Value kPos = arith::IndexCastOp::create(b, i64, op.getKPosition());
    Value keysI64 = arith::IndexCastOp::create(b, i64, keys);
    Value lastKey = arith::SubIOp::create(b, keys, oneIdx);
    Value lastRow = arith::SubIOp::create(b, rows, oneIdx);

    auto readVec = [&](ImplicitLocOpBuilder &nb, Value source,
                       ValueRange indices, Value pad, bool inBounds) {
      auto type = VectorType::get(
          {cols}, cast<RankedTensorType>(source.getType()).getElementType());
      return Value(vector::TransferReadOp::create(
          nb, type, source, indices, pad, ArrayRef<bool>{inBounds}));
    };
    auto writeVec = [&](ImplicitLocOpBuilder &nb, Value vec, Value dest,
                        ValueRange indices, bool inBounds) {
      return vector::TransferWriteOp::create(nb, vec, dest, indices,
                                             ArrayRef<bool>{inBounds})
          .getResult();
    };
    auto padOf = [&](ImplicitLocOpBuilder &nb, Value source, double value) {
      Type type = cast<RankedTensorType>(source.getType()).getElementType();
      return Value(arith::ConstantOp::create(nb, nb.getFloatAttr(type, value)));
    };
    auto bcast = [&](ImplicitLocOpBuilder &nb, Value scalar) {
      return Value(vector::BroadcastOp::create(nb, vecF, scalar));
    };
    auto forLoop = [&](ImplicitLocOpBuilder &nb, int64_t lb, Value ub,
                       int64_t step, ValueRange iters,
                       function_ref<SmallVector<Value>(ImplicitLocOpBuilder &,
                                                       Value, ValueRange)>
                           body) {
      auto loop = scf::ForOp::create(
          nb, cIdx(lb), ub, cIdx(step), iters,
          [&](OpBuilder &lb2, Location loc, Value iv, ValueRange args) {
            ImplicitLocOpBuilder ib(loc, lb2);
            scf::YieldOp::create(ib, body(ib, iv, args));
          });
      return loop.getResults();
    };

    // Pass 1 over query lanes [i0, i0 + 2W): scores S^T, their running max,
    // then p = exp(s - m') in place, alpha and the new row sums.
    auto scratchType = RankedTensorType::get({keyCap, rowCap}, f32);
    auto rowScratchType = RankedTensorType::get({rowCap}, f32);
    Value scores = tensor::EmptyOp::create(b, scratchType.getShape(), f32);
    Value alphas = tensor::EmptyOp::create(b, rowScratchType.getShape(), f32);
    Value lane = vector::StepOp::create(b, VectorType::get({cols},
                                                           b.getIndexType()));
    Value laneI64 = arith::IndexCastOp::create(b, vecI, lane);
    Value negInfVec = splatF(negInf);

    ValueRange pass1 = forLoop(
        b, 0, cIdx(rowCap), cols, {scores, alphas, maxIn, sumIn},
        [&](ImplicitLocOpBuilder &nb, Value i0, ValueRange it) {
          Value scoresIt = it[0], alphasIt = it[1], maxIt = it[2],
                sumIt = it[3];
          // Lanes [i0, i0 + 2W) of the state are read before they are
          // written, from the iterated tensors (no copy on bufferization).
          Value oldMax = readVec(nb, maxIt, {i0}, padOf(nb, maxIn, negInf),
                                 false);
          // p = q_position + i for every lane; lane row r is query row
          // r mod R of head r / R.
          Value r = arith::AddIOp::create(
              nb,
              vector::BroadcastOp::create(
                  nb, vecI, arith::IndexCastOp::create(nb, i64, i0)),
              laneI64);
          if (group > 1)
            r = arith::RemUIOp::create(
                nb, r,
                vector::BroadcastOp::create(
                    nb, vecI, arith::IndexCastOp::create(nb, i64, rowsPerHead)));
          Value p = arith::AddIOp::create(
              nb, vector::BroadcastOp::create(nb, vecI, qPos), r);
          // g(p) depends on the query lanes only: once per lane group.
          Value lognFactor;
          if (int64_t lognLen = op.getLognTrainLen(); lognLen > 0)
            lognFactor = buildLognFactor(nb, nb.getLoc(), lognLen, p, vecF);

          ValueRange keyLoop = forLoop(
              nb, 0, cIdx(keyCap), kTileRows, {scoresIt, oldMax},
              [&](ImplicitLocOpBuilder &kb, Value j0, ValueRange kit) {
                // S^T[j0 + t, i0 : i0 + 2W] = sum_d k[j0 + t, d] Q^T[d, ...].
                SmallVector<Value> init(kTileRows, splatF(0.0));
                SmallVector<Value> keyRows;
                for (int64_t t = 0; t < kTileRows; ++t)
                  keyRows.push_back(arith::MinSIOp::create(
                      kb, arith::AddIOp::create(kb, j0, cIdx(t)), lastKey));
                ValueRange dots = forLoop(
                    kb, 0, cIdx(headDim), 1, init,
                    [&](ImplicitLocOpBuilder &db, Value d, ValueRange accs) {
                      Value qRow = toF32(
                          db, readVec(db, qT, {d, i0}, padOf(db, qT, 0.0),
                                      false));
                      SmallVector<Value> next;
                      for (int64_t t = 0; t < kTileRows; ++t) {
                        Value kScalar = toF32(
                            db, tensor::ExtractOp::create(
                                    db, k, ValueRange{keyRows[t], d}));
                        next.push_back(vector::FMAOp::create(
                            db, bcast(db, kScalar), qRow, accs[t]));
                      }
                      return next;
                    });
                Value scoresK = kit[0], runningMax = kit[1];
                for (int64_t t = 0; t < kTileRows; ++t) {
                  Value jLocal = arith::AddIOp::create(kb, j0, cIdx(t));
                  Value jLocalI = arith::IndexCastOp::create(kb, i64, jLocal);
                  Value j = arith::AddIOp::create(kb, kPos, jLocalI);
                  Value exists = arith::CmpIOp::create(
                      kb, arith::CmpIPredicate::slt, jLocalI, keysI64);
                  Value s = buildMaskedScore(
                      kb, kb.getLoc(), scoreAttrs, dots[t], p,
                      vector::BroadcastOp::create(kb, vecI, j), slope,
                      /*bias=*/Value(), lognFactor, exists);
                  runningMax = arith::MaximumFOp::create(kb, runningMax, s);
                  scoresK = writeVec(kb, s, scoresK, {jLocal, i0}, true);
                }
                return SmallVector<Value>{scoresK, runningMax};
              });
          Value newMax = keyLoop[1];
          // -inf-safe: while a lane's max is -inf its acc and sum are 0, so
          // alpha = 1 and p = 0.
          Value noKey = arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ,
                                              newMax, negInfVec);
          Value alpha = arith::SelectOp::create(
              nb, noKey, splatF(1.0),
              math::ExpOp::create(nb,
                                  arith::SubFOp::create(nb, oldMax, newMax)));
          ValueRange expLoop = forLoop(
              nb, 0, cIdx(keyCap), 1, {keyLoop[0], splatF(0.0)},
              [&](ImplicitLocOpBuilder &eb, Value j, ValueRange eit) {
                Value s = readVec(eb, eit[0], {j, i0}, cF(0.0), true);
                Value e = arith::SelectOp::create(
                    eb, noKey, splatF(0.0),
                    math::ExpOp::create(eb, arith::SubFOp::create(eb, s,
                                                                  newMax)));
                return SmallVector<Value>{
                    writeVec(eb, e, eit[0], {j, i0}, true),
                    arith::AddFOp::create(eb, eit[1], e)};
              });
          Value oldSum = readVec(nb, sumIt, {i0}, padOf(nb, sumIn, 0.0), false);
          Value newSum = arith::AddFOp::create(
              nb, arith::MulFOp::create(nb, alpha, oldSum), expLoop[1]);
          return SmallVector<Value>{
              expLoop[0], writeVec(nb, alpha, alphasIt, {i0}, true),
              writeVec(nb, newMax, maxIt, {i0}, false),
              writeVec(nb, newSum, sumIt, {i0}, false)};
        });
    Value probs = pass1[0], alphaTable = pass1[1];

    // Pass 2: acc[i, e0 : e0 + 2W] = alpha_i acc[i, ...] + sum_j P^T[j, i]
    // v[j, ...] for 8 query rows at a time; rows past the extent are
    // computed from clamped reads and never written.
    ValueRange pass2 = forLoop(
        b, 0, cIdx(rowCap), kTileRows, {acc},
        [&](ImplicitLocOpBuilder &rb, Value i0, ValueRange rit) {
          SmallVector<Value> rowIdx, alphaRow;
          for (int64_t t = 0; t < kTileRows; ++t) {
            Value i = arith::AddIOp::create(rb, i0, cIdx(t));
            rowIdx.push_back(i);
            alphaRow.push_back(
                bcast(rb, tensor::ExtractOp::create(rb, alphaTable, i)));
          }
          ValueRange colLoop = forLoop(
              rb, 0, cIdx(headDimV), cols, {rit[0]},
              [&](ImplicitLocOpBuilder &cb, Value e0, ValueRange cit) {
                SmallVector<Value> init;
                for (int64_t t = 0; t < kTileRows; ++t) {
                  Value row = arith::MinSIOp::create(cb, rowIdx[t], lastRow);
                  Value old = readVec(cb, cit[0], {row, e0}, cF(0.0), true);
                  init.push_back(arith::MulFOp::create(cb, old, alphaRow[t]));
                }
                ValueRange sums = forLoop(
                    cb, 0, cIdx(keyCap), 1, init,
                    [&](ImplicitLocOpBuilder &jb, Value j, ValueRange accs) {
                      Value key = arith::MinSIOp::create(jb, j, lastKey);
                      Value vRow = toF32(
                          jb, readVec(jb, v, {key, e0}, padOf(jb, v, 0.0),
                                      true));
                      SmallVector<Value> next;
                      for (int64_t t = 0; t < kTileRows; ++t) {
                        Value pScalar = tensor::ExtractOp::create(
                            jb, probs, ValueRange{j, rowIdx[t]});
                        next.push_back(vector::FMAOp::create(
                            jb, bcast(jb, pScalar), vRow, accs[t]));
                      }
                      return next;
                    });
                Value out = cit[0];
                for (int64_t t = 0; t < kTileRows; ++t) {
                  Value inside = arith::CmpIOp::create(
                      cb, arith::CmpIPredicate::slt, rowIdx[t], rows);
                  auto guarded = scf::IfOp::create(
                      cb, inside,
                      [&](OpBuilder &tb, Location loc) {
                        ImplicitLocOpBuilder ib(loc, tb);
                        scf::YieldOp::create(
                            ib, writeVec(ib, sums[t], out, {rowIdx[t], e0},
                                         true));
                      },
                      [&](OpBuilder &eb, Location loc) {
                        scf::YieldOp::create(eb, loc, out);
                      });
                  out = guarded.getResult(0);
                }
                return SmallVector<Value>{out};
              });
          return SmallVector<Value>{colLoop[0]};
        });

    // Back to the op's [1, 1, ...] shapes.
    auto expand = [&](Value value, Value like) -> Value {
      auto likeType = cast<RankedTensorType>(like.getType());
      SmallVector<ReassociationIndices> reassociation = {{0, 1, 2}};
      SmallVector<OpFoldResult> shape = {b.getIndexAttr(1),
                                         b.getIndexAttr(group), rowsOf(like)};
      if (likeType.getRank() == 4) {
        reassociation.push_back({3});
        shape.push_back(b.getIndexAttr(likeType.getDimSize(3)));
      }
      SmallVector<int64_t> staticShape;
      for (OpFoldResult size : shape)
        staticShape.push_back(
            getConstantIntValue(size).value_or(ShapedType::kDynamic));
      // The folded rows are static when the extents fold to constants.
      auto valueType = cast<RankedTensorType>(value.getType());
      SmallVector<int64_t> foldedShape(valueType.getShape());
      foldedShape[0] = ShapedType::isDynamic(staticShape[2])
                           ? ShapedType::kDynamic
                           : staticShape[1] * staticShape[2];
      auto foldedType = valueType.clone(foldedShape);
      if (foldedType != valueType)
        value = tensor::CastOp::create(b, foldedType, value);
      Value expanded = tensor::ExpandShapeOp::create(
          b, RankedTensorType::get(staticShape, likeType.getElementType()),
          value, reassociation, shape);
      // The operand's type may be less static than its folded extent.
      if (expanded.getType() != likeType)
        expanded = tensor::CastOp::create(b, likeType, expanded);
      return expanded;
    };
    rewriter.replaceOp(op, {expand(pass2[0], op.getAcc()),
                            expand(pass1[2], op.getMax()),
                            expand(pass1[3], op.getSum())});
    return success();
  }

  int64_t width;
};

struct ConvertAttnFlowToVectorPass
    : mlir::attnflow::impl::ConvertAttnFlowToVectorPassBase<
          ConvertAttnFlowToVectorPass> {
  using ConvertAttnFlowToVectorPassBase::ConvertAttnFlowToVectorPassBase;

  void runOnOperation() override {
    if (vectorWidth < 1) {
      // Reported at the first op it would apply to, like a tiling option.
      WalkResult found = getOperation()->walk([&](OnlineAttentionOp op) {
        op.emitError()
            << "convert-attnflow-to-vector expects vector-width >= 1, got "
            << static_cast<int64_t>(vectorWidth);
        return WalkResult::interrupt();
      });
      if (found.wasInterrupted())
        signalPassFailure();
      return;
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<OnlineAttentionToVector>(&getContext(), vectorWidth);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
