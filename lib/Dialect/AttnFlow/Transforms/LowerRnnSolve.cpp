//===- LowerRnnSolve.cpp - DEER Newton solves of nonlinear RNNs -----------===//
//
// Rewrites attnflow.rnn_solve with method newton / quasi_newton into the
// DEER iteration (Lim et al. 2024, eq. 5-7; quasi-DEER: Gonzalez et al.
// 2024): an scf.while whose body evaluates the cell and its Jacobian at every
// (b, t) in an scf.forall, solves the linearized recurrence with
// attnflow.linear_recurrence and measures the change. Passes.td describes the
// form.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"
#include "attnflow/Dialect/AttnFlow/IR/RegionUtils.h"
#include "attnflow/Dialect/AttnFlow/Transforms/ForwardModeJacobian.h"
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <limits>

namespace mlir::attnflow {
#define GEN_PASS_DEF_LOWERRNNSOLVEPASS
#include "attnflow/Dialect/AttnFlow/Transforms/Passes.h.inc"
} // namespace mlir::attnflow

using namespace mlir;
using namespace mlir::attnflow;

namespace {
constexpr utils::IteratorType kPar = utils::IteratorType::parallel;
constexpr utils::IteratorType kRed = utils::IteratorType::reduction;

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> values) {
  SmallVector<OpFoldResult> result;
  for (int64_t value : values)
    result.push_back(b.getIndexAttr(value));
  return result;
}

/// The [1, 1, rest...] slice of `source` at (b, t, 0, ...), rank-reduced to
/// `rest`.
Value stepSlice(ImplicitLocOpBuilder &b, Value source, Value bi, Value ti,
                ArrayRef<int64_t> rest) {
  auto type = cast<RankedTensorType>(source.getType());
  SmallVector<OpFoldResult> offsets{bi, ti};
  SmallVector<int64_t> sizes{1, 1};
  for (int64_t size : rest) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(size);
  }
  return tensor::ExtractSliceOp::create(
      b, RankedTensorType::get(rest, type.getElementType()), source, offsets,
      indexAttrs(b, sizes),
      indexAttrs(b, SmallVector<int64_t>(sizes.size(), 1)));
}

/// Writes `value` (shape `rest`) into the [1, 1, rest...] slice at (b, t)
/// of the forall's shared output `dest`.
void insertStep(ImplicitLocOpBuilder &b, Value value, Value dest, Value bi,
                Value ti) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> offsets{bi, ti};
  SmallVector<int64_t> sizes{1, 1};
  for (int64_t size : type.getShape()) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(size);
  }
  tensor::ParallelInsertSliceOp::create(
      b, value, dest, offsets, indexAttrs(b, sizes),
      indexAttrs(b, SmallVector<int64_t>(sizes.size(), 1)));
}

class DeerLowering {
public:
  DeerLowering(RnnSolveOp op, bool gpu)
      : op(op), quasi(op.getMethod() == RnnMethod::quasi_newton), gpu(gpu) {
    auto statesType = cast<RankedTensorType>(op.getStates().getType());
    batch = statesType.getDimSize(0);
    steps = statesType.getDimSize(1);
    n = statesType.getDimSize(2);
    m = cast<RankedTensorType>(op.getU().getType()).getDimSize(2);
    element = statesType.getElementType();
  }

  LogicalResult lower() {
    ImplicitLocOpBuilder b(op.getLoc(), op);
    Type i64 = b.getI64Type();
    Type f64 = b.getF64Type();
    // h^(0)_t = h0 for every t.
    Value initial =
        linalg::BroadcastOp::create(b, op.getH0(), empty(b, {batch, steps, n}),
                                    ArrayRef<int64_t>{1})
            ->getResult(0);
    Value zero = arith::ConstantOp::create(b, b.getI64IntegerAttr(0));
    Value infinity =
        createFloatConstant(b, f64, std::numeric_limits<double>::infinity());
    bool ok = true;
    auto loop = scf::WhileOp::create(
        b, TypeRange{initial.getType(), i64, f64},
        ValueRange{initial, zero, infinity},
        [&](OpBuilder &nested, Location loc, ValueRange args) {
          // Continue while updates remain and the last change did not meet
          // the tolerance: a NaN change (a diverged iterate) is not
          // convergence, so it runs to max_iterations (DESIGN §3).
          ImplicitLocOpBuilder nb(loc, nested);
          Value more = arith::CmpIOp::create(
              nb, arith::CmpIPredicate::slt, args[1],
              arith::ConstantOp::create(
                  nb, nb.getI64IntegerAttr(op.getMaxIterations())));
          Value above = arith::CmpFOp::create(
              nb, arith::CmpFPredicate::UGT, args[2],
              createFloatConstant(nb, f64,
                                  op.getTolerance().convertToDouble()));
          scf::ConditionOp::create(nb, arith::AndIOp::create(nb, more, above),
                                   args);
        },
        [&](OpBuilder &nested, Location loc, ValueRange args) {
          ImplicitLocOpBuilder nb(loc, nested);
          FailureOr<std::pair<Value, Value>> next = update(nb, args[0]);
          if (failed(next)) {
            ok = false;
            scf::YieldOp::create(nb, args);
            return;
          }
          Value iterate = next->first;
          // On the GPU the iterate is overwritten in place (after the change
          // read it), so one buffer serves every update.
          if (gpu)
            iterate =
                linalg::CopyOp::create(nb, iterate, args[0])->getResult(0);
          Value one = arith::ConstantOp::create(nb, nb.getI64IntegerAttr(1));
          scf::YieldOp::create(
              nb, ValueRange{iterate, arith::AddIOp::create(nb, args[1], one),
                             next->second});
        });
    if (!ok) {
      loop->erase();
      return failure();
    }
    Value iters =
        gpu ? deviceScalar(b, loop.getResult(1))
            : tensor::FromElementsOp::create(b, op.getIters().getType(),
                                             ValueRange{loop.getResult(1)});
    op.replaceAllUsesWith(ValueRange{loop.getResult(0), iters});
    op.erase();
    return success();
  }

private:
  Value empty(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape) {
    return createEmptyTensor(b, shape, element);
  }

  /// One Newton update of the iterate `states`: returns the next iterate and
  /// max |next - states| as f64.
  FailureOr<std::pair<Value, Value>> update(ImplicitLocOpBuilder &b,
                                            Value states) {
    // h_{t-1} of the iterate at every t (h_{-1} = h0).
    Value prev = tensor::InsertSliceOp::create(
        b, op.getH0(), empty(b, {batch, steps, n}), indexAttrs(b, {0, 0, 0}),
        indexAttrs(b, {batch, 1, n}), indexAttrs(b, {1, 1, 1}));
    if (steps > 1) {
      Value head = tensor::ExtractSliceOp::create(
          b, states, indexAttrs(b, {0, 0, 0}),
          indexAttrs(b, {batch, steps - 1, n}), indexAttrs(b, {1, 1, 1}));
      prev = tensor::InsertSliceOp::create(
          b, head, prev, indexAttrs(b, {0, 1, 0}),
          indexAttrs(b, {batch, steps - 1, n}), indexAttrs(b, {1, 1, 1}));
    }
    FailureOr<std::pair<Value, Value>> cell = evaluateCells(b, prev);
    if (failed(cell))
      return failure();
    auto [f, a] = *cell;
    Value bias = linearizedBias(b, f, a, prev);
    Value next = LinearRecurrenceOp::create(b, states.getType(), a, bias,
                                            op.getH0(), /*reverse=*/false);
    return std::make_pair(next, maxChange(b, next, states));
  }

  /// f(h_{t-1}, u_t) and A_t = df/dh (its diagonal for quasi-Newton) at
  /// every (b, t), in an scf.forall over B x T.
  FailureOr<std::pair<Value, Value>> evaluateCells(ImplicitLocOpBuilder &b,
                                                   Value prev) {
    SmallVector<int64_t> jacobianShape{n};
    if (!quasi)
      jacobianShape.push_back(n);
    SmallVector<int64_t> aShape{batch, steps};
    aShape.append(jacobianShape);
    auto forall = scf::ForallOp::create(
        b, indexAttrs(b, {batch, steps}),
        ValueRange{empty(b, {batch, steps, n}), empty(b, aShape)},
        std::nullopt);
    ImplicitLocOpBuilder body(op.getLoc(), forall.getTerminator());
    Value bi = forall.getInductionVars()[0];
    Value ti = forall.getInductionVars()[1];
    SmallVector<Value> args{stepSlice(body, prev, bi, ti, {n}),
                            stepSlice(body, op.getU(), bi, ti, {m})};
    llvm::append_range(args, op.getParams());
    JacobianForm form = quasi ? JacobianForm::Diagonal : JacobianForm::Dense;
    Value f, jacobian;
    if (op.hasJacobian()) {
      f = inlineRegionBody(body, op.getCell(), args).front();
      jacobian = inlineRegionBody(body, op.getJacobian(), args).front();
      if (quasi && cast<RankedTensorType>(jacobian.getType()).getRank() == 2)
        jacobian = emitDiagonal(body, body.getLoc(), jacobian);
    } else {
      FailureOr<CellAndJacobian> derived = emitCellAndJacobian(
          body, body.getLoc(), op.getCell().front(), args, form);
      if (failed(derived)) {
        forall->erase();
        return failure();
      }
      f = derived->state;
      jacobian = derived->jacobian;
    }
    body.setInsertionPointToEnd(forall.getTerminator().getBody());
    ValueRange shared = forall.getRegionIterArgs();
    insertStep(body, f, shared[0], bi, ti);
    insertStep(body, jacobian, shared[1], bi, ti);
    return std::make_pair(forall.getResult(0), forall.getResult(1));
  }

  /// b_t = f_t - A_t h_{t-1}.
  Value linearizedBias(ImplicitLocOpBuilder &b, Value f, Value a, Value prev) {
    MLIRContext *ctx = b.getContext();
    auto body = [](ImplicitLocOpBuilder &nb, ValueRange args) {
      Value ah = arith::MulFOp::create(nb, args[0], args[1]);
      Value bias = arith::SubFOp::create(nb, args[2], ah);
      linalg::YieldOp::create(nb, bias);
    };
    if (quasi)
      return createGeneric(
          b, f, {a, prev},
          {getDimsMap(ctx, 3, {0, 1, 2}), getDimsMap(ctx, 3, {0, 1, 2})},
          getDimsMap(ctx, 3, {0, 1, 2}), {kPar, kPar, kPar}, body);
    return createGeneric(
        b, f, {a, prev},
        {getDimsMap(ctx, 4, {0, 1, 2, 3}), getDimsMap(ctx, 4, {0, 1, 3})},
        getDimsMap(ctx, 4, {0, 1, 2}), {kPar, kPar, kPar, kRed}, body);
  }

  /// The 0-d tensor holding `value`, written by a one-element generic: a
  /// kernel on the GPU, where host code cannot store to buffers. (Not a
  /// fill: canonicalization would fold the reshape into a rank-0 fill.)
  Value deviceScalar(ImplicitLocOpBuilder &b, Value value) {
    Value one = createGeneric(b, createEmptyTensor(b, {1}, value.getType()), {},
                              {}, getDimsMap(b.getContext(), 1, {0}), {kPar},
                              [&](ImplicitLocOpBuilder &nb, ValueRange) {
                                linalg::YieldOp::create(nb, value);
                              });
    return tensor::CollapseShapeOp::create(b, op.getIters().getType(), one,
                                           ArrayRef<ReassociationIndices>{});
  }

  /// max |x - y| over all elements, as f64 (computed in f32 for f16 / bf16).
  Value maxChange(ImplicitLocOpBuilder &b, Value x, Value y) {
    MLIRContext *ctx = b.getContext();
    Type compute =
        element.getIntOrFloatBitWidth() < 32 ? b.getF32Type() : element;
    if (gpu)
      return maxChangeStaged(b, x, y, compute);
    Value init = createFilledTensor(b, {}, compute,
                                    createFloatConstant(b, compute, 0.0));
    AffineMap all = getDimsMap(ctx, 3, {0, 1, 2});
    Value max = createGeneric(
        b, init, {x, y}, {all, all}, getDimsMap(ctx, 3, {}), {kRed, kRed, kRed},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value diff =
              arith::SubFOp::create(nb, castFloat(nb, args[0], compute),
                                    castFloat(nb, args[1], compute));
          Value max = arith::MaximumFOp::create(nb, args[2],
                                                math::AbsFOp::create(nb, diff));
          linalg::YieldOp::create(nb, max);
        });
    Value scalar = tensor::ExtractOp::create(b, max, ValueRange{});
    return castFloat(b, scalar, b.getF64Type());
  }

  /// maxChange in three reductions that each keep a parallel dimension
  /// (over N into [B, T], over T into [B], over B into [1]), so each is a
  /// kernel; host code then reads back the one element.
  Value maxChangeStaged(ImplicitLocOpBuilder &b, Value x, Value y,
                        Type compute) {
    MLIRContext *ctx = b.getContext();
    Value zero = createFloatConstant(b, compute, 0.0);
    auto absDiff = [&](ImplicitLocOpBuilder &nb, ValueRange args) {
      Value diff = arith::SubFOp::create(nb, castFloat(nb, args[0], compute),
                                         castFloat(nb, args[1], compute));
      Value max = arith::MaximumFOp::create(nb, args[2],
                                            math::AbsFOp::create(nb, diff));
      linalg::YieldOp::create(nb, max);
    };
    auto maxOf = [](ImplicitLocOpBuilder &nb, ValueRange args) {
      Value max = arith::MaximumFOp::create(nb, args[0], args[1]);
      linalg::YieldOp::create(nb, max);
    };
    AffineMap all = getDimsMap(ctx, 3, {0, 1, 2});
    Value perStep = createGeneric(
        b, createFilledTensor(b, {batch, steps}, compute, zero), {x, y},
        {all, all}, getDimsMap(ctx, 3, {0, 1}), {kPar, kPar, kRed}, absDiff);
    Value perRow =
        createGeneric(b, createFilledTensor(b, {batch}, compute, zero),
                      {perStep}, {getDimsMap(ctx, 2, {0, 1})},
                      getDimsMap(ctx, 2, {0}), {kPar, kRed}, maxOf);
    Value total = createGeneric(b, createFilledTensor(b, {1}, compute, zero),
                                {perRow}, {getDimsMap(ctx, 2, {1})},
                                getDimsMap(ctx, 2, {0}), {kPar, kRed}, maxOf);
    Value index = arith::ConstantIndexOp::create(b, 0);
    Value scalar = tensor::ExtractOp::create(b, total, ValueRange{index});
    return castFloat(b, scalar, b.getF64Type());
  }

  RnnSolveOp op;
  bool quasi;
  bool gpu;
  int64_t batch, steps, n, m;
  Type element;
};

/// rnn_solve sequential for the GPU: a host loop over t whose step runs the
/// cell for every b in an scf.forall (one kernel), reading h_{t-1} from and
/// writing h_t into the states in place, so no buffer is carried between
/// steps. (The reference decomposition nests the cell in loops over b and t
/// carrying h, which GPU host code cannot run.)
void lowerSequentialForGPU(RnnSolveOp op) {
  ImplicitLocOpBuilder b(op.getLoc(), op);
  auto statesType = cast<RankedTensorType>(op.getStates().getType());
  int64_t batch = statesType.getDimSize(0), steps = statesType.getDimSize(1),
          n = statesType.getDimSize(2);
  int64_t m = cast<RankedTensorType>(op.getU().getType()).getDimSize(2);
  // One step at time `t`; `fromH0` reads h_{-1} = h0 instead of the states.
  auto step = [&](ImplicitLocOpBuilder &sb, Value states, Value t,
                  bool fromH0) {
    auto forall = scf::ForallOp::create(sb, indexAttrs(sb, {batch}),
                                        ValueRange{states}, std::nullopt);
    ImplicitLocOpBuilder body(op.getLoc(), forall.getTerminator());
    Value bi = forall.getInductionVars()[0];
    Value out = forall.getRegionIterArgs()[0];
    Value prev;
    if (fromH0) {
      prev = tensor::ExtractSliceOp::create(
          body, RankedTensorType::get({n}, statesType.getElementType()),
          op.getH0(), SmallVector<OpFoldResult>{bi, body.getIndexAttr(0)},
          indexAttrs(body, {1, n}), indexAttrs(body, {1, 1}));
    } else {
      Value tPrev = arith::SubIOp::create(
          body, t, arith::ConstantIndexOp::create(body, 1));
      prev = stepSlice(body, out, bi, tPrev, {n});
    }
    SmallVector<Value> args{prev, stepSlice(body, op.getU(), bi, t, {m})};
    llvm::append_range(args, op.getParams());
    Value h = inlineRegionBody(body, op.getCell(), args).front();
    body.setInsertionPointToEnd(forall.getTerminator().getBody());
    insertStep(body, h, out, bi, t);
    return forall.getResult(0);
  };
  Value first = step(
      b,
      createEmptyTensor(b, statesType.getShape(), statesType.getElementType()),
      arith::ConstantIndexOp::create(b, 0), /*fromH0=*/true);
  auto loop = scf::ForOp::create(
      b, arith::ConstantIndexOp::create(b, 1),
      arith::ConstantIndexOp::create(b, steps),
      arith::ConstantIndexOp::create(b, 1), ValueRange{first},
      [&](OpBuilder &nested, Location loc, Value t, ValueRange iter) {
        ImplicitLocOpBuilder nb(loc, nested);
        scf::YieldOp::create(nb, step(nb, iter[0], t, /*fromH0=*/false));
      });
  Value iters = arith::ConstantOp::create(
      b, DenseElementsAttr::get(cast<RankedTensorType>(op.getIters().getType()),
                                b.getI64IntegerAttr(1)));
  op.replaceAllUsesWith(ValueRange{loop.getResult(0), iters});
  op.erase();
}

struct LowerRnnSolvePass
    : public mlir::attnflow::impl::LowerRnnSolvePassBase<LowerRnnSolvePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<RnnSolveOp> solves;
    getOperation()->walk([&](RnnSolveOp op) {
      if (gpu || op.getMethod() != RnnMethod::sequential)
        solves.push_back(op);
    });
    for (RnnSolveOp op : solves) {
      if (op.getMethod() == RnnMethod::sequential)
        lowerSequentialForGPU(op);
      else if (failed(DeerLowering(op, gpu).lower()))
        return signalPassFailure();
    }
  }
};
} // namespace
