//===- Passes.h - attnflow dialect transforms -------------------*- C++ -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_H
#define ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attnflow {

#define GEN_PASS_DECL
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_PASSES_H
