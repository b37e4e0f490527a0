//===- VectorKernels.h - Register-tiled vector kernels ----------*- C++ -*-===//
//
// Builders of the CPU kernels of the linear-time attention lowerings: dense
// products as register tiles of vector FMAs (the outer-product scheme of
// convert-attnflow-to-vector), row reductions and shifted exponentials, all
// as scf.for loops of vector transfers on static 2-D tensors that reach LLVM
// already vectorized.
//
// Every kernel writes a fresh tensor (tensor.empty) and only reads its
// operands: one-shot bufferization in MLIR 22 gives an out-of-place
// vector.transfer_write inside an scf.forall, on a tensor defined outside
// it (as loop-invariant code motion leaves zero fills), a new buffer
// without the old contents, so a kernel that updated its operand in place
// would read garbage.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_VECTORKERNELS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_VECTORKERNELS_H

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attnflow {

/// Rows [start, start + total) in chunks: an scf.for over the total / chunk
/// full chunks, then one static tail of total % chunk rows (no loop when
/// either is empty). `step(builder, offset, rows, last, carried)` maps the
/// carried values to their next ones; `last` is true for the tail only.
/// Both chunk shapes are static, so every tensor in a step is.
using ChunkStep = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                                  int64_t, bool, ValueRange)>;
SmallVector<Value> buildChunkLoop(ImplicitLocOpBuilder &b, int64_t start,
                                  int64_t total, int64_t chunk, ValueRange init,
                                  ChunkStep step);

/// Where the rows of a product start.
enum class MatmulInit {
  Zero,       // C = A B
  Accumulate, // C += A B
  RowValue    // C[i, :] = rowInit[i] + (A B)[i, :]
};

/// One product [M, N] of A [M, K] (or [K, M] with `transposeA`) and
/// B [K, N]. A and B may have any float type (extended to C's); C [M, N]
/// gives the result type (the accumulator type) and, for
/// MatmulInit::Accumulate, the values added to.
struct VectorMatmul {
  Value a, b, c;
  bool transposeA = false;
  MatmulInit init = MatmulInit::Zero;
  Value rowInit;       // [M], for MatmulInit::RowValue
  bool rowMax = false; // also compute max_n C[i, n]
};

/// C as `m` says, in register tiles of 8 rows x 2 vectors of `lanes` f32
/// lanes (half as many f64 lanes); partial tiles at the edges are static
/// smaller tiles. Returns C and, with `rowMax`, the row maxima [M].
std::pair<Value, Value> buildVectorMatmul(ImplicitLocOpBuilder &b,
                                          const VectorMatmul &m, int64_t lanes);

/// init [M] (null: 0) + sum over k of a [M, K] times x [K] (x null: 1;
/// `square`: a^2 instead), in the accumulator type of a (or init's type).
Value buildRowSums(ImplicitLocOpBuilder &b, Value a, Value x, bool square,
                   Value init, int64_t lanes);

/// exp(x[i, n] - shift) for x [M, N]; shift is [M] (per row) or 0-d.
Value buildExpShifted(ImplicitLocOpBuilder &b, Value x, Value shift,
                      int64_t lanes);

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_TRANSFORMS_VECTORKERNELS_H
