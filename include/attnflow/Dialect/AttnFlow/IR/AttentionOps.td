//===- AttentionOps.td - RoPE and softmax attention --------*- tablegen -*-===//

#ifndef ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONOPS_TD
#define ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONOPS_TD

include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.td"
include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/TilingInterface.td"
include "mlir/Interfaces/ValueBoundsOpInterface.td"

def AttnFlow_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def AttnFlow_PositionTensor : RankedTensorOf<[I32, I64]>;

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

def AttnFlow_RopeOp : AttnFlow_Op<"rope", [Pure,
    DeclareOpInterfaceMethods<ValueBoundsOpInterface,
        ["populateBoundsForShapedValueDim"]>,
    DeclareOpInterfaceMethods<TilingInterface,
        ["getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
         "getResultTilePosition", "generateResultTileValue"]>]> {
  let summary = "rotary position embedding (RoPE)";
  let description = [{
    Rotates pairs of the last dimension of `x` by position-dependent angles
    (Su et al. 2021, "RoFormer", eq. 34):

        inv_freq_i = theta^(-2i / rotary_dim), i in [0, rotary_dim/2)
        angle      = position * inv_freq_i      (computed in f32 from the
                                                  integer position)
        (a, b)    -> (a cos - b sin, a sin + b cos)

    with inv_freq_i modified by `scaling` (see `#attnflow.rope_scaling`).

    Shapes: `x` is `[B, H, S, D]` (f32, f16, bf16 or f64; f16/bf16 are
    computed in f32 and rounded); the result has x's type. `positions` (i32
    or i64) is `[S]` or `[B, S]`; with `mrope_section` it is `[A, S]` or
    `[A, B, S]`, A = number of sections.

    Attributes:
    - `theta` (default 10000.0): the RoPE base.
    - `rotary_dim` (default D): even, <= D; dims >= rotary_dim pass through
      (GPT-NeoX `rotary_pct`, Hugging Face `partial_rotary_factor`).
    - `layout` (default `half`): pairs (i, i + rotary_dim/2) or (2i, 2i+1).
    - `mrope_section`: Qwen2-VL multimodal RoPE: consecutive frequency pairs
      per position axis, summing to rotary_dim/2; pair i takes the position of
      its section's axis.
    - `scaling`: context-extension scaling of the frequencies.

    B, H and S may be dynamic (the op is tiled over [B, H, S] and fused into
    attention tiles through TilingInterface); D must be static.

    Errors: the verifier rejects a dynamic D, ranks other than the above,
    odd or out-of-range rotary_dim, non-positive theta, mrope sections that do
    not sum to rotary_dim/2 or do not match positions' leading dimension, and
    scalings that need `original_max_position` without it.

    Example:
    ```mlir
    %y = attnflow.rope %x, %pos {theta = 500000.0 : f64,
           scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0,
                                            original_max_position = 8192>}
         : tensor<1x32x64x128xf32>, tensor<64xi64> -> tensor<1x32x64x128xf32>
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$x,
    AttnFlow_PositionTensor:$positions,
    DefaultValuedAttr<F64Attr, "10000.0">:$theta,
    OptionalAttr<I64Attr>:$rotary_dim,
    DefaultValuedAttr<AttnFlow_RopeLayoutAttr,
                      "::mlir::attnflow::RopeLayout::half">:$layout,
    OptionalAttr<DenseI64ArrayAttr>:$mrope_section,
    OptionalAttr<AttnFlow_RopeScalingAttr>:$scaling
  );
  let results = (outs AttnFlow_FloatTensor:$result);

  let assemblyFormat = [{
    $x `,` $positions attr-dict `:` type($x) `,` type($positions) `->` type($result)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// rotary_dim, or D when the attribute is absent.
    int64_t getEffectiveRotaryDim();
  }];
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

def AttnFlow_AttentionOp : AttnFlow_Op<"attention", [Pure,
    DeclareOpInterfaceMethods<TilingInterface,
        ["getLoopIteratorTypes", "getIterationDomain", "getTiledImplementation",
         "getResultTilePosition"]>]> {
  let summary = "masked scaled-dot-product softmax attention with GQA";
  let description = [{
    Softmax attention (Vaswani et al. 2017, eq. 1) with the masks and score
    modifiers of current models. Shapes: `q` `[B, Hq, Sq, D]`, `k`
    `[B, Hkv, Skv, D]`, `v` `[B, Hkv, Skv, Dv]`, Hq % Hkv == 0 (GQA / MQA:
    query head h reads kv head h / (Hq / Hkv)); optional additive `bias`
    `[B|1, Hq|1, Sq, Skv]`, broadcast on size-1 dims. Result `[B, Hq, Sq, Dv]`.
    All operands share one element type (f32, f16, bf16 or f64; f16/bf16
    accumulate in f32).

    Query row i has position p = q_offset + i. Key j is visible iff
    (j < num_sink_tokens or p - window_left <= j <= p + window_right, -1 meaning
    no bound on that side) and (not causal or j <= p). A Hugging Face
    `sliding_window = W` is `window_left = W - 1`.

    Score, in this order: s = scale * g(p) * (q . k) with the log-n factor
    g(p) = max(1, ln(p+1) / ln(logn_train_len)) when logn_train_len > 0
    (Qwen logn attention; Chiang & Cholak 2022), else 1; if logit_softcap =
    cap > 0, s = cap * tanh(s / cap) (Gemma 2); then
    s += -alibi_slopes[h] * |p - j| (Press et al. 2022) + bias[b, h, i, j].
    Output = softmax over visible keys of s, times v. A row with no visible
    key, or whose scores are all -inf, outputs 0.

    Attributes (defaults): `scale` (1/sqrt(D)), `causal` (false),
    `window_left` / `window_right` (-1 = unbounded), `q_offset` (Skv - Sq:
    bottom-right aligned as FlashAttention), `num_sink_tokens` (0; StreamingLLM
    attention sinks), `logit_softcap` (0 = off), `alibi_slopes` (length Hq),
    `logn_train_len` (0 = off).

    Tiling (TilingInterface): the iteration domain is [B, Hq, Sq], all
    parallel. A tile becomes a loop over the key/value blocks its mask can
    see, each an `attnflow.online_attention`, then the division by the
    running sum; Hq tiles must be 1 or a multiple of Hq / Hkv.

    Errors: the verifier rejects dynamic shapes, mismatched batch / head /
    head-dim / sequence sizes, Hq not divisible by Hkv, a bias that does not
    broadcast, windows below -1, negative sinks or softcap, alibi_slopes whose
    length is not Hq, and logn_train_len of 1 or below 0.

    Example (Gemma 2 local layer):
    ```mlir
    %o = attnflow.attention %q, %k, %v {causal = true, window_left = 4095 : i64,
                                        logit_softcap = 50.0 : f64}
         : tensor<1x8x64x256xf32>, tensor<1x4x64x256xf32>,
           tensor<1x4x64x256xf32> -> tensor<1x8x64x256xf32>
    ```
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$q,
    AttnFlow_FloatTensor:$k,
    AttnFlow_FloatTensor:$v,
    Optional<AttnFlow_FloatTensor>:$bias,
    OptionalAttr<F64Attr>:$scale,
    DefaultValuedAttr<BoolAttr, "false">:$causal,
    DefaultValuedAttr<I64Attr, "-1">:$window_left,
    DefaultValuedAttr<I64Attr, "-1">:$window_right,
    OptionalAttr<I64Attr>:$q_offset,
    DefaultValuedAttr<I64Attr, "0">:$num_sink_tokens,
    DefaultValuedAttr<F64Attr, "0.0">:$logit_softcap,
    OptionalAttr<DenseF64ArrayAttr>:$alibi_slopes,
    DefaultValuedAttr<I64Attr, "0">:$logn_train_len
  );
  let results = (outs AttnFlow_FloatTensor:$output);

  let assemblyFormat = [{
    $q `,` $k `,` $v (`,` $bias^)? attr-dict `:` type($q) `,` type($k) `,`
    type($v) (`,` type($bias)^)? `->` type($output)
  }];
  let hasVerifier = 1;

  let extraClassDeclaration = [{
    /// scale, or 1/sqrt(D) when absent.
    double getEffectiveScale();
    /// q_offset, or Skv - Sq when absent.
    int64_t getEffectiveQOffset();
    /// window_left / window_right, or -1 when the window is at least
    /// |q_offset| + Sq + Skv: such a window hides no key, and dropping it
    /// keeps position arithmetic within int64.
    int64_t getEffectiveWindowLeft();
    int64_t getEffectiveWindowRight();
  }];
}

//===----------------------------------------------------------------------===//
// OnlineAttentionOp
//===----------------------------------------------------------------------===//

def AttnFlow_OnlineAttentionOp : AttnFlow_Op<"online_attention", [Pure,
    DeclareOpInterfaceMethods<ValueBoundsOpInterface,
        ["populateBoundsForShapedValueDim"]>,
    AllTypesMatch<["acc", "result_acc"]>,
    AllTypesMatch<["max", "result_max", "sum", "result_sum"]>]> {
  let summary = "one key/value block of attention with a running softmax";
  let description = [{
    The tile-level op that tiled `attnflow.attention` loops over (the online
    softmax of Milakov & Gimelshein 2018 as used by FlashAttention, Dao et al.
    2022, Algorithm 1; IREE's `iree_linalg_ext.online_attention`). It folds
    one block of keys into a running row max `max`, row sum `sum` and
    unnormalized output `acc`:

        s_ij  = score of query row i and key j, masked to -inf (as attention)
        m'_i  = max(max_i, max_j s_ij)
        alpha = exp(max_i - m'_i)      (1 while m'_i = -inf)
        p_ij  = exp(s_ij - m'_i)       (0 while m'_i = -inf)
        sum'_i = alpha * sum_i + sum_j p_ij
        acc'_i = alpha * acc_i + sum_j p_ij v_j

    so that after the last block the attention output is acc / sum (0 where
    sum = 0: no visible key). Positions are absolute: query row i has
    position `q_position + i`, key j position `k_position + j`, and query
    head h is head `head_offset + h` of the untiled op (for ALiBi slopes).
    The score modifiers and the mask are those of `attnflow.attention`
    with the same attribute names; `scale` is explicit.

    Shapes: q `[B, Hq, Sq, D]`, k `[B, Hkv, Skv, D]`, v `[B, Hkv, Skv, Dv]`,
    optional bias `[B|1, Hq|1, Sq, Skv]` (already sliced to the block), acc
    `[B, Hq, Sq, Dv]` and max / sum `[B, Hq, Sq]` in f32 (f64 for f64
    inputs). Sizes may be dynamic (edge tiles). Internal: produced by tiling,
    lowered by `--convert-attnflow-to-linalg`.
  }];

  let arguments = (ins
    AttnFlow_FloatTensor:$q,
    AttnFlow_FloatTensor:$k,
    AttnFlow_FloatTensor:$v,
    RankedTensorOf<[F32, F64]>:$acc,
    RankedTensorOf<[F32, F64]>:$max,
    RankedTensorOf<[F32, F64]>:$sum,
    Index:$q_position,
    Index:$k_position,
    Index:$head_offset,
    Optional<AttnFlow_FloatTensor>:$bias,
    F64Attr:$scale,
    DefaultValuedAttr<BoolAttr, "false">:$causal,
    DefaultValuedAttr<I64Attr, "-1">:$window_left,
    DefaultValuedAttr<I64Attr, "-1">:$window_right,
    DefaultValuedAttr<I64Attr, "0">:$num_sink_tokens,
    DefaultValuedAttr<F64Attr, "0.0">:$logit_softcap,
    OptionalAttr<DenseF64ArrayAttr>:$alibi_slopes,
    DefaultValuedAttr<I64Attr, "0">:$logn_train_len
  );
  let results = (outs
    RankedTensorOf<[F32, F64]>:$result_acc,
    RankedTensorOf<[F32, F64]>:$result_max,
    RankedTensorOf<[F32, F64]>:$result_sum
  );

  let assemblyFormat = [{
    $q `,` $k `,` $v (`,` $bias^)? `at` `(` $q_position `,` $k_position `,`
    $head_offset `)` `into` `(` $acc `,` $max `,` $sum `)` attr-dict `:`
    type($q) `,` type($k) `,` type($v) (`,` type($bias)^)? `into`
    type($acc) `,` type($max)
  }];
  let hasVerifier = 1;
}

#endif // ATTNFLOW_DIALECT_ATTNFLOW_IR_ATTENTIONOPS_TD
