//===- Passes.h - AttnFlow generic transforms -------------------*- C++ -*-===//
//
// Passes on upstream IR used by the named pipelines (Passes.td says what each
// does and why). Like mlir/Transforms/Passes.h, this header only declares
// them; each pass's .cpp includes the dialects it creates.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_TRANSFORMS_PASSES_H
#define ATTNFLOW_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::attnflow {

#define GEN_PASS_DECL
#include "attnflow/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attnflow/Transforms/Passes.h.inc"

} // namespace mlir::attnflow

#endif // ATTNFLOW_TRANSFORMS_PASSES_H
