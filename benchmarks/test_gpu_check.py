"""Tests of gpu_check.py's parts that need no GPU.

With Debian's numpy and pytest only: the visibility rule and FLOP count that
every TFLOP/s figure divides by, the check rows, the sampled-row float64
reference against the full one, bf16 rounding, the chunked attention the torch
eager path runs (here on numpy), the manifest, the harness output parser, the
examples against their descriptions, and the whole ``run`` half on small cases
with a stand-in harness.  The torch paths are tested too when torch is
importable (on the CPU); otherwise those tests are skipped.
"""

import importlib.util
import json
import os
import stat
import sys
import textwrap

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gpu_check as gc  # noqa: E402
from attnflow import reference, runner  # noqa: E402

BUILD_DIR = os.environ.get("ATTNFLOW_BUILD_DIR", os.path.join(gc.ROOT, "build"))


def tiny(name="t", sq=37, skv=37, dtype="f32", rope=None, positions=None, **attention):
    return gc.make_case(name, "tiny", dtype=dtype, hq=4, hkv=2, sq=sq, skv=skv,
                        dim=8, attention=attention, rope=rope, positions=positions)


TINY = [tiny(causal=True), tiny(causal=True, window_left=6), tiny(sq=1, skv=40, causal=True),
        tiny(sq=5, skv=40, causal=True, window_left=15), tiny(sq=50, skv=50),
        tiny(sq=20, skv=30, window_left=3, window_right=2),
        tiny(sq=20, skv=30, causal=True, q_offset=0),
        tiny(sq=20, skv=30, causal=True, q_offset=25, window_left=4)]


def ident(case):
    return f"{case['sq']}x{case['skv']}-" + "-".join(
        f"{k}{v}" for k, v in sorted(case["attention"].items()))


@pytest.mark.parametrize("case", TINY, ids=ident)
def test_visible_pairs_and_flops_count_the_mask(case):
    a = case["attention"]
    p = gc.q_offset_of(case) + np.arange(case["sq"])[:, None]
    j = np.arange(case["skv"])[None, :]
    mask = gc.visible_mask(p, j, a.get("causal", False), a.get("window_left", -1),
                           a.get("window_right", -1))
    assert mask.shape == (case["sq"], case["skv"])
    assert gc.visible_pairs(case) == int(mask.sum())
    assert np.array_equal(gc.visible_counts(case), mask.sum(axis=1))
    assert gc.attention_flops(case) == 4 * 8 * int(mask.sum()) * 4


def test_flops_at_model_sizes():
    by = {c["name"]: c for c in gc.all_cases()}
    assert by["llama3-causal-4k-bf16"]["visible_pairs"] == 4096 * 4097 // 2
    assert by["llama3-causal-4k-bf16"]["flops"] == 4 * 32 * 128 * 4096 * 4097 // 2
    w, s = 4096, 16384
    window = w * (w + 1) // 2 + (s - w) * w
    assert by["mistral-window-16k-f32"]["visible_pairs"] == window
    assert by["mistral_7b_window"]["visible_pairs"] == window
    # Gemma example: 64 queries at positions 4544.., each sees a full window.
    assert by["gemma2_attention"]["visible_pairs"] == 64 * 4096
    assert by["gemma2_attention"]["flops"] == 2 * (256 + 256) * 64 * 4096 * 8


def test_key_band_covers_exactly_the_visible_keys():
    for case in TINY:
        a = case["attention"]
        off = gc.q_offset_of(case)
        for r0 in range(0, case["sq"], 7):
            r1 = min(case["sq"], r0 + 7)
            lo, hi = gc.key_band(off + r0, off + r1 - 1, case["skv"],
                                 a.get("causal", False), a.get("window_left", -1),
                                 a.get("window_right", -1))
            p = off + np.arange(r0, r1)[:, None]
            j = np.arange(case["skv"])[None, :]
            cols = np.nonzero(gc.visible_mask(p, j, a.get("causal", False),
                                              a.get("window_left", -1),
                                              a.get("window_right", -1)).any(0))[0]
            if cols.size:
                assert (lo, hi) == (cols[0], cols[-1])
            else:
                assert hi < lo


@pytest.mark.parametrize("case", gc.all_cases() + gc.small_cases(),
                         ids=lambda c: c["name"])
def test_check_blocks(case):
    blocks = case["check_blocks"]
    rows = gc.rows_of(blocks)
    assert rows[0] == 0 and rows[-1] == case["sq"] - 1
    assert np.all(np.diff(rows) > 0)
    if case["sq"] <= gc.FULL_CHECK_ROWS:
        assert blocks == [[0, case["sq"]]]
    else:
        assert rows.size <= 4 * gc.CHECK_BLOCK
        wl = case["attention"].get("window_left", -1)
        if wl >= 0:  # the first row whose window drops key 0 is checked
            assert wl + 1 - gc.q_offset_of(case) in set(rows.tolist())


def full_reference(case, inputs):
    args = gc._by_role(case, inputs)
    q, k, v = args["q"], args["k"], args["v"]
    if case["rope"] is not None:
        qp, kp = gc._positions(case, args)
        q = reference.rope(q, qp, **case["rope"])
        k = reference.rope(k, kp, **case["rope"])
    return reference.attention(q, k, v, **case["attention"])


LLAMA3 = gc.LLAMA3_ROPE
SAMPLED = TINY + [
    tiny("rope-shared", sq=40, skv=40, rope=LLAMA3, positions="shared", causal=True),
    tiny("rope-separate", sq=9, skv=60, rope={"theta": 1e4}, positions="separate",
         causal=True, window_left=20, logit_softcap=5.0, scale=0.3),
    tiny("rope-dyn", sq=30, skv=30, rope={"scaling": {
        "kind": "dynamic_ntk", "factor": 2.0, "original_max_position": 8}},
        positions="shared", causal=True),
    tiny("bf16", sq=33, skv=33, dtype="bf16", causal=True, window_left=9),
]


@pytest.mark.parametrize("case", SAMPLED, ids=lambda c: c["name"] + ident(c))
def test_sampled_reference_rows_equal_the_full_reference(case):
    inputs = gc.make_inputs(case)
    full = full_reference(case, inputs)
    sq = case["sq"]
    blocks = gc._merge([(0, min(3, sq)), (sq // 2, sq // 2 + 1), (max(0, sq - 4), sq)])
    got = gc.reference_rows(case, inputs, blocks)
    assert np.max(np.abs(got - full[:, :, gc.rows_of(blocks)])) < 1e-12
    whole = gc.reference_rows(case, inputs)  # the case's own blocks: all rows
    assert np.max(np.abs(whole - full)) < 1e-12


def test_sampled_reference_at_a_long_shape():
    """Blocks of a case longer than FULL_CHECK_ROWS, checked row by row
    against reference.attention on the whole (band-limited) sequence."""
    case = gc.make_case("long", "long", dtype="bf16", hq=2, hkv=1, sq=1500,
                        skv=1500, dim=16, attention={"causal": True,
                                                     "window_left": 300})
    assert len(case["check_blocks"]) == 4
    inputs = gc.make_inputs(case)
    full = reference.attention(*inputs, causal=True, window_left=300)
    got = gc.reference_rows(case, inputs)
    assert np.max(np.abs(got - full[:, :, gc.rows_of(case["check_blocks"])])) < 1e-12


@pytest.mark.parametrize("case", [c for c in gc.small_cases() if c["op"]] + [
    gc.make_case("vq-noncausal", "vq", dtype="f32", hq=4, hkv=2, sq=30, skv=45, dim=8,
                 attention={}, op={"kind": "vq_attention", "codes": 16}),
    gc.make_case("elu", "elu", dtype="f32", hq=2, hkv=1, sq=20, skv=20, dim=8,
                 attention={"causal": True},
                 op={"kind": "linear_attention", "feature_map": "elu_plus_one"})],
    ids=lambda c: c["name"])
def test_linear_op_reference_rows(case):
    """A linear-time op's rows are those of its float64 reference on the
    case's (rounded) inputs; its arguments end with the projection or
    codebook."""
    inputs = gc.make_inputs(case)
    args = {a["role"]: x for a, x in zip(case["arguments"], inputs)}
    qkv = [args[r].astype(np.float64) for r in ("q", "k", "v")]
    causal = case["attention"].get("causal", False)
    if case["op"]["kind"] == "linear_attention":
        full = reference.linear_attention(*qkv, args.get("projection"), causal=causal,
                                          feature_map=case["op"]["feature_map"])
    else:
        full = reference.vq_attention(*qkv, args["codebook"], causal=causal)
    blocks = [(0, 3), (case["sq"] - 4, case["sq"])]
    got = gc.reference_rows(case, inputs, blocks)
    assert np.array_equal(got, full[:, :, gc.rows_of(blocks)])
    assert case["flops"] == gc.linear_flops(case) > 0


def test_round_to_bf16():
    one = 1.0
    x = np.array([one, one + 2**-8, one + 3 * 2**-8, -(one + 2**-8), 0.0, -0.0,
                  np.inf, -np.inf, 3.0e-39, 65504.0], dtype=np.float32)
    r = gc.round_to_bf16(x)
    assert r.dtype == np.float32
    assert r[0] == 1.0 and r[1] == 1.0 and r[2] == 1.0 + 2**-6 and r[3] == -1.0
    assert np.array_equal(r[4:8], x[4:8]) and np.signbit(r[5])
    assert r[9] == 65536.0
    assert np.isnan(gc.round_to_bf16(np.array([np.nan], np.float32)))[0]
    rng = np.random.default_rng(1)
    y = rng.standard_normal(10000, dtype=np.float32) * 10.0 ** rng.integers(-8, 8, 10000)
    ry = gc.round_to_bf16(y)
    assert np.all(ry.view(np.uint32) & 0xFFFF == 0)
    assert np.all(np.abs(ry - y) <= np.abs(y) * 2.0**-8)
    assert np.array_equal(gc.round_to_bf16(ry), ry)


def test_make_inputs_are_seeded_and_rounded():
    case = tiny(dtype="bf16", causal=True)
    a, b = gc.make_inputs(case), gc.make_inputs(case)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(x.dtype == np.float32 for x in a)
    assert all(np.array_equal(gc.round_to_bf16(x), x) for x in a)
    sep = tiny(sq=5, skv=12, rope={}, positions="separate", causal=True)
    q_pos, k_pos = gc.make_inputs(sep)[3:]
    assert q_pos.tolist() == list(range(7, 12)) and k_pos.tolist() == list(range(12))
    assert q_pos.dtype == np.int64


def test_example_inputs_are_the_demos():
    sys.path.insert(0, os.path.join(gc.ROOT, "examples"))
    import run_examples  # noqa: PLC0415
    by = {c["name"]: c for c in gc.example_cases()}
    for name in ("llama31_8b_attention", "gemma2_attention"):
        expected = run_examples.EXAMPLES[name](np.random.default_rng(0))[0]
        got = gc.make_inputs(by[name])
        assert len(got) == len(expected)
        assert all(np.array_equal(x, y) for x, y in zip(got, expected))


@pytest.mark.parametrize("case", SAMPLED, ids=lambda c: c["name"] + ident(c))
def test_chunked_attention_on_numpy(case):
    if case["rope"] is not None:
        pytest.skip("attention only")
    q, k, v = (x.astype(np.float64) for x in gc.make_inputs(case)[:3])
    expected = reference.attention(q, k, v, **case["attention"])
    for rows in (1, 7, 1000):
        got = gc.chunked_attention(gc.NumpyOps, q, k, v, rows=rows, **case["attention"])
        assert np.max(np.abs(got - expected)) < 1e-12


def test_chunked_attention_row_without_keys_is_zero():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 6, 4)) for _ in range(3))
    got = gc.chunked_attention(gc.NumpyOps, q, k, v, causal=True, q_offset=-3, rows=2)
    assert np.all(got[:, :, :3] == 0)
    assert np.max(np.abs(got - reference.attention(q, k, v, causal=True, q_offset=-3))) < 1e-12


@pytest.mark.parametrize("case", gc.all_cases() + gc.small_cases(), ids=lambda c: c["name"])
def test_module_signature_matches_the_arguments(case):
    args, results = runner.entry_signature(gc.module_text(case), case["entry"])
    assert args == [ir_type(a) for a in case["arguments"]]
    assert results == [gc.ir.tensor_type(case["output"]["shape"], case["output"]["type"])]
    if case["source"]:
        with open(os.path.join(gc.ROOT, case["source"])) as fh:
            assert runner.entry_signature(fh.read(), case["entry"]) == (args, results)


def ir_type(arg):
    return gc.ir.tensor_type(arg["shape"], arg["type"])


@pytest.mark.skipif(not os.access(os.path.join(BUILD_DIR, "bin", "attnflow-opt"), os.X_OK),
                    reason="attnflow-opt not built")
@pytest.mark.parametrize("case", gc.example_cases(), ids=lambda c: c["name"])
def test_examples_match_their_descriptions(case):
    opt = os.path.join(BUILD_DIR, "bin", "attnflow-opt")
    with open(os.path.join(gc.ROOT, case["source"])) as fh:
        text = fh.read()
    gc.verify_example(opt, case, text)
    changed = dict(case, attention=dict(case["attention"], causal=False))
    with pytest.raises(gc.PrepareError):
        gc.verify_example(opt, changed, text)


def test_manifest_round_trip(tmp_path):
    path = str(tmp_path / "manifest.json")
    cases = gc.all_cases() + gc.small_cases()
    gc.write_manifest(path, cases, {"mode": "cuda", "commit": "abc"})
    prepared, got = gc.read_manifest(path)
    assert prepared["commit"] == "abc" and got == cases
    with open(path) as fh:
        data = json.load(fh)
    data["cases"][2]["attention"]["window_left"] = 100
    with open(path, "w") as fh:
        json.dump(data, fh)
    with pytest.raises(ValueError, match="mistral_7b_window"):
        gc.read_manifest(path)
    data["version"] = 99
    with open(path, "w") as fh:
        json.dump(data, fh)
    with pytest.raises(ValueError, match="version"):
        gc.read_manifest(path)


def test_parse_timing():
    assert gc.parse_timing("x\nmin 1.250000 ms, median 2.500000 ms over 5 runs\n") == (
        1.25, 2.5, 5)
    assert gc.parse_timing("min 3.0 ms, median 3.0 ms over 1 run") == (3.0, 3.0, 1)
    assert gc.parse_timing("median 4.5 ms") == (None, 4.5, None)
    assert gc.parse_timing("error: no GPU") is None


def test_plan_repeats():
    assert gc.plan_repeats(1e-5) == (20, 1)
    assert gc.plan_repeats(0.05) == (20, 1)
    assert gc.plan_repeats(0.5) == (4, 1)
    assert gc.plan_repeats(2.0) == (3, 1)
    assert gc.plan_repeats(30.0) == (1, 0)
    for t in np.geomspace(1e-4, 100, 50):
        repeat, warmup = gc.plan_repeats(t)
        assert 1 <= repeat <= 20 and (repeat + warmup) * t <= max(25.0, t)


def test_full_check_fits_the_bundle_limits():
    cases = gc.all_cases()
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names) == 18
    assert {c["dtype"] for c in cases} == {"bf16", "f32"}
    assert max(c["sq"] for c in cases) == 16384


# ---------------------------------------------------------------------------
# The run half, end to end, with stand-in harnesses


def prepare_small(tmp_path):
    bundle = str(tmp_path / "bundle")
    assert gc.main(["prepare", "--small", "--cpu-only", "--no-build",
                    "--bundle", bundle]) == 0
    return bundle


FAKE_HARNESS = textwrap.dedent("""\
    #!/usr/bin/env python3
    # Stand-in harness: zeros of the output shape, a fixed timing.
    import sys
    import numpy as np
    args = sys.argv[1:]
    if args == ["--help"]:
        sys.exit(0)
    ins = [np.load(a.split("=", 1)[1]) for a in args if a.startswith("--input=")]
    out = next(a.split("=", 1)[1] for a in args if a.startswith("--output="))
    np.save(out, np.zeros(ins[0].shape[:3] + ins[2].shape[3:], np.float32))
    print("min 1.000000 ms, median 2.000000 ms over 3 runs")
    """)


def fake_build(tmp_path):
    """A build folder whose bin/attnflow-run is FAKE_HARNESS."""
    fake = tmp_path / "fake" / "bin" / "attnflow-run"
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE_HARNESS.replace("/usr/bin/env python3", sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(tmp_path / "fake")


def test_run_reports_wrong_outputs(tmp_path):
    bundle = prepare_small(tmp_path)
    fake_build(tmp_path)
    out = tmp_path / "out"
    rc = gc.main(["run", "--bundle", bundle, "--cpu-stand-in", "--no-torch",
                  "--build-dir", str(tmp_path / "fake"), "--out", str(out),
                  "--cases", "small-causal-bf16", "small-gemma-rope"])
    assert rc == 1
    with open(out / "gpu-check.json") as fh:
        results = json.load(fh)["results"]
    assert [r["status"] for r in results] == ["wrong", "wrong"]
    assert all(r["ms"] == 2.0 and r["runs"] == 3 for r in results)
    text = (out / "gpu-check.md").read_text()
    assert "| small-gemma-rope | 1, 4/2, 16 x 160, 64 | f32 |" in text
    assert "wrong: max error" in text


def test_run_reports_a_harness_that_cannot_start(tmp_path):
    bundle = prepare_small(tmp_path)
    rc = gc.main(["run", "--bundle", bundle, "--cpu-stand-in", "--no-torch",
                  "--build-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert rc == 1
    with open(tmp_path / "gpu-check.json") as fh:
        results = json.load(fh)["results"]
    assert len(results) == 8 and all(r["status"] == "failed" for r in results)


def test_run_refuses_a_cpu_only_bundle_without_stand_in(tmp_path):
    bundle = prepare_small(tmp_path)
    assert gc.main(["run", "--bundle", bundle, "--no-torch"]) == 2


@pytest.mark.skipif(not os.access(os.path.join(BUILD_DIR, "bin", "attnflow-run"), os.X_OK),
                    reason="attnflow-run not built")
def test_run_with_the_cpu_stand_in(tmp_path):
    bundle = prepare_small(tmp_path)
    out = tmp_path / "out"
    rc = gc.main(["run", "--bundle", bundle, "--cpu-stand-in", "--no-torch",
                  "--build-dir", BUILD_DIR, "--out", str(out)])
    with open(out / "gpu-check.json") as fh:
        results = json.load(fh)["results"]
    assert [r["status"] for r in results] == ["ok"] * 8, results
    assert rc == 0
    # A failing harness call is a failed case, not a crash.
    rc = gc.main(["run", "--bundle", bundle, "--cpu-stand-in", "--no-torch",
                  "--build-dir", BUILD_DIR, "--out", str(out),
                  "--cases", "small-causal-f32", "--harness-arg=--no-such-flag"])
    assert rc == 1
    with open(out / "gpu-check.json") as fh:
        (result,) = json.load(fh)["results"]
    assert result["status"] == "failed" and "exit" in result["detail"]
    assert (out / "gpu-check-logs" / "small-causal-f32.txt").exists()


# ---------------------------------------------------------------------------
# The torch paths, on the CPU, where torch is installed


def torch_or_skip():
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch not installed")
    return gc.TorchBaseline("cpu")


@pytest.mark.parametrize("case", gc.small_cases() + [
    tiny("sq<skv", sq=20, skv=30, causal=True),
    tiny("window_right", sq=20, skv=30, window_left=3, window_right=2)],
    ids=lambda c: c["name"])
def test_torch_baseline_on_cpu(case):
    baseline = torch_or_skip()
    inputs = gc.make_inputs(case)
    res = baseline.run(case, *gc.rotated_inputs(case, inputs))
    expected = full_reference(case, inputs)
    tol = 2e-2 if case["dtype"] == "bf16" else 1e-5
    assert np.max(np.abs(res["out"] - expected)) < tol, res["method"]
    assert res["ms"] > 0 and res["runs"] >= 3
    if case["attention"].get("logit_softcap"):
        assert res["method"].startswith("eager")
    else:
        assert res["method"].startswith("SDPA")


def test_torch_chunked_attention_matches_numpy():
    baseline = torch_or_skip()
    torch = baseline.torch
    case = SAMPLED[-3]  # rope-separate: softcap, window, scale, Sq < Skv
    q, k, v = (x.astype(np.float64) for x in gc.rotated_inputs(case, gc.make_inputs(case)))
    expected = gc.chunked_attention(gc.NumpyOps, q, k, v, rows=4, **case["attention"])
    got = gc.chunked_attention(baseline.ops, *(torch.from_numpy(x) for x in (q, k, v)),
                               rows=4, **case["attention"])
    assert np.max(np.abs(got.numpy() - expected)) < 1e-12


def test_run_skips_what_the_budget_cannot_hold(tmp_path):
    bundle = prepare_small(tmp_path)
    rc = gc.main(["run", "--bundle", bundle, "--cpu-stand-in", "--no-torch",
                  "--build-dir", fake_build(tmp_path), "--out", str(tmp_path),
                  "--budget-s", "5", "--cases", "small-causal-f32"])
    assert rc == 1
    with open(tmp_path / "gpu-check.json") as fh:
        (result,) = json.load(fh)["results"]
    assert result["status"] == "skipped" and "budget" in result["detail"]


def test_prepare_never_replaces_a_folder_it_did_not_write(tmp_path):
    other = tmp_path / "precious"
    other.mkdir()
    (other / "file").write_text("keep")
    assert gc.main(["prepare", "--small", "--cpu-only", "--no-build",
                    "--bundle", str(other)]) == 1
    assert (other / "file").read_text() == "keep"
    bundle = prepare_small(tmp_path)  # a bundle is replaced
    assert gc.main(["prepare", "--small", "--cpu-only", "--no-build",
                    "--bundle", bundle, "--cases", "small-causal-f32"]) == 0
    assert sorted(os.listdir(os.path.join(bundle, "mlir"))) == ["small-causal-f32.mlir"]
