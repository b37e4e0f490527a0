//===- ForwardModeJacobian.cpp - Jacobians of cell bodies -----------------===//
//
// Vector-mode forward differentiation seeded with the identity: the tangent
// of a value v of shape S is dv/dh of shape S x N (N = |h|), so the tangent
// of the yielded F is the dense Jacobian J[i][j] = dF_i / dh_j. Each op's
// tangent follows from its operands' (the chain rule in forward mode); a null
// tangent means "does not depend on h" and is never materialized.
//
// Pointwise ops (arith / math on scalars or tensors, and the bodies of linalg
// ops) are differentiated by one scalar rule each; a linalg op's tangent is a
// linalg.generic with the op's loops plus a trailing parallel loop over the N
// seed directions, whose body is the op's body followed by its tangent.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/Transforms/ForwardModeJacobian.h"

#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attnflow;

namespace {
constexpr utils::IteratorType kPar = utils::IteratorType::parallel;

constexpr const char *kUnsupported =
    "cannot be differentiated with respect to the state h: forward-mode "
    "Jacobian derivation supports arith addf/subf/mulf/divf/negf/extf/truncf "
    "and constants, math tanh/exp/log, linalg ops on tensors whose bodies use "
    "those (matvec, matmul, fill, broadcast, elementwise or `acc + ...` "
    "generics) and tensor empty/extract/insert/extract_slice/insert_slice/"
    "concat; provide the op's `jacobian` region instead";

/// Sum of two tangents; null stands for zero.
Value addTangents(ImplicitLocOpBuilder &b, Value p, Value q) {
  if (!p)
    return q;
  if (!q)
    return p;
  return arith::AddFOp::create(b, p, q);
}

Value mulTangent(ImplicitLocOpBuilder &b, Value p, Value q) {
  if (!p || !q)
    return Value();
  return arith::MulFOp::create(b, p, q);
}

Value negTangent(ImplicitLocOpBuilder &b, Value p) {
  if (!p)
    return Value();
  return arith::NegFOp::create(b, p);
}

/// The tangent of the scalar op `op`'s result (its operands and result are
/// primal scalars, `t` their tangents, null = zero); null when it is zero,
/// failure for an op without a rule.
FailureOr<Value> scalarTangent(ImplicitLocOpBuilder &b, Operation *op,
                               ArrayRef<Value> t) {
  if (llvm::all_of(t, [](Value v) { return !v; }))
    return Value();
  if (op->getNumResults() != 1)
    return failure();
  OperandRange x = op->getOperands();
  Value y = op->getResult(0);
  return TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case([&](arith::AddFOp) { return addTangents(b, t[0], t[1]); })
      .Case([&](arith::SubFOp) {
        return addTangents(b, t[0], negTangent(b, t[1]));
      })
      .Case([&](arith::MulFOp) {
        return addTangents(b, mulTangent(b, t[0], x[1]),
                           mulTangent(b, x[0], t[1]));
      })
      .Case([&](arith::DivFOp) -> Value {
        // d(a / b) = (da - (a / b) db) / b
        Value num = addTangents(b, t[0], negTangent(b, mulTangent(b, y, t[1])));
        return arith::DivFOp::create(b, num, x[1]);
      })
      .Case([&](arith::NegFOp) { return negTangent(b, t[0]); })
      .Case<arith::ExtFOp, arith::TruncFOp>(
          [&](Operation *) { return castFloat(b, t[0], y.getType()); })
      .Case([&](math::TanhOp) -> Value {
        Value one = createFloatConstant(b, y.getType(), 1.0);
        Value slope =
            arith::SubFOp::create(b, one, arith::MulFOp::create(b, y, y));
        return arith::MulFOp::create(b, slope, t[0]);
      })
      .Case([&](math::ExpOp) { return mulTangent(b, y, t[0]); })
      .Case([&](math::LogOp) -> Value {
        return arith::DivFOp::create(b, t[0], x[0]);
      })
      .Default([](Operation *) { return failure(); });
}

bool isPointwise(Operation *op) {
  return isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
             arith::NegFOp, arith::ExtFOp, arith::TruncFOp, math::TanhOp,
             math::ExpOp, math::LogOp>(op);
}

/// Whether diag(dF/dh) follows from diagonals alone, so quasi-Newton needs no
/// N x N tangent: every value depending on h has h's type and its tangent is
/// either diagonal ("exact": an elementwise function of h) or known only by
/// its diagonal. Elementwise ops and sums keep diagonals
/// (diag(D T) = D diag(T)); a matvec A x with A independent of h and x exact
/// has diag(A diag(d)) = diag(A) d. Anything else needs the dense tangent.
bool diagonalSuffices(Block &cell) {
  Type hType = cell.getArgument(0).getType();
  DenseMap<Value, bool> exact{{cell.getArgument(0), true}};
  for (Operation &op : cell.without_terminator()) {
    bool depends = false, allExact = true;
    op.walk([&](Operation *inner) {
      for (Value operand : inner->getOperands())
        if (auto it = exact.find(operand); it != exact.end()) {
          depends = true;
          allExact &= it->second;
        }
    });
    if (!depends)
      continue;
    if (op.getNumResults() != 1 || op.getResult(0).getType() != hType)
      return false;
    if (auto matvec = dyn_cast<linalg::MatvecOp>(op)) {
      Value x = matvec.getDpsInputs()[1];
      if (exact.count(matvec.getDpsInputs()[0]) ||
          (exact.count(x) && !exact.lookup(x)))
        return false;
      exact[op.getResult(0)] = false;
      continue;
    }
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (generic) {
      llvm::SetVector<Value> above;
      getUsedValuesDefinedAbove(generic.getRegion(), above);
      if (generic.getNumLoops() != 1 || generic.getNumDpsInits() != 1 ||
          llvm::any_of(above, [&](Value v) { return exact.count(v); }) ||
          !llvm::all_of(generic.getIndexingMapsArray(),
                        [](AffineMap map) { return map.isIdentity(); }))
        return false;
    } else if (!isPointwise(&op)) {
      return false;
    }
    exact[op.getResult(0)] = allExact;
  }
  return true;
}

class JacobianEmitter {
public:
  /// With `diagonalTangents` (only where diagonalSuffices) a tangent is the
  /// diagonal of dv/dh, of v's own type.
  JacobianEmitter(OpBuilder &builder, Location loc, int64_t n,
                  bool diagonalTangents)
      : b(loc, builder), n(n), diagonalTangents(diagonalTangents) {}

  FailureOr<CellAndJacobian> run(Block &cell, ValueRange args,
                                 JacobianForm form) {
    primal.map(cell.getArguments(), args);
    BlockArgument h = cell.getArgument(0);
    tangents[h] = identity(cast<RankedTensorType>(h.getType()));
    for (Operation &op : cell.without_terminator())
      if (failed(emit(op)))
        return failure();
    Value f = cell.getTerminator()->getOperand(0);
    Value jacobian = tangentOrZero(f);
    if (form == JacobianForm::Diagonal && !diagonalTangents)
      jacobian = emitDiagonal(b, b.getLoc(), jacobian);
    return CellAndJacobian{primal.lookupOrDefault(f), jacobian};
  }

private:
  MLIRContext *ctx() { return b.getContext(); }

  /// S x N for a float value of static shape S (a scalar: N); null for
  /// values that carry no derivative (integers, index) or dynamic shapes.
  RankedTensorType tangentType(Type type) {
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      if (!isa<FloatType>(tensor.getElementType()) || !tensor.hasStaticShape())
        return {};
      if (diagonalTangents)
        return tensor;
      SmallVector<int64_t> shape(tensor.getShape());
      shape.push_back(n);
      return RankedTensorType::get(shape, tensor.getElementType());
    }
    if (isa<FloatType>(type))
      return RankedTensorType::get({n}, type);
    return {};
  }

  Value zeros(RankedTensorType type) {
    Type element = type.getElementType();
    return createFilledTensor(b, type.getShape(), element,
                              createFloatConstant(b, element, 0.0));
  }

  /// I_N, the seed: dh/dh (its diagonal: ones).
  Value identity(RankedTensorType hType) {
    Type element = hType.getElementType();
    if (diagonalTangents)
      return createFilledTensor(b, {n}, element,
                                createFloatConstant(b, element, 1.0));
    Value init = createEmptyTensor(b, {n, n}, element);
    return createGeneric(
        b, init, {}, {}, getDimsMap(ctx(), 2, {0, 1}), {kPar, kPar},
        [&](ImplicitLocOpBuilder &nb, ValueRange) {
          Value i = linalg::IndexOp::create(nb, 0);
          Value j = linalg::IndexOp::create(nb, 1);
          Value diagonal =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, i, j);
          Value value = arith::SelectOp::create(
              nb, diagonal, createFloatConstant(nb, element, 1.0),
              createFloatConstant(nb, element, 0.0));
          linalg::YieldOp::create(nb, value);
        });
  }

  Value tangentOrZero(Value v) {
    if (Value t = tangents.lookup(v))
      return t;
    return zeros(tangentType(v.getType()));
  }

  bool dependsOnH(Operation &op) {
    return op
        .walk([&](Operation *inner) {
          for (Value operand : inner->getOperands())
            if (tangents.count(operand))
              return WalkResult::interrupt();
          return WalkResult::advance();
        })
        .wasInterrupted();
  }

  LogicalResult unsupported(Operation *op) {
    return op->emitOpError(kUnsupported);
  }

  /// Records `t` (null: zero) as the tangent of `v`.
  LogicalResult setTangent(Value v, Value t) {
    if (t)
      tangents[v] = t;
    return success();
  }

  SmallVector<OpFoldResult> mapped(ArrayRef<OpFoldResult> values,
                                   OpFoldResult trailing) {
    SmallVector<OpFoldResult> result;
    for (OpFoldResult value : values) {
      if (auto v = dyn_cast<Value>(value))
        result.push_back(primal.lookupOrDefault(v));
      else
        result.push_back(value);
    }
    result.push_back(trailing);
    return result;
  }

  SmallVector<OpFoldResult> mappedIndices(ValueRange indices,
                                          OpFoldResult trailing) {
    SmallVector<OpFoldResult> values(indices.begin(), indices.end());
    return mapped(values, trailing);
  }

  SmallVector<OpFoldResult> units(size_t count, int64_t trailing) {
    SmallVector<OpFoldResult> result(count, b.getIndexAttr(1));
    result.push_back(b.getIndexAttr(trailing));
    return result;
  }

  LogicalResult emit(Operation &op) {
    if (!dependsOnH(op)) {
      b.clone(op, primal);
      return success();
    }
    return TypeSwitch<Operation *, LogicalResult>(&op)
        .Case([&](linalg::MatvecOp matvec) -> LogicalResult {
          if (diagonalTangents)
            return emitDiagonalMatvec(matvec);
          return emitLinalg(matvec);
        })
        .Case([&](linalg::LinalgOp linalgOp) { return emitLinalg(linalgOp); })
        .Case([&](tensor::ExtractOp extract) { return emitExtract(extract); })
        .Case([&](tensor::InsertOp insert) { return emitInsert(insert); })
        .Case([&](tensor::ExtractSliceOp slice) {
          return emitExtractSlice(slice);
        })
        .Case(
            [&](tensor::InsertSliceOp slice) { return emitInsertSlice(slice); })
        .Case([&](tensor::ConcatOp concat) { return emitConcat(concat); })
        .Default([&](Operation *other) {
          return isPointwise(other) ? emitPointwise(other) : unsupported(other);
        });
  }

  /// An arith / math op on scalars or elementwise on tensors of shape S: its
  /// tangent is a linalg.generic over S x N applying the scalar rule.
  LogicalResult emitPointwise(Operation *op) {
    b.clone(*op, primal);
    Value result = op->getResult(0);
    // a + b with one side independent of h: the other side's tangent.
    if (isa<arith::AddFOp>(op) &&
        tangents.count(op->getOperand(0)) != tangents.count(op->getOperand(1)))
      return setTangent(result, tangents.lookup(op->getOperand(0))
                                    ? tangents.lookup(op->getOperand(0))
                                    : tangents.lookup(op->getOperand(1)));
    RankedTensorType type = tangentType(result.getType());
    if (!type)
      return unsupportedShape(op);
    unsigned rank = type.getRank();
    SmallVector<unsigned> primalDims;
    for (unsigned d = 0; d < rank - (diagonalTangents ? 0 : 1); ++d)
      primalDims.push_back(d);
    AffineMap primalMap = getDimsMap(ctx(), rank, primalDims);
    AffineMap tangentMap = AffineMap::getMultiDimIdentityMap(rank, ctx());
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (Value operand : op->getOperands()) {
      inputs.push_back(primal.lookupOrDefault(operand));
      maps.push_back(primalMap);
    }
    for (Value operand : op->getOperands())
      if (Value t = tangents.lookup(operand)) {
        inputs.push_back(t);
        maps.push_back(tangentMap);
      }
    unsigned numOperands = op->getNumOperands();
    Type element = type.getElementType();
    bool ok = true;
    Value tangent = createGeneric(
        b, createEmptyTensor(b, type.getShape(), element), inputs, maps,
        tangentMap, SmallVector<utils::IteratorType>(rank, kPar),
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          ValueRange scalars = args.take_front(numOperands);
          Operation *scalar =
              nb.create(op->getLoc(), op->getName().getIdentifier(), scalars,
                        TypeRange{element}, op->getAttrs());
          SmallVector<Value> t;
          unsigned next = numOperands;
          for (Value operand : op->getOperands())
            t.push_back(tangents.count(operand) ? args[next++] : Value());
          FailureOr<Value> dy = scalarTangent(nb, scalar, t);
          ok = succeeded(dy);
          Value value = ok && *dy ? *dy : createFloatConstant(nb, element, 0.0);
          linalg::YieldOp::create(nb, value);
        });
    if (!ok)
      return unsupported(op);
    return setTangent(result, tangent);
  }

  LogicalResult unsupportedShape(Operation *op) {
    return op->emitOpError("depends on the state h through a result that "
                           "cannot carry a derivative (expected float scalars "
                           "or statically shaped float tensors); provide the "
                           "op's `jacobian` region instead");
  }

  /// A linalg op on tensors with one init. Its tangent loops over the op's
  /// iteration space plus the N seed directions; a reduction must accumulate
  /// a sum (`acc + e`, as matvec / matmul do), whose tangent accumulates de.
  LogicalResult emitLinalg(linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1)
      return unsupported(op);
    llvm::SetVector<Value> above;
    getUsedValuesDefinedAbove(op->getRegion(0), above);
    for (Value v : above)
      if (tangents.count(v))
        return op->emitOpError(
            "uses a value depending on the state h inside its body; pass it "
            "as an input operand to differentiate the op");
    b.clone(*op, primal);
    Value result = op->getResult(0);
    RankedTensorType type = tangentType(result.getType());
    if (!type)
      return unsupportedShape(op);

    Block *body = op.getBlock();
    OpOperand *init = op.getDpsInitOperand(0);
    BlockArgument acc = op.getMatchingBlockArgument(init);
    Operation *accumulate = nullptr;
    Value summand;
    if (op.getNumReductionLoops() > 0) {
      auto add =
          body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
      if (!add || !acc.hasOneUse() ||
          (add.getLhs() != acc && add.getRhs() != acc))
        return op->emitOpError(
            "reduces other than by a sum `acc + ...`; its Jacobian cannot be "
            "derived; provide the op's `jacobian` region instead");
      accumulate = add;
      summand = add.getLhs() == acc ? add.getRhs() : add.getLhs();
    }

    // Dense tangents add a trailing parallel loop over the seeds.
    unsigned loops = op.getNumLoops();
    unsigned seedLoops = diagonalTangents ? 0 : 1;
    auto extend = [&](AffineMap map, bool seed) {
      SmallVector<AffineExpr> exprs(map.getResults());
      if (seed && !diagonalTangents)
        exprs.push_back(getAffineDimExpr(loops, ctx()));
      return AffineMap::get(loops + seedLoops, 0, exprs, ctx());
    };
    // Each original block argument read by the body: its primal and (when it
    // depends on h) its tangent become inputs of the tangent generic.
    struct Read {
      BlockArgument arg;
      unsigned primalIndex;
      int tangentIndex;
    };
    SmallVector<Read> reads;
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    auto addRead = [&](OpOperand *operand) {
      AffineMap map = op.getMatchingIndexingMap(operand);
      Read read{op.getMatchingBlockArgument(operand),
                static_cast<unsigned>(inputs.size()), -1};
      inputs.push_back(primal.lookupOrDefault(operand->get()));
      maps.push_back(extend(map, false));
      if (Value t = tangents.lookup(operand->get())) {
        read.tangentIndex = inputs.size();
        inputs.push_back(t);
        maps.push_back(extend(map, true));
      }
      reads.push_back(read);
    };
    for (OpOperand *input : op.getDpsInputOperands())
      addRead(input);
    Value tangentInit;
    if (accumulate) {
      tangentInit = tangentOrZero(init->get());
    } else {
      if (!acc.use_empty())
        addRead(init);
      tangentInit =
          createEmptyTensor(b, type.getShape(), type.getElementType());
    }
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    iterators.append(seedLoops, kPar);

    Operation *failedOp = nullptr;
    Value tangent = createGeneric(
        b, tangentInit, inputs, maps,
        extend(op.getMatchingIndexingMap(init), true), iterators,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          IRMapping bodyPrimal;
          DenseMap<Value, Value> bodyTangent;
          for (Value v : above)
            bodyPrimal.map(v, primal.lookupOrDefault(v));
          for (const Read &read : reads) {
            bodyPrimal.map(read.arg, args[read.primalIndex]);
            if (read.tangentIndex >= 0)
              bodyTangent[read.arg] = args[read.tangentIndex];
          }
          for (Operation &inner : body->without_terminator()) {
            if (&inner == accumulate)
              continue;
            Operation *scalar = nb.clone(inner, bodyPrimal);
            SmallVector<Value> t;
            for (Value operand : inner.getOperands())
              t.push_back(bodyTangent.lookup(operand));
            FailureOr<Value> dy = scalarTangent(nb, scalar, t);
            if (failed(dy)) {
              failedOp = failedOp ? failedOp : &inner;
              continue;
            }
            if (*dy)
              bodyTangent[inner.getResult(0)] = *dy;
          }
          Value dy =
              accumulate
                  ? addTangents(nb, args.back(), bodyTangent.lookup(summand))
                  : bodyTangent.lookup(body->getTerminator()->getOperand(0));
          if (!dy)
            dy = createFloatConstant(nb, type.getElementType(), 0.0);
          linalg::YieldOp::create(nb, dy);
        });
    if (failedOp)
      return unsupported(failedOp);
    return setTangent(result, tangent);
  }

  /// diag(d init + A dx) = d init + diag(A) dx for A independent of h and x
  /// exact (diagonalSuffices).
  LogicalResult emitDiagonalMatvec(linalg::MatvecOp op) {
    b.clone(*op, primal);
    Value x = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    Value dx = tangents.lookup(x);
    if (!dx)
      return setTangent(op.getResult(0), tangents.lookup(init));
    MLIRContext *context = ctx();
    Value diagonal = createGeneric(
        b, tangentOrZero(init),
        {primal.lookupOrDefault(op.getDpsInputs()[0]), dx},
        {getDimsMap(context, 1, {0, 0}), getDimsMap(context, 1, {0})},
        getDimsMap(context, 1, {0}), {kPar},
        [](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value product = arith::MulFOp::create(nb, args[0], args[1]);
          Value sum = arith::AddFOp::create(nb, args[2], product);
          linalg::YieldOp::create(nb, sum);
        });
    return setTangent(op.getResult(0), diagonal);
  }

  LogicalResult emitExtract(tensor::ExtractOp op) {
    b.clone(*op, primal);
    Value source = tangents.lookup(op.getTensor());
    if (!source || !tangentType(op.getType()))
      return unsupportedShape(op);
    size_t rank = op.getIndices().size();
    Value slice = tensor::ExtractSliceOp::create(
        b, tangentType(op.getType()), source,
        mappedIndices(op.getIndices(), b.getIndexAttr(0)), units(rank, n),
        units(rank, 1));
    return setTangent(op.getResult(), slice);
  }

  LogicalResult emitInsert(tensor::InsertOp op) {
    b.clone(*op, primal);
    if (!tangentType(op.getType()))
      return unsupportedShape(op);
    size_t rank = op.getIndices().size();
    Value inserted = tensor::InsertSliceOp::create(
        b, tangentOrZero(op.getScalar()), tangentOrZero(op.getDest()),
        mappedIndices(op.getIndices(), b.getIndexAttr(0)), units(rank, n),
        units(rank, 1));
    return setTangent(op.getResult(), inserted);
  }

  LogicalResult emitExtractSlice(tensor::ExtractSliceOp op) {
    b.clone(*op, primal);
    RankedTensorType type = tangentType(op.getType());
    if (!type || !tangentType(op.getSource().getType()))
      return unsupportedShape(op);
    Value slice = tensor::ExtractSliceOp::create(
        b, type, tangents.lookup(op.getSource()),
        mapped(op.getMixedOffsets(), b.getIndexAttr(0)),
        mapped(op.getMixedSizes(), b.getIndexAttr(n)),
        mapped(op.getMixedStrides(), b.getIndexAttr(1)));
    return setTangent(op.getResult(), slice);
  }

  LogicalResult emitInsertSlice(tensor::InsertSliceOp op) {
    b.clone(*op, primal);
    if (!tangentType(op.getType()) || !tangentType(op.getSourceType()))
      return unsupportedShape(op);
    Value inserted = tensor::InsertSliceOp::create(
        b, tangentOrZero(op.getSource()), tangentOrZero(op.getDest()),
        mapped(op.getMixedOffsets(), b.getIndexAttr(0)),
        mapped(op.getMixedSizes(), b.getIndexAttr(n)),
        mapped(op.getMixedStrides(), b.getIndexAttr(1)));
    return setTangent(op.getResult(), inserted);
  }

  LogicalResult emitConcat(tensor::ConcatOp op) {
    b.clone(*op, primal);
    if (!tangentType(op.getType()))
      return unsupportedShape(op);
    SmallVector<Value> parts;
    for (Value input : op.getInputs()) {
      if (!tangentType(input.getType()))
        return unsupportedShape(op);
      parts.push_back(tangentOrZero(input));
    }
    Value concat = tensor::ConcatOp::create(b, op.getDim(), parts);
    return setTangent(op.getResult(), concat);
  }

  ImplicitLocOpBuilder b;
  int64_t n;
  bool diagonalTangents;
  IRMapping primal;
  DenseMap<Value, Value> tangents;
};
} // namespace

Value mlir::attnflow::emitDiagonal(OpBuilder &builder, Location loc,
                                   Value square) {
  ImplicitLocOpBuilder b(loc, builder);
  auto type = cast<RankedTensorType>(square.getType());
  MLIRContext *ctx = b.getContext();
  return createGeneric(
      b, createEmptyTensor(b, {type.getDimSize(0)}, type.getElementType()),
      {square}, {getDimsMap(ctx, 1, {0, 0})}, getDimsMap(ctx, 1, {0}), {kPar},
      [](ImplicitLocOpBuilder &nb, ValueRange args) {
        linalg::YieldOp::create(nb, args[0]);
      });
}

FailureOr<CellAndJacobian>
mlir::attnflow::emitCellAndJacobian(OpBuilder &b, Location loc, Block &cell,
                                    ValueRange args, JacobianForm form) {
  if (cell.getNumArguments() == 0)
    return emitError(loc, "the cell has no arguments; expected the state h "
                          "first");
  Type argType = cell.getArgument(0).getType();
  auto hType = dyn_cast<RankedTensorType>(argType);
  if (!hType || hType.getRank() != 1 || !hType.hasStaticShape() ||
      !isa<FloatType>(hType.getElementType()))
    return emitError(loc, "the cell's first argument (the state h) must be a "
                          "statically shaped rank-1 float tensor, got ")
           << argType;
  Operation *terminator = cell.getTerminator();
  if (terminator->getNumOperands() == 0 ||
      terminator->getOperand(0).getType() != hType)
    return terminator->emitOpError("must yield the new state of type ")
           << hType << " first";
  bool diagonalTangents =
      form == JacobianForm::Diagonal && diagonalSuffices(cell);
  return JacobianEmitter(b, loc, hType.getDimSize(0), diagonalTangents)
      .run(cell, args, form);
}
