"""The SIMT interpreter's nvgpu.mma.sync (simt_interpreter.mma_m16n8k16 and
the op handler) against numpy matmuls, on fragments built here, independently
of the interpreter's tables, from the PTX ISA's "Matrix Fragments for
mma.m16n8k16 with floating point type"
(https://docs.nvidia.com/cuda/parallel-thread-execution/
#warp-level-matrix-fragment-mma-16816-float): with groupID = laneid >> 2 and
threadID_in_group = laneid % 4,

* A (16x16) element a_i, i < 8: row groupID for i < 2 or 4 <= i < 6, else
  groupID + 8; column threadID_in_group * 2 + (i & 1), + 8 for i >= 4;
* B (16x8) element b_i, i < 4: row threadID_in_group * 2 + (i & 1), + 8 for
  i >= 2; column groupID;
* C, D (16x8) element c_i, i < 4: row groupID for i < 2, else groupID + 8;
  column threadID_in_group * 2 + (i & 1);

and nvgpu.mma.sync's vector<4x2>, vector<2x2>, vector<2x2xf32> hold register
r (elements 2r, 2r + 1) as vector row r. No tools needed.
"""

import numpy as np
import pytest

import simt_interpreter as simt
from _helpers import randn


def a_coordinates(lane, i):
    group, in_group = lane >> 2, lane % 4
    row = group if (i < 2 or 4 <= i < 6) else group + 8
    return row, in_group * 2 + (i & 1) + (8 if i >= 4 else 0)


def b_coordinates(lane, i):
    group, in_group = lane >> 2, lane % 4
    return in_group * 2 + (i & 1) + (8 if i >= 2 else 0), group


def c_coordinates(lane, i):
    group, in_group = lane >> 2, lane % 4
    return (group if i < 2 else group + 8), in_group * 2 + (i & 1)


def fragments(matrix, coordinates, registers):
    """[32 lanes, registers, 2] fragments of `matrix`: element i of a lane
    is vector element [i // 2][i % 2]."""
    out = np.zeros((32, registers, 2))
    for lane in range(32):
        for i in range(2 * registers):
            out[lane, i // 2, i % 2] = matrix[coordinates(lane, i)]
    return out


def matrix_of(fragment, coordinates, shape):
    out = np.full(shape, np.nan)
    for lane in range(32):
        for i in range(fragment.shape[1] * 2):
            out[coordinates(lane, i)] = fragment[lane, i // 2, i % 2]
    return out


def random_operands(element_type, seed):
    rng = np.random.default_rng(seed)
    a = randn(rng, (16, 16), element_type).astype(np.float64)
    b = randn(rng, (16, 8), element_type).astype(np.float64)
    c = randn(rng, (16, 8), "f32").astype(np.float64)
    return a, b, c


def test_layouts_cover_each_element_once():
    for coordinates, registers, shape in ((a_coordinates, 4, (16, 16)),
                                          (b_coordinates, 2, (16, 8)),
                                          (c_coordinates, 2, (16, 8))):
        seen = sorted(coordinates(lane, i) for lane in range(32)
                      for i in range(2 * registers))
        assert seen == sorted(np.ndindex(shape))


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
@pytest.mark.parametrize("seed", range(3))
def test_mma_matches_numpy(element_type, seed):
    a, b, c = random_operands(element_type, seed)
    d = simt.mma_m16n8k16(fragments(a, a_coordinates, 4), fragments(b, b_coordinates, 2),
                          fragments(c, c_coordinates, 2))
    np.testing.assert_allclose(matrix_of(d, c_coordinates, (16, 8)), a @ b + c,
                               rtol=1e-13, atol=1e-13)


def test_mma_detects_a_wrong_register_order():
    """Swapping A's registers 1 and 2 (rows + 8 vs columns + 8, the classic
    slip) changes the product."""
    a, b, c = random_operands("f16", 7)
    frag_a = fragments(a, a_coordinates, 4)[:, [0, 2, 1, 3]]
    d = simt.mma_m16n8k16(frag_a, fragments(b, b_coordinates, 2),
                          fragments(c, c_coordinates, 2))
    assert not np.allclose(matrix_of(d, c_coordinates, (16, 8)), a @ b + c)


# One warp: lane t loads its fragments from inputs [32, registers, 2] with
# memref.load, builds them with vector.from_elements, runs nvgpu.mma.sync and
# stores D's fragment (the generic form of a hand-written kernel, printed by
# attnflow-opt --mlir-print-op-generic).
MMA_KERNEL = """"builtin.module"() ({
  "func.func"() <{function_type = (tensor<32x4x2xf16>, tensor<32x2x2xf16>, tensor<32x2x2xf32>) -> tensor<32x2x2xf32>, sym_name = "main"}> ({
  ^bb0(%arg0: tensor<32x4x2xf16>, %arg1: tensor<32x2x2xf16>, %arg2: tensor<32x2x2xf32>):
    %0 = "bufferization.to_buffer"(%arg0) <{read_only}> : (tensor<32x4x2xf16>) -> memref<32x4x2xf16>
    %1 = "bufferization.to_buffer"(%arg1) <{read_only}> : (tensor<32x2x2xf16>) -> memref<32x2x2xf16>
    %2 = "bufferization.to_buffer"(%arg2) <{read_only}> : (tensor<32x2x2xf32>) -> memref<32x2x2xf32>
    %3 = "memref.alloc"() <{operandSegmentSizes = array<i32: 0, 0>}> : () -> memref<32x2x2xf32>
    %4 = "arith.constant"() <{value = 0 : index}> : () -> index
    %5 = "arith.constant"() <{value = 1 : index}> : () -> index
    %6 = "arith.constant"() <{value = 2 : index}> : () -> index
    %7 = "arith.constant"() <{value = 3 : index}> : () -> index
    %8 = "arith.constant"() <{value = 32 : index}> : () -> index
    "gpu.launch"(%5, %5, %5, %8, %5, %5) <{operandSegmentSizes = array<i32: 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0>}> ({
    ^bb0(%arg3: index, %arg4: index, %arg5: index, %arg6: index, %arg7: index, %arg8: index, %arg9: index, %arg10: index, %arg11: index, %arg12: index, %arg13: index, %arg14: index):
      %10 = "memref.load"(%0, %arg6, %4, %4) : (memref<32x4x2xf16>, index, index, index) -> f16
      %11 = "memref.load"(%0, %arg6, %4, %5) : (memref<32x4x2xf16>, index, index, index) -> f16
      %12 = "memref.load"(%0, %arg6, %5, %4) : (memref<32x4x2xf16>, index, index, index) -> f16
      %13 = "memref.load"(%0, %arg6, %5, %5) : (memref<32x4x2xf16>, index, index, index) -> f16
      %14 = "memref.load"(%0, %arg6, %6, %4) : (memref<32x4x2xf16>, index, index, index) -> f16
      %15 = "memref.load"(%0, %arg6, %6, %5) : (memref<32x4x2xf16>, index, index, index) -> f16
      %16 = "memref.load"(%0, %arg6, %7, %4) : (memref<32x4x2xf16>, index, index, index) -> f16
      %17 = "memref.load"(%0, %arg6, %7, %5) : (memref<32x4x2xf16>, index, index, index) -> f16
      %18 = "memref.load"(%1, %arg6, %4, %4) : (memref<32x2x2xf16>, index, index, index) -> f16
      %19 = "memref.load"(%1, %arg6, %4, %5) : (memref<32x2x2xf16>, index, index, index) -> f16
      %20 = "memref.load"(%1, %arg6, %5, %4) : (memref<32x2x2xf16>, index, index, index) -> f16
      %21 = "memref.load"(%1, %arg6, %5, %5) : (memref<32x2x2xf16>, index, index, index) -> f16
      %22 = "memref.load"(%2, %arg6, %4, %4) : (memref<32x2x2xf32>, index, index, index) -> f32
      %23 = "memref.load"(%2, %arg6, %4, %5) : (memref<32x2x2xf32>, index, index, index) -> f32
      %24 = "memref.load"(%2, %arg6, %5, %4) : (memref<32x2x2xf32>, index, index, index) -> f32
      %25 = "memref.load"(%2, %arg6, %5, %5) : (memref<32x2x2xf32>, index, index, index) -> f32
      %26 = "vector.from_elements"(%10, %11, %12, %13, %14, %15, %16, %17) : (f16, f16, f16, f16, f16, f16, f16, f16) -> vector<4x2xf16>
      %27 = "vector.from_elements"(%18, %19, %20, %21) : (f16, f16, f16, f16) -> vector<2x2xf16>
      %28 = "vector.from_elements"(%22, %23, %24, %25) : (f32, f32, f32, f32) -> vector<2x2xf32>
      %29 = "nvgpu.mma.sync"(%26, %27, %28) <{mmaShape = [16, 8, 16]}> : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
      %30 = "vector.extract"(%29) <{static_position = array<i64: 0, 0>}> : (vector<2x2xf32>) -> f32
      %31 = "vector.extract"(%29) <{static_position = array<i64: 0, 1>}> : (vector<2x2xf32>) -> f32
      %32 = "vector.extract"(%29) <{static_position = array<i64: 1, 0>}> : (vector<2x2xf32>) -> f32
      %33 = "vector.extract"(%29) <{static_position = array<i64: 1, 1>}> : (vector<2x2xf32>) -> f32
      "memref.store"(%30, %3, %arg6, %4, %4) : (f32, memref<32x2x2xf32>, index, index, index) -> ()
      "memref.store"(%31, %3, %arg6, %4, %5) : (f32, memref<32x2x2xf32>, index, index, index) -> ()
      "memref.store"(%32, %3, %arg6, %5, %4) : (f32, memref<32x2x2xf32>, index, index, index) -> ()
      "memref.store"(%33, %3, %arg6, %5, %5) : (f32, memref<32x2x2xf32>, index, index, index) -> ()
      "gpu.terminator"() : () -> ()
    }) {workgroup_attributions = 0 : i64} : (index, index, index, index, index, index) -> ()
    %9 = "bufferization.to_tensor"(%3) <{restrict, writable}> : (memref<32x2x2xf32>) -> tensor<32x2x2xf32>
    "func.return"(%9) : (tensor<32x2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

"""


@pytest.mark.parametrize("element_type", ["f16", "bf16"])
@pytest.mark.parametrize("float_mode", simt.FLOAT_MODES)
def test_mma_op_in_a_kernel(element_type, float_mode):
    a, b, c = random_operands(element_type, 11)
    inputs = [fragments(a, a_coordinates, 4), fragments(b, b_coordinates, 2),
              fragments(c, c_coordinates, 2)]
    kernel = MMA_KERNEL.replace("f16", element_type)
    run = simt.interpret(kernel, inputs, float_mode=float_mode)
    assert not run.issues
    assert np.all(run.write_counts[0] == 1)
    got = matrix_of(run.outputs[0], c_coordinates, (16, 8))
    ref = a @ b + c
    if float_mode == "f32":
        np.testing.assert_array_equal(got, simt.round_to_type(ref, "f32"))
    else:
        np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
