//===- RegionOps.td - Terminator of attnflow regions -------*- tablegen -*-===//
//
// The terminator shared by the region-carrying ops (rnn_solve's cell and
// jacobian, ode_solve's and ode_step's velocity; DESIGN.md §3).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONOPS_TD

include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def AttnFlow_YieldOp : AttnFlow_Op<"yield", [Pure, ReturnLike, Terminator]> {
  let summary = "terminates the regions of attnflow ops";
  let description = [{
    Returns the values of a region of an attnflow op (rnn_solve's `cell`
    yields h_t, its `jacobian` dF/dh; ode_solve's and ode_step's `velocity`
    yields v). The parent op's verifier checks the number and types of the
    yielded values. Errors: a parent op outside the attnflow dialect.

    Example: `attnflow.yield %v : tensor<4x2xf32>`
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let hasVerifier = 1;
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_REGIONOPS_TD
