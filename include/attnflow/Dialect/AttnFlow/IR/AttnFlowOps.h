//===- AttnFlowOps.h - attnflow operations ----------------------*- C++ -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_H

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

#define GET_OP_CLASSES
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h.inc"

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_H
