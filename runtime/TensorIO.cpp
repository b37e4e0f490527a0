//===- TensorIO.cpp - Host-side tensors of the AttnFlow runners -----------===//
//
// See TensorIO.h. Plain C++17: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//

#include "TensorIO.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include <unistd.h>

namespace attnflow {
namespace tensorio {

//===----------------------------------------------------------------------===//
// Tensor types.
//===----------------------------------------------------------------------===//

const char *const kSupportedElementTypes =
    "f64, f32, f16, bf16, i64, i32 and i1";

bool parseElementKind(const std::string &name, ElementKind &kind) {
  static const std::pair<const char *, ElementKind> kinds[] = {
      {"f64", ElementKind::F64}, {"f32", ElementKind::F32},
      {"f16", ElementKind::F16}, {"bf16", ElementKind::BF16},
      {"i64", ElementKind::I64}, {"i32", ElementKind::I32},
      {"i1", ElementKind::I1}};
  for (const auto &[spelling, candidate] : kinds)
    if (name == spelling) {
      kind = candidate;
      return true;
    }
  return false;
}

bool multiplyByteSize(uint64_t &bytes, uint64_t size) {
  return !__builtin_mul_overflow(bytes, size, &bytes) &&
         bytes <= kMaxTensorBytes;
}

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

size_t TensorSpec::elementBytes() const {
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

size_t TensorSpec::byteSize() const {
  return static_cast<size_t>(numElements()) * elementBytes();
}

bool TensorSpec::sizeFits() const {
  uint64_t bytes = elementBytes();
  for (int64_t d : shape)
    if (!multiplyByteSize(bytes, static_cast<uint64_t>(d)))
      return false;
  return true;
}

npy::DType TensorSpec::fileType() const {
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

std::vector<int64_t> rowMajorDescriptor(const TensorSpec &spec,
                                        const void *data) {
  std::vector<int64_t> d(spec.descriptorSlots(), 0);
  d[0] = d[1] = static_cast<int64_t>(reinterpret_cast<uintptr_t>(data));
  size_t rank = spec.shape.size();
  int64_t stride = 1;
  for (size_t k = rank; k-- > 0;) {
    d[3 + k] = spec.shape[k];
    d[3 + rank + k] = stride;
    stride *= spec.shape[k];
  }
  return d;
}

//===----------------------------------------------------------------------===//
// Command-line conventions.
//===----------------------------------------------------------------------===//

std::string plural(size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string checkRunFlags(const RunOptions &options) {
  if (options.repeatGiven && options.repeat < 1)
    return "--repeat must be >= 1 (got " + std::to_string(options.repeat) + ")";
  if (options.warmup < 0)
    return "--warmup must be >= 0 (got " + std::to_string(options.warmup) + ")";
  if (options.warmupGiven && !options.repeatGiven)
    return "--warmup needs --repeat";
  if (options.seedGiven && !options.randomInputs)
    return "--seed needs --random-inputs";
  if (options.randomInputs && !options.inputs.empty())
    return "--random-inputs and --input are mutually exclusive";
  return "";
}

std::string checkDistinctOutputNames(const RunOptions &options) {
  const std::vector<std::string> &outputs = options.outputs;
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (outputs[i] == outputs[j])
        return "--output " + outputs[i] + " is given twice";
  return "";
}

std::string checkFileCounts(const RunOptions &options, const std::string &entry,
                            size_t numArguments, size_t numResults) {
  size_t numInputs = options.inputs.size();
  size_t numOutputs = options.outputs.size();
  if (!options.randomInputs && numInputs != numArguments) {
    if (numInputs == 0)
      return "'" + entry + "' takes " + plural(numArguments, "argument") +
             ": pass one --input=FILE.npy per argument, or --random-inputs";
    return "'" + entry + "' takes " + plural(numArguments, "argument") +
           " but " + plural(numInputs, "--input file") + " " +
           (numInputs == 1 ? "was" : "were") + " given";
  }
  if (numOutputs != 0 && numOutputs != numResults)
    return "'" + entry + "' returns " + plural(numResults, "result") + " but " +
           plural(numOutputs, "--output file") + " " +
           (numOutputs == 1 ? "was" : "were") + " given";
  return "";
}

//===----------------------------------------------------------------------===//
// Arguments.
//===----------------------------------------------------------------------===//

ArgumentLoader::ArgumentLoader(const RunOptions &options)
    : inputs(options.inputs), randomInputs(options.randomInputs),
      generator(options.seed) {}

bool ArgumentLoader::load(size_t index, const TensorSpec &spec, void *buffer,
                          std::string &error) {
  if (randomInputs) {
    fillRandom(spec, generator, buffer);
    return true;
  }
  std::string prefix = "argument " + std::to_string(index) + ": ";
  const std::string &path = inputs[index];
  npy::Array array;
  if (!npy::readNpy(path, array, error)) {
    error = prefix + error;
    return false;
  }
  if (array.dtype != spec.fileType() || array.shape != spec.shape) {
    error = prefix + path + ": expected " + npy::dtypeName(spec.fileType()) +
            " of shape " + npy::formatShape(spec.shape) + " for " +
            spec.typeString +
            (spec.kind == ElementKind::BF16 ? " (rounded to bf16)" : "") +
            ", got " + npy::dtypeName(array.dtype) + " of shape " +
            npy::formatShape(array.shape);
    return false;
  }
  convertFromFile(spec, array, buffer);
  return true;
}

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
  if (!array.data.empty())
    std::memcpy(buffer, array.data.data(), array.data.size());
}

namespace {

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

} // namespace

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

//===----------------------------------------------------------------------===//
// Results.
//===----------------------------------------------------------------------===//

bool isRowMajor(const TensorSpec &spec, const int64_t *strides) {
  int64_t expected = 1;
  for (size_t d = spec.shape.size(); d-- > 0;) {
    if (spec.shape[d] != 1 && strides[d] != expected)
      return false;
    expected *= spec.shape[d];
  }
  return true;
}

void copyToArray(const TensorSpec &spec, const void *base, int64_t offset,
                 const int64_t *strides, npy::Array &array) {
  size_t rank = spec.shape.size();
  int64_t n = spec.numElements();
  size_t elementBytes = spec.elementBytes();
  array.dtype = spec.fileType();
  array.shape = spec.shape;
  size_t fileBytes = npy::dtypeSize(array.dtype);
  array.data.assign(static_cast<size_t>(n) * fileBytes, 0);
  // Row-major: element i is at offset + i, no index arithmetic needed.
  bool contiguous = isRowMajor(spec, strides);
  const auto *bytes = static_cast<const uint8_t *>(base);
  std::vector<int64_t> index(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t linear = offset;
    if (contiguous) {
      linear += i;
    } else {
      for (size_t d = 0; d < rank; ++d)
        linear += index[d] * strides[d];
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < spec.shape[d])
          break;
        index[d] = 0;
      }
    }
    const uint8_t *src = bytes + linear * static_cast<int64_t>(elementBytes);
    uint8_t *dst = array.data.data() + i * fileBytes;
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
  }
}

std::vector<int64_t> resultStorage(const std::vector<TensorSpec> &results) {
  size_t slots = 0;
  for (const TensorSpec &spec : results)
    slots += spec.descriptorSlots();
  return std::vector<int64_t>(std::max<size_t>(slots, 1), 0);
}

bool collectResults(const std::vector<TensorSpec> &results,
                    const std::vector<int64_t> &storage, ResultReader read,
                    std::vector<npy::Array> &arrays, std::string &error) {
  arrays.assign(results.size(), npy::Array());
  size_t at = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    std::string reason;
    if (!read(results[i], storage.data() + at, arrays[i], reason)) {
      error = "result " + std::to_string(i) + ": " + reason;
      return false;
    }
    at += results[i].descriptorSlots();
  }
  return true;
}

std::vector<void *>
resultBuffersToFree(const std::vector<TensorSpec> &results,
                    const std::vector<int64_t> &slots,
                    const std::set<const void *> &inputBuffers) {
  std::vector<void *> owned;
  std::set<void *> seen;
  size_t at = 0;
  for (const TensorSpec &spec : results) {
    void *allocated = reinterpret_cast<void *>(slots[at]);
    at += spec.descriptorSlots();
    if (!allocated || reinterpret_cast<uintptr_t>(allocated) == kGlobalMarker ||
        inputBuffers.count(allocated) || !seen.insert(allocated).second)
      continue;
    owned.push_back(allocated);
  }
  return owned;
}

std::string formatTimes(const std::vector<double> &timesMs) {
  std::vector<double> sorted = timesMs;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  if (n == 0)
    return "";
  double median =
      n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  char line[1024]; // two %.6f doubles take at most ~320 characters each
  std::snprintf(line, sizeof(line),
                "min %.6f ms, median %.6f ms over %lld run%s\n", sorted.front(),
                median, static_cast<long long>(n), n == 1 ? "" : "s");
  return line;
}

bool writeOutputs(const std::vector<std::string> &paths,
                  const std::vector<npy::Array> &results, std::string &error) {
  std::vector<std::string> staged;
  auto dropStaged = [&] {
    for (const std::string &path : staged)
      ::unlink(path.c_str());
  };
  for (size_t i = 0; i < paths.size(); ++i) {
    std::string stage = paths[i] + ".attnflow-partial";
    std::string reason;
    if (!npy::writeNpy(stage, results[i], reason)) {
      dropStaged();
      error = "result " + std::to_string(i) + ": " + reason;
      return false;
    }
    staged.push_back(stage);
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    if (::rename(staged[i].c_str(), paths[i].c_str()) != 0) {
      std::string reason = std::strerror(errno);
      staged.erase(staged.begin(), staged.begin() + i);
      dropStaged();
      error = "result " + std::to_string(i) + ": cannot write " + paths[i] +
              ": " + reason;
      return false;
    }
  }
  return true;
}

} // namespace tensorio
} // namespace attnflow
