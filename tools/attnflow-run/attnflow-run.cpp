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
// Every error is reported as `attnflow-run: error: ...` on stderr, with exit
// code 1; IR diagnostics keep their file:line:col location.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

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
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <unistd.h>

using namespace mlir;
using mlir::attnflow::oneLine;
namespace cl = llvm::cl;
namespace npy = ::attnflow::npy;

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

std::string plural(size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

//===----------------------------------------------------------------------===//
// Tensor types at the function boundary.
//===----------------------------------------------------------------------===//

enum class ElementKind { F64, F32, F16, BF16, I64, I32, I1 };

/// A statically shaped tensor type accepted at the entry function boundary.
struct TensorSpec {
  ElementKind kind;
  std::vector<int64_t> shape;
  std::string typeString; // e.g. "tensor<2x3xf32>"

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  size_t elementBytes() const {
    switch (kind) {
    case ElementKind::F64:
    case ElementKind::I64:
      return 8;
    case ElementKind::F32:
    case ElementKind::I32:
      return 4;
    case ElementKind::F16:
    case ElementKind::BF16:
      return 2;
    case ElementKind::I1:
      return 1; // LLVM stores an i1 in one byte
    }
    return 0;
  }
  /// The .npy dtype used for this tensor in files.
  npy::DType fileType() const {
    switch (kind) {
    case ElementKind::F64:
      return npy::DType::F64;
    case ElementKind::F32:
    case ElementKind::BF16:
      return npy::DType::F32;
    case ElementKind::F16:
      return npy::DType::F16;
    case ElementKind::I64:
      return npy::DType::I64;
    case ElementKind::I32:
      return npy::DType::I32;
    case ElementKind::I1:
      return npy::DType::Bool;
    }
    return npy::DType::F32;
  }
  /// Number of int64 slots of the expanded memref descriptor.
  size_t descriptorSlots() const { return 3 + 2 * shape.size(); }
};

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

/// Fills `buffer` (spec.numElements() elements) from a .npy array whose dtype
/// and shape were checked.
void convertFromFile(const TensorSpec &spec, const npy::Array &array,
                     void *buffer) {
  int64_t n = spec.numElements();
  if (spec.kind == ElementKind::BF16) {
    const auto *in = reinterpret_cast<const float *>(array.data.data());
    auto *out = static_cast<uint16_t *>(buffer);
    for (int64_t i = 0; i < n; ++i) {
      float value;
      std::memcpy(&value, in + i, sizeof(float));
      out[i] = npy::floatToBFloat16(value);
    }
    return;
  }
  if (spec.kind == ElementKind::I1) {
    auto *out = static_cast<uint8_t *>(buffer);
    for (int64_t i = 0; i < n; ++i)
      out[i] = array.data[i] != 0;
    return;
  }
  std::memcpy(buffer, array.data.data(), array.data.size());
}

/// Uniform double in [0, 1) from the top 53 bits.
double uniform01(std::mt19937_64 &gen) {
  return static_cast<double>(gen() >> 11) * 0x1.0p-53;
}

/// Standard normal (Box-Muller; two draws per value, no caching, so the
/// sequence only depends on the seed, not on the C++ library).
double standardNormal(std::mt19937_64 &gen) {
  double u1 = 1.0 - uniform01(gen); // (0, 1]
  double u2 = uniform01(gen);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

void fillRandom(const TensorSpec &spec, std::mt19937_64 &gen, void *buffer) {
  int64_t n = spec.numElements();
  int64_t last = spec.shape.empty() ? 1 : spec.shape.back();
  for (int64_t i = 0; i < n; ++i) {
    switch (spec.kind) {
    case ElementKind::F64:
      static_cast<double *>(buffer)[i] = standardNormal(gen);
      break;
    case ElementKind::F32:
      static_cast<float *>(buffer)[i] = static_cast<float>(standardNormal(gen));
      break;
    case ElementKind::F16:
      static_cast<uint16_t *>(buffer)[i] =
          npy::floatToHalf(static_cast<float>(standardNormal(gen)));
      break;
    case ElementKind::BF16:
      static_cast<uint16_t *>(buffer)[i] =
          npy::floatToBFloat16(static_cast<float>(standardNormal(gen)));
      break;
    case ElementKind::I64:
      static_cast<int64_t *>(buffer)[i] = last ? i % last : 0;
      break;
    case ElementKind::I32:
      static_cast<int32_t *>(buffer)[i] =
          static_cast<int32_t>(last ? i % last : 0);
      break;
    case ElementKind::I1:
      static_cast<uint8_t *>(buffer)[i] = static_cast<uint8_t>(gen() >> 63);
      break;
    }
  }
}

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
  array.dtype = spec.fileType();
  array.shape = spec.shape;
  array.data.resize(static_cast<size_t>(n) * npy::dtypeSize(array.dtype));
  size_t elementBytes = spec.elementBytes();
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t linear = offset;
    for (size_t d = 0; d < rank; ++d)
      linear += index[d] * strides[d];
    const uint8_t *src = aligned + linear * static_cast<int64_t>(elementBytes);
    uint8_t *dst = array.data.data() + i * npy::dtypeSize(array.dtype);
    switch (spec.kind) {
    case ElementKind::BF16: {
      uint16_t bits;
      std::memcpy(&bits, src, 2);
      float value = npy::bfloat16ToFloat(bits);
      std::memcpy(dst, &value, 4);
      break;
    }
    case ElementKind::I1:
      *dst = *src & 1;
      break;
    default:
      std::memcpy(dst, src, elementBytes);
      break;
    }
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < spec.shape[d])
        break;
      index[d] = 0;
    }
  }
  return true;
}

/// The pointer value finalize-memref-to-llvm stores as the allocated pointer
/// of a memref.get_global (never to be freed).
constexpr uintptr_t kGlobalMarker = 0xdeadbeef;

/// Frees the buffers of the results in `slots` that the module allocated.
void freeResults(const std::vector<TensorSpec> &results,
                 const std::vector<int64_t> &slots,
                 const std::set<const void *> &inputBuffers) {
  std::set<void *> freed;
  size_t at = 0;
  for (const TensorSpec &spec : results) {
    void *allocated = reinterpret_cast<void *>(slots[at]);
    at += spec.descriptorSlots();
    if (!allocated || reinterpret_cast<uintptr_t>(allocated) == kGlobalMarker ||
        inputBuffers.count(allocated) || !freed.insert(allocated).second)
      continue;
    std::free(allocated);
  }
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

  // Flag combinations.
  if (repeat.getNumOccurrences() && repeat < 1)
    return fail("--repeat must be >= 1 (got " + llvm::Twine(repeat) + ")");
  if (warmup < 0)
    return fail("--warmup must be >= 0 (got " + llvm::Twine(warmup) + ")");
  if (warmup.getNumOccurrences() && !repeat.getNumOccurrences())
    return fail("--warmup needs --repeat");
  if (seed.getNumOccurrences() && !randomInputs)
    return fail("--seed needs --random-inputs");
  if (randomInputs && !inputFiles.empty())
    return fail("--random-inputs and --input are mutually exclusive");
  if (threads.getNumOccurrences()) {
    if (threads < 1)
      return fail("--threads must be >= 1 (got " + llvm::Twine(threads) + ")");
    // Read by the OpenMP runtime of compiled code that uses it.
    ::setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  }
  for (size_t i = 0; i < outputFiles.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (outputFiles[i] == outputFiles[j])
        return fail("--output " + outputFiles[i] + " is given twice");

  // Parse the module.
  MLIRContext context;
  mlir::attnflow::initializeToolContext(context, kTool);
  std::string errorMessage;
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
             "; attnflow-run supports statically shaped tensors of f64, f32, "
             "f16, bf16, i64, i32 and i1");
        return false;
      }
      // Sizes are computed in int64 / size_t: reject shapes whose byte size
      // does not fit instead of allocating a wrapped-around size.
      uint64_t bytes = spec.elementBytes();
      for (int64_t d : spec.shape) {
        if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) ||
            bytes > (uint64_t(1) << 62)) {
          fail(what + " " + llvm::Twine(i) + " of '" + entryName + "' (" +
               typeToString(type) + ") is too large to allocate");
          return false;
        }
      }
      specs.push_back(std::move(spec));
    }
    return true;
  };
  std::vector<TensorSpec> argSpecs, resultSpecs;
  if (!getSpecs(entry.getArgumentTypes(), "argument", argSpecs) ||
      !getSpecs(entry.getResultTypes(), "result", resultSpecs))
    return 1;
  if (!randomInputs && inputFiles.size() != argSpecs.size()) {
    if (inputFiles.empty())
      return fail(
          "'" + entryName + "' takes " + plural(argSpecs.size(), "argument") +
          ": pass one --input=" + "FILE.npy per argument, or --random-inputs");
    return fail("'" + entryName + "' takes " +
                plural(argSpecs.size(), "argument") + " but " +
                plural(inputFiles.size(), "--input file") + " " +
                (inputFiles.size() == 1 ? "was" : "were") + " given");
  }
  if (!outputFiles.empty() && outputFiles.size() != resultSpecs.size())
    return fail("'" + entryName + "' returns " +
                plural(resultSpecs.size(), "result") + " but " +
                plural(outputFiles.size(), "--output file") + " " +
                (outputFiles.size() == 1 ? "was" : "were") + " given");
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
  std::mt19937_64 generator(seed);
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    const TensorSpec &spec = argSpecs[i];
    if (!argBuffers[i].allocate(static_cast<size_t>(spec.numElements()) *
                                spec.elementBytes()))
      return fail("out of memory for argument " + llvm::Twine(i));
    if (randomInputs) {
      fillRandom(spec, generator, argBuffers[i].data);
      continue;
    }
    npy::Array array;
    if (!npy::readNpy(inputFiles[i], array, errorMessage))
      return fail("argument " + llvm::Twine(i) + ": " + errorMessage);
    if (array.dtype != spec.fileType() || array.shape != spec.shape)
      return fail("argument " + llvm::Twine(i) + ": " + inputFiles[i] +
                  ": expected " + npy::dtypeName(spec.fileType()) +
                  " of shape " + npy::formatShape(spec.shape) +
                  " for " + spec.typeString +
                  (spec.kind == ElementKind::BF16 ? " (rounded to bf16)" : "") +
                  ", got " + npy::dtypeName(array.dtype) + " of shape " +
                  npy::formatShape(array.shape));
    convertFromFile(spec, array, argBuffers[i].data);
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
    const TensorSpec &spec = argSpecs[i];
    std::vector<int64_t> &d = argDescriptors[i];
    d.assign(spec.descriptorSlots(), 0);
    d[0] = d[1] =
        static_cast<int64_t>(reinterpret_cast<uintptr_t>(argBuffers[i].data));
    size_t rank = spec.shape.size();
    int64_t stride = 1;
    for (size_t k = rank; k-- > 0;) {
      d[3 + k] = spec.shape[k];
      d[3 + rank + k] = stride;
      stride *= spec.shape[k];
    }
    inputPointers.insert(argBuffers[i].data);
  }
  for (auto &d : argDescriptors)
    for (int64_t &slot : d)
      packed.push_back(&slot);
  size_t resultSlotCount = 0;
  for (const TensorSpec &spec : resultSpecs)
    resultSlotCount += spec.descriptorSlots();
  std::vector<int64_t> resultSlots(std::max<size_t>(resultSlotCount, 1), 0);
  if (!resultSpecs.empty())
    packed.push_back(resultSlots.data());

  // Run: once, or warm-up + timed repetitions. Results of all but the last
  // run are freed right away.
  auto invoke = *function;
  int64_t timedRuns = repeat.getNumOccurrences() ? int64_t(repeat) : 0;
  int64_t warmupRuns = timedRuns ? int64_t(warmup) : 0;
  std::vector<double> timesMs;
  int64_t totalRuns = timedRuns ? warmupRuns + timedRuns : 1;
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
  std::vector<npy::Array> results(resultSpecs.size());
  size_t at = 0;
  for (size_t i = 0; i < resultSpecs.size(); ++i) {
    if (!resultToArray(resultSpecs[i], resultSlots.data() + at, results[i],
                       errorMessage)) {
      freeResults(resultSpecs, resultSlots, inputPointers);
      return fail("result " + llvm::Twine(i) + ": " + errorMessage);
    }
    at += resultSpecs[i].descriptorSlots();
  }
  freeResults(resultSpecs, resultSlots, inputPointers);

  if (timedRuns) {
    std::vector<double> sorted = timesMs;
    std::sort(sorted.begin(), sorted.end());
    size_t n = sorted.size();
    double median =
        n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    llvm::outs() << llvm::format("min %.6f ms, median %.6f ms over %lld run%s\n",
                                 sorted.front(), median,
                                 static_cast<long long>(timedRuns),
                                 timedRuns == 1 ? "" : "s");
    llvm::outs().flush();
  }

  // Stage every output next to its destination first and move them into
  // place only when all were written: a failure leaves no new file and never
  // removes a file that existed before.
  std::vector<std::string> staged;
  auto dropStaged = [&] {
    for (const std::string &path : staged)
      ::unlink(path.c_str());
  };
  for (size_t i = 0; i < outputFiles.size(); ++i) {
    std::string stage = outputFiles[i] + ".attnflow-partial";
    if (!npy::writeNpy(stage, results[i], errorMessage)) {
      dropStaged();
      return fail("result " + llvm::Twine(i) + ": " + errorMessage);
    }
    staged.push_back(stage);
  }
  for (size_t i = 0; i < outputFiles.size(); ++i) {
    if (::rename(staged[i].c_str(), outputFiles[i].c_str()) != 0) {
      std::string reason = std::strerror(errno);
      staged.erase(staged.begin(), staged.begin() + i);
      dropStaged();
      return fail("result " + llvm::Twine(i) + ": cannot write " +
                  outputFiles[i] + ": " + reason);
    }
  }
  return 0;
}
