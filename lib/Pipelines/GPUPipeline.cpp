//===- GPUPipeline.cpp - attnflow-gpu-pipeline ----------------------------===//
//
// The end-to-end NVIDIA pipeline (DESIGN.md §4.3, §5): attention becomes a
// FlashAttention-2 kernel, linear attention linear-time scan kernels, every
// other op linalg -> parallel loops -> a full grid of threads; bufferized
// into device memory; outlined, given streams, and lowered by upstream's NVVM
// pipeline to host LLVM + one gpu.binary.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Pipelines/Pipelines.h"

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"
#include "attnflow/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"

#include <cstdlib>

using namespace mlir;

namespace mlir::attnflow {

std::string getDefaultCUDAToolkitPath() {
  for (const char *variable : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *path = std::getenv(variable); path && *path)
      return path;
  return ATTNFLOW_CUDA_TOOLKIT_ROOT;
}

std::optional<int64_t> getSharedMemoryLimit(StringRef chip) {
  if (chip == "sm_80")
    return 166912;
  if (chip == "sm_90")
    return 232448;
  return std::nullopt;
}

LogicalResult
buildGPUPipeline(OpPassManager &pm, const GPUPipelineOptions &options,
                 function_ref<LogicalResult(const Twine &)> errorHandler) {
  std::optional<int64_t> sharedMemory = getSharedMemoryLimit(options.chip);
  if (!sharedMemory)
    return errorHandler("attnflow-gpu-pipeline: chip must be sm_80 or sm_90, "
                        "got '" +
                        options.chip + "'");
  if (!llvm::is_contained({"isa", "bin", "fatbin"}, options.format))
    return errorHandler("attnflow-gpu-pipeline: format must be isa, bin or "
                        "fatbin, got '" +
                        options.format + "'");
  if (options.blockSize < 1 || options.blockSize > 1024)
    return errorHandler("attnflow-gpu-pipeline: block-size must be in "
                        "[1, 1024], got " +
                        Twine(options.blockSize));

  std::string toolkit = options.cudaPath.empty()
                            ? getDefaultCUDAToolkitPath()
                            : std::string(options.cudaPath);
  if (!llvm::sys::fs::is_regular_file(toolkit +
                                      "/nvvm/libdevice/libdevice.10.bc"))
    return errorHandler("attnflow-gpu-pipeline: no CUDA toolkit at '" +
                        toolkit +
                        "' (kernels link its nvvm/libdevice/libdevice.10.bc "
                        "for exp, sin, cos, ...): install the toolkit, set "
                        "CUDA_HOME or pass cuda-path=");

  // 1. Attention and linear attention -> kernels; every other attnflow op ->
  // linalg on tensors.
  ConvertAttnFlowToGPUPassOptions kernelOptions;
  kernelOptions.sharedMemoryLimit = *sharedMemory;
  kernelOptions.tensorCores = options.tensorCores;
  pm.addPass(createConvertAttnFlowToGPUPass(kernelOptions));
  ConvertLinearAttentionToGPUPassOptions linearOptions;
  linearOptions.sharedMemoryLimit = *sharedMemory;
  pm.addPass(createConvertLinearAttentionToGPUPass(linearOptions));
  // DEER: a host loop over Newton updates whose only host-side buffer
  // access is the read-back of the change (attnflow-gpu-host-memory).
  LowerRnnSolvePassOptions rnnOptions;
  rnnOptions.gpu = true;
  pm.addPass(createLowerRnnSolvePass(rnnOptions));
  pm.addPass(createConvertLinearRecurrenceToGPUPass());
  pm.addPass(createConvertAttnFlowToLinalgPass());
  // Region bodies (rnn_solve cells, their derived Jacobians) may use arith /
  // math elementwise on tensors, which bufferization does not take.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCPUEntryABIPass());
  pm.addPass(createEntrySignaturePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // 2. Bufferization, as on the CPU (identity layouts at the boundary);
  // attnflow-gpu-host-memory frees buffers, as ownership-based deallocation
  // cannot analyse kernel launches.
  addEntryBufferization(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());

  // 3. The remaining linalg ops become kernels over a full grid; host
  // buffers become device memory.
  pm.addPass(createExpandStridedCopiesPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  // An scf.forall (DEER's per-step cells) is one kernel: its body, linalg
  // loops included, runs sequentially in each thread.
  pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  GPUMapParallelLoopsPassOptions mapOptions;
  mapOptions.blockSize = options.blockSize;
  pm.addNestedPass<func::FuncOp>(createGPUMapParallelLoopsPass(mapOptions));
  pm.addPass(createConvertParallelLoopToGpuPass());
  // Host loops (an ode_solve's steps) reuse their per-iteration buffers.
  pm.addNestedPass<func::FuncOp>(createGPUHoistLoopBuffersPass());
  pm.addNestedPass<func::FuncOp>(createGPUHostMemoryPass());
  pm.addPass(createCanonicalizerPass());

  // 4. Kernels outlined into one GPU module; host GPU ops on a stream.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createGPUMergeModulesPass());
  // Host copies of globals that only kernels read are dead now.
  pm.addPass(createSymbolDCEPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());

  // 5. Upstream's NVVM lowering (gpu-lower-to-nvvm-pipeline's passes, with
  // the toolkit path its builder cannot take): device code to PTX / cubin for
  // the chip (PTX ISA 8.0: the default 6.0 is too old for sm_80 / sm_90),
  // host code to the LLVM dialect calling the mgpu* runtime.
  // bf16 mma.sync, which MLIR 22's NVGPU lowering cannot deduce, first.
  pm.addPass(createLowerBF16MmaSyncPass());
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions targetOptions;
  targetOptions.chip = options.chip;
  targetOptions.features = "+ptx80";
  pm.addPass(createGpuNVVMAttachTarget(targetOptions));
  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addNestedPass<gpu::GPUModuleOp>(LLVM::createNVVMOptimizeForTargetPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  // libdevice (math functions) and ptxas come from the toolkit.
  GpuModuleToBinaryPassOptions binaryOptions;
  binaryOptions.toolkitPath = toolkit;
  binaryOptions.compilationTarget = options.format;
  pm.addPass(createGpuModuleToBinaryPass(binaryOptions));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  return success();
}

void registerGPUPipeline() {
  registerPassPipeline(
      "attnflow-gpu-pipeline",
      "Lower a module of func.func on tensors (attnflow, linalg, tensor, "
      "arith, math ops) to host code in the LLVM dialect launching CUDA "
      "kernels, with one gpu.binary of PTX or cubin for chip=sm_80|sm_90 "
      "(options: chip, format=isa|bin|fatbin, block-size, tensor-cores, "
      "cuda-path)",
      [](OpPassManager &pm, StringRef optionsString,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        GPUPipelineOptions options;
        if (failed(options.parseFromString(optionsString)))
          return failure();
        return buildGPUPipeline(pm, options, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optionHandler) {
        optionHandler(GPUPipelineOptions());
      });
}

} // namespace mlir::attnflow
