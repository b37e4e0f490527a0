"""Baseline attention backends of the benchmark, each run by
``harness.py --worker`` in its own subprocess (under the harness's timeout and
address-space limit).

Every backend computes ``attnflow.attention`` (DESIGN.md §3) with GQA,
``causal`` and ``window_left`` for q [B,Hq,Sq,D], k/v [B,Hkv,Skv,D] float32,
with query row i at position ``q_offset + i``, q_offset = Skv - Sq.

A backend is a class with ``describe(case)`` (one line saying what exactly is
run), ``prepare(case, q, k, v)`` (compile / build / lay out the inputs; not
timed) and ``__call__()`` (one timed attention call returning the output as a
numpy array [B,Hq,Sq,D]).  ``prepare`` raises :class:`NotApplicable` when the
backend cannot express the case, and :class:`Missing` when its package is not
installed.
"""

import math

import numpy as np

__all__ = ["NotApplicable", "Missing", "BACKENDS", "visible_mask"]


class NotApplicable(Exception):
    """The backend cannot express this case (reported as "n/a (reason)")."""


class Missing(Exception):
    """The backend's package is not installed (reported as "missing")."""


def visible_mask(rows, cols, q_offset, causal, window_left):
    """Boolean [len(rows), len(cols)]: key cols[j] visible from query rows[i]
    (DESIGN §3, without sinks, without window_right)."""
    p = (np.asarray(rows, dtype=np.int64) + q_offset)[:, None]
    j = np.asarray(cols, dtype=np.int64)[None, :]
    vis = np.ones((p.shape[0], j.shape[1]), dtype=bool)
    if causal:
        vis &= j <= p
    if window_left >= 0:
        vis &= j >= p - window_left
    return vis


class NumpyBaseline:
    """float32 numpy: query-row chunks, each against the band of keys its rows
    can see, with matmul (OpenBLAS, all cores) for both products and one
    matmul per kv head covering its whole query-head group."""

    # Bytes of one chunk's score block; the chunk's temporaries take ~3x this.
    SCORE_BYTES = 256 << 20

    def describe(self, case):
        return (f"numpy {np.__version__} float32, chunks of query rows x the "
                "key band they can see (masked cost skipped chunk-wise), "
                "np.matmul on the bundled BLAS")

    def prepare(self, case, q, k, v):
        self.case, self.q, self.k, self.v = case, q, k, v

    def __call__(self):
        case, q, k, v = self.case, self.q, self.k, self.v
        batch, hq, sq, dim = q.shape
        hkv, skv = k.shape[1], k.shape[2]
        group = hq // hkv
        wl, causal, q_offset = case["window_left"], case["causal"], case["q_offset"]
        scale = np.float32(1.0 / math.sqrt(dim))
        row_band = skv if wl < 0 else min(skv, wl + 1)
        chunk = self.SCORE_BYTES // (4 * hq * row_band)
        chunk = int(max(16, min(512, chunk)))
        out = np.empty((batch, hq, sq, v.shape[3]), dtype=np.float32)
        for b in range(batch):
            qg = q[b].reshape(hkv, group, sq, dim)
            for start in range(0, sq, chunk):
                end = min(sq, start + chunk)
                p_first, p_last = q_offset + start, q_offset + end - 1
                lo = 0 if wl < 0 else max(0, p_first - wl)
                hi = min(skv - 1, p_last) if causal else skv - 1
                if hi < lo:
                    out[b, :, start:end] = 0
                    continue
                rows = end - start
                qc = qg[:, :, start:end].reshape(hkv, group * rows, dim)
                s = np.matmul(qc, k[b, :, lo:hi + 1].transpose(0, 2, 1))
                s = s.reshape(hkv, group, rows, hi + 1 - lo)
                s *= scale
                vis = visible_mask(range(start, end), range(lo, hi + 1),
                                   q_offset, causal, wl)
                if not vis.all():
                    # An additive 0/-inf bias broadcasts over the heads: far
                    # cheaper than boolean-mask assignment.
                    s += np.where(vis, np.float32(0), np.float32(-np.inf))
                m = s.max(axis=-1, keepdims=True)
                # A row with no visible key has max -inf: output 0, not NaN.
                m[~np.isfinite(m)] = 0
                s -= m
                np.exp(s, out=s)
                denom = s.sum(axis=-1, keepdims=True)
                denom[denom == 0] = 1
                o = np.matmul(s.reshape(hkv, group * rows, hi + 1 - lo),
                              v[b, :, lo:hi + 1])
                o = o.reshape(hkv, group, rows, -1) / denom
                out[b, :, start:end] = o.reshape(hq, rows, -1)
        return out


class OnnxRuntimeBaseline:
    """onnxruntime's CPU com.microsoft GroupQueryAttention (always causal;
    local_window_size = window_left + 1, i.e. Hugging Face's sliding_window).
    Prefill (Sq = Skv) feeds the whole sequence as new keys; decode (Sq = 1)
    keeps the Skv - 1 earlier keys in a past-key/value buffer that is shared
    with the present output through IO binding, as generation loops do, so no
    KV-cache copy is timed."""

    def _import(self):
        try:
            import onnx  # noqa: F401
            import onnxruntime
        except ModuleNotFoundError as err:
            raise Missing(f"onnx/onnxruntime not importable: {err}") from None
        return onnxruntime

    def describe(self, case):
        ort = self._import()
        return (f"onnxruntime {ort.__version__} CPUExecutionProvider with "
                f"{case['threads']} intra-op threads, com.microsoft "
                "GroupQueryAttention (window cases: local_window_size = "
                "window_left + 1); prefill feeds the whole sequence with no "
                "past, decode keeps the earlier keys in past-key/value buffers "
                "shared with the present outputs (IO binding); inputs in its "
                "BSNH layout, transposed before timing")

    def _model(self, batch, hq, hkv, dim, sq, skv, window_left, with_past):
        from onnx import TensorProto, helper
        f32, i32 = TensorProto.FLOAT, TensorProto.INT32
        inputs = [helper.make_tensor_value_info("q", f32, [batch, sq, hq * dim]),
                  helper.make_tensor_value_info("k", f32, [batch, sq, hkv * dim]),
                  helper.make_tensor_value_info("v", f32, [batch, sq, hkv * dim])]
        names = ["q", "k", "v", "", ""]
        if with_past:
            inputs += [helper.make_tensor_value_info(n, f32, [batch, hkv, skv, dim])
                       for n in ("past_k", "past_v")]
            names[3:5] = ["past_k", "past_v"]
        inputs += [helper.make_tensor_value_info("seqlens_k", i32, [batch]),
                   helper.make_tensor_value_info("total_len", i32, [])]
        names += ["seqlens_k", "total_len"]
        attrs = {"num_heads": hq, "kv_num_heads": hkv,
                 "scale": 1.0 / math.sqrt(dim)}
        if window_left >= 0:
            attrs["local_window_size"] = window_left + 1
        node = helper.make_node("GroupQueryAttention", names, ["o", "pk", "pv"],
                                domain="com.microsoft", **attrs)
        outputs = [helper.make_tensor_value_info(n, f32, None)
                   for n in ("o", "pk", "pv")]
        graph = helper.make_graph([node], "gqa", inputs, outputs)
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        return model.SerializeToString()

    def prepare(self, case, q, k, v):
        ort = self._import()
        batch, hq, sq, dim = q.shape
        hkv, skv = k.shape[1], k.shape[2]
        if not case["causal"]:
            raise NotApplicable("GroupQueryAttention is always causal")
        if sq not in (1, skv):
            raise NotApplicable("only prefill (Sq = Skv) and decode (Sq = 1)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = case["threads"]
        decode = sq == 1 and skv > 1
        self.session = ort.InferenceSession(
            self._model(batch, hq, hkv, dim, sq, skv, case["window_left"], decode),
            options, providers=["CPUExecutionProvider"])
        self.shape = (batch, sq, hq, dim)

        def bsnh(x):
            return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(
                x.shape[0], x.shape[2], -1)
        lens = {"seqlens_k": np.full(batch, skv - 1, dtype=np.int32),
                "total_len": np.array(skv, dtype=np.int32)}
        if not decode:
            self.feeds = {"q": bsnh(q), "k": bsnh(k), "v": bsnh(v), **lens}
            self.binding = None
            return
        # The past buffer holds all Skv keys; GQA writes the new (last) key
        # at position Skv - 1 in place because present aliases past.
        self.past = [ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(x))
                     for x in (k, v)]
        binding = self.session.io_binding()
        binding.bind_cpu_input("q", bsnh(q))
        binding.bind_cpu_input("k", bsnh(k[:, :, -1:]))
        binding.bind_cpu_input("v", bsnh(v[:, :, -1:]))
        binding.bind_ortvalue_input("past_k", self.past[0])
        binding.bind_ortvalue_input("past_v", self.past[1])
        for name, value in lens.items():
            binding.bind_cpu_input(name, value)
        binding.bind_output("o")
        binding.bind_ortvalue_output("pk", self.past[0])
        binding.bind_ortvalue_output("pv", self.past[1])
        self.binding = binding

    def __call__(self):
        if self.binding is None:
            out = self.session.run(["o"], self.feeds)[0]
        else:
            self.session.run_with_iobinding(self.binding)
            out = self.binding.get_outputs()[0].numpy()
        return out.reshape(self.shape).transpose(0, 2, 1, 3)


def _iree_mask_value(case):
    """MLIR for the visibility predicate of key %j from query row %i (index
    values), yielding %vis : i1; None when every key is visible."""
    sq, skv, off = case["sq"], case["skv"], case["q_offset"]
    if visible_mask(range(sq), range(skv), off, case["causal"],
                    case["window_left"]).all():
        return None
    lines = [f"%off = arith.constant {off} : index",
             "%p = arith.addi %i, %off : index"]
    conditions = []  # (name, definition) of each i1 that must hold
    if case["causal"]:
        conditions.append(("causal", "arith.cmpi sle, %j, %p : index"))
    if case["window_left"] >= 0:
        lines.append(f"%wl = arith.constant {case['window_left']} : index")
        lines.append("%lo = arith.subi %p, %wl : index")
        conditions.append(("window", "arith.cmpi sge, %j, %lo : index"))
    if len(conditions) == 1:
        lines.append(f"%vis = {conditions[0][1]}")
    else:
        lines += [f"%{name} = {definition}" for name, definition in conditions]
        lines.append("%vis = arith.andi %causal, %window : i1")
    return "\n      ".join(lines)


def _iree_io(case, dim):
    """Shared prologue / epilogue of the IREE modules: q [B,Hq,Sq,D] viewed
    as [B*Hkv, G, Sq, D] (query head h = kv head * G + g), k and v as
    [B*Hkv, Skv, D]."""
    b, hq, hkv, sq, skv = (case[n] for n in ("batch", "hq", "hkv", "sq", "skv"))
    g, bh = hq // hkv, b * hkv
    qt, kt = f"tensor<{b}x{hq}x{sq}x{dim}xf32>", f"tensor<{b}x{hkv}x{skv}x{dim}xf32>"
    q4 = f"tensor<{bh}x{g}x{sq}x{dim}xf32>"
    k3 = f"tensor<{bh}x{skv}x{dim}xf32>"
    head = f"""func.func @main(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
  %qf = tensor.collapse_shape %q [[0, 1], [2], [3]] : {qt} into tensor<{b * hq}x{sq}x{dim}xf32>
  %q4 = tensor.expand_shape %qf [[0, 1], [2], [3]] output_shape [{bh}, {g}, {sq}, {dim}] : tensor<{b * hq}x{sq}x{dim}xf32> into {q4}
  %k3 = tensor.collapse_shape %k [[0, 1], [2], [3]] : {kt} into {k3}
  %v3 = tensor.collapse_shape %v [[0, 1], [2], [3]] : {kt} into {k3}
  %zero = arith.constant 0.0 : f32
  %scale = arith.constant {1.0 / math.sqrt(dim)!r} : f32
"""
    tail = f"""  %of = tensor.collapse_shape %o [[0, 1], [2], [3]] : {q4} into tensor<{b * hq}x{sq}x{dim}xf32>
  %o4 = tensor.expand_shape %of [[0, 1], [2], [3]] output_shape [{b}, {hq}, {sq}, {dim}] : tensor<{b * hq}x{sq}x{dim}xf32> into {qt}
  return %o4 : {qt}
}}
"""
    return head, tail, q4, k3


def iree_attention_module(case, dim):
    """MLIR of ``iree_linalg_ext.attention`` with GQA indexing maps and, when
    some key is hidden, an i1 mask [Sq, Skv] built by a linalg.generic from
    the indices (true = visible).

    The mask is an operand rather than an ``iree_linalg_ext.index`` inside
    the op's region: IREE 3.13's dimension collapsing merges (g, m) and leaves
    such index ops pointing at the old loops (compile error).
    """
    head, tail, q4, k3 = _iree_io(case, dim)
    sq, skv = case["sq"], case["skv"]
    predicate = _iree_mask_value(case)
    maps = ["(h, g, m, n, k1, k2) -> (h, g, m, k1)",
            "(h, g, m, n, k1, k2) -> (h, k2, k1)",
            "(h, g, m, n, k1, k2) -> (h, k2, n)",
            "(h, g, m, n, k1, k2) -> ()"]
    operands, types = "%q4, %k3, %v3, %scale", f"{q4}, {k3}, {k3}, f32"
    mask = ""
    if predicate is not None:
        mt = f"tensor<{sq}x{skv}xi1>"
        mask = f"""  %me = tensor.empty() : {mt}
  %mask = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}} outs(%me : {mt}) {{
    ^bb0(%unused: i1):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      {predicate}
      linalg.yield %vis : i1
  }} -> {mt}
"""
        maps.append("(h, g, m, n, k1, k2) -> (m, k2)")
        operands += ", %mask"
        types += f", {mt}"
    maps.append("(h, g, m, n, k1, k2) -> (h, g, m, n)")
    map_text = ",\n      ".join(f"affine_map<{m}>" for m in maps)
    body = f"""{mask}  %init = tensor.empty() : {q4}
  %o = iree_linalg_ext.attention <{{indexing_maps = [
      {map_text}]}}>
      ins({operands} : {types}) outs(%init : {q4}) {{
    ^bb0(%score: f32):
      iree_linalg_ext.yield %score : f32
  }} -> {q4}
"""
    return head + body + tail


def iree_linalg_module(case, dim):
    """MLIR of attention as plain linalg: the QK^T contraction, scale and mask
    (-inf), ``linalg.softmax`` and the PV contraction.  It materializes all
    B*Hq*Sq*Skv scores, but IREE compiles contractions far better than its
    attention op on CPU (see RESULTS.md)."""
    head, tail, q4, k3 = _iree_io(case, dim)
    bh, g = case["batch"] * case["hkv"], case["hq"] // case["hkv"]
    sq, skv = case["sq"], case["skv"]
    st = f"tensor<{bh}x{g}x{sq}x{skv}xf32>"
    predicate = _iree_mask_value(case)
    if predicate is None:
        masked = "%y"
        predicate = ""
    else:
        masked = "%r"
        predicate += "\n      %ninf = arith.constant 0xFF800000 : f32"
        predicate += "\n      %r = arith.select %vis, %y, %ninf : f32"
    return head + f"""  %se = tensor.empty() : {st}
  %sz = linalg.fill ins(%zero : f32) outs(%se : {st}) -> {st}
  %s = linalg.generic {{indexing_maps = [
      affine_map<(h, g, m, n, d) -> (h, g, m, d)>,
      affine_map<(h, g, m, n, d) -> (h, n, d)>,
      affine_map<(h, g, m, n, d) -> (h, g, m, n)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}}
      ins(%q4, %k3 : {q4}, {k3}) outs(%sz : {st}) {{
    ^bb0(%a: f32, %b: f32, %c: f32):
      %ab = arith.mulf %a, %b : f32
      %acc = arith.addf %c, %ab : f32
      linalg.yield %acc : f32
  }} -> {st}
  %sm = linalg.generic {{indexing_maps = [
      affine_map<(h, g, m, n) -> (h, g, m, n)>, affine_map<(h, g, m, n) -> (h, g, m, n)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel"]}}
      ins(%s : {st}) outs(%se : {st}) {{
    ^bb0(%x: f32, %unused: f32):
      %i = linalg.index 2 : index
      %j = linalg.index 3 : index
      %y = arith.mulf %x, %scale : f32
      {predicate}
      linalg.yield {masked} : f32
  }} -> {st}
  %p = linalg.softmax dimension(3) ins(%sm : {st}) outs(%se : {st}) -> {st}
  %oe = tensor.empty() : {q4}
  %oz = linalg.fill ins(%zero : f32) outs(%oe : {q4}) -> {q4}
  %o = linalg.generic {{indexing_maps = [
      affine_map<(h, g, m, d, n) -> (h, g, m, n)>,
      affine_map<(h, g, m, d, n) -> (h, n, d)>,
      affine_map<(h, g, m, d, n) -> (h, g, m, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}}
      ins(%p, %v3 : {st}, {k3}) outs(%oz : {q4}) {{
    ^bb0(%a: f32, %b: f32, %c: f32):
      %ab = arith.mulf %a, %b : f32
      %acc = arith.addf %c, %ab : f32
      linalg.yield %acc : f32
  }} -> {q4}
""" + tail


class IreeBaseline:
    """IREE's llvm-cpu backend (iree-base-compiler / iree-base-runtime),
    compiled for the host CPU, run on the local-task driver with one worker
    per core."""

    def __init__(self, variant):
        self.variant = variant

    def _import(self):
        try:
            import iree.compiler
            import iree.runtime
        except ModuleNotFoundError as err:
            raise Missing(f"iree-base-compiler/runtime not importable: {err}") from None
        return iree.compiler, iree.runtime

    def describe(self, case):
        self._import()
        from iree.compiler import version
        form = ("iree_linalg_ext.attention (GQA indexing maps, i1 mask built "
                "in-graph)" if self.variant == "attention" else
                "linalg QK^T contraction + mask + linalg.softmax + PV "
                "contraction (materializes Hq*Sq*Skv scores)")
        return (f"IREE {version.VERSION} llvm-cpu "
                f"--iree-llvmcpu-target-cpu=host, local-task with "
                f"{case['threads']} workers: {form}")

    def prepare(self, case, q, k, v):
        compiler, runtime = self._import()
        build = (iree_attention_module if self.variant == "attention"
                 else iree_linalg_module)
        vmfb = compiler.compile_str(build(case, q.shape[3]), extra_args=[
            "--iree-hal-target-device=local",
            "--iree-hal-local-target-device-backends=llvm-cpu",
            "--iree-llvmcpu-target-cpu=host"])
        # The default topology counts physical cores per NUMA node; name the
        # worker count so every backend uses the same cores.
        runtime.flags.parse_flags(f"--task_topology_group_count={case['threads']}")
        config = runtime.Config("local-task")
        context = runtime.SystemContext(config=config)
        context.add_vm_module(runtime.VmModule.copy_buffer(config.vm_instance, vmfb))
        self.function = context.modules.module["main"]
        self.args = [runtime.asdevicearray(config.device, x) for x in (q, k, v)]
        self.context = context

    def __call__(self):
        return self.function(*self.args).to_host()


BACKENDS = {
    "numpy": NumpyBaseline,
    "onnxruntime": OnnxRuntimeBaseline,
    "iree-attention": lambda: IreeBaseline("attention"),
    "iree-linalg": lambda: IreeBaseline("linalg"),
}
