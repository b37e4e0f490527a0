//===- AttentionUtils.h - Building blocks of attention lowerings -*- C++ -*-===//
//
// The pieces that the reference decomposition and the tiled implementation of
// `attnflow.attention` share: the running-softmax state, the op that folds a
// key/value block into it, and the final division.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONUTILS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONUTILS_H

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::attnflow {

/// The type scores and running sums are computed in: f64 for f64 inputs,
/// f32 for f32, f16 and bf16 (DESIGN.md §3).
FloatType getAccumulatorType(Type elementType);

/// The empty running-softmax state of `numRows` = [B, Hq, Sq] query rows:
/// acc = 0 `[B, Hq, Sq, Dv]`, max = -inf and sum = 0 `[B, Hq, Sq]`.
struct OnlineSoftmaxState {
  Value acc, max, sum;
};
OnlineSoftmaxState createOnlineSoftmaxInit(OpBuilder &b, Location loc,
                                           ArrayRef<OpFoldResult> rows,
                                           OpFoldResult headDimV,
                                           FloatType accType);

/// Folds one key/value block into `state` with the score attributes of
/// `attention`; positions and the head offset are absolute (see
/// OnlineAttentionOp). `masked = false` drops the mask attributes (causal,
/// windows, sinks) for a block the caller knows to be fully visible.
OnlineSoftmaxState createOnlineAttention(OpBuilder &b, Location loc,
                                         AttentionOp attention, Value q,
                                         Value k, Value v, Value bias,
                                         OnlineSoftmaxState state,
                                         Value qPosition, Value kPosition,
                                         Value headOffset, bool masked = true);

/// The attention output acc / sum, 0 for rows whose sum is 0 (no visible
/// key), rounded to `elementType`.
Value createOnlineSoftmaxFinalize(OpBuilder &b, Location loc,
                                  OnlineSoftmaxState state, Type elementType);

/// The log-n factor g(p) = max(1, ln(p + 1) / ln(lognLen)), 1 when p + 1 <= 1,
/// for positions `p` (i64, or a vector of i64) in `floatType`'s element type
/// (a float, or a vector of floats shaped like `p`).
Value buildLognFactor(OpBuilder &b, Location loc, int64_t lognLen, Value p,
                      Type floatType);

/// The score and mask attributes of DESIGN.md §3 with defaults resolved:
/// windows -1 = unbounded, softcap 0 = off, lognTrainLen 0 = off. Kernels
/// that do not build an OnlineAttentionOp (the GPU path) read them from the
/// AttentionOp.
struct AttentionScoreAttrs {
  double scale;
  bool causal;
  int64_t windowLeft, windowRight, numSinkTokens;
  double logitSoftcap;
  int64_t lognTrainLen;

  static AttentionScoreAttrs get(AttentionOp op);
  static AttentionScoreAttrs get(OnlineAttentionOp op);
};

/// The keys a block of query rows with positions [pFirst, pLast] (index
/// values) can see: the band [lo, hi) = [max(0, pFirst - window_left),
/// min(Skv, pLast + 1 when causal, pLast + window_right + 1)) and the sinks
/// [0, sinkEnd) with sinkEnd = min(num_sink_tokens, Skv) (null without
/// sinks). lo is raised to at least sinkEnd, so the two ranges are disjoint;
/// lo >= hi means an empty band.
struct KeyBand {
  Value sinkEnd, lo, hi;
};
KeyBand computeKeyBand(OpBuilder &b, Location loc, AttentionOp op,
                       Value pFirst, Value pLast);

/// The masked score of DESIGN.md §3 from raw dot products `dot` (a float, or
/// a vector of floats) with the attributes `attrs`: scale * g(p), the
/// softcap, the ALiBi term -slope * |p - j| (`slope`: a float, null without
/// ALiBi), plus `bias` (shaped like `dot`, or null), then -inf where key j is
/// not visible to query position p. `p` and `j` are i64 values shaped like
/// `dot`. `lognFactor` is g(p) when the caller hoisted it (else computed
/// here); `keyExists` (i1, or null) additionally hides keys past a block.
/// Scalars serve the reference decomposition, vectors the kernels, so both
/// implement the rule once.
Value buildMaskedScore(OpBuilder &b, Location loc,
                       const AttentionScoreAttrs &attrs,
                       Value dot, Value p, Value j, Value slope, Value bias,
                       Value lognFactor, Value keyExists);

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONUTILS_H
