//===- Passes.td - AttnFlow generic transforms -------------*- tablegen -*-===//
//
// Passes on upstream IR (func, memref, math) that the CPU pipeline needs and
// upstream does not provide in the form it needs; none of them looks at
// attnflow ops (those are in Dialect/AttnFlow/Transforms).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_TRANSFORMS_PASSES_TD
#define ATTNFLOW_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def CPUEntryABIPass : Pass<"attnflow-cpu-entry-abi", "::mlir::ModuleOp"> {
  let summary = "Give public functions llvm.emit_c_interface and read-only "
                "(bufferization.writable = false) tensor arguments";
  let description = [{
    Fixes the calling convention of the module's public `func.func`s with a
    body (the ABI documented in Pipelines.h), before one-shot bufferization:

    - each gets `llvm.emit_c_interface`, so func-to-llvm adds a
      `_mlir_ciface_<name>` wrapper taking memref descriptors by pointer, which
      C callers, `mlir-runner` and the ExecutionEngine use;
    - each tensor argument gets `bufferization.writable = false`, so
      bufferization never writes into a caller's buffer (it copies instead).
      An explicit `bufferization.writable` on an argument is kept.

    Private functions and declarations are left alone: they are not entry
    points. With the ownership-based deallocation pipeline this makes inputs
    read-only and every returned buffer a fresh allocation owned by the
    caller.
  }];
}

def ExpandStridedCopiesPass : Pass<"attnflow-expand-strided-copies"> {
  let summary = "Rewrite memref.copy between non-identity layouts as "
                "linalg.generic (no memrefCopy runtime call)";
  let description = [{
    Rewrites each `memref.copy` whose source or target has a non-identity
    layout (e.g. a copy into a subview made by bufferizing
    `tensor.insert_slice`) into the equivalent elementwise `linalg.generic`,
    which later becomes loops.

    Why: finalize-memref-to-llvm lowers identity-layout copies to
    `llvm.memcpy` but any other copy to a call to `memrefCopy` from
    libmlir_c_runner_utils, which neither the JIT nor emitted objects link.
    Copies between identity layouts are left as they are (memcpy is faster),
    and so are copies of unranked memrefs (their layout is unknown and
    linalg.generic needs a rank).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def CPUMathPass : Pass<"attnflow-cpu-math"> {
  let summary = "Approximate f32 math.exp/tanh/erf/log1p accurately, call "
                "libm for math.expm1, lower math.isinf/isnormal to compares";
  let description = [{
    Runs before math-to-llvm / math-to-libm and decides, per function, between
    MLIR's approximations and libm, from their accuracy measured against libm
    in f64 over ~4.2M f32 inputs spread over all finite values (ulp = distance
    in f32 representations):

    - f32 `math.exp` (5 ulp; results below FLT_MIN, x < -87.3, flush to 0),
      `math.tanh` (4 ulp), `math.erf` (4 ulp) and `math.log1p` (2 ulp, as a
      compensated log(1 + x) with libm's log) become polynomial / compensated
      arithmetic, which vectorizes (libm calls are per element); f16 / bf16
      ones are computed in f32 the same way.
    - `math.expm1` becomes a call to libm's `expm1f` / `expm1` (vectors are
      unrolled): math-to-llvm would lower it as exp(x) - 1, losing all
      precision for small x, and the approximation is wrong for |x| < 1e-7.
    - `math.isinf` and `math.isnormal`, which have no LLVM lowering, become
      compares on |x|.

    Everything else is left to math-to-llvm / math-to-libm, as the
    approximations are worse there: log and log2 (wrong for subnormal inputs),
    erfc (subnormal results), atan (40 ulp), asin, acos, cbrt, and sin / cos,
    which reduce the argument in f32 and are wrong for large angles
    (DESIGN.md §4.2: RoPE angles need libm).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // ATTNFLOW_TRANSFORMS_PASSES_TD
