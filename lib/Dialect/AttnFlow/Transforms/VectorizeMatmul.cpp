//===- VectorizeMatmul.cpp - linalg.matmul as register-tiled kernels ------===//
//
// The networks inside attnflow regions (velocity MLPs, RNN cells) reach the
// CPU pipeline as plain linalg.matmul ops; this gives the static ones the
// FMA kernel the linear-time attention lowering uses (VectorKernels.h).
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"
#include "attnflow/Dialect/AttnFlow/Transforms/VectorKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_VECTORIZEMATMULPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {

/// A matmul the kernel computes exactly: tensors of static shape, the
/// default maps, float operands, an f32 / f64 accumulator.
bool isVectorizable(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.hasUserDefinedMaps())
    return false;
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type || !type.hasStaticShape() ||
        !isa<FloatType>(type.getElementType()))
      return false;
  }
  Type resultType = op.getOutputs()[0].getType();
  Type element = cast<RankedTensorType>(resultType).getElementType();
  return element.isF32() || element.isF64();
}

struct VectorizeMatmulPass
    : mlir::attnflow::impl::VectorizeMatmulPassBase<VectorizeMatmulPass> {
  using Base::Base;

  void runOnOperation() override {
    if (vectorWidth < 1) {
      getOperation()->emitError()
          << "attnflow-vectorize-matmul expects vector-width >= 1, got "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> matmuls;
    getOperation()->walk([&](linalg::MatmulOp op) {
      if (isVectorizable(op))
        matmuls.push_back(op);
    });
    for (linalg::MatmulOp op : matmuls) {
      ImplicitLocOpBuilder b(op.getLoc(), op);
      VectorMatmul product{op.getInputs()[0], op.getInputs()[1],
                           op.getOutputs()[0]};
      product.init = MatmulInit::Accumulate;
      Value result = buildVectorMatmul(b, product, vectorWidth).first;
      op->getResult(0).replaceAllUsesWith(result);
      op->erase();
    }
  }
};

} // namespace
