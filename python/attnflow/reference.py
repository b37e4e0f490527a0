"""Float64 numpy reference implementations of the AttnFlow ops.

Every function here is written from the formulas of DESIGN.md §3 (and, where
the contract defers to it, from Hugging Face transformers'
``modeling_rope_utils.py``), never from compiler output.  Inputs of any float
dtype are promoted to float64 and results are float64.

Functions
---------
rope_parameters, rope_inv_freq   inverse frequencies of RoPE and its scalings
rope                             ``attnflow.rope`` (DESIGN §3)
attention                        ``attnflow.attention`` (DESIGN §3), computed
                                 in query-row chunks over the band of keys each
                                 chunk can see (DESIGN §6), so long sequences
                                 never materialize an Sq x Skv float64 matrix.
"""

import math

import numpy as np

__all__ = ["ROPE_SCALING_KINDS", "rope_parameters", "rope_inv_freq", "rope",
           "attention"]

ROPE_SCALING_KINDS = ("none", "linear", "ntk", "dynamic_ntk", "yarn", "llama3")

_SCALING_KEYS = ("kind", "factor", "original_max_position", "beta_fast",
                 "beta_slow", "low_freq_factor", "high_freq_factor",
                 "attention_factor")

# Kinds for which DESIGN §3 makes original_max_position mandatory.
_NEEDS_ORIGINAL_MAX_POSITION = ("dynamic_ntk", "yarn", "llama3")


def _scaling_params(scaling):
    """Validates a rope scaling dict and fills in the DESIGN §3 defaults.

    Returns a dict with every key of ``_SCALING_KEYS`` (attention_factor and
    original_max_position may be None).  Raises ValueError for an unknown kind
    or key, or a missing original_max_position where it is required.
    """
    if scaling is None:
        scaling = {"kind": "none"}
    unknown = set(scaling) - set(_SCALING_KEYS)
    if unknown:
        raise ValueError(f"unknown rope scaling keys {sorted(unknown)}; "
                         f"expected a subset of {_SCALING_KEYS}")
    if "kind" not in scaling:
        raise ValueError("rope scaling needs a 'kind'")
    kind = scaling["kind"]
    if kind not in ROPE_SCALING_KINDS:
        raise ValueError(f"unknown rope scaling kind {kind!r}; "
                         f"expected one of {ROPE_SCALING_KINDS}")
    p = {"kind": kind, "factor": 1.0, "original_max_position": None,
         "beta_fast": 32.0, "beta_slow": 1.0, "low_freq_factor": 1.0,
         "high_freq_factor": 4.0, "attention_factor": None}
    p.update({key: val for key, val in scaling.items() if val is not None})
    if kind in _NEEDS_ORIGINAL_MAX_POSITION and p["original_max_position"] is None:
        raise ValueError(f"rope scaling kind {kind!r} needs original_max_position")
    return p


def _ntk_exponent(rotary_dim):
    """r / (r - 2), the NTK-aware base exponent; undefined for r = 2."""
    if rotary_dim <= 2:
        raise ValueError("ntk / dynamic_ntk scaling needs rotary_dim > 2 "
                         f"(r/(r-2) is undefined), got {rotary_dim}")
    return rotary_dim / (rotary_dim - 2)


def _yarn_inv_freq(rotary_dim, theta, p):
    """HF ``_compute_yarn_parameters`` with ``truncate=True`` (YaRN, Peng et
    al. 2023, arXiv:2309.00071), for a rope_scaling without the DeepSeek
    ``max_position_embeddings`` override (factor is used as given).

    Returns (inv_freq [rotary_dim/2], attention_factor).
    """
    dim = rotary_dim
    factor = p["factor"]
    orig = p["original_max_position"]

    def find_correction_dim(num_rotations):
        return (dim * math.log(orig / (num_rotations * 2 * math.pi))) / (
            2 * math.log(theta))

    low = max(math.floor(find_correction_dim(p["beta_fast"])), 0)
    high = min(math.ceil(find_correction_dim(p["beta_slow"])), dim - 1)
    if low == high:
        high += 0.001  # HF linear_ramp_factor: prevent a singularity
    ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - low) / (high - low),
                   0.0, 1.0)
    extrapolation_factor = 1.0 - ramp

    pos_freqs = theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    inv_freq = (inv_freq_interpolation * (1.0 - extrapolation_factor)
                + inv_freq_extrapolation * extrapolation_factor)

    attention_factor = p["attention_factor"]
    if attention_factor is None:
        attention_factor = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
    return inv_freq, float(attention_factor)


def _llama3_inv_freq(inv_freq, p):
    """HF ``_compute_llama3_parameters`` (Llama 3.1 frequency scaling)."""
    factor = p["factor"]
    low_freq_factor = p["low_freq_factor"]
    high_freq_factor = p["high_freq_factor"]
    old_context_len = p["original_max_position"]

    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = np.where(wavelen > low_freq_wavelen, inv_freq / factor,
                              inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (
        high_freq_factor - low_freq_factor)
    smoothed = ((1 - smooth_factor) * inv_freq_llama / factor
                + smooth_factor * inv_freq_llama)
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(is_medium, smoothed, inv_freq_llama)


def rope_parameters(rotary_dim, theta=10000.0, scaling=None, max_position=None):
    """RoPE inverse frequencies and attention factor (DESIGN §3 attnflow.rope).

    Args:
      rotary_dim: r, the number of rotated dims (even, >= 2).
      theta: RoPE base.
      scaling: None or a dict ``{"kind": ..., "factor": ...,
        "original_max_position": ..., "beta_fast": ..., "beta_slow": ...,
        "low_freq_factor": ..., "high_freq_factor": ...,
        "attention_factor": ...}``; only ``kind`` is required (original_max_position
        too for dynamic_ntk, yarn and llama3), missing keys or None values take
        the DESIGN §3 defaults (factor 1, beta_fast 32, beta_slow 1,
        low_freq_factor 1, high_freq_factor 4).
      max_position: the largest position in the positions operand; used only by
        dynamic_ntk (L = max_position + 1).  None means "not longer than
        original_max_position" (HF's init-time behaviour: theta unchanged).

    Returns:
      (inv_freq, attention_factor): float64 array [r/2] in radians per position
      step, and the factor that multiplies cos and sin of the rotated dims
      (1.0 except for yarn).

    Kinds (formulas of HF transformers ``modeling_rope_utils.py``):
      none:        inv_freq_i = theta^(-2i/r)
      linear:      inv_freq / factor (``_compute_linear_scaling_rope_parameters``)
      ntk:         theta' = theta * factor^(r/(r-2))
      dynamic_ntk: if L > L0: theta' = theta * (factor*L/L0 - (factor-1))^(r/(r-2))
                   (``_compute_dynamic_ntk_parameters``)
      yarn:        ``_compute_yarn_parameters`` with truncate=True; attention
                   factor defaults to 0.1 ln(factor) + 1 (1 if factor <= 1)
      llama3:      ``_compute_llama3_parameters``

    Raises:
      ValueError: odd or non-positive rotary_dim, bad scaling dict, or
        ntk/dynamic_ntk with rotary_dim = 2.
    """
    if rotary_dim <= 0 or rotary_dim % 2:
        raise ValueError(f"rotary_dim must be even and positive, got {rotary_dim}")
    p = _scaling_params(scaling)
    kind = p["kind"]
    theta = float(theta)
    if kind == "yarn":
        return _yarn_inv_freq(rotary_dim, theta, p)
    if kind == "ntk":
        theta = theta * p["factor"] ** _ntk_exponent(rotary_dim)
    elif kind == "dynamic_ntk":
        exponent = _ntk_exponent(rotary_dim)
        orig = p["original_max_position"]
        if max_position is not None and max_position + 1 > orig:
            seq_len = max_position + 1
            theta = theta * ((p["factor"] * seq_len / orig)
                             - (p["factor"] - 1)) ** exponent
    inv_freq = 1.0 / theta ** (
        np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    if kind == "linear":
        inv_freq = inv_freq / p["factor"]
    elif kind == "llama3":
        inv_freq = _llama3_inv_freq(inv_freq, p)
    return inv_freq, 1.0


def rope_inv_freq(rotary_dim, theta=10000.0, scaling=None, max_position=None):
    """The inv_freq array [rotary_dim/2] of :func:`rope_parameters`."""
    return rope_parameters(rotary_dim, theta, scaling, max_position)[0]


def _pair_positions(positions, batch, seq, num_pairs, mrope_section):
    """Positions per (batch, sequence, frequency pair): int64 [B|1, S, r/2].

    Without M-RoPE positions is [S] or [B,S]; with it [A,S] or [A,B,S] and
    pair i takes the row of the axis whose section contains it.
    """
    pos = np.asarray(positions)
    if not np.issubdtype(pos.dtype, np.integer):
        raise ValueError(f"positions must be integers, got dtype {pos.dtype}")
    pos = pos.astype(np.int64)
    if mrope_section is None:
        if pos.shape == (seq,):
            pos = pos[None, :]
        elif pos.shape != (batch, seq):
            raise ValueError(f"positions must have shape [S]=[{seq}] or "
                             f"[B,S]=[{batch},{seq}], got {list(pos.shape)}")
        return np.broadcast_to(pos[:, :, None], pos.shape + (num_pairs,))
    sections = [int(s) for s in mrope_section]
    if sum(sections) != num_pairs or min(sections) < 0:
        raise ValueError(f"mrope_section {sections} must be non-negative and sum "
                         f"to rotary_dim/2 = {num_pairs}")
    axes = len(sections)
    if pos.shape == (axes, seq):
        pos = pos[:, None, :]
    elif pos.shape != (axes, batch, seq):
        raise ValueError(f"M-RoPE positions must have shape [A,S]=[{axes},{seq}] "
                         f"or [A,B,S]=[{axes},{batch},{seq}], "
                         f"got {list(pos.shape)}")
    axis_of_pair = np.repeat(np.arange(axes), sections)
    # [A, B|1, S] -> [B|1, S, A] -> pick each pair's axis.
    return np.moveaxis(pos, 0, -1)[:, :, axis_of_pair]


def rope(x, positions, theta=10000.0, rotary_dim=None, layout="half",
         mrope_section=None, scaling=None, f32_angles=True):
    """Rotary position embedding, ``attnflow.rope`` (DESIGN §3).

    Su et al. 2021, "RoFormer" (arXiv:2104.09864); M-RoPE from Qwen2-VL.

    Args:
      x: [B,H,S,D] array, any float dtype.
      positions: integer array [S] or [B,S]; with mrope_section [A,S] or
        [A,B,S] where A = len(mrope_section).
      theta: RoPE base.
      rotary_dim: r (even, <= D); None means D.  Dims >= r pass through.
      layout: "half" (NeoX/LLaMA, pairs (i, i + r/2)) or "interleaved"
        (GPT-J, pairs (2i, 2i+1)).
      mrope_section: None or the number of consecutive frequency pairs per
        position axis (sum = r/2).
      scaling: None or a scaling dict, see :func:`rope_parameters`.  For
        dynamic_ntk, L = max(positions) + 1 over the whole positions array.
      f32_angles: True reproduces the contract's f32 angle exactly: inv_freq
        rounded to float32, angle = float32(float32(position) * inv_freq32);
        cos/sin are then taken in float64 of that angle.  False computes the
        angle in float64.

    Returns:
      float64 [B,H,S,D]; pair (a, b) -> (a cos - b sin, a sin + b cos), with
      cos and sin multiplied by the attention factor (yarn only).

    Raises:
      ValueError: bad shapes, layout, rotary_dim, mrope_section or scaling.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"x must be [B,H,S,D], got shape {list(x.shape)}")
    batch, _, seq, dim = x.shape
    r = dim if rotary_dim is None else int(rotary_dim)
    if r <= 0 or r % 2 or r > dim:
        raise ValueError(f"rotary_dim must be even, positive and <= D={dim}, got {r}")
    if layout not in ("half", "interleaved"):
        raise ValueError(f"layout must be 'half' or 'interleaved', got {layout!r}")
    half = r // 2
    pos = _pair_positions(positions, batch, seq, half, mrope_section)
    max_position = int(np.max(positions)) if np.size(positions) else None
    inv_freq, attention_factor = rope_parameters(r, theta, scaling, max_position)

    if f32_angles:
        angle = (pos.astype(np.float32) * inv_freq.astype(np.float32)).astype(
            np.float64)
    else:
        angle = pos.astype(np.float64) * inv_freq
    # [B|1, S, r/2] -> [B|1, 1, S, r/2], broadcast over heads.
    cos = (attention_factor * np.cos(angle))[:, None]
    sin = (attention_factor * np.sin(angle))[:, None]

    out = x.copy()
    if layout == "half":
        a, b = x[..., :half], x[..., half:r]
        out[..., :half] = a * cos - b * sin
        out[..., half:r] = a * sin + b * cos
    else:
        a, b = x[..., 0:r:2], x[..., 1:r:2]
        out[..., 0:r:2] = a * cos - b * sin
        out[..., 1:r:2] = a * sin + b * cos
    return out


# Budget for one chunk's score matrix, in float64 elements (8 MiB; the chunk's
# temporaries take a few times that).
_CHUNK_SCORE_ELEMENTS = 1 << 20


def _key_band(p_first, p_last, skv, causal, window_left, window_right,
              num_sink_tokens):
    """Indices of the keys any query position in [p_first, p_last] can see:
    the sinks plus one contiguous band (DESIGN §3 visibility rule)."""
    lo = 0 if window_left < 0 else max(0, p_first - window_left)
    hi = skv - 1
    if window_right >= 0:
        hi = min(hi, p_last + window_right)
    if causal:
        hi = min(hi, p_last)
    sinks = min(num_sink_tokens, skv)
    band = np.arange(max(lo, sinks), hi + 1, dtype=np.int64)
    return np.concatenate([np.arange(sinks, dtype=np.int64), band])


def attention(q, k, v, bias=None, scale=None, causal=False, window_left=-1,
              window_right=-1, q_offset=None, num_sink_tokens=0,
              logit_softcap=0.0, alibi_slopes=None, logn_train_len=0):
    """Softmax attention, ``attnflow.attention`` (DESIGN §3): full, causal,
    sliding-window (Longformer / Mistral), attention sinks (StreamingLLM),
    logit soft-capping (Gemma 2), ALiBi (Press et al. 2021), log-n scaling
    (Qwen), GQA/MQA.

    Args:
      q: [B,Hq,Sq,D]; k: [B,Hkv,Skv,D]; v: [B,Hkv,Skv,Dv]; Hq % Hkv == 0 and
        query head h reads kv head h // (Hq/Hkv).  Any float dtype.
      bias: None or additive [B|1, Hq|1, Sq, Skv], broadcast on size-1 dims;
        may hold -inf.
      scale: None means 1/sqrt(D).
      causal: key j visible only if j <= p.
      window_left, window_right: -1 = unbounded, else visible only if
        p - window_left <= j <= p + window_right (HF sliding_window W is
        window_left = W - 1).
      q_offset: position p of query row 0; None means Skv - Sq (bottom-right).
      num_sink_tokens: keys j < this are visible regardless of the window
        (still subject to causality).
      logit_softcap: cap > 0 applies s = cap * tanh(s / cap).
      alibi_slopes: None or [Hq]; adds -slope[h] * |p - j|.
      logn_train_len: L > 0 multiplies scores by g(p) = max(1, ln(p+1)/ln(L))
        (g = 1 when p + 1 <= 1).

    Score order: s = scale * g(p) * (q . k); softcap; + alibi; + bias.
    Output row = softmax over visible keys of s, times v; a row with no visible
    key or only -inf scores is 0.

    Returns:
      float64 [B,Hq,Sq,Dv].

    Computed in chunks of query rows, each against only the sinks plus the band
    of keys its rows can see, so memory is bounded by a few 8 MiB score
    temporaries plus the (float64 copies of the) inputs, and work follows the
    mask (O(Sq * window * D) for a sliding window).

    Raises:
      ValueError: shape mismatches, window below -1, negative
        num_sink_tokens, alibi_slopes not of length Hq, logn_train_len = 1.
    """
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("q, k, v must be rank 4 ([B,H,S,D]), got shapes "
                         f"{list(q.shape)}, {list(k.shape)}, {list(v.shape)}")
    batch, hq, sq, dim = q.shape
    if k.shape[0] != batch or k.shape[3] != dim:
        raise ValueError(f"k must be [B={batch},Hkv,Skv,D={dim}], "
                         f"got {list(k.shape)}")
    hkv, skv = k.shape[1], k.shape[2]
    if v.shape[:3] != k.shape[:3]:
        raise ValueError(f"v must be [B,Hkv,Skv,Dv]=[{batch},{hkv},{skv},Dv], "
                         f"got {list(v.shape)}")
    if hq % hkv:
        raise ValueError(f"Hq={hq} must be a multiple of Hkv={hkv}")
    dv = v.shape[3]
    group = hq // hkv
    if window_left < -1 or window_right < -1:
        raise ValueError(f"window_left/window_right must be >= -1, got "
                         f"{window_left}/{window_right}")
    if num_sink_tokens < 0:
        raise ValueError(f"num_sink_tokens must be >= 0, got {num_sink_tokens}")
    if logn_train_len == 1:
        raise ValueError("logn_train_len = 1 makes ln(p+1)/ln(L) undefined")
    if bias is not None:
        bias = np.asarray(bias, dtype=np.float64)
        if (bias.ndim != 4 or bias.shape[0] not in (1, batch)
                or bias.shape[1] not in (1, hq) or bias.shape[2:] != (sq, skv)):
            raise ValueError(f"bias must be [B|1,Hq|1,Sq,Skv] with B={batch}, "
                             f"Hq={hq}, Sq={sq}, Skv={skv}; got {list(bias.shape)}")
    if alibi_slopes is not None:
        alibi_slopes = np.asarray(alibi_slopes, dtype=np.float64)
        if alibi_slopes.shape != (hq,):
            raise ValueError(f"alibi_slopes must have length Hq={hq}, "
                             f"got shape {list(alibi_slopes.shape)}")
    if scale is None:
        scale = 1.0 / math.sqrt(dim)
    if q_offset is None:
        q_offset = skv - sq

    # Keys one row can see, to size the chunks: sinks + window band.
    row_band = skv
    if window_left >= 0 and (window_right >= 0 or causal):
        row_band = min(skv, num_sink_tokens + window_left
                       + (0 if causal else window_right) + 1)
    # A chunk of n rows sees at most min(Skv, row_band + n) keys: take the
    # largest n with batch*hq*n*min(Skv, row_band + n) <= the budget, and at
    # most max(row_band, 64) so that work stays O(Sq * row_band * D).
    per_head = _CHUNK_SCORE_ELEMENTS / (batch * hq)
    rows_full = int(per_head // max(skv, 1))
    rows_band = int((math.sqrt(row_band * row_band + 4 * per_head) - row_band) / 2)
    rows = max(1, min(sq, max(rows_full, rows_band), max(row_band, 64)))

    out = np.zeros((batch, hq, sq, dv), dtype=np.float64)
    for r0 in range(0, sq, rows):
        r1 = min(sq, r0 + rows)
        nr = r1 - r0
        p = q_offset + np.arange(r0, r1, dtype=np.int64)  # [nr]
        keys = _key_band(int(p[0]), int(p[-1]), skv, causal, window_left,
                         window_right, num_sink_tokens)
        if keys.size == 0:
            continue  # no row of this chunk sees a key: output stays 0
        kc = k[:, :, keys]  # [B,Hkv,nk,D]
        vc = v[:, :, keys]  # [B,Hkv,nk,Dv]
        # GQA without repeating k: [B,Hkv,G*nr,D] @ [B,Hkv,D,nk].
        qc = q[:, :, r0:r1].reshape(batch, hkv, group * nr, dim)
        s = np.matmul(qc, kc.transpose(0, 1, 3, 2)).reshape(
            batch, hq, nr, keys.size)

        row_scale = np.full(nr, scale)
        if logn_train_len > 0:
            ln_p1 = np.log(np.maximum(p + 1, 1).astype(np.float64))
            row_scale = row_scale * np.maximum(1.0, ln_p1 / math.log(logn_train_len))
        s *= row_scale[:, None]
        if logit_softcap > 0:
            s = logit_softcap * np.tanh(s / logit_softcap)
        dist = np.abs(p[:, None] - keys[None, :]).astype(np.float64)  # [nr,nk]
        if alibi_slopes is not None:
            s -= alibi_slopes[None, :, None, None] * dist
        if bias is not None:
            s += bias[:, :, r0:r1][..., keys]

        j = keys[None, :]
        pp = p[:, None]
        in_window = np.ones((nr, keys.size), dtype=bool)
        # As offsets j - p, so that windows up to 2^63 - 1 do not overflow.
        if window_left >= 0:
            in_window &= (j - pp) >= -window_left
        if window_right >= 0:
            in_window &= (j - pp) <= window_right
        visible = (j < num_sink_tokens) | in_window
        if causal:
            visible &= j <= pp
        s = np.where(visible, s, -np.inf)

        smax = s.max(axis=-1, keepdims=True)
        live = np.isfinite(smax)  # rows with at least one finite score
        e = np.exp(s - np.where(live, smax, 0.0))
        denom = e.sum(axis=-1, keepdims=True)
        ev = np.matmul(e.reshape(batch, hkv, group * nr, keys.size), vc)
        ev = ev.reshape(batch, hq, nr, dv)
        out[:, :, r0:r1] = np.where(live, ev / np.where(live, denom, 1.0), 0.0)
    return out
