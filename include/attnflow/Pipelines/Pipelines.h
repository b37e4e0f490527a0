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
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {};

/// Lowers a module of `func` functions on tensors holding attnflow ops (and any
/// upstream linalg / tensor / arith / math ops) to the LLVM dialect: attnflow
/// ops are decomposed to linalg, bufferized with one-shot bufferization
/// (function boundaries included, identity layouts), lowered to loops and then
/// to LLVM. Every public function gets `llvm.emit_c_interface`. The result runs
/// under `mlir-runner` or the ExecutionEngine.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers `--attnflow-cpu-pipeline` with the global pass registry.
void registerAttnFlowPipelines();

} // namespace mlir::attnflow

#endif // ATTNFLOW_PIPELINES_PIPELINES_H
