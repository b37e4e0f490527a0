//===- AttnFlowToLinalg.cpp - Reference decomposition of attnflow ops -----===//
//
// Rewrites attnflow ops into linalg.generic ops on tensors that follow the
// definitions of DESIGN.md §3 literally. This is the oracle of faster
// lowerings, so clarity beats speed: attention materializes its scores.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/AttnFlowToLinalg/AttnFlowToLinalg.h"
#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTATTNFLOWTOLINALGPASS
#include "attnflow/Conversion/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
/// Builds a single-result linalg.generic over `numLoops` loops whose last
/// `numReductions` loops are reductions (createGeneric with those iterators).
Value buildGeneric(ImplicitLocOpBuilder &b, Value init, ValueRange inputs,
                   ArrayRef<AffineMap> inputMaps, AffineMap outputMap,
                   unsigned numLoops, unsigned numReductions,
                   GenericBody body) {
  SmallVector<utils::IteratorType> iterators(numLoops - numReductions,
                                             utils::IteratorType::parallel);
  iterators.append(numReductions, utils::IteratorType::reduction);
  return createGeneric(b, init, inputs, inputMaps, outputMap, iterators, body);
}

Value constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value constI64(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIntOp::create(b, b.getI64Type(), value);
}

/// Dense constant tensor of `values` with element type `type`.
Value constTensor(ImplicitLocOpBuilder &b, Type type, ArrayRef<double> values) {
  auto tensorType =
      RankedTensorType::get({static_cast<int64_t>(values.size())}, type);
  SmallVector<Attribute> attrs;
  for (double value : values)
    attrs.push_back(b.getFloatAttr(type, value));
  return arith::ConstantOp::create(b,
                                   DenseElementsAttr::get(tensorType, attrs));
}
} // namespace

//===----------------------------------------------------------------------===//
// RoPE inverse frequencies (Hugging Face modeling_rope_utils.py)
//===----------------------------------------------------------------------===//

SmallVector<double>
mlir::attnflow::computeRopeInvFreq(int64_t rotaryDim, double theta,
                                   RopeScalingAttr scaling) {
  int64_t half = rotaryDim / 2;
  double dim = static_cast<double>(rotaryDim);
  RopeScalingKind kind = scaling ? scaling.getKind() : RopeScalingKind::none;
  double factor = scaling ? scaling.getFactor().convertToDouble() : 1.0;
  double base = theta;
  if (kind == RopeScalingKind::ntk)
    base = theta * std::pow(factor, dim / (dim - 2.0));

  SmallVector<double> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = 1.0 / std::pow(base, 2.0 * static_cast<double>(i) / dim);

  switch (kind) {
  case RopeScalingKind::none:
  case RopeScalingKind::ntk:
  case RopeScalingKind::dynamic_ntk:
    break;
  case RopeScalingKind::linear:
    for (double &f : invFreq)
      f /= factor;
    break;
  case RopeScalingKind::yarn: {
    // `_compute_yarn_parameters` with truncate = true.
    double maxPos = static_cast<double>(*scaling.getOriginalMaxPosition());
    auto correctionDim = [&](double numRotations) {
      return (dim * std::log(maxPos / (numRotations * 2.0 * M_PI))) /
             (2.0 * std::log(theta));
    };
    double low = std::max(
        std::floor(correctionDim(scaling.getBetaFast().convertToDouble())),
        0.0);
    double high = std::min(
        std::ceil(correctionDim(scaling.getBetaSlow().convertToDouble())),
        dim - 1.0);
    if (low == high)
      high += 0.001;
    for (int64_t i = 0; i < half; ++i) {
      double ramp = (static_cast<double>(i) - low) / (high - low);
      ramp = std::min(std::max(ramp, 0.0), 1.0);
      double extrapolationFactor = 1.0 - ramp;
      double extrapolation = invFreq[i];
      double interpolation = invFreq[i] / factor;
      invFreq[i] = interpolation * (1.0 - extrapolationFactor) +
                   extrapolation * extrapolationFactor;
    }
    break;
  }
  case RopeScalingKind::llama3: {
    // `_compute_llama3_parameters`.
    double oldContext = static_cast<double>(*scaling.getOriginalMaxPosition());
    double lowFreqFactor = scaling.getLowFreqFactor().convertToDouble();
    double highFreqFactor = scaling.getHighFreqFactor().convertToDouble();
    double lowFreqWavelen = oldContext / lowFreqFactor;
    double highFreqWavelen = oldContext / highFreqFactor;
    for (double &f : invFreq) {
      double wavelen = 2.0 * M_PI / f;
      if (wavelen > lowFreqWavelen) {
        f /= factor;
      } else if (!(wavelen < highFreqWavelen)) {
        double smooth = (oldContext / wavelen - lowFreqFactor) /
                        (highFreqFactor - lowFreqFactor);
        f = (1.0 - smooth) * f / factor + smooth * f;
      }
    }
    break;
  }
  }
  return invFreq;
}

namespace {

//===----------------------------------------------------------------------===//
// attnflow.rope
//===----------------------------------------------------------------------===//

/// Builds inv_freq for `dynamic_ntk` at run time from L = max(positions) + 1:
/// theta' = theta * (factor * L / L0 - (factor - 1))^(r / (r - 2)) if L > L0.
Value buildDynamicNtkInvFreq(ImplicitLocOpBuilder &b, RopeOp op,
                             FloatType angleType) {
  MLIRContext *ctx = b.getContext();
  Value positions = op.getPositions();
  auto posType = cast<RankedTensorType>(positions.getType());
  unsigned rank = posType.getRank();
  Type i64 = b.getI64Type();

  Value maxInit = createFilledTensor(
      b, {}, i64, constI64(b, std::numeric_limits<int64_t>::min()));
  SmallVector<unsigned> allDims;
  for (unsigned d = 0; d < rank; ++d)
    allDims.push_back(d);
  Value maxPos =
      buildGeneric(b, maxInit, positions, {getDimsMap(ctx, rank, allDims)},
                   AffineMap::get(rank, 0, {}, ctx), rank, rank,
                   [&](ImplicitLocOpBuilder &nb, ValueRange args) {
                     Value pos = args[0];
                     if (pos.getType() != i64)
                       pos = arith::ExtSIOp::create(nb, i64, pos);
                     linalg::YieldOp::create(
                         nb, Value(arith::MaxSIOp::create(nb, pos, args[1])));
                   });

  int64_t rotaryDim = op.getEffectiveRotaryDim();
  int64_t half = rotaryDim / 2;
  RopeScalingAttr scaling = *op.getScaling();
  double theta = op.getTheta().convertToDouble();
  double factor = scaling.getFactor().convertToDouble();
  double l0 = static_cast<double>(*scaling.getOriginalMaxPosition());
  double dim = static_cast<double>(rotaryDim);
  Type f64 = b.getF64Type();

  Value init = createEmptyTensor(b, {half}, angleType);
  return buildGeneric(
      b, init, maxPos, {AffineMap::get(1, 0, {}, ctx)}, getDimsMap(ctx, 1, {0}),
      1, 0, [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value seqLen = arith::SIToFPOp::create(
            nb, f64, arith::AddIOp::create(nb, args[0], constI64(nb, 1)));
        Value ratio = arith::SubFOp::create(
            nb,
            arith::MulFOp::create(nb, createFloatConstant(nb, f64, factor / l0),
                                  seqLen),
            createFloatConstant(nb, f64, factor - 1.0));
        Value scaled = arith::MulFOp::create(
            nb, createFloatConstant(nb, f64, theta),
            math::PowFOp::create(
                nb, ratio, createFloatConstant(nb, f64, dim / (dim - 2.0))));
        Value longer =
            arith::CmpFOp::create(nb, arith::CmpFPredicate::OGT, seqLen,
                                  createFloatConstant(nb, f64, l0));
        Value base = arith::SelectOp::create(
            nb, longer, scaled, createFloatConstant(nb, f64, theta));
        Value i = arith::IndexCastOp::create(nb, b.getI64Type(),
                                             linalg::IndexOp::create(nb, 0));
        Value exponent = arith::DivFOp::create(
            nb,
            arith::MulFOp::create(nb, createFloatConstant(nb, f64, 2.0),
                                  arith::SIToFPOp::create(nb, f64, i)),
            createFloatConstant(nb, f64, dim));
        Value invFreq =
            arith::DivFOp::create(nb, createFloatConstant(nb, f64, 1.0),
                                  math::PowFOp::create(nb, base, exponent));
        linalg::YieldOp::create(nb, castFloat(nb, invFreq, angleType));
      });
}

struct RopeToLinalg : OpRewritePattern<RopeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RopeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    auto xType = op.getX().getType();
    Type elementType = xType.getElementType();
    // Angles are f32 from the integer position (DESIGN.md §3); f64 inputs
    // keep f64 so convergence studies are not limited by the angle.
    FloatType computeType = getAccumulatorType(elementType);
    int64_t rotaryDim = op.getEffectiveRotaryDim();
    int64_t half = rotaryDim / 2;
    bool interleaved = op.getLayout() == RopeLayout::interleaved;
    std::optional<RopeScalingAttr> scaling = op.getScaling();
    double attentionFactor =
        scaling ? scaling->getEffectiveAttentionFactor() : 1.0;

    Value invFreq;
    if (scaling && scaling->getKind() == RopeScalingKind::dynamic_ntk) {
      invFreq = buildDynamicNtkInvFreq(b, op, computeType);
    } else {
      SmallVector<double> values =
          computeRopeInvFreq(rotaryDim, op.getTheta().convertToDouble(),
                             scaling ? *scaling : RopeScalingAttr());
      invFreq = constTensor(b, computeType, values);
    }

    // Pair i takes the position of axis sectionOf[i] (M-RoPE).
    std::optional<ArrayRef<int64_t>> sections = op.getMropeSection();
    Value sectionOf;
    if (sections) {
      SmallVector<int64_t> table;
      for (auto [axis, count] : llvm::enumerate(*sections))
        table.append(count, static_cast<int64_t>(axis));
      sectionOf = arith::ConstantOp::create(
          b, DenseElementsAttr::get(
                 RankedTensorType::get({half}, b.getIndexType()),
                 ArrayRef<int64_t>(table)));
    }

    Value positions = op.getPositions();
    auto posType = cast<RankedTensorType>(positions.getType());
    bool batchedPositions = posType.getRank() == (sections ? 3 : 2);
    Type i64 = b.getI64Type();

    Value init = tensor::EmptyOp::create(
        b, tensor::getMixedSizes(b, op.getLoc(), op.getX()), elementType);
    Value result = buildGeneric(
        b, init, ValueRange{}, {}, getDimsMap(ctx, 4, {0, 1, 2, 3}), 4, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value bIdx = linalg::IndexOp::create(nb, 0);
          Value hIdx = linalg::IndexOp::create(nb, 1);
          Value sIdx = linalg::IndexOp::create(nb, 2);
          Value dIdx = linalg::IndexOp::create(nb, 3);
          Value dI64 = arith::IndexCastOp::create(nb, i64, dIdx);

          // Pair index i, partner dim and whether d is the pair's first dim.
          Value zero = constI64(nb, 0), one = constI64(nb, 1);
          Value halfC = constI64(nb, half);
          Value pairI, partner, isFirst;
          if (interleaved) {
            pairI = arith::ShRUIOp::create(nb, dI64, one);
            partner = arith::XOrIOp::create(nb, dI64, one);
            isFirst = arith::CmpIOp::create(
                nb, arith::CmpIPredicate::eq,
                arith::AndIOp::create(nb, dI64, one), zero);
          } else {
            isFirst = arith::CmpIOp::create(nb, arith::CmpIPredicate::slt, dI64,
                                            halfC);
            pairI = arith::SelectOp::create(
                nb, isFirst, dI64, arith::SubIOp::create(nb, dI64, halfC));
            partner = arith::SelectOp::create(
                nb, isFirst, arith::AddIOp::create(nb, dI64, halfC),
                arith::SubIOp::create(nb, dI64, halfC));
          }
          // Pass-through dims (d >= rotary_dim) read a clamped, unused pair.
          Value rotated = arith::CmpIOp::create(nb, arith::CmpIPredicate::slt,
                                                dI64, constI64(nb, rotaryDim));
          pairI = arith::MinSIOp::create(nb, pairI, constI64(nb, half - 1));
          partner = arith::SelectOp::create(nb, rotated, partner, dI64);
          Value pairIdx =
              arith::IndexCastOp::create(nb, nb.getIndexType(), pairI);
          Value partnerIdx =
              arith::IndexCastOp::create(nb, nb.getIndexType(), partner);

          SmallVector<Value> posIndices;
          if (sections)
            posIndices.push_back(
                tensor::ExtractOp::create(nb, sectionOf, pairIdx));
          if (batchedPositions)
            posIndices.push_back(bIdx);
          posIndices.push_back(sIdx);
          Value pos = tensor::ExtractOp::create(nb, positions, posIndices);
          Value posF = arith::SIToFPOp::create(nb, computeType, pos);
          Value freq = tensor::ExtractOp::create(nb, invFreq, pairIdx);
          Value angle = arith::MulFOp::create(nb, posF, freq);
          Value cosA = math::CosOp::create(nb, angle);
          Value sinA = math::SinOp::create(nb, angle);
          if (attentionFactor != 1.0) {
            Value af = createFloatConstant(nb, computeType, attentionFactor);
            cosA = arith::MulFOp::create(nb, cosA, af);
            sinA = arith::MulFOp::create(nb, sinA, af);
          }

          Value self =
              castFloat(nb,
                        tensor::ExtractOp::create(
                            nb, op.getX(), ValueRange{bIdx, hIdx, sIdx, dIdx}),
                        computeType);
          Value other = castFloat(
              nb,
              tensor::ExtractOp::create(
                  nb, op.getX(), ValueRange{bIdx, hIdx, sIdx, partnerIdx}),
              computeType);
          // (a, b) -> (a cos - b sin, a sin + b cos): the first dim subtracts
          // its partner's sine term, the second adds it.
          Value signedOther = arith::SelectOp::create(
              nb, isFirst, arith::NegFOp::create(nb, other), other);
          Value rotatedValue = arith::AddFOp::create(
              nb, arith::MulFOp::create(nb, self, cosA),
              arith::MulFOp::create(nb, signedOther, sinA));
          Value value =
              arith::SelectOp::create(nb, rotated, rotatedValue, self);
          linalg::YieldOp::create(nb, castFloat(nb, value, elementType));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// attnflow.attention and attnflow.online_attention
//===----------------------------------------------------------------------===//

/// The reference: one online-softmax step over all keys, then acc / sum. It
/// materializes the [B, Hq, Sq, Skv] scores.
struct AttentionToLinalg : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> qShape = op.getQ().getType().getShape();
    Type elementType = op.getQ().getType().getElementType();
    OnlineSoftmaxState init = createOnlineSoftmaxInit(
        rewriter, loc,
        {rewriter.getIndexAttr(qShape[0]), rewriter.getIndexAttr(qShape[1]),
         rewriter.getIndexAttr(qShape[2])},
        rewriter.getIndexAttr(op.getV().getType().getDimSize(3)),
        getAccumulatorType(elementType));
    Value qPosition =
        arith::ConstantIndexOp::create(rewriter, loc, op.getEffectiveQOffset());
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    OnlineSoftmaxState state = createOnlineAttention(
        rewriter, loc, op, op.getQ(), op.getK(), op.getV(), op.getBias(), init,
        qPosition, zero, zero);
    rewriter.replaceOp(
        op, createOnlineSoftmaxFinalize(rewriter, loc, state, elementType));
    return success();
  }
};

/// Splits dim 1 (Hq) of `value` into [Hkv, G] so kv head hk serves query
/// heads hk * G + g without index arithmetic in the indexing maps.
Value splitHeads(ImplicitLocOpBuilder &b, Value value, int64_t group) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, b.getLoc(), value);
  AffineExpr d0;
  bindDims(b.getContext(), d0);
  OpFoldResult kvHeads = affine::makeComposedFoldedAffineApply(
      b, b.getLoc(), d0.floorDiv(group), {sizes[1]});
  SmallVector<OpFoldResult> outSizes = {sizes[0], kvHeads,
                                        b.getIndexAttr(group)};
  SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2}};
  for (int64_t d = 2; d < type.getRank(); ++d) {
    outSizes.push_back(sizes[d]);
    reassociation.push_back({d + 1});
  }
  SmallVector<int64_t> staticSizes;
  SmallVector<Value> dynamicSizes;
  dispatchIndexOpFoldResults(outSizes, dynamicSizes, staticSizes);
  return tensor::ExpandShapeOp::create(
      b, RankedTensorType::get(staticSizes, type.getElementType()), value,
      reassociation, outSizes);
}

Value mergeHeads(ImplicitLocOpBuilder &b, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<ReassociationIndices> reassociation = {{0}, {1, 2}};
  for (int64_t d = 3; d < type.getRank(); ++d)
    reassociation.push_back({d});
  return tensor::CollapseShapeOp::create(b, value, reassociation);
}

/// One online-softmax step (see OnlineAttentionOp) as linalg.generic ops on
/// [B, Hkv, G, Sq, ...] tensors; works on dynamic (edge-tile) sizes.
struct OnlineAttentionToLinalg : OpRewritePattern<OnlineAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnlineAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    AttentionScoreAttrs scoreAttrs = AttentionScoreAttrs::get(op);
    auto qType = op.getQ().getType();
    auto kType = op.getK().getType();
    if (ShapedType::isDynamic(qType.getDimSize(1)) ||
        ShapedType::isDynamic(kType.getDimSize(1)))
      return rewriter.notifyMatchFailure(op, "dynamic head counts");
    int64_t group = qType.getDimSize(1) / kType.getDimSize(1);
    FloatType ct = cast<FloatType>(op.getAcc().getType().getElementType());
    Type i64 = b.getI64Type();
    double negInf = -std::numeric_limits<double>::infinity();

    Value q5 = splitHeads(b, op.getQ(), group);
    Value max4 = splitHeads(b, op.getMax(), group);
    Value sum4 = splitHeads(b, op.getSum(), group);
    Value acc5 = splitHeads(b, op.getAcc(), group);
    SmallVector<OpFoldResult> rowSizes = tensor::getMixedSizes(b, loc, max4);
    SmallVector<OpFoldResult> scoreSizes(rowSizes);
    scoreSizes.push_back(tensor::getMixedSize(b, loc, op.getK(), 2));
    SmallVector<OpFoldResult> accSizes = tensor::getMixedSizes(b, loc, acc5);

    // s[b, hk, g, i, j] = sum_d q[b, hk, g, i, d] * k[b, hk, j, d].
    Value zero = createFloatConstant(b, ct, 0.0);
    Value scoresInit =
        linalg::FillOp::create(
            b, ValueRange{zero},
            ValueRange{tensor::EmptyOp::create(b, scoreSizes, ct)})
            .getResult(0);
    Value scores = buildGeneric(
        b, scoresInit, ValueRange{q5, op.getK()},
        {getDimsMap(ctx, 6, {0, 1, 2, 3, 5}), getDimsMap(ctx, 6, {0, 1, 4, 5})},
        getDimsMap(ctx, 6, {0, 1, 2, 3, 4}), 6, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value product = arith::MulFOp::create(nb, castFloat(nb, args[0], ct),
                                                castFloat(nb, args[1], ct));
          linalg::YieldOp::create(
              nb, Value(arith::AddFOp::create(nb, args[2], product)));
        });

    // Score modifiers and mask, in the order of DESIGN.md §3.
    std::optional<ArrayRef<double>> slopes = op.getAlibiSlopes();
    Value slopeTable = slopes ? constTensor(b, ct, *slopes) : Value();
    Value bias = op.getBias();
    ArrayRef<int64_t> biasShape =
        bias ? cast<RankedTensorType>(bias.getType()).getShape()
             : ArrayRef<int64_t>();
    Value qPos0 = arith::IndexCastOp::create(b, i64, op.getQPosition());
    Value kPos0 = arith::IndexCastOp::create(b, i64, op.getKPosition());

    AffineMap id5 = getDimsMap(ctx, 5, {0, 1, 2, 3, 4});
    Value masked = buildGeneric(
        b, tensor::EmptyOp::create(b, scoreSizes, ct), scores, {id5}, id5, 5, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value bIdx = linalg::IndexOp::create(nb, 0);
          Value hk = linalg::IndexOp::create(nb, 1);
          Value g = linalg::IndexOp::create(nb, 2);
          Value i = linalg::IndexOp::create(nb, 3);
          Value j = linalg::IndexOp::create(nb, 4);
          Value localHead = arith::AddIOp::create(
              nb, arith::MulIOp::create(nb, hk, constIndex(nb, group)), g);
          Value p = arith::AddIOp::create(
              nb, arith::IndexCastOp::create(nb, i64, i), qPos0);
          Value jI = arith::AddIOp::create(
              nb, arith::IndexCastOp::create(nb, i64, j), kPos0);
          Value slope;
          if (slopeTable)
            slope = tensor::ExtractOp::create(
                nb, slopeTable,
                Value(
                    arith::AddIOp::create(nb, localHead, op.getHeadOffset())));
          Value biasTerm;
          if (bias) {
            Value bb = biasShape[0] == 1 ? constIndex(nb, 0) : bIdx;
            Value bh = biasShape[1] == 1 ? constIndex(nb, 0) : localHead;
            biasTerm = castFloat(
                nb,
                tensor::ExtractOp::create(nb, bias, ValueRange{bb, bh, i, j}),
                ct);
          }
          linalg::YieldOp::create(
              nb, buildMaskedScore(nb, nb.getLoc(), scoreAttrs, args[0], p, jI,
                                   slope, biasTerm, /*lognFactor=*/Value(),
                                   /*keyExists=*/Value()));
        });

    // m' = max(m, max_j s): the reduction starts from the running max, which
    // is -inf (never NaN) before the first visible key.
    AffineMap row5 = getDimsMap(ctx, 5, {0, 1, 2, 3});
    AffineMap id4 = getDimsMap(ctx, 4, {0, 1, 2, 3});
    Value newMax = buildGeneric(
        b, max4, masked, {id5}, row5, 5, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(
              nb, Value(arith::MaximumFOp::create(nb, args[0], args[1])));
        });
    // alpha = exp(m - m'), 1 while m' = -inf (acc and sum are still 0).
    Value alpha = buildGeneric(
        b, tensor::EmptyOp::create(b, rowSizes, ct), ValueRange{max4, newMax},
        {id4, id4}, id4, 4, 0, [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value none =
              arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, args[1],
                                    createFloatConstant(nb, ct, negInf));
          Value e = math::ExpOp::create(
              nb, arith::SubFOp::create(nb, args[0], args[1]));
          linalg::YieldOp::create(
              nb, Value(arith::SelectOp::create(
                      nb, none, createFloatConstant(nb, ct, 1.0), e)));
        });
    // p = exp(s - m'), 0 while m' = -inf.
    Value weights = buildGeneric(
        b, tensor::EmptyOp::create(b, scoreSizes, ct),
        ValueRange{masked, newMax}, {id5, row5}, id5, 5, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value none =
              arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, args[1],
                                    createFloatConstant(nb, ct, negInf));
          Value e = math::ExpOp::create(
              nb, arith::SubFOp::create(nb, args[0], args[1]));
          linalg::YieldOp::create(
              nb, Value(arith::SelectOp::create(
                      nb, none, createFloatConstant(nb, ct, 0.0), e)));
        });
    // sum' = alpha * sum + sum_j p.
    Value scaledSum = buildGeneric(
        b, tensor::EmptyOp::create(b, rowSizes, ct), ValueRange{sum4, alpha},
        {id4, id4}, id4, 4, 0, [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(
              nb, Value(arith::MulFOp::create(nb, args[0], args[1])));
        });
    Value newSum = buildGeneric(
        b, scaledSum, weights, {id5}, row5, 5, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(
              nb, Value(arith::AddFOp::create(nb, args[0], args[1])));
        });
    // acc' = alpha * acc + sum_j p v.
    AffineMap row5of5 = getDimsMap(ctx, 5, {0, 1, 2, 3});
    Value scaledAcc = buildGeneric(
        b, tensor::EmptyOp::create(b, accSizes, ct), ValueRange{acc5, alpha},
        {id5, row5of5}, id5, 5, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(
              nb, Value(arith::MulFOp::create(nb, args[0], args[1])));
        });
    Value newAcc = buildGeneric(
        b, scaledAcc, ValueRange{weights, op.getV()},
        {getDimsMap(ctx, 6, {0, 1, 2, 3, 5}), getDimsMap(ctx, 6, {0, 1, 5, 4})},
        getDimsMap(ctx, 6, {0, 1, 2, 3, 4}), 6, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value product =
              arith::MulFOp::create(nb, args[0], castFloat(nb, args[1], ct));
          linalg::YieldOp::create(
              nb, Value(arith::AddFOp::create(nb, args[2], product)));
        });
    rewriter.replaceOp(op, {mergeHeads(b, newAcc), mergeHeads(b, newMax),
                            mergeHeads(b, newSum)});
    return success();
  }
};
//===----------------------------------------------------------------------===//
// attnflow.vector_quantize and attnflow.vq_attention
//===----------------------------------------------------------------------===//

/// Nearest codewords of the vectors of `x` [..., D]: squared distances to
/// every codeword (computed in f32 or f64), a first-minimum argmin (strict <
/// while scanning c upwards, so ties keep the lowest index) and a gather.
/// `codebook` is [C, D], or [H, C, D] indexed by dim 1 of x [B, H, S, D].
std::pair<Value, Value> buildVectorQuantize(ImplicitLocOpBuilder &b, Value x,
                                            Value codebook) {
  MLIRContext *ctx = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  auto cbType = cast<RankedTensorType>(codebook.getType());
  bool perHead = cbType.getRank() == 3;
  unsigned rank = xType.getRank();
  unsigned outer = rank - 1; // x's dims without D
  int64_t numCodes = cbType.getDimSize(cbType.getRank() - 2);
  Type elementType = xType.getElementType();
  FloatType computeType = getAccumulatorType(elementType);
  SmallVector<int64_t> outerShape(xType.getShape().drop_back());

  // dist[..., c] = sum_d (x[..., d] - codebook[(h,) c, d])^2.
  SmallVector<int64_t> distShape(outerShape);
  distShape.push_back(numCodes);
  SmallVector<unsigned> outerDims, xDims, cbDims, distDims;
  for (unsigned i = 0; i < outer; ++i)
    outerDims.push_back(i);
  unsigned cDim = outer, dDim = outer + 1;
  xDims = outerDims;
  xDims.push_back(dDim);
  if (perHead)
    cbDims.push_back(1);
  cbDims.append({cDim, dDim});
  distDims = outerDims;
  distDims.push_back(cDim);
  Value dist = buildGeneric(
      b,
      createFilledTensor(b, distShape, computeType,
                         createFloatConstant(b, computeType, 0.0)),
      {x, codebook},
      {getDimsMap(ctx, outer + 2, xDims), getDimsMap(ctx, outer + 2, cbDims)},
      getDimsMap(ctx, outer + 2, distDims), outer + 2, 1,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value diff =
            arith::SubFOp::create(nb, castFloat(nb, args[0], computeType),
                                  castFloat(nb, args[1], computeType));
        linalg::YieldOp::create(
            nb, ValueRange{arith::AddFOp::create(
                    nb, args[2], arith::MulFOp::create(nb, diff, diff))});
      });

  // (best, idx) over c, scanning upwards.
  Value best = createFilledTensor(
      b, outerShape, computeType,
      createFloatConstant(b, computeType,
                          std::numeric_limits<double>::infinity()));
  Value idx0 =
      createFilledTensor(b, outerShape, b.getI64Type(), constI64(b, 0));
  SmallVector<AffineMap> maps = {getDimsMap(ctx, outer + 1, distDims),
                                 getDimsMap(ctx, outer + 1, outerDims),
                                 getDimsMap(ctx, outer + 1, outerDims)};
  SmallVector<utils::IteratorType> iterators(outer,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto argmin = linalg::GenericOp::create(
      b, TypeRange{best.getType(), idx0.getType()}, ValueRange{dist},
      ValueRange{best, idx0}, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        Value c = arith::IndexCastOp::create(nb, nb.getI64Type(),
                                             linalg::IndexOp::create(nb, cDim));
        Value closer = arith::CmpFOp::create(nb, arith::CmpFPredicate::OLT,
                                             args[0], args[1]);
        linalg::YieldOp::create(
            nb,
            ValueRange{arith::SelectOp::create(nb, closer, args[0], args[1]),
                       arith::SelectOp::create(nb, closer, c, args[2])});
      });
  Value indices = argmin.getResult(1);

  // xq[..., d] = codebook[(h,) idx[...], d].
  Value quantized = buildGeneric(
      b, createEmptyTensor(b, xType.getShape(), elementType), {indices},
      {getDimsMap(ctx, rank, outerDims)},
      AffineMap::getMultiDimIdentityMap(rank, ctx), rank, 0,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        SmallVector<Value> at;
        if (perHead)
          at.push_back(linalg::IndexOp::create(nb, 1));
        at.push_back(
            arith::IndexCastOp::create(nb, nb.getIndexType(), args[0]));
        at.push_back(linalg::IndexOp::create(nb, rank - 1));
        linalg::YieldOp::create(
            nb, ValueRange{tensor::ExtractOp::create(nb, codebook, at)});
      });
  return {indices, quantized};
}

struct VectorQuantizeToLinalg : OpRewritePattern<VectorQuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(VectorQuantizeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto [indices, quantized] =
        buildVectorQuantize(b, op.getX(), op.getCodebook());
    rewriter.replaceOp(op, {indices, quantized});
    return success();
  }
};

/// The reference of DESIGN.md §3 literally: attention(q, quantized k, v).
/// The attention it creates is decomposed by this pass too.
struct VQAttentionToLinalg : OpRewritePattern<VQAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(VQAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value quantizedK =
        buildVectorQuantize(b, op.getK(), op.getCodebook()).second;
    // Absent attributes take attention's defaults (no window, no sinks, no
    // softcap, q_offset = Skv - Sq).
    auto attention = AttentionOp::create(
        b, op.getOutput().getType(), op.getQ(), quantizedK, op.getV(),
        /*bias=*/Value(), b.getF64FloatAttr(op.getEffectiveScale()),
        op.getCausalAttr(), IntegerAttr(), IntegerAttr(), IntegerAttr(),
        IntegerAttr(), FloatAttr(), DenseF64ArrayAttr(), IntegerAttr());
    rewriter.replaceOp(op, attention.getOutput());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// attnflow.linear_attention
//===----------------------------------------------------------------------===//

/// Features of `x` [B, H, S, D] in the stabilized log domain for favor_plus
/// (returns the logits l[b,h,s,m] = sqrt(scale) w_m . x - scale |x|^2 / 2 -
/// ln(M) / 2, so phi = exp(l)), or the features themselves for relu and
/// elu_plus_one.
Value buildFeatures(ImplicitLocOpBuilder &b, LinearAttentionOp op, Value x,
                    FloatType computeType) {
  MLIRContext *ctx = b.getContext();
  ArrayRef<int64_t> shape = cast<RankedTensorType>(x.getType()).getShape();
  if (op.getFeatureMap() != FeatureMap::favor_plus) {
    bool relu = op.getFeatureMap() == FeatureMap::relu;
    return buildGeneric(
        b, createEmptyTensor(b, shape, computeType), {x},
        {AffineMap::getMultiDimIdentityMap(4, ctx)},
        AffineMap::getMultiDimIdentityMap(4, ctx), 4, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value v = castFloat(nb, args[0], computeType);
          Value zero = createFloatConstant(nb, computeType, 0.0);
          Value positive =
              arith::CmpFOp::create(nb, arith::CmpFPredicate::OGT, v, zero);
          Value phi =
              relu ? Value(arith::MaximumFOp::create(nb, v, zero))
                   : Value(arith::SelectOp::create(
                         nb, positive,
                         arith::AddFOp::create(
                             nb, v, createFloatConstant(nb, computeType, 1.0)),
                         math::ExpOp::create(nb, v)));
          linalg::YieldOp::create(nb, ValueRange{phi});
        });
  }
  Value w = op.getProjection();
  int64_t numFeatures = cast<RankedTensorType>(w.getType()).getDimSize(0);
  double scale = op.getEffectiveScale();
  SmallVector<int64_t> rowShape(shape.drop_back());
  SmallVector<int64_t> featShape(rowShape);
  featShape.push_back(numFeatures);
  Value zero = createFloatConstant(b, computeType, 0.0);
  // |x|^2 per row, and w_m . x per (row, m).
  Value norms = buildGeneric(
      b, createFilledTensor(b, rowShape, computeType, zero), {x},
      {AffineMap::getMultiDimIdentityMap(4, ctx)},
      getDimsMap(ctx, 4, {0, 1, 2}), 4, 1,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value v = castFloat(nb, args[0], computeType);
        linalg::YieldOp::create(
            nb, ValueRange{arith::AddFOp::create(
                    nb, args[1], arith::MulFOp::create(nb, v, v))});
      });
  Value dots = buildGeneric(
      b, createFilledTensor(b, featShape, computeType, zero), {x, w},
      {getDimsMap(ctx, 5, {0, 1, 2, 4}), getDimsMap(ctx, 5, {3, 4})},
      getDimsMap(ctx, 5, {0, 1, 2, 3}), 5, 1,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value prod =
            arith::MulFOp::create(nb, castFloat(nb, args[0], computeType),
                                  castFloat(nb, args[1], computeType));
        linalg::YieldOp::create(
            nb, ValueRange{arith::AddFOp::create(nb, args[2], prod)});
      });
  return buildGeneric(
      b, createEmptyTensor(b, featShape, computeType), {dots, norms},
      {AffineMap::getMultiDimIdentityMap(4, ctx),
       getDimsMap(ctx, 4, {0, 1, 2})},
      AffineMap::getMultiDimIdentityMap(4, ctx), 4, 0,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value l = arith::SubFOp::create(
            nb,
            arith::MulFOp::create(
                nb, args[0],
                createFloatConstant(nb, computeType, std::sqrt(scale))),
            arith::AddFOp::create(
                nb,
                arith::MulFOp::create(
                    nb, args[1],
                    createFloatConstant(nb, computeType, scale / 2)),
                createFloatConstant(nb, computeType,
                                    std::log(static_cast<double>(numFeatures)) /
                                        2)));
        linalg::YieldOp::create(nb, ValueRange{l});
      });
}

/// Max of `logits` over the dims not in `keep`, and exp(logits - max).
std::pair<Value, Value> stabilize(ImplicitLocOpBuilder &b, Value logits,
                                  ArrayRef<unsigned> keep,
                                  FloatType computeType) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(logits.getType());
  SmallVector<int64_t> maxShape;
  for (unsigned d : keep)
    maxShape.push_back(type.getDimSize(d));
  // Loops: kept dims first, reduced dims last.
  SmallVector<unsigned> order(keep);
  for (unsigned d = 0; d < 4; ++d)
    if (!llvm::is_contained(keep, d))
      order.push_back(d);
  SmallVector<unsigned> logitDims(4), maxDims;
  for (unsigned i = 0; i < 4; ++i)
    logitDims[order[i]] = i;
  for (unsigned i = 0; i < keep.size(); ++i)
    maxDims.push_back(i);
  Value max = buildGeneric(
      b,
      createFilledTensor(
          b, maxShape, computeType,
          createFloatConstant(b, computeType,
                              -std::numeric_limits<double>::infinity())),
      {logits}, {getDimsMap(ctx, 4, logitDims)}, getDimsMap(ctx, 4, maxDims), 4,
      4 - keep.size(), [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        linalg::YieldOp::create(
            nb, ValueRange{arith::MaximumFOp::create(nb, args[0], args[1])});
      });
  Value phi = buildGeneric(
      b, createEmptyTensor(b, type.getShape(), computeType), {logits, max},
      {AffineMap::getMultiDimIdentityMap(4, ctx), getDimsMap(ctx, 4, keep)},
      AffineMap::getMultiDimIdentityMap(4, ctx), 4, 0,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        linalg::YieldOp::create(
            nb, ValueRange{math::ExpOp::create(
                    nb, arith::SubFOp::create(nb, args[0], args[1]))});
      });
  return {max, phi};
}

/// The reference: the [Sq, Skv] kernel matrix phi(q_i) . phi(k_j) (masked
/// to j <= i when causal), then (K V) / (K 1 + eps). favor_plus subtracts a
/// per-row max from the query logits and a per-(batch, kv head) max from the
/// key logits; eps is rescaled by the factor exp(-(A_i + B)) they remove,
/// so the result is the exact formula.
struct LinearAttentionToLinalg : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = b.getContext();
    ArrayRef<int64_t> qShape = op.getQ().getType().getShape();
    ArrayRef<int64_t> kShape = op.getK().getType().getShape();
    int64_t batch = qShape[0], numHeads = qShape[1], seqQ = qShape[2];
    int64_t numKvHeads = kShape[1], seqKv = kShape[2];
    int64_t headDimV = op.getV().getType().getDimSize(3);
    int64_t group = numHeads / numKvHeads;
    Type elementType = op.getQ().getType().getElementType();
    FloatType computeType = getAccumulatorType(elementType);
    bool favorPlus = op.getFeatureMap() == FeatureMap::favor_plus;

    Value phiQ = buildFeatures(b, op, op.getQ(), computeType);
    Value phiK = buildFeatures(b, op, op.getK(), computeType);
    Value rowMax, kvMax;
    if (favorPlus) {
      std::tie(rowMax, phiQ) = stabilize(b, phiQ, {0, 1, 2}, computeType);
      std::tie(kvMax, phiK) = stabilize(b, phiK, {0, 1}, computeType);
      rowMax = splitHeads(b, rowMax, group);
    }
    phiQ = splitHeads(b, phiQ, group); // [B, Hkv, G, Sq, M]

    // kernel[b, hk, g, i, j] = sum_m phiQ[b, hk, g, i, m] phiK[b, hk, j, m],
    // 0 above the diagonal when causal.
    Value zero = createFloatConstant(b, computeType, 0.0);
    SmallVector<int64_t> kernelShape = {batch, numKvHeads, group, seqQ, seqKv};
    bool causal = op.getCausal();
    Value kernel = buildGeneric(
        b, createFilledTensor(b, kernelShape, computeType, zero), {phiQ, phiK},
        {getDimsMap(ctx, 6, {0, 1, 2, 3, 5}), getDimsMap(ctx, 6, {0, 1, 4, 5})},
        getDimsMap(ctx, 6, {0, 1, 2, 3, 4}), 6, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value sum = arith::AddFOp::create(
              nb, args[2], arith::MulFOp::create(nb, args[0], args[1]));
          if (causal) {
            Value visible = arith::CmpIOp::create(
                nb, arith::CmpIPredicate::ule, linalg::IndexOp::create(nb, 4),
                linalg::IndexOp::create(nb, 3));
            sum = arith::SelectOp::create(nb, visible, sum, args[2]);
          }
          linalg::YieldOp::create(nb, ValueRange{sum});
        });
    // numerator [B, Hkv, G, Sq, Dv] and denominator [B, Hkv, G, Sq].
    SmallVector<int64_t> numShape = {batch, numKvHeads, group, seqQ, headDimV};
    Value numerator = buildGeneric(
        b, createFilledTensor(b, numShape, computeType, zero),
        {kernel, op.getV()},
        {getDimsMap(ctx, 6, {0, 1, 2, 3, 5}), getDimsMap(ctx, 6, {0, 1, 5, 4})},
        getDimsMap(ctx, 6, {0, 1, 2, 3, 4}), 6, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value prod = arith::MulFOp::create(
              nb, args[0], castFloat(nb, args[1], computeType));
          linalg::YieldOp::create(
              nb, ValueRange{arith::AddFOp::create(nb, args[2], prod)});
        });
    Value denominator = buildGeneric(
        b,
        createFilledTensor(b, {batch, numKvHeads, group, seqQ}, computeType,
                           zero),
        {kernel}, {AffineMap::getMultiDimIdentityMap(5, ctx)},
        getDimsMap(ctx, 5, {0, 1, 2, 3}), 5, 1,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(
              nb, ValueRange{arith::AddFOp::create(nb, args[1], args[0])});
        });

    // out = numerator / (denominator + eps'), eps' = eps exp(-(A_i + B)).
    double eps = op.getEps().convertToDouble();
    SmallVector<Value> inputs = {numerator, denominator};
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(5, ctx),
                                   getDimsMap(ctx, 5, {0, 1, 2, 3})};
    if (favorPlus) {
      inputs.append({rowMax, kvMax});
      maps.append(
          {getDimsMap(ctx, 5, {0, 1, 2, 3}), getDimsMap(ctx, 5, {0, 1})});
    }
    Value out = buildGeneric(
        b, createEmptyTensor(b, numShape, elementType), inputs, maps,
        AffineMap::getMultiDimIdentityMap(5, ctx), 5, 0,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value epsilon = createFloatConstant(nb, computeType, eps);
          if (favorPlus)
            epsilon = arith::MulFOp::create(
                nb, epsilon,
                math::ExpOp::create(
                    nb, arith::NegFOp::create(
                            nb, arith::AddFOp::create(nb, args[2], args[3]))));
          Value value = arith::DivFOp::create(
              nb, args[0], arith::AddFOp::create(nb, args[1], epsilon));
          linalg::YieldOp::create(
              nb, ValueRange{castFloat(nb, value, elementType)});
        });
    rewriter.replaceOp(op, mergeHeads(b, out));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct ConvertAttnFlowToLinalgPass
    : mlir::attnflow::impl::ConvertAttnFlowToLinalgPassBase<
          ConvertAttnFlowToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateAttnFlowToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // Pre-order, so that a region op is named rather than its yield.
    WalkResult leftover =
        getOperation()->walk<WalkOrder::PreOrder>([](Operation *op) {
          if (!isa<AttnFlowDialect>(op->getDialect()))
            return WalkResult::advance();
          InFlightDiagnostic diag =
              op->emitOpError("has no reference decomposition to linalg");
          if (auto solve = dyn_cast<RnnSolveOp>(op))
            diag << " for method " << stringifyRnnMethod(solve.getMethod())
                 << ": run --attnflow-lower-rnn-solve first (it lowers the "
                    "Newton updates to linear_recurrence)";
          return WalkResult::interrupt();
        });
    if (leftover.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace

void mlir::attnflow::populateAttnFlowToLinalgPatterns(
    RewritePatternSet &patterns) {
  patterns.add<RopeToLinalg, AttentionToLinalg, OnlineAttentionToLinalg,
               LinearAttentionToLinalg, VectorQuantizeToLinalg,
               VQAttentionToLinalg>(patterns.getContext());
  populateOdeToLinalgPatterns(patterns);
  populateScanToLinalgPatterns(patterns);
}
