"""Tests of the MLIR text builders (attnflow.ir) and of the runner's plumbing
(attnflow.runner) with a stand-in tool; the real tool is exercised by the
compiled tests."""

import stat
import sys
import textwrap

import numpy as np
import pytest

from attnflow import ir, runner


def test_format_float_round_trips_with_decimal_point():
    for value in (0.125, 8.0, 500000.0, 1e20, 1e-7, -2.5, 0.1, 1 / 3):
        text = ir.format_float(value)
        assert "." in text.split("e")[0], text
        assert float(text) == value
    assert ir.format_float(1e20) == "1.0e+20"
    with pytest.raises(ValueError):
        ir.format_float(float("inf"))


def test_tensor_type():
    assert ir.tensor_type((2, 4, 8, 64), "f32") == "tensor<2x4x8x64xf32>"
    assert ir.tensor_type((), "bf16") == "tensor<bf16>"


def test_rope_module_text():
    text = ir.rope_module((2, 4, 8, 64), (8,), theta=500000.0, rotary_dim=32,
                          layout="interleaved", mrope_section=[4, 6, 6],
                          scaling={"kind": "llama3", "factor": 8.0,
                                   "original_max_position": 8192,
                                   "high_freq_factor": 4.0, "low_freq_factor": 1.0})
    assert text == textwrap.dedent("""\
        func.func @main(%x: tensor<2x4x8x64xf32>, %pos: tensor<8xi64>) -> tensor<2x4x8x64xf32> {
          %0 = attnflow.rope %x, %pos {theta = 500000.0 : f64, rotary_dim = 32 : i64, \
layout = #attnflow.rope_layout<interleaved>, mrope_section = array<i64: 4, 6, 6>, \
scaling = #attnflow.rope_scaling<kind = llama3, factor = 8.0, original_max_position = 8192, \
low_freq_factor = 1.0, high_freq_factor = 4.0>} : tensor<2x4x8x64xf32>, tensor<8xi64> -> tensor<2x4x8x64xf32>
          return %0 : tensor<2x4x8x64xf32>
        }
        """)


def test_rope_module_absent_attributes():
    text = ir.rope_module((1, 1, 4, 8), (4,), element_type="bf16", positions_type="i32")
    assert "%0 = attnflow.rope %x, %pos : tensor<1x1x4x8xbf16>, tensor<4xi32> -> " \
           "tensor<1x1x4x8xbf16>" in text


def test_scaling_parameter_order():
    text = ir.rope_module((1, 1, 4, 8), (4,), scaling={
        "attention_factor": 1.5, "beta_slow": 2.0, "beta_fast": 16.0,
        "original_max_position": 64, "factor": 4.0, "kind": "yarn"})
    assert ("#attnflow.rope_scaling<kind = yarn, factor = 4.0, original_max_position = 64, "
            "beta_fast = 16.0, beta_slow = 2.0, attention_factor = 1.5>") in text


def test_attention_module_text():
    text = ir.attention_module((1, 4, 8, 16), (1, 2, 8, 16), (1, 2, 8, 12), (1, 1, 8, 8),
                               scale=0.125, causal=True, window_left=4095, window_right=2,
                               q_offset=0, num_sink_tokens=4, logit_softcap=50.0,
                               alibi_slopes=[0.5, 0.25, 1.0, 2.0], logn_train_len=4096)
    assert ("%0 = attnflow.attention %q, %k, %v, %bias {scale = 0.125 : f64, causal = true, "
            "window_left = 4095 : i64, window_right = 2 : i64, q_offset = 0 : i64, "
            "num_sink_tokens = 4 : i64, logit_softcap = 50.0 : f64, "
            "alibi_slopes = array<f64: 0.5, 0.25, 1.0, 2.0>, logn_train_len = 4096 : i64} : "
            "tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x12xf32>, "
            "tensor<1x1x8x8xf32> -> tensor<1x4x8x12xf32>") in text
    assert "-> tensor<1x4x8x12xf32> {" in text


def test_rope_attention_module_and_signature():
    text = ir.rope_attention_module((1, 4, 8, 16), (1, 2, 8, 16), (1, 2, 8, 16), (8,), (8,),
                                    rope={"theta": 1e6}, attention={"causal": True},
                                    bias_shape=(1, 1, 8, 8))
    assert "%2 = attnflow.attention %0, %1, %v, %bias {causal = true}" in text
    args, results = runner.entry_signature(text)
    assert args == ["tensor<1x4x8x16xf32>", "tensor<1x2x8x16xf32>", "tensor<1x2x8x16xf32>",
                    "tensor<8xi64>", "tensor<8xi64>", "tensor<1x1x8x8xf32>"]
    assert results == ["tensor<1x4x8x16xf32>"]


def test_entry_signature_multiple_results_and_other_entry():
    text = ("func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {\n}\n"
            "func.func private @two(%a: tensor<?x4xbf16> {foo.bar = 1}, %b: tensor<i64>) "
            "-> (tensor<f32>, tensor<2x3xi64>) attributes {x} {\n}\n")
    assert runner.entry_signature(text, "two") == (
        ["tensor<?x4xbf16>", "tensor<i64>"], ["tensor<f32>", "tensor<2x3xi64>"])
    with pytest.raises(ValueError):
        runner.entry_signature(text, "three")


def test_function_without_return_is_an_error():
    with pytest.raises(ValueError):
        ir.Function().text()


# --- runner with a stand-in tool -------------------------------------------

FAKE_TOOL = """\
#!{python}
# Stand-in attnflow-run: output i = input i + 1 (as float32); FAIL in the
# module text makes it fail like the real tool.
import sys
import numpy as np
args = sys.argv[1:]
if "FAIL" in open(args[0]).read():
    sys.stderr.write("error: 'attnflow.rope' op bad operand\\n")
    sys.exit(1)
ins = [a.split("=", 1)[1] for a in args if a.startswith("--input=")]
outs = [a.split("=", 1)[1] for a in args if a.startswith("--output=")]
with open(args[0] + ".log", "w") as log:
    log.write(" ".join(args[1:]) + "\\n")
    for path in ins:
        log.write(str(np.load(path).dtype) + "\\n")
for i, path in enumerate(outs):
    np.save(path, np.load(ins[i]).astype(np.float32) + 1)
"""


@pytest.fixture
def fake_tool(tmp_path, monkeypatch):
    path = tmp_path / "attnflow-run"
    path.write_text(FAKE_TOOL.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("ATTNFLOW_RUN", raising=False)
    monkeypatch.setenv("ATTNFLOW_BIN_DIR", str(tmp_path))
    return path


def test_run_passes_inputs_and_reads_outputs(fake_tool, tmp_path):
    f = ir.Function()
    x = f.argument("x", (2, 3), "bf16")
    p = f.argument("p", (3,), "i32")
    f.ret(x, p)
    module = tmp_path / "m.mlir"
    module.write_text(f.text())
    out = runner.run(module, [np.ones((2, 3)), np.arange(3)], threads=2)
    assert len(out) == 2
    np.testing.assert_array_equal(out[0], np.full((2, 3), 2.0))
    np.testing.assert_array_equal(out[1], [1.0, 2.0, 3.0])
    log = (tmp_path / "m.mlir.log").read_text().splitlines()
    assert log[0].startswith("--entry=main --input=")
    assert log[0].endswith("--threads=2")
    assert log[1:] == ["float32", "int32"]  # bf16 travels as f32, i64 -> i32


def test_run_reports_tool_stderr(fake_tool):
    text = ir.rope_module((1, 1, 2, 2), (2,)) + "// FAIL\n"
    with pytest.raises(RuntimeError, match="bad operand"):
        runner.run(text, [np.zeros((1, 1, 2, 2)), np.zeros(2, np.int64)])


def test_run_checks_inputs(fake_tool):
    text = ir.rope_module((1, 1, 2, 2), (2,))
    with pytest.raises(ValueError, match="takes 2 arguments"):
        runner.run(text, [np.zeros((1, 1, 2, 2))])
    with pytest.raises(ValueError, match="does not fit"):
        runner.run(text, [np.zeros((1, 1, 2, 2)), np.zeros(2)])


def test_tool_lookup_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTNFLOW_RUN", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="ATTNFLOW_RUN"):
        runner.find_attnflow_run()
    monkeypatch.delenv("ATTNFLOW_RUN")
    monkeypatch.setenv("ATTNFLOW_BIN_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ATTNFLOW_BIN_DIR"):
        runner.find_attnflow_run()
    monkeypatch.delenv("ATTNFLOW_BIN_DIR")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="PATH"):
        runner.find_attnflow_run()
