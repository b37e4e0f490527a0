//===- ToolSupport.h - What the AttnFlow drivers share ----------*- C++ -*-===//
//
// The conventions attnflow-compile and attnflow-run share (DESIGN.md §5), so
// that they cannot drift apart: every message is one line on stderr,
// `<tool>: error: ...` (IR diagnostics keep their file:line:col), the exit
// code of an error is 1, outputs are checked before any work, and the input
// is parsed and lowered the same way.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_TOOLS_TOOLSUPPORT_H
#define ATTNFLOW_TOOLS_TOOLSUPPORT_H

#include "attnflow/Pipelines/Pipelines.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/CommandLine.h"

#include <string>

namespace mlir {
class MLIRContext;

namespace attnflow {

/// Prints `<tool>: error: <message>` on stderr and returns 1, the exit code.
int reportError(StringRef tool, const Twine &message);

/// `text` with its newlines replaced by spaces (llvm::Error messages can span
/// lines; tool messages are one line each).
std::string oneLine(std::string text);

/// cl::ParseCommandLineOptions, with cl's complaints reported as one
/// `<tool>: error:` line and `<tool>: note:` lines. False on error. The MLIR
/// context, pass-manager and printer options (--mlir-disable-threading,
/// --mlir-print-ir-after-all, ...) are accepted too; --help lists only the
/// options in `category`, so the tool's options must exist by then.
bool parseToolCommandLine(int argc, char **argv, StringRef tool,
                          llvm::cl::OptionCategory &category,
                          StringRef overview);

/// Fails with `error` set unless `path` can be written: it is not a directory
/// and its directory exists and is writable. Run before any work so that a
/// typo does not cost a whole compilation.
LogicalResult checkOutputPath(StringRef path, std::string &error);

/// Registers every dialect and the LLVM IR translations with `context`, and
/// prints its diagnostics as `<tool>: <severity>: file:line:col: message`
/// lines, each note on its own line after its diagnostic.
void initializeToolContext(MLIRContext &context, StringRef tool);

/// Parses the module in `filename` ('-' for stdin). Null with `error` set when
/// it cannot be read or parsed (the parser's diagnostics are printed already).
OwningOpRef<ModuleOp> parseInputFile(StringRef filename, MLIRContext &context,
                                     std::string &error);

/// Runs --attnflow-cpu-pipeline on `module` (read from `filename`), honouring
/// the pass-manager command-line options (IR printing, statistics, ...).
LogicalResult runCPUPipeline(ModuleOp module, StringRef filename,
                             const CPUPipelineOptions &options,
                             std::string &error);

/// Runs --attnflow-gpu-pipeline on `module` likewise; invalid options fail
/// with `error` naming them.
LogicalResult runGPUPipeline(ModuleOp module, StringRef filename,
                             const GPUPipelineOptions &options,
                             std::string &error);

} // namespace attnflow
} // namespace mlir

#endif // ATTNFLOW_TOOLS_TOOLSUPPORT_H
