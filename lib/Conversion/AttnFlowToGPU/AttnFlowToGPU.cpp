//===- AttnFlowToGPU.cpp - attnflow.attention as one CUDA kernel ---------===//
//
// Each `attnflow.attention` becomes a `gpu.launch` implementing the forward
// pass of FlashAttention-2 (Dao 2023, "FlashAttention-2", Algorithm 1): one
// thread block per (query tile of kQueryTile rows, query head, batch), K / V
// tiles staged through shared memory, the online softmax (running max m,
// sum l, accumulator) kept in registers, and the key loop bounded to the
// tile's mask band (computeKeyBand), so windowed attention costs O(S * w).
// Two kernels share that structure (emitAttentionLaunch, foldKeyBand):
//
// SIMT (f32; f16 / bf16 with tensor-cores=false). Thread layout of a block
// (kThreads = 256 threads, 8 warps): thread t owns query rows
// kRowsPerThread * (t / 16) + i, i < kRowsPerThread, and within them the key
// columns c = t % 16 + 16 n of a score tile and the value columns
// e = t % 16 + 16 n of the accumulator. The 16 threads sharing rows are one
// half warp, so row max and row sum are 4 xor-shuffles. P goes through
// shared memory from the score layout to the P V product. Scores and sums
// are f32 (f16 / bf16 inputs are widened when staged, the output is rounded
// once). Shared-memory rows of Q and K are padded by one element so the 16
// distinct rows a half warp reads fall in distinct banks.
//
// Tensor cores (f16 / bf16, the default for them): kMmaThreads = 128
// threads, 4 warps; warp w owns query rows 16 w .. 16 w + 15 of the tile.
// Q, K and V^T stay f16 / bf16 in shared memory; S = Q K^T and O += P V are
// nvgpu.mma.sync m16n8k16 (f32 accumulators) on fragments laid out as the
// PTX ISA's "Matrix Fragments for mma.m16n8k16 with floating point type":
// with lane = groupID * 4 + threadID_in_group (g, t),
//   A (16x16, vector<4x2>): row r of the vector = registers a{2r, 2r+1} =
//     A[g + 8 (r % 2)][2 t + {0, 1} + 8 (r / 2)];
//   B (16x8, vector<2x2>): row r = b{2r, 2r+1} = B[2 t + {0, 1} + 8 r][g];
//   C (16x8, vector<2x2xf32>): row r = c{2r, 2r+1} = C[g + 8 r][2 t + {0, 1}].
// So a thread holds rows g and g + 8 of its warp's scores; row max and sum
// are xor-shuffles 1 and 2 within a quad. The C fragments of score n-tiles
// 2j and 2j+1, rounded to f16 / bf16, are exactly the A fragment of k-step j
// of P V (FlashAttention-2's register reuse), so P never touches shared
// memory. Every fragment row is two adjacent 16-bit elements of a shared
// row-major array (Q[row][d], K[key][d], V^T[e][key]): one 32-bit load.
// Rows are padded by 8 elements (16 bytes) so the 8 rows x 4 words of a
// fragment load fall in distinct banks.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTATTNFLOWTOGPUPASS
#define GEN_PASS_DEF_LOWERBF16MMASYNCPASS
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

/// The tensor-core kernel: 4 warps of 16 query rows; m16n8k16 tiles.
constexpr int64_t kWarpSize = 32;
constexpr int64_t kMmaM = 16, kMmaN = 8, kMmaK = 16;
constexpr int64_t kMmaThreads = kQueryTile / kMmaM * kWarpSize;
constexpr int64_t kMmaKeyTile = 64;
/// Padding of the 16-bit shared rows, in elements (16 bytes).
constexpr int64_t kMmaRowPad = 8;

/// The NVVM lowering places dynamic shared memory after a 16-byte-aligned
/// static symbol, which counts against the same per-block limit.
constexpr int64_t kStaticSharedBytes = 16;

/// Shared-memory plan of one SIMT block: f32 arrays Q [kQueryTile][D + 1],
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

/// Shared-memory plan of one tensor-core block: 16-bit arrays
/// Q [kQueryTile][dPad + 8], K [kMmaKeyTile][dPad + 8] and
/// V^T [dvPad][kMmaKeyTile + 8], dPad = D rounded up to 16 (the k of the
/// mma), dvPad = Dv rounded up to 8 (its n); padding is staged as 0.
struct MmaLayout {
  int64_t dPad, dvPad, qStride, kStride, vtStride;

  MmaLayout(int64_t d, int64_t dv)
      : dPad(llvm::alignTo(d, kMmaK)), dvPad(llvm::alignTo(dv, kMmaN)),
        qStride(dPad + kMmaRowPad), kStride(dPad + kMmaRowPad),
        vtStride(kMmaKeyTile + kMmaRowPad) {}
  int64_t bytes() const {
    return 2 *
           (kQueryTile * qStride + kMmaKeyTile * kStride + dvPad * vtStride);
  }
};

class KernelBuilder {
public:
  KernelBuilder(ImplicitLocOpBuilder &b, AttentionOp op) : b(b), op(op) {}

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value toF32(Value v) {
    return v.getType().isF32()
               ? v
               : Value(arith::ExtFOp::create(b, b.getF32Type(), v));
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
  Value add(Value a, int64_t c) { return arith::AddIOp::create(b, a, idx(c)); }

  /// Copies rows [start, start + rows) x [0, width) of `global` (a
  /// [*, *, S, width] memref) at (batch, head) into `shared`, cooperatively
  /// (`threads` threads) and coalesced: element (r, c) goes to shared[r][c],
  /// or shared[c][r] when `transposed`; columns [width, paddedWidth) and
  /// rows at or past `limit` are filled with 0 (they are masked or padding,
  /// and 0 keeps 0 * v finite). Values are widened to f32 when `shared`
  /// holds f32, else kept in the element type.
  void stageRows(Value global, Value batch, Value head, Value start,
                 Value limit, int64_t rows, int64_t width, Value shared,
                 Value tid, int64_t threads = kThreads,
                 int64_t paddedWidth = -1, bool transposed = false) {
    if (paddedWidth < 0)
      paddedWidth = width;
    int64_t seq = cast<MemRefType>(global.getType()).getDimSize(2);
    Type sharedType = cast<MemRefType>(shared.getType()).getElementType();
    scf::ForOp::create(
        b, b.getLoc(), tid, idx(rows * paddedWidth), idx(threads), ValueRange{},
        [&](OpBuilder &nb, Location loc, Value e, ValueRange) {
          ImplicitLocOpBuilder ib(loc, nb);
          KernelBuilder k(ib, op);
          Value r = arith::DivUIOp::create(ib, e, k.idx(paddedWidth));
          Value c = arith::RemUIOp::create(ib, e, k.idx(paddedWidth));
          Value row = arith::AddIOp::create(ib, start, r);
          Value col = paddedWidth == width ? c : k.minIdx(c, width - 1);
          Value value = memref::LoadOp::create(
              ib, global, ValueRange{batch, head, k.minIdx(row, seq - 1), col});
          if (sharedType.isF32())
            value = k.toF32(value);
          Value keep = k.ltIdx(row, limit);
          if (paddedWidth != width)
            keep = arith::AndIOp::create(ib, keep, k.ltIdx(c, k.idx(width)));
          Value zero =
              arith::ConstantOp::create(ib, ib.getFloatAttr(sharedType, 0.0));
          value = arith::SelectOp::create(ib, keep, value, zero);
          memref::StoreOp::create(ib, value, shared,
                                  transposed ? ValueRange{c, r}
                                             : ValueRange{r, c});
          scf::YieldOp::create(ib);
        });
  }

  /// Max (or sum) of `v` over the 2 * `largestOffset` lanes whose ids
  /// differ only in the bits below it (a half warp: 8, a quad: 2).
  Value xorReduce(Value v, bool max, int32_t largestOffset) {
    for (int32_t offset = largestOffset; offset > 0; offset /= 2) {
      Value other = gpu::ShuffleOp::create(b, v, offset, /*width=*/32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      v = max ? Value(arith::MaximumFOp::create(b, v, other))
              : Value(arith::AddFOp::create(b, v, other));
    }
    return v;
  }
  Value halfWarpReduce(Value v, bool max) {
    return xorReduce(v, max, kRowThreads / 2);
  }

  ImplicitLocOpBuilder &b;
  AttentionOp op;
};

/// What both kernels know of the op and of their block: shapes, buffers,
/// block ids, the tile's rows and key band, the ALiBi slope.
struct AttentionKernel {
  AttentionOp op;
  AttentionScoreAttrs attrs;
  Type elementType;
  int64_t batch, numHeads, seqQ, headDim, numKvHeads, seqKv, headDimV, group;
  int64_t threads = 0;
  // Buffers (bias null without one).
  Value q, k, v, bias, out;
  // In the kernel.
  Value tile, head, batchIdx, tid, q0, kvHead, qPos, slope, smem;
  KeyBand band;
  int64_t sharedOffset = 0;

  explicit AttentionKernel(AttentionOp op)
      : op(op), attrs(AttentionScoreAttrs::get(op)) {
    elementType = op.getQ().getType().getElementType();
    ArrayRef<int64_t> qShape = op.getQ().getType().getShape();
    ArrayRef<int64_t> kShape = op.getK().getType().getShape();
    batch = qShape[0];
    numHeads = qShape[1];
    seqQ = qShape[2];
    headDim = qShape[3];
    numKvHeads = kShape[1];
    seqKv = kShape[2];
    headDimV = op.getV().getType().getDimSize(3);
    group = numHeads / numKvHeads;
  }

  /// A [rows][cols] view of `type` at the next free offset of the dynamic
  /// shared memory.
  Value carve(ImplicitLocOpBuilder &b, int64_t rows, int64_t cols, Type type) {
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    Value view = memref::ViewOp::create(
        b, MemRefType::get({rows, cols}, type, nullptr, workgroup), smem,
        arith::ConstantIndexOp::create(b, sharedOffset), ValueRange{});
    sharedOffset += rows * cols * type.getIntOrFloatBitWidth() / 8;
    return view;
  }

  /// Position (i64) of local query row `localRow` and its log-n factor
  /// (null without log-n).
  std::pair<Value, Value> rowPosition(ImplicitLocOpBuilder &b, Value localRow) {
    KernelBuilder kb(b, op);
    Value position = kb.toI64(arith::AddIOp::create(b, qPos, localRow));
    Value logn;
    if (attrs.lognTrainLen > 0)
      logn = buildLognFactor(b, b.getLoc(), attrs.lognTrainLen, position,
                             b.getF32Type());
    return {position, logn};
  }

  /// The masked score (DESIGN.md §3) of raw dot product `dot` of local
  /// query row `localRow` (at `position`, log-n factor `logn`) with key
  /// `key` (index); keys at or past `end` are hidden.
  Value maskedScore(ImplicitLocOpBuilder &b, Value dot, Value localRow,
                    Value position, Value logn, Value key, Value end) {
    KernelBuilder t(b, op);
    Value biasValue;
    if (bias) {
      auto biasType = cast<MemRefType>(bias.getType());
      Value bb = biasType.getDimSize(0) == 1 ? t.idx(0) : batchIdx;
      Value bh = biasType.getDimSize(1) == 1 ? t.idx(0) : head;
      Value row = t.minIdx(arith::AddIOp::create(b, q0, localRow), seqQ - 1);
      biasValue = t.toF32(memref::LoadOp::create(
          b, bias, ValueRange{bb, bh, row, t.minIdx(key, seqKv - 1)}));
    }
    return buildMaskedScore(b, b.getLoc(), attrs, dot, position, t.toI64(key),
                            slope, biasValue, logn, t.ltIdx(key, end));
  }

  /// Online-softmax step of one row: the new max (from `tileMax`, this
  /// thread's max of the row's tile scores, reduced over the lanes sharing
  /// the row), the shift exp's argument is taken against, and
  /// alpha = exp(oldMax - shift). -inf-safe: while a row has seen no
  /// visible key its max is -inf, its sum and accumulator 0, and
  /// exp(s - 0) of its -inf scores is 0.
  struct SoftmaxStep {
    Value newMax, shift, alpha;
  };
  SoftmaxStep softmaxStep(ImplicitLocOpBuilder &b, Value oldMax, Value tileMax,
                          int32_t largestOffset) {
    KernelBuilder t(b, op);
    Value newMax = arith::MaximumFOp::create(
        b, oldMax, t.xorReduce(tileMax, /*max=*/true, largestOffset));
    Value noKey =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, newMax,
                              t.f32(-std::numeric_limits<double>::infinity()));
    Value shift = arith::SelectOp::create(b, noKey, t.f32(0.0), newMax);
    Value alpha =
        math::ExpOp::create(b, arith::SubFOp::create(b, oldMax, shift));
    return {newMax, shift, alpha};
  }

  /// Stores acc / sum (0 for a row without a visible key: sum == 0),
  /// rounded to the element type, at local row `localRow`, column `col` of
  /// the output when both are in bounds.
  void storeOutput(ImplicitLocOpBuilder &b, Value localRow, Value col,
                   Value acc, Value sum) {
    KernelBuilder kb(b, op);
    Value row = arith::AddIOp::create(b, q0, localRow);
    Value empty =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, sum, kb.f32(0.0));
    Value inBounds = arith::AndIOp::create(b, kb.ltIdx(row, kb.idx(seqQ)),
                                           kb.ltIdx(col, kb.idx(headDimV)));
    Value value = arith::SelectOp::create(b, empty, kb.f32(0.0),
                                          arith::DivFOp::create(b, acc, sum));
    if (!elementType.isF32())
      value = arith::TruncFOp::create(b, elementType, value);
    scf::IfOp::create(b, inBounds, [&](OpBuilder &tb, Location tloc) {
      memref::StoreOp::create(tb, tloc, value, out,
                              ValueRange{batchIdx, head, row, col});
      scf::YieldOp::create(tb, tloc);
    });
  }

  /// Folds the tile's visible keys into `state`, keyTile at a time: the
  /// sinks [0, sinkEnd), then the band [lo, hi). Each step waits for the
  /// previous tile's readers of shared memory (barrier), runs `stage(kStart,
  /// end)`, waits for the staging (barrier), then `body(kStart, end, state)`
  /// returns the new state.
  using StageFn = function_ref<void(ImplicitLocOpBuilder &, Value, Value)>;
  using BodyFn = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value,
                                                 Value, ValueRange)>;
  SmallVector<Value> foldKeyBand(ImplicitLocOpBuilder &b, int64_t keyTile,
                                 ValueRange init, StageFn stage, BodyFn body) {
    auto foldKeys = [&](Value begin, Value end,
                        ValueRange state) -> SmallVector<Value> {
      auto loop = scf::ForOp::create(
          b, begin, end, arith::ConstantIndexOp::create(b, keyTile), state,
          [&](OpBuilder &nb, Location loc, Value kStart, ValueRange iters) {
            ImplicitLocOpBuilder ib(loc, nb);
            // The previous tile's readers of shared memory are done.
            gpu::BarrierOp::create(ib);
            stage(ib, kStart, end);
            gpu::BarrierOp::create(ib);
            scf::YieldOp::create(ib, body(ib, kStart, end, iters));
          });
      return SmallVector<Value>(loop.getResults());
    };
    SmallVector<Value> state(init.begin(), init.end());
    if (band.sinkEnd)
      state =
          foldKeys(arith::ConstantIndexOp::create(b, 0), band.sinkEnd, state);
    return foldKeys(band.lo, band.hi, state);
  }
};

/// Replaces `op` by a gpu.launch of `threads` threads per block over the
/// grid [ceil(Sq / kQueryTile), Hq, B] with `sharedBytes` of dynamic shared
/// memory; `buildBody` fills the kernel (the insertion point is at the start
/// of the launch body; the kernel context is set up).
void emitAttentionLaunch(
    AttentionKernel &kernel, int64_t threads, int64_t sharedBytes,
    function_ref<void(ImplicitLocOpBuilder &, AttentionKernel &)> buildBody) {
  AttentionOp op = kernel.op;
  ImplicitLocOpBuilder b(op.getLoc(), op);
  KernelBuilder kb(b, op);
  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/true);
  };
  kernel.threads = threads;
  kernel.q = toBuffer(op.getQ());
  kernel.k = toBuffer(op.getK());
  kernel.v = toBuffer(op.getV());
  kernel.bias = op.getBias() ? toBuffer(op.getBias()) : Value();
  auto outTensorType = cast<RankedTensorType>(op.getResult().getType());
  kernel.out = memref::AllocOp::create(
      b, MemRefType::get(outTensorType.getShape(), kernel.elementType));

  auto launch = gpu::LaunchOp::create(
      b, kb.idx(llvm::divideCeil(kernel.seqQ, kQueryTile)),
      kb.idx(kernel.numHeads), kb.idx(kernel.batch), kb.idx(threads), kb.idx(1),
      kb.idx(1), arith::ConstantIntOp::create(b, b.getI32Type(), sharedBytes));
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&body);

  kernel.tile = launch.getBlockIds().x;
  kernel.head = launch.getBlockIds().y;
  kernel.batchIdx = launch.getBlockIds().z;
  kernel.tid = launch.getThreadIds().x;
  kernel.q0 = arith::MulIOp::create(b, kernel.tile, kb.idx(kQueryTile));
  kernel.kvHead = arith::DivUIOp::create(b, kernel.head, kb.idx(kernel.group));
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  kernel.smem = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr,
                         workgroup));

  // Positions of the tile's rows: p = q_offset + q0 + local row.
  kernel.qPos =
      arith::AddIOp::create(b, kernel.q0, kb.idx(op.getEffectiveQOffset()));
  Value tileRows = arith::MinSIOp::create(
      b, kb.idx(kQueryTile),
      arith::SubIOp::create(b, kb.idx(kernel.seqQ), kernel.q0));
  Value pLast = arith::SubIOp::create(
      b, arith::AddIOp::create(b, kernel.qPos, tileRows), kb.idx(1));
  kernel.band = computeKeyBand(b, b.getLoc(), op, kernel.qPos, pLast);
  if (std::optional<ArrayRef<double>> slopes = op.getAlibiSlopes()) {
    SmallVector<float> values(slopes->begin(), slopes->end());
    Value table = arith::ConstantOp::create(
        b, DenseElementsAttr::get(
               VectorType::get({kernel.numHeads}, b.getF32Type()),
               ArrayRef<float>(values)));
    kernel.slope = vector::ExtractOp::create(
        b, table, ArrayRef<OpFoldResult>{kernel.head});
  }

  buildBody(b, kernel);

  b.setInsertionPointAfter(launch);
  Value result = bufferization::ToTensorOp::create(
      b, outTensorType, kernel.out, /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(result);
  op.erase();
}

/// The SIMT kernel's body (see the file comment).
void buildSimtKernel(ImplicitLocOpBuilder &b, AttentionKernel &kernel,
                     const SharedLayout &layout) {
  KernelBuilder kb(b, kernel.op);
  const int64_t keyTile = layout.keyTile;
  const int64_t colsS = keyTile / kRowThreads;
  const int64_t colsV = llvm::divideCeil(kernel.headDimV, kRowThreads);
  const int64_t headDim = kernel.headDim, headDimV = kernel.headDimV;
  Value tid = kernel.tid;
  Value rowGroup = arith::DivUIOp::create(b, tid, kb.idx(kRowThreads));
  Value lane = arith::RemUIOp::create(b, tid, kb.idx(kRowThreads));

  Type f32 = b.getF32Type();
  Value qShared = kernel.carve(b, kQueryTile, headDim + 1, f32);
  Value kShared = kernel.carve(b, keyTile, headDim + 1, f32);
  Value vShared = kernel.carve(b, keyTile, headDimV, f32);
  Value pShared = kernel.carve(b, kQueryTile, keyTile + 1, f32);

  SmallVector<Value> localRows, positions, lognFactors;
  for (int64_t i = 0; i < kRowsPerThread; ++i) {
    Value r = arith::AddIOp::create(
        b, arith::MulIOp::create(b, rowGroup, kb.idx(kRowsPerThread)),
        kb.idx(i));
    localRows.push_back(r);
    auto [position, logn] = kernel.rowPosition(b, r);
    positions.push_back(position);
    lognFactors.push_back(logn);
  }

  kb.stageRows(kernel.q, kernel.batchIdx, kernel.head, kernel.q0,
               kb.idx(kernel.seqQ), kQueryTile, headDim, qShared, tid);

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

  auto stage = [&](ImplicitLocOpBuilder &ib, Value kStart, Value end) {
    KernelBuilder t(ib, kernel.op);
    t.stageRows(kernel.k, kernel.batchIdx, kernel.kvHead, kStart, end, keyTile,
                headDim, kShared, tid);
    t.stageRows(kernel.v, kernel.batchIdx, kernel.kvHead, kStart, end, keyTile,
                headDimV, vShared, tid);
  };
  auto body = [&](ImplicitLocOpBuilder &ib, Value kStart, Value end,
                  ValueRange iters) -> SmallVector<Value> {
    KernelBuilder t(ib, kernel.op);
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
            qv.push_back(memref::LoadOp::create(jb, qShared, ValueRange{r, d}));
          for (Value c : keyCols)
            kv.push_back(memref::LoadOp::create(jb, kShared, ValueRange{c, d}));
          for (int64_t i = 0; i < kRowsPerThread; ++i)
            for (int64_t n = 0; n < colsS; ++n)
              next.push_back(
                  math::FmaOp::create(jb, qv[i], kv[n], acc[i * colsS + n]));
          scf::YieldOp::create(jb, next);
        });

    SmallVector<Value> next(iters.begin(), iters.end());
    SmallVector<Value> alphas;
    for (int64_t i = 0; i < kRowsPerThread; ++i) {
      SmallVector<Value> scores;
      Value rowMax = negInf;
      for (int64_t n = 0; n < colsS; ++n) {
        Value key = arith::AddIOp::create(ib, kStart, keyCols[n]);
        Value s =
            kernel.maskedScore(ib, dots.getResult(i * colsS + n), localRows[i],
                               positions[i], lognFactors[i], key, end);
        scores.push_back(s);
        rowMax = arith::MaximumFOp::create(ib, rowMax, s);
      }
      auto step = kernel.softmaxStep(ib, iters[i], rowMax, kRowThreads / 2);
      Value rowSum = t.f32(0.0);
      for (int64_t n = 0; n < colsS; ++n) {
        Value p = math::ExpOp::create(
            ib, arith::SubFOp::create(ib, scores[n], step.shift));
        rowSum = arith::AddFOp::create(ib, rowSum, p);
        memref::StoreOp::create(ib, p, pShared,
                                ValueRange{localRows[i], keyCols[n]});
      }
      next[i] = step.newMax;
      next[kRowsPerThread + i] = arith::AddFOp::create(
          ib, arith::MulFOp::create(ib, iters[kRowsPerThread + i], step.alpha),
          t.halfWarpReduce(rowSum, /*max=*/false));
      alphas.push_back(step.alpha);
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
      valueCols.push_back(
          t.minIdx(arith::AddIOp::create(ib, lane, t.idx(kRowThreads * n)),
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
              sums.push_back(math::FmaOp::create(jb, pRow[i], vCol[n],
                                                 acc[i * colsV + n]));
          scf::YieldOp::create(jb, sums);
        });
    for (int64_t i = 0; i < kRowsPerThread * colsV; ++i)
      next[accBase + i] = pv.getResult(i);
    return next;
  };
  SmallVector<Value> state = kernel.foldKeyBand(b, keyTile, init, stage, body);

  // out = acc / sum, 0 for a row without a visible key (sum == 0).
  for (int64_t i = 0; i < kRowsPerThread; ++i)
    for (int64_t n = 0; n < colsV; ++n)
      kernel.storeOutput(
          b, localRows[i],
          arith::AddIOp::create(b, lane, kb.idx(kRowThreads * n)),
          state[2 * kRowsPerThread + i * colsV + n], state[kRowsPerThread + i]);
}

/// The tensor-core kernel's body (see the file comment).
void buildMmaKernel(ImplicitLocOpBuilder &b, AttentionKernel &kernel,
                    const MmaLayout &layout) {
  KernelBuilder kb(b, kernel.op);
  Type et = kernel.elementType;
  Type f32 = b.getF32Type();
  const int64_t keyTile = kMmaKeyTile;
  const int64_t scoreTiles = keyTile / kMmaN;    // n-tiles of S
  const int64_t outTiles = layout.dvPad / kMmaN; // n-tiles of O
  Value tid = kernel.tid;
  Value warp = arith::DivUIOp::create(b, tid, kb.idx(kWarpSize));
  Value lane = arith::RemUIOp::create(b, tid, kb.idx(kWarpSize));
  Value groupId = arith::DivUIOp::create(b, lane, kb.idx(4));
  Value inGroup = arith::RemUIOp::create(b, lane, kb.idx(4));
  // Fragment column of this thread's first element: threadID_in_group * 2.
  Value col0 = arith::MulIOp::create(b, inGroup, kb.idx(2));
  // Rows groupID and groupID + 8 of the warp's 16 query rows.
  Value row0 = arith::AddIOp::create(
      b, arith::MulIOp::create(b, warp, kb.idx(kMmaM)), groupId);
  Value rows[2] = {row0, kb.add(row0, 8)};
  Value positions[2], logns[2];
  for (int i = 0; i < 2; ++i)
    std::tie(positions[i], logns[i]) = kernel.rowPosition(b, rows[i]);

  Value qShared = kernel.carve(b, kQueryTile, layout.qStride, et);
  Value kShared = kernel.carve(b, keyTile, layout.kStride, et);
  Value vtShared = kernel.carve(b, layout.dvPad, layout.vtStride, et);

  kb.stageRows(kernel.q, kernel.batchIdx, kernel.head, kernel.q0,
               kb.idx(kernel.seqQ), kQueryTile, kernel.headDim, qShared, tid,
               kMmaThreads, layout.dPad);

  auto pairType = VectorType::get({2}, et);
  auto accType = VectorType::get({2, 2}, f32);
  // Elements (row, col) and (row, col + 1) of a shared array: one 32-bit
  // load (col is even and rows have an even length).
  auto loadPair = [&](ImplicitLocOpBuilder &ib, Value view, Value row,
                      Value col, SmallVectorImpl<Value> &elements) {
    Value pair =
        vector::LoadOp::create(ib, pairType, view, ValueRange{row, col},
                               /*nontemporal=*/false, llvm::MaybeAlign(4));
    for (int64_t e = 0; e < 2; ++e)
      elements.push_back(
          vector::ExtractOp::create(ib, pair, ArrayRef<int64_t>{e}));
  };
  auto fragment = [&](ImplicitLocOpBuilder &ib, int64_t registers,
                      ArrayRef<Value> elements, Type type) -> Value {
    return vector::FromElementsOp::create(
        ib, VectorType::get({registers, 2}, type), elements);
  };
  auto mma = [&](ImplicitLocOpBuilder &ib, Value a, Value bFrag,
                 Value c) -> Value {
    return nvgpu::MmaSyncOp::create(ib, a, bFrag, c,
                                    ArrayRef<int64_t>{kMmaM, kMmaN, kMmaK});
  };
  auto element = [&](ImplicitLocOpBuilder &ib, Value frag, int64_t r,
                     int64_t c) -> Value {
    return vector::ExtractOp::create(ib, frag, ArrayRef<int64_t>{r, c});
  };
  Value zeroAcc = arith::ConstantOp::create(
      b, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));

  // Running state per thread: max of rows g and g + 8, this thread's
  // partial sums of them (its columns only; the quad's partial sums are
  // added at the end: every lane of a quad applies the same alphas), then
  // the O fragments.
  Value negInf = kb.f32(-std::numeric_limits<double>::infinity());
  SmallVector<Value> init = {negInf, negInf, kb.f32(0.0), kb.f32(0.0)};
  for (int64_t m = 0; m < outTiles; ++m)
    init.push_back(zeroAcc);

  auto stage = [&](ImplicitLocOpBuilder &ib, Value kStart, Value end) {
    KernelBuilder t(ib, kernel.op);
    t.stageRows(kernel.k, kernel.batchIdx, kernel.kvHead, kStart, end, keyTile,
                kernel.headDim, kShared, tid, kMmaThreads, layout.dPad);
    t.stageRows(kernel.v, kernel.batchIdx, kernel.kvHead, kStart, end, keyTile,
                kernel.headDimV, vtShared, tid, kMmaThreads, layout.dvPad,
                /*transposed=*/true);
  };
  auto body = [&](ImplicitLocOpBuilder &ib, Value kStart, Value end,
                  ValueRange iters) -> SmallVector<Value> {
    KernelBuilder t(ib, kernel.op);
    // S = Q K^T, k-steps of 16 over the (padded) head dim: the A fragment
    // holds Q[rows][d + col0 + {0, 1} (+ 8)], the B fragment of n-tile n
    // K^T[d + col0 + {0, 1} (+ 8)][8 n + g] = K[8 n + g][...].
    SmallVector<Value> zeros(scoreTiles, zeroAcc);
    auto dots = scf::ForOp::create(
        ib, t.idx(0), t.idx(layout.dPad), t.idx(kMmaK), zeros,
        [&](OpBuilder &db, Location dloc, Value d, ValueRange acc) {
          ImplicitLocOpBuilder jb(dloc, db);
          Value lo = arith::AddIOp::create(jb, d, col0);
          Value hi = arith::AddIOp::create(jb, lo, t.idx(8));
          SmallVector<Value> a;
          loadPair(jb, qShared, rows[0], lo, a);
          loadPair(jb, qShared, rows[1], lo, a);
          loadPair(jb, qShared, rows[0], hi, a);
          loadPair(jb, qShared, rows[1], hi, a);
          Value aFrag = fragment(jb, 4, a, et);
          SmallVector<Value> next;
          for (int64_t n = 0; n < scoreTiles; ++n) {
            Value key = arith::AddIOp::create(jb, groupId, t.idx(kMmaN * n));
            SmallVector<Value> bElems;
            loadPair(jb, kShared, key, lo, bElems);
            loadPair(jb, kShared, key, hi, bElems);
            next.push_back(mma(jb, aFrag, fragment(jb, 2, bElems, et), acc[n]));
          }
          scf::YieldOp::create(jb, next);
        });

    // Masked scores and the online softmax of rows g (i = 0) and g + 8
    // (i = 1): element (i, j) of n-tile n is key 8 n + col0 + j.
    SmallVector<Value> next(iters.begin(), iters.end());
    Value alphas[2];
    // P rounded to the element type: p[i][n][j].
    SmallVector<Value> p[2];
    for (int64_t i = 0; i < 2; ++i) {
      SmallVector<Value> scores;
      Value rowMax = negInf;
      for (int64_t n = 0; n < scoreTiles; ++n)
        for (int64_t j = 0; j < 2; ++j) {
          Value key = arith::AddIOp::create(
              ib, kStart,
              arith::AddIOp::create(ib, col0, t.idx(kMmaN * n + j)));
          Value s =
              kernel.maskedScore(ib, element(ib, dots.getResult(n), i, j),
                                 rows[i], positions[i], logns[i], key, end);
          scores.push_back(s);
          rowMax = arith::MaximumFOp::create(ib, rowMax, s);
        }
      auto step = kernel.softmaxStep(ib, iters[i], rowMax, /*quad=*/2);
      Value rowSum = t.f32(0.0);
      for (Value s : scores) {
        Value e =
            math::ExpOp::create(ib, arith::SubFOp::create(ib, s, step.shift));
        rowSum = arith::AddFOp::create(ib, rowSum, e);
        p[i].push_back(arith::TruncFOp::create(ib, et, e));
      }
      next[i] = step.newMax;
      next[2 + i] = arith::AddFOp::create(
          ib, arith::MulFOp::create(ib, iters[2 + i], step.alpha), rowSum);
      alphas[i] = step.alpha;
    }

    // O = alpha O + P V. The A fragment of k-step j is the C fragments of
    // score n-tiles 2j, 2j + 1: P[rows][16 j + col0 + {0, 1} (+ 8)]; the B
    // fragment of n-tile m is V[16 j + col0 + {0, 1} (+ 8)][8 m + g] =
    // V^T[8 m + g][...].
    SmallVector<Value> out;
    for (int64_t m = 0; m < outTiles; ++m) {
      Value o = iters[4 + m];
      SmallVector<Value> scaled;
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 2; ++j)
          scaled.push_back(
              arith::MulFOp::create(ib, element(ib, o, i, j), alphas[i]));
      out.push_back(fragment(ib, 2, scaled, f32));
    }
    for (int64_t ks = 0; ks < keyTile / kMmaK; ++ks) {
      auto pAt = [&](int64_t i, int64_t n, int64_t j) {
        return p[i][2 * n + j];
      };
      Value aFrag = fragment(ib, 4,
                             {pAt(0, 2 * ks, 0), pAt(0, 2 * ks, 1),
                              pAt(1, 2 * ks, 0), pAt(1, 2 * ks, 1),
                              pAt(0, 2 * ks + 1, 0), pAt(0, 2 * ks + 1, 1),
                              pAt(1, 2 * ks + 1, 0), pAt(1, 2 * ks + 1, 1)},
                             et);
      Value lo = arith::AddIOp::create(ib, col0, t.idx(kMmaK * ks));
      Value hi = arith::AddIOp::create(ib, lo, t.idx(8));
      for (int64_t m = 0; m < outTiles; ++m) {
        Value e = arith::AddIOp::create(ib, groupId, t.idx(kMmaN * m));
        SmallVector<Value> bElems;
        loadPair(ib, vtShared, e, lo, bElems);
        loadPair(ib, vtShared, e, hi, bElems);
        out[m] = mma(ib, aFrag, fragment(ib, 2, bElems, et), out[m]);
      }
    }
    for (int64_t m = 0; m < outTiles; ++m)
      next[4 + m] = out[m];
    return next;
  };
  SmallVector<Value> state = kernel.foldKeyBand(b, keyTile, init, stage, body);

  // out = O / l with l the quad's sum of the partial sums, 0 for a row
  // without a visible key (l == 0).
  Value sums[2];
  for (int64_t i = 0; i < 2; ++i)
    sums[i] = kb.xorReduce(state[2 + i], /*max=*/false, /*quad=*/2);
  for (int64_t m = 0; m < outTiles; ++m)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        kernel.storeOutput(
            b, rows[i], arith::AddIOp::create(b, col0, kb.idx(kMmaN * m + j)),
            element(b, state[4 + m], i, j), sums[i]);
}

/// Emits the kernel of `op` in place of it; returns failure (with a
/// diagnostic) when the op is outside what the kernel supports.
LogicalResult lowerAttention(AttentionOp op, int64_t sharedMemoryLimit,
                             bool tensorCores) {
  AttentionKernel kernel(op);
  Type elementType = kernel.elementType;
  if (elementType.isF64())
    return op.emitOpError()
           << "has f64 operands, which the GPU lowering does not support "
              "(f32, f16 and bf16 are)";
  // CUDA caps grid dimensions y and z at 65535.
  constexpr int64_t kMaxGridYZ = 65535;
  if (kernel.numHeads > kMaxGridYZ || kernel.batch > kMaxGridYZ)
    return op.emitOpError()
           << "has Hq = " << kernel.numHeads << " and B = " << kernel.batch
           << "; the GPU grid holds at most " << kMaxGridYZ << " of each";
  constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1;
  if (llvm::divideCeil(kernel.seqQ, kQueryTile) > kMaxGridX)
    return op.emitOpError()
           << "has Sq = " << kernel.seqQ << "; the GPU grid "
           << "holds at most " << kMaxGridX << " query tiles of " << kQueryTile;
  // A query tile of a longer head does not fit any shared memory; checked
  // first so that the byte counts below cannot overflow.
  constexpr int64_t kMaxHeadDim = 4096;
  if (kernel.headDim > kMaxHeadDim || kernel.headDimV > kMaxHeadDim)
    return op.emitOpError()
           << "head dims D = " << kernel.headDim << ", Dv = " << kernel.headDimV
           << " exceed the GPU kernels' limit of " << kMaxHeadDim;
  bool useMma = tensorCores && (elementType.isF16() || elementType.isBF16());
  MmaLayout mmaLayout(kernel.headDim, kernel.headDimV);
  SharedLayout simtLayout = chooseLayout(kernel.headDim, kernel.headDimV);
  int64_t bytes = useMma ? mmaLayout.bytes() : simtLayout.bytes();
  if (bytes + kStaticSharedBytes > sharedMemoryLimit)
    return op.emitOpError()
           << "head dims D = " << kernel.headDim << ", Dv = " << kernel.headDimV
           << " need " << bytes << " bytes of shared memory per block (plus "
           << kStaticSharedBytes << " static), more than the target's "
           << sharedMemoryLimit;
  if (useMma)
    emitAttentionLaunch(kernel, kMmaThreads, bytes,
                        [&](ImplicitLocOpBuilder &b, AttentionKernel &k) {
                          buildMmaKernel(b, k, mmaLayout);
                        });
  else
    emitAttentionLaunch(kernel, kThreads, bytes,
                        [&](ImplicitLocOpBuilder &b, AttentionKernel &k) {
                          buildSimtKernel(b, k, simtLayout);
                        });
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
      if (failed(lowerAttention(op, sharedMemoryLimit, tensorCores)))
        return signalPassFailure();
  }
};

struct LowerBF16MmaSyncPass
    : mlir::attnflow::impl::LowerBF16MmaSyncPassBase<LowerBF16MmaSyncPass> {
  using LowerBF16MmaSyncPassBase::LowerBF16MmaSyncPassBase;

  void runOnOperation() override {
    SmallVector<nvgpu::MmaSyncOp> ops;
    getOperation()->walk([&](nvgpu::MmaSyncOp op) {
      if (cast<VectorType>(op.getMatrixA().getType()).getElementType().isBF16())
        ops.push_back(op);
    });
    for (nvgpu::MmaSyncOp op : ops) {
      MLIRContext *ctx = op.getContext();
      Type bf16 = BFloat16Type::get(ctx), f32 = Float32Type::get(ctx);
      auto vec = [&](ArrayRef<int64_t> shape, Type t) {
        return VectorType::get(shape, t);
      };
      SmallVector<int64_t> shape = llvm::to_vector(
          llvm::map_range(op.getMmaShape().getAsValueRange<IntegerAttr>(),
                          [](const APInt &v) { return v.getSExtValue(); }));
      if (shape != SmallVector<int64_t>{16, 8, 16} ||
          op.getMatrixA().getType() != vec({4, 2}, bf16) ||
          op.getMatrixB().getType() != vec({2, 2}, bf16) ||
          op.getMatrixC().getType() != vec({2, 2}, f32)) {
        op.emitOpError() << "bf16 mma.sync other than m16n8k16 with "
                            "vector<4x2xbf16>, vector<2x2xbf16> and f32 "
                            "accumulators is not supported";
        return signalPassFailure();
      }
      ImplicitLocOpBuilder b(op.getLoc(), op);
      Type i32 = b.getI32Type();
      // Row r of a fragment: the 32-bit register of PTX's elements
      // {2r, 2r + 1} (the first in the low half).
      auto registers = [&](Value frag, int64_t rows) {
        SmallVector<Value> regs;
        for (int64_t r = 0; r < rows; ++r) {
          Value row = vector::ExtractOp::create(b, frag, ArrayRef<int64_t>{r});
          Value word =
              vector::BitCastOp::create(b, vec({1}, i32), row).getResult();
          regs.push_back(
              vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0}));
        }
        return regs;
      };
      SmallVector<Value> c;
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t e = 0; e < 2; ++e)
          c.push_back(vector::ExtractOp::create(b, op.getMatrixC(),
                                                ArrayRef<int64_t>{r, e}));
      auto structType =
          LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
      Value d = NVVM::MmaOp::create(
          b, structType, registers(op.getMatrixA(), 4),
          registers(op.getMatrixB(), 2), c, ArrayRef<int64_t>{16, 8, 16},
          std::nullopt, std::nullopt,
          std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                        NVVM::MMATypes::bf16},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                         NVVM::MMALayout::col});
      SmallVector<Value> elements;
      for (int64_t e = 0; e < 4; ++e)
        elements.push_back(LLVM::ExtractValueOp::create(b, d, e));
      op.replaceAllUsesWith(
          vector::FromElementsOp::create(b, vec({2, 2}, f32), elements)
              .getResult());
      op.erase();
    }
  }
};

} // namespace
