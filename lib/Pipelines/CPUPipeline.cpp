//===- CPUPipeline.cpp - attnflow-cpu-pipeline ----------------------------===//
//
// The end-to-end CPU pipeline (DESIGN.md §4.3, §5): attnflow ops -> linalg on
// tensors -> one-shot bufferization -> loops -> LLVM dialect. Besides
// upstream passes it runs the project's own (attnflow/Transforms/Passes.td
// says what each does and why).
//
//===----------------------------------------------------------------------===//

#include "attnflow/Pipelines/Pipelines.h"

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"
#include "attnflow/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace mlir::attnflow {

int64_t getF32VectorLanes(llvm::function_ref<bool(StringRef)> hasFeature) {
  if (hasFeature("avx512f"))
    return 16;
  if (hasFeature("avx"))
    return 8;
  return 4;
}

/// The JIT and attnflow-compile's default target the host CPU.
static int64_t hostF32Lanes() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return getF32VectorLanes(
      [&](StringRef feature) { return features.lookup(feature); });
}

void addEntryBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferizeOptions;
  bufferizeOptions.bufferizeFunctionBoundaries = true;
  bufferizeOptions.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferizeOptions.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferizeOptions));
}

void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options) {
  // 1. attnflow ops -> tiled loops of online-softmax blocks (RoPE of q fused),
  // chunked linear / VQ attention -> linalg / tensor / arith / math on
  // tensors.
  TileAttentionPassOptions tileOptions;
  tileOptions.queryTile = options.queryTile;
  tileOptions.headTile = options.headTile;
  pm.addPass(createTileAttentionPass(tileOptions));
  // linear_attention / vq_attention in linear time (chunked for causal),
  // heads in an scf.forall (the GPU pipeline has its own kernels for them).
  int64_t vectorWidth =
      options.vectorWidth != 0 ? options.vectorWidth : hostF32Lanes();
  ChunkLinearAttentionPassOptions chunkOptions;
  chunkOptions.chunkSize = options.linearChunk;
  chunkOptions.vqBlock = options.vqBlock;
  chunkOptions.vectorWidth = vectorWidth;
  pm.addPass(createChunkLinearAttentionPass(chunkOptions));
  // rnn_solve newton / quasi_newton -> DEER iterations over
  // linear_recurrence, which the next pass turns into a parallel scan.
  pm.addPass(createLowerRnnSolvePass());
  // linear_recurrence as a chunked parallel scan (chunks in an scf.forall).
  ChunkLinearRecurrencePassOptions recurrenceOptions;
  recurrenceOptions.vectorWidth = vectorWidth;
  pm.addPass(createChunkLinearRecurrencePass(recurrenceOptions));
  pm.addPass(createCanonicalizerPass());
  // Blocks of one head become register-tiled vector kernels; LICM hoists each
  // tile's Q^T out of its key loop. The rest takes the generic decomposition.
  ConvertAttnFlowToVectorPassOptions vectorOptions;
  vectorOptions.vectorWidth = vectorWidth;
  pm.addPass(createConvertAttnFlowToVectorPass(vectorOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createLoopInvariantCodeMotionPass());
  pm.addPass(createConvertAttnFlowToLinalgPass());
  // Matmuls of the networks inlined from regions (velocity MLPs, RNN cells).
  VectorizeMatmulPassOptions matmulOptions;
  matmulOptions.vectorWidth = vectorWidth;
  pm.addPass(createVectorizeMatmulPass(matmulOptions));
  // Region bodies (rnn_solve cells, their derived Jacobians) may use arith /
  // math elementwise on tensors, which bufferization does not take.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCPUEntryABIPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // 2. Bufferization: function boundaries included, identity layouts at the
  // boundary (plain contiguous memrefs for callers), then ownership-based
  // deallocation, which also makes every returned buffer owned by the caller.
  addEntryBufferization(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // 3. Loops.
  pm.addPass(createExpandStridedCopiesPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());

  // 4. Math and low-precision floats: f16 / bf16 math is computed in f32,
  // bf16 arithmetic is emulated in f32 and its conversions expanded to
  // integer code (no reliance on compiler-rt / libgcc bf16 helpers).
  pm.addPass(math::createMathExtendToSupportedTypes());
  pm.addPass(createCPUMathPass());
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
    PassPipelineRegistration<CPUPipelineOptions>(
        "attnflow-cpu-pipeline",
        "Lower a module of func.func on tensors (attnflow, linalg, tensor, "
        "arith, math ops) to the LLVM dialect for CPUs: one-shot "
        "bufferization, ownership-based deallocation, loops, LLVM; public "
        "functions get llvm.emit_c_interface (runnable by mlir-runner and the "
        "ExecutionEngine)",
        buildCPUPipeline);
    registerGPUPipeline();
    return true;
  }();
  (void)registered;
}

} // namespace mlir::attnflow
