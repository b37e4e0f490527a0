//===- ChunkLinearRecurrence.cpp - Chunked parallel linear scans ----------===//
//
// Rewrites attnflow.linear_recurrence into a reduce-then-scan over chunks of
// the sequence (Passes.td describes the three phases). Chunks run in
// parallel in scf.forall ops; inside a chunk each step is a few vector ops
// on a block of the state carried in registers, so the whole scan reads a
// and b twice and writes h once.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_CHUNKLINEARRECURRENCEPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
/// Dense recurrences hold a_t as one vector<N x N>; larger N go to the
/// reference decomposition rather than to huge vectors.
constexpr int64_t kMaxDenseN = 16;

Value constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

/// `vec` with its elements converted to the float type `to`.
Value convertVector(ImplicitLocOpBuilder &b, Value vec, Type to) {
  auto type = cast<VectorType>(vec.getType());
  auto from = cast<FloatType>(type.getElementType());
  if (from == to)
    return vec;
  if (from.getWidth() < cast<FloatType>(to).getWidth())
    return arith::ExtFOp::create(b, type.clone(to), vec);
  return arith::TruncFOp::create(b, type.clone(to), vec);
}

/// A vector of `shape` read from `source` at `indices`, converted to `to`.
Value readVector(ImplicitLocOpBuilder &b, Value source, ValueRange indices,
                 ArrayRef<int64_t> shape, Type to) {
  Type element = cast<RankedTensorType>(source.getType()).getElementType();
  Value vec = vector::TransferReadOp::create(
      b, VectorType::get(shape, element), source, indices,
      createFloatConstant(b, element, 0.0),
      SmallVector<bool>(shape.size(), true));
  return convertVector(b, vec, to);
}

/// `vec` converted to `dest`'s element type and written at `indices`.
Value writeVector(ImplicitLocOpBuilder &b, Value vec, Value dest,
                  ValueRange indices) {
  auto vecType = cast<VectorType>(vec.getType());
  Type element = cast<RankedTensorType>(dest.getType()).getElementType();
  Value converted = convertVector(b, vec, element);
  return vector::TransferWriteOp::create(
             b, converted, dest, indices,
             SmallVector<bool>(vecType.getRank(), true))
      .getResult();
}

Value splat(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape, Type type,
            double value) {
  auto vecType = VectorType::get(shape, type);
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(vecType, b.getFloatAttr(type, value)));
}

/// The n x n identity as a vector constant.
Value identityMatrix(ImplicitLocOpBuilder &b, int64_t n, Type type) {
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      values.push_back(b.getFloatAttr(type, i == j ? 1.0 : 0.0));
  return arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({n, n}, type), values));
}

/// acc + lhs . rhs as a vector.contract over the last dim of lhs: a
/// matrix-vector product for a 1-D rhs, a matrix product for a 2-D one.
Value contract(ImplicitLocOpBuilder &b, Value lhs, Value rhs, Value acc) {
  MLIRContext *ctx = b.getContext();
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto par = vector::IteratorType::parallel;
  auto red = vector::IteratorType::reduction;
  SmallVector<AffineMap> maps;
  SmallVector<Attribute> iterators;
  auto iter = [&](vector::IteratorType type) {
    return vector::IteratorTypeAttr::get(ctx, type);
  };
  if (cast<VectorType>(rhs.getType()).getRank() == 1) {
    // (i, j): acc[i] += lhs[i, j] * rhs[j].
    maps = {AffineMap::get(2, 0, {i, j}, ctx), AffineMap::get(2, 0, {j}, ctx),
            AffineMap::get(2, 0, {i}, ctx)};
    iterators = {iter(par), iter(red)};
  } else {
    // (i, j, k): acc[i, j] += lhs[i, k] * rhs[k, j].
    maps = {AffineMap::get(3, 0, {i, k}, ctx),
            AffineMap::get(3, 0, {k, j}, ctx),
            AffineMap::get(3, 0, {i, j}, ctx)};
    iterators = {iter(par), iter(par), iter(red)};
  }
  return vector::ContractionOp::create(b, lhs, rhs, acc,
                                       b.getAffineMapArrayAttr(maps),
                                       b.getArrayAttr(iterators));
}

/// What the chunked scan of one op needs to know.
struct ScanPlan {
  Value aIn, bIn, h0In; // the op's operands
  int64_t batch, length, n;
  bool dense, reverse;
  Type elementType, accType;
  int64_t chunk, block;

  /// The position in a / b / h of logical step `s` (time runs backwards
  /// when reversed).
  Value physical(ImplicitLocOpBuilder &b, Value s) const {
    return reverse ? arith::SubIOp::create(b, constIndex(b, length - 1), s) : s;
  }

  /// a_t and b_t of batch `bi` on state elements [n0, n0 + width), in the
  /// accumulator type (a_t is the whole [N, N] matrix when dense).
  std::pair<Value, Value> load(ImplicitLocOpBuilder &b, Value bi, Value t,
                               Value n0, int64_t width) const {
    Value zero = constIndex(b, 0);
    Value aT = dense ? readVector(b, aIn, {bi, t, zero, zero}, {n, n}, accType)
                     : readVector(b, aIn, {bi, t, n0}, {width}, accType);
    Value bT = readVector(b, bIn, {bi, t, n0}, {width}, accType);
    return {aT, bT};
  }

  /// a h + b.
  Value step(ImplicitLocOpBuilder &b, Value aT, Value h, Value bT) const {
    return dense ? contract(b, aT, h, bT) : vector::FMAOp::create(b, aT, h, bT);
  }

  /// Calls `body(builder, n0, width, iters)` for every block of the state:
  /// an scf.for over the full blocks and a static tail (one block of N when
  /// dense). Returns the final iters.
  SmallVector<Value>
  forBlocks(ImplicitLocOpBuilder &b, ValueRange init,
            function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                            int64_t, ValueRange)>
                body) const {
    int64_t width = dense ? n : std::min(block, n);
    int64_t full = n / width, tail = n % width;
    SmallVector<Value> iters(init);
    if (full == 1) {
      iters = body(b, constIndex(b, 0), width, iters);
    } else if (full > 1) {
      auto loop = scf::ForOp::create(
          b, constIndex(b, 0), constIndex(b, full * width),
          constIndex(b, width), iters,
          [&](OpBuilder &nested, Location loc, Value n0, ValueRange args) {
            ImplicitLocOpBuilder nb(loc, nested);
            scf::YieldOp::create(nb, body(nb, n0, width, args));
          });
      iters = loop.getResults();
    }
    if (tail > 0)
      iters = body(b, constIndex(b, full * width), tail, iters);
    return iters;
  }

  /// An scf.for over logical steps [s0, s0 + len) with `init`;
  /// `body(builder, t, iters)` gets the physical position t.
  SmallVector<Value>
  forSteps(ImplicitLocOpBuilder &b, Value s0, Value len, ValueRange init,
           function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                           ValueRange)>
               body) const {
    auto loop = scf::ForOp::create(
        b, s0, arith::AddIOp::create(b, s0, len), constIndex(b, 1), init,
        [&](OpBuilder &nested, Location loc, Value s, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          scf::YieldOp::create(nb, body(nb, physical(nb, s), args));
        });
    return loop.getResults();
  }
};

/// An scf.forall over (batch, chunk) with `inits` as shared outputs.
/// `body(builder, bi, c, shared)` returns, per shared output, the tile it
/// computed with its offsets and sizes in that output.
struct Tile {
  Value value;
  SmallVector<OpFoldResult> offsets, sizes;
};
SmallVector<Value>
forallChunks(ImplicitLocOpBuilder &b, int64_t batch, int64_t chunks,
             ValueRange inits,
             function_ref<SmallVector<Tile>(ImplicitLocOpBuilder &, Value,
                                            Value, ValueRange)>
                 body) {
  auto forall = scf::ForallOp::create(
      b, ArrayRef<OpFoldResult>{b.getIndexAttr(batch), b.getIndexAttr(chunks)},
      inits, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  SmallVector<Tile> tiles =
      body(b, forall.getInductionVars()[0], forall.getInductionVars()[1],
           forall.getRegionIterArgs());
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  for (auto [tile, shared] : llvm::zip(tiles, forall.getRegionIterArgs()))
    tensor::ParallelInsertSliceOp::create(
        b, tile.value, shared, tile.offsets, tile.sizes,
        SmallVector<OpFoldResult>(tile.sizes.size(), b.getIndexAttr(1)));
  return forall.getResults();
}

/// Phase 1: (A_c, b_c) for chunks [0, numChunks) of `chunk` steps each:
/// A_c = a_last ... a_first (a product of diagonals or matrices) and b_c the
/// chunk's state from a zero start. Shapes [B, C, N (, N)] and [B, C, N].
std::pair<Value, Value> buildChunkAggregates(ImplicitLocOpBuilder &b,
                                             const ScanPlan &plan,
                                             int64_t numChunks) {
  int64_t n = plan.n;
  SmallVector<int64_t> aggAShape = {plan.batch, numChunks, n};
  if (plan.dense)
    aggAShape.push_back(n);
  Value aggA = createEmptyTensor(b, aggAShape, plan.accType);
  Value aggB = createEmptyTensor(b, {plan.batch, numChunks, n}, plan.accType);
  SmallVector<Value> results = forallChunks(
      b, plan.batch, numChunks, {aggA, aggB},
      [&](ImplicitLocOpBuilder &fb, Value bi, Value c, ValueRange) {
        SmallVector<int64_t> localAShape(aggAShape.begin() + 2,
                                         aggAShape.end());
        Value localA = createEmptyTensor(fb, localAShape, plan.accType);
        Value localB = createEmptyTensor(fb, {n}, plan.accType);
        Value s0 = arith::MulIOp::create(fb, c, constIndex(fb, plan.chunk));
        Value len = constIndex(fb, plan.chunk);
        SmallVector<Value> locals = plan.forBlocks(
            fb, {localA, localB},
            [&](ImplicitLocOpBuilder &bb, Value n0, int64_t width,
                ValueRange args) -> SmallVector<Value> {
              Value prodA = plan.dense ? identityMatrix(bb, n, plan.accType)
                                       : splat(bb, {width}, plan.accType, 1.0);
              Value stateB = splat(bb, {width}, plan.accType, 0.0);
              SmallVector<Value> state = plan.forSteps(
                  bb, s0, len, {prodA, stateB},
                  [&](ImplicitLocOpBuilder &sb, Value t,
                      ValueRange carried) -> SmallVector<Value> {
                    auto [aT, bT] = plan.load(sb, bi, t, n0, width);
                    Value nextA =
                        plan.dense
                            ? contract(sb, aT, carried[0],
                                       splat(sb, {n, n}, plan.accType, 0.0))
                            : arith::MulFOp::create(sb, aT, carried[0]);
                    return {nextA, plan.step(sb, aT, carried[1], bT)};
                  });
              Value zero = constIndex(bb, 0);
              Value newA =
                  plan.dense ? writeVector(bb, state[0], args[0], {zero, zero})
                             : writeVector(bb, state[0], args[0], {n0});
              return {newA, writeVector(bb, state[1], args[1], {n0})};
            });
        auto sizesOf = [&](ArrayRef<int64_t> shape) {
          SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1),
                                             fb.getIndexAttr(1)};
          for (int64_t size : shape)
            sizes.push_back(fb.getIndexAttr(size));
          return sizes;
        };
        SmallVector<OpFoldResult> offsetsA(aggAShape.size(),
                                           fb.getIndexAttr(0));
        offsetsA[0] = bi;
        offsetsA[1] = c;
        SmallVector<OpFoldResult> offsetsB = {bi, c, fb.getIndexAttr(0)};
        return SmallVector<Tile>{{locals[0], offsetsA, sizesOf(localAShape)},
                                 {locals[1], offsetsB, sizesOf({n})}};
      });
  return {results[0], results[1]};
}

/// [B, C, N]: the state entering each chunk, h0 (or zeros) for chunk 0 and
/// for chunk c > 0 the linear recurrence over the aggregates of chunks
/// [0, c).
Value buildCarries(ImplicitLocOpBuilder &b, const ScanPlan &plan,
                   int64_t numChunks) {
  int64_t n = plan.n;
  Value h0 = plan.h0In;
  if (h0 &&
      cast<RankedTensorType>(h0.getType()).getElementType() != plan.accType) {
    AffineMap identity = b.getMultiDimIdentityMap(2);
    h0 = createGeneric(
        b, createEmptyTensor(b, {plan.batch, n}, plan.accType), h0, identity,
        identity,
        {utils::IteratorType::parallel, utils::IteratorType::parallel},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          linalg::YieldOp::create(nb, castFloat(nb, args[0], plan.accType));
        });
  } else if (!h0) {
    h0 = createFilledTensor(b, {plan.batch, n}, plan.accType,
                            createFloatConstant(b, plan.accType, 0.0));
  }
  Value carries =
      createEmptyTensor(b, {plan.batch, numChunks, n}, plan.accType);
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  carries = tensor::InsertSliceOp::create(
      b, h0, carries, ArrayRef<OpFoldResult>{zero, zero, zero},
      ArrayRef<OpFoldResult>{b.getIndexAttr(plan.batch), one,
                             b.getIndexAttr(n)},
      ArrayRef<OpFoldResult>{one, one, one});
  if (numChunks == 1)
    return carries;
  auto [aggA, aggB] = buildChunkAggregates(b, plan, numChunks - 1);
  // One step per chunk: short enough for this pattern to chunk again only
  // when T exceeds chunk^2.
  Value inner = LinearRecurrenceOp::create(b, aggB.getType(), aggA, aggB, h0,
                                           /*reverse=*/false);
  return tensor::InsertSliceOp::create(
      b, inner, carries, ArrayRef<OpFoldResult>{zero, one, zero},
      ArrayRef<OpFoldResult>{b.getIndexAttr(plan.batch),
                             b.getIndexAttr(numChunks - 1), b.getIndexAttr(n)},
      ArrayRef<OpFoldResult>{one, one, one});
}

struct ChunkLinearRecurrence : OpRewritePattern<LinearRecurrenceOp> {
  ChunkLinearRecurrence(MLIRContext *ctx, int64_t chunk, int64_t lanes)
      : OpRewritePattern(ctx), chunk(chunk), lanes(lanes) {}

  LogicalResult matchAndRewrite(LinearRecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    auto bType = cast<RankedTensorType>(op.getB().getType());
    ScanPlan plan{op.getA(),
                  op.getB(),
                  op.getH0(),
                  bType.getDimSize(0),
                  bType.getDimSize(1),
                  bType.getDimSize(2),
                  op.isDense(),
                  op.getReverse(),
                  bType.getElementType(),
                  getAccumulatorType(bType.getElementType()),
                  chunk,
                  /*block=*/0};
    if (plan.dense && plan.n > kMaxDenseN)
      return rewriter.notifyMatchFailure(
          op, "dense a with N > 16 is left to the reference decomposition");
    // Four registers of the accumulator type per block: independent FMA
    // chains hide the FMA latency of the serial dependence over t.
    plan.block = 4 * lanes * 32 / plan.accType.getIntOrFloatBitWidth();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    int64_t numChunks = llvm::divideCeil(plan.length, chunk);
    Value carries = buildCarries(b, plan, numChunks);

    // Phase 3: every chunk from its carry, writing its rows of the result.
    int64_t n = plan.n;
    Value out = createEmptyTensor(b, bType.getShape(), plan.elementType);
    Value result =
        forallChunks(
            b, plan.batch, numChunks, out,
            [&](ImplicitLocOpBuilder &fb, Value bi, Value c,
                ValueRange shared) {
              Value s0 = arith::MulIOp::create(fb, c, constIndex(fb, chunk));
              Value len = arith::MinSIOp::create(
                  fb, constIndex(fb, chunk),
                  arith::SubIOp::create(fb, constIndex(fb, plan.length), s0));
              // The chunk's rows, [start, start + len) of the result.
              Value start = plan.reverse
                                ? arith::SubIOp::create(
                                      fb,
                                      arith::SubIOp::create(
                                          fb, constIndex(fb, plan.length), s0),
                                      len)
                                : s0;
              SmallVector<OpFoldResult> offsets = {bi, start,
                                                   fb.getIndexAttr(0)};
              SmallVector<OpFoldResult> sizes = {fb.getIndexAttr(1), len,
                                                 fb.getIndexAttr(n)};
              Value dest = tensor::ExtractSliceOp::create(
                  fb,
                  RankedTensorType::get({ShapedType::kDynamic, n},
                                        plan.elementType),
                  shared[0], offsets, sizes,
                  SmallVector<OpFoldResult>(3, fb.getIndexAttr(1)));
              SmallVector<Value> written = plan.forBlocks(
                  fb, dest,
                  [&](ImplicitLocOpBuilder &bb, Value n0, int64_t width,
                      ValueRange args) -> SmallVector<Value> {
                    Value h = readVector(bb, carries, {bi, c, n0}, {width},
                                         plan.accType);
                    SmallVector<Value> state = plan.forSteps(
                        bb, s0, len, {h, args[0]},
                        [&](ImplicitLocOpBuilder &sb, Value t,
                            ValueRange carried) -> SmallVector<Value> {
                          auto [aT, bT] = plan.load(sb, bi, t, n0, width);
                          Value next = plan.step(sb, aT, carried[0], bT);
                          Value row = arith::SubIOp::create(sb, t, start);
                          return {next,
                                  writeVector(sb, next, carried[1], {row, n0})};
                        });
                    return {state[1]};
                  });
              return SmallVector<Tile>{{written[0], offsets, sizes}};
            })
            .front();
    rewriter.replaceOp(op, result);
    return success();
  }

  int64_t chunk, lanes;
};

struct ChunkLinearRecurrencePass
    : mlir::attnflow::impl::ChunkLinearRecurrencePassBase<
          ChunkLinearRecurrencePass> {
  using Base::Base;

  void runOnOperation() override {
    if (chunkSize < 1 || vectorWidth < 1) {
      getOperation()->emitError()
          << "attnflow-chunk-linear-recurrence expects chunk-size >= 1 and "
             "vector-width >= 1, got "
          << static_cast<int64_t>(chunkSize) << " and "
          << static_cast<int64_t>(vectorWidth);
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<ChunkLinearRecurrence>(&getContext(), chunkSize, vectorWidth);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
