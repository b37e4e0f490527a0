//===- LinearAttentionToGPU.cpp - Linear-time attention as CUDA kernels ---===//
//
// attnflow.linear_attention becomes gpu.launch kernels whose cost is
// O(S * M * Dv) (DESIGN.md §3), the GPU counterpart of
// --attnflow-chunk-linear-attention:
//
// 1. favor_plus only: one logits kernel per operand (q with Hq heads, k with
//    Hkv heads), grid [ceil(S / kFeatureRows), H, B], writing the FAVOR+
//    logits l = sqrt(scale) W x - scale |x|^2 / 2 - ln(M) / 2 of every row
//    to an f32 buffer [B, H, S, M]. relu / elu_plus_one need no kernel: phi
//    is applied to q and k as they are staged.
// 2. One scan kernel, grid [ceil(Dv / kSlice), Hq, B]: the block of
//    (value slice, query head h, batch b) keeps the running state
//    S = phi(K)^T V [M, kSlice] and z = phi(K)^T 1 [M] of kv head
//    h / (Hq / Hkv) in shared memory and walks chunks of L rows in order:
//    - causal: o_i = (phi(q_i) S + sum_{j <= i in chunk} (phi(q_i).phi(k_j))
//      v_j) / (phi(q_i) z + sum_j phi(q_i).phi(k_j) + eps), then the chunk's
//      keys enter S and z (Katharopoulos et al. 2020, eq. 9 - 12, chunked);
//    - non-causal: every key chunk enters S and z, then every query chunk
//      is phi(q_i) S / (phi(q_i) z + eps).
//    FAVOR+ is stabilised as on the CPU: phi(k) = exp(l - B) with B the
//    largest key logit of (b, kv head) (a block reduction over the logits
//    buffer before the scan), phi(q_i) = exp(l_i - A_i) with A_i the row's
//    largest logit; the common factor exp(-(A_i + B)) cancels between
//    numerator and denominator, and eps is rescaled by it.
//
// attnflow.vq_attention (Lingle 2024, Transformer-VQ, §3.3) likewise:
// 1. A codes kernel, grid [ceil(Skv / 64), Hkv, B] of 64 threads, writes
//    each key's nearest code to an i64 buffer [B, Hkv, Skv].
// 2. A scan kernel, grid [ceil(Dv / kSlice), Hq, B], carrying per-code counts
//    and value sums (the aggregates) in shared memory: a query chunk weighs
//    every code by exp(scale q . c - m) (the log-count form: m is the row
//    max of scale q . c + ln n_c and of the exact scores), adds the exact
//    scores of its own block of keys (causal), then those keys enter the
//    aggregates; non-causal, all keys enter them first. Cost
//    O(S (C + L) (D + Dv)).
//
// Threads (kThreads = 256, rowThreads = 256 / L per chunk row): thread t
// owns chunk row i = t / rowThreads and, within it, the key columns
// t % rowThreads + rowThreads n of the intra-chunk products and the value
// columns t % rowThreads + rowThreads n of the output; row maxima are
// xor-shuffles over the row's threads. For the state update, thread t owns
// the value column t % 32 of state rows t / 32 + 8 n. f16 / bf16 are
// widened to f32 when staged; everything is computed in f32 and the output
// rounded once.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>
#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTLINEARATTENTIONTOGPUPASS
#include "attnflow/Conversion/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kWarpSize = 32;
/// Value columns per scan block; one per lane in the state update.
constexpr int64_t kSlice = kWarpSize;
/// Rows per block of the logits kernel.
constexpr int64_t kFeatureRows = 16;
/// The NVVM lowering places dynamic shared memory after a 16-byte static
/// symbol, which counts against the same per-block limit.
constexpr int64_t kStaticSharedBytes = 16;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Grid sizes (positive operands).
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Shared-memory plan of a scan block (f32 arrays): phi(Q) and phi(K) of a
/// chunk [L][M + 1] (padded so the rows a warp reads fall in distinct
/// banks), V [L][kSlice], the causal intra-chunk products [L][L + 1], the
/// state S [M][kSlice] and z [M], and 8 words for the key-max reduction.
struct ScanLayout {
  int64_t chunk, numFeatures;
  bool causal;

  int64_t featureElems() const { return chunk * (numFeatures + 1); }
  int64_t bytes() const {
    int64_t elems = 2 * featureElems() + chunk * kSlice +
                    (causal ? chunk * (chunk + 1) : 0) +
                    numFeatures * (kSlice + 1) + kThreads / kWarpSize;
    return 4 * elems;
  }
};

/// Index and f32 arithmetic of kernel bodies.
struct Emitter {
  ImplicitLocOpBuilder &b;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value toF32(Value v) {
    return v.getType().isF32()
               ? v
               : Value(arith::ExtFOp::create(b, b.getF32Type(), v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value mul(Value x, int64_t c) { return arith::MulIOp::create(b, x, idx(c)); }
  Value div(Value x, int64_t c) { return arith::DivUIOp::create(b, x, idx(c)); }
  Value rem(Value x, int64_t c) { return arith::RemUIOp::create(b, x, idx(c)); }
  Value minIdx(Value x, int64_t bound) {
    return arith::MinSIOp::create(b, x, idx(bound));
  }
  Value lt(Value x, Value bound) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x, bound);
  }
  Value lt(Value x, int64_t bound) { return lt(x, idx(bound)); }
  /// x clamped to [0, size - 1], and whether 0 <= x < size.
  Value clampIdx(Value x, int64_t size) {
    return arith::MaxSIOp::create(b, minIdx(x, size - 1), idx(0));
  }
  Value inRange(Value x, int64_t size) {
    return arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, x, idx(0)),
        lt(x, size));
  }
  Value fmax(Value x, Value y) { return arith::MaximumFOp::create(b, x, y); }
  Value fma(Value x, Value y, Value acc) {
    return math::FmaOp::create(b, x, y, acc);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, c, x, y);
  }

  /// scf.for from `lower` to `upper` by `step` carrying `init`; `body`
  /// returns the next carried values.
  using LoopBody = function_ref<SmallVector<Value>(ImplicitLocOpBuilder &,
                                                   Value, ValueRange)>;
  SmallVector<Value> loop(Value lower, Value upper, int64_t step,
                          ValueRange init, LoopBody body) {
    auto forOp = scf::ForOp::create(
        b, b.getLoc(), lower, upper, idx(step), init,
        [&](OpBuilder &nb, Location loc, Value iv, ValueRange iters) {
          ImplicitLocOpBuilder ib(loc, nb);
          scf::YieldOp::create(ib, body(ib, iv, iters));
        });
    return SmallVector<Value>(forOp.getResults());
  }
  /// The same without carried values.
  void forEach(Value lower, Value upper, int64_t step,
               function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
    loop(lower, upper, step, {},
         [&](ImplicitLocOpBuilder &ib, Value iv, ValueRange) {
           body(ib, iv);
           return SmallVector<Value>();
         });
  }
  void ifThen(Value condition,
              function_ref<void(ImplicitLocOpBuilder &)> then) {
    scf::IfOp::create(b, condition, [&](OpBuilder &tb, Location loc) {
      ImplicitLocOpBuilder ib(loc, tb);
      then(ib);
      scf::YieldOp::create(ib);
    });
  }

  /// Max or sum of `v` over the 2 * `largestOffset` lanes whose ids differ
  /// in the bits below it.
  Value xorReduce(Value v, bool max, int32_t largestOffset) {
    for (int32_t offset = largestOffset; offset > 0; offset /= 2) {
      Value other =
          gpu::ShuffleOp::create(b, v, offset, kWarpSize, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      v = max ? fmax(v, other) : Value(arith::AddFOp::create(b, v, other));
    }
    return v;
  }
};

/// A read-only buffer of a tensor operand.
Value toBuffer(ImplicitLocOpBuilder &b, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

/// What a kernel body sees: its block ids, thread id and dynamic shared
/// memory (carved into views by `carve`).
struct LaunchContext {
  Value blockX, blockY, blockZ, tid, smem;
  int64_t offset = 0;

  /// A [rows][cols] f32 view at the next free offset of the shared memory.
  Value carve(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    Value view = memref::ViewOp::create(
        b, MemRefType::get(shape, b.getF32Type(), nullptr, workgroup), smem,
        arith::ConstantIndexOp::create(b, offset), ValueRange{});
    int64_t elems = 1;
    for (int64_t size : shape)
      elems *= size;
    offset += 4 * elems;
    return view;
  }
};

/// Emits a gpu.launch of `threads` threads over `grid` with `sharedBytes` of
/// dynamic shared memory at b's insertion point; `body` fills it.
void emitLaunch(
    ImplicitLocOpBuilder &b, std::array<int64_t, 3> grid, int64_t sharedBytes,
    function_ref<void(ImplicitLocOpBuilder &, LaunchContext &)> body,
    int64_t threads = kThreads) {
  Emitter e{b};
  auto launch = gpu::LaunchOp::create(
      b, e.idx(grid[0]), e.idx(grid[1]), e.idx(grid[2]), e.idx(threads),
      e.idx(1), e.idx(1),
      sharedBytes ? arith::ConstantIntOp::create(b, b.getI32Type(), sharedBytes)
                  : Value());
  OpBuilder::InsertionGuard guard(b);
  Block &block = launch.getBody().front();
  b.setInsertionPointToEnd(&block);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&block);
  LaunchContext context;
  context.blockX = launch.getBlockIds().x;
  context.blockY = launch.getBlockIds().y;
  context.blockZ = launch.getBlockIds().z;
  context.tid = launch.getThreadIds().x;
  if (sharedBytes) {
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    context.smem = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr,
                           workgroup));
  }
  body(b, context);
}

/// Stages v[bIdx, kvHead, start + r, col0 + c] (widened to f32) into
/// dest[r][c], r < rows, c < kSlice, with all kThreads threads; rows outside
/// [0, Skv) and columns past Dv are 0 (they add nothing to a state).
void stageValueRows(ImplicitLocOpBuilder &b, Value v, Value bIdx, Value kvHead,
                    Value start, Value col0, int64_t rows, Value dest,
                    Value tid) {
  auto type = cast<MemRefType>(v.getType());
  int64_t seq = type.getDimSize(2), headDimV = type.getDimSize(3);
  Emitter{b}.forEach(
      tid, Emitter{b}.idx(rows * kSlice), kThreads,
      [&](ImplicitLocOpBuilder &sb, Value f) {
        Emitter t{sb};
        Value r = t.div(f, kSlice), c = t.rem(f, kSlice);
        Value row = t.add(start, r), col = t.add(col0, c);
        Value value = t.toF32(memref::LoadOp::create(
            sb, v,
            ValueRange{bIdx, kvHead, t.clampIdx(row, seq),
                       t.minIdx(col, headDimV - 1)}));
        Value keep =
            arith::AndIOp::create(sb, t.inRange(row, seq), t.lt(col, headDimV));
        memref::StoreOp::create(sb, t.select(keep, value, t.f32(0.0)), dest,
                                ValueRange{r, c});
      });
}

/// Stores 0 into every element of the shared [rows][cols] view `view`, with
/// all kThreads threads.
void zeroShared(ImplicitLocOpBuilder &b, Value view, Value tid) {
  ArrayRef<int64_t> shape = cast<MemRefType>(view.getType()).getShape();
  int64_t cols = shape[1];
  Emitter{b}.forEach(tid, Emitter{b}.idx(shape[0] * cols), kThreads,
                     [&](ImplicitLocOpBuilder &ib, Value f) {
                       Emitter t{ib};
                       memref::StoreOp::create(
                           ib, t.f32(0.0), view,
                           ValueRange{t.div(f, cols), t.rem(f, cols)});
                     });
}

/// Walks the chunks [c0, c0 + chunk) for c0 = begin, begin + chunk, ... <
/// end in order; each starts with a barrier: the previous chunk's readers of
/// shared memory are done before it is restaged.
void forEachChunk(ImplicitLocOpBuilder &b, int64_t begin, int64_t end,
                  int64_t chunk,
                  function_ref<void(ImplicitLocOpBuilder &, Value)> body) {
  Emitter e{b};
  e.forEach(e.idx(begin), e.idx(end), chunk,
            [&](ImplicitLocOpBuilder &ib, Value c0) {
              gpu::BarrierOp::create(ib);
              body(ib, c0);
            });
}

/// Stores the f32 `value`, rounded to the element type of `out`
/// ([B, H, S, Dv]), at out[bIdx, head, row, col] when row and col are in
/// bounds.
void storeOutput(ImplicitLocOpBuilder &b, Value value, Value out, Value bIdx,
                 Value head, Value row, Value col) {
  Emitter t{b};
  auto type = cast<MemRefType>(out.getType());
  if (!type.getElementType().isF32())
    value = arith::TruncFOp::create(b, type.getElementType(), value);
  t.ifThen(arith::AndIOp::create(b, t.lt(row, type.getDimSize(2)),
                                 t.lt(col, type.getDimSize(3))),
           [&](ImplicitLocOpBuilder &sb) {
             memref::StoreOp::create(sb, value, out,
                                     ValueRange{bIdx, head, row, col});
           });
}

/// The sizes both ops share: q [B, Hq, Sq, D], k [B, Hkv, Skv, D],
/// v [B, Hkv, Skv, Dv]; query head h reads kv head h / group.
struct AttentionSizes {
  Type elementType;
  int64_t batch, numHeads, numKvHeads, seqQ, seqKv, headDim, headDimV, group;

  AttentionSizes(Value q, Value k, Value v) {
    auto qType = cast<RankedTensorType>(q.getType());
    auto kType = cast<RankedTensorType>(k.getType());
    elementType = qType.getElementType();
    batch = qType.getDimSize(0);
    numHeads = qType.getDimSize(1);
    seqQ = qType.getDimSize(2);
    headDim = qType.getDimSize(3);
    numKvHeads = kType.getDimSize(1);
    seqKv = kType.getDimSize(2);
    headDimV = cast<RankedTensorType>(v.getType()).getDimSize(3);
    group = numHeads / numKvHeads;
  }
};

//===----------------------------------------------------------------------===//
// attnflow.linear_attention
//===----------------------------------------------------------------------===//

struct LinearAttentionKernels : AttentionSizes {
  LinearAttentionOp op;
  FeatureMap featureMap;
  bool favor, causal;
  double scale, eps;
  int64_t numFeatures;
  ScanLayout layout;
  // Buffers; the logits are null unless favor_plus.
  Value q, k, v, projection, logitsQ, logitsK, out;

  explicit LinearAttentionKernels(LinearAttentionOp op)
      : AttentionSizes(op.getQ(), op.getK(), op.getV()), op(op) {
    featureMap = op.getFeatureMap();
    favor = featureMap == FeatureMap::favor_plus;
    causal = op.getCausal();
    scale = op.getEffectiveScale();
    eps = op.getEps().convertToDouble();
    numFeatures = favor ? op.getProjection().getType().getDimSize(0) : headDim;
  }

  /// The chunk length of the scan: 32 rows, 16 when that does not fit
  /// `sharedMemoryLimit`; none (a diagnostic) when neither does.
  LogicalResult chooseLayout(int64_t sharedMemoryLimit) {
    // Checked first so that the byte counts cannot overflow.
    constexpr int64_t kMaxFeatures = 1 << 16;
    if (numFeatures > kMaxFeatures)
      return op.emitOpError()
             << "has M = " << numFeatures
             << " features; the GPU lowering supports at most " << kMaxFeatures;
    for (int64_t chunk : {32, 16}) {
      layout = ScanLayout{chunk, numFeatures, causal};
      if (layout.bytes() + kStaticSharedBytes <= sharedMemoryLimit)
        return success();
    }
    return op.emitOpError()
           << "has M = " << numFeatures << " features, whose scan needs "
           << layout.bytes() << " bytes of shared memory per block (chunks of "
           << layout.chunk << " rows, plus " << kStaticSharedBytes
           << " static), more than the target's " << sharedMemoryLimit;
  }

  /// phi of relu / elu_plus_one on an f32 value.
  Value plainFeature(Emitter &e, Value x) {
    Value zero = e.f32(0.0);
    if (featureMap == FeatureMap::relu)
      return e.fmax(x, zero);
    Value positive =
        arith::CmpFOp::create(e.b, arith::CmpFPredicate::OGT, x, zero);
    // exp of a positive x may overflow; it is not selected.
    return e.select(positive, arith::AddFOp::create(e.b, x, e.f32(1.0)),
                    math::ExpOp::create(e.b, x));
  }

  /// The logits kernel of `x` ([B, H, S, D] buffer) into `logits`
  /// ([B, H, S, M] f32): a block stages kFeatureRows rows scaled by
  /// sqrt(scale) and their squared norms; thread t computes features
  /// t + kThreads n of every row.
  void emitLogitsKernel(ImplicitLocOpBuilder &b, Value x, Value logits,
                        int64_t heads, int64_t seq) {
    int64_t sharedBytes = 4 * kFeatureRows * (headDim + 1);
    emitLaunch(
        b, {ceilDiv(seq, kFeatureRows), heads, batch}, sharedBytes,
        [&](ImplicitLocOpBuilder &kb, LaunchContext &ctx) {
          Emitter e{kb};
          Value rows = ctx.carve(kb, {kFeatureRows, headDim});
          Value norms = ctx.carve(kb, {kFeatureRows, 1});
          Value row0 = e.mul(ctx.blockX, kFeatureRows);
          Value root = e.f32(std::sqrt(scale));
          e.forEach(ctx.tid, e.idx(kFeatureRows * headDim), kThreads,
                    [&](ImplicitLocOpBuilder &ib, Value f) {
                      Emitter t{ib};
                      Value r = t.div(f, headDim), d = t.rem(f, headDim);
                      Value row = t.minIdx(t.add(row0, r), seq - 1);
                      Value value = t.toF32(memref::LoadOp::create(
                          ib, x, ValueRange{ctx.blockZ, ctx.blockY, row, d}));
                      memref::StoreOp::create(
                          ib, arith::MulFOp::create(ib, value, root), rows,
                          ValueRange{r, d});
                    });
          gpu::BarrierOp::create(kb);
          // |x'|^2 / 2 + ln(M) / 2 of each row, by its first thread.
          e.ifThen(e.lt(ctx.tid, kFeatureRows), [&](ImplicitLocOpBuilder &ib) {
            Emitter t{ib};
            Value sum = t.loop(t.idx(0), t.idx(headDim), 1, {t.f32(0.0)},
                               [&](ImplicitLocOpBuilder &lb, Value d,
                                   ValueRange acc) -> SmallVector<Value> {
                                 Emitter l{lb};
                                 Value xd = memref::LoadOp::create(
                                     lb, rows, ValueRange{ctx.tid, d});
                                 return {l.fma(xd, xd, acc[0])};
                               })[0];
            Value shift = arith::AddFOp::create(
                ib, arith::MulFOp::create(ib, sum, t.f32(0.5)),
                t.f32(std::log(static_cast<double>(numFeatures)) / 2));
            memref::StoreOp::create(ib, shift, norms,
                                    ValueRange{ctx.tid, t.idx(0)});
          });
          gpu::BarrierOp::create(kb);
          e.forEach(ctx.tid, e.idx(numFeatures), kThreads,
                    [&](ImplicitLocOpBuilder &ib, Value m) {
                      Emitter t{ib};
                      SmallVector<Value> zeros(kFeatureRows, t.f32(0.0));
                      SmallVector<Value> dots =
                          t.loop(t.idx(0), t.idx(headDim), 1, zeros,
                                 [&](ImplicitLocOpBuilder &lb, Value d,
                                     ValueRange acc) -> SmallVector<Value> {
                                   Emitter l{lb};
                                   Value w = l.toF32(memref::LoadOp::create(
                                       lb, projection, ValueRange{m, d}));
                                   SmallVector<Value> next;
                                   for (int64_t r = 0; r < kFeatureRows; ++r)
                                     next.push_back(l.fma(
                                         memref::LoadOp::create(
                                             lb, rows, ValueRange{l.idx(r), d}),
                                         w, acc[r]));
                                   return next;
                                 });
                      for (int64_t r = 0; r < kFeatureRows; ++r) {
                        Value row = t.add(row0, t.idx(r));
                        Value shift = memref::LoadOp::create(
                            ib, norms, ValueRange{t.idx(r), t.idx(0)});
                        Value logit = arith::SubFOp::create(ib, dots[r], shift);
                        t.ifThen(t.lt(row, seq), [&](ImplicitLocOpBuilder &sb) {
                          memref::StoreOp::create(
                              sb, logit, logits,
                              ValueRange{ctx.blockZ, ctx.blockY, row, m});
                        });
                      }
                    });
        });
  }

  /// The scan kernel (file comment).
  void emitScanKernel(ImplicitLocOpBuilder &b) {
    const int64_t chunk = layout.chunk, features = numFeatures;
    const int64_t rowThreads = kThreads / chunk;
    const int64_t colsV = kSlice / rowThreads;
    const int64_t colsA = chunk / rowThreads;
    emitLaunch(
        b, {ceilDiv(headDimV, kSlice), numHeads, batch}, layout.bytes(),
        [&](ImplicitLocOpBuilder &kb, LaunchContext &ctx) {
          Emitter e{kb};
          Value tid = ctx.tid, bIdx = ctx.blockZ, head = ctx.blockY;
          Value kvHead = e.div(head, group);
          Value col0 = e.mul(ctx.blockX, kSlice);
          Value phiQ = ctx.carve(kb, {chunk, features + 1});
          Value phiK = ctx.carve(kb, {chunk, features + 1});
          Value vShared = ctx.carve(kb, {chunk, kSlice});
          Value intra = causal ? ctx.carve(kb, {chunk, chunk + 1}) : Value();
          Value state = ctx.carve(kb, {features, kSlice});
          Value sums = ctx.carve(kb, {features, 1});
          Value warpMax = ctx.carve(kb, {kThreads / kWarpSize, 1});
          Value zeroIdx = e.idx(0);

          // B: the largest key logit of (batch, kv head).
          Value keyMax;
          if (favor) {
            Value partial =
                e.loop(tid, e.idx(seqKv * features), kThreads, {e.f32(-kInf)},
                       [&](ImplicitLocOpBuilder &ib, Value f,
                           ValueRange acc) -> SmallVector<Value> {
                         Emitter t{ib};
                         Value l = memref::LoadOp::create(
                             ib, logitsK,
                             ValueRange{bIdx, kvHead, t.div(f, features),
                                        t.rem(f, features)});
                         return {t.fmax(acc[0], l)};
                       })[0];
            partial = e.xorReduce(partial, /*max=*/true, kWarpSize / 2);
            e.ifThen(arith::CmpIOp::create(kb, arith::CmpIPredicate::eq,
                                           e.rem(tid, kWarpSize), zeroIdx),
                     [&](ImplicitLocOpBuilder &ib) {
                       memref::StoreOp::create(
                           ib, partial, warpMax,
                           ValueRange{Emitter{ib}.div(tid, kWarpSize),
                                      Emitter{ib}.idx(0)});
                     });
            gpu::BarrierOp::create(kb);
            keyMax = e.f32(-kInf);
            for (int64_t w = 0; w < kThreads / kWarpSize; ++w)
              keyMax = e.fmax(keyMax,
                              memref::LoadOp::create(
                                  kb, warpMax, ValueRange{e.idx(w), zeroIdx}));
          }

          // S = 0, z = 0 (the first chunk's barrier orders these stores
          // before their readers).
          zeroShared(kb, state, tid);
          zeroShared(kb, sums, tid);

          // phi of rows [c0, c0 + chunk) of q (isQuery) or k into `dest`;
          // rows past the sequence are 0. For favor_plus q this stages the
          // logits (shifted by rowFeatures).
          auto stageFeatures = [&](ImplicitLocOpBuilder &ib, Value c0,
                                   bool isQuery, Value dest) {
            int64_t seq = isQuery ? seqQ : seqKv;
            Value h = isQuery ? head : kvHead;
            Emitter{ib}.forEach(
                tid, Emitter{ib}.idx(chunk * features), kThreads,
                [&](ImplicitLocOpBuilder &sb, Value f) {
                  Emitter t{sb};
                  Value r = t.div(f, features), m = t.rem(f, features);
                  Value row = t.add(c0, r);
                  Value at[] = {bIdx, h, t.minIdx(row, seq - 1), m};
                  Value value;
                  if (favor) {
                    value = memref::LoadOp::create(
                        sb, isQuery ? logitsQ : logitsK, at);
                    if (!isQuery)
                      value = math::ExpOp::create(
                          sb, arith::SubFOp::create(sb, value, keyMax));
                  } else {
                    value = plainFeature(t, t.toF32(memref::LoadOp::create(
                                                sb, isQuery ? q : k, at)));
                  }
                  value = t.select(t.lt(row, seq), value, t.f32(0.0));
                  memref::StoreOp::create(sb, value, dest, ValueRange{r, m});
                });
          };
          auto stageValues = [&](ImplicitLocOpBuilder &ib, Value c0) {
            stageValueRows(ib, v, bIdx, kvHead, c0, col0, chunk, vShared, tid);
          };

          Value row = e.div(tid, rowThreads);
          Value lane = e.rem(tid, rowThreads);
          // favor_plus: A_i, the row's largest query logit, divided out of
          // its staged features (each thread rewrites the entries it read).
          auto queryShift = [&](ImplicitLocOpBuilder &ib) -> Value {
            Emitter t{ib};
            Value rowMax = t.loop(
                lane, t.idx(features), rowThreads, {t.f32(-kInf)},
                [&](ImplicitLocOpBuilder &lb, Value m,
                    ValueRange acc) -> SmallVector<Value> {
                  return {Emitter{lb}.fmax(
                      acc[0],
                      memref::LoadOp::create(lb, phiQ, ValueRange{row, m}))};
                })[0];
            rowMax = t.xorReduce(rowMax, /*max=*/true, rowThreads / 2);
            t.forEach(lane, t.idx(features), rowThreads,
                      [&](ImplicitLocOpBuilder &lb, Value m) {
                        Value l = memref::LoadOp::create(lb, phiQ,
                                                         ValueRange{row, m});
                        memref::StoreOp::create(
                            lb,
                            math::ExpOp::create(
                                lb, arith::SubFOp::create(lb, l, rowMax)),
                            phiQ, ValueRange{row, m});
                      });
            gpu::BarrierOp::create(ib);
            return rowMax;
          };

          // Output row i of the chunk at c0: phi(q_i) S (+ the masked
          // intra-chunk products when causal), normalised.
          auto emitOutput = [&](ImplicitLocOpBuilder &ib, Value c0,
                                Value rowShift) {
            Emitter t{ib};
            SmallVector<Value> cols;
            for (int64_t n = 0; n < colsV; ++n)
              cols.push_back(t.add(lane, t.idx(rowThreads * n)));
            SmallVector<Value> init(colsV + 1, t.f32(0.0));
            SmallVector<Value> acc = t.loop(
                t.idx(0), t.idx(features), 1, init,
                [&](ImplicitLocOpBuilder &lb, Value m,
                    ValueRange a) -> SmallVector<Value> {
                  Emitter l{lb};
                  Value qf =
                      memref::LoadOp::create(lb, phiQ, ValueRange{row, m});
                  SmallVector<Value> next;
                  for (int64_t n = 0; n < colsV; ++n)
                    next.push_back(l.fma(qf,
                                         memref::LoadOp::create(
                                             lb, state, ValueRange{m, cols[n]}),
                                         a[n]));
                  next.push_back(l.fma(
                      qf,
                      memref::LoadOp::create(lb, sums, ValueRange{m, l.idx(0)}),
                      a[colsV]));
                  return next;
                });
            if (causal)
              acc = t.loop(
                  t.idx(0), t.idx(chunk), 1, acc,
                  [&](ImplicitLocOpBuilder &lb, Value j,
                      ValueRange a) -> SmallVector<Value> {
                    Emitter l{lb};
                    Value w =
                        memref::LoadOp::create(lb, intra, ValueRange{row, j});
                    SmallVector<Value> next;
                    for (int64_t n = 0; n < colsV; ++n)
                      next.push_back(
                          l.fma(w,
                                memref::LoadOp::create(lb, vShared,
                                                       ValueRange{j, cols[n]}),
                                a[n]));
                    next.push_back(arith::AddFOp::create(lb, a[colsV], w));
                    return next;
                  });
            // eps is added to the unstabilised normaliser: favor_plus
            // divided it by exp(A_i + B).
            Value denominator = acc[colsV];
            if (eps != 0) {
              Value epsilon =
                  favor ? Value(math::ExpOp::create(
                              ib,
                              arith::SubFOp::create(
                                  ib, t.f32(std::log(eps)),
                                  arith::AddFOp::create(ib, rowShift, keyMax))))
                        : t.f32(eps);
              denominator = arith::AddFOp::create(ib, denominator, epsilon);
            }
            Value outRow = t.add(c0, row);
            for (int64_t n = 0; n < colsV; ++n) {
              Value value = arith::DivFOp::create(ib, acc[n], denominator);
              if (favor) {
                // The exact FAVOR+ normaliser is > 0: 0 here is underflow
                // of every shifted term; output 0, not 0 / 0.
                Value positive = arith::CmpFOp::create(
                    ib, arith::CmpFPredicate::OGT, denominator, t.f32(0.0));
                value = t.select(positive, value, t.f32(0.0));
              }
              storeOutput(ib, value, out, bIdx, head, outRow,
                          t.add(col0, cols[n]));
            }
          };

          // S += phi(K_c)^T V_c, z += phi(K_c)^T 1.
          auto updateState = [&](ImplicitLocOpBuilder &ib) {
            Emitter t{ib};
            Value col = t.rem(tid, kSlice);
            t.forEach(
                t.div(tid, kSlice), t.idx(features), kThreads / kSlice,
                [&](ImplicitLocOpBuilder &lb, Value m) {
                  Emitter l{lb};
                  Value s0 =
                      memref::LoadOp::create(lb, state, ValueRange{m, col});
                  Value s = l.loop(
                      l.idx(0), l.idx(chunk), 1, {s0},
                      [&](ImplicitLocOpBuilder &jb, Value j,
                          ValueRange a) -> SmallVector<Value> {
                        return {Emitter{jb}.fma(
                            memref::LoadOp::create(jb, phiK, ValueRange{j, m}),
                            memref::LoadOp::create(jb, vShared,
                                                   ValueRange{j, col}),
                            a[0])};
                      })[0];
                  memref::StoreOp::create(lb, s, state, ValueRange{m, col});
                });
            t.forEach(
                tid, t.idx(features), kThreads,
                [&](ImplicitLocOpBuilder &lb, Value m) {
                  Emitter l{lb};
                  Value z0 =
                      memref::LoadOp::create(lb, sums, ValueRange{m, l.idx(0)});
                  Value z = l.loop(l.idx(0), l.idx(chunk), 1, {z0},
                                   [&](ImplicitLocOpBuilder &jb, Value j,
                                       ValueRange a) -> SmallVector<Value> {
                                     return {arith::AddFOp::create(
                                         jb, a[0],
                                         memref::LoadOp::create(
                                             jb, phiK, ValueRange{j, m}))};
                                   })[0];
                  memref::StoreOp::create(lb, z, sums, ValueRange{m, l.idx(0)});
                });
          };

          if (!causal) {
            forEachChunk(kb, 0, seqKv, chunk,
                         [&](ImplicitLocOpBuilder &ib, Value c0) {
                           stageFeatures(ib, c0, /*isQuery=*/false, phiK);
                           stageValues(ib, c0);
                           gpu::BarrierOp::create(ib);
                           updateState(ib);
                         });
            forEachChunk(kb, 0, seqQ, chunk,
                         [&](ImplicitLocOpBuilder &ib, Value c0) {
                           stageFeatures(ib, c0, /*isQuery=*/true, phiQ);
                           gpu::BarrierOp::create(ib);
                           Value shift = favor ? queryShift(ib) : Value();
                           emitOutput(ib, c0, shift);
                         });
            return;
          }
          forEachChunk(
              kb, 0, seqQ, chunk, [&](ImplicitLocOpBuilder &ib, Value c0) {
                stageFeatures(ib, c0, /*isQuery=*/true, phiQ);
                stageFeatures(ib, c0, /*isQuery=*/false, phiK);
                stageValues(ib, c0);
                gpu::BarrierOp::create(ib);
                Value shift = favor ? queryShift(ib) : Value();
                // phi(q_i) . phi(k_j) for j <= i, 0 above the diagonal.
                Emitter t{ib};
                SmallVector<Value> keys;
                for (int64_t n = 0; n < colsA; ++n)
                  keys.push_back(t.add(lane, t.idx(rowThreads * n)));
                SmallVector<Value> dots =
                    t.loop(t.idx(0), t.idx(features), 1,
                           SmallVector<Value>(colsA, t.f32(0.0)),
                           [&](ImplicitLocOpBuilder &lb, Value m,
                               ValueRange a) -> SmallVector<Value> {
                             Emitter l{lb};
                             Value qf = memref::LoadOp::create(
                                 lb, phiQ, ValueRange{row, m});
                             SmallVector<Value> next;
                             for (int64_t n = 0; n < colsA; ++n)
                               next.push_back(
                                   l.fma(qf,
                                         memref::LoadOp::create(
                                             lb, phiK, ValueRange{keys[n], m}),
                                         a[n]));
                             return next;
                           });
                for (int64_t n = 0; n < colsA; ++n) {
                  Value visible = arith::CmpIOp::create(
                      ib, arith::CmpIPredicate::sle, keys[n], row);
                  memref::StoreOp::create(
                      ib, t.select(visible, dots[n], t.f32(0.0)), intra,
                      ValueRange{row, keys[n]});
                }
                gpu::BarrierOp::create(ib);
                emitOutput(ib, c0, shift);
                // The state's readers are done before it is updated.
                gpu::BarrierOp::create(ib);
                updateState(ib);
              });
        });
  }

  void lower() {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    q = toBuffer(b, op.getQ());
    k = toBuffer(b, op.getK());
    v = toBuffer(b, op.getV());
    auto outType = op.getOutput().getType();
    out = memref::AllocOp::create(
        b, MemRefType::get(outType.getShape(), elementType));
    if (favor) {
      projection = toBuffer(b, op.getProjection());
      Type f32 = b.getF32Type();
      logitsQ = memref::AllocOp::create(
          b, MemRefType::get({batch, numHeads, seqQ, numFeatures}, f32));
      logitsK = memref::AllocOp::create(
          b, MemRefType::get({batch, numKvHeads, seqKv, numFeatures}, f32));
      emitLogitsKernel(b, q, logitsQ, numHeads, seqQ);
      emitLogitsKernel(b, k, logitsK, numKvHeads, seqKv);
    }
    emitScanKernel(b);
    Value result = bufferization::ToTensorOp::create(
        b, outType, out, /*restrict=*/true, /*writable=*/true);
    op.getOutput().replaceAllUsesWith(result);
    op.erase();
  }
};

//===----------------------------------------------------------------------===//
// attnflow.vq_attention
//===----------------------------------------------------------------------===//

/// Keys (threads) per block of the codes kernel and codes per staged tile.
constexpr int64_t kCodeKeys = 64;
constexpr int64_t kCodeTile = 32;

/// Shared-memory plan of a VQ scan block (f32 arrays): the chunk's q rows
/// scaled by `scale` [L][D + 1], its scores, then weights, against every
/// code [L][C + 1], the causal block's exact weights [L][L + 1], its values
/// [L][kSlice], the per-code value sums [C][kSlice] and counts [C], and a
/// codebook tile [kCodeTile][D + 1] for the scores.
struct VQScanLayout {
  int64_t chunk, headDim, numCodes;
  bool causal;

  int64_t bytes() const {
    return 4 * (chunk * (headDim + 1) + chunk * (numCodes + 1) +
                (causal ? chunk * (chunk + 1) : 0) + chunk * kSlice +
                numCodes * (kSlice + 1) + kCodeTile * (headDim + 1));
  }
};

struct VQAttentionKernels : AttentionSizes {
  VQAttentionOp op;
  bool causal, perHead;
  double scale;
  int64_t numCodes;
  VQScanLayout layout;
  Value q, k, v, codebook, codes, out;

  explicit VQAttentionKernels(VQAttentionOp op)
      : AttentionSizes(op.getQ(), op.getK(), op.getV()), op(op) {
    causal = op.getCausal();
    scale = op.getEffectiveScale();
    auto cbType = op.getCodebook().getType();
    perHead = cbType.getRank() == 3;
    numCodes = cbType.getDimSize(cbType.getRank() - 2);
  }

  int64_t codesKernelBytes() const {
    return 4 * (kCodeKeys * (headDim + 1) + kCodeTile * headDim);
  }

  /// Chunks of 32 query rows, 16 when 32 do not fit; a diagnostic when
  /// neither (or the codes kernel) fits `sharedMemoryLimit`.
  LogicalResult chooseLayout(int64_t sharedMemoryLimit) {
    // Checked first so that the byte counts cannot overflow.
    constexpr int64_t kMaxDim = 1 << 16;
    if (headDim > kMaxDim || numCodes > kMaxDim)
      return op.emitOpError()
             << "has D = " << headDim << " and C = " << numCodes
             << "; the GPU lowering supports at "
             << "most " << kMaxDim << " of each";
    if (codesKernelBytes() + kStaticSharedBytes > sharedMemoryLimit)
      return op.emitOpError()
             << "has D = " << headDim << ", whose quantization kernel needs "
             << codesKernelBytes() << " bytes of shared memory per block (plus "
             << kStaticSharedBytes << " static), more than the target's "
             << sharedMemoryLimit;
    for (int64_t chunk : {32, 16}) {
      layout = VQScanLayout{chunk, headDim, numCodes, causal};
      if (layout.bytes() + kStaticSharedBytes <= sharedMemoryLimit)
        return success();
    }
    return op.emitOpError()
           << "has D = " << headDim << " and C = " << numCodes
           << " codes, whose scan needs " << layout.bytes()
           << " bytes of shared memory per block (chunks of " << layout.chunk
           << " rows, plus " << kStaticSharedBytes
           << " static), more than the target's " << sharedMemoryLimit;
  }

  /// Element (code, d) of the codebook of kv head `kvHead`, in f32.
  Value codeword(Emitter &e, Value kvHead, Value code, Value d) {
    SmallVector<Value> at = {code, d};
    if (perHead)
      at.insert(at.begin(), kvHead);
    return e.toF32(memref::LoadOp::create(e.b, codebook, at));
  }

  /// The codes kernel, grid [ceil(Skv / kCodeKeys), Hkv, B] of kCodeKeys
  /// threads: thread t quantizes key kCodeKeys * x + t (staged in shared
  /// memory) against codebook tiles of kCodeTile rows, with the reference's
  /// arithmetic (squared differences summed over d upwards, the first
  /// minimum wins, so ties go to the lowest code); codes [B, Hkv, Skv] i64.
  void emitCodesKernel(ImplicitLocOpBuilder &b) {
    emitLaunch(
        b, {ceilDiv(seqKv, kCodeKeys), numKvHeads, batch}, codesKernelBytes(),
        [&](ImplicitLocOpBuilder &kb, LaunchContext &ctx) {
          Emitter e{kb};
          Value tid = ctx.tid, bIdx = ctx.blockZ, kvHead = ctx.blockY;
          Value keys = ctx.carve(kb, {kCodeKeys, headDim + 1});
          Value tile = ctx.carve(kb, {kCodeTile, headDim});
          Value key0 = e.mul(ctx.blockX, kCodeKeys);
          e.forEach(tid, e.idx(kCodeKeys * headDim), kCodeKeys,
                    [&](ImplicitLocOpBuilder &ib, Value f) {
                      Emitter t{ib};
                      Value r = t.div(f, headDim), d = t.rem(f, headDim);
                      Value key = t.minIdx(t.add(key0, r), seqKv - 1);
                      memref::StoreOp::create(
                          ib,
                          t.toF32(memref::LoadOp::create(
                              ib, k, ValueRange{bIdx, kvHead, key, d})),
                          keys, ValueRange{r, d});
                    });
          SmallVector<Value> best = e.loop(
              e.idx(0), e.idx(numCodes), kCodeTile, {e.f32(kInf), e.idx(0)},
              [&](ImplicitLocOpBuilder &ib, Value c0,
                  ValueRange carried) -> SmallVector<Value> {
                Emitter t{ib};
                // The previous tile's readers are done (and, the first
                // time, the keys are staged before they are read).
                gpu::BarrierOp::create(ib);
                t.forEach(tid, t.idx(kCodeTile * headDim), kCodeKeys,
                          [&](ImplicitLocOpBuilder &sb, Value f) {
                            Emitter u{sb};
                            Value r = u.div(f, headDim), d = u.rem(f, headDim);
                            Value code = u.minIdx(u.add(c0, r), numCodes - 1);
                            memref::StoreOp::create(
                                sb, codeword(u, kvHead, code, d), tile,
                                ValueRange{r, d});
                          });
                gpu::BarrierOp::create(ib);
                return t.loop(
                    t.idx(0), t.idx(kCodeTile), 1, carried,
                    [&](ImplicitLocOpBuilder &cb, Value r,
                        ValueRange current) -> SmallVector<Value> {
                      Emitter u{cb};
                      Value dist =
                          u.loop(u.idx(0), u.idx(headDim), 1, {u.f32(0.0)},
                                 [&](ImplicitLocOpBuilder &db, Value d,
                                     ValueRange acc) -> SmallVector<Value> {
                                   Value diff = arith::SubFOp::create(
                                       db,
                                       memref::LoadOp::create(
                                           db, keys, ValueRange{tid, d}),
                                       memref::LoadOp::create(
                                           db, tile, ValueRange{r, d}));
                                   return {arith::AddFOp::create(
                                       db, acc[0],
                                       arith::MulFOp::create(db, diff, diff))};
                                 })[0];
                      Value code = u.add(c0, r);
                      Value closer = arith::AndIOp::create(
                          cb,
                          arith::CmpFOp::create(cb, arith::CmpFPredicate::OLT,
                                                dist, current[0]),
                          u.lt(code, numCodes));
                      return {u.select(closer, dist, current[0]),
                              u.select(closer, code, current[1])};
                    });
              });
          Value key = e.add(key0, tid);
          e.ifThen(e.lt(key, seqKv), [&](ImplicitLocOpBuilder &ib) {
            memref::StoreOp::create(
                ib, arith::IndexCastOp::create(ib, ib.getI64Type(), best[1]),
                codes, ValueRange{bIdx, kvHead, key});
          });
        },
        kCodeKeys);
  }

  /// The scan kernel, grid [ceil(Dv / kSlice), Hq, B]: the block of (value
  /// slice, query head, batch) carries the per-code counts n_c and value
  /// sums V_c of the keys before its chunk and walks query chunks of L
  /// rows: with t_ic = scale q_i . c and m_i the row max of t_ic + ln n_c
  /// and of the exact scores, o_i = (sum_c w_ic V_c + sum_j p_ij v_j) /
  /// (sum_c w_ic n_c + sum_j p_ij), w_ic = exp(t_ic - m_i) (0 for an empty
  /// code), p_ij = exp(t_i,code(j) - m_i) for the chunk's visible keys
  /// (causal; Lingle 2024, §3.3). Non-causal: every key enters the
  /// aggregates first and there is no exact part.
  void emitScanKernel(ImplicitLocOpBuilder &b) {
    const int64_t chunk = layout.chunk, codesN = numCodes;
    const int64_t rowThreads = kThreads / chunk;
    const int64_t colsV = kSlice / rowThreads;
    const int64_t colsA = chunk / rowThreads;
    const int64_t qOffset = seqKv - seqQ;
    emitLaunch(
        b, {ceilDiv(headDimV, kSlice), numHeads, batch}, layout.bytes(),
        [&](ImplicitLocOpBuilder &kb, LaunchContext &ctx) {
          Emitter e{kb};
          Value tid = ctx.tid, bIdx = ctx.blockZ, head = ctx.blockY;
          Value kvHead = e.div(head, group);
          Value col0 = e.mul(ctx.blockX, kSlice);
          Value qShared = ctx.carve(kb, {chunk, headDim + 1});
          Value weights = ctx.carve(kb, {chunk, codesN + 1});
          Value exact = causal ? ctx.carve(kb, {chunk, chunk + 1}) : Value();
          Value vShared = ctx.carve(kb, {chunk, kSlice});
          Value sums = ctx.carve(kb, {codesN, kSlice});
          Value counts = ctx.carve(kb, {codesN, 1});
          Value codeTile = ctx.carve(kb, {kCodeTile, headDim + 1});
          Value row = e.div(tid, rowThreads);
          Value lane = e.rem(tid, rowThreads);

          zeroShared(kb, sums, tid);
          zeroShared(kb, counts, tid);

          auto codeOf = [&](Emitter &t, Value key) -> Value {
            return arith::IndexCastOp::create(
                t.b, t.b.getIndexType(),
                memref::LoadOp::create(
                    t.b, codes,
                    ValueRange{bIdx, kvHead, t.clampIdx(key, seqKv)}));
          };
          // Keys [start, start + chunk) below `limit` (staged in vShared)
          // enter the aggregates: one warp, column tid, keys in order (so
          // keys sharing a code never race).
          auto addKeys = [&](ImplicitLocOpBuilder &ib, Value start,
                             int64_t limit) {
            Emitter t{ib};
            t.ifThen(t.lt(tid, kSlice), [&](ImplicitLocOpBuilder &wb) {
              Emitter w{wb};
              w.forEach(
                  w.idx(0), w.idx(chunk), 1,
                  [&](ImplicitLocOpBuilder &jb, Value j) {
                    Emitter u{jb};
                    Value key = u.add(start, j);
                    Value valid = u.inRange(key, limit);
                    Value code = codeOf(u, key);
                    Value sum = arith::AddFOp::create(
                        jb,
                        memref::LoadOp::create(jb, sums, ValueRange{code, tid}),
                        memref::LoadOp::create(jb, vShared,
                                               ValueRange{j, tid}));
                    u.ifThen(valid, [&](ImplicitLocOpBuilder &sb) {
                      memref::StoreOp::create(sb, sum, sums,
                                              ValueRange{code, tid});
                    });
                    u.ifThen(
                        arith::AndIOp::create(
                            jb, valid,
                            arith::CmpIOp::create(jb, arith::CmpIPredicate::eq,
                                                  tid, u.idx(0))),
                        [&](ImplicitLocOpBuilder &sb) {
                          Emitter x{sb};
                          Value n = arith::AddFOp::create(
                              sb,
                              memref::LoadOp::create(
                                  sb, counts, ValueRange{code, x.idx(0)}),
                              x.f32(1.0));
                          memref::StoreOp::create(sb, n, counts,
                                                  ValueRange{code, x.idx(0)});
                        });
                  });
            });
          };
          // Keys [0, end) into the aggregates.
          auto keyPass = [&](int64_t end) {
            forEachChunk(kb, 0, end, chunk,
                         [&](ImplicitLocOpBuilder &ib, Value k0) {
                           stageValueRows(ib, v, bIdx, kvHead, k0, col0, chunk,
                                          vShared, tid);
                           gpu::BarrierOp::create(ib);
                           addKeys(ib, k0, end);
                         });
          };

          if (!causal)
            keyPass(seqKv);
          else if (qOffset > 0)
            keyPass(qOffset);
          forEachChunk(
              kb, 0, seqQ, chunk, [&](ImplicitLocOpBuilder &ib, Value c0) {
                Emitter t{ib};
                Value key0 = t.add(c0, t.idx(qOffset));
                Value rootScale = t.f32(scale);
                t.forEach(tid, t.idx(chunk * headDim), kThreads,
                          [&](ImplicitLocOpBuilder &sb, Value f) {
                            Emitter u{sb};
                            Value r = u.div(f, headDim), d = u.rem(f, headDim);
                            Value qRow = u.minIdx(u.add(c0, r), seqQ - 1);
                            Value x = u.toF32(memref::LoadOp::create(
                                sb, q, ValueRange{bIdx, head, qRow, d}));
                            memref::StoreOp::create(
                                sb, arith::MulFOp::create(sb, x, rootScale),
                                qShared, ValueRange{r, d});
                          });
                if (causal)
                  stageValueRows(ib, v, bIdx, kvHead, key0, col0, chunk,
                                 vShared, tid);
                // t_ic of this thread's codes and its max of t_ic + ln n_c,
                // over codebook tiles staged in shared memory (the first
                // tile's barrier also orders the staging above).
                Value rowMax = t.loop(
                    t.idx(0), t.idx(codesN), kCodeTile, {t.f32(-kInf)},
                    [&](ImplicitLocOpBuilder &cb, Value ct,
                        ValueRange tileMax) -> SmallVector<Value> {
                      Emitter w{cb};
                      // The previous tile's readers are done.
                      gpu::BarrierOp::create(cb);
                      w.forEach(tid, w.idx(kCodeTile * headDim), kThreads,
                                [&](ImplicitLocOpBuilder &sb, Value f) {
                                  Emitter u{sb};
                                  Value r = u.div(f, headDim),
                                        d = u.rem(f, headDim);
                                  Value code =
                                      u.minIdx(u.add(ct, r), codesN - 1);
                                  memref::StoreOp::create(
                                      sb, codeword(u, kvHead, code, d),
                                      codeTile, ValueRange{r, d});
                                });
                      gpu::BarrierOp::create(cb);
                      Value tileCodes = arith::MinSIOp::create(
                          cb, arith::SubIOp::create(cb, w.idx(codesN), ct),
                          w.idx(kCodeTile));
                      return w.loop(
                          lane, tileCodes, rowThreads, tileMax,
                          [&](ImplicitLocOpBuilder &lb, Value r,
                              ValueRange acc) -> SmallVector<Value> {
                            Emitter l{lb};
                            Value s = l.loop(
                                l.idx(0), l.idx(headDim), 1, {l.f32(0.0)},
                                [&](ImplicitLocOpBuilder &db, Value d,
                                    ValueRange a) -> SmallVector<Value> {
                                  return {Emitter{db}.fma(
                                      memref::LoadOp::create(
                                          db, qShared, ValueRange{row, d}),
                                      memref::LoadOp::create(db, codeTile,
                                                             ValueRange{r, d}),
                                      a[0])};
                                })[0];
                            Value c = l.add(ct, r);
                            memref::StoreOp::create(lb, s, weights,
                                                    ValueRange{row, c});
                            Value n = memref::LoadOp::create(
                                lb, counts, ValueRange{c, l.idx(0)});
                            return {
                                l.fmax(acc[0],
                                       arith::AddFOp::create(
                                           lb, s, math::LogOp::create(lb, n)))};
                          });
                    })[0];
                // Exact scores of the chunk's keys j <= i.
                SmallVector<Value> exactScores;
                if (causal) {
                  gpu::BarrierOp::create(ib);
                  for (int64_t n = 0; n < colsA; ++n) {
                    Value j = t.add(lane, t.idx(rowThreads * n));
                    Value key = t.add(key0, j);
                    Value visible = arith::AndIOp::create(
                        ib,
                        arith::CmpIOp::create(ib, arith::CmpIPredicate::sle, j,
                                              row),
                        t.inRange(key, seqKv));
                    Value s = memref::LoadOp::create(
                        ib, weights, ValueRange{row, codeOf(t, key)});
                    s = t.select(visible, s, t.f32(-kInf));
                    exactScores.push_back(s);
                    rowMax = t.fmax(rowMax, s);
                  }
                }
                rowMax = t.xorReduce(rowMax, /*max=*/true, rowThreads / 2);
                // A row without a visible key (max -inf) has only zero weights.
                Value noKey = arith::CmpFOp::create(
                    ib, arith::CmpFPredicate::OEQ, rowMax, t.f32(-kInf));
                Value shift = t.select(noKey, t.f32(0.0), rowMax);
                if (causal) // The exact scores' reads of t_ic are done.
                  gpu::BarrierOp::create(ib);
                Value den = t.loop(
                    lane, t.idx(codesN), rowThreads, {t.f32(0.0)},
                    [&](ImplicitLocOpBuilder &lb, Value c,
                        ValueRange acc) -> SmallVector<Value> {
                      Emitter l{lb};
                      Value n = memref::LoadOp::create(lb, counts,
                                                       ValueRange{c, l.idx(0)});
                      Value s = memref::LoadOp::create(lb, weights,
                                                       ValueRange{row, c});
                      Value w = l.select(
                          arith::CmpFOp::create(lb, arith::CmpFPredicate::OGT,
                                                n, l.f32(0.0)),
                          math::ExpOp::create(
                              lb, arith::SubFOp::create(lb, s, shift)),
                          l.f32(0.0));
                      memref::StoreOp::create(lb, w, weights,
                                              ValueRange{row, c});
                      return {l.fma(w, n, acc[0])};
                    })[0];
                for (int64_t n = 0; n < colsA && causal; ++n) {
                  Value p = math::ExpOp::create(
                      ib, arith::SubFOp::create(ib, exactScores[n], shift));
                  memref::StoreOp::create(
                      ib, p, exact,
                      ValueRange{row, t.add(lane, t.idx(rowThreads * n))});
                  den = arith::AddFOp::create(ib, den, p);
                }
                den = t.xorReduce(den, /*max=*/false, rowThreads / 2);
                gpu::BarrierOp::create(ib);

                SmallVector<Value> cols;
                for (int64_t n = 0; n < colsV; ++n)
                  cols.push_back(t.add(lane, t.idx(rowThreads * n)));
                auto weighted = [&](Value w, Value values, Value limit,
                                    SmallVector<Value> init) {
                  return t.loop(t.idx(0), limit, 1, init,
                                [&](ImplicitLocOpBuilder &lb, Value c,
                                    ValueRange acc) -> SmallVector<Value> {
                                  Emitter l{lb};
                                  Value wc = memref::LoadOp::create(
                                      lb, w, ValueRange{row, c});
                                  SmallVector<Value> next;
                                  for (int64_t n = 0; n < colsV; ++n)
                                    next.push_back(l.fma(
                                        wc,
                                        memref::LoadOp::create(
                                            lb, values, ValueRange{c, cols[n]}),
                                        acc[n]));
                                  return next;
                                });
                };
                SmallVector<Value> num =
                    weighted(weights, sums, t.idx(codesN),
                             SmallVector<Value>(colsV, t.f32(0.0)));
                if (causal)
                  num = weighted(exact, vShared, t.idx(chunk), num);
                Value outRow = t.add(c0, row);
                Value positive = arith::CmpFOp::create(
                    ib, arith::CmpFPredicate::OGT, den, t.f32(0.0));
                for (int64_t n = 0; n < colsV; ++n) {
                  Value value =
                      t.select(positive, arith::DivFOp::create(ib, num[n], den),
                               t.f32(0.0));
                  storeOutput(ib, value, out, bIdx, head, outRow,
                              t.add(col0, cols[n]));
                }
                if (causal) {
                  // The aggregates' readers are done before they change.
                  gpu::BarrierOp::create(ib);
                  addKeys(ib, key0, seqKv);
                }
              });
        });
  }

  void lower() {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    q = toBuffer(b, op.getQ());
    k = toBuffer(b, op.getK());
    v = toBuffer(b, op.getV());
    codebook = toBuffer(b, op.getCodebook());
    auto outType = op.getOutput().getType();
    out = memref::AllocOp::create(
        b, MemRefType::get(outType.getShape(), elementType));
    codes = memref::AllocOp::create(
        b, MemRefType::get({batch, numKvHeads, seqKv}, b.getI64Type()));
    emitCodesKernel(b);
    emitScanKernel(b);
    Value result = bufferization::ToTensorOp::create(
        b, outType, out, /*restrict=*/true, /*writable=*/true);
    op.getOutput().replaceAllUsesWith(result);
    op.erase();
  }
};

/// Whether the kernels take `op`: static, non-empty shapes and an element
/// type the GPU computes in f32 (f64 keeps the reference decomposition).
bool isSupported(Operation *op) {
  for (Type type : op->getOperandTypes()) {
    auto shaped = cast<ShapedType>(type);
    if (!shaped.hasStaticShape() || llvm::is_contained(shaped.getShape(), 0) ||
        shaped.getElementType().isF64())
      return false;
  }
  return true;
}

/// Grid limits of CUDA (y and z at most 65535).
LogicalResult checkGrid(Operation *op, int64_t numHeads, int64_t batch) {
  constexpr int64_t kMaxGridYZ = 65535;
  if (numHeads > kMaxGridYZ || batch > kMaxGridYZ)
    return op->emitOpError()
           << "has Hq = " << numHeads << " and B = " << batch
           << "; the GPU grid holds at most " << kMaxGridYZ << " of each";
  return success();
}

struct ConvertLinearAttentionToGPUPass
    : mlir::attnflow::impl::ConvertLinearAttentionToGPUPassBase<
          ConvertLinearAttentionToGPUPass> {
  using ConvertLinearAttentionToGPUPassBase::
      ConvertLinearAttentionToGPUPassBase;

  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<LinearAttentionOp, VQAttentionOp>(op) && isSupported(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto linear = dyn_cast<LinearAttentionOp>(op)) {
        LinearAttentionKernels kernels(linear);
        if (failed(checkGrid(op, kernels.numHeads, kernels.batch)) ||
            failed(kernels.chooseLayout(sharedMemoryLimit)))
          return signalPassFailure();
        kernels.lower();
        continue;
      }
      VQAttentionKernels kernels(cast<VQAttentionOp>(op));
      if (failed(checkGrid(op, kernels.numHeads, kernels.batch)) ||
          failed(kernels.chooseLayout(sharedMemoryLimit)))
        return signalPassFailure();
      kernels.lower();
    }
  }
};

} // namespace
