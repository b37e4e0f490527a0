//===- attnflow-compile.cpp - Ahead-of-time compiler driver ---------------===//
//
// attnflow-compile IN.mlir --target=cpu --emit=mlir|llvm-ir|obj [-o OUT]
//                  [--mcpu=NAME]
// attnflow-compile IN.mlir --target=cuda [--gpu-arch=sm_80|sm_90]
//                  --emit=mlir|llvm-ir|obj|ptx|cubin [-o OUT] [--mcpu=NAME]
//
// (DESIGN.md §5.) Lowers the module with attnflow-cpu-pipeline (cpu) or
// attnflow-gpu-pipeline (cuda) and writes
//   mlir     the module after the whole pipeline (LLVM dialect),
//   llvm-ir  its LLVM IR, optimized at -O3 for the target CPU, with the target
//            triple, data layout and "target-cpu"/"target-features" function
//            attributes set (so llc / clang reproduce the same code),
//   obj      a relocatable (PIC) ELF object for the target CPU,
//   ptx      (cuda) the PTX of the module's kernels, one file for all,
//   cubin    (cuda) the same assembled by ptxas for --gpu-arch.
// For cuda, llvm-ir and obj are the host code with the cubin embedded (its
// constructor loads it through the mgpu* runtime, runtime/CudaRuntime.h).
// The target CPU defaults to the host CPU with the host's features for cpu,
// and to generic x86-64 for cuda (host code that launches kernels gains
// nothing from the build machine's features and must run on the GPU
// machine); --mcpu names another CPU (its default features are used then).
//
// Errors are reported as `attnflow-compile: error: ...` (IR diagnostics keep
// their file:line:col) with exit code 1, and the output file is written only
// once everything succeeded, through a temporary file that is renamed into
// place (llvm::writeToOutput).
//
//===----------------------------------------------------------------------===//

#include "attnflow/Tools/ToolSupport.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <string>

using namespace mlir;
using mlir::attnflow::oneLine;
namespace cl = llvm::cl;

namespace {

constexpr const char *kTool = "attnflow-compile";

enum class Target { CPU, CUDA };
enum class Emit { MLIR, LLVMIR, Obj, PTX, Cubin };

cl::OptionCategory compileCategory("attnflow-compile options");

cl::opt<std::string> inputFilename(cl::Positional, cl::Required,
                                   cl::desc("<input .mlir file>"),
                                   cl::cat(compileCategory));

cl::opt<std::string>
    outputFilename("o", cl::desc("Output file (default '-': stdout)"),
                   cl::value_desc("file"), cl::init("-"),
                   cl::cat(compileCategory));

cl::opt<Target> target("target",
                       cl::desc("Code generation target (default: cpu)"),
                       cl::values(clEnumValN(Target::CPU, "cpu",
                                             "The host's CPU architecture"),
                                  clEnumValN(Target::CUDA, "cuda",
                                             "NVIDIA GPUs (--gpu-arch) driven "
                                             "by x86-64 host code")),
                       cl::init(Target::CPU), cl::cat(compileCategory));

cl::opt<Emit> emit(
    "emit", cl::desc("What to write (required)"), cl::Required,
    cl::values(clEnumValN(Emit::MLIR, "mlir",
                          "The module after the whole pipeline (LLVM dialect)"),
               clEnumValN(Emit::LLVMIR, "llvm-ir",
                          "LLVM IR, optimized at -O3 for the target CPU"),
               clEnumValN(Emit::Obj, "obj", "A relocatable ELF object file"),
               clEnumValN(Emit::PTX, "ptx",
                          "cuda: the PTX of every kernel, one file"),
               clEnumValN(Emit::Cubin, "cubin",
                          "cuda: the kernels assembled by ptxas for "
                          "--gpu-arch")),
    cl::cat(compileCategory));

cl::opt<std::string>
    gpuArch("gpu-arch",
            cl::desc("cuda: GPU architecture, sm_80 (A100) or sm_90 (H100, "
                     "H200); default sm_90"),
            cl::value_desc("sm_XX"), cl::init("sm_90"),
            cl::cat(compileCategory));

cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("Target CPU (default: the host CPU, with its features; "
                  "x86-64 for cuda host code)"),
         cl::value_desc("name"), cl::init(""), cl::cat(compileCategory));

int fail(const llvm::Twine &message) {
  return mlir::attnflow::reportError(kTool, message);
}

/// The target machine for `cpu` (host CPU and features when empty), PIC,
/// -O3. Sets `error` and returns null on failure.
std::unique_ptr<llvm::TargetMachine> createTargetMachine(std::string cpu,
                                                         std::string &error) {
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return nullptr;
  std::string features;
  if (!cpu.empty()) {
    // Checked up front: the target machine would only warn and ignore it.
    std::unique_ptr<llvm::MCSubtargetInfo> info(
        llvmTarget->createMCSubtargetInfo(triple, "", ""));
    if (!info || !info->isCPUStringValid(cpu)) {
      error = "unknown --mcpu=" + cpu + " for " + triple.str() +
              " (llc -mcpu=help lists the CPUs)";
      return nullptr;
    }
    // 32-bit-only x86 CPUs are valid names but abort 64-bit code generation.
    std::unique_ptr<llvm::MCSubtargetInfo> cpuInfo(
        llvmTarget->createMCSubtargetInfo(triple, cpu, ""));
    if (triple.isX86() && triple.isArch64Bit() &&
        !cpuInfo->checkFeatures("+64bit")) {
      error =
          "--mcpu=" + cpu + " cannot run 64-bit code (" + triple.str() + ")";
      return nullptr;
    }
  } else {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures featureSet;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      featureSet.AddFeature(feature.first(), feature.second);
    features = featureSet.getString();
  }
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for " + triple.str();
    return nullptr;
  }
  return machine;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  if (!mlir::attnflow::parseToolCommandLine(
          argc, argv, kTool, compileCategory,
          "AttnFlow compiler: lowers an MLIR module with attnflow-cpu-pipeline "
          "or attnflow-gpu-pipeline and writes the lowered MLIR, LLVM IR, an "
          "object file, or the GPU kernels as PTX or cubin.\n\n"
          "  attnflow-compile model.mlir --target=cpu --emit=obj -o model.o\n"
          "  attnflow-compile model.mlir --target=cuda --gpu-arch=sm_90 "
          "--emit=ptx -o model.ptx\n"
          "  attnflow-compile model.mlir --target=cuda --emit=obj -o model.o\n"
          "    (then: clang -shared model.o -o model.so; run it with "
          "attnflow-cuda-run)\n"))
    return 1;
  bool cuda = target == Target::CUDA;
  if (!cuda && (emit == Emit::PTX || emit == Emit::Cubin))
    return fail("--emit=ptx and --emit=cubin need --target=cuda");
  if (!cuda && gpuArch.getNumOccurrences())
    return fail("--gpu-arch needs --target=cuda");
  if (cuda && !mlir::attnflow::getSharedMemoryLimit(gpuArch))
    return fail("--gpu-arch must be sm_80 or sm_90, got '" + gpuArch + "'");

  std::string errorMessage;
  if (outputFilename != "-" &&
      failed(mlir::attnflow::checkOutputPath(outputFilename, errorMessage)))
    return fail(errorMessage);

  // Target first: a bad --mcpu fails before any work.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();
  std::unique_ptr<llvm::TargetMachine> machine = createTargetMachine(
      cuda && mcpu.empty() ? std::string("x86-64") : std::string(mcpu),
      errorMessage);
  if (!machine)
    return fail(errorMessage);

  MLIRContext context;
  mlir::attnflow::initializeToolContext(context, kTool);
  OwningOpRef<ModuleOp> module =
      mlir::attnflow::parseInputFile(inputFilename, context, errorMessage);
  if (!module)
    return fail(errorMessage);
  if (cuda) {
    // PTX is what MLIR emits itself; everything else embeds or is a cubin.
    mlir::attnflow::GPUPipelineOptions pipelineOptions;
    pipelineOptions.chip = gpuArch;
    pipelineOptions.format =
        emit == Emit::PTX || emit == Emit::MLIR ? "isa" : "bin";
    if (failed(mlir::attnflow::runGPUPipeline(*module, inputFilename,
                                              pipelineOptions, errorMessage)))
      return fail(errorMessage);
  } else {
    // Kernels are shaped for the target CPU's vector registers.
    mlir::attnflow::CPUPipelineOptions pipelineOptions;
    const llvm::MCSubtargetInfo *subtarget = machine->getMCSubtargetInfo();
    pipelineOptions.vectorWidth =
        mlir::attnflow::getF32VectorLanes([&](llvm::StringRef feature) {
          return subtarget->checkFeatures(("+" + feature).str());
        });
    if (failed(mlir::attnflow::runCPUPipeline(*module, inputFilename,
                                              pipelineOptions, errorMessage)))
      return fail(errorMessage);
  }

  // Produce the whole output in memory, then write it in one go.
  llvm::SmallString<0> output;
  llvm::raw_svector_ostream os(output);
  if (emit == Emit::MLIR) {
    module->print(os);
  } else if (emit == Emit::PTX || emit == Emit::Cubin) {
    // The pipeline leaves one gpu.binary (attnflow-gpu-merge-modules) with
    // one object; a module without kernels has none.
    auto binaries = llvm::to_vector(module->getOps<gpu::BinaryOp>());
    if (binaries.empty())
      return fail(inputFilename + " has no GPU kernels to emit");
    // A module that already held compiled kernels would give two binaries,
    // which cannot be written as one PTX / cubin file.
    if (binaries.size() != 1 || binaries.front().getObjects().size() != 1)
      return fail(inputFilename + " lowers to several GPU binaries (does it "
                                  "already contain compiled kernels?); "
                                  "--emit=ptx / cubin write one");
    os << cast<gpu::ObjectAttr>(binaries.front().getObjects()[0])
              .getObject()
              .getValue();
  } else {
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule =
        translateModuleToLLVMIR(*module, llvmContext, inputFilename);
    if (!llvmModule)
      return fail("translating " + inputFilename + " to LLVM IR failed");
    llvmModule->setTargetTriple(machine->getTargetTriple());
    llvmModule->setDataLayout(machine->createDataLayout());
    std::string cpu = machine->getTargetCPU().str();
    std::string features = machine->getTargetFeatureString().str();
    for (llvm::Function &function : *llvmModule) {
      if (function.isDeclaration())
        continue;
      function.addFnAttr("target-cpu", cpu);
      if (!features.empty())
        function.addFnAttr("target-features", features);
    }
    auto optimizer = makeOptimizingTransformer(/*optLevel=*/3,
                                               /*sizeLevel=*/0, machine.get());
    if (llvm::Error err = optimizer(llvmModule.get()))
      return fail("LLVM optimization failed: " +
                  oneLine(llvm::toString(std::move(err))));
    if (emit == Emit::LLVMIR) {
      llvmModule->print(os, nullptr);
    } else {
      llvm::legacy::PassManager codegen;
      if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                       llvm::CodeGenFileType::ObjectFile))
        return fail("the target cannot emit object files");
      codegen.run(*llvmModule);
    }
  }

  if (llvm::Error err = llvm::writeToOutput(
          outputFilename, [&](llvm::raw_ostream &out) -> llvm::Error {
            out << output;
            return llvm::Error::success();
          }))
    return fail("cannot write " + outputFilename + ": " +
                oneLine(llvm::toString(std::move(err))));
  return 0;
}
