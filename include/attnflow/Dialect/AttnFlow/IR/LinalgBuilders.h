//===- LinalgBuilders.h - Builders for linalg-on-tensors lowerings -*- C++
//-*-===//
//
// The small builders the linalg-on-tensors lowerings of attnflow ops share
// (the reference decomposition in Conversion/AttnFlowToLinalg and the
// linear-time forms in Dialect/AttnFlow/Transforms), so each exists once.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_LINALGBUILDERS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_LINALGBUILDERS_H

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::attnflow {

/// A float constant of `type`.
Value createFloatConstant(ImplicitLocOpBuilder &b, Type type, double value);

/// `value` converted to the float type `to` (extension or rounding; the
/// value itself when the types agree).
Value castFloat(ImplicitLocOpBuilder &b, Value value, Type to);

/// tensor.empty of a static `shape`.
Value createEmptyTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                        Type elementType);

/// A static tensor filled with `fill` (linalg.fill).
Value createFilledTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                         Type elementType, Value fill);

/// The affine map (d0, ..., d{numLoops-1}) -> (d{dims[0]}, d{dims[1]}, ...);
/// no dims gives a 0-d access.
AffineMap getDimsMap(MLIRContext *ctx, unsigned numLoops,
                     ArrayRef<unsigned> dims);

/// Receives a linalg.generic's block arguments (inputs, then the output's
/// current value) and yields through the builder it is given.
using GenericBody = function_ref<void(ImplicitLocOpBuilder &, ValueRange)>;

/// A single-result linalg.generic writing into `init` with the given maps
/// and iterator types (its loops nest in dim order).
Value createGeneric(ImplicitLocOpBuilder &b, Value init, ValueRange inputs,
                    ArrayRef<AffineMap> inputMaps, AffineMap outputMap,
                    ArrayRef<utils::IteratorType> iterators, GenericBody body);

} // namespace mlir::attnflow

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_LINALGBUILDERS_H
