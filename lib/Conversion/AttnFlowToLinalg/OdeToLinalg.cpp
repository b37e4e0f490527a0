//===- OdeToLinalg.cpp - ode_solve / ode_step to loops and linalg ---------===//
//
// The reference decomposition of the flow-sampling ops: an scf.for over the
// steps whose body inlines the velocity region once per Runge-Kutta stage and
// combines the stages with elementwise linalg.generic ops. The state is
// updated in place (the step's last generic writes into the loop-carried x),
// and that update is fused into the last stage's velocity producer when it is
// an elementwise generic, so a sampler step writes x once.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/AttnFlowToLinalg/AttnFlowToLinalg.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"
#include "attnflow/Dialect/AttnFlow/IR/RegionUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::attnflow;

namespace {

/// The Butcher tableau of an explicit method (Hairer, Norsett, Wanner,
/// "Solving ODEs I", Table 1.1): stage i evaluates v at t + c[i] h and
/// x + h sum_j a[i][j] k_j; the step adds h sum_i b[i] k_i.
struct Tableau {
  SmallVector<double> c;
  SmallVector<SmallVector<double>> a;
  SmallVector<double> b;
};

Tableau getTableau(OdeMethod method) {
  switch (method) {
  case OdeMethod::euler:
    return {{0.0}, {{}}, {1.0}};
  case OdeMethod::midpoint:
    return {{0.0, 0.5}, {{}, {0.5}}, {0.0, 1.0}};
  case OdeMethod::heun:
    return {{0.0, 1.0}, {{}, {1.0}}, {0.5, 0.5}};
  case OdeMethod::rk4:
    return {{0.0, 0.5, 0.5, 1.0},
            {{}, {0.5}, {0.0, 0.5}, {0.0, 0.0, 1.0}},
            {1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0}};
  }
  llvm_unreachable("unknown ode_method");
}

/// f64 states are combined in f64, every other state type in f32.
Type getComputeType(RankedTensorType stateType) {
  Type element = stateType.getElementType();
  return element.isF64() ? element : Float32Type::get(element.getContext());
}

/// x + dt * sum_j coeffs[j] * ks[j] elementwise, computed in `computeType`
/// and rounded to the state type. With `inPlace`, the result is written into
/// x itself (read through the generic's output argument); otherwise into a
/// fresh tensor.
Value buildCombination(ImplicitLocOpBuilder &b, Value x, ArrayRef<Value> ks,
                       ArrayRef<double> coeffs, Value dt, Type computeType,
                       bool inPlace) {
  auto stateType = cast<RankedTensorType>(x.getType());
  SmallVector<Value> inputs;
  SmallVector<double> used;
  for (auto [k, coeff] : llvm::zip(ks, coeffs))
    if (coeff != 0.0) {
      inputs.push_back(k);
      used.push_back(coeff);
    }
  if (!inPlace)
    inputs.insert(inputs.begin(), x);
  unsigned rank = stateType.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<AffineMap> maps(inputs.size(), identity);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Value init = inPlace ? x
                       : createEmptyTensor(b, stateType.getShape(),
                                           stateType.getElementType());
  return createGeneric(
      b, init, inputs, maps, identity, iterators,
      [&](ImplicitLocOpBuilder &nb, ValueRange args) {
        Value xValue = inPlace ? args.back() : args.front();
        ValueRange kArgs = inPlace ? args.drop_back() : args.drop_front();
        Value sum;
        for (auto [k, coeff] : llvm::zip(kArgs, used)) {
          Value term = castFloat(nb, k, computeType);
          if (coeff != 1.0)
            term = arith::MulFOp::create(
                nb, createFloatConstant(nb, computeType, coeff), term);
          sum = sum ? arith::AddFOp::create(nb, sum, term).getResult() : term;
        }
        Value step = arith::MulFOp::create(nb, dt, sum);
        Value next =
            arith::AddFOp::create(nb, castFloat(nb, xValue, computeType), step);
        linalg::YieldOp::create(
            nb, castFloat(nb, next, stateType.getElementType()));
      });
}

/// Fuses the producer of `update`'s input `k` into `update` when the producer
/// is an elementwise linalg op (a named one is generalized first) used only
/// here, so the velocity's last elementwise op writes the new state directly.
/// Returns the new state.
Value fuseLastProducer(RewriterBase &rewriter, linalg::GenericOp update,
                       Value k) {
  Value next = update.getResult(0);
  auto named = k.getDefiningOp<linalg::LinalgOp>();
  if (named && !isa<linalg::GenericOp>(named) && k.hasOneUse() &&
      linalg::isElementwise(named) && named->getNumResults() == 1) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(named);
    FailureOr<linalg::GenericOp> generic =
        linalg::generalizeNamedOp(rewriter, named);
    if (succeeded(generic))
      k = generic->getResult(0);
  }
  for (OpOperand *operand : update.getDpsInputOperands()) {
    if (operand->get() != k || !k.hasOneUse() ||
        !linalg::areElementwiseOpsFusable(operand))
      continue;
    Operation *producer = k.getDefiningOp();
    FailureOr<linalg::ElementwiseOpFusionResult> fused =
        linalg::fuseElementwiseOps(rewriter, operand);
    if (failed(fused))
      return next;
    Value fusedNext = fused->replacements.lookup(next);
    rewriter.eraseOp(update);
    if (producer->use_empty())
      rewriter.eraseOp(producer);
    return fusedNext;
  }
  return next;
}

/// One step of `method` from (x, t) by dt, t and dt of the compute type;
/// `velocity` is inlined once per stage with (stage x, stage t as f32,
/// params). The last combination updates x in place.
Value buildStep(RewriterBase &rewriter, Location loc, OdeMethod method,
                Region &velocity, Value x, Value t, Value dt,
                ValueRange params) {
  ImplicitLocOpBuilder b(loc, rewriter);
  auto stateType = cast<RankedTensorType>(x.getType());
  Type computeType = getComputeType(stateType);
  Tableau tableau = getTableau(method);
  SmallVector<Value> ks;
  for (auto [stage, c] : llvm::enumerate(tableau.c)) {
    Value stageX = stage == 0
                       ? x
                       : buildCombination(b, x, ks, tableau.a[stage], dt,
                                          computeType, /*inPlace=*/false);
    Value stageT = t;
    if (c != 0.0)
      stageT = arith::AddFOp::create(
          b, t,
          arith::MulFOp::create(b, createFloatConstant(b, computeType, c), dt));
    SmallVector<Value> args = {stageX, castFloat(b, stageT, b.getF32Type())};
    llvm::append_range(args, params);
    ks.push_back(inlineRegionBody(b, velocity, args).front());
  }
  Value next = buildCombination(b, x, ks, tableau.b, dt, computeType,
                                /*inPlace=*/true);
  return fuseLastProducer(rewriter, next.getDefiningOp<linalg::GenericOp>(),
                          ks.back());
}

struct OdeStepToLinalg : OpRewritePattern<OdeStepOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OdeStepOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Type computeType = getComputeType(op.getX().getType());
    Value next =
        buildStep(rewriter, op.getLoc(), op.getMethod(), op.getVelocity(),
                  op.getX(), castFloat(b, op.getT(), computeType),
                  castFloat(b, op.getDt(), computeType), op.getParams());
    rewriter.replaceOp(op, next);
    return success();
  }
};

struct OdeSolveToLinalg : OpRewritePattern<OdeSolveOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OdeSolveOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ImplicitLocOpBuilder b(loc, rewriter);
    RankedTensorType stateType = op.getX0().getType();
    Type computeType = getComputeType(stateType);
    int64_t steps = op.getEffectiveNumSteps();
    bool trajectory = op.getReturnTrajectory();
    int64_t rank = stateType.getRank();

    // The trajectory holds x0 in row 0 and the state after step n in row
    // n + 1; a row is a [1, ...x] slice of it.
    auto insertRow = [&](ImplicitLocOpBuilder &nb, Value state, Value traj,
                         OpFoldResult row) {
      SmallVector<OpFoldResult> offsets(rank + 1, nb.getIndexAttr(0));
      offsets[0] = row;
      SmallVector<OpFoldResult> sizes = {nb.getIndexAttr(1)};
      for (int64_t size : stateType.getShape())
        sizes.push_back(nb.getIndexAttr(size));
      SmallVector<OpFoldResult> strides(rank + 1, nb.getIndexAttr(1));
      return tensor::InsertSliceOp::create(nb, state, traj, offsets, sizes,
                                           strides)
          .getResult();
    };

    SmallVector<Value> inits = {op.getX0()};
    if (trajectory) {
      auto trajType = cast<RankedTensorType>(op.getResult().getType());
      Value empty =
          createEmptyTensor(b, trajType.getShape(), trajType.getElementType());
      inits.push_back(insertRow(b, op.getX0(), empty, b.getIndexAttr(0)));
    }

    Value lower = arith::ConstantIndexOp::create(b, 0);
    Value upper = arith::ConstantIndexOp::create(b, steps);
    Value one = arith::ConstantIndexOp::create(b, 1);
    auto loop = scf::ForOp::create(b, lower, upper, one, inits);
    Block *body = loop.getBody();
    rewriter.setInsertionPointToStart(body);
    ImplicitLocOpBuilder nb(loc, rewriter);
    Value n = loop.getInductionVar();

    // t_n and h_n: closed form on a uniform grid; a switch over the step
    // returning constants on an explicit grid (host scalars either way, so
    // the GPU path keeps no table in memory).
    Value t, dt;
    if (std::optional<ArrayRef<double>> grid = op.getTimeGrid()) {
      auto select = scf::IndexSwitchOp::create(
          nb, TypeRange{computeType, computeType}, n,
          llvm::to_vector(llvm::seq<int64_t>(0, steps)), steps);
      auto yieldStep = [&](Region &region, int64_t step) {
        Block &block = region.emplaceBlock();
        OpBuilder::InsertionGuard guard(rewriter);
        rewriter.setInsertionPointToStart(&block);
        ImplicitLocOpBuilder cb(loc, rewriter);
        scf::YieldOp::create(
            cb,
            ValueRange{createFloatConstant(cb, computeType, (*grid)[step]),
                       createFloatConstant(cb, computeType,
                                           (*grid)[step + 1] - (*grid)[step])});
      };
      for (int64_t step = 0; step < steps; ++step)
        yieldStep(select.getCaseRegions()[step], step);
      yieldStep(select.getDefaultRegion(), 0);
      t = select.getResult(0);
      dt = select.getResult(1);
    } else {
      double t0 = op.getEffectiveT0();
      double h = (op.getEffectiveT1() - t0) / static_cast<double>(steps);
      Value index =
          arith::IndexCastOp::create(nb, nb.getI64Type(), n).getResult();
      Value count = arith::SIToFPOp::create(nb, computeType, index);
      dt = createFloatConstant(nb, computeType, h);
      t = arith::AddFOp::create(nb, createFloatConstant(nb, computeType, t0),
                                arith::MulFOp::create(nb, count, dt));
    }

    Value next = buildStep(rewriter, loc, op.getMethod(), op.getVelocity(),
                           body->getArgument(1), t, dt, op.getParams());
    SmallVector<Value> yields = {next};
    if (trajectory) {
      Value row = arith::AddIOp::create(nb, n, one);
      yields.push_back(insertRow(nb, next, body->getArgument(2), row));
    }
    scf::YieldOp::create(nb, yields);
    rewriter.replaceOp(op, loop.getResult(trajectory ? 1 : 0));
    return success();
  }
};

} // namespace

void mlir::attnflow::populateOdeToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<OdeSolveToLinalg, OdeStepToLinalg>(patterns.getContext());
}
