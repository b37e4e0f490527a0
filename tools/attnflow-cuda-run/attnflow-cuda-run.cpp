//===- attnflow-cuda-run.cpp - Run a compiled CUDA module on .npy files ---===//
//
// attnflow-cuda-run MODULE.so [--entry=main] [--input=a.npy ...]
//                   [--output=o.npy ...] [--random-inputs [--seed=N]]
//                   [--repeat=N [--warmup=N]] [--verbose]
//
// (DESIGN.md §5.) Runs one function of a module that `attnflow-compile
// --target=cuda --emit=obj` compiled and `clang -shared` linked, on a GPU,
// with the .npy conventions of attnflow-run (both tools take them from
// runtime/TensorIO.h: reading, generating and writing tensors, the shared
// flags and their messages). It links no MLIR or LLVM library and not
// libcuda: the CUDA launch runtime (libattnflow_cuda_runtime, found through
// the rpath $ORIGIN/../lib) loads the driver at run time, so this tool and a
// compiled module can be carried to any machine with an NVIDIA driver, and
// say clearly when there is none.
//
// Module ABI (see --help): the module's global constructors load its GPU
// code through the runtime (mgpuModuleLoad*), so the module is dlopen'ed
// RTLD_NOW | RTLD_GLOBAL after the runtime is loaded and CUDA initialised.
// `const char _attnflow_signature_<entry>[]` gives the tensor types, e.g.
// "1x32x512x128xf32,512xi64->1x32x512x128xf32", and
// `void _mlir_ciface_<entry>(results*, arg0*, arg1*, ...)` is MLIR's C
// interface over memref descriptors {allocated, aligned, offset, sizes[R],
// strides[R]} (8-byte fields). Every buffer is device memory: arguments are
// allocated and filled here (row-major, offset 0) and stay owned by this
// tool; result buffers are allocated by the module (mgpuMemAlloc) and freed
// here once copied out. Each call is synchronous (the module synchronises
// its streams before returning).
//
// Every error is reported as one `attnflow-cuda-run: error: ...` line on
// stderr with exit code 1, and no output file is written or replaced.
//
//===----------------------------------------------------------------------===//

#include "CudaRuntime.h"
#include "Npy.h"
#include "TensorIO.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

namespace npy = ::attnflow::npy;
namespace tensorio = ::attnflow::tensorio;
using tensorio::plural;
using tensorio::TensorSpec;

namespace {

constexpr const char *kTool = "attnflow-cuda-run";

/// Most pointer parameters of `_mlir_ciface_<entry>` (one for the results,
/// one per argument) this tool can call.
constexpr size_t kMaxParameters = 64;

//===----------------------------------------------------------------------===//
// Error reporting.
//===----------------------------------------------------------------------===//

int fail(const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", kTool, message.c_str());
  return 1;
}

void note(const std::string &message) {
  std::fprintf(stderr, "%s: note: %s\n", kTool, message.c_str());
}

//===----------------------------------------------------------------------===//
// Command line (the syntax of LLVM's cl, which attnflow-run uses: -name or
// --name, values after '=' or as the next argument).
//===----------------------------------------------------------------------===//

const char *const kHelp = R"(OVERVIEW: AttnFlow CUDA runner: runs one function of a module compiled by
`attnflow-compile --target=cuda` on an NVIDIA GPU, on .npy files.

  attnflow-cuda-run model.so --entry=main --input=q.npy --input=k.npy --output=o.npy
  attnflow-cuda-run model.so --random-inputs --seed=1 --repeat=20 --warmup=2

USAGE: attnflow-cuda-run [options] <module .so>

OPTIONS:

attnflow-cuda-run options:

  --entry=<name>      - Name of the function to run (default: main)
  --input=<file.npy>  - A .npy file for the next argument of the entry function
                        (repeat once per argument, in order). Dtypes: float64,
                        float32, float16, int64, int32, bool; a bf16 argument
                        takes a float32 file (rounded to nearest even)
  --output=<file.npy> - A .npy file for the next result (repeat once per result,
                        in order; all or none). bf16 results are written as
                        float32, i1 as bool, 0-d results with shape ()
  --random-inputs     - Generate the arguments instead of reading them: floats
                        from N(0, 1), integer tensors hold 0..n-1 along their
                        last dimension, i1 tensors random bits (for benchmarks)
  --seed=<N>          - Seed of --random-inputs' generator (std::mt19937_64;
                        default 0; the same values as attnflow-run's)
  --repeat=<N>        - Run the function N times after the warm-up runs and print
                        the min and median time (default 0: run once, untimed)
  --warmup=<N>        - Untimed runs before the --repeat runs (default 1)
  --verbose           - Print the GPU and driver used on stderr

Generic Options:

  --help              - Display available options

MODULE: a shared object holding the host code of `attnflow-compile
--target=cuda --emit=obj` with its GPU binary embedded, linked with
  /usr/lib/llvm-22/bin/clang -shared -o model.so model.o
Its mgpu* calls resolve against this tool's CUDA runtime
(libattnflow_cuda_runtime.so, found in ../lib next to this program). It must
define, for the function <entry>:
  const char _attnflow_signature_<entry>[]  the tensor types, arguments then
      `->` then results, comma-separated, each the dimensions joined by `x`
      followed by the element type: "1x32x512x128xf32,512xi64->1x32x512x128xf32"
      (a 0-d tensor is just its element type; f64 f32 f16 bf16 i64 i32 i1)
  void _mlir_ciface_<entry>(...)  MLIR's C interface: a pointer to the result
      descriptor (or to a struct of them, in order; none without results),
      then one pointer per argument descriptor. A rank-R descriptor is
      {void *allocated, *aligned; int64_t offset, sizes[R], strides[R]}.
All buffers are device memory: arguments are allocated and filled by this
tool (row-major, offset 0) and must not be freed by the module; results are
allocated by the module with mgpuMemAlloc and freed here after the copy. Each
call must be synchronous (the module synchronises its streams).

TIMING: --repeat records CUDA events on the default stream around each call
(so a time covers the whole call: launches, allocations, kernels, the final
synchronisation) and prints `min X ms, median Y ms over N runs`. The outputs
are those of the last run.

ERRORS: any bad input (unreadable module, missing entry or signature, wrong
number, dtype or shape of .npy files, no CUDA driver or device, a failing CUDA
call) prints one `attnflow-cuda-run: error:` line and exits with status 1;
outputs are written (each via a temporary file) only after everything
succeeded, so a failure leaves no new or partial output.

ENVIRONMENT:
  ATTNFLOW_CUDA_DRIVER  the CUDA driver library to load (default libcuda.so.1)
  ATTNFLOW_CUDA_DEBUG   when set (not 0), the runtime prints every CUDA error
                        and every kernel launch on stderr
)";

/// --input, --output, --random-inputs, --seed, --repeat and --warmup are
/// attnflow-run's (tensorio::RunOptions); the rest is this tool's.
struct Options : tensorio::RunOptions {
  std::string module;
  std::string entry = "main";
  bool verbose = false;
  bool help = false;
};

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool parseInt(const std::string &text, long long low, long long high,
              long long &out) {
  if (text.empty())
    return false;
  errno = 0;
  char *end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (errno || *end || value < low || value > high)
    return false;
  out = value;
  return true;
}

bool parseUnsigned(const std::string &text, uint64_t &out) {
  if (text.empty() || text[0] == '-' || text[0] == '+')
    return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (errno || *end)
    return false;
  out = value;
  return true;
}

/// Parses argv into `options`; false after reporting an error.
bool parseCommandLine(int argc, char **argv, Options &options) {
  enum Kind { Flag, Value };
  struct Spec {
    const char *name;
    Kind kind;
    const char *valueHint;
  };
  static const Spec specs[] = {
      {"entry", Value, "name"},        {"input", Value, "file.npy"},
      {"output", Value, "file.npy"},   {"random-inputs", Flag, nullptr},
      {"seed", Value, "N"},            {"repeat", Value, "N"},
      {"warmup", Value, "N"},          {"verbose", Flag, nullptr},
      {"help", Flag, nullptr},
  };
  std::vector<std::string> positional;
  bool onlyPositional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (onlyPositional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      onlyPositional = true;
      continue;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool hasValue = false;
    size_t equals = body.find('=');
    if (equals != std::string::npos) {
      name = body.substr(0, equals);
      value = body.substr(equals + 1);
      hasValue = true;
    }
    if (name == "h")
      name = "help";
    const Spec *spec = nullptr;
    for (const Spec &candidate : specs)
      if (name == candidate.name)
        spec = &candidate;
    if (!spec) {
      fail("Unknown command line argument '" + arg + "'.");
      const Spec *best = nullptr;
      size_t bestDistance = 3;
      for (const Spec &candidate : specs) {
        size_t distance = editDistance(name, candidate.name);
        if (distance < bestDistance) {
          bestDistance = distance;
          best = &candidate;
        }
      }
      if (best)
        note(std::string("Did you mean '--") + best->name +
             (hasValue ? "=" + value : std::string()) + "'?");
      return false;
    }
    std::string dashed = std::string("--") + spec->name;
    if (spec->kind == Flag) {
      bool on = true;
      if (hasValue) {
        if (value == "true" || value == "TRUE" || value == "True" ||
            value == "1")
          on = true;
        else if (value == "false" || value == "FALSE" || value == "False" ||
                 value == "0")
          on = false;
        else {
          fail("for the " + dashed + " option: '" + value +
               "' is invalid value for boolean argument! Try 0 or 1");
          return false;
        }
      }
      if (name == "random-inputs")
        options.randomInputs = on;
      else if (name == "verbose")
        options.verbose = on;
      else
        options.help = on;
      continue;
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        fail("for the " + dashed + " option: requires a value!");
        return false;
      }
      value = argv[++i];
    }
    long long number;
    if (name == "entry") {
      options.entry = value;
    } else if (name == "input") {
      options.inputs.push_back(value);
    } else if (name == "output") {
      options.outputs.push_back(value);
    } else if (name == "seed") {
      if (!parseUnsigned(value, options.seed)) {
        fail("for the " + dashed + " option: '" + value +
             "' value invalid for ulong argument!");
        return false;
      }
      options.seedGiven = true;
    } else {
      if (!parseInt(value, INT_MIN, INT_MAX, number)) {
        fail("for the " + dashed + " option: '" + value +
             "' value invalid for integer argument!");
        return false;
      }
      if (name == "repeat") {
        options.repeat = static_cast<int>(number);
        options.repeatGiven = true;
      } else {
        options.warmup = static_cast<int>(number);
        options.warmupGiven = true;
      }
    }
  }
  if (options.help)
    return true;
  if (positional.empty()) {
    fail("Not enough positional command line arguments specified!");
    note("usage: attnflow-cuda-run [options] <module .so> (see --help)");
    return false;
  }
  if (positional.size() > 1) {
    fail("Too many positional arguments specified!");
    note("usage: attnflow-cuda-run [options] <module .so> (see --help)");
    return false;
  }
  options.module = positional[0];
  return true;
}

//===----------------------------------------------------------------------===//
// Tensor types at the function boundary (from the signature string).
//===----------------------------------------------------------------------===//

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t at = text.find(separator, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string::npos)
      return parts;
    start = at + 1;
  }
}

/// Parses one type of the signature ("2x3xf32", "i64"); false with `error`.
bool parseTensorType(const std::string &text, TensorSpec &spec,
                     std::string &error) {
  std::vector<std::string> parts = split(text, 'x');
  const std::string &element = parts.back();
  if (!tensorio::parseElementKind(element, spec.kind)) {
    error = "'" + text + "' has element type '" + element +
            "'; attnflow-cuda-run supports " + tensorio::kSupportedElementTypes;
    return false;
  }
  uint64_t bytes = spec.elementBytes();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string &dim = parts[i];
    bool digits = !dim.empty() &&
                  std::all_of(dim.begin(), dim.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      error = "'" + text + "' has dimension '" + dim +
              "'; only static, non-negative sizes are supported";
      return false;
    }
    errno = 0;
    unsigned long long size = std::strtoull(dim.c_str(), nullptr, 10);
    if (errno || size > static_cast<unsigned long long>(INT64_MAX) ||
        !tensorio::multiplyByteSize(bytes, static_cast<uint64_t>(size))) {
      error = "'" + text + "' is too large to allocate";
      return false;
    }
    spec.shape.push_back(static_cast<int64_t>(size));
  }
  spec.typeString = "tensor<" + text + ">";
  return true;
}

bool parseSignature(const std::string &signature,
                    std::vector<TensorSpec> &args,
                    std::vector<TensorSpec> &results, std::string &error) {
  size_t arrow = signature.find("->");
  if (arrow == std::string::npos ||
      signature.find("->", arrow + 2) != std::string::npos) {
    error = "expected one '->' between the argument and the result types";
    return false;
  }
  auto parseList = [&](const std::string &list,
                       std::vector<TensorSpec> &specs) {
    if (list.empty())
      return true;
    for (const std::string &type : split(list, ',')) {
      TensorSpec spec;
      if (!parseTensorType(type, spec, error))
        return false;
      specs.push_back(std::move(spec));
    }
    return true;
  };
  return parseList(signature.substr(0, arrow), args) &&
         parseList(signature.substr(arrow + 2), results);
}

//===----------------------------------------------------------------------===//
// Device side.
//===----------------------------------------------------------------------===//

/// The runtime's recorded error, or "" when there is none.
std::string cudaError() {
  const char *error = attnflowCudaGetError();
  return error ? error : "";
}

/// Copies a result memref (descriptor at `slots`, in device memory) into a
/// .npy array.
bool resultToArray(const TensorSpec &spec, const int64_t *slots,
                   npy::Array &array, std::string &error) {
  size_t rank = spec.shape.size();
  const auto *aligned = reinterpret_cast<const uint8_t *>(slots[1]);
  int64_t offset = slots[2];
  const int64_t *sizes = slots + 3;
  const int64_t *strides = slots + 3 + rank;
  std::vector<int64_t> shape(sizes, sizes + rank);
  if (shape != spec.shape) {
    error = "the module returned a buffer of shape " +
            npy::formatShape(shape) + " for " + spec.typeString;
    return false;
  }
  int64_t n = spec.numElements();
  size_t elementBytes = spec.elementBytes();
  if (n == 0) {
    tensorio::copyToArray(spec, nullptr, 0, strides, array);
    return true;
  }
  if (!aligned) {
    error = "the module returned a null buffer for " + spec.typeString;
    return false;
  }
  // The elements the descriptor reaches: [offset, offset + span).
  bool contiguous = tensorio::isRowMajor(spec, strides);
  int64_t span = 1;
  bool negative = offset < 0;
  for (size_t d = 0; d < rank; ++d)
    negative |= strides[d] < 0;
  if (negative) {
    error = "the module returned a buffer with a negative offset or stride "
            "for " +
            spec.typeString;
    return false;
  }
  bool overflow = false;
  for (size_t d = rank; d-- > 0;) {
    int64_t reach;
    overflow |= __builtin_mul_overflow(spec.shape[d] - 1, strides[d], &reach) ||
                __builtin_add_overflow(span, reach, &span);
  }
  if (!contiguous && (overflow || span > 4 * n + (int64_t(1) << 20))) {
    error = "the module returned a non-contiguous buffer for " +
            spec.typeString + " (strides too sparse to copy)";
    return false;
  }
  if (contiguous)
    span = n;
  std::vector<uint8_t> staged(static_cast<size_t>(span) * elementBytes);
  if (attnflowCudaMemcpy(staged.data(),
                         aligned + offset * static_cast<int64_t>(elementBytes),
                         staged.size())) {
    error = "copying it from the device failed: " + cudaError();
    return false;
  }
  tensorio::copyToArray(spec, staged.data(), 0, strides, array);
  return true;
}

/// Frees the buffers of the results in `slots` that the module allocated;
/// false (runtime error recorded) if freeing failed.
bool freeResults(const std::vector<TensorSpec> &results,
                 const std::vector<int64_t> &slots,
                 const std::set<const void *> &inputBuffers) {
  bool ok = true;
  for (void *allocated :
       tensorio::resultBuffersToFree(results, slots, inputBuffers))
    if (attnflowCudaFree(allocated))
      ok = false;
  return ok;
}

//===----------------------------------------------------------------------===//
// Calling `_mlir_ciface_<entry>` with N pointer parameters.
//===----------------------------------------------------------------------===//

using Caller = void (*)(void *function, void *const *params);

template <size_t... I>
void callWith(void *function, void *const *params, std::index_sequence<I...>) {
  using Function = void (*)(decltype((void)I, static_cast<void *>(nullptr))...);
  reinterpret_cast<Function>(function)(params[I]...);
}

template <size_t N> void callN(void *function, void *const *params) {
  callWith(function, params, std::make_index_sequence<N>());
}

template <size_t... N>
constexpr std::array<Caller, sizeof...(N)> makeCallers(std::index_sequence<N...>) {
  return {&callN<N>...};
}

constexpr std::array<Caller, kMaxParameters + 1> kCallers =
    makeCallers(std::make_index_sequence<kMaxParameters + 1>());

//===----------------------------------------------------------------------===//
// Files.
//===----------------------------------------------------------------------===//

bool isDirectory(const std::string &path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

/// The directory part of `path` ("." when there is none).
std::string parentDirectory(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

/// attnflow-run's output checks: not a directory, in an existing, writable
/// directory. Also returns a normalised absolute path for duplicate checks.
bool checkOutputPath(const std::string &path, std::string &canonical,
                     std::string &error) {
  if (path.empty()) {
    error = "the output path is empty";
    return false;
  }
  if (isDirectory(path)) {
    error = "output " + path + " is a directory";
    return false;
  }
  std::string directory = parentDirectory(path);
  if (!isDirectory(directory)) {
    error = "cannot write " + path + ": directory " + directory +
            " does not exist";
    return false;
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    error = "cannot write " + path + ": directory " + directory +
            " is not writable";
    return false;
  }
  char resolved[PATH_MAX];
  if (!::realpath(directory.c_str(), resolved)) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  size_t slash = path.find_last_of('/');
  canonical = std::string(resolved) + "/" +
              (slash == std::string::npos ? path : path.substr(slash + 1));
  return true;
}

/// The dlopen'ed module, closed by main() after run() returned, whatever
/// happened: its destructors unload its GPU code through the runtime, which
/// should happen while the driver is still loaded (at exit, the order in
/// which the C library finalises dlopen'ed objects is not guaranteed).
void *loadedModule = nullptr;

struct DeviceBuffers {
  std::vector<void *> buffers;
  ~DeviceBuffers() {
    for (void *buffer : buffers)
      attnflowCudaFree(buffer);
  }
};

int run(int argc, char **argv) {
  Options options;
  if (!parseCommandLine(argc, argv, options))
    return 1;
  if (options.help) {
    std::fputs(kHelp, stdout);
    return 0;
  }

  // Flag combinations.
  std::string errorMessage = tensorio::checkRunFlags(options);
  if (errorMessage.empty())
    errorMessage = tensorio::checkDistinctOutputNames(options);
  if (!errorMessage.empty())
    return fail(errorMessage);

  // CUDA first: the module's constructors load its GPU code. A failure is
  // reported once the files have been checked (they can be without a GPU).
  bool cudaReady = attnflowCudaInit() == 0;
  std::string cudaInitError = cudaReady ? "" : cudaError();

  // The module.
  const std::string &modulePath = options.module;
  struct stat info;
  if (::stat(modulePath.c_str(), &info) != 0)
    return fail("cannot open module '" + modulePath +
                "': " + std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return fail("cannot open module '" + modulePath + "': it is a directory");
  std::string loadPath =
      modulePath.find('/') == std::string::npos ? "./" + modulePath : modulePath;
  void *module = ::dlopen(loadPath.c_str(), RTLD_NOW | RTLD_GLOBAL);
  loadedModule = module;
  if (!module) {
    const char *reason = ::dlerror();
    return fail("cannot load module '" + modulePath +
                "': " + (reason ? reason : "unknown error"));
  }
  const std::string &entry = options.entry;
  std::string cifaceName = "_mlir_ciface_" + entry;
  std::string signatureName = "_attnflow_signature_" + entry;
  void *function = ::dlsym(module, cifaceName.c_str());
  if (!function)
    return fail("no function named '" + entry + "' in " + modulePath +
                " (no symbol " + cifaceName +
                "; the entry must be compiled with its C interface)");
  auto *signature =
      static_cast<const char *>(::dlsym(module, signatureName.c_str()));
  if (!signature)
    return fail("no signature for '" + entry + "' in " + modulePath +
                " (no symbol " + signatureName +
                "; compile the module with attnflow-compile --target=cuda)");
  std::vector<TensorSpec> argSpecs, resultSpecs;
  if (!parseSignature(signature, argSpecs, resultSpecs, errorMessage))
    return fail("malformed signature '" + std::string(signature) + "' of '" +
                entry + "' in " + modulePath + ": " + errorMessage);
  size_t parameters = (resultSpecs.empty() ? 0 : 1) + argSpecs.size();
  if (parameters > kMaxParameters)
    return fail("'" + entry + "' takes " + plural(argSpecs.size(), "argument") +
                " and returns " + plural(resultSpecs.size(), "result") +
                "; attnflow-cuda-run calls functions with at most " +
                std::to_string(kMaxParameters) + " pointer parameters");

  // Argument and output counts, output paths.
  errorMessage = tensorio::checkFileCounts(options, entry, argSpecs.size(),
                                          resultSpecs.size());
  if (!errorMessage.empty())
    return fail(errorMessage);
  std::set<std::string> outputPaths;
  for (const std::string &path : options.outputs) {
    std::string canonical;
    if (!checkOutputPath(path, canonical, errorMessage))
      return fail(errorMessage);
    if (!outputPaths.insert(canonical).second)
      return fail("--output " + path + " is given twice");
  }

  // Arguments: read (and check) or generate them, on the host.
  std::vector<std::vector<uint8_t>> hostArgs(argSpecs.size());
  tensorio::ArgumentLoader loader(options);
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    hostArgs[i].assign(argSpecs[i].byteSize(), 0);
    if (!loader.load(i, argSpecs[i], hostArgs[i].data(), errorMessage))
      return fail(errorMessage);
  }

  // Everything that can be checked without a GPU was: now CUDA must work.
  if (!cudaReady)
    return fail(cudaInitError.empty() ? "CUDA is unavailable" : cudaInitError);
  if (options.verbose) {
    char description[512];
    if (attnflowCudaDescribeDevice(description, sizeof(description)) == 0)
      std::fprintf(stderr, "%s: device: %s\n", kTool, description);
  }
  // The module's constructors ran at dlopen: did its GPU code load?
  if (!cudaError().empty())
    return fail(modulePath + ": " + cudaError());

  // Device buffers for the arguments: row-major, offset 0.
  DeviceBuffers deviceArgs;
  std::set<const void *> inputPointers;
  std::vector<std::vector<int64_t>> argDescriptors(argSpecs.size());
  for (size_t i = 0; i < argSpecs.size(); ++i) {
    const TensorSpec &spec = argSpecs[i];
    void *buffer = attnflowCudaAlloc(spec.byteSize());
    if (spec.byteSize() && !buffer)
      return fail("argument " + std::to_string(i) + ": " + cudaError());
    deviceArgs.buffers.push_back(buffer);
    inputPointers.insert(buffer);
    if (attnflowCudaMemcpy(buffer, hostArgs[i].data(), spec.byteSize()))
      return fail("argument " + std::to_string(i) + ": " + cudaError());
    argDescriptors[i] = tensorio::rowMajorDescriptor(spec, buffer);
  }
  hostArgs.clear();
  hostArgs.shrink_to_fit();

  // Parameters: the result storage (one descriptor, or a struct of them:
  // all 8-byte fields, so no padding), then one pointer per argument.
  std::vector<int64_t> resultSlots = tensorio::resultStorage(resultSpecs);
  std::vector<void *> params;
  if (!resultSpecs.empty())
    params.push_back(resultSlots.data());
  for (auto &d : argDescriptors)
    params.push_back(d.data());

  // Run: once, or warm-up + timed repetitions. Results of all but the last
  // run are freed right away.
  void *startEvent = nullptr, *stopEvent = nullptr;
  int64_t timedRuns = options.timedRuns();
  int64_t warmupRuns = options.warmupRuns();
  int64_t totalRuns = options.totalRuns();
  if (timedRuns) {
    startEvent = attnflowCudaTimerEventCreate();
    stopEvent = attnflowCudaTimerEventCreate();
    if (!startEvent || !stopEvent)
      return fail(cudaError());
  }
  std::vector<double> timesMs;
  Caller caller = kCallers[params.size()];
  for (int64_t run = 0; run < totalRuns; ++run) {
    bool timed = timedRuns && run >= warmupRuns;
    if (timed && (attnflowCudaEventRecord(startEvent) ||
                  attnflowCudaEventSynchronize(startEvent)))
      return fail(cudaError());
    std::fill(resultSlots.begin(), resultSlots.end(), 0);
    caller(function, params.data());
    if (!cudaError().empty())
      return fail("running '" + entry + "' failed: " + cudaError());
    if (timed) {
      float ms = 0;
      if (attnflowCudaEventRecord(stopEvent) ||
          attnflowCudaEventElapsedMs(startEvent, stopEvent, &ms))
        return fail(cudaError());
      timesMs.push_back(ms);
    }
    if (run + 1 < totalRuns &&
        !freeResults(resultSpecs, resultSlots, inputPointers))
      return fail("freeing the results of '" + entry +
                  "' failed: " + cudaError());
  }
  if (startEvent) {
    attnflowCudaEventDestroy(startEvent);
    attnflowCudaEventDestroy(stopEvent);
  }

  // Collect the results, then free them.
  std::vector<npy::Array> results;
  bool collected = tensorio::collectResults(
      resultSpecs, resultSlots, resultToArray, results, errorMessage);
  bool freed = freeResults(resultSpecs, resultSlots, inputPointers);
  if (!collected)
    return fail(errorMessage);
  if (!freed)
    return fail("freeing the results of '" + entry +
                "' failed: " + cudaError());

  if (timedRuns) {
    std::fputs(tensorio::formatTimes(timesMs).c_str(), stdout);
    std::fflush(stdout);
  }

  // Written only now that everything succeeded, all or none.
  if (!tensorio::writeOutputs(options.outputs, results, errorMessage))
    return fail(errorMessage);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  int status = run(argc, argv);
  if (loadedModule)
    ::dlclose(loadedModule);
  return status;
}
