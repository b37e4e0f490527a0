//===- CPUPipeline.cpp - attnflow-cpu-pipeline ----------------------------===//
//
// The end-to-end CPU pipeline (DESIGN.md §4.3, §5): attnflow ops -> linalg on
// tensors -> one-shot bufferization -> loops -> LLVM dialect.
//
// Besides upstream passes it runs three small project passes defined here:
//   --attnflow-cpu-entry-abi          public functions get
//                                     `llvm.emit_c_interface`, and their tensor
//                                     arguments are made read-only (callers'
//                                     inputs are never overwritten).
//   --attnflow-expand-strided-copies  memref.copy between non-identity layouts
//                                     becomes a linalg.generic (then loops), so
//                                     the generated code never calls the
//                                     `memrefCopy` runtime-library function.
//   --attnflow-cpu-math               f32 polynomial approximations for the
//                                     math functions where they are accurate
//                                     (see kApproximatedMathOps),
//                                     math.expm1 -> libm (math-to-llvm would
//                                     lower it as exp(x) - 1, losing all
//                                     precision for small x), and compares
//                                     for math.isinf / math.isnormal.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Pipelines/Pipelines.h"

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// --attnflow-cpu-entry-abi
//===----------------------------------------------------------------------===//

/// Fixes the calling convention of the module's public functions: a C
/// interface wrapper (`_mlir_ciface_<name>`, memref descriptors by pointer)
/// next to the expanded-descriptor function, and read-only tensor arguments so
/// that one-shot bufferization never writes into a caller's buffer (an
/// explicit `bufferization.writable` on an argument is kept). Together with
/// the ownership-based deallocation pipeline this gives the ABI documented in
/// Pipelines.h: inputs are never modified, every returned buffer is a fresh
/// allocation owned by the caller.
struct CPUEntryABIPass
    : public PassWrapper<CPUEntryABIPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CPUEntryABIPass)

  StringRef getArgument() const final { return "attnflow-cpu-entry-abi"; }
  StringRef getDescription() const final {
    return "Give public functions llvm.emit_c_interface and read-only "
           "(bufferization.writable = false) tensor arguments";
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(ctx));
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type) && !func.getArgAttr(i, writable))
          func.setArgAttr(i, writable, BoolAttr::get(ctx, false));
    }
  }
};

//===----------------------------------------------------------------------===//
// --attnflow-expand-strided-copies
//===----------------------------------------------------------------------===//

/// Rewrites memref.copy ops whose source or target has a non-identity layout
/// (e.g. copies into a subview made by tensor.insert_slice) into an
/// equivalent linalg.generic. finalize-memref-to-llvm lowers identity-layout
/// copies to llvm.memcpy but others to a call to `memrefCopy` from
/// libmlir_c_runner_utils, which neither the JIT nor emitted objects have.
struct ExpandStridedCopiesPass
    : public PassWrapper<ExpandStridedCopiesPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandStridedCopiesPass)

  StringRef getArgument() const final {
    return "attnflow-expand-strided-copies";
  }
  StringRef getDescription() const final {
    return "Rewrite memref.copy between non-identity layouts as linalg.generic "
           "(no memrefCopy runtime call)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }

  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation()->walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (!source || !target || !source.getLayout().isIdentity() ||
          !target.getLayout().isIdentity())
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      linalg::makeMemRefCopyOp(builder, copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    }
  }
};

//===----------------------------------------------------------------------===//
// --attnflow-cpu-math
//===----------------------------------------------------------------------===//

/// The math functions computed with MLIR's f32 approximations. Measured here
/// against libm in f64 over a sweep of ~4.2M f32 inputs spread over all finite
/// values (ulp = distance in f32 representations): exp 5 ulp, tanh 4, erf 4,
/// log1p 2 (its rewrite uses log(1 + x) compensated, with libm's log); exp
/// flushes results below FLT_MIN (x < -87.3) to zero. Left on libm because
/// the approximation is worse: expm1 (100 % error for |x| < 1e-7), log and log2
/// (wrong for subnormal inputs), erfc (subnormal results), atan (40 ulp),
/// asin, acos, cbrt, and sin / cos, which reduce the argument in f32 and are
/// wrong for large angles (DESIGN.md §4.2: RoPE angles need libm).
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

/// Chooses how each math op is computed on the CPU before math-to-llvm /
/// math-to-libm run: the approximations above, libm for math.expm1, and
/// compares for math.isinf / math.isnormal (which have no LLVM lowering).
struct CPUMathPass : public PassWrapper<CPUMathPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CPUMathPass)

  StringRef getArgument() const final { return "attnflow-cpu-math"; }
  StringRef getDescription() const final {
    return "Approximate f32 math.exp/tanh/erf/log1p accurately, call libm for "
           "math.expm1, lower math.isinf/isnormal to compares";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect, math::MathDialect,
                    vector::VectorDialect>();
  }

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    populateMathF32ExpansionPatterns(patterns, isApproximated);
    populateMathPolynomialApproximationPatterns(patterns, isApproximated);
    patterns.add<IsInfToArith, IsNormalToArith>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // math.expm1 -> expm1f / expm1 (vectors are unrolled). Only these ops are
    // handed to the libm patterns; the rest stays for math-to-llvm.
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

namespace mlir::attnflow {

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  (void)options;

  // 1. attnflow ops -> tiled loops of online-softmax blocks (RoPE of q fused)
  // -> linalg / tensor / arith / math on tensors.
  TileAttentionPassOptions tileOptions;
  tileOptions.queryTile = options.queryTile;
  tileOptions.headTile = options.headTile;
  pm.addPass(createTileAttentionPass(tileOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertAttnFlowToLinalgPass());
  pm.addPass(std::make_unique<CPUEntryABIPass>());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // 2. Bufferization: function boundaries included, identity layouts at the
  // boundary (plain contiguous memrefs for callers), then ownership-based
  // deallocation, which also makes every returned buffer owned by the caller.
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferizeOptions.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // 3. Loops.
  pm.addPass(std::make_unique<ExpandStridedCopiesPass>());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());

  // 4. Math and low-precision floats: f16 / bf16 math is computed in f32,
  // bf16 arithmetic is emulated in f32 and its conversions expanded to
  // integer code (no reliance on compiler-rt / libgcc bf16 helpers).
  pm.addPass(math::createMathExtendToSupportedTypes());
  pm.addPass(std::make_unique<CPUMathPass>());
  // Ops neither math-to-llvm nor math-to-libm lower: clampf becomes
  // min / max, integer and float-to-integer powers become software functions.
  math::MathExpandOpsPassOptions expandMathOptions;
  expandMathOptions.opMnemonics = {"clampf"};
  pm.addPass(math::createMathExpandOpsPass(expandMathOptions));
  pm.addPass(createConvertMathToFuncs());
  arith::ArithEmulateUnsupportedFloatsOptions emulateOptions;
  emulateOptions.sourceTypeStrs = {"bf16"};
  emulateOptions.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulateOptions));

  // 5. Parallel tiles on every core: scf.forall -> scf.parallel -> OpenMP
  // (libomp). convert-scf-to-openmp emits memref.alloca_scope, which
  // finalize-memref-to-llvm lowers, so that runs before scf-to-cf.
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());

  // 6. To the LLVM dialect.
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  arith::ArithExpandOpsPassOptions expandOptions;
  expandOptions.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expandOptions));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  ConvertMathToLLVMPassOptions mathOptions;
  mathOptions.approximateLog1p = false; // log1p(x) != log(1 + x) for small x
  pm.addPass(createConvertMathToLLVMPass(mathOptions));
  pm.addPass(createConvertMathToLibmPass()); // the rest: erfc, cbrt, ...
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void registerAttnFlowPipelines() {
  static const bool registered = [] {
    PassRegistration<CPUEntryABIPass>();
    PassRegistration<ExpandStridedCopiesPass>();
    PassRegistration<CPUMathPass>();
    PassPipelineRegistration<CPUPipelineOptions>(
        "attnflow-cpu-pipeline",
        "Lower a module of func.func on tensors (attnflow, linalg, tensor, "
        "arith, math ops) to the LLVM dialect for CPUs: one-shot "
        "bufferization, ownership-based deallocation, loops, LLVM; public "
        "functions get llvm.emit_c_interface (runnable by mlir-runner and the "
        "ExecutionEngine)",
        buildCPUPipeline);
    return true;
  }();
  (void)registered;
}

} // namespace mlir::attnflow
