//===- AttnFlowAttrs.td - attnflow attributes --------------*- tablegen -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_TD

include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// RoPE layout
//===----------------------------------------------------------------------===//

def AttnFlow_RopeLayout : I32EnumAttr<"RopeLayout",
    "which dimensions of a head form a rotated pair", [
      I32EnumAttrCase<"half", 0>,
      I32EnumAttrCase<"interleaved", 1>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attnflow";
}

def AttnFlow_RopeLayoutAttr
    : EnumAttr<AttnFlow_Dialect, AttnFlow_RopeLayout, "rope_layout"> {
  let summary = "RoPE pairing: `half` (GPT-NeoX / LLaMA) or `interleaved` (GPT-J)";
  let description = [{
    `half` rotates pairs (i, i + rotary_dim/2) as GPT-NeoX and Hugging Face
    LLaMA's `rotate_half` do; `interleaved` rotates pairs (2i, 2i+1) as GPT-J
    and the RoFormer paper (Su et al. 2021, eq. 34).
  }];
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Linear-attention feature map
//===----------------------------------------------------------------------===//

def AttnFlow_FeatureMap : I32EnumAttr<"FeatureMap",
    "the feature map phi of kernelized linear attention", [
      I32EnumAttrCase<"favor_plus", 0>,
      I32EnumAttrCase<"relu", 1>,
      I32EnumAttrCase<"elu_plus_one", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attnflow";
}

def AttnFlow_FeatureMapAttr
    : EnumAttr<AttnFlow_Dialect, AttnFlow_FeatureMap, "feature_map"> {
  let summary = "linear-attention feature map: `favor_plus`, `relu` or "
                "`elu_plus_one`";
  let description = [{
    `favor_plus`: Performer's positive random features (Choromanski et al.
    2021, "Rethinking Attention with Performers", eq. 7 with h(x) =
    exp(-|x|^2 / 2)): phi(x) = exp(W x - |x|^2 / 2) / sqrt(M) for a projection
    W [M, D], an unbiased estimate of the softmax kernel exp(q . k).
    `relu`: phi(x) = max(x, 0). `elu_plus_one`: phi(x) = elu(x) + 1
    (Katharopoulos et al. 2020, "Transformers are RNNs", eq. 7).
  }];
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// RNN solve method
//===----------------------------------------------------------------------===//

def AttnFlow_RnnMethod : I32EnumAttr<"RnnMethod",
    "how attnflow.rnn_solve evaluates a nonlinear recurrence", [
      I32EnumAttrCase<"newton", 0>,
      I32EnumAttrCase<"quasi_newton", 1>,
      I32EnumAttrCase<"sequential", 2>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attnflow";
}

def AttnFlow_RnnMethodAttr
    : EnumAttr<AttnFlow_Dialect, AttnFlow_RnnMethod, "rnn_method"> {
  let summary = "rnn_solve method: `newton` (DEER), `quasi_newton` or "
                "`sequential`";
  let description = [{
    `newton`: DEER (Lim et al. 2024, "Parallelizing non-linear sequential
    models over the sequence length", eq. 5-7): Newton iterations whose
    linearised recurrence h_t = J_t h_{t-1} + (f(h_{t-1}, u_t) - J_t h_{t-1})
    uses the full Jacobian J_t = df/dh and is solved by a parallel scan.
    `quasi_newton`: the same with diag(J_t) (Gonzalez et al. 2024, "Towards
    scalable and stable parallelization of nonlinear RNNs", quasi-DEER).
    `sequential`: the plain loop over t.
  }];
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// ODE integration method
//===----------------------------------------------------------------------===//

def AttnFlow_OdeMethod : I32EnumAttr<"OdeMethod",
    "explicit Runge-Kutta method of attnflow.ode_solve / ode_step", [
      I32EnumAttrCase<"euler", 0>,
      I32EnumAttrCase<"midpoint", 1>,
      I32EnumAttrCase<"heun", 2>,
      I32EnumAttrCase<"rk4", 3>
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attnflow";
}

def AttnFlow_OdeMethodAttr
    : EnumAttr<AttnFlow_Dialect, AttnFlow_OdeMethod, "ode_method"> {
  let summary = "ODE method: `euler`, `midpoint`, `heun` or `rk4`";
  let description = [{
    Explicit Runge-Kutta methods (Hairer, Norsett, Wanner, "Solving Ordinary
    Differential Equations I", II.1): `euler` (order 1, one velocity
    evaluation per step), `midpoint` (explicit midpoint, order 2, two),
    `heun` (explicit trapezoid, order 2, two), `rk4` (the classical method
    with weights 1/6, 1/3, 1/3, 1/6, order 4, four).
  }];
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// RoPE scaling
//===----------------------------------------------------------------------===//

def AttnFlow_RopeScalingKind : I32EnumAttr<"RopeScalingKind",
    "context-extension scaling of RoPE frequencies", [
      I32EnumAttrCase<"none", 0>,
      I32EnumAttrCase<"linear", 1>,
      I32EnumAttrCase<"ntk", 2>,
      I32EnumAttrCase<"dynamic_ntk", 3>,
      I32EnumAttrCase<"yarn", 4>,
      I32EnumAttrCase<"llama3", 5>
    ]> {
  let cppNamespace = "::mlir::attnflow";
}

// A 64-bit float (APFloat, which is hashable) printed in its shortest
// round-tripping decimal form ("8.0").
def AttnFlow_F64Parameter : AttrParameter<"::llvm::APFloat", "a 64-bit float"> {
  let parser = "::mlir::attnflow::parseF64Parameter($_parser)";
  let printer = "::mlir::attnflow::printF64Parameter($_printer, $_self)";
}

class AttnFlow_DefaultF64Parameter<string value>
    : DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(" # value # ")",
                             "a 64-bit float"> {
  let parser = AttnFlow_F64Parameter.parser;
  let printer = AttnFlow_F64Parameter.printer;
}

def AttnFlow_OptionalF64Parameter
    : OptionalParameter<"std::optional<::llvm::APFloat>",
                        "an optional 64-bit float"> {
  let parser = "::mlir::attnflow::parseOptionalF64Parameter($_parser)";
  let printer = "::mlir::attnflow::printF64Parameter($_printer, *$_self)";
}

def AttnFlow_RopeScalingAttr : AttrDef<AttnFlow_Dialect, "RopeScaling"> {
  let mnemonic = "rope_scaling";
  let summary = "RoPE frequency scaling (Hugging Face `rope_scaling`)";
  let description = [{
    Scales the RoPE inverse frequencies inv_freq_i = theta^(-2i/r) with the
    formulas of Hugging Face transformers' `modeling_rope_utils.py`
    (r = rotary_dim, L0 = original_max_position):

    - `none`: unchanged.
    - `linear` (position interpolation, Chen et al. 2023): inv_freq / factor.
    - `ntk` (NTK-aware, bloc97 2023): theta' = theta * factor^(r/(r-2)).
    - `dynamic_ntk` (`_compute_dynamic_ntk_parameters`): with L = max(positions)+1,
      theta' = theta * (factor*L/L0 - (factor-1))^(r/(r-2)) when L > L0,
      theta otherwise. Needs L0.
    - `yarn` (Peng et al. 2023, `_compute_yarn_parameters`, truncate = true):
      interpolation and extrapolation frequencies blended by a linear ramp
      between the correction dims of beta_fast and beta_slow rotations; cos
      and sin of the rotated dims are multiplied by attention_factor
      (default 0.1 ln(factor) + 1, or 1 when factor <= 1). Needs L0.
    - `llama3` (`_compute_llama3_parameters`): wavelengths above
      L0/low_freq_factor are divided by factor, those below L0/high_freq_factor
      kept, the band between smoothly interpolated. Needs L0.

    Only `kind` is required. Example:
    `#attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192>`.
  }];
  let parameters = (ins
    EnumParameter<AttnFlow_RopeScalingKind>:$kind,
    AttnFlow_DefaultF64Parameter<"1.0">:$factor,
    OptionalParameter<"std::optional<int64_t>">:$original_max_position,
    AttnFlow_DefaultF64Parameter<"32.0">:$beta_fast,
    AttnFlow_DefaultF64Parameter<"1.0">:$beta_slow,
    AttnFlow_DefaultF64Parameter<"1.0">:$low_freq_factor,
    AttnFlow_DefaultF64Parameter<"4.0">:$high_freq_factor,
    AttnFlow_OptionalF64Parameter:$attention_factor
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The attention factor that multiplies cos and sin: yarn's explicit or
    /// default value, 1.0 for every other kind.
    double getEffectiveAttentionFactor() const;
  }];
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTNFLOWATTRS_TD
