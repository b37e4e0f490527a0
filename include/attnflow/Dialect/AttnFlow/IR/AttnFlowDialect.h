//===- AttnFlowDialect.h - The attnflow dialect -----------------*- C++ -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_H
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_H

#include "mlir/IR/Dialect.h"

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h.inc"

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_H
