//===- ForwardModeJacobian.h - Jacobians of cell bodies ---------*- C++ -*-===//
//
// Forward-mode differentiation of an RNN cell body (DESIGN.md §3,
// attnflow.rnn_solve): the Jacobian dF/dh of h_t = F(h, u_t, params...) used
// by the DEER Newton solve (Lim et al. 2024, "Parallelizing non-linear
// sequential models over the sequence length", eq. 5).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_FORWARDMODEJACOBIAN_H
#define ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_FORWARDMODEJACOBIAN_H

#include "mlir/IR/Builders.h"
#include "mlir/Support/LLVM.h"

namespace mlir::attnflow {

/// The Jacobian's form: dense dF/dh (tensor<NxN>, J[i][j] = dF_i / dh_j) or
/// its diagonal (tensor<N>, quasi-Newton). The diagonal is derived from
/// diagonals alone (no N x N tangent) when every value depending on h has h's
/// type and flows through elementwise ops and matvecs of elementwise
/// functions of h; otherwise it is the dense tangent's diagonal.
enum class JacobianForm { Dense, Diagonal };

struct CellAndJacobian {
  Value state;    // F(h, u_t, params...) : tensor<N>
  Value jacobian; // tensor<NxN> or tensor<N>
};

/// Emits at `b`'s insertion point the body of `cell` applied to `args` (one
/// value per block argument; the first is h : tensor<N>, static N) and its
/// Jacobian with respect to h, by vector-mode forward differentiation seeded
/// with the identity: every value of shape S depending on h gets a tangent
/// of shape S x N (a scalar: N). The terminator's first operand is F.
///
/// Supported ops: arith addf/subf/mulf/divf/negf/extf/truncf and constants
/// (scalars or elementwise on tensors), math tanh/exp/log (hence the
/// logistic sigmoid written with them), linalg structured ops on tensors
/// whose bodies use those ops (matvec, matmul, fill, broadcast, transpose,
/// elementwise and `acc + ...` reduction generics), tensor empty / extract /
/// insert / extract_slice / insert_slice / concat. Ops whose operands do not
/// depend on h are copied whatever they are. Any other op depending on h
/// gets an error naming it and pointing at the `jacobian` region, and the
/// result is failure (what was emitted so far is left for the caller to
/// discard).
FailureOr<CellAndJacobian> emitCellAndJacobian(OpBuilder &b, Location loc,
                                               Block &cell, ValueRange args,
                                               JacobianForm form);

/// The diagonal (tensor<N>) of a square tensor<NxN>, e.g. a dense Jacobian
/// used by quasi-Newton.
Value emitDiagonal(OpBuilder &b, Location loc, Value square);

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_FORWARDMODEJACOBIAN_H
