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

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONUTILS_H
