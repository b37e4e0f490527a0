//===- ChunkLinearAttention.cpp - Linear-time linear / VQ attention -------===//
//
// Rewrites attnflow.linear_attention and attnflow.vq_attention into linalg
// ops on tensors that cost O(S) per head (DESIGN.md §3): key-side states
// (prefix sums of phi(k) v^T, per-code counts and value sums) computed once
// per (batch, kv head) inside an scf.forall, and for causal masks an scf.for
// over chunks carrying those states. Passes.td describes the forms.
//
// The products (features, intra-chunk kernels, state reads and updates,
// VQ scores and weighted sums), the row reductions and the exps are
// register-tiled vector kernels (VectorKernels.h); the rest stays linalg.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"
#include "attnflow/Dialect/AttnFlow/Transforms/VectorKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>
#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CHUNKLINEARATTENTIONPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
constexpr utils::IteratorType kPar = utils::IteratorType::parallel;
constexpr utils::IteratorType kRed = utils::IteratorType::reduction;
constexpr double kInf = std::numeric_limits<double>::infinity();

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value filled(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape, Type type,
             double value) {
  return createFilledTensor(b, shape, type,
                            createFloatConstant(b, type, value));
}

void yield(ImplicitLocOpBuilder &b, Value value) {
  linalg::YieldOp::create(b, ValueRange{value});
}

/// extract_slice with unit strides, rank-reduced to `resultShape`.
Value slice(ImplicitLocOpBuilder &b, Value source,
            ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
            ArrayRef<int64_t> resultShape) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> sizeAttrs, strides;
  for (int64_t size : sizes) {
    sizeAttrs.push_back(b.getIndexAttr(size));
    strides.push_back(b.getIndexAttr(1));
  }
  return tensor::ExtractSliceOp::create(
      b, RankedTensorType::get(resultShape, type.getElementType()), source,
      offsets, sizeAttrs, strides);
}

Value insert(ImplicitLocOpBuilder &b, Value source, Value dest,
             ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> sizeAttrs, strides;
  for (int64_t size : sizes) {
    sizeAttrs.push_back(b.getIndexAttr(size));
    strides.push_back(b.getIndexAttr(1));
  }
  return tensor::InsertSliceOp::create(b, source, dest, offsets, sizeAttrs,
                                       strides);
}

/// [G, L, X] -> [G * L, X] (or [G, L] -> [G * L]): the 2-D rows the vector
/// kernels work on.
Value collapseRows(ImplicitLocOpBuilder &b, Value value) {
  SmallVector<ReassociationIndices> groups = {{0, 1}};
  if (cast<RankedTensorType>(value.getType()).getRank() == 3)
    groups.push_back({2});
  return tensor::CollapseShapeOp::create(b, value, groups);
}

/// The inverse of collapseRows, for `group` heads.
Value expandRows(ImplicitLocOpBuilder &b, Value value, int64_t group) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<int64_t> shape = {group, type.getDimSize(0) / group};
  SmallVector<ReassociationIndices> groups = {{0, 1}};
  if (type.getRank() == 2) {
    shape.push_back(type.getDimSize(1));
    groups.push_back({2});
  }
  return tensor::ExpandShapeOp::create(b, type.clone(shape), value, groups);
}

/// num + w [R, N] x values [N, Dv] and den + the sums over N of w (null
/// num / den: 0): the weighted sums of both linear-time forms (kernel
/// values times V for linear attention, exp scores times per-code means
/// for VQ).
std::pair<Value, Value> weigh(ImplicitLocOpBuilder &b, Value num, Value den,
                              Value w, Value values, int64_t lanes) {
  auto valuesType = cast<RankedTensorType>(values.getType());
  int64_t rows = cast<RankedTensorType>(w.getType()).getDimSize(0);
  VectorMatmul product{w, values, num};
  if (num) {
    product.init = MatmulInit::Accumulate;
  } else {
    product.c =
        createEmptyTensor(b, {rows, valuesType.getDimSize(1)},
                          getAccumulatorType(valuesType.getElementType()));
  }
  return {buildVectorMatmul(b, product, lanes).first,
          buildRowSums(b, w, Value(), /*square=*/false, den, lanes)};
}

/// The q [G, Sq, D], k [Skv, D] and v [Skv, Dv] of one (batch, kv head):
/// its GQA group of query heads starting at `firstHead` and its kv head.
std::tuple<Value, Value, Value> sliceHeads(ImplicitLocOpBuilder &b, Value q,
                                           Value k, Value v, Value batch,
                                           Value kvHead, Value firstHead) {
  ArrayRef<int64_t> qs = cast<RankedTensorType>(q.getType()).getShape();
  ArrayRef<int64_t> ks = cast<RankedTensorType>(k.getType()).getShape();
  int64_t group = qs[1] / ks[1], seqQ = qs[2], headDim = qs[3], seqKv = ks[2];
  int64_t headDimV = cast<RankedTensorType>(v.getType()).getDimSize(3);
  OpFoldResult zero = b.getIndexAttr(0);
  return {slice(b, q, {batch, firstHead, zero, zero}, {1, group, seqQ, headDim},
                {group, seqQ, headDim}),
          slice(b, k, {batch, kvHead, zero, zero}, {1, 1, seqKv, headDim},
                {seqKv, headDim}),
          slice(b, v, {batch, kvHead, zero, zero}, {1, 1, seqKv, headDimV},
                {seqKv, headDimV})};
}

/// The scf.forall over (batch, kv head) writing query heads
/// [hk * G, (hk + 1) * G) of a [B, Hq, Sq, Dv] result: `head(b, batch,
/// kvHead, firstQueryHead, dest)` returns the [G, Sq, Dv] block for the
/// destination slice `dest`.
Value forallHeads(
    ImplicitLocOpBuilder &b, RankedTensorType resultType, int64_t numKvHeads,
    function_ref<Value(ImplicitLocOpBuilder &, Value, Value, Value, Value)>
        head) {
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t group = shape[1] / numKvHeads;
  Value init = createEmptyTensor(b, shape, resultType.getElementType());
  auto forall =
      scf::ForallOp::create(b,
                            ArrayRef<OpFoldResult>{b.getIndexAttr(shape[0]),
                                                   b.getIndexAttr(numKvHeads)},
                            ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value batch = forall.getInductionVars()[0];
  Value kvHead = forall.getInductionVars()[1];
  Value shared = forall.getRegionIterArgs()[0];
  Value firstHead = arith::MulIOp::create(b, kvHead, constIndex(b, group));
  SmallVector<OpFoldResult> offsets = {batch, firstHead, b.getIndexAttr(0),
                                       b.getIndexAttr(0)};
  SmallVector<int64_t> sizes = {1, group, shape[2], shape[3]};
  Value dest = slice(b, shared, offsets, sizes, {group, shape[2], shape[3]});
  Value result = head(b, batch, kvHead, firstHead, dest);
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> sizeAttrs, strides;
  for (int64_t size : sizes) {
    sizeAttrs.push_back(b.getIndexAttr(size));
    strides.push_back(b.getIndexAttr(1));
  }
  tensor::ParallelInsertSliceOp::create(b, result, shared, offsets, sizeAttrs,
                                        strides);
  return forall.getResult(0);
}

//===----------------------------------------------------------------------===//
// attnflow.linear_attention
//===----------------------------------------------------------------------===//

struct LinearAttentionLowering {
  LinearAttentionOp op;
  ImplicitLocOpBuilder &b;
  MLIRContext *ctx;
  int64_t lanes;
  Type elementType;
  FloatType ct;
  bool favor;
  double scale, eps;
  int64_t group, seqQ, seqKv, headDim, headDimV, numFeatures;
  Value wT; // favor_plus: sqrt(scale) W^T [D, M] in ct

  LinearAttentionLowering(LinearAttentionOp op, ImplicitLocOpBuilder &b,
                          int64_t lanes)
      : op(op), b(b), ctx(b.getContext()), lanes(lanes) {
    auto qType = op.getQ().getType();
    elementType = qType.getElementType();
    ct = getAccumulatorType(elementType);
    favor = op.getFeatureMap() == FeatureMap::favor_plus;
    scale = op.getEffectiveScale();
    eps = op.getEps().convertToDouble();
    group = qType.getDimSize(1) / op.getK().getType().getDimSize(1);
    seqQ = qType.getDimSize(2);
    seqKv = op.getK().getType().getDimSize(2);
    headDim = qType.getDimSize(3);
    headDimV = op.getV().getType().getDimSize(3);
    numFeatures = favor ? op.getProjection().getType().getDimSize(0) : headDim;
  }

  /// phi(x) [R, D] of relu / elu_plus_one for rows x [R, D].
  Value plainFeatures(Value x) {
    int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
    return createGeneric(
        b, createEmptyTensor(b, {rows, headDim}, ct), {x},
        {getDimsMap(ctx, 2, {0, 1})}, getDimsMap(ctx, 2, {0, 1}), {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value v = castFloat(nb, a[0], ct);
          Value zero = createFloatConstant(nb, ct, 0.0);
          if (op.getFeatureMap() == FeatureMap::relu) {
            yield(nb, arith::MaximumFOp::create(nb, v, zero));
            return;
          }
          Value positive =
              arith::CmpFOp::create(nb, arith::CmpFPredicate::OGT, v, zero);
          yield(nb, arith::SelectOp::create(
                        nb, positive,
                        arith::AddFOp::create(nb, v,
                                              createFloatConstant(nb, ct, 1.0)),
                        math::ExpOp::create(
                            nb, arith::MinimumFOp::create(nb, v, zero))));
        });
  }

  /// FAVOR+ logits [R, M] of rows x [R, D]: sqrt(scale) w_m . x -
  /// scale |x|^2 / 2 - ln(M) / 2 (the product starts from the shift), and
  /// with `withRowMax` their row maxima [R].
  std::pair<Value, Value> favorLogits(Value x, bool withRowMax = true) {
    int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
    Value norms = buildRowSums(b, x, Value(), /*square=*/true, Value(), lanes);
    Value shifts = createGeneric(
        b, norms, {}, {}, getDimsMap(ctx, 1, {0}), {kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value shift = arith::AddFOp::create(
              nb,
              arith::MulFOp::create(nb, a[0],
                                    createFloatConstant(nb, ct, scale / 2)),
              createFloatConstant(
                  nb, ct, std::log(static_cast<double>(numFeatures)) / 2));
          yield(nb, arith::NegFOp::create(nb, shift));
        });
    VectorMatmul product{x, wT, createEmptyTensor(b, {rows, numFeatures}, ct)};
    product.init = MatmulInit::RowValue;
    product.rowInit = shifts;
    product.rowMax = withRowMax;
    return buildVectorMatmul(b, product, lanes);
  }

  /// B (0-d), the max FAVOR+ key logit of one kv head, which phi(K) is
  /// divided by; folded over chunks of `chunk` keys so that no [Skv, M]
  /// buffer is written.
  Value keyMax(Value kh, int64_t chunk) {
    auto step = [&](ImplicitLocOpBuilder &sb, Value offset, int64_t rows, bool,
                    ValueRange carried) -> SmallVector<Value> {
      LinearAttentionLowering l(op, sb, lanes);
      l.wT = wT;
      OpFoldResult zero = sb.getIndexAttr(0);
      Value kc =
          slice(sb, kh, {offset, zero}, {rows, headDim}, {rows, headDim});
      return {l.foldMax(carried[0], l.favorLogits(kc).second)};
    };
    return buildChunkLoop(b, 0, seqKv, chunk, {filled(b, {}, ct, -kInf)},
                          step)[0];
  }

  /// max(`max` (0-d), max of `values` [R]).
  Value foldMax(Value max, Value values) {
    return createGeneric(b, max, {values}, {getDimsMap(ctx, 1, {0})},
                         getDimsMap(ctx, 1, {}), {kRed},
                         [&](ImplicitLocOpBuilder &nb, ValueRange a) {
                           yield(nb, arith::MaximumFOp::create(nb, a[0], a[1]));
                         });
  }

  /// Key features phi(K) [R, M] of key rows [R, D], for favor_plus divided
  /// by exp(maxB).
  Value keyFeatures(Value keys, Value maxB) {
    if (!favor)
      return plainFeatures(keys);
    return buildExpShifted(b, favorLogits(keys, /*withRowMax=*/false).first,
                           maxB, lanes);
  }

  /// Query features of qc [G, L, D] as rows: phi(Q) [G * L, M] and, for
  /// favor_plus, the per-row max logit A [G * L] divided out of it.
  std::pair<Value, Value> queryFeatures(Value qc) {
    Value x = collapseRows(b, qc);
    if (!favor)
      return {plainFeatures(x), Value()};
    auto [logits, maxA] = favorLogits(x);
    return {buildExpShifted(b, logits, maxA, lanes), maxA};
  }

  /// num [R, Dv] phi(Q) S, den [R] phi(Q) z, for a state S [M, Dv], z [M].
  std::pair<Value, Value> applyState(Value phiQ, Value state, Value sums) {
    int64_t rows = cast<RankedTensorType>(phiQ.getType()).getDimSize(0);
    VectorMatmul product{phiQ, state,
                         createEmptyTensor(b, {rows, headDimV}, ct)};
    return {buildVectorMatmul(b, product, lanes).first,
            buildRowSums(b, phiQ, sums, /*square=*/false, Value(), lanes)};
  }

  /// State += phi(K_c)^T V_c and sums += phi(K_c)^T 1, for k [L, M] and
  /// v [L, Dv] (loops (j, m), rows of k and the sums contiguous).
  std::pair<Value, Value> accumulate(Value state, Value sums, Value k,
                                     Value v) {
    VectorMatmul product{k, v, state};
    product.transposeA = true;
    product.init = MatmulInit::Accumulate;
    state = buildVectorMatmul(b, product, lanes).first;
    sums = createGeneric(b, sums, {k}, {getDimsMap(ctx, 2, {0, 1})},
                         getDimsMap(ctx, 2, {1}), {kRed, kPar},
                         [&](ImplicitLocOpBuilder &nb, ValueRange a) {
                           yield(nb, arith::AddFOp::create(nb, a[1], a[0]));
                         });
    return {state, sums};
  }

  /// num [R, Dv] / (den [R] + eps'), eps' = eps exp(-(A + B)) for
  /// favor_plus (the factor the shifts removed), rounded into dest
  /// [G, L, Dv].
  Value normalize(Value num, Value den, Value maxA, Value maxB, Value dest) {
    SmallVector<Value> inputs = {expandRows(b, num, group),
                                 expandRows(b, den, group)};
    SmallVector<AffineMap> maps = {getDimsMap(ctx, 3, {0, 1, 2}),
                                   getDimsMap(ctx, 3, {0, 1})};
    if (favor) {
      inputs.append({expandRows(b, maxA, group), maxB});
      maps.append({getDimsMap(ctx, 3, {0, 1}), getDimsMap(ctx, 3, {})});
    }
    return createGeneric(
        b, dest, inputs, maps, getDimsMap(ctx, 3, {0, 1, 2}),
        {kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value denominator = a[1];
          if (eps != 0) {
            Value epsilon;
            if (favor)
              epsilon = math::ExpOp::create(
                  nb, arith::SubFOp::create(
                          nb, createFloatConstant(nb, ct, std::log(eps)),
                          arith::AddFOp::create(nb, a[2], a[3])));
            else
              epsilon = createFloatConstant(nb, ct, eps);
            denominator = arith::AddFOp::create(nb, denominator, epsilon);
          }
          Value value = arith::DivFOp::create(nb, a[0], denominator);
          if (favor) {
            // The exact FAVOR+ normalizer is > 0: a 0 here is underflow of
            // every shifted term (and of eps'); output 0, not 0 / 0.
            Value positive = arith::CmpFOp::create(
                nb, arith::CmpFPredicate::OGT, denominator,
                createFloatConstant(nb, ct, 0.0));
            value = arith::SelectOp::create(nb, positive, value,
                                            createFloatConstant(nb, ct, 0.0));
          }
          yield(nb, castFloat(nb, value, elementType));
        });
  }

  Value nonCausal(Value qh, Value kh, Value vh, Value dest) {
    Value phiK, maxB;
    if (favor) {
      auto [logits, rowMax] = favorLogits(kh);
      maxB = foldMax(filled(b, {}, ct, -kInf), rowMax);
      phiK = buildExpShifted(b, logits, maxB, lanes);
    } else {
      phiK = plainFeatures(kh);
    }
    Value state = filled(b, {numFeatures, headDimV}, ct, 0.0);
    Value sums = filled(b, {numFeatures}, ct, 0.0);
    std::tie(state, sums) = accumulate(state, sums, phiK, vh);
    auto [phiQ, maxA] = queryFeatures(qh);
    auto [num, den] = applyState(phiQ, state, sums);
    return normalize(num, den, maxA, maxB, dest);
  }

  /// Chunks of `chunk` rows: the state holds the keys of the chunks before;
  /// the chunk's own keys enter through the masked [G * L, L] kernel. Key
  /// features are computed per chunk (after one pass for the key max), so
  /// the working set stays chunk-sized as S grows.
  Value causal(Value qh, Value kh, Value vh, Value dest, int64_t chunk) {
    Value maxB = favor ? keyMax(kh, chunk) : Value();
    Value state = filled(b, {numFeatures, headDimV}, ct, 0.0);
    Value sums = filled(b, {numFeatures}, ct, 0.0);
    auto step = [&](ImplicitLocOpBuilder &sb, Value offset, int64_t rows,
                    bool last, ValueRange carried) -> SmallVector<Value> {
      LinearAttentionLowering l(op, sb, lanes);
      l.wT = wT;
      return l.chunkBody(offset, rows, last, qh, kh, maxB, vh, carried);
    };
    return buildChunkLoop(b, 0, seqQ, chunk, {state, sums, dest}, step)[2];
  }

  SmallVector<Value> chunkBody(Value offset, int64_t rows, bool last, Value qh,
                               Value kh, Value maxB, Value vh,
                               ValueRange carried) {
    Value state = carried[0], sums = carried[1], out = carried[2];
    OpFoldResult zero = b.getIndexAttr(0);
    Value qc = slice(b, qh, {zero, offset, zero}, {group, rows, headDim},
                     {group, rows, headDim});
    Value kc = keyFeatures(
        slice(b, kh, {offset, zero}, {rows, headDim}, {rows, headDim}), maxB);
    // phi(K_c)^T [M, L] (a chunk-sized transpose), so that the kernel's
    // product reads contiguous keys.
    Value kT = createGeneric(
        b, createEmptyTensor(b, {numFeatures, rows}, ct), {kc},
        {getDimsMap(ctx, 2, {1, 0})}, getDimsMap(ctx, 2, {0, 1}), {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) { yield(nb, a[0]); });
    Value vc = slice(b, vh, {offset, zero}, {rows, headDimV}, {rows, headDimV});
    auto [phiQ, maxA] = queryFeatures(qc);
    // Intra-chunk kernel phi(Q_c) phi(K_c)^T, then j > i zeroed; row r is
    // query row r mod L of its head.
    VectorMatmul intra{phiQ, kT,
                       createEmptyTensor(b, {group * rows, rows}, ct)};
    Value kernel = buildVectorMatmul(b, intra, lanes).first;
    kernel = createGeneric(
        b, kernel, {}, {}, getDimsMap(ctx, 2, {0, 1}), {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value row = linalg::IndexOp::create(nb, 0);
          if (group > 1)
            row = arith::RemUIOp::create(nb, row, constIndex(nb, rows));
          Value visible =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::ule,
                                    linalg::IndexOp::create(nb, 1), row);
          yield(nb, arith::SelectOp::create(nb, visible, a[0],
                                            createFloatConstant(nb, ct, 0.0)));
        });
    auto [num, den] = applyState(phiQ, state, sums);
    std::tie(num, den) = weigh(b, num, den, kernel, vc, lanes);
    SmallVector<OpFoldResult> at = {zero, offset, zero};
    SmallVector<int64_t> sizes = {group, rows, headDimV};
    Value dest = slice(b, out, at, sizes, sizes);
    out = insert(b, normalize(num, den, maxA, maxB, dest), out, at, sizes);
    if (!last)
      std::tie(state, sums) = accumulate(state, sums, kc, vc);
    return {state, sums, out};
  }

  Value lower(int64_t chunk) {
    if (favor) {
      // W^T [D, M] scaled by sqrt(scale), once for all heads.
      Value w = op.getProjection();
      double root = std::sqrt(scale);
      wT = createGeneric(
          b, createEmptyTensor(b, {headDim, numFeatures}, ct), {w},
          {getDimsMap(ctx, 2, {1, 0})}, getDimsMap(ctx, 2, {0, 1}),
          {kPar, kPar}, [&](ImplicitLocOpBuilder &nb, ValueRange a) {
            yield(nb, arith::MulFOp::create(nb, castFloat(nb, a[0], ct),
                                            createFloatConstant(nb, ct, root)));
          });
    }
    bool isCausal = op.getCausal();
    return forallHeads(
        b, op.getOutput().getType(), op.getK().getType().getDimSize(1),
        [&](ImplicitLocOpBuilder &hb, Value batch, Value kvHead,
            Value firstHead, Value dest) {
          LinearAttentionLowering l(op, hb, lanes);
          l.wT = wT;
          auto [qh, kh, vh] = sliceHeads(hb, op.getQ(), op.getK(), op.getV(),
                                         batch, kvHead, firstHead);
          if (isCausal)
            return l.causal(qh, kh, vh, dest, chunk);
          return l.nonCausal(qh, kh, vh, dest);
        });
  }
};

//===----------------------------------------------------------------------===//
// attnflow.vq_attention
//===----------------------------------------------------------------------===//

struct VQAttentionLowering {
  VQAttentionOp op;
  ImplicitLocOpBuilder &b;
  MLIRContext *ctx;
  int64_t lanes;
  Type elementType;
  FloatType ct;
  int64_t group, seqQ, seqKv, headDim, headDimV, numCodes;
  double scale;

  VQAttentionLowering(VQAttentionOp op, ImplicitLocOpBuilder &b, int64_t lanes)
      : op(op), b(b), ctx(b.getContext()), lanes(lanes) {
    auto qType = op.getQ().getType();
    elementType = qType.getElementType();
    ct = getAccumulatorType(elementType);
    group = qType.getDimSize(1) / op.getK().getType().getDimSize(1);
    seqQ = qType.getDimSize(2);
    seqKv = op.getK().getType().getDimSize(2);
    headDim = qType.getDimSize(3);
    headDimV = op.getV().getType().getDimSize(3);
    auto cbType = op.getCodebook().getType();
    numCodes = cbType.getDimSize(cbType.getRank() - 2);
    scale = op.getEffectiveScale();
  }

  /// factor * codebook^T [D, C] in ct, from a [C, D] codebook.
  Value codebookT(Value codebook, double factor) {
    return createGeneric(b, createEmptyTensor(b, {headDim, numCodes}, ct),
                         {codebook}, {getDimsMap(ctx, 2, {1, 0})},
                         getDimsMap(ctx, 2, {0, 1}), {kPar, kPar},
                         [&](ImplicitLocOpBuilder &nb, ValueRange a) {
                           Value x = castFloat(nb, a[0], ct);
                           if (factor != 1.0)
                             x = arith::MulFOp::create(
                                 nb, x, createFloatConstant(nb, ct, factor));
                           yield(nb, x);
                         });
  }

  /// Codes [Skv] (i64) of the keys kh [Skv, D] against cbT [D, C]: the
  /// vector_quantize reference's arithmetic (squared differences summed over
  /// d upwards, a first-minimum argmin, so the same codes bit for bit) with
  /// c innermost, contiguous in cbT.
  Value quantize(Value kh, Value cbT) {
    Value dist = createGeneric(
        b, filled(b, {seqKv, numCodes}, ct, 0.0), {kh, cbT},
        {getDimsMap(ctx, 3, {0, 1}), getDimsMap(ctx, 3, {1, 2})},
        getDimsMap(ctx, 3, {0, 2}), {kPar, kRed, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value diff = arith::SubFOp::create(nb, castFloat(nb, a[0], ct),
                                             castFloat(nb, a[1], ct));
          yield(nb, arith::AddFOp::create(
                        nb, a[2], arith::MulFOp::create(nb, diff, diff)));
        });
    Value best = filled(b, {seqKv}, ct, kInf);
    Value init =
        linalg::FillOp::create(
            b, ValueRange{arith::ConstantIntOp::create(b, b.getI64Type(), 0)},
            ValueRange{tensor::EmptyOp::create(b, ArrayRef<int64_t>{seqKv},
                                               b.getI64Type())})
            .getResult(0);
    auto argmin = linalg::GenericOp::create(
        b, TypeRange{best.getType(), init.getType()}, ValueRange{dist},
        ValueRange{best, init},
        ArrayRef<AffineMap>{getDimsMap(ctx, 2, {0, 1}), getDimsMap(ctx, 2, {0}),
                            getDimsMap(ctx, 2, {0})},
        ArrayRef<utils::IteratorType>{kPar, kRed},
        [&](OpBuilder &nested, Location loc, ValueRange a) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value c = arith::IndexCastOp::create(nb, nb.getI64Type(),
                                               linalg::IndexOp::create(nb, 1));
          Value closer =
              arith::CmpFOp::create(nb, arith::CmpFPredicate::OLT, a[0], a[1]);
          linalg::YieldOp::create(
              nb, ValueRange{arith::SelectOp::create(nb, closer, a[0], a[1]),
                             arith::SelectOp::create(nb, closer, c, a[2])});
        });
    return argmin.getResult(1);
  }

  /// Scores s [G, L, C] = q . (scale c) of query rows qc [G, L, D].
  Value scores(Value qc, Value cbT, int64_t rows) {
    VectorMatmul product{collapseRows(b, qc), cbT,
                         createEmptyTensor(b, {group * rows, numCodes}, ct)};
    return expandRows(b, buildVectorMatmul(b, product, lanes).first, group);
  }

  /// Adds keys [start, start + n) to the per-code counts [C] and value sums
  /// [C, Dv]: a scatter loop, O(n Dv).
  std::pair<Value, Value> addKeys(Value counts, Value sums, Value idx, Value vh,
                                  Value start, int64_t n) {
    Value end = arith::AddIOp::create(b, start, constIndex(b, n));
    auto loop = scf::ForOp::create(
        b, start, end, constIndex(b, 1), ValueRange{counts, sums},
        [&](OpBuilder &nested, Location loc, Value j, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          Value code = arith::IndexCastOp::create(
              nb, nb.getIndexType(), tensor::ExtractOp::create(nb, idx, j));
          Value count = tensor::ExtractOp::create(nb, args[0], code);
          Value newCounts = tensor::InsertOp::create(
              nb,
              arith::AddFOp::create(nb, count,
                                    createFloatConstant(nb, ct, 1.0)),
              args[0], code);
          OpFoldResult zero = nb.getIndexAttr(0);
          Value row =
              slice(nb, args[1], {code, zero}, {1, headDimV}, {headDimV});
          Value value = slice(nb, vh, {j, zero}, {1, headDimV}, {headDimV});
          Value sum = createGeneric(
              nb, row, {value}, {getDimsMap(ctx, 1, {0})},
              getDimsMap(ctx, 1, {0}), {kPar},
              [&](ImplicitLocOpBuilder &bb, ValueRange a) {
                yield(bb,
                      arith::AddFOp::create(bb, a[1], castFloat(bb, a[0], ct)));
              });
          Value newSums = insert(nb, sum, args[1], {code, zero}, {1, headDimV});
          scf::YieldOp::create(nb, ValueRange{newCounts, newSums});
        });
    return {loop.getResult(0), loop.getResult(1)};
  }

  /// Log weights s + ln n_c [G, L, C] (-inf for empty codes) and value
  /// means V_c / max(n_c, 1) [C, Dv].
  std::pair<Value, Value> codeTerms(Value s, Value counts, Value sums,
                                    int64_t rows, bool inPlace) {
    Value logW = createGeneric(
        b, inPlace ? s : createEmptyTensor(b, {group, rows, numCodes}, ct),
        {s, counts}, {getDimsMap(ctx, 3, {0, 1, 2}), getDimsMap(ctx, 3, {2})},
        getDimsMap(ctx, 3, {0, 1, 2}), {kPar, kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          yield(nb,
                arith::AddFOp::create(nb, a[0], math::LogOp::create(nb, a[1])));
        });
    Value means = createGeneric(
        b, createEmptyTensor(b, {numCodes, headDimV}, ct), {sums, counts},
        {getDimsMap(ctx, 2, {0, 1}), getDimsMap(ctx, 2, {0})},
        getDimsMap(ctx, 2, {0, 1}), {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          yield(nb, arith::DivFOp::create(
                        nb, a[0],
                        arith::MaximumFOp::create(
                            nb, a[1], createFloatConstant(nb, ct, 1.0))));
        });
    return {logW, means};
  }

  /// Row max of `logits` [G, L, N] folded into `max` [G, L].
  Value rowMax(Value max, Value logits) {
    return createGeneric(b, max, {logits}, {getDimsMap(ctx, 3, {0, 1, 2})},
                         getDimsMap(ctx, 3, {0, 1}), {kPar, kPar, kRed},
                         [&](ImplicitLocOpBuilder &nb, ValueRange a) {
                           yield(nb, arith::MaximumFOp::create(nb, a[0], a[1]));
                         });
  }

  /// exp(logits - max), in place.
  Value expShifted(Value logits, Value max) {
    return createGeneric(
        b, logits, {max}, {getDimsMap(ctx, 3, {0, 1})},
        getDimsMap(ctx, 3, {0, 1, 2}), {kPar, kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          yield(nb,
                math::ExpOp::create(nb, arith::SubFOp::create(nb, a[1], a[0])));
        });
  }

  /// num [G * L, Dv] / den [G * L], rounded into dest [G, L, Dv].
  Value divide(Value num, Value den, Value dest) {
    return createGeneric(
        b, dest, {expandRows(b, num, group), expandRows(b, den, group)},
        {getDimsMap(ctx, 3, {0, 1, 2}), getDimsMap(ctx, 3, {0, 1})},
        getDimsMap(ctx, 3, {0, 1, 2}), {kPar, kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          yield(nb, castFloat(nb, arith::DivFOp::create(nb, a[0], a[1]),
                              elementType));
        });
  }

  Value nonCausal(Value qh, Value cbT, Value idx, Value vh, Value dest) {
    auto [counts, sums] = addKeys(filled(b, {numCodes}, ct, 0.0),
                                  filled(b, {numCodes, headDimV}, ct, 0.0), idx,
                                  vh, constIndex(b, 0), seqKv);
    Value s = scores(qh, cbT, seqQ);
    auto [logW, means] = codeTerms(s, counts, sums, seqQ, /*inPlace=*/true);
    Value max = rowMax(filled(b, {group, seqQ}, ct, -kInf), logW);
    Value w = expShifted(logW, max);
    auto [num, den] =
        weigh(b, Value(), Value(), collapseRows(b, w), means, lanes);
    return divide(num, den, dest);
  }

  /// Blocks of `block` query rows at positions [p0, p0 + L): the carried
  /// aggregates hold keys [0, p0); keys p0..p are scored exactly.
  Value causal(Value qh, Value cbT, Value idx, Value vh, Value dest,
               int64_t block) {
    int64_t qOffset = seqKv - seqQ;
    int64_t firstRow = std::max<int64_t>(0, -qOffset);
    Value counts = filled(b, {numCodes}, ct, 0.0);
    Value sums = filled(b, {numCodes, headDimV}, ct, 0.0);
    if (qOffset > 0)
      std::tie(counts, sums) =
          addKeys(counts, sums, idx, vh, constIndex(b, 0), qOffset);
    Value out = dest;
    if (firstRow > 0) {
      // Rows before key 0 see no key: 0.
      OpFoldResult zero = b.getIndexAttr(0);
      SmallVector<int64_t> sizes = {group, firstRow, headDimV};
      out = insert(b, filled(b, sizes, elementType, 0.0), out,
                   {zero, zero, zero}, sizes);
    }
    auto step = [&](ImplicitLocOpBuilder &sb, Value offset, int64_t rows,
                    bool last, ValueRange carried) -> SmallVector<Value> {
      VQAttentionLowering l(op, sb, lanes);
      return l.blockBody(offset, rows, last, qh, cbT, idx, vh, carried);
    };
    return buildChunkLoop(b, firstRow, seqQ - firstRow, block,
                          {counts, sums, out}, step)[2];
  }

  SmallVector<Value> blockBody(Value offset, int64_t rows, bool last, Value qh,
                               Value cbT, Value idx, Value vh,
                               ValueRange carried) {
    Value counts = carried[0], sums = carried[1], out = carried[2];
    int64_t qOffset = seqKv - seqQ;
    OpFoldResult zero = b.getIndexAttr(0);
    Value key0 = arith::AddIOp::create(b, offset, constIndex(b, qOffset));
    Value qc = slice(b, qh, {zero, offset, zero}, {group, rows, headDim},
                     {group, rows, headDim});
    Value idxc = slice(b, idx, {key0}, {rows}, {rows});
    Value vc = slice(b, vh, {key0, zero}, {rows, headDimV}, {rows, headDimV});
    Value s = scores(qc, cbT, rows);
    auto [logW, means] = codeTerms(s, counts, sums, rows, /*inPlace=*/false);
    // Exact scores of the block's keys, s[g, i, code(j)], -inf for j > i.
    Value exact = createGeneric(
        b, createEmptyTensor(b, {group, rows, rows}, ct), {idxc},
        {getDimsMap(ctx, 3, {2})}, getDimsMap(ctx, 3, {0, 1, 2}),
        {kPar, kPar, kPar}, [&](ImplicitLocOpBuilder &nb, ValueRange a) {
          Value g = linalg::IndexOp::create(nb, 0);
          Value i = linalg::IndexOp::create(nb, 1);
          Value j = linalg::IndexOp::create(nb, 2);
          Value code = arith::IndexCastOp::create(nb, nb.getIndexType(), a[0]);
          Value score =
              tensor::ExtractOp::create(nb, s, ValueRange{g, i, code});
          Value visible =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::ule, j, i);
          yield(nb,
                arith::SelectOp::create(nb, visible, score,
                                        createFloatConstant(nb, ct, -kInf)));
        });
    Value max = rowMax(filled(b, {group, rows}, ct, -kInf), logW);
    max = rowMax(max, exact);
    Value w = expShifted(logW, max);
    Value e = expShifted(exact, max);
    auto [num, den] =
        weigh(b, Value(), Value(), collapseRows(b, w), means, lanes);
    std::tie(num, den) = weigh(b, num, den, collapseRows(b, e), vc, lanes);
    SmallVector<OpFoldResult> at = {zero, offset, zero};
    SmallVector<int64_t> sizes = {group, rows, headDimV};
    Value dest = slice(b, out, at, sizes, sizes);
    out = insert(b, divide(num, den, dest), out, at, sizes);
    if (!last)
      std::tie(counts, sums) = addKeys(counts, sums, idx, vh, key0, rows);
    return {counts, sums, out};
  }

  Value lower(int64_t defaultBlock) {
    int64_t block = op.getBlockLen() ? static_cast<int64_t>(*op.getBlockLen())
                                     : defaultBlock;
    Value codebook = op.getCodebook();
    bool perHead = cast<RankedTensorType>(codebook.getType()).getRank() == 3;
    // Codebook^T for the distances and scale * codebook^T for the scores,
    // once when shared, per kv head otherwise.
    Value sharedT, sharedScaledT;
    if (!perHead) {
      sharedT = codebookT(codebook, 1.0);
      sharedScaledT = codebookT(codebook, scale);
    }
    bool isCausal = op.getCausal();
    auto kType = op.getK().getType();
    return forallHeads(
        b, op.getOutput().getType(), kType.getDimSize(1),
        [&](ImplicitLocOpBuilder &hb, Value batch, Value kvHead,
            Value firstHead, Value dest) {
          VQAttentionLowering l(op, hb, lanes);
          auto [qh, kh, vh] = sliceHeads(hb, op.getQ(), op.getK(), op.getV(),
                                         batch, kvHead, firstHead);
          Value cbT = sharedT, scaledT = sharedScaledT;
          if (perHead) {
            OpFoldResult zero = hb.getIndexAttr(0);
            Value cb = slice(hb, codebook, {kvHead, zero, zero},
                             {1, numCodes, headDim}, {numCodes, headDim});
            cbT = l.codebookT(cb, 1.0);
            scaledT = l.codebookT(cb, scale);
          }
          Value idx = l.quantize(kh, cbT);
          if (isCausal)
            return l.causal(qh, scaledT, idx, vh, dest, block);
          return l.nonCausal(qh, scaledT, idx, vh, dest);
        });
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

bool hasEmptyDim(Operation *op) {
  for (Type type : op->getOperandTypes())
    if (auto shaped = dyn_cast<ShapedType>(type))
      if (llvm::is_contained(shaped.getShape(), 0))
        return true;
  return false;
}

struct ChunkLinearAttentionPass
    : mlir::attnflow::impl::ChunkLinearAttentionPassBase<
          ChunkLinearAttentionPass> {
  using ChunkLinearAttentionPassBase::ChunkLinearAttentionPassBase;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<LinearAttentionOp, VQAttentionOp>(op) && !hasEmptyDim(op))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    if (chunkSize < 1 || vqBlock < 1 || vectorWidth < 1) {
      ops.front()->emitError()
          << "attnflow-chunk-linear-attention expects chunk-size >= 1, "
             "vq-block >= 1 and vector-width >= 1, got "
          << static_cast<int64_t>(chunkSize) << ", "
          << static_cast<int64_t>(vqBlock) << " and "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      ImplicitLocOpBuilder b(op->getLoc(), rewriter);
      Value result;
      if (auto linear = dyn_cast<LinearAttentionOp>(op))
        result =
            LinearAttentionLowering(linear, b, vectorWidth).lower(chunkSize);
      else
        result = VQAttentionLowering(cast<VQAttentionOp>(op), b, vectorWidth)
                     .lower(vqBlock);
      rewriter.replaceOp(op, result);
    }
  }
};
} // namespace
