//===- VectorKernels.cpp - Register-tiled vector kernels on tensors -------===//
//
// The products are outer-product register tiles (as in
// convert-attnflow-to-vector): for 8 rows i of C and one column block n of
// 2W lanes, acc[i] += A[i, k] * B[k, n : n + 2W] over k, so that each step
// is one vector load of B, 8 scalar broadcasts of A and 8 vector FMAs, with
// the accumulators in registers across k. Everything is static: the edge
// tiles are separate, smaller static tiles (no masks).
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/Transforms/VectorKernels.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

using namespace mlir;
using namespace mlir::attnflow;

namespace {
/// Rows of a register tile; its columns are two vectors.
constexpr int64_t kTileRows = 8;

Value constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Elements of `type` in the two vector registers of `lanes` f32 lanes.
int64_t blockWidth(Type type, int64_t lanes) {
  return std::max<int64_t>(1, 2 * lanes * 32 / type.getIntOrFloatBitWidth());
}

/// `value` (a scalar or a vector) with its elements converted to `to`.
Value extendTo(ImplicitLocOpBuilder &b, Value value, FloatType to) {
  Type from = getElementTypeOrSelf(value.getType());
  if (from == to)
    return value;
  Type target = to;
  if (auto vec = dyn_cast<VectorType>(value.getType()))
    target = vec.clone(to);
  if (cast<FloatType>(from).getWidth() < to.getWidth())
    return arith::ExtFOp::create(b, target, value);
  return arith::TruncFOp::create(b, target, value);
}

/// `size` contiguous elements of `source` from `indices` on, in `to`.
Value readVector(ImplicitLocOpBuilder &b, Value source, ValueRange indices,
                 int64_t size, FloatType to) {
  Type element = tensorType(source).getElementType();
  Value vec = vector::TransferReadOp::create(
      b, VectorType::get({size}, element), source, indices,
      createFloatConstant(b, element, 0.0), ArrayRef<bool>{true});
  return extendTo(b, vec, to);
}

Value writeVector(ImplicitLocOpBuilder &b, Value vec, Value dest,
                  ValueRange indices) {
  return vector::TransferWriteOp::create(b, vec, dest, indices,
                                         ArrayRef<bool>{true})
      .getResult();
}

Value splat(ImplicitLocOpBuilder &b, int64_t size, FloatType type,
            double value) {
  auto vecType = VectorType::get({size}, type);
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(vecType, b.getFloatAttr(type, value)));
}

Value broadcast(ImplicitLocOpBuilder &b, int64_t size, Value scalar) {
  return vector::BroadcastOp::create(
      b, VectorType::get({size}, scalar.getType()), scalar);
}

/// scf.for over [0, ub) with `iters`; `body(builder, iv, args)` yields.
ValueRange forLoop(
    ImplicitLocOpBuilder &b, int64_t ub, ValueRange iters,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(
      b, constIndex(b, 0), constIndex(b, ub), constIndex(b, 1), iters,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        scf::YieldOp::create(nb, body(nb, iv, args));
      });
  return loop.getResults();
}
} // namespace

SmallVector<Value> mlir::attnflow::buildChunkLoop(ImplicitLocOpBuilder &b,
                                                  int64_t start, int64_t total,
                                                  int64_t chunk,
                                                  ValueRange init,
                                                  ChunkStep step) {
  int64_t full = total / chunk, tail = total % chunk;
  SmallVector<Value> values(init);
  if (full > 0) {
    auto loop = scf::ForOp::create(
        b, constIndex(b, start), constIndex(b, start + full * chunk),
        constIndex(b, chunk), values,
        [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          scf::YieldOp::create(nb, step(nb, iv, chunk, false, args));
        });
    values.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (tail > 0)
    values = step(b, constIndex(b, start + full * chunk), tail, true, values);
  return values;
}

std::pair<Value, Value>
mlir::attnflow::buildVectorMatmul(ImplicitLocOpBuilder &b,
                                  const VectorMatmul &m, int64_t lanes) {
  RankedTensorType cType = tensorType(m.c);
  auto ct = cast<FloatType>(cType.getElementType());
  int64_t rows = cType.getDimSize(0), cols = cType.getDimSize(1);
  int64_t depth = tensorType(m.b).getDimSize(0);
  int64_t width = blockWidth(ct, lanes);
  double negInf = -std::numeric_limits<double>::infinity();

  SmallVector<Value> init = {createEmptyTensor(b, {rows, cols}, ct)};
  if (m.rowMax)
    init.push_back(createEmptyTensor(b, {rows}, ct));
  SmallVector<Value> results = buildChunkLoop(
      b, 0, rows, kTileRows, init,
      [&](ImplicitLocOpBuilder &rb, Value i0, int64_t tileRows, bool,
          ValueRange rowIters) -> SmallVector<Value> {
        SmallVector<Value> rowIdx, starts;
        for (int64_t t = 0; t < tileRows; ++t) {
          rowIdx.push_back(arith::AddIOp::create(rb, i0, constIndex(rb, t)));
          if (m.init == MatmulInit::RowValue)
            starts.push_back(tensor::ExtractOp::create(rb, m.rowInit,
                                                       ValueRange{rowIdx[t]}));
        }
        SmallVector<Value> colInit = {rowIters[0]};
        if (m.rowMax)
          colInit.append(tileRows, createFloatConstant(rb, ct, negInf));
        SmallVector<Value> colResults = buildChunkLoop(
            rb, 0, cols, width, colInit,
            [&](ImplicitLocOpBuilder &cb, Value n0, int64_t size, bool,
                ValueRange colIters) -> SmallVector<Value> {
              SmallVector<Value> accs;
              for (int64_t t = 0; t < tileRows; ++t) {
                switch (m.init) {
                case MatmulInit::Zero:
                  accs.push_back(splat(cb, size, ct, 0.0));
                  break;
                case MatmulInit::Accumulate:
                  accs.push_back(
                      readVector(cb, m.c, {rowIdx[t], n0}, size, ct));
                  break;
                case MatmulInit::RowValue:
                  accs.push_back(broadcast(cb, size, starts[t]));
                  break;
                }
              }
              ValueRange sums = forLoop(
                  cb, depth, accs,
                  [&](ImplicitLocOpBuilder &kb, Value k, ValueRange kAccs) {
                    Value bRow = readVector(kb, m.b, {k, n0}, size, ct);
                    SmallVector<Value> next;
                    for (int64_t t = 0; t < tileRows; ++t) {
                      SmallVector<Value> at = {rowIdx[t], k};
                      if (m.transposeA)
                        std::swap(at[0], at[1]);
                      Value aScalar = extendTo(
                          kb, tensor::ExtractOp::create(kb, m.a, at), ct);
                      next.push_back(vector::FMAOp::create(
                          kb, broadcast(kb, size, aScalar), bRow, kAccs[t]));
                    }
                    return next;
                  });
              SmallVector<Value> next = {colIters[0]};
              for (int64_t t = 0; t < tileRows; ++t)
                next[0] = writeVector(cb, sums[t], next[0], {rowIdx[t], n0});
              if (m.rowMax)
                for (int64_t t = 0; t < tileRows; ++t)
                  next.push_back(arith::MaximumFOp::create(
                      cb, colIters[1 + t],
                      vector::ReductionOp::create(
                          cb, vector::CombiningKind::MAXIMUMF, sums[t])));
              return next;
            });
        SmallVector<Value> next = {colResults[0]};
        if (m.rowMax) {
          Value maxima = rowIters[1];
          for (int64_t t = 0; t < tileRows; ++t)
            maxima = tensor::InsertOp::create(rb, colResults[1 + t], maxima,
                                              ValueRange{rowIdx[t]});
          next.push_back(maxima);
        }
        return next;
      });
  return {results[0], m.rowMax ? results[1] : Value()};
}

Value mlir::attnflow::buildRowSums(ImplicitLocOpBuilder &b, Value a, Value x,
                                   bool square, Value init, int64_t lanes) {
  FloatType ct = init ? cast<FloatType>(tensorType(init).getElementType())
                      : getAccumulatorType(tensorType(a).getElementType());
  int64_t rows = tensorType(a).getDimSize(0);
  int64_t depth = tensorType(a).getDimSize(1);
  int64_t width = blockWidth(ct, lanes);
  return forLoop(
      b, rows, {createEmptyTensor(b, {rows}, ct)},
      [&](ImplicitLocOpBuilder &rb, Value i, ValueRange it) {
        // Full blocks accumulate lane-wise; the static tail block is
        // reduced on its own.
        SmallVector<Value> partial = buildChunkLoop(
            rb, 0, depth, width,
            {splat(rb, width, ct, 0.0), createFloatConstant(rb, ct, 0.0)},
            [&](ImplicitLocOpBuilder &kb, Value k0, int64_t size, bool last,
                ValueRange acc) -> SmallVector<Value> {
              Value av = readVector(kb, a, {i, k0}, size, ct);
              Value term = av;
              if (square)
                term = arith::MulFOp::create(kb, av, av);
              else if (x)
                term = arith::MulFOp::create(kb, av,
                                             readVector(kb, x, {k0}, size, ct));
              if (!last)
                return {arith::AddFOp::create(kb, acc[0], term), acc[1]};
              return {acc[0], arith::AddFOp::create(
                                  kb, acc[1],
                                  vector::ReductionOp::create(
                                      kb, vector::CombiningKind::ADD, term))};
            });
        Value total = arith::AddFOp::create(
            rb,
            vector::ReductionOp::create(rb, vector::CombiningKind::ADD,
                                        partial[0]),
            partial[1]);
        if (init)
          total = arith::AddFOp::create(
              rb, tensor::ExtractOp::create(rb, init, ValueRange{i}), total);
        return SmallVector<Value>{
            tensor::InsertOp::create(rb, total, it[0], ValueRange{i})};
      })[0];
}

Value mlir::attnflow::buildExpShifted(ImplicitLocOpBuilder &b, Value x,
                                      Value shift, int64_t lanes) {
  auto ct = cast<FloatType>(tensorType(x).getElementType());
  int64_t rows = tensorType(x).getDimSize(0);
  int64_t cols = tensorType(x).getDimSize(1);
  int64_t width = blockWidth(ct, lanes);
  bool perRow = tensorType(shift).getRank() == 1;
  Value common = perRow ? Value() : tensor::ExtractOp::create(b, shift);
  return forLoop(
      b, rows, {createEmptyTensor(b, {rows, cols}, ct)},
      [&](ImplicitLocOpBuilder &rb, Value i, ValueRange it) {
        Value s = perRow ? tensor::ExtractOp::create(rb, shift, ValueRange{i})
                         : common;
        return buildChunkLoop(
            rb, 0, cols, width, {it[0]},
            [&](ImplicitLocOpBuilder &cb, Value n0, int64_t size, bool,
                ValueRange row) -> SmallVector<Value> {
              Value v = readVector(cb, x, {i, n0}, size, ct);
              Value e = math::ExpOp::create(
                  cb, arith::SubFOp::create(cb, v, broadcast(cb, size, s)));
              return {writeVector(cb, e, row[0], {i, n0})};
            });
      })[0];
}
