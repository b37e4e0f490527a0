//===- AttnFlowOps.td - attnflow operations ----------------*- tablegen -*-===//
//
// One .td per op family (DESIGN.md §2); this file gathers them for the
// op-decls / op-defs generators.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_TD

include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.td"
include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.td"
include "attnflow/Dialect/AttnFlow/IR/AttentionOps.td"
include "attnflow/Dialect/AttnFlow/IR/LinearAttentionOps.td"
include "attnflow/Dialect/AttnFlow/IR/RegionOps.td"
include "attnflow/Dialect/AttnFlow/IR/ScanOps.td"
include "attnflow/Dialect/AttnFlow/IR/FlowOps.td"

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWOPS_TD
