//===- AttnFlowToGPU.cpp - attnflow.attention as one CUDA kernel ---------===//
//
// Each `attnflow.attention` becomes a `gpu.launch` implementing the forward
// pass of FlashAttention-2 (Dao 2023, "FlashAttention-2", Algorithm 1): one
// thread block per (query tile of kQueryTile rows, query head, batch), K / V
// tiles staged through shared memory, the online softmax (running max m,
// sum l, accumulator) kept in registers, and the key loop bounded to the
// tile's mask band (computeKeyBand), so windowed attention costs O(S * w).
//
// Thread layout of a block (kThreads = 256 threads, 8 warps): thread t owns
// query rows kRowsPerThread * (t / 16) + i, i < kRowsPerThread, and within
// them the key columns c = t % 16 + 16 n of a score tile and the value
// columns e = t % 16 + 16 n of the accumulator. The 16 threads sharing rows
// are one half warp, so row max and row sum are 4 xor-shuffles. P goes
// through shared memory from the score layout to the P V product.
//
// Scores and sums are f32 (f16 / bf16 inputs are widened when staged, the
// output is rounded once). Shared-memory rows of Q and K are padded by one
// element so the 16 distinct rows a half warp reads fall in distinct banks.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTATTNFLOWTOGPUPASS
#include "attnflow/Conversion/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kQueryTile = 64;
/// Threads sharing a query row (a half warp) and the column stride of the
/// columns each of them owns.
constexpr int64_t kRowThreads = 16;
constexpr int64_t kRowsPerThread = kQueryTile / (kThreads / kRowThreads);

/// Shared-memory plan of one block: f32 arrays Q [kQueryTile][D + 1],
/// K [keyTile][D + 1], V [keyTile][Dv], P [kQueryTile][keyTile + 1].
struct SharedLayout {
  int64_t keyTile;
  int64_t qElems, kElems, vElems, pElems;

  SharedLayout(int64_t keyTile, int64_t d, int64_t dv)
      : keyTile(keyTile), qElems(kQueryTile * (d + 1)),
        kElems(keyTile * (d + 1)), vElems(keyTile * dv),
        pElems(kQueryTile * (keyTile + 1)) {}
  int64_t bytes() const { return 4 * (qElems + kElems + vElems + pElems); }
};

/// Key tiles of 64 while the block fits two per SM on sm_90 (<= 113 KiB);
/// 32 for larger head dims (D = 256 needs ~137 KiB).
SharedLayout chooseLayout(int64_t d, int64_t dv) {
  SharedLayout wide(64, d, dv);
  if (wide.bytes() <= 113 * 1024)
    return wide;
  return SharedLayout(32, d, dv);
}

class KernelBuilder {
public:
  KernelBuilder(ImplicitLocOpBuilder &b, AttentionOp op) : b(b), op(op) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value toF32(Value v) {
    return v.getType().isF32() ? v
                               : Value(arith::ExtFOp::create(
                                     b, b.getF32Type(), v));
  }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, b.getI64Type(), index);
  }
  Value minIdx(Value a, int64_t bound) {
    return arith::MinSIOp::create(b, a, idx(bound));
  }
  Value ltIdx(Value a, Value bound) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, a, bound);
  }

  /// Copies rows [start, start + rows) x [0, width) of `global` (a
  /// [*, *, S, width] memref) at (batch, head) into `shared` ([rows][>=
  /// width], f32), cooperatively and coalesced; rows at or past `limit` are
  /// filled with 0 (they are masked, and 0 keeps 0 * v finite).
  void stageRows(Value global, Value batch, Value head, Value start,
                 Value limit, int64_t rows, int64_t width, Value shared,
                 Value tid) {
    int64_t seq = cast<MemRefType>(global.getType()).getDimSize(2);
    scf::ForOp::create(
        b, b.getLoc(), tid, idx(rows * width), idx(kThreads), ValueRange{},
        [&](OpBuilder &nb, Location loc, Value e, ValueRange) {
          ImplicitLocOpBuilder ib(loc, nb);
          KernelBuilder k(ib, op);
          Value r = arith::DivUIOp::create(ib, e, k.idx(width));
          Value c = arith::RemUIOp::create(ib, e, k.idx(width));
          Value row = arith::AddIOp::create(ib, start, r);
          Value value = k.toF32(memref::LoadOp::create(
              ib, global, ValueRange{batch, head, k.minIdx(row, seq - 1), c}));
          value = arith::SelectOp::create(ib, k.ltIdx(row, limit), value,
                                          k.f32(0.0));
          memref::StoreOp::create(ib, value, shared, ValueRange{r, c});
          scf::YieldOp::create(ib);
        });
  }

  /// Max (or sum) of `v` over the 16 threads of a half warp.
  Value halfWarpReduce(Value v, bool max) {
    for (int32_t offset = kRowThreads / 2; offset > 0; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, v, offset, /*width=*/32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      v = max ? Value(arith::MaximumFOp::create(b, v, other))
              : Value(arith::AddFOp::create(b, v, other));
    }
    return v;
  }

  ImplicitLocOpBuilder &b;
  AttentionOp op;
};

/// Emits the kernel of `op` in place of it; returns failure (with a
/// diagnostic) when the op is outside what the kernel supports.
LogicalResult lowerAttention(AttentionOp op, int64_t sharedMemoryLimit) {
  MemRefType qType = MemRefType::get(op.getQ().getType().getShape(),
                                     op.getQ().getType().getElementType());
  Type elementType = qType.getElementType();
  if (elementType.isF64())
    return op.emitOpError()
           << "has f64 operands, which the GPU lowering does not support "
              "(f32, f16 and bf16 are)";
  ArrayRef<int64_t> qShape = op.getQ().getType().getShape();
  ArrayRef<int64_t> kShape = op.getK().getType().getShape();
  int64_t batch = qShape[0], numHeads = qShape[1], seqQ = qShape[2],
          headDim = qShape[3];
  int64_t numKvHeads = kShape[1], seqKv = kShape[2];
  int64_t headDimV = op.getV().getType().getDimSize(3);
  int64_t group = numHeads / numKvHeads;
  // CUDA caps grid dimensions y and z at 65535.
  constexpr int64_t kMaxGridYZ = 65535;
  if (numHeads > kMaxGridYZ || batch > kMaxGridYZ)
    return op.emitOpError() << "has Hq = " << numHeads << " and B = " << batch
                            << "; the GPU grid holds at most " << kMaxGridYZ
                            << " of each";
  SharedLayout layout = chooseLayout(headDim, headDimV);
  // The NVVM lowering places dynamic shared memory after a 16-byte-aligned
  // static symbol, which counts against the same per-block limit.
  constexpr int64_t kStaticSharedBytes = 16;
  if (layout.bytes() + kStaticSharedBytes > sharedMemoryLimit)
    return op.emitOpError() << "head dims D = " << headDim << ", Dv = "
                            << headDimV << " need " << layout.bytes()
                            << " bytes of shared memory per block (plus "
                            << kStaticSharedBytes
                            << " static), more than the target's "
                            << sharedMemoryLimit;
  const int64_t keyTile = layout.keyTile;
  const int64_t colsS = keyTile / kRowThreads;
  const int64_t colsV = llvm::divideCeil(headDimV, kRowThreads);
  AttentionScoreAttrs attrs = AttentionScoreAttrs::get(op);

  ImplicitLocOpBuilder b(op.getLoc(), op);
  KernelBuilder kb(b, op);
  MLIRContext *ctx = op.getContext();
  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  Value q = toBuffer(op.getQ()), k = toBuffer(op.getK()),
        v = toBuffer(op.getV());
  Value bias = op.getBias() ? toBuffer(op.getBias()) : Value();
  auto outTensorType = cast<RankedTensorType>(op.getResult().getType());
  Value out = memref::AllocOp::create(
      b, MemRefType::get(outTensorType.getShape(), elementType));

  auto launch = gpu::LaunchOp::create(
      b, kb.idx(llvm::divideCeil(seqQ, kQueryTile)), kb.idx(numHeads),
      kb.idx(batch), kb.idx(kThreads), kb.idx(1), kb.idx(1),
      arith::ConstantIntOp::create(b, b.getI32Type(), layout.bytes()));
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&body);

  Value tile = launch.getBlockIds().x, head = launch.getBlockIds().y,
        batchIdx = launch.getBlockIds().z, tid = launch.getThreadIds().x;
  Value rowGroup = arith::DivUIOp::create(b, tid, kb.idx(kRowThreads));
  Value lane = arith::RemUIOp::create(b, tid, kb.idx(kRowThreads));
  Value q0 = arith::MulIOp::create(b, tile, kb.idx(kQueryTile));
  Value kvHead = arith::DivUIOp::create(b, head, kb.idx(group));

  // Shared arrays carved out of the dynamic shared memory.
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value smem = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr,
                         workgroup));
  int64_t offset = 0;
  auto carve = [&](int64_t rows, int64_t cols) -> Value {
    Value view = memref::ViewOp::create(
        b, MemRefType::get({rows, cols}, b.getF32Type(), nullptr, workgroup),
        smem, kb.idx(offset), ValueRange{});
    offset += 4 * rows * cols;
    return view;
  };
  Value qShared = carve(kQueryTile, headDim + 1);
  Value kShared = carve(keyTile, headDim + 1);
  Value vShared = carve(keyTile, headDimV);
  Value pShared = carve(kQueryTile, keyTile + 1);

  // Positions of the tile's rows: p = q_offset + q0 + local row.
  Value qPos = arith::AddIOp::create(b, q0, kb.idx(op.getEffectiveQOffset()));
  Value tileRows =
      arith::MinSIOp::create(b, kb.idx(kQueryTile),
                             arith::SubIOp::create(b, kb.idx(seqQ), q0));
  Value pLast = arith::SubIOp::create(
      b, arith::AddIOp::create(b, qPos, tileRows), kb.idx(1));
  KeyBand band = computeKeyBand(b, b.getLoc(), op, qPos, pLast);

  SmallVector<Value> localRows, positions, lognFactors;
  for (int64_t i = 0; i < kRowsPerThread; ++i) {
    Value r = arith::AddIOp::create(
        b, arith::MulIOp::create(b, rowGroup, kb.idx(kRowsPerThread)),
        kb.idx(i));
    localRows.push_back(r);
    positions.push_back(kb.toI64(arith::AddIOp::create(b, qPos, r)));
    if (attrs.lognTrainLen > 0)
      lognFactors.push_back(buildLognFactor(b, b.getLoc(), attrs.lognTrainLen,
                                            positions.back(),
                                            b.getF32Type()));
    else
      lognFactors.push_back(Value());
  }
  Value slope;
  if (std::optional<ArrayRef<double>> slopes = op.getAlibiSlopes()) {
    SmallVector<float> values(slopes->begin(), slopes->end());
    Value table = arith::ConstantOp::create(
        b, DenseElementsAttr::get(
               VectorType::get({numHeads}, b.getF32Type()),
               ArrayRef<float>(values)));
    slope = vector::ExtractOp::create(b, table, ArrayRef<OpFoldResult>{head});
  }

  kb.stageRows(q, batchIdx, head, q0, kb.idx(seqQ), kQueryTile, headDim,
               qShared, tid);

  // Running state per thread: max and sum of each row, then its
  // accumulator columns, row-major.
  SmallVector<Value> init;
  Value negInf = kb.f32(-std::numeric_limits<double>::infinity());
  for (int64_t i = 0; i < kRowsPerThread; ++i)
    init.push_back(negInf);
  for (int64_t i = 0; i < kRowsPerThread; ++i)
    init.push_back(kb.f32(0.0));
  for (int64_t i = 0; i < kRowsPerThread * colsV; ++i)
    init.push_back(kb.f32(0.0));

  // Folds keys [begin, end) into the state, keyTile at a time.
  auto foldKeys = [&](Value begin, Value end,
                      ValueRange state) -> SmallVector<Value> {
    auto loop = scf::ForOp::create(
        b, begin, end, kb.idx(keyTile), state,
        [&](OpBuilder &nb, Location loc, Value kStart, ValueRange iters) {
          ImplicitLocOpBuilder ib(loc, nb);
          KernelBuilder t(ib, op);
          // The previous tile's readers of K, V and P are done.
          gpu::BarrierOp::create(ib);
          t.stageRows(k, batchIdx, kvHead, kStart, end, keyTile, headDim,
                      kShared, tid);
          t.stageRows(v, batchIdx, kvHead, kStart, end, keyTile, headDimV,
                      vShared, tid);
          gpu::BarrierOp::create(ib);

          SmallVector<Value> keyCols;
          for (int64_t n = 0; n < colsS; ++n)
            keyCols.push_back(
                arith::AddIOp::create(ib, lane, t.idx(kRowThreads * n)));
          // Raw dot products q_i . k_c over the head dim.
          SmallVector<Value> zeros(kRowsPerThread * colsS, t.f32(0.0));
          auto dots = scf::ForOp::create(
              ib, t.idx(0), t.idx(headDim), t.idx(1), zeros,
              [&](OpBuilder &db, Location dloc, Value d, ValueRange acc) {
                ImplicitLocOpBuilder jb(dloc, db);
                SmallVector<Value> qv, kv, next;
                for (Value r : localRows)
                  qv.push_back(
                      memref::LoadOp::create(jb, qShared, ValueRange{r, d}));
                for (Value c : keyCols)
                  kv.push_back(
                      memref::LoadOp::create(jb, kShared, ValueRange{c, d}));
                for (int64_t i = 0; i < kRowsPerThread; ++i)
                  for (int64_t n = 0; n < colsS; ++n)
                    next.push_back(math::FmaOp::create(
                        jb, qv[i], kv[n], acc[i * colsS + n]));
                scf::YieldOp::create(jb, next);
              });

          SmallVector<Value> next(iters.begin(), iters.end());
          SmallVector<Value> alphas;
          for (int64_t i = 0; i < kRowsPerThread; ++i) {
            SmallVector<Value> scores;
            Value rowMax = negInf;
            for (int64_t n = 0; n < colsS; ++n) {
              Value key = arith::AddIOp::create(ib, kStart, keyCols[n]);
              Value biasValue;
              if (bias) {
                auto biasType = cast<MemRefType>(bias.getType());
                Value bb = biasType.getDimSize(0) == 1 ? t.idx(0) : batchIdx;
                Value bh = biasType.getDimSize(1) == 1 ? t.idx(0) : head;
                Value row = t.minIdx(arith::AddIOp::create(ib, q0, localRows[i]),
                                     seqQ - 1);
                biasValue = t.toF32(memref::LoadOp::create(
                    ib, bias,
                    ValueRange{bb, bh, row, t.minIdx(key, seqKv - 1)}));
              }
              Value s = buildMaskedScore(
                  ib, loc, attrs, dots.getResult(i * colsS + n), positions[i],
                  t.toI64(key), slope, biasValue, lognFactors[i],
                  t.ltIdx(key, end));
              scores.push_back(s);
              rowMax = arith::MaximumFOp::create(ib, rowMax, s);
            }
            // Online softmax, -inf-safe: while a row has seen no visible key
            // its max is -inf, its sum and accumulator 0, and exp(s - 0) of
            // its -inf scores is 0.
            Value oldMax = iters[i];
            Value newMax = arith::MaximumFOp::create(
                ib, oldMax, t.halfWarpReduce(rowMax, /*max=*/true));
            Value noKey = arith::CmpFOp::create(ib, arith::CmpFPredicate::OEQ,
                                                newMax, negInf);
            Value shift = arith::SelectOp::create(ib, noKey, t.f32(0.0), newMax);
            Value alpha = math::ExpOp::create(
                ib, arith::SubFOp::create(ib, oldMax, shift));
            Value rowSum = t.f32(0.0);
            for (int64_t n = 0; n < colsS; ++n) {
              Value p = math::ExpOp::create(
                  ib, arith::SubFOp::create(ib, scores[n], shift));
              rowSum = arith::AddFOp::create(ib, rowSum, p);
              memref::StoreOp::create(ib, p, pShared,
                                      ValueRange{localRows[i], keyCols[n]});
            }
            next[i] = newMax;
            next[kRowsPerThread + i] = arith::AddFOp::create(
                ib, arith::MulFOp::create(ib, iters[kRowsPerThread + i], alpha),
                t.halfWarpReduce(rowSum, /*max=*/false));
            alphas.push_back(alpha);
          }
          gpu::BarrierOp::create(ib);

          // acc = alpha * acc + P V over the tile's keys.
          const int64_t accBase = 2 * kRowsPerThread;
          SmallVector<Value> scaled;
          for (int64_t i = 0; i < kRowsPerThread; ++i)
            for (int64_t n = 0; n < colsV; ++n)
              scaled.push_back(arith::MulFOp::create(
                  ib, iters[accBase + i * colsV + n], alphas[i]));
          SmallVector<Value> valueCols;
          for (int64_t n = 0; n < colsV; ++n)
            valueCols.push_back(t.minIdx(
                arith::AddIOp::create(ib, lane, t.idx(kRowThreads * n)),
                headDimV - 1));
          auto pv = scf::ForOp::create(
              ib, t.idx(0), t.idx(keyTile), t.idx(1), scaled,
              [&](OpBuilder &db, Location dloc, Value j, ValueRange acc) {
                ImplicitLocOpBuilder jb(dloc, db);
                SmallVector<Value> pRow, vCol, sums;
                for (Value r : localRows)
                  pRow.push_back(
                      memref::LoadOp::create(jb, pShared, ValueRange{r, j}));
                for (Value c : valueCols)
                  vCol.push_back(
                      memref::LoadOp::create(jb, vShared, ValueRange{j, c}));
                for (int64_t i = 0; i < kRowsPerThread; ++i)
                  for (int64_t n = 0; n < colsV; ++n)
                    sums.push_back(math::FmaOp::create(
                        jb, pRow[i], vCol[n], acc[i * colsV + n]));
                scf::YieldOp::create(jb, sums);
              });
          for (int64_t i = 0; i < kRowsPerThread * colsV; ++i)
            next[accBase + i] = pv.getResult(i);
          scf::YieldOp::create(ib, next);
        });
    return SmallVector<Value>(loop.getResults());
  };

  SmallVector<Value> state = init;
  if (band.sinkEnd)
    state = foldKeys(kb.idx(0), band.sinkEnd, state);
  state = foldKeys(band.lo, band.hi, state);

  // out = acc / sum, 0 for a row without a visible key (sum == 0).
  for (int64_t i = 0; i < kRowsPerThread; ++i) {
    Value row = arith::AddIOp::create(b, q0, localRows[i]);
    Value sum = state[kRowsPerThread + i];
    Value empty =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, sum, kb.f32(0.0));
    Value rowInBounds = kb.ltIdx(row, kb.idx(seqQ));
    for (int64_t n = 0; n < colsV; ++n) {
      Value col = arith::AddIOp::create(b, lane, kb.idx(kRowThreads * n));
      Value inBounds = arith::AndIOp::create(
          b, rowInBounds, kb.ltIdx(col, kb.idx(headDimV)));
      Value value = arith::SelectOp::create(
          b, empty, kb.f32(0.0),
          arith::DivFOp::create(b, state[2 * kRowsPerThread + i * colsV + n],
                                sum));
      if (!elementType.isF32())
        value = arith::TruncFOp::create(b, elementType, value);
      scf::IfOp::create(b, inBounds, [&](OpBuilder &tb, Location tloc) {
        memref::StoreOp::create(tb, tloc, value, out,
                                ValueRange{batchIdx, head, row, col});
        scf::YieldOp::create(tb, tloc);
      });
    }
  }

  b.setInsertionPointAfter(launch);
  Value result = bufferization::ToTensorOp::create(
      b, outTensorType, out, /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
  return success();
}

struct ConvertAttnFlowToGPUPass
    : mlir::attnflow::impl::ConvertAttnFlowToGPUPassBase<
          ConvertAttnFlowToGPUPass> {
  using ConvertAttnFlowToGPUPassBase::ConvertAttnFlowToGPUPassBase;

  void runOnOperation() override {
    SmallVector<AttentionOp> ops;
    getOperation()->walk([&](AttentionOp op) { ops.push_back(op); });
    for (AttentionOp op : ops)
      if (failed(lowerAttention(op, sharedMemoryLimit)))
        return signalPassFailure();
  }
};

} // namespace
