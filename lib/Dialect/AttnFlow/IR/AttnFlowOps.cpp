//===- AttnFlowOps.cpp - attnflow operations ------------------------------===//
//
// Verifiers state the operand, the expected and the actual value, so that a
// user who wrote the IR by hand can fix it from the message alone.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

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
    if (posRank == 3 && failed(verifyDim(op, "positions", 1,
                                         posType.getDimSize(1), batch,
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

LogicalResult AttentionOp::verify() {
  Operation *op = getOperation();
  if (failed(verifyStaticRank(op, getQ(), "q", 4, "[B, Hq, Sq, D]")) ||
      failed(verifyStaticRank(op, getK(), "k", 4, "[B, Hkv, Skv, D]")) ||
      failed(verifyStaticRank(op, getV(), "v", 4, "[B, Hkv, Skv, Dv]")))
    return failure();
  ArrayRef<int64_t> q = getQ().getType().getShape();
  ArrayRef<int64_t> k = getK().getType().getShape();
  ArrayRef<int64_t> v = getV().getType().getShape();
  int64_t batch = q[0], numHeads = q[1], seqQ = q[2], headDim = q[3];
  int64_t numKvHeads = k[1], seqKv = k[2], headDimV = v[3];

  Type elementType = getQ().getType().getElementType();
  auto checkElementType = [&](Value value, StringRef name) -> LogicalResult {
    Type actual = cast<RankedTensorType>(value.getType()).getElementType();
    if (actual == elementType)
      return success();
    return emitOpError() << "expects '" << name << "' element type to equal "
                         << "q's element type " << elementType << ", got "
                         << actual;
  };
  if (failed(checkElementType(getK(), "k")) ||
      failed(checkElementType(getV(), "v")))
    return failure();

  if (failed(verifyDim(op, "k", 0, k[0], batch, "batch B of q")) ||
      failed(verifyDim(op, "k", 3, k[3], headDim, "head dim D of q")) ||
      failed(verifyDim(op, "v", 0, v[0], batch, "batch B of q")) ||
      failed(verifyDim(op, "v", 1, v[1], numKvHeads, "kv heads Hkv of k")) ||
      failed(verifyDim(op, "v", 2, v[2], seqKv, "kv length Skv of k")))
    return failure();
  if (numKvHeads == 0 || numHeads % numKvHeads != 0)
    return emitOpError() << "expects the query heads Hq = " << numHeads
                         << " to be a multiple of the kv heads Hkv = "
                         << numKvHeads;

  auto resultType = getOutput().getType();
  SmallVector<int64_t> expectedShape = {batch, numHeads, seqQ, headDimV};
  if (resultType.getShape() != ArrayRef<int64_t>(expectedShape) ||
      resultType.getElementType() != elementType)
    return emitOpError() << "expects the result type to be "
                         << RankedTensorType::get(expectedShape, elementType)
                         << " ([B, Hq, Sq, Dv]), got " << resultType;

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
  if (getScale()) {
    double scale = getScale()->convertToDouble();
    if (!std::isfinite(scale))
      return emitOpError() << "expects a finite scale, got " << scale;
    if (!inRange(scale))
      return emitOpError() << "expects a scale representable in f32 for "
                           << elementType << " inputs, got " << scale;
  }
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
  if (headDim == 0 || headDimV == 0)
    return emitOpError() << "expects non-empty head dims, got D = " << headDim
                         << " and Dv = " << headDimV;
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
  Type accType = elementType.isF64() ? elementType
                                     : Float32Type::get(getContext());
  if (getAcc().getType().getElementType() != accType)
    return emitOpError() << "expects acc, max and sum of element type "
                         << accType << " for " << elementType
                         << " inputs, got "
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
