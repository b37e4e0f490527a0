//===- AttnFlowDialect.td - The attnflow dialect -----------*- tablegen -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD

include "mlir/IR/OpBase.td"

def AttnFlow_Dialect : Dialect {
  let name = "attnflow";
  let cppNamespace = "::mlir::attnflow";
  let summary = "Operators of modern sequence models: RoPE, masked and "
                "linear-time attention, parallel-scan RNNs, ODE flow samplers";
  let description = [{
    Value-semantics operators on ranked tensors for the building blocks of
    sequence models: rotary position embedding with the scalings real models
    use; softmax attention with causal / sliding-window / sink / softcap /
    ALiBi / log-n masks and grouped-query heads; Performer (FAVOR+) and
    kernelized linear attention and Transformer-VQ attention; linear
    recurrences solved by parallel scans and nonlinear RNNs solved by DEER
    Newton iterations with compiler-derived Jacobians; and explicit
    Runge-Kutta ODE solves of a velocity region (rectified-flow samplers).
    Each op has a reference decomposition to linalg
    (`--convert-attnflow-to-linalg`; DEER after `--attnflow-lower-rnn-solve`)
    that serves as the oracle for faster lowerings. The contract is
    DESIGN.md §3.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class AttnFlow_Op<string mnemonic, list<Trait> traits = []>
    : Op<AttnFlow_Dialect, mnemonic, traits>;

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD
