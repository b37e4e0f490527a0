//===- LinearAttentionOps.td - Linear-time attention ops ---*- tablegen -*-===//
//
// Kernelized linear attention (Performer FAVOR+, relu, elu + 1) and
// Transformer-VQ attention (DESIGN.md §3).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_LINEARATTENTIONOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_LINEARATTENTIONOPS_TD

//===----------------------------------------------------------------------===//
// LinearAttentionOp
//===----------------------------------------------------------------------===//

def AttnFlow_LinearAttentionOp : AttnFlow_Op<"linear_attention", [Pure]> {
  let summary = "kernelized linear attention (Performer FAVOR+, relu, elu + 1)";
  let description = [{
    Attention with the softmax kernel replaced by a feature-map inner
    product (Katharopoulos et al. 2020, eq. 4; Choromanski et al. 2021,
    eq. 4): o_i = sum_j (phi(q_i) . phi(k_j)) v_j /
    (sum_j phi(q_i) . phi(k_j) + eps), over j <= i when `causal`.

    Shapes: `q` `[B, Hq, Sq, D]`, `k` `[B, Hkv, Skv, D]`, `v`
    `[B, Hkv, Skv, Dv]`, Hq % Hkv == 0 (query head h reads kv head
    h / (Hq / Hkv)); `projection` `[M, D]` (M >= 1 random features), present
    exactly for `favor_plus`. Result `[B, Hq, Sq, Dv]`. One element type for
    all operands (f32, f16, bf16 or f64; f16 / bf16 computed in f32).

    Feature maps (`feature_map`, required): `favor_plus` with x' = x *
    sqrt(scale), phi(x') = exp(W x' - |x'|^2 / 2) / sqrt(M); `relu`;
    `elu_plus_one`. `scale` (1/sqrt(D)) is used by favor_plus only; `eps`
    (1e-6) is added to the exact, unstabilized normalizer (a stabilized
    implementation rescales it by the factor it removes). `causal` (false)
    needs Sq == Skv.

    Cost: O(S * M * Dv) when lowered by the linear-time path (prefix sums,
    chunked for causal); the reference decomposition materializes the
    [Sq, Skv] kernel matrix and exists as the oracle only.

    Errors: dynamic shapes, mismatched batch / head / head-dim / sequence
    sizes, Hq not divisible by Hkv, a projection missing for favor_plus,
    present for another map or not [M, D], causal with Sq != Skv, scale not
    finite and > 0, eps not finite and >= 0, element types that differ.

    Example (a Performer layer):
    ```mlir
    %o = attnflow.linear_attention %q, %k, %v, %w
         {feature_map = #attnflow.feature_map<favor_plus>, causal = true}
         : tensor<1x8x1024x128xf32>, tensor<1x8x1024x128xf32>,
           tensor<1x8x1024x128xf32>, tensor<256x128xf32>
           -> tensor<1x8x1024x128xf32>
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$q,
    AttnFlow_FloatTensor:$k,
    AttnFlow_FloatTensor:$v,
    Optional<AttnFlow_FloatTensor>:$projection,
    AttnFlow_FeatureMapAttr:$feature_map,
    DefaultValuedAttr<BoolAttr, "false">:$causal,
    OptionalAttr<F64Attr>:$scale,
    DefaultValuedAttr<F64Attr, "1e-6">:$eps
  );
  let results = (outs AttnFlow_FloatTensor:$output);

  let assemblyFormat = [{
    $q `,` $k `,` $v (`,` $projection^)? attr-dict `:` type($q) `,` type($k)
    `,` type($v) (`,` type($projection)^)? `->` type($output)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// scale, or 1/sqrt(D) when absent.
    double getEffectiveScale();
  }];
}

//===----------------------------------------------------------------------===//
// VectorQuantizeOp
//===----------------------------------------------------------------------===//

def AttnFlow_VectorQuantizeOp : AttnFlow_Op<"vector_quantize", [Pure]> {
  let summary = "nearest-codeword vector quantization (Transformer-VQ)";
  let description = [{
    For each vector x of the last dimension, idx = argmin_c |x - c|^2 over
    the codebook rows (ties: the lowest c) and xq = codebook[idx]
    (van den Oord et al. 2017, VQ-VAE eq. 1; Lingle 2024, Transformer-VQ
    §3.1).

    Shapes: `x` `[..., D]` (rank >= 1); `codebook` `[C, D]` shared, or
    `[H, C, D]` per head for `x` `[B, H, S, D]`; C >= 1. Results: `idx` i64
    `[...]` (x's shape without D) and `xq` shaped and typed like x.
    f16 / bf16 distances are computed in f32.

    Errors: dynamic shapes, a codebook of another rank, D, head count or
    element type, an empty codebook, result types that do not match.
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$x,
    AttnFlow_FloatTensor:$codebook
  );
  let results = (outs
    RankedTensorOf<[I64]>:$indices,
    AttnFlow_FloatTensor:$quantized
  );

  let assemblyFormat = [{
    $x `,` $codebook attr-dict `:` type($x) `,` type($codebook) `->`
    type($indices) `,` type($quantized)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// VQAttentionOp
//===----------------------------------------------------------------------===//

def AttnFlow_VQAttentionOp : AttnFlow_Op<"vq_attention", [Pure]> {
  let summary = "softmax attention over vector-quantized keys "
                "(Transformer-VQ), in linear time";
  let description = [{
    Exactly `attention(q, vector_quantize(k, codebook).xq, v)` with the
    attention conventions: scores scale * q . k, q_offset = Skv - Sq
    (bottom-right causal mask), GQA (Lingle 2024, "Transformer-VQ:
    Linear-Time Transformers via Vector Quantization", Theorem 3.4 and §3.3).
    Because keys take only C values, it is computed in time linear in S from
    per-code aggregates (counts and sums of v), blockwise for `causal` with
    exact scores inside a block.

    Shapes: `q` `[B, Hq, Sq, D]`, `k` `[B, Hkv, Skv, D]`, `v`
    `[B, Hkv, Skv, Dv]`, Hq % Hkv == 0; `codebook` `[C, D]` shared or
    `[Hkv, C, D]` per kv head, C >= 1. Result `[B, Hq, Sq, Dv]`. One element
    type (f16 / bf16 computed in f32).

    Attributes: `scale` (1/sqrt(D)), `causal` (false), `block_len` (a tuning
    hint for the causal block length, >= 1; absent = chosen by the
    lowering).

    Errors: as attention for q, k, v; a codebook of another rank, D, head
    count or element type, or empty; scale not finite and > 0; block_len < 1.
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$q,
    AttnFlow_FloatTensor:$k,
    AttnFlow_FloatTensor:$v,
    AttnFlow_FloatTensor:$codebook,
    OptionalAttr<F64Attr>:$scale,
    DefaultValuedAttr<BoolAttr, "false">:$causal,
    OptionalAttr<I64Attr>:$block_len
  );
  let results = (outs AttnFlow_FloatTensor:$output);

  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $codebook attr-dict `:` type($q) `,` type($k) `,`
    type($v) `,` type($codebook) `->` type($output)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// scale, or 1/sqrt(D) when absent.
    double getEffectiveScale();
  }];
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_LINEARATTENTIONOPS_TD
