//===- CPUMath.cpp - Choose approximations or libm per math function ------===//

#include "attnflow/Transforms/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/STLExtras.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_CPUMATHPASS
#include "attnflow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;

namespace {

/// The functions computed with MLIR's approximations; Passes.td has the
/// measured accuracy of these and of the ones left on libm.
constexpr StringLiteral kApproximatedMathOps[] = {"exp", "tanh", "erf",
                                                  "log1p"};

bool isApproximated(StringRef name) {
  name.consume_front("math.");
  return llvm::is_contained(kApproximatedMathOps, name);
}

/// A float constant of `type` (a float or a vector of floats).
Value floatConstant(PatternRewriter &rewriter, Location loc, Type type,
                    const APFloat &value) {
  auto elementType = cast<FloatType>(getElementTypeOrSelf(type));
  TypedAttr attr = rewriter.getFloatAttr(elementType, value);
  if (auto shaped = dyn_cast<ShapedType>(type))
    attr = DenseElementsAttr::get(shaped, attr);
  return arith::ConstantOp::create(rewriter, loc, attr);
}

/// math.isinf(x) -> |x| == inf.
struct IsInfToArith : public OpRewritePattern<math::IsInfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::IsInfOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getOperand().getType();
    auto elementType = cast<FloatType>(getElementTypeOrSelf(type));
    Value abs = math::AbsFOp::create(rewriter, loc, op.getOperand());
    Value inf = floatConstant(rewriter, loc, type,
                              APFloat::getInf(elementType.getFloatSemantics()));
    rewriter.replaceOpWithNewOp<arith::CmpFOp>(op, arith::CmpFPredicate::OEQ,
                                               abs, inf);
    return success();
  }
};

/// math.isnormal(x) -> smallest normal <= |x| < inf (false for NaN).
struct IsNormalToArith : public OpRewritePattern<math::IsNormalOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::IsNormalOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type type = op.getOperand().getType();
    const llvm::fltSemantics &semantics =
        cast<FloatType>(getElementTypeOrSelf(type)).getFloatSemantics();
    Value abs = math::AbsFOp::create(rewriter, loc, op.getOperand());
    Value smallest = floatConstant(rewriter, loc, type,
                                   APFloat::getSmallestNormalized(semantics));
    Value inf = floatConstant(rewriter, loc, type, APFloat::getInf(semantics));
    Value notSmall = arith::CmpFOp::create(
        rewriter, loc, arith::CmpFPredicate::OGE, abs, smallest);
    Value finite = arith::CmpFOp::create(rewriter, loc,
                                         arith::CmpFPredicate::OLT, abs, inf);
    rewriter.replaceOpWithNewOp<arith::AndIOp>(op, notSmall, finite);
    return success();
  }
};

struct CPUMathPass : mlir::attnflow::impl::CPUMathPassBase<CPUMathPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateMathF32ExpansionPatterns(patterns, isApproximated);
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    patterns.add<IsInfToArith, IsNormalToArith>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // Only the expm1 ops are handed to the libm patterns: the other functions
    // stay for math-to-llvm, which lowers them to intrinsics.
    SmallVector<Operation *> expm1Ops;
    getOperation()->walk([&](math::ExpM1Op op) { expm1Ops.push_back(op); });
    if (expm1Ops.empty())
      return;
    RewritePatternSet libmPatterns(ctx);
    populateMathToLibmConversionPatterns(libmPatterns);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(
            applyOpPatternsGreedily(expm1Ops, std::move(libmPatterns), config)))
      return signalPassFailure();
  }
};

} // namespace
