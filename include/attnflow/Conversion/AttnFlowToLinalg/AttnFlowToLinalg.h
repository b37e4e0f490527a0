//===- AttnFlowToLinalg.h - Reference decomposition -------------*- C++ -*-===//

#ifndef ATTNFLOW_CONVERSION_ATTNFLOWTOLINALG_ATTNFLOWTOLINALG_H
#define ATTNFLOW_CONVERSION_ATTNFLOWTOLINALG_ATTNFLOWTOLINALG_H

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::attnflow {

/// Adds the patterns that rewrite `attnflow.rope` and `attnflow.attention`
/// into linalg.generic ops on tensors (the reference decomposition of
/// DESIGN.md §4.4). The patterns never fail on verified ops.
void populateAttnFlowToLinalgPatterns(RewritePatternSet &patterns);

/// Adds the patterns that rewrite `attnflow.ode_solve` into an scf.for over
/// the steps and `attnflow.ode_step` into one step, each inlining the velocity
/// region once per Runge-Kutta stage (OdeToLinalg.cpp).
void populateOdeToLinalgPatterns(RewritePatternSet &patterns);

/// Adds the sequential reference lowerings of the scans (ScanToLinalg.cpp):
/// `attnflow.linear_recurrence` as an scf.for over t, and `attnflow.rnn_solve`
/// with method = sequential as loops over the batch and t inlining the cell.
void populateScanToLinalgPatterns(RewritePatternSet &patterns);

/// The RoPE inverse frequencies inv_freq_i, i in [0, rotaryDim/2), in float64
/// for every scaling kind whose frequencies do not depend on the positions
/// (all but `dynamic_ntk`), following Hugging Face transformers'
/// `modeling_rope_utils.py`. `scaling` may be null (no scaling).
SmallVector<double> computeRopeInvFreq(int64_t rotaryDim, double theta,
                                       RopeScalingAttr scaling);

} // namespace mlir::attnflow

#endif // ATTNFLOW_CONVERSION_ATTNFLOWTOLINALG_ATTNFLOWTOLINALG_H
