//===- TilingInterfaceImpl.cpp - TilingInterface for attnflow ops ---------===//
//
// attnflow.rope tiles over [B, H, S] (a tile always holds whole heads, since
// a rotated pair spans the head dim) so that tile-and-fuse can rotate q inside
// its consumer's tile. attnflow.attention tiles over [B, Hq, Sq]; its tiled
// implementation is the flash-attention loop: the key/value blocks the tile's
// mask can see, each folded into a running softmax, then the division.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

using namespace mlir;
using namespace mlir::attnflow;

/// Key/value block size of the tiled attention loop. A multiple of the
/// vector width; the pipeline exposes query-block tiling as an option.
static constexpr int64_t kKeyBlock = 64;

static SmallVector<Range> domainOf(OpBuilder &b, Location loc, Value value,
                                   unsigned rank) {
  SmallVector<Range> ranges;
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  for (unsigned d = 0; d < rank; ++d)
    ranges.push_back({zero, tensor::getMixedSize(b, loc, value, d), one});
  return ranges;
}

static Value extractSlice(OpBuilder &b, Location loc, Value source,
                          ArrayRef<OpFoldResult> offsets,
                          ArrayRef<OpFoldResult> sizes) {
  SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, source, offsets, sizes,
                                        strides);
}

/// The result tile of a [B, H, S] domain tile: whole head dims of `headDim`.
static void wholeHeadDimTile(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                             ArrayRef<OpFoldResult> sizes, int64_t headDim,
                             SmallVector<OpFoldResult> &resultOffsets,
                             SmallVector<OpFoldResult> &resultSizes) {
  resultOffsets.assign(offsets.begin(), offsets.end());
  resultSizes.assign(sizes.begin(), sizes.end());
  resultOffsets.push_back(b.getIndexAttr(0));
  resultSizes.push_back(b.getIndexAttr(headDim));
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> RopeOp::getLoopIteratorTypes() {
  return SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel);
}

SmallVector<Range> RopeOp::getIterationDomain(OpBuilder &b) {
  return domainOf(b, getLoc(), getX(), 3);
}

FailureOr<TilingResult>
RopeOp::getTiledImplementation(OpBuilder &b, ArrayRef<OpFoldResult> offsets,
                               ArrayRef<OpFoldResult> sizes) {
  // dynamic_ntk reads max(positions) over the whole tensor: keep it whole.
  if (std::optional<RopeScalingAttr> scaling = getScaling();
      scaling && scaling->getKind() == RopeScalingKind::dynamic_ntk)
    return failure();
  Location loc = getLoc();
  int64_t headDim = getX().getType().getDimSize(3);
  SmallVector<OpFoldResult> xOffsets(offsets), xSizes(sizes);
  xOffsets.push_back(b.getIndexAttr(0));
  xSizes.push_back(b.getIndexAttr(headDim));
  Value x = extractSlice(b, loc, getX(), xOffsets, xSizes);

  // positions: [S], [B, S], or with M-RoPE [A, S], [A, B, S].
  auto posType = getPositions().getType();
  SmallVector<OpFoldResult> posOffsets, posSizes;
  if (getMropeSection()) {
    posOffsets.push_back(b.getIndexAttr(0));
    posSizes.push_back(b.getIndexAttr(posType.getDimSize(0)));
  }
  if (posType.getRank() == (getMropeSection() ? 3 : 2)) {
    posOffsets.push_back(offsets[0]);
    posSizes.push_back(sizes[0]);
  }
  posOffsets.push_back(offsets[2]);
  posSizes.push_back(sizes[2]);
  Value positions = extractSlice(b, loc, getPositions(), posOffsets, posSizes);

  Operation *tiled = mlir::clone(b, getOperation(),
                           TypeRange{x.getType()}, ValueRange{x, positions});
  return TilingResult{{tiled},
                      {tiled->getResult(0)},
                      {x.getDefiningOp(), positions.getDefiningOp()}};
}

LogicalResult RopeOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  wholeHeadDimTile(b, offsets, sizes, getX().getType().getDimSize(3),
                   resultOffsets, resultSizes);
  return success();
}

FailureOr<TilingResult>
RopeOp::generateResultTileValue(OpBuilder &b, unsigned resultNumber,
                                ArrayRef<OpFoldResult> offsets,
                                ArrayRef<OpFoldResult> sizes) {
  // A rotated pair spans the head dim: only whole-head slices can be fused.
  std::optional<int64_t> dimOffset = getConstantIntValue(offsets[3]);
  std::optional<int64_t> dimSize = getConstantIntValue(sizes[3]);
  if (!dimOffset || *dimOffset != 0 || !dimSize ||
      *dimSize != getX().getType().getDimSize(3))
    return failure();
  return getTiledImplementation(b, offsets.take_front(3), sizes.take_front(3));
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

SmallVector<utils::IteratorType> AttentionOp::getLoopIteratorTypes() {
  return SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel);
}

SmallVector<Range> AttentionOp::getIterationDomain(OpBuilder &b) {
  return domainOf(b, getLoc(), getQ(), 3);
}

FailureOr<TilingResult>
AttentionOp::getTiledImplementation(OpBuilder &b,
                                    ArrayRef<OpFoldResult> offsets,
                                    ArrayRef<OpFoldResult> sizes) {
  Location loc = getLoc();
  ArrayRef<int64_t> qShape = getQ().getType().getShape();
  ArrayRef<int64_t> kShape = getK().getType().getShape();
  int64_t numHeads = qShape[1], numKvHeads = kShape[1];
  int64_t group = numHeads / numKvHeads;

  // A head tile reads the kv heads of its query heads: one kv head for a
  // single query head, or whole groups when the tile covers groups.
  std::optional<int64_t> headTile = getConstantIntValue(sizes[1]);
  if (!headTile || (*headTile != 1 && *headTile % group != 0))
    return emitOpError() << "expects a query-head tile of 1 or a multiple of "
                         << "Hq / Hkv = " << group;
  AffineExpr h0;
  bindDims(b.getContext(), h0);
  OpFoldResult kvHead = affine::makeComposedFoldedAffineApply(
      b, loc, h0.floorDiv(group), {offsets[1]});
  OpFoldResult kvHeads =
      b.getIndexAttr(*headTile == 1 ? 1 : *headTile / group);

  OpFoldResult zero = b.getIndexAttr(0);
  Value q = extractSlice(b, loc, getQ(), {offsets[0], offsets[1], offsets[2],
                                          zero},
                         {sizes[0], sizes[1], sizes[2],
                          b.getIndexAttr(qShape[3])});
  int64_t headDimV = getV().getType().getDimSize(3);
  FloatType accType = getAccumulatorType(getQ().getType().getElementType());
  OnlineSoftmaxState init = createOnlineSoftmaxInit(
      b, loc, {sizes[0], sizes[1], sizes[2]}, b.getIndexAttr(headDimV),
      accType);

  // The tile's query positions [qPos, pLast] bound its keys (computeKeyBand).
  Value qPos = getValueOrCreateConstantIndexOp(
      b, loc,
      affine::makeComposedFoldedAffineApply(
          b, loc, h0 + getEffectiveQOffset(), {offsets[2]}));
  AffineExpr s0, s1;
  bindSymbols(b.getContext(), s0, s1);
  Value pLast = getValueOrCreateConstantIndexOp(
      b, loc,
      affine::makeComposedFoldedAffineApply(b, loc, s0 + s1 - 1,
                                            {OpFoldResult(qPos), sizes[2]}));
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  KeyBand band = computeKeyBand(b, loc, *this, qPos, pLast);
  int64_t windowLeft = getEffectiveWindowLeft();
  int64_t windowRight = getEffectiveWindowRight();

  Value bias = getBias();
  ArrayRef<int64_t> biasShape =
      bias ? cast<RankedTensorType>(bias.getType()).getShape()
           : ArrayRef<int64_t>();
  Value headOffset = getValueOrCreateConstantIndexOp(b, loc, offsets[1]);
  // A key block [kStart, kStart + size) is interior when every key is
  // visible to every row p in [qPos, pLast]: no mask is needed there. Null
  // when the op has no mask at all.
  auto isInteriorBlock = [&](OpBuilder &nb, Location nloc, Value kStart,
                             Value size) -> Value {
    Value interior;
    auto both = [&](Value cond) {
      interior = interior ? Value(arith::AndIOp::create(nb, nloc, interior,
                                                        cond))
                          : cond;
    };
    auto c = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(nb, nloc, v);
    };
    Value kLast = arith::SubIOp::create(
        nb, nloc, arith::AddIOp::create(nb, nloc, kStart, size), c(1));
    if (getCausal())
      both(arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sle, kLast,
                                 qPos));
    if (windowLeft >= 0)
      both(arith::CmpIOp::create(
          nb, nloc, arith::CmpIPredicate::sge, kStart,
          arith::SubIOp::create(nb, nloc, pLast, c(windowLeft))));
    if (windowRight >= 0)
      both(arith::CmpIOp::create(
          nb, nloc, arith::CmpIPredicate::sle, kLast,
          arith::AddIOp::create(nb, nloc, qPos, c(windowRight))));
    return interior;
  };

  auto foldBlocks = [&](Value begin, Value end,
                        OnlineSoftmaxState state) -> OnlineSoftmaxState {
    auto loop = scf::ForOp::create(
        b, loc, begin, end, cst(kKeyBlock),
        ValueRange{state.acc, state.max, state.sum},
        [&](OpBuilder &nb, Location nloc, Value kStart, ValueRange iters) {
          // affine.min keeps the static bound (64) visible to the value
          // bounds analysis that vector lowerings use.
          AffineExpr d0, s0;
          bindDims(nb.getContext(), d0);
          bindSymbols(nb.getContext(), s0);
          Value blockSize = affine::AffineMinOp::create(
              nb, nloc,
              AffineMap::get(1, 1, {s0 - d0, nb.getAffineConstantExpr(kKeyBlock)},
                             nb.getContext()),
              ValueRange{kStart, end});
          SmallVector<OpFoldResult> kvOffsets = {offsets[0], kvHead, kStart,
                                                 zero};
          Value k = extractSlice(nb, nloc, getK(), kvOffsets,
                                 {sizes[0], kvHeads, blockSize,
                                  nb.getIndexAttr(kShape[3])});
          Value v = extractSlice(nb, nloc, getV(), kvOffsets,
                                 {sizes[0], kvHeads, blockSize,
                                  nb.getIndexAttr(headDimV)});
          Value biasTile;
          if (bias) {
            biasTile = extractSlice(
                nb, nloc, bias,
                {biasShape[0] == 1 ? zero : offsets[0],
                 biasShape[1] == 1 ? zero : offsets[1], offsets[2], kStart},
                {biasShape[0] == 1 ? nb.getIndexAttr(1) : sizes[0],
                 biasShape[1] == 1 ? nb.getIndexAttr(1) : sizes[1], sizes[2],
                 blockSize});
          }
          OnlineSoftmaxState current = {iters[0], iters[1], iters[2]};
          auto fold = [&](OpBuilder &fb, Location floc, bool masked) {
            OnlineSoftmaxState next =
                createOnlineAttention(fb, floc, *this, q, k, v, biasTile,
                                      current, qPos, kStart, headOffset,
                                      masked);
            scf::YieldOp::create(fb, floc,
                                 ValueRange{next.acc, next.max, next.sum});
          };
          Value interior = isInteriorBlock(nb, nloc, kStart, blockSize);
          if (!interior) {
            fold(nb, nloc, /*masked=*/true);
            return;
          }
          // Only blocks that straddle a mask boundary pay for the mask.
          auto split = scf::IfOp::create(
              nb, nloc, interior,
              [&](OpBuilder &tb, Location tloc) { fold(tb, tloc, false); },
              [&](OpBuilder &eb, Location eloc) { fold(eb, eloc, true); });
          scf::YieldOp::create(nb, nloc, split.getResults());
        });
    return {loop.getResult(0), loop.getResult(1), loop.getResult(2)};
  };

  // Sink keys are visited once, in their own loop (their visibility ignores
  // the window but not causality); the band starts after them.
  OnlineSoftmaxState state = init;
  if (band.sinkEnd)
    state = foldBlocks(cst(0), band.sinkEnd, state);
  state = foldBlocks(band.lo, band.hi, state);
  Value out = createOnlineSoftmaxFinalize(
      b, loc, state, getQ().getType().getElementType());
  return TilingResult{{out.getDefiningOp()}, {out}, {q.getDefiningOp()}};
}

LogicalResult AttentionOp::getResultTilePosition(
    OpBuilder &b, unsigned resultNumber, ArrayRef<OpFoldResult> offsets,
    ArrayRef<OpFoldResult> sizes, SmallVector<OpFoldResult> &resultOffsets,
    SmallVector<OpFoldResult> &resultSizes) {
  wholeHeadDimTile(b, offsets, sizes, getV().getType().getDimSize(3),
                   resultOffsets, resultSizes);
  return success();
}
