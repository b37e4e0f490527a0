//===- TensorIO.h - Host-side tensors of the AttnFlow runners ---*- C++ -*-===//
//
// The logic attnflow-run (JIT on the CPU) and attnflow-cuda-run (compiled
// CUDA modules) share, so that the two tools read, generate, check and write
// tensors identically (DESIGN.md §5). Plain C++17 on top of Npy.h: no MLIR,
// no LLVM, no CUDA, so attnflow-cuda-run can link it (library
// AttnFlowTensorIO). Each tool keeps only what is specific to it: how it
// obtains the TensorSpecs of its entry function (MLIR types; the module's
// signature string), where buffers live and how the function is called.
//
// Tensors. A TensorSpec is a statically shaped tensor at the boundary of the
// entry function: an element kind (f64 f32 f16 bf16 i64 i32 i1) and a
// row-major shape of non-negative sizes (empty: a 0-d tensor, one element).
// In memory an element takes elementBytes() bytes (bf16 and f16 their 16 bits,
// i1 one byte holding 0 or 1). In .npy files a tensor has the dtype
// fileType(): float64, float32, float16, int64, int32, bool - except bf16,
// which NumPy lacks: it is read from float32 files (rounded to nearest even)
// and written as float32 (exactly).
//
// Buffers at the function boundary are MLIR memref descriptors, an array of
// int64 slots: allocated pointer, aligned pointer, offset, sizes[R],
// strides[R] (descriptorSlots() = 3 + 2R slots).
//
// Errors. No function throws or prints. A check returns "" when it passes
// and otherwise the complete one-line message the tool prints after
// `<tool>: error: `; a function that can fail returns false and sets such a
// message in `error`.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_RUNTIME_TENSORIO_H
#define ATTNFLOW_RUNTIME_TENSORIO_H

#include "Npy.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace attnflow {
namespace tensorio {

//===----------------------------------------------------------------------===//
// Tensor types.
//===----------------------------------------------------------------------===//

/// Element types supported at the entry function boundary.
enum class ElementKind { F64, F32, F16, BF16, I64, I32, I1 };

/// The element types as error messages list them:
/// "f64, f32, f16, bf16, i64, i32 and i1".
extern const char *const kSupportedElementTypes;

/// Sets `kind` from an MLIR element type spelling ("f64", "bf16", "i1", ...);
/// false (and `kind` unchanged) for any other string.
bool parseElementKind(const std::string &name, ElementKind &kind);

/// The largest byte size of a tensor the tools accept (2^62): sizes are
/// computed in int64 / size_t, so anything near the range is refused up
/// front instead of allocated with a wrapped-around size.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 62;

/// bytes *= size; false when the product overflows or exceeds
/// kMaxTensorBytes (`bytes` is then unspecified). Used dimension by dimension,
/// starting from the element size.
bool multiplyByteSize(uint64_t &bytes, uint64_t size);

/// A statically shaped tensor type at the entry function boundary.
struct TensorSpec {
  ElementKind kind = ElementKind::F32;
  std::vector<int64_t> shape; ///< Empty for a 0-d tensor.
  std::string typeString;     ///< For messages, e.g. "tensor<2x3xf32>".

  /// Product of the shape (1 for a 0-d tensor).
  int64_t numElements() const;
  /// Bytes of one element in memory (i1: 1).
  size_t elementBytes() const;
  /// numElements() * elementBytes().
  size_t byteSize() const;
  /// Whether byteSize() is at most kMaxTensorBytes (computed without
  /// overflow); the other size functions assume it is.
  bool sizeFits() const;
  /// The .npy dtype of this tensor in files (bf16: F32, i1: Bool).
  npy::DType fileType() const;
  /// Number of int64 slots of its memref descriptor.
  size_t descriptorSlots() const { return 3 + 2 * shape.size(); }
};

/// The descriptor of a row-major buffer at `data` holding `spec` (offset 0,
/// strides the suffix products of the shape): descriptorSlots() slots.
std::vector<int64_t> rowMajorDescriptor(const TensorSpec &spec,
                                        const void *data);

//===----------------------------------------------------------------------===//
// The command-line conventions both runners share.
//===----------------------------------------------------------------------===//

/// `n word` or `n words`.
std::string plural(size_t n, const char *word);

/// The options of both runners that concern inputs, outputs and timing.
struct RunOptions {
  std::vector<std::string> inputs;  ///< --input, one per argument, in order.
  std::vector<std::string> outputs; ///< --output, one per result or none.
  bool randomInputs = false;        ///< --random-inputs
  uint64_t seed = 0;                ///< --seed
  bool seedGiven = false;
  int repeat = 0; ///< --repeat
  bool repeatGiven = false;
  int warmup = 1; ///< --warmup
  bool warmupGiven = false;

  /// Timed runs (0: one untimed run), untimed warm-up runs before them, and
  /// all runs.
  int64_t timedRuns() const { return repeatGiven ? repeat : 0; }
  int64_t warmupRuns() const { return timedRuns() ? warmup : 0; }
  int64_t totalRuns() const {
    return timedRuns() ? warmupRuns() + timedRuns() : 1;
  }
};

/// Checks the combinations of --repeat, --warmup, --seed, --random-inputs
/// and --input, in that order; "" when they are valid.
std::string checkRunFlags(const RunOptions &options);

/// "--output X is given twice" for the first --output repeated verbatim, or
/// "". (Paths that differ as strings but name one file are a check of each
/// tool's own.)
std::string checkDistinctOutputNames(const RunOptions &options);

/// Checks the number of --input files against the `numArguments` of the
/// function `entry` (unless --random-inputs) and the number of --output
/// files, if any, against its `numResults`; "" when they match.
std::string checkFileCounts(const RunOptions &options, const std::string &entry,
                            size_t numArguments, size_t numResults);

//===----------------------------------------------------------------------===//
// Arguments.
//===----------------------------------------------------------------------===//

/// Fills argument buffers from the --input files or, with --random-inputs,
/// from a std::mt19937_64 seeded with --seed that runs across the arguments
/// in order (so a value only depends on the seed and the signature, and both
/// tools generate the same ones).
class ArgumentLoader {
public:
  explicit ArgumentLoader(const RunOptions &options);

  /// Fills `buffer` (spec.byteSize() bytes, row-major) with argument `index`
  /// of type `spec`; call it for the arguments in order. From a file: it must
  /// hold spec.fileType() of exactly spec.shape (bf16 values are rounded to
  /// nearest even, bool bytes become 0 / 1); otherwise the error is
  /// "argument <index>: <file>: expected ..." or the reader's message after
  /// "argument <index>: ". Generated: floats from N(0, 1) (Box-Muller over
  /// the top 53 bits of two draws, rounded to the element type), integers
  /// 0..n-1 along the last dimension (no draw), i1 the top bit of one draw.
  bool load(size_t index, const TensorSpec &spec, void *buffer,
            std::string &error);

private:
  std::vector<std::string> inputs;
  bool randomInputs;
  std::mt19937_64 generator;
};

/// Converts checked .npy data (spec.fileType(), spec.shape) to the in-memory
/// elements of `spec` in `buffer`.
void convertFromFile(const TensorSpec &spec, const npy::Array &array,
                     void *buffer);

/// Fills `buffer` with generated values for `spec`, as ArgumentLoader does.
void fillRandom(const TensorSpec &spec, std::mt19937_64 &generator,
                void *buffer);

//===----------------------------------------------------------------------===//
// Results.
//===----------------------------------------------------------------------===//

/// Whether `strides` (one per dimension) are the row-major strides of `spec`
/// (the suffix products of its shape), ignoring those of unit dimensions.
bool isRowMajor(const TensorSpec &spec, const int64_t *strides);

/// Sets `array` to the elements of `spec` read from host memory: element
/// (i_0, ..., i_R-1) at base + (offset + sum_d i_d * strides[d]) *
/// elementBytes(). The caller has checked that every element is in range.
/// bf16 becomes float32, i1 bool (the low bit).
void copyToArray(const TensorSpec &spec, const void *base, int64_t offset,
                 const int64_t *strides, npy::Array &array);

/// Zeroed storage for the result descriptors of a function returning
/// `results`: their slots one after the other (a struct of descriptors, all
/// 8-byte fields, so no padding), at least one slot.
std::vector<int64_t> resultStorage(const std::vector<TensorSpec> &results);

/// A tool's conversion of one result descriptor (`descriptor`, in the result
/// storage) to an array; false with a message in `error`.
using ResultReader = bool (*)(const TensorSpec &spec, const int64_t *descriptor,
                              npy::Array &array, std::string &error);

/// Sets `arrays` to the results in `storage` (see resultStorage), converted
/// in order by `read`; false at the first failure, with the error
/// "result <i>: <read's error>".
bool collectResults(const std::vector<TensorSpec> &results,
                    const std::vector<int64_t> &storage, ResultReader read,
                    std::vector<npy::Array> &arrays, std::string &error);

/// The pointer value finalize-memref-to-llvm stores as the allocated pointer
/// of a memref.get_global (never to be freed).
constexpr uintptr_t kGlobalMarker = 0xdeadbeef;

/// The allocated pointers of the result descriptors in `slots` (the
/// descriptors of `results`, one after the other) that the caller must free:
/// each once, in order, skipping null, kGlobalMarker and `inputBuffers`.
std::vector<void *>
resultBuffersToFree(const std::vector<TensorSpec> &results,
                    const std::vector<int64_t> &slots,
                    const std::set<const void *> &inputBuffers);

/// The timing line printed after timed runs, `timesMs` one entry per run:
/// "min X ms, median Y ms over N runs\n" (%.6f; "1 run").
std::string formatTimes(const std::vector<double> &timesMs);

/// Writes results[i] to paths[i] for all i, staging each next to its
/// destination first ("<path>.attnflow-partial") and renaming them into
/// place only when all were written: a failure leaves no new file and never
/// removes one that existed before. The error is "result <i>: ...".
bool writeOutputs(const std::vector<std::string> &paths,
                  const std::vector<npy::Array> &results, std::string &error);

} // namespace tensorio
} // namespace attnflow

#endif // ATTNFLOW_RUNTIME_TENSORIO_H
