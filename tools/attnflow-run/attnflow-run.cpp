//===- attnflow-run.cpp - JIT-run a function on .npy files ----------------===//
//
// attnflow-run IN.mlir [--entry=main] [--input=a.npy ...] [--output=o.npy ...]
//              [--random-inputs [--seed=N]] [--repeat=N [--warmup=N]]
//              [--threads=N]
//
// (DESIGN.md §5.) Parses IN.mlir, checks that the entry function takes and
// returns statically shaped tensors of f64 / f32 / f16 / bf16 / i64 / i32 / i1,
// binds its arguments in order from .npy files (a bf16 argument is read from
// an f32 file and rounded to nearest even), lowers the module with
// attnflow-cpu-pipeline, JIT-compiles it for the host CPU (host features,
// optimization level 3) and calls the function through the ExecutionEngine's
// packed interface. Results are written in order to .npy files (0-d as shape
// (), bf16 as f32, i1 as bool), only after the run succeeded and each via a
// temporary file + rename.
//
// Calling convention (see Pipelines.h): the packed wrapper `_mlir_<entry>`
// takes a void** whose entries point at each expanded argument (a memref is
// allocated ptr, aligned ptr, offset, sizes..., strides...) followed by one
// pointer to storage for the results (a descriptor, or a struct of
// descriptors, all 8-byte fields). The module never writes into its inputs,
// and every returned buffer is allocated by the module with malloc and owned
// by the caller; this tool frees it (but never an input buffer or a buffer
// already freed, should the module ever return them).
//
// Reading, generating and writing tensors and the flags attnflow-cuda-run
// shares (with their messages) are runtime/TensorIO.h's; this file maps MLIR
// types to TensorSpecs and runs the function through the JIT.
//
// Every error is reported as `attnflow-run: error: ...` on stderr, with exit
// code 1; IR diagnostics keep their file:line:col location.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"
#include "TensorIO.h"

#include "attnflow/Tools/ToolSupport.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <dlfcn.h>

using namespace mlir;
using mlir::attnflow::oneLine;
namespace cl = llvm::cl;
namespace npy = ::attnflow::npy;
namespace tensorio = ::attnflow::tensorio;
using tensorio::ElementKind;
using tensorio::TensorSpec;

namespace {

constexpr const char *kTool = "attnflow-run";

//===----------------------------------------------------------------------===//
// Command line.
//===----------------------------------------------------------------------===//

cl::OptionCategory runCategory("attnflow-run options");

cl::opt<std::string> inputFilename(cl::Positional, cl::Required,
                                   cl::desc("<input .mlir file>"),
                                   cl::cat(runCategory));

cl::opt<std::string> entryName("entry", cl::desc("Name of the function to run (default: main)"),
                               cl::value_desc("name"), cl::init("main"),
                               cl::cat(runCategory));

cl::list<std::string>
    inputFiles("input",
               cl::desc("A .npy file for the next argument of the entry "
                        "function (repeat once per argument, in order). "
                        "Dtypes: float64, float32, float16, int64, int32, "
                        "bool; a bf16 argument takes a float32 file"),
               cl::value_desc("file.npy"), cl::cat(runCategory));

cl::list<std::string>
    outputFiles("output",
                cl::desc("A .npy file for the next result (repeat once per "
                         "result, in order; all or none). bf16 results are "
                         "written as float32, i1 as bool"),
                cl::value_desc("file.npy"), cl::cat(runCategory));

cl::opt<bool> randomInputs(
    "random-inputs",
    cl::desc("Generate the arguments instead of reading them: floats from "
             "N(0, 1), integer tensors hold 0..n-1 along their last "
             "dimension, i1 tensors random bits (for benchmarks)"),
    cl::cat(runCategory));

cl::opt<uint64_t> seed("seed",
                       cl::desc("Seed of --random-inputs' generator "
                                "(std::mt19937_64; default 0)"),
                       cl::value_desc("N"), cl::init(0), cl::cat(runCategory));

cl::opt<int> repeat("repeat",
                    cl::desc("Run the function N times after the warm-up runs "
                             "and print the min and median time (default 0: "
                             "run once, untimed)"),
                    cl::value_desc("N"), cl::init(0), cl::cat(runCategory));

cl::opt<int> warmup("warmup",
                    cl::desc("Untimed runs before the --repeat runs "
                             "(default 1)"),
                    cl::value_desc("N"), cl::init(1), cl::cat(runCategory));

/// --threads. libLLVM.so already registers an unrelated, undocumented
/// `-threads` option, so this one is created at run time, after that one has
/// been renamed out of the way (two options of one name abort the program).
cl::opt<int> &threadsOption() {
  static bool renamed = [] {
    auto &options = cl::getRegisteredOptions();
    auto it = options.find("threads");
    if (it != options.end())
      it->second->setArgStr("llvm-internal-threads");
    return true;
  }();
  (void)renamed;
  static cl::opt<int> threads(
      "threads",
      cl::desc("Upper bound on the CPU threads the compiled code may use "
               "(exported as OMP_NUM_THREADS; default: all cores)"),
      cl::value_desc("N"), cl::init(0), cl::cat(runCategory));
  return threads;
}

//===----------------------------------------------------------------------===//
// Error reporting.
//===----------------------------------------------------------------------===//

int fail(const llvm::Twine &message) {
  return mlir::attnflow::reportError(kTool, message);
}

//===----------------------------------------------------------------------===//
// Tensor types at the function boundary.
//===----------------------------------------------------------------------===//

std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

/// Returns true and fills `spec` if `type` is a supported tensor type.
bool getTensorSpec(Type type, TensorSpec &spec) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape() || tensor.getEncoding())
    return false;
  Type element = tensor.getElementType();
  if (element.isF64())
    spec.kind = ElementKind::F64;
  else if (element.isF32())
    spec.kind = ElementKind::F32;
  else if (element.isF16())
    spec.kind = ElementKind::F16;
  else if (element.isBF16())
    spec.kind = ElementKind::BF16;
  else if (element.isSignlessInteger(64))
    spec.kind = ElementKind::I64;
  else if (element.isSignlessInteger(32))
    spec.kind = ElementKind::I32;
  else if (element.isSignlessInteger(1))
    spec.kind = ElementKind::I1;
  else
    return false;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  spec.typeString = typeToString(type);
  return true;
}

//===----------------------------------------------------------------------===//
// Buffers.
//===----------------------------------------------------------------------===//

/// A 64-byte aligned, owned buffer for an argument.
struct ArgumentBuffer {
  void *data = nullptr;
  ArgumentBuffer() = default;
  ArgumentBuffer(const ArgumentBuffer &) = delete;
  ArgumentBuffer &operator=(const ArgumentBuffer &) = delete;
  ArgumentBuffer(ArgumentBuffer &&other) : data(other.data) {
    other.data = nullptr;
  }
  ~ArgumentBuffer() { std::free(data); }

  bool allocate(size_t bytes) {
    size_t rounded = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    data = std::aligned_alloc(64, rounded);
    if (data)
      std::memset(data, 0, rounded);
    return data != nullptr;
  }
};

/// Copies a result memref (descriptor at `slots`) into a .npy array.
bool resultToArray(const TensorSpec &spec, const int64_t *slots,
                   npy::Array &array, std::string &error) {
  size_t rank = spec.shape.size();
  const auto *aligned = reinterpret_cast<const uint8_t *>(slots[1]);
  int64_t offset = slots[2];
  const int64_t *sizes = slots + 3;
  const int64_t *strides = slots + 3 + rank;
  for (size_t d = 0; d < rank; ++d)
    if (sizes[d] != spec.shape[d]) {
      error = "the compiled function returned a buffer of the wrong shape";
      return false;
    }
  int64_t n = spec.numElements();
  if (n > 0 && !aligned) {
    error = "the compiled function returned a null buffer";
    return false;
  }
  tensorio::copyToArray(spec, aligned, offset, strides, array);
  return true;
}

/// Frees the buffers of the results in `slots` that the module allocated.
void freeResults(const std::vector<TensorSpec> &results,
                 const std::vector<int64_t> &slots,
                 const std::set<const void *> &inputBuffers) {
  for (void *allocated :
       tensorio::resultBuffersToFree(results, slots, inputBuffers))
    std::free(allocated);
}

//===----------------------------------------------------------------------===//
// Allocation in compiled code.
//===----------------------------------------------------------------------===//

/// Reports an allocation of the compiled function that failed and exits
/// before any output is written: MLIR's memref lowering does not check the
/// pointer malloc returns, so the code would write through null.
[[noreturn]] void outOfMemory(size_t bytes) {
  llvm::errs() << kTool << ": error: out of memory: the compiled function "
               << "could not allocate " << bytes << " bytes\n";
  llvm::errs().flush();
  std::_Exit(1);
}

void *checkedMalloc(size_t bytes) {
  void *pointer = std::malloc(bytes);
  if (!pointer && bytes != 0)
    outOfMemory(bytes);
  return pointer;
}

void *checkedAlignedAlloc(size_t alignment, size_t bytes) {
  void *pointer = std::aligned_alloc(alignment, bytes);
  if (!pointer && bytes != 0)
    outOfMemory(bytes);
  return pointer;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::opt<int> &threads = threadsOption();
  if (!mlir::attnflow::parseToolCommandLine(
          argc, argv, kTool, runCategory,
          "AttnFlow JIT runner: compiles an MLIR module for the host CPU with "
          "attnflow-cpu-pipeline and runs one function on .npy files.\n\n"
          "  attnflow-run model.mlir --entry=main --input=q.npy --input=k.npy "
          "--output=o.npy\n"
          "  attnflow-run model.mlir --random-inputs --seed=1 --repeat=20 "
          "--warmup=2\n"))
    return 1;

  tensorio::RunOptions options;
  options.inputs.assign(inputFiles.begin(), inputFiles.end());
  options.outputs.assign(outputFiles.begin(), outputFiles.end());
  options.randomInputs = randomInputs;
  options.seed = seed;
  options.seedGiven = seed.getNumOccurrences() != 0;
  options.repeat = repeat;
  options.repeatGiven = repeat.getNumOccurrences() != 0;
  options.warmup = warmup;
  options.warmupGiven = warmup.getNumOccurrences() != 0;

  // Flag combinations.
  std::string errorMessage = tensorio::checkRunFlags(options);
  if (!errorMessage.empty())
    return fail(errorMessage);
  if (threads.getNumOccurrences()) {
    if (threads < 1)
      return fail("--threads must be >= 1 (got " + llvm::Twine(threads) + ")");
    // Read by the OpenMP runtime of compiled code that uses it.
    ::setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  }
  errorMessage = tensorio::checkDistinctOutputNames(options);
  if (!errorMessage.empty())
    return fail(errorMessage);

  // Parse the module.
  MLIRContext context;
  mlir::attnflow::initializeToolContext(context, kTool);
  OwningOpRef<ModuleOp> module =
      mlir::attnflow::parseInputFile(inputFilename, context, errorMessage);
  if (!module)
    return fail(errorMessage);

  // The entry function and its signature.
  Operation *entrySymbol = module->lookupSymbol(entryName);
  if (!entrySymbol)
    return fail("no function named '" + entryName + "' in " + inputFilename);
  auto entry = dyn_cast<func::FuncOp>(entrySymbol);
  if (!entry)
    return fail("'" + entryName + "' is a '" +
                entrySymbol->getName().getStringRef() + "', not a func.func");
  if (entry.isExternal())
    return fail("function '" + entryName + "' is only a declaration");
  auto getSpecs = [&](TypeRange types, StringRef what,
                      std::vector<TensorSpec> &specs) {
    for (auto [i, type] : llvm::enumerate(types)) {
      TensorSpec spec;
      if (!getTensorSpec(type, spec)) {
        fail(what + " " + llvm::Twine(i) + " of '" + entryName + "' has type " +
             typeToString(type) +
             "; attnflow-run supports statically shaped tensors of " +
             tensorio::kSupportedElementTypes);
        return false;
      }
      if (!spec.sizeFits()) {
        fail(what + " " + llvm::Twine(i) + " of '" + entryName + "' (" +
             typeToString(type) + ") is too large to allocate");
        return false;
      }
      specs.push_back(std::move(spec));
    }
    return true;
  };
  std::vector<TensorSpec> argSpecs, resultSpecs;
  if (!getSpecs(entry.getArgumentTypes(), "argument", argSpecs) ||
      !getSpecs(entry.getResultTypes(), "result", resultSpecs))
    return 1;
  errorMessage = tensorio::checkFileCounts(options, entryName, argSpecs.size(),
                                          resultSpecs.size());
  if (!errorMessage.empty())
    return fail(errorMessage);
  std::set<std::string> outputPaths;
  for (const std::string &path : outputFiles) {
    if (failed(mlir::attnflow::checkOutputPath(path, errorMessage)))
      return fail(errorMessage);
    SmallString<256> absolute(path);
    if (llvm::sys::fs::make_absolute(absolute) ||
        (llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true),
         !outputPaths.insert(absolute.str().str()).second))
      return fail("--output " + path + " is given twice");
  }

  // Arguments: read (and check) or generate them.
  std::vector<ArgumentBuffer> argBuffers(argSpecs.size());
  tensorio::ArgumentLoader loader(options);
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    if (!argBuffers[i].allocate(argSpecs[i].byteSize()))
      return fail("out of memory for argument " + llvm::Twine(i));
    if (!loader.load(i, argSpecs[i], argBuffers[i].data, errorMessage))
      return fail(errorMessage);
  }

  // Lower to the LLVM dialect.
  if (failed(
          mlir::attnflow::runCPUPipeline(*module, inputFilename,
                                         mlir::attnflow::CPUPipelineOptions(),
                                         errorMessage)))
    return fail(errorMessage);

  // Functions the module declares but does not define are looked up in this
  // process by the JIT (libc, libm); report missing ones here, clearly.
  for (auto function : module->getOps<LLVM::LLVMFuncOp>()) {
    StringRef name = function.getName();
    if (function.isExternal() && !name.starts_with("llvm.") &&
        !::dlsym(RTLD_DEFAULT, name.str().c_str()))
      return fail("function '" + name + "' is declared in " + inputFilename +
                  " but defined neither there nor in the C / math libraries");
  }

  // JIT-compile for the host (its CPU and features), at -O3.
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return fail("cannot target the host CPU: " +
                llvm::toString(tmBuilder.takeError()));
  tmBuilder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto targetMachine = tmBuilder->createTargetMachine();
  if (!targetMachine)
    return fail("cannot target the host CPU: " +
                llvm::toString(targetMachine.takeError()));
  std::function<llvm::Error(llvm::Module *)> optimizer =
      makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                targetMachine->get());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = optimizer;
  // Parallel tiles call into the OpenMP runtime.
  SmallVector<StringRef, 1> sharedLibs = {ATTNFLOW_OMP_LIBRARY};
  engineOptions.sharedLibPaths = sharedLibs;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(*module, engineOptions,
                                        std::move(*targetMachine));
  if (!engine)
    return fail("JIT compilation failed: " +
                oneLine(llvm::toString(engine.takeError())));
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    symbols[interner("malloc")] = {
        llvm::orc::ExecutorAddr::fromPtr(&checkedMalloc),
        llvm::JITSymbolFlags::Exported};
    symbols[interner("aligned_alloc")] = {
        llvm::orc::ExecutorAddr::fromPtr(&checkedAlignedAlloc),
        llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  (*engine)->initialize();
  auto function = (*engine)->lookupPacked(entryName);
  if (!function)
    return fail("JIT compilation failed: " +
                oneLine(llvm::toString(function.takeError())));

  // Packed arguments: a pointer to every expanded descriptor field, then one
  // pointer to the result storage.
  std::vector<std::vector<int64_t>> argDescriptors(argSpecs.size());
  std::vector<void *> packed;
  std::set<const void *> inputPointers;
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    argDescriptors[i] =
        tensorio::rowMajorDescriptor(argSpecs[i], argBuffers[i].data);
    inputPointers.insert(argBuffers[i].data);
  }
  for (auto &d : argDescriptors)
    for (int64_t &slot : d)
      packed.push_back(&slot);
  std::vector<int64_t> resultSlots = tensorio::resultStorage(resultSpecs);
  if (!resultSpecs.empty())
    packed.push_back(resultSlots.data());

  // Run: once, or warm-up + timed repetitions. Results of all but the last
  // run are freed right away.
  auto invoke = *function;
  int64_t timedRuns = options.timedRuns();
  int64_t warmupRuns = options.warmupRuns();
  int64_t totalRuns = options.totalRuns();
  std::vector<double> timesMs;
  for (int64_t run = 0; run < totalRuns; ++run) {
    auto start = std::chrono::steady_clock::now();
    invoke(packed.data());
    auto stop = std::chrono::steady_clock::now();
    if (run >= warmupRuns && timedRuns)
      timesMs.push_back(
          std::chrono::duration<double, std::milli>(stop - start).count());
    if (run + 1 < totalRuns)
      freeResults(resultSpecs, resultSlots, inputPointers);
  }

  // Collect the results, then free them.
  std::vector<npy::Array> results;
  bool collected = tensorio::collectResults(
      resultSpecs, resultSlots, resultToArray, results, errorMessage);
  freeResults(resultSpecs, resultSlots, inputPointers);
  if (!collected)
    return fail(errorMessage);

  if (timedRuns) {
    llvm::outs() << tensorio::formatTimes(timesMs);
    llvm::outs().flush();
  }

  // Written only now that everything succeeded, all or none.
  if (!tensorio::writeOutputs(options.outputs, results, errorMessage))
    return fail(errorMessage);
  return 0;
}
