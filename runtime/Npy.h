//===- Npy.h - Minimal .npy reader/writer -----------------------*- C++ -*-===//
//
// A small, dependency-free (plain C++17, no MLIR, no LLVM) reader and writer
// for NumPy's .npy files, shared by attnflow-run and attnflow-cuda-run (which
// links no MLIR library, DESIGN.md §5).
//
// File format (NumPy's numpy/lib/format.py, "NEP 1 - A Simple File Format for
// NumPy Arrays"):
//
//   "\x93NUMPY" major minor | HEADER_LEN | HEADER | DATA
//
//   - major.minor is 1.0 (HEADER_LEN: little-endian uint16, latin-1 header),
//     2.0 (HEADER_LEN: little-endian uint32, latin-1 header) or 3.0 (as 2.0 but
//     the header is UTF-8).
//   - HEADER is the repr() of a Python dict literal with exactly the keys
//     'descr' (a dtype string such as '<f4'), 'fortran_order' (True/False) and
//     'shape' (a tuple of non-negative ints), terminated by '\n' and padded
//     with spaces so that the data starts at a multiple of 64 bytes (16 in
//     older NumPy versions; the reader does not require any alignment).
//   - DATA is the raw element bytes, product(shape) elements.
//
// Supported here: little-endian, C (row-major) order, dtypes
//   '<f8' float64, '<f4' float32, '<f2' float16, '<i8' int64, '<i4' int32 and
//   '|b1' bool ('<b1' and '>b1' are accepted too).
// Everything else - big-endian ('>f4'), other types ('<V2', '<u4', '|O',
// structured dtypes), fortran_order True - is rejected with a one-line error
// message that names the file and the offending dtype/flag. Truncated files,
// a bad magic string, malformed headers and trailing bytes after the data are
// rejected as well. No function throws: every error is reported through a
// `false` return value and a message in `error`.
//
// Writing produces byte-for-byte what `numpy.save` writes (format 1.0 unless
// the header needs 2.0) and goes through a temporary file in the destination
// directory that is renamed over the destination only once everything has
// been written, so a failure never leaves a partial file behind.
//
// The file also provides the scalar conversions the tools need for element
// types NumPy (or a given .npy file) does not carry: IEEE-754 binary16
// <-> binary32 and bfloat16 <-> binary32, rounding to nearest, ties to even.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_RUNTIME_NPY_H
#define ATTNFLOW_RUNTIME_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnflow {
namespace npy {

/// Element types a .npy file handled by this library may hold.
enum class DType { F64, F32, F16, I64, I32, Bool };

/// Size of one element in bytes (Bool: 1).
size_t dtypeSize(DType type);

/// The descr string NumPy writes for `type`, e.g. "<f4" or "|b1".
const char *dtypeDescr(DType type);

/// The NumPy name of `type`, e.g. "float32" or "bool".
const char *dtypeName(DType type);

/// An array read from (or to be written to) a .npy file: C order, raw
/// little-endian element bytes.
struct Array {
  DType dtype = DType::F32;
  std::vector<int64_t> shape; ///< Empty for a 0-d array.
  std::vector<uint8_t> data;  ///< numElements() * dtypeSize(dtype) bytes.

  /// Product of the shape (1 for a 0-d array).
  int64_t numElements() const;
};

/// Formats a shape as NumPy prints it: "()", "(3,)", "(2, 3)".
std::string formatShape(const std::vector<int64_t> &shape);

/// Parses the .npy bytes in [bytes, bytes + size). `name` is used in error
/// messages (normally the file path). Returns false and sets `error` (one
/// line, starting with `name`) on any error; `out` is then unspecified.
bool parseNpy(const void *bytes, size_t size, const std::string &name,
              Array &out, std::string &error);

/// Reads the file at `path`. Same contract as parseNpy; unreadable files are
/// reported with the OS reason (e.g. "No such file or directory").
bool readNpy(const std::string &path, Array &out, std::string &error);

/// Serializes an array exactly as numpy.save does. `data` must hold
/// product(shape) * dtypeSize(type) bytes. Returns false (and sets `error`)
/// only for negative dimensions or sizes that overflow.
bool encodeNpy(DType type, const std::vector<int64_t> &shape, const void *data,
               std::vector<uint8_t> &out, std::string &error);

/// Writes an array to `path` via a temporary file in the same directory and a
/// rename, so that either the complete file exists afterwards or `path` is
/// left untouched. Returns false and sets `error` on failure.
bool writeNpy(const std::string &path, DType type,
              const std::vector<int64_t> &shape, const void *data,
              std::string &error);

/// Convenience overload writing `array`.
bool writeNpy(const std::string &path, const Array &array, std::string &error);

//===----------------------------------------------------------------------===//
// Scalar conversions.
//===----------------------------------------------------------------------===//

/// IEEE binary16 bits -> float (exact; subnormals, infinities and NaN
/// payloads are preserved).
float halfToFloat(uint16_t bits);

/// float -> IEEE binary16 bits, rounding to nearest, ties to even; values too
/// large become +-inf, tiny values become subnormals or +-0, NaN stays a
/// (quiet) NaN.
uint16_t floatToHalf(float value);

/// bfloat16 bits -> float (exact: bfloat16 is the upper half of a float).
float bfloat16ToFloat(uint16_t bits);

/// float -> bfloat16 bits, rounding to nearest, ties to even (as
/// ml_dtypes / PyTorch / LLVM's APFloat do); values that round beyond the
/// largest bfloat16 become +-inf; NaN stays a quiet NaN with its sign.
uint16_t floatToBFloat16(float value);

} // namespace npy
} // namespace attnflow

#endif // ATTNFLOW_RUNTIME_NPY_H
