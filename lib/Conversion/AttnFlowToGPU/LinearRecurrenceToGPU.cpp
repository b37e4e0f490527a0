//===- LinearRecurrenceToGPU.cpp - linear_recurrence as a CUDA kernel -----===//
//
// attnflow.linear_recurrence becomes one gpu.launch doing a block-level
// reduce-then-scan (Blelloch 1990, §1.4) with the combine
// (A_j A_i, A_j b_i + b_j). A block owns one batch element and a lane of the
// state: 32 state columns (diagonal a; grid [ceil(N / 32), B], 32 x 8
// threads) or the whole state (dense a, N <= 16; grid [1, B], 64 threads for
// N <= 8, 32 above, which keeps the pairs within 48 KiB of shared memory).
// Each thread owns a contiguous time segment of its lane:
// 1. it reduces its segment to (A_s, b_s) (product of the a's, state from a
//    zero start) and stores the pair in shared memory;
// 2. the first segment's thread of each lane scans the pairs in order from
//    h0, storing the carry into every segment;
// 3. every thread reruns its segment from its carry and writes the states.
// States are carried in f32 (f64 for f64) and rounded once when stored.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/Passes.h"
#include "attnflow/Dialect/AttnFlow/IR/AttentionUtils.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attnflow {
#define GEN_PASS_DEF_CONVERTLINEARRECURRENCETOGPUPASS
#include "attnflow/Conversion/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
/// Diagonal: state columns per block and time segments per column.
constexpr int64_t kColumns = 32;
constexpr int64_t kDiagonalSegments = 8;
/// Dense: time segments (threads) per block, halved for N above
/// kSmallDenseN so that the segment pairs (N x N + N each) stay within the
/// 48 KiB of shared memory a launch gets without opting in; the largest N a
/// thread carries (an N x N product: registers up to N = 8, local memory
/// beyond).
constexpr int64_t kDenseSegments = 64;
constexpr int64_t kSmallDenseN = 8;
constexpr int64_t kMaxDenseN = 16;
/// CUDA's limit on grid y (the batch).
constexpr int64_t kMaxGridY = 65535;

Value idx(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

/// A scf.for over [lb, ub) carrying `init`; `body` returns the next values.
SmallVector<Value> forLoop(
    ImplicitLocOpBuilder &b, Value lb, Value ub, ValueRange init,
    function_ref<SmallVector<Value>(ImplicitLocOpBuilder &, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(
      b, lb, ub, idx(b, 1), init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        scf::YieldOp::create(nb, body(nb, iv, args));
      });
  return loop.getResults();
}

/// Emits `body` under scf.if `cond` (no results), or unguarded when `cond`
/// is null.
void ifThen(ImplicitLocOpBuilder &b, Value cond,
            function_ref<void(ImplicitLocOpBuilder &)> body) {
  if (!cond)
    return body(b);
  auto ifOp = scf::IfOp::create(b, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  body(b);
}

struct RecurrenceKernel {
  LinearRecurrenceOp op;
  int64_t batch, length, n;
  bool dense, reverse;
  Type elementType;
  FloatType accType;
  /// State entries a thread carries (N dense, 1 diagonal), columns of a
  /// block, time segments per lane and steps per segment.
  int64_t width, columns, segments, segmentLength;

  explicit RecurrenceKernel(LinearRecurrenceOp op) : op(op) {
    auto bType = cast<RankedTensorType>(op.getB().getType());
    batch = bType.getDimSize(0);
    length = bType.getDimSize(1);
    n = bType.getDimSize(2);
    dense = op.isDense();
    reverse = op.getReverse();
    elementType = bType.getElementType();
    accType = getAccumulatorType(elementType);
    width = dense ? n : 1;
    columns = dense ? 1 : kColumns;
    segments = !dense              ? kDiagonalSegments
               : n <= kSmallDenseN ? kDenseSegments
                                   : kDenseSegments / 2;
    segmentLength = llvm::divideCeil(length, segments);
  }

  LogicalResult check() {
    if (dense && n > kMaxDenseN)
      return op.emitOpError()
             << "on the GPU supports dense a with N <= " << kMaxDenseN
             << " (the per-thread N x N chunk product), got N = " << n;
    if (batch > kMaxGridY)
      return op.emitOpError() << "on the GPU supports B <= " << kMaxGridY
                              << " (CUDA's grid y), got " << batch;
    return success();
  }

  /// Element `indices` of `buffer`, widened to the accumulator type.
  Value load(ImplicitLocOpBuilder &b, Value buffer, ValueRange indices) {
    return castFloat(b, memref::LoadOp::create(b, buffer, indices), accType);
  }

  /// a_t (width x width entries, row-major) and b_t (width) of batch `bi`
  /// at column `col` (diagonal) or the whole state (dense).
  std::pair<SmallVector<Value>, SmallVector<Value>>
  loadStep(ImplicitLocOpBuilder &b, Value a, Value bBuf, Value bi, Value t,
           Value col) {
    SmallVector<Value> aT, bT;
    for (int64_t i = 0; i < width; ++i) {
      Value row = dense ? idx(b, i) : col;
      bT.push_back(load(b, bBuf, {bi, t, row}));
      if (!dense) {
        aT.push_back(load(b, a, {bi, t, col}));
        continue;
      }
      for (int64_t j = 0; j < width; ++j)
        aT.push_back(load(b, a, {bi, t, row, idx(b, j)}));
    }
    return {aT, bT};
  }

  /// m (width x width) times x (width x cols, row-major), plus `add`
  /// (width x cols) when given.
  SmallVector<Value> multiply(ImplicitLocOpBuilder &b, ArrayRef<Value> m,
                              ArrayRef<Value> x, int64_t cols,
                              ArrayRef<Value> add = {}) {
    SmallVector<Value> result;
    for (int64_t i = 0; i < width; ++i)
      for (int64_t k = 0; k < cols; ++k) {
        Value sum = add.empty() ? Value() : add[i * cols + k];
        for (int64_t j = 0; j < width; ++j) {
          Value prod =
              arith::MulFOp::create(b, m[i * width + j], x[j * cols + k]);
          sum = sum ? Value(arith::AddFOp::create(b, sum, prod)) : prod;
        }
        result.push_back(sum);
      }
    return result;
  }

  /// The physical step of logical step s.
  Value physical(ImplicitLocOpBuilder &b, Value s) {
    return reverse ? arith::SubIOp::create(b, idx(b, length - 1), s) : s;
  }

  void lower(ImplicitLocOpBuilder &b) {
    auto toBuffer = [&](Value tensor) -> Value {
      auto type = cast<RankedTensorType>(tensor.getType());
      return bufferization::ToBufferOp::create(
          b, MemRefType::get(type.getShape(), type.getElementType()), tensor,
          /*read_only=*/true);
    };
    Value a = toBuffer(op.getA()), bBuf = toBuffer(op.getB());
    Value h0 = op.getH0() ? toBuffer(op.getH0()) : Value();
    auto outType = cast<RankedTensorType>(op.getResult().getType());
    Value out = memref::AllocOp::create(
        b, MemRefType::get(outType.getShape(), elementType));

    // Shared memory: pairs (A_s, b_s) then carries, per (segment, column).
    int64_t lanes = segments * columns;
    int64_t pairElems = lanes * (width * width + width);
    int64_t carryElems = lanes * width;
    int64_t bytes = (pairElems + carryElems) * accType.getWidth() / 8;
    int64_t threads = columns * segments;
    int64_t gridX = dense ? 1 : llvm::divideCeil(n, kColumns);
    auto launch = gpu::LaunchOp::create(
        b, idx(b, gridX), idx(b, batch), idx(b, 1), idx(b, threads), idx(b, 1),
        idx(b, 1), arith::ConstantIntOp::create(b, b.getI32Type(), bytes));
    OpBuilder::InsertionGuard guard(b);
    Block &block = launch.getBody().front();
    b.setInsertionPointToEnd(&block);
    gpu::TerminatorOp::create(b);
    b.setInsertionPointToStart(&block);

    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                                gpu::AddressSpace::Workgroup);
    Value smem = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), nullptr,
                           workgroup));
    auto view = [&](int64_t elems, int64_t offsetElems) -> Value {
      return memref::ViewOp::create(
          b, MemRefType::get({elems}, accType, nullptr, workgroup), smem,
          idx(b, offsetElems * accType.getWidth() / 8), ValueRange{});
    };
    Value pairs = view(pairElems, 0);
    Value carries = view(carryElems, pairElems);

    Value tid = launch.getThreadIds().x;
    Value bi = launch.getBlockIds().y;
    Value colLocal = arith::RemUIOp::create(b, tid, idx(b, columns));
    Value seg = arith::DivUIOp::create(b, tid, idx(b, columns));
    Value col = arith::AddIOp::create(
        b, arith::MulIOp::create(b, launch.getBlockIds().x, idx(b, columns)),
        colLocal);
    // Columns past N idle (diagonal); a dense block has no idle thread.
    Value valid = dense ? Value()
                        : Value(arith::CmpIOp::create(
                              b, arith::CmpIPredicate::slt, col, idx(b, n)));
    Value s0 = arith::MinSIOp::create(
        b, arith::MulIOp::create(b, seg, idx(b, segmentLength)),
        idx(b, length));
    Value s1 = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, s0, idx(b, segmentLength)), idx(b, length));
    // Entry e of lane (segment, column) in the pair / carry arrays.
    int64_t pairSize = width * width + width;
    auto pairIndex = [&](ImplicitLocOpBuilder &nb, Value segment,
                         int64_t e) -> Value {
      Value lane = arith::AddIOp::create(
          nb, arith::MulIOp::create(nb, segment, idx(nb, columns)), colLocal);
      return arith::AddIOp::create(
          nb, arith::MulIOp::create(nb, lane, idx(nb, pairSize)), idx(nb, e));
    };
    auto carryIndex = [&](ImplicitLocOpBuilder &nb, Value segment,
                          int64_t e) -> Value {
      Value lane = arith::AddIOp::create(
          nb, arith::MulIOp::create(nb, segment, idx(nb, columns)), colLocal);
      return arith::AddIOp::create(
          nb, arith::MulIOp::create(nb, lane, idx(nb, width)), idx(nb, e));
    };
    Value zero = createFloatConstant(b, accType, 0.0);
    Value one = createFloatConstant(b, accType, 1.0);

    // 1. (A_s, b_s) of the thread's segment.
    ifThen(b, valid, [&](ImplicitLocOpBuilder &ib) {
      SmallVector<Value> init;
      for (int64_t i = 0; i < width; ++i)
        for (int64_t j = 0; j < width; ++j)
          init.push_back(i == j ? one : zero);
      init.append(width, zero);
      SmallVector<Value> pair =
          forLoop(ib, s0, s1, init,
                  [&](ImplicitLocOpBuilder &lb, Value s, ValueRange args) {
                    auto [aT, bT] =
                        loadStep(lb, a, bBuf, bi, physical(lb, s), col);
                    SmallVector<Value> prodA(args.take_front(width * width));
                    SmallVector<Value> stateB(args.drop_front(width * width));
                    SmallVector<Value> next = multiply(lb, aT, prodA, width);
                    llvm::append_range(next, multiply(lb, aT, stateB, 1, bT));
                    return next;
                  });
      for (auto [e, value] : llvm::enumerate(pair))
        memref::StoreOp::create(ib, value, pairs,
                                ValueRange{pairIndex(ib, seg, e)});
    });
    gpu::BarrierOp::create(b);

    // 2. The carries, in segment order, by each lane's first thread.
    Value first =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, seg, idx(b, 0));
    if (valid)
      first = arith::AndIOp::create(b, valid, first);
    ifThen(b, first, [&](ImplicitLocOpBuilder &ib) {
      SmallVector<Value> init;
      for (int64_t i = 0; i < width; ++i)
        init.push_back(h0 ? load(ib, h0, {bi, dense ? idx(ib, i) : col})
                          : zero);
      forLoop(ib, idx(ib, 0), idx(ib, segments), init,
              [&](ImplicitLocOpBuilder &lb, Value s, ValueRange carry) {
                SmallVector<Value> prodA, stateB;
                for (int64_t e = 0; e < pairSize; ++e) {
                  Value v = memref::LoadOp::create(
                      lb, pairs, ValueRange{pairIndex(lb, s, e)});
                  (e < width * width ? prodA : stateB).push_back(v);
                }
                for (auto [e, value] : llvm::enumerate(carry))
                  memref::StoreOp::create(lb, value, carries,
                                          ValueRange{carryIndex(lb, s, e)});
                return multiply(lb, prodA, SmallVector<Value>(carry), 1,
                                stateB);
              });
    });
    gpu::BarrierOp::create(b);

    // 3. Every segment from its carry, writing the states.
    ifThen(b, valid, [&](ImplicitLocOpBuilder &ib) {
      SmallVector<Value> init;
      for (int64_t e = 0; e < width; ++e)
        init.push_back(memref::LoadOp::create(
            ib, carries, ValueRange{carryIndex(ib, seg, e)}));
      forLoop(ib, s0, s1, init,
              [&](ImplicitLocOpBuilder &lb, Value s, ValueRange h) {
                Value t = physical(lb, s);
                auto [aT, bT] = loadStep(lb, a, bBuf, bi, t, col);
                SmallVector<Value> next =
                    multiply(lb, aT, SmallVector<Value>(h), 1, bT);
                for (auto [i, value] : llvm::enumerate(next))
                  memref::StoreOp::create(
                      lb, castFloat(lb, value, elementType), out,
                      ValueRange{bi, t, dense ? idx(lb, i) : col});
                return next;
              });
    });

    b.setInsertionPointAfter(launch);
    Value result = bufferization::ToTensorOp::create(
        b, outType, out, /*restrict=*/true, /*writable=*/true);
    op.getResult().replaceAllUsesWith(result);
    op.erase();
  }
};

struct ConvertLinearRecurrenceToGPUPass
    : mlir::attnflow::impl::ConvertLinearRecurrenceToGPUPassBase<
          ConvertLinearRecurrenceToGPUPass> {
  void runOnOperation() override {
    SmallVector<LinearRecurrenceOp> ops;
    getOperation()->walk([&](LinearRecurrenceOp op) { ops.push_back(op); });
    for (LinearRecurrenceOp op : ops) {
      RecurrenceKernel kernel(op);
      if (failed(kernel.check()))
        return signalPassFailure();
      ImplicitLocOpBuilder b(op.getLoc(), op);
      kernel.lower(b);
    }
  }
};
} // namespace
