//===- AttnFlowAttrs.h - attnflow attributes --------------------*- C++ -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/APFloat.h"

#include <optional>

namespace mlir::attnflow {
/// Parses a float literal as an f64 (MLIR rejects "8": it asks for "8.0").
FailureOr<llvm::APFloat> parseF64Parameter(AsmParser &parser);
/// Parses an optional float literal for `struct(...)` optional parameters.
FailureOr<std::optional<llvm::APFloat>>
parseOptionalF64Parameter(AsmParser &parser);
/// Prints `value` in its shortest form that parses back to the same double,
/// always with a decimal point so that it lexes as a float ("8.0", "1.0e+06").
void printF64Parameter(AsmPrinter &printer, const llvm::APFloat &value);
} // namespace mlir::attnflow

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h.inc"

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_H
