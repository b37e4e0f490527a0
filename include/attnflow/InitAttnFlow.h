//===- InitAttnFlow.h - Register AttnFlow with MLIR -------------*- C++ -*-===//
//
// One place that makes every AttnFlow dialect, pass and pipeline known to a
// tool, mirroring mlir/InitAllDialects.h and mlir/InitAllPasses.h.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_INITATTNFLOW_H
#define ATTNFLOW_INITATTNFLOW_H

namespace mlir {
class DialectRegistry;
class MLIRContext;

namespace attnflow {

/// Adds the attnflow dialect, every upstream dialect and their interface
/// extensions (bufferization, tiling, ...) to `registry`.
void registerAllDialects(DialectRegistry &registry);

/// Adds the LLVM IR translations the JIT, `attnflow-compile` and the GPU
/// pipeline's gpu-module-to-binary need (builtin, LLVM, OpenMP, GPU, NVVM).
void registerAllTranslations(DialectRegistry &registry);

/// Registers every upstream pass, the AttnFlow passes and the named pipelines
/// (`--attnflow-cpu-pipeline`, `--attnflow-gpu-pipeline`) with the global registry. Idempotent.
void registerAllPasses();

} // namespace attnflow
} // namespace mlir

#endif // ATTNFLOW_INITATTNFLOW_H
