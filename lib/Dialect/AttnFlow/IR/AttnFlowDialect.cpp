//===- AttnFlowDialect.cpp - The attnflow dialect -------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"

using namespace mlir;
using namespace mlir::attnflow;

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.cpp.inc"

void AttnFlowDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.cpp.inc"
      >();
  registerAttributes();
}
