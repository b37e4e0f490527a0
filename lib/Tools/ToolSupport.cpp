//===- ToolSupport.cpp - What the AttnFlow drivers share ------------------===//

#include "attnflow/Tools/ToolSupport.h"

#include "attnflow/InitAttnFlow.h"
#include "attnflow/Pipelines/Pipelines.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

using namespace mlir;

int mlir::attnflow::reportError(StringRef tool, const Twine &message) {
  llvm::errs() << tool << ": error: " << message << "\n";
  return 1;
}

std::string mlir::attnflow::oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

bool mlir::attnflow::parseToolCommandLine(int argc, char **argv, StringRef tool,
                                          llvm::cl::OptionCategory &category,
                                          StringRef overview) {
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();
  llvm::cl::HideUnrelatedOptions(category);

  // cl reports some errors on llvm::errs() whatever stream it is given, so
  // stderr itself is captured while parsing and replayed reformatted.
  std::fflush(stderr);
  FILE *capture = std::tmpfile();
  int savedStderr = capture ? ::dup(STDERR_FILENO) : -1;
  if (savedStderr >= 0)
    ::dup2(::fileno(capture), STDERR_FILENO);
  bool ok =
      llvm::cl::ParseCommandLineOptions(argc, argv, overview, &llvm::errs());
  std::string messages;
  if (savedStderr >= 0) {
    llvm::errs().flush();
    std::fflush(stderr);
    ::dup2(savedStderr, STDERR_FILENO);
    ::close(savedStderr);
    std::rewind(capture);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), capture)) > 0)
      messages.append(buffer, n);
  }
  if (capture)
    std::fclose(capture);
  if (ok) {
    llvm::errs() << messages;
    return true;
  }
  // One `error:` line, then `note:` lines, without cl's program-name prefix.
  SmallVector<StringRef> lines;
  StringRef(messages).split(lines, '\n', -1, false);
  std::string prefix = std::string(llvm::sys::path::filename(argv[0])) + ": ";
  bool first = true;
  for (StringRef line : lines) {
    line = line.trim();
    line.consume_front(prefix);
    line = line.trim();
    if (line.empty())
      continue;
    llvm::errs() << tool << (first ? ": error: " : ": note: ") << line << "\n";
    first = false;
  }
  if (first)
    llvm::errs() << tool << ": error: invalid command line\n";
  return false;
}

LogicalResult mlir::attnflow::checkOutputPath(StringRef path,
                                              std::string &error) {
  if (path.empty()) {
    error = "the output path is empty";
    return failure();
  }
  if (llvm::sys::fs::is_directory(path)) {
    error = ("output " + path + " is a directory").str();
    return failure();
  }
  StringRef dir = llvm::sys::path::parent_path(path);
  std::string directory = dir.empty() ? "." : dir.str();
  if (!llvm::sys::fs::is_directory(directory)) {
    error = ("cannot write " + path + ": directory " + directory +
             " does not exist")
                .str();
    return failure();
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    error = ("cannot write " + path + ": directory " + directory +
             " is not writable")
                .str();
    return failure();
  }
  return success();
}

namespace {
/// `file:line:col: ` for the innermost file location in `loc`, or "".
std::string formatLocation(Location loc) {
  if (auto fileLoc = loc->findInstanceOf<FileLineColLoc>())
    return (fileLoc.getFilename().getValue() + ":" +
            llvm::Twine(fileLoc.getLine()) + ":" +
            llvm::Twine(fileLoc.getColumn()) + ": ")
        .str();
  return "";
}

StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

void printDiagnostic(StringRef tool, Diagnostic &diag) {
  llvm::errs() << tool << ": " << severityName(diag.getSeverity()) << ": "
               << formatLocation(diag.getLocation())
               << mlir::attnflow::oneLine(diag.str()) << "\n";
  for (Diagnostic &note : diag.getNotes())
    printDiagnostic(tool, note);
}
} // namespace

void mlir::attnflow::initializeToolContext(MLIRContext &context,
                                           StringRef tool) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllTranslations(registry);
  context.appendDialectRegistry(registry);
  context.getDiagEngine().registerHandler(
      [tool = tool.str()](Diagnostic &diag) {
        printDiagnostic(tool, diag);
        return success();
      });
}

OwningOpRef<ModuleOp> mlir::attnflow::parseInputFile(StringRef filename,
                                                     MLIRContext &context,
                                                     std::string &error) {
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(filename, &error);
  if (!file)
    return nullptr;
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    error = ("cannot parse " + filename).str();
  return module;
}

/// Builds a pipeline with `build`, then runs it on `module`.
static LogicalResult
runPipeline(ModuleOp module, StringRef filename, StringRef name,
            function_ref<LogicalResult(OpPassManager &, std::string &)> build,
            std::string &error) {
  PassManager pm(module.getContext());
  if (failed(applyPassManagerCLOptions(pm))) {
    error = "invalid pass manager options";
    return failure();
  }
  if (failed(build(pm, error)))
    return failure();
  if (failed(pm.run(module))) {
    error = ("lowering " + filename + " with " + name + " failed").str();
    return failure();
  }
  return success();
}

LogicalResult mlir::attnflow::runCPUPipeline(ModuleOp module,
                                             StringRef filename,
                                             const CPUPipelineOptions &options,
                                             std::string &error) {
  return runPipeline(
      module, filename, "attnflow-cpu-pipeline",
      [&](OpPassManager &pm, std::string &) {
        buildCPUPipeline(pm, options);
        return success();
      },
      error);
}

LogicalResult mlir::attnflow::runGPUPipeline(ModuleOp module,
                                             StringRef filename,
                                             const GPUPipelineOptions &options,
                                             std::string &error) {
  return runPipeline(
      module, filename, "attnflow-gpu-pipeline",
      [&](OpPassManager &pm, std::string &message) {
        return buildGPUPipeline(pm, options, [&](const Twine &text) {
          message = text.str();
          return failure();
        });
      },
      error);
}
