//===- AttnFlowOps.cpp - attnflow operations ------------------------------===//
//
// Verifiers state the operand, the expected and the actual value, so that a
// user who wrote the IR by hand can fix it from the message alone.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/RegionUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::attnflow;

/// Checks that `value` has a static shape of rank `rank`; names it `name`.
static LogicalResult verifyStaticRank(Operation *op, Value value,
                                      StringRef name, int64_t rank,
                                      StringRef layout) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != rank)
    return op->emitOpError() << "expects '" << name << "' of rank " << rank
                             << " (" << layout << "), got " << type;
  if (!type.hasStaticShape())
    return op->emitOpError()
           << "expects '" << name
           << "' with a static shape (dynamic sizes, including a dynamic "
              "sequence length, are not supported), got "
           << type;
  return success();
}

/// Checks dimension `dim` of `name` against `expected`; a dynamic size on
/// either side (a tile of a tiled op) is not checked.
static LogicalResult verifyDim(Operation *op, StringRef name, int64_t dim,
                               int64_t actual, int64_t expected,
                               StringRef what) {
  if (actual == expected || ShapedType::isDynamic(actual) ||
      ShapedType::isDynamic(expected))
    return success();
  return op->emitOpError() << "expects '" << name << "' dimension " << dim
                           << " (" << what << ") to be " << expected << ", got "
                           << actual;
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

int64_t RopeOp::getEffectiveRotaryDim() {
  if (std::optional<int64_t> rotaryDim = getRotaryDim())
    return *rotaryDim;
  return getX().getType().getDimSize(3);
}

LogicalResult RopeOp::verify() {
  Operation *op = getOperation();
  auto xType = getX().getType();
  // B, H and S may be dynamic (tiles of a tiled consumer); a rotated pair
  // spans the head dim, which must be known.
  if (xType.getRank() != 4)
    return emitOpError() << "expects 'x' of rank 4 ([B, H, S, D]), got "
                         << xType;
  if (xType.isDynamicDim(3))
    return emitOpError() << "expects 'x' with a static head dim D, got "
                         << xType;
  int64_t batch = xType.getDimSize(0), seq = xType.getDimSize(2),
          headDim = xType.getDimSize(3);
  if (getResult().getType() != xType)
    return emitOpError() << "expects the result type to equal x's type "
                         << xType << ", got " << getResult().getType();

  if (!(getTheta().convertToDouble() > 0.0) ||
      !std::isfinite(getTheta().convertToDouble()))
    return emitOpError() << "expects theta to be a finite value > 0, got "
                         << getTheta().convertToDouble();

  int64_t rotaryDim = getEffectiveRotaryDim();
  if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim)
    return emitOpError() << "expects rotary_dim to be even and in [2, D = "
                         << headDim << "], got " << rotaryDim;

  std::optional<ArrayRef<int64_t>> sections = getMropeSection();
  auto posType = getPositions().getType();
  int64_t posRank = posType.getRank();
  if (sections) {
    if (sections->empty())
      return emitOpError() << "expects a non-empty mrope_section";
    int64_t sum = 0;
    for (int64_t section : *sections) {
      if (section <= 0)
        return emitOpError() << "expects every mrope_section entry to be > 0, "
                                "got "
                             << section;
      if (__builtin_add_overflow(sum, section, &sum))
        return emitOpError() << "expects mrope_section to sum to rotary_dim / "
                                "2 = "
                             << rotaryDim / 2 << ", got a sum beyond int64";
    }
    if (sum != rotaryDim / 2)
      return emitOpError() << "expects mrope_section to sum to rotary_dim / 2 "
                           << "= " << rotaryDim / 2 << ", got " << sum;
    if (posRank != 2 && posRank != 3)
      return emitOpError() << "expects 'positions' of shape [A, S] or "
                              "[A, B, S] with mrope_section, got "
                           << posType;
    int64_t axes = static_cast<int64_t>(sections->size());
    if (failed(verifyDim(op, "positions", 0, posType.getDimSize(0), axes,
                         "number of mrope sections")))
      return failure();
    if (posRank == 3 &&
        failed(verifyDim(op, "positions", 1, posType.getDimSize(1), batch,
                         "batch B of x")))
      return failure();
  } else if (posRank != 1 && posRank != 2) {
    return emitOpError() << "expects 'positions' of shape [S] or [B, S], got "
                         << posType;
  } else if (posRank == 2 &&
             failed(verifyDim(op, "positions", 0, posType.getDimSize(0), batch,
                              "batch B of x"))) {
    return failure();
  }
  if (failed(verifyDim(op, "positions", posRank - 1,
                       posType.getDimSize(posRank - 1), seq,
                       "sequence length S of x")))
    return failure();

  if (std::optional<RopeScalingAttr> scaling = getScaling()) {
    RopeScalingKind kind = scaling->getKind();
    if ((kind == RopeScalingKind::ntk ||
         kind == RopeScalingKind::dynamic_ntk) &&
        rotaryDim <= 2)
      return emitOpError() << "expects rotary_dim > 2 for "
                           << stringifyRopeScalingKind(kind)
                           << " scaling (its exponent is r / (r - 2)), got "
                           << rotaryDim;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getQ().getType().getDimSize(3)));
}

int64_t AttentionOp::getEffectiveQOffset() {
  if (std::optional<int64_t> offset = getQOffset())
    return *offset;
  return getK().getType().getDimSize(2) - getQ().getType().getDimSize(2);
}

/// -1 for a window no key can be outside of (|p - j| <= |q_offset| + Sq + Skv).
static int64_t effectiveWindow(AttentionOp op, int64_t window) {
  int64_t qOffset = op.getEffectiveQOffset();
  int64_t reach = (qOffset < 0 ? -qOffset : qOffset) +
                  op.getQ().getType().getDimSize(2) +
                  op.getK().getType().getDimSize(2);
  return window >= reach ? -1 : window;
}

int64_t AttentionOp::getEffectiveWindowLeft() {
  return effectiveWindow(*this, getWindowLeft());
}

int64_t AttentionOp::getEffectiveWindowRight() {
  return effectiveWindow(*this, getWindowRight());
}

/// Sizes of an attention-shaped op: q [B, Hq, Sq, D], k [B, Hkv, Skv, D],
/// v [B, Hkv, Skv, Dv].
struct AttentionDims {
  int64_t batch, numHeads, seqQ, headDim, numKvHeads, seqKv, headDimV;
  Type elementType;
};

/// Checks the element type of `value` against that of the operand named
/// `reference`.
static LogicalResult verifyElementType(Operation *op, Value value,
                                       StringRef name, Type elementType,
                                       StringRef reference = "q") {
  Type actual = cast<RankedTensorType>(value.getType()).getElementType();
  if (actual == elementType)
    return success();
  return op->emitOpError() << "expects '" << name << "' element type to equal "
                           << reference << "'s element type " << elementType
                           << ", got " << actual;
}

/// The checks attention, linear_attention and vq_attention share: static
/// ranks, one element type, matching B / D / Hkv / Skv, Hq % Hkv == 0 and a
/// [B, Hq, Sq, Dv] result.
static FailureOr<AttentionDims>
verifyAttentionShapes(Operation *op, Value q, Value k, Value v, Value output) {
  if (failed(verifyStaticRank(op, q, "q", 4, "[B, Hq, Sq, D]")) ||
      failed(verifyStaticRank(op, k, "k", 4, "[B, Hkv, Skv, D]")) ||
      failed(verifyStaticRank(op, v, "v", 4, "[B, Hkv, Skv, Dv]")))
    return failure();
  ArrayRef<int64_t> qs = cast<RankedTensorType>(q.getType()).getShape();
  ArrayRef<int64_t> ks = cast<RankedTensorType>(k.getType()).getShape();
  ArrayRef<int64_t> vs = cast<RankedTensorType>(v.getType()).getShape();
  AttentionDims dims = {
      qs[0], qs[1],
      qs[2], qs[3],
      ks[1], ks[2],
      vs[3], cast<RankedTensorType>(q.getType()).getElementType()};
  if (failed(verifyElementType(op, k, "k", dims.elementType)) ||
      failed(verifyElementType(op, v, "v", dims.elementType)))
    return failure();
  if (failed(verifyDim(op, "k", 0, ks[0], dims.batch, "batch B of q")) ||
      failed(verifyDim(op, "k", 3, ks[3], dims.headDim, "head dim D of q")) ||
      failed(verifyDim(op, "v", 0, vs[0], dims.batch, "batch B of q")) ||
      failed(
          verifyDim(op, "v", 1, vs[1], dims.numKvHeads, "kv heads Hkv of k")) ||
      failed(verifyDim(op, "v", 2, vs[2], dims.seqKv, "kv length Skv of k")))
    return failure();
  if (dims.numKvHeads == 0)
    return op->emitOpError() << "expects at least one kv head, got Hkv = 0";
  if (dims.numHeads % dims.numKvHeads != 0)
    return op->emitOpError()
           << "expects the query heads Hq = " << dims.numHeads
           << " to be a multiple of the kv heads Hkv = " << dims.numKvHeads;
  auto resultType = cast<RankedTensorType>(output.getType());
  SmallVector<int64_t> expectedShape = {dims.batch, dims.numHeads, dims.seqQ,
                                        dims.headDimV};
  if (resultType.getShape() != ArrayRef<int64_t>(expectedShape) ||
      resultType.getElementType() != dims.elementType)
    return op->emitOpError()
           << "expects the result type to be "
           << RankedTensorType::get(expectedShape, dims.elementType)
           << " ([B, Hq, Sq, Dv]), got " << resultType;
  if (dims.headDim == 0 || dims.headDimV == 0)
    return op->emitOpError()
           << "expects non-empty head dims, got D = " << dims.headDim
           << " and Dv = " << dims.headDimV;
  return dims;
}

/// Checks an optional `scale` attribute: finite, > 0 when `positive`, and
/// an f32 number unless the op computes in f64.
static LogicalResult verifyScale(Operation *op, std::optional<APFloat> scale,
                                 Type elementType, bool positive) {
  if (!scale)
    return success();
  double value = scale->convertToDouble();
  if (!std::isfinite(value) || (positive && !(value > 0.0)))
    return op->emitOpError() << "expects a finite scale"
                             << (positive ? " > 0" : "") << ", got " << value;
  if (!elementType.isF64() &&
      std::abs(value) > std::numeric_limits<float>::max())
    return op->emitOpError() << "expects a scale representable in f32 for "
                             << elementType << " inputs, got " << value;
  return success();
}

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  FailureOr<AttentionDims> dims =
      verifyAttentionShapes(op, getQ(), getK(), getV(), getOutput());
  if (failed(dims))
    return failure();
  int64_t batch = dims->batch, numHeads = dims->numHeads, seqQ = dims->seqQ,
          seqKv = dims->seqKv;
  Type elementType = dims->elementType;
  auto checkElementType = [&](Value value, StringRef name) {
    return verifyElementType(op, value, name, elementType);
  };

  if (Value bias = getBias()) {
    if (failed(verifyStaticRank(op, bias, "bias", 4, "[B|1, Hq|1, Sq, Skv]")) ||
        failed(checkElementType(bias, "bias")))
      return failure();
    ArrayRef<int64_t> b = cast<RankedTensorType>(bias.getType()).getShape();
    if ((b[0] != 1 && b[0] != batch) || (b[1] != 1 && b[1] != numHeads))
      return emitOpError() << "expects 'bias' dimensions 0 and 1 to be 1 or "
                           << "[B, Hq] = [" << batch << ", " << numHeads
                           << "], got [" << b[0] << ", " << b[1] << "]";
    if (failed(verifyDim(op, "bias", 2, b[2], seqQ, "query length Sq")) ||
        failed(verifyDim(op, "bias", 3, b[3], seqKv, "kv length Skv")))
      return failure();
  }

  // Non-f64 inputs are computed in f32: attributes must be f32 numbers.
  double limit = elementType.isF64() ? std::numeric_limits<double>::max()
                                     : std::numeric_limits<float>::max();
  auto inRange = [&](double value) {
    return std::isfinite(value) && std::abs(value) <= limit;
  };
  if (failed(verifyScale(op, getScale(), elementType, /*positive=*/false)))
    return failure();
  // I64Attr getters return uint64_t; the window and sink values are signed.
  int64_t windowLeft = getWindowLeft(), windowRight = getWindowRight();
  int64_t sinks = getNumSinkTokens();
  if (windowLeft < -1)
    return emitOpError() << "expects window_left >= -1 (-1 = unbounded), got "
                         << windowLeft;
  if (windowRight < -1)
    return emitOpError() << "expects window_right >= -1 (-1 = unbounded), got "
                         << windowRight;
  if (sinks < 0)
    return emitOpError() << "expects num_sink_tokens >= 0, got " << sinks;
  // Positions p = q_offset + i and p +- window stay within int64.
  constexpr int64_t kMaxOffset = int64_t(1) << 60;
  if (std::optional<int64_t> offset = getQOffset();
      offset && (*offset > kMaxOffset || *offset < -kMaxOffset))
    return emitOpError() << "expects |q_offset| <= 2^60, got " << *offset;
  double softcap = getLogitSoftcap().convertToDouble();
  if (!(softcap >= 0.0) || !std::isfinite(softcap))
    return emitOpError() << "expects logit_softcap >= 0 (0 = off), got "
                         << softcap;
  if (!inRange(softcap))
    return emitOpError() << "expects a logit_softcap representable in f32 for "
                         << elementType << " inputs, got " << softcap;
  if (std::optional<ArrayRef<double>> slopes = getAlibiSlopes()) {
    if (static_cast<int64_t>(slopes->size()) != numHeads)
      return emitOpError() << "expects alibi_slopes of length Hq = " << numHeads
                           << ", got " << slopes->size();
    // An empty table would index nothing: with no query head there is no
    // slope to apply, so the attribute must be absent.
    if (slopes->empty())
      return emitOpError() << "expects no alibi_slopes when Hq = 0";
    for (double slope : *slopes)
      if (!inRange(slope))
        return emitOpError() << "expects finite alibi_slopes representable in "
                                "the compute type, got "
                             << slope;
  }
  int64_t lognLen = getLognTrainLen();
  if (lognLen < 0 || lognLen == 1)
    return emitOpError() << "expects logn_train_len = 0 (off) or >= 2, got "
                         << lognLen;
  return success();
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult OnlineAttentionOp::verify() {
  auto checkRank = [&](Value value, StringRef name, int64_t rank,
                       StringRef layout) -> LogicalResult {
    int64_t actual = cast<RankedTensorType>(value.getType()).getRank();
    if (actual == rank)
      return success();
    return emitOpError() << "expects '" << name << "' of rank " << rank << " ("
                         << layout << "), got " << value.getType();
  };
  if (failed(checkRank(getQ(), "q", 4, "[B, Hq, Sq, D]")) ||
      failed(checkRank(getK(), "k", 4, "[B, Hkv, Skv, D]")) ||
      failed(checkRank(getV(), "v", 4, "[B, Hkv, Skv, Dv]")) ||
      failed(checkRank(getAcc(), "acc", 4, "[B, Hq, Sq, Dv]")) ||
      failed(checkRank(getMax(), "max", 3, "[B, Hq, Sq]")))
    return failure();
  Type elementType = getQ().getType().getElementType();
  if (getK().getType().getElementType() != elementType ||
      getV().getType().getElementType() != elementType)
    return emitOpError() << "expects q, k and v of one element type, got "
                         << elementType << ", "
                         << getK().getType().getElementType() << ", "
                         << getV().getType().getElementType();
  Type accType =
      elementType.isF64() ? elementType : Float32Type::get(getContext());
  if (getAcc().getType().getElementType() != accType)
    return emitOpError() << "expects acc, max and sum of element type "
                         << accType << " for " << elementType << " inputs, got "
                         << getAcc().getType().getElementType();
  // Static sizes must agree; dynamic ones (edge tiles) are the tiler's word.
  auto agree = [&](int64_t a, int64_t b, StringRef what) -> LogicalResult {
    if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b)
      return success();
    return emitOpError() << "expects matching " << what << ", got " << a
                         << " and " << b;
  };
  ArrayRef<int64_t> q = getQ().getType().getShape();
  ArrayRef<int64_t> k = getK().getType().getShape();
  ArrayRef<int64_t> v = getV().getType().getShape();
  ArrayRef<int64_t> acc = getAcc().getType().getShape();
  ArrayRef<int64_t> max = getMax().getType().getShape();
  if (failed(agree(q[3], k[3], "head dim D of q and k")) ||
      failed(agree(k[2], v[2], "key count of k and v")) ||
      failed(agree(k[1], v[1], "kv heads of k and v")) ||
      failed(agree(acc[3], v[3], "head dim Dv of acc and v")) ||
      failed(agree(acc[0], q[0], "batch of acc and q")) ||
      failed(agree(acc[1], q[1], "query heads of acc and q")) ||
      failed(agree(acc[2], q[2], "query rows of acc and q")) ||
      failed(agree(max[0], q[0], "batch of max and q")) ||
      failed(agree(max[1], q[1], "query heads of max and q")) ||
      failed(agree(max[2], q[2], "query rows of max and q")))
    return failure();
  if (!ShapedType::isDynamic(q[1]) && !ShapedType::isDynamic(k[1]) &&
      (k[1] == 0 || q[1] % k[1] != 0))
    return emitOpError() << "expects the query heads " << q[1]
                         << " to be a multiple of the kv heads " << k[1];
  if (getMax().getType().getElementType() != accType)
    return emitOpError() << "expects max and sum of element type " << accType
                         << ", got " << getMax().getType().getElementType();
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 4)
      return emitOpError() << "expects 'bias' of rank 4 ([B|1, Hq|1, Sq, "
                              "Skv]), got "
                           << biasType;
    ArrayRef<int64_t> b = biasType.getShape();
    auto broadcasts = [](int64_t size, int64_t full) {
      return size == 1 || ShapedType::isDynamic(size) ||
             ShapedType::isDynamic(full) || size == full;
    };
    if (!broadcasts(b[0], q[0]) || !broadcasts(b[1], q[1]))
      return emitOpError() << "expects 'bias' dimensions 0 and 1 to be 1 or "
                              "those of q "
                           << getQ().getType() << ", got " << biasType;
    if (failed(agree(b[2], q[2], "query rows of bias and q")) ||
        failed(agree(b[3], k[2], "keys of bias and k")))
      return failure();
  }
  if (static_cast<int64_t>(getWindowLeft()) < -1 ||
      static_cast<int64_t>(getWindowRight()) < -1 ||
      static_cast<int64_t>(getNumSinkTokens()) < 0)
    return emitOpError() << "expects window_left, window_right >= -1 and "
                            "num_sink_tokens >= 0";
  return success();
}

#define GET_OP_CLASSES
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.cpp.inc"

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

double LinearAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getQ().getType().getDimSize(3)));
}

LogicalResult LinearAttentionOp::verify() {
  Operation *op = getOperation();
  FailureOr<AttentionDims> dims =
      verifyAttentionShapes(op, getQ(), getK(), getV(), getOutput());
  if (failed(dims))
    return failure();
  bool favorPlus = getFeatureMap() == FeatureMap::favor_plus;
  if (Value projection = getProjection()) {
    if (!favorPlus)
      return emitOpError() << "expects no 'projection' with feature map "
                           << stringifyFeatureMap(getFeatureMap())
                           << " (only favor_plus uses random features)";
    if (failed(verifyStaticRank(op, projection, "projection", 2, "[M, D]")) ||
        failed(
            verifyElementType(op, projection, "projection", dims->elementType)))
      return failure();
    ArrayRef<int64_t> w =
        cast<RankedTensorType>(projection.getType()).getShape();
    if (w[0] < 1)
      return emitOpError() << "expects 'projection' [M, D] with M >= 1 random "
                              "features, got M = "
                           << w[0];
    if (failed(verifyDim(op, "projection", 1, w[1], dims->headDim,
                         "head dim D of q")))
      return failure();
  } else if (favorPlus) {
    return emitOpError() << "expects a 'projection' [M, D] operand with "
                            "feature map favor_plus";
  }
  if (getCausal() && dims->seqQ != dims->seqKv)
    return emitOpError() << "expects Sq == Skv when causal, got Sq = "
                         << dims->seqQ << " and Skv = " << dims->seqKv;
  if (failed(verifyScale(op, getScale(), dims->elementType, /*positive=*/true)))
    return failure();
  double eps = getEps().convertToDouble();
  if (!std::isfinite(eps) || !(eps >= 0.0))
    return emitOpError() << "expects a finite eps >= 0, got " << eps;
  // Non-f64 inputs are computed in f32, where a smaller eps would be 0 or a
  // denormal and no longer keep the normalizer away from 0.
  if (!dims->elementType.isF64() && eps != 0.0 &&
      (eps < std::numeric_limits<float>::min() ||
       eps > std::numeric_limits<float>::max()))
    return emitOpError() << "expects eps = 0 or a normal f32 number for "
                         << dims->elementType << " inputs, got " << eps;
  return success();
}

//===----------------------------------------------------------------------===//
// VectorQuantizeOp and VQAttentionOp
//===----------------------------------------------------------------------===//

/// Checks `codebook` [C, D] (shared) or [H, C, D] (per head) against the
/// head dim D, the element type of the operand named `reference` and, for a
/// per-head codebook, `numHeads` (`heads` names it).
static LogicalResult verifyCodebook(Operation *op, Value codebook,
                                    int64_t headDim, Type elementType,
                                    StringRef reference,
                                    std::optional<int64_t> numHeads,
                                    StringRef heads) {
  auto type = cast<RankedTensorType>(codebook.getType());
  if (type.getRank() != 2 && type.getRank() != 3)
    return op->emitOpError() << "expects 'codebook' of rank 2 ([C, D]) or 3 "
                                "([H, C, D]), got "
                             << type;
  if (!type.hasStaticShape())
    return op->emitOpError()
           << "expects 'codebook' with a static shape, got " << type;
  if (failed(
          verifyElementType(op, codebook, "codebook", elementType, reference)))
    return failure();
  int64_t rank = type.getRank();
  if (rank == 3 && !numHeads)
    return op->emitOpError() << "expects a shared 'codebook' [C, D] for x of "
                                "rank other than 4 ([B, H, S, D]), got "
                             << type;
  if (rank == 3 && failed(verifyDim(op, "codebook", 0, type.getDimSize(0),
                                    *numHeads, heads)))
    return failure();
  if (type.getDimSize(rank - 2) < 1)
    return op->emitOpError()
           << "expects a non-empty 'codebook' (C >= 1), got " << type;
  return verifyDim(op, "codebook", rank - 1, type.getDimSize(rank - 1), headDim,
                   "head dim D");
}

LogicalResult VectorQuantizeOp::verify() {
  Operation *op = getOperation();
  RankedTensorType xType = getX().getType();
  if (xType.getRank() < 1 || !xType.hasStaticShape())
    return emitOpError() << "expects 'x' [..., D] of rank >= 1 with a static "
                            "shape, got "
                         << xType;
  int64_t rank = xType.getRank();
  std::optional<int64_t> numHeads;
  if (rank == 4)
    numHeads = xType.getDimSize(1);
  if (failed(verifyCodebook(op, getCodebook(), xType.getDimSize(rank - 1),
                            xType.getElementType(), "x", numHeads,
                            "heads H of x")))
    return failure();
  auto indicesType = RankedTensorType::get(xType.getShape().drop_back(),
                                           IntegerType::get(getContext(), 64));
  if (getIndices().getType() != indicesType)
    return emitOpError() << "expects 'indices' of type " << indicesType
                         << " (x's shape without D), got "
                         << getIndices().getType();
  if (getQuantized().getType() != xType)
    return emitOpError() << "expects 'quantized' of x's type " << xType
                         << ", got " << getQuantized().getType();
  return success();
}

double VQAttentionOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  return 1.0 / std::sqrt(static_cast<double>(getQ().getType().getDimSize(3)));
}

LogicalResult VQAttentionOp::verify() {
  Operation *op = getOperation();
  FailureOr<AttentionDims> dims =
      verifyAttentionShapes(op, getQ(), getK(), getV(), getOutput());
  if (failed(dims) ||
      failed(verifyCodebook(op, getCodebook(), dims->headDim, dims->elementType,
                            "q", dims->numKvHeads, "kv heads Hkv of k")) ||
      failed(verifyScale(op, getScale(), dims->elementType,
                         /*positive=*/true)))
    return failure();
  if (std::optional<int64_t> blockLen = getBlockLen();
      blockLen && static_cast<int64_t>(*blockLen) < 1)
    return emitOpError() << "expects block_len >= 1, got "
                         << static_cast<int64_t>(*blockLen);
  return success();
}

//===----------------------------------------------------------------------===//
// YieldOp
//===----------------------------------------------------------------------===//

LogicalResult YieldOp::verify() {
  Operation *parent = getOperation()->getParentOp();
  if (!parent || !isa<AttnFlowDialect>(parent->getDialect()))
    return emitOpError()
           << "expects a parent op of the attnflow dialect (rnn_solve, "
              "ode_solve or ode_step), got "
           << (parent ? parent->getName().getStringRef() : "none");
  return success();
}

//===----------------------------------------------------------------------===//
// LinearRecurrenceOp and RnnSolveOp
//===----------------------------------------------------------------------===//

/// Checks that no size of `name`'s static shape is 0 (a scan over nothing).
static LogicalResult verifyNonEmpty(Operation *op, Value value,
                                    StringRef name) {
  auto type = cast<RankedTensorType>(value.getType());
  if (llvm::is_contained(type.getShape(), 0))
    return op->emitOpError()
           << "expects '" << name << "' with non-zero sizes, got " << type;
  return success();
}

LogicalResult LinearRecurrenceOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyStaticRank(op, getB(), "b", 3, "[B, T, N]")) ||
      failed(verifyNonEmpty(op, getB(), "b")))
    return failure();
  auto bType = cast<RankedTensorType>(getB().getType());
  ArrayRef<int64_t> bs = bType.getShape();
  Type elementType = bType.getElementType();
  int64_t aRank = getA().getType().getRank();
  if (aRank != 3 && aRank != 4)
    return emitOpError() << "expects 'a' of rank 3 ([B, T, N], diagonal) or 4 "
                            "([B, T, N, N], dense), got "
                         << getA().getType();
  if (failed(verifyStaticRank(op, getA(), "a", aRank,
                              aRank == 3 ? "[B, T, N]" : "[B, T, N, N]")) ||
      failed(verifyElementType(op, getA(), "a", elementType, "b")))
    return failure();
  ArrayRef<int64_t> as = getA().getType().getShape();
  const char *what[] = {"batch B of b", "length T of b", "state size N of b",
                        "state size N of b"};
  for (int64_t d = 0; d < aRank; ++d)
    if (failed(
            verifyDim(op, "a", d, as[d], bs[std::min<int64_t>(d, 2)], what[d])))
      return failure();
  if (Value h0 = getH0()) {
    if (failed(verifyStaticRank(op, h0, "h0", 2, "[B, N]")) ||
        failed(verifyElementType(op, h0, "h0", elementType, "b")))
      return failure();
    ArrayRef<int64_t> hs = cast<RankedTensorType>(h0.getType()).getShape();
    if (failed(verifyDim(op, "h0", 0, hs[0], bs[0], what[0])) ||
        failed(verifyDim(op, "h0", 1, hs[1], bs[2], what[2])))
      return failure();
  }
  if (getResult().getType() != bType)
    return emitOpError() << "expects the result type to equal b's type "
                         << bType << " ([B, T, N]), got "
                         << getResult().getType();
  return success();
}

YieldOp RnnSolveOp::getCellYield() {
  return cast<YieldOp>(getCell().front().getTerminator());
}

LogicalResult RnnSolveOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyStaticRank(op, getH0(), "h0", 2, "[B, N]")) ||
      failed(verifyNonEmpty(op, getH0(), "h0")) ||
      failed(verifyStaticRank(op, getU(), "u", 3, "[B, T, M]")) ||
      failed(verifyNonEmpty(op, getU(), "u")))
    return failure();
  auto h0Type = cast<RankedTensorType>(getH0().getType());
  ArrayRef<int64_t> us = getU().getType().getShape();
  Type elementType = h0Type.getElementType();
  if (failed(verifyElementType(op, getU(), "u", elementType, "h0")) ||
      failed(
          verifyDim(op, "u", 0, us[0], h0Type.getDimSize(0), "batch B of h0")))
    return failure();
  auto statesType =
      RankedTensorType::get({us[0], us[1], h0Type.getDimSize(1)}, elementType);
  if (getStates().getType() != statesType)
    return emitOpError() << "expects result 'states' of type " << statesType
                         << " ([B, T, N]), got " << getStates().getType();
  auto itersType =
      RankedTensorType::get({}, IntegerType::get(getContext(), 64));
  if (getIters().getType() != itersType)
    return emitOpError() << "expects result 'iters' of type " << itersType
                         << ", got " << getIters().getType();
  if (getMaxIterations() < 1)
    return emitOpError() << "expects max_iterations >= 1, got "
                         << getMaxIterations();
  double tolerance = getTolerance().convertToDouble();
  if (!std::isfinite(tolerance) || tolerance < 0.0)
    return emitOpError() << "expects a finite tolerance >= 0, got "
                         << tolerance;
  return success();
}

LogicalResult RnnSolveOp::verifyRegions() {
  auto h0Type = cast<RankedTensorType>(getH0().getType());
  Type elementType = h0Type.getElementType();
  int64_t n = h0Type.getDimSize(1);
  auto stateType = RankedTensorType::get({n}, elementType);
  auto inputType =
      RankedTensorType::get({getU().getType().getDimSize(2)}, elementType);
  SmallVector<Type> argTypes = {stateType, inputType};
  llvm::append_range(argTypes, getParams().getTypes());
  SmallVector<std::string> argNames = {"h", "u_t"};
  for (unsigned i = 0, e = getParams().size(); i < e; ++i)
    argNames.push_back("params #" + std::to_string(i));

  FailureOr<YieldOp> cellYield = verifyRegionSignature(
      getOperation(), getCell(), "cell", argTypes, argNames);
  if (failed(cellYield) || failed(verifyYieldsOneOf(getOperation(), *cellYield,
                                                    "cell", stateType, "h_t")))
    return failure();
  if (!hasJacobian())
    return success();

  FailureOr<YieldOp> jacobianYield = verifyRegionSignature(
      getOperation(), getJacobian(), "jacobian", argTypes, argNames);
  if (failed(jacobianYield))
    return failure();
  SmallVector<Type> allowed = {RankedTensorType::get({n, n}, elementType)};
  if (getMethod() == RnnMethod::quasi_newton)
    allowed.push_back(stateType);
  return verifyYieldsOneOf(getOperation(), *jacobianYield, "jacobian", allowed,
                           getMethod() == RnnMethod::quasi_newton
                               ? "df/dh (dense, or its diagonal)"
                               : "df/dh");
}

//===----------------------------------------------------------------------===//
// OdeSolveOp and OdeStepOp
//===----------------------------------------------------------------------===//

/// Checks a static state `name` and the `velocity` region of ode_solve /
/// ode_step: ^bb0(x: stateType, t: f32, params...) yielding one stateType.
static LogicalResult verifyVelocityRegion(Operation *op, Region &velocity,
                                          RankedTensorType stateType,
                                          StringRef name, ValueRange params) {
  SmallVector<Type> argTypes = {stateType, Float32Type::get(op->getContext())};
  llvm::append_range(argTypes, params.getTypes());
  SmallVector<std::string> argNames = {name.str(), "t"};
  for (size_t i = 0; i < params.size(); ++i)
    argNames.push_back("params #" + std::to_string(i));
  FailureOr<YieldOp> yield =
      verifyRegionSignature(op, velocity, "velocity", argTypes, argNames);
  if (failed(yield))
    return failure();
  Type yieldType = stateType;
  return verifyYieldsOneOf(op, *yield, "velocity", yieldType,
                           "v with " + name.str() + "'s type");
}

static LogicalResult verifyStaticState(Operation *op, Value state,
                                       StringRef name) {
  auto type = cast<RankedTensorType>(state.getType());
  if (!type.hasStaticShape())
    return op->emitOpError()
           << "expects '" << name << "' with a static shape, got " << type;
  return success();
}

double OdeSolveOp::getEffectiveT0() {
  if (std::optional<APFloat> t0 = getT0())
    return t0->convertToDouble();
  return getTimeGrid() ? getTimeGrid()->front() : 0.0;
}

double OdeSolveOp::getEffectiveT1() {
  if (std::optional<APFloat> t1 = getT1())
    return t1->convertToDouble();
  return getTimeGrid() ? getTimeGrid()->back() : 1.0;
}

int64_t OdeSolveOp::getEffectiveNumSteps() {
  if (std::optional<ArrayRef<double>> grid = getTimeGrid())
    return static_cast<int64_t>(grid->size()) - 1;
  return getNumSteps().value_or(0);
}

LogicalResult OdeSolveOp::verify() {
  if (failed(verifyStaticState(*this, getX0(), "x0")))
    return failure();
  for (auto [name, value] :
       {std::pair<StringRef, std::optional<APFloat>>{"t0", getT0()},
        {"t1", getT1()}})
    if (value && !std::isfinite(value->convertToDouble()))
      return emitOpError() << "expects " << name << " to be finite, got "
                           << value->convertToDouble();
  // A plain flag and value: GCC 12 misreads std::optional in diagnostics.
  bool hasSteps = getNumSteps().has_value();
  int64_t steps = getNumSteps().value_or(0);
  if (hasSteps && steps < 1)
    return emitOpError() << "expects num_steps >= 1, got " << steps;
  if (hasSteps && getReturnTrajectory() &&
      steps == std::numeric_limits<int64_t>::max())
    return emitOpError() << "expects num_steps + 1 (the trajectory length) "
                            "to fit in int64, got num_steps = "
                         << steps;
  if (std::optional<ArrayRef<double>> grid = getTimeGrid()) {
    int64_t size = static_cast<int64_t>(grid->size());
    if (size < 2)
      return emitOpError() << "expects a time_grid of at least 2 times, got "
                           << size;
    for (auto [i, time] : llvm::enumerate(*grid))
      if (!std::isfinite(time))
        return emitOpError() << "expects finite time_grid times, got " << time
                             << " at index " << i;
    bool increasing = (*grid)[1] > (*grid)[0];
    for (int64_t i = 1; i < size; ++i) {
      double prev = (*grid)[i - 1], next = (*grid)[i];
      if (increasing ? !(next > prev) : !(next < prev))
        return emitOpError()
               << "expects a strictly "
               << (increasing ? "increasing" : "decreasing")
               << " time_grid (as its first step), got " << prev << " then "
               << next << " at indices " << i - 1 << " and " << i;
    }
    if (hasSteps && steps != size - 1)
      return emitOpError() << "expects num_steps to equal the time_grid "
                              "length - 1 = "
                           << size - 1 << ", got " << steps;
    for (auto [name, value, end] :
         {std::tuple<StringRef, std::optional<APFloat>, double>{"t0", getT0(),
                                                                grid->front()},
          {"t1", getT1(), grid->back()}})
      if (value && value->convertToDouble() != end)
        return emitOpError() << "expects " << name
                             << " to be absent or equal the time_grid's "
                             << (name == "t0" ? "first" : "last") << " time "
                             << end << ", got " << value->convertToDouble();
  } else if (!hasSteps) {
    return emitOpError() << "expects num_steps (>= 1) or a time_grid";
  }

  auto stateType = getX0().getType();
  // The velocity's t is f32, and steps are computed in f32 (f64 for f64
  // states): a time or step that overflows would silently become inf.
  constexpr double kF32Max = std::numeric_limits<float>::max();
  SmallVector<double> times;
  if (std::optional<ArrayRef<double>> grid = getTimeGrid())
    llvm::append_range(times, *grid);
  else
    times = {getEffectiveT0(), getEffectiveT1()};
  for (double time : times)
    if (!(std::abs(time) <= kF32Max))
      return emitOpError() << "expects times that fit in f32 (the type of "
                              "the velocity's t), got "
                           << time;
  if (!stateType.getElementType().isF64())
    for (size_t i = 1; i < times.size(); ++i)
      if (!(std::abs(times[i] - times[i - 1]) <= kF32Max))
        return emitOpError() << "expects steps that fit in f32 (the compute "
                                "type of the state), got a step from "
                             << times[i - 1] << " to " << times[i];
  RankedTensorType expected = stateType;
  if (getReturnTrajectory()) {
    int64_t points =
        getTimeGrid() ? static_cast<int64_t>(getTimeGrid()->size()) : steps + 1;
    SmallVector<int64_t> shape = {points};
    llvm::append_range(shape, stateType.getShape());
    expected = RankedTensorType::get(shape, stateType.getElementType());
  }
  if (getResult().getType() != expected)
    return emitOpError() << "expects the result type to be " << expected
                         << (getReturnTrajectory()
                                 ? " ([num_steps + 1, ...x0] with "
                                   "return_trajectory)"
                                 : " (x0's type)")
                         << ", got " << getResult().getType();
  return success();
}

LogicalResult OdeSolveOp::verifyRegions() {
  return verifyVelocityRegion(*this, getVelocity(), getX0().getType(), "x0",
                              getParams());
}

LogicalResult OdeStepOp::verify() {
  if (failed(verifyStaticState(*this, getX(), "x")))
    return failure();
  if (getResult().getType() != getX().getType())
    return emitOpError() << "expects the result type to equal x's type "
                         << getX().getType() << ", got "
                         << getResult().getType();
  return success();
}

LogicalResult OdeStepOp::verifyRegions() {
  return verifyVelocityRegion(*this, getVelocity(), getX().getType(), "x",
                              getParams());
}
