//===- AttnFlowDialect.td - The attnflow dialect -----------*- tablegen -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD

include "mlir/IR/OpBase.td"

def AttnFlow_Dialect : Dialect {
  let name = "attnflow";
  let cppNamespace = "::mlir::attnflow";
  let summary = "Operators of modern sequence models: RoPE and masked attention";
  let description = [{
    Value-semantics operators on ranked tensors for the building blocks of
    sequence models: rotary position embedding with the scalings real models
    use, and softmax attention with causal / sliding-window / sink / softcap /
    ALiBi / log-n masks and grouped-query heads. Each op has a reference
    decomposition to linalg (`--convert-attnflow-to-linalg`) that serves as
    the oracle for faster lowerings. The contract is DESIGN.md §3.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class AttnFlow_Op<string mnemonic, list<Trait> traits = []>
    : Op<AttnFlow_Dialect, mnemonic, traits>;

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWDIALECT_TD
