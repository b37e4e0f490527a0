//===- Pipelines.h - AttnFlow end-to-end pass pipelines ---------*- C++ -*-===//
//
// Named pipelines registered with the pass registry (DESIGN.md §5). Each one
// is also exposed as a builder so tools and embedders can append it to their
// own PassManager.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_PIPELINES_PIPELINES_H
#define ATTNFLOW_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::attnflow {

/// Options of `--attnflow-cpu-pipeline`.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  PassOptions::Option<int64_t> queryTile{
      *this, "query-tile",
      llvm::cl::desc("Query rows per attention tile (default 64)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> headTile{
      *this, "head-tile",
      llvm::cl::desc("Query heads per attention tile: 1 or a multiple of "
                     "Hq / Hkv dividing Hq; 0 (default) = one GQA group when "
                     "Sq <= 16, else 1"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> linearChunk{
      *this, "linear-chunk",
      llvm::cl::desc("Rows per chunk of causal linear_attention (default 64)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> vqBlock{
      *this, "vq-block",
      llvm::cl::desc("Rows per block of causal vq_attention without a "
                     "block_len attribute (default 64)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes per vector in the attention, linear / VQ "
                     "attention, scan and matmul kernels (>= 1); 0 = the "
                     "host's widest (16 with AVX-512F, 8 with AVX, else 4)"),
      llvm::cl::init(0)};
};

/// Lowers a module of `func` functions on tensors holding attnflow ops (and any
/// upstream linalg / tensor / arith / math / scf / vector ops) to the LLVM
/// dialect: attnflow ops are decomposed to linalg, bufferized with one-shot
/// bufferization (function boundaries included, identity layouts) and
/// ownership-based deallocation, lowered to loops and then to LLVM. The result
/// runs under `mlir-runner` or the ExecutionEngine.
///
/// ABI of every public function with a body:
///  - it gets `llvm.emit_c_interface`: `_mlir_ciface_<name>` takes memref
///    descriptors by pointer (results first, through one pointer), next to
///    `<name>` taking each descriptor expanded (allocated ptr, aligned ptr,
///    offset, sizes..., strides...) and returning them (a struct for several);
///  - tensor arguments are read-only (`bufferization.writable = false` unless
///    the argument says otherwise): the caller's buffers are never written;
///  - every returned memref is a fresh buffer owned by the caller (returned
///    arguments and constants are copied), allocated with malloc: release it
///    with free() on its allocated pointer.
/// Math: f32 exp, tanh, erf and log1p use polynomial / compensated forms
/// accurate to a few ulp (exp flushes results below FLT_MIN to 0); every other
/// function (sin / cos of any angle, expm1, log, f64 math) calls libm. f16 and
/// bf16 math and bf16 arithmetic are computed in f32; no compiler-rt / libgcc
/// half-precision helpers are needed.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// One-shot bufferization as both pipelines run it: function boundaries
/// included, identity layouts at the boundary (plain contiguous memrefs for
/// callers), allocations may be returned from loops. Deallocation is each
/// pipeline's own (ownership-based on the CPU, attnflow-gpu-host-memory on the
/// GPU).
void addEntryBufferization(OpPassManager &pm);

/// f32 lanes of the widest vector registers of an x86 CPU with the LLVM
/// target features `hasFeature` reports: 16 with "avx512f", 8 with "avx",
/// else 4 (SSE). The default `vector-width` (0) asks the host.
int64_t getF32VectorLanes(llvm::function_ref<bool(llvm::StringRef)> hasFeature);

/// Options of `--attnflow-gpu-pipeline`.
struct GPUPipelineOptions : public PassPipelineOptions<GPUPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("NVIDIA GPU architecture: sm_80 (A100) or sm_90 (H100, "
                     "H200); default sm_90"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Device code held by each gpu.binary: isa (PTX, the "
                     "default; needs no CUDA), bin (cubin, assembled by "
                     "ptxas) or fatbin (cubin and PTX)"),
      llvm::cl::init("isa")};
  PassOptions::Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Threads per block of elementwise kernels (default 256)"),
      llvm::cl::init(256)};
  PassOptions::Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("f16 / bf16 attention on tensor cores (mma.sync; default "
                     "true); false keeps the SIMT f32 kernel"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit root, for libdevice and ptxas (default: "
                     "$CUDA_ROOT, $CUDA_HOME or $CUDA_PATH, else the toolkit "
                     "found when AttnFlow was built)"),
      llvm::cl::init("")};
};

/// The CUDA toolkit root the GPU pipeline uses by default: $CUDA_ROOT,
/// $CUDA_HOME or $CUDA_PATH, else the one CMake found (/usr/local/cuda).
std::string getDefaultCUDAToolkitPath();

/// The chips the GPU pipeline targets and their dynamic shared memory per
/// block (bytes): sm_80 166912, sm_90 232448. Null for any other chip.
std::optional<int64_t> getSharedMemoryLimit(llvm::StringRef chip);

/// Lowers a module of `func` functions on tensors (attnflow, linalg, tensor,
/// arith, math ops) to host code in the LLVM dialect that launches CUDA
/// kernels, with one `gpu.binary` holding the device code for `chip`:
/// `attnflow.attention` becomes one FlashAttention-2 kernel
/// (convert-attnflow-to-gpu), every other op is decomposed to linalg,
/// bufferized and run as elementwise / loop kernels over a full 1-D grid
/// (attnflow-gpu-map-parallel-loops); buffers are device memory.
///
/// ABI of every public function with a body: `_mlir_ciface_<name>` as on
/// the CPU (Pipelines.h above), but every memref is a device pointer:
/// arguments are device buffers the caller owns (never written); results
/// are fresh device allocations (mgpuMemAlloc) owned by the caller. The
/// function synchronises before it returns. `_attnflow_signature_<name>`
/// holds its tensor types (attnflow-entry-signature). The host code calls
/// the mgpu* runtime functions of MLIR's gpu-to-llvm lowering
/// (runtime/CudaRuntime.h implements them).
///
/// Errors: a chip other than sm_80 / sm_90, an unknown format, no CUDA
/// toolkit (kernels link its libdevice; cubin needs its ptxas), f64
/// attention, head dims beyond the shared memory, host code that touches
/// buffer contents.
LogicalResult
buildGPUPipeline(OpPassManager &pm, const GPUPipelineOptions &options,
                 llvm::function_ref<LogicalResult(const llvm::Twine &)>
                     errorHandler);

/// Registers `--attnflow-gpu-pipeline` (registerAttnFlowPipelines calls it).
void registerGPUPipeline();

/// Registers `--attnflow-cpu-pipeline` and `--attnflow-gpu-pipeline` with the
/// global registry. Idempotent.
/// The passes it is made of register on their own (InitAttnFlow.h's
/// registerAllPasses registers them all).
void registerAttnFlowPipelines();

} // namespace mlir::attnflow

#endif // ATTNFLOW_PIPELINES_PIPELINES_H
