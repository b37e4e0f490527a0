//===- LinalgBuilders.cpp - Builders for linalg-on-tensors lowerings ------===//

#include "attnflow/Dialect/AttnFlow/IR/LinalgBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value mlir::attnflow::createFloatConstant(ImplicitLocOpBuilder &b, Type type,
                                          double value) {
  return arith::ConstantOp::create(b, b.getFloatAttr(type, value));
}

Value mlir::attnflow::castFloat(ImplicitLocOpBuilder &b, Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  if (cast<FloatType>(from).getWidth() < cast<FloatType>(to).getWidth())
    return arith::ExtFOp::create(b, to, value);
  return arith::TruncFOp::create(b, to, value);
}

Value mlir::attnflow::createEmptyTensor(ImplicitLocOpBuilder &b,
                                        ArrayRef<int64_t> shape,
                                        Type elementType) {
  return tensor::EmptyOp::create(b, shape, elementType);
}

Value mlir::attnflow::createFilledTensor(ImplicitLocOpBuilder &b,
                                         ArrayRef<int64_t> shape,
                                         Type elementType, Value fill) {
  Value empty = createEmptyTensor(b, shape, elementType);
  return linalg::FillOp::create(b, ValueRange{fill}, ValueRange{empty})
      .getResult(0);
}

AffineMap mlir::attnflow::getDimsMap(MLIRContext *ctx, unsigned numLoops,
                                     ArrayRef<unsigned> dims) {
  SmallVector<AffineExpr> exprs;
  for (unsigned dim : dims)
    exprs.push_back(getAffineDimExpr(dim, ctx));
  return AffineMap::get(numLoops, 0, exprs, ctx);
}

Value mlir::attnflow::createGeneric(ImplicitLocOpBuilder &b, Value init,
                                    ValueRange inputs,
                                    ArrayRef<AffineMap> inputMaps,
                                    AffineMap outputMap,
                                    ArrayRef<utils::IteratorType> iterators,
                                    GenericBody body) {
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(outputMap);
  auto generic = linalg::GenericOp::create(
      b, TypeRange{init.getType()}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        body(nb, args);
      });
  return generic.getResult(0);
}
