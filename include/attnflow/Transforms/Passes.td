//===- Passes.td - AttnFlow generic transforms -------------*- tablegen -*-===//
//
// Passes on upstream IR (func, memref, math, scf, gpu) that the CPU and GPU
// pipelines need and upstream does not provide in the form they need; none of them looks at
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

def EntrySignaturePass : Pass<"attnflow-entry-signature", "::mlir::ModuleOp"> {
  let summary = "Record each public function's tensor signature in a "
                "string global, for hosts that cannot parse MLIR";
  let description = [{
    For every public `func.func` `@f` with a body whose arguments and results
    are ranked tensors, adds a constant NUL-terminated LLVM global
    `_attnflow_signature_f` holding its types, e.g.
    `1x32x512x128xbf16,512xi64->1x32x512x128xbf16`: arguments, `->`, results,
    each comma-separated, a tensor written as its static sizes and element
    type joined by `x` (a 0-d tensor is just its element type; element types
    f64, f32, f16, bf16, i64, i32, i1).
    Why: attnflow-cuda-run loads compiled modules on machines without MLIR
    and needs the shapes and dtypes to read .npy inputs and allocate device
    buffers (DESIGN.md §5).
    Errors: a public function with a dynamic shape, an unranked or
    non-tensor argument or result, or another element type.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def GPUMapParallelLoopsPass
    : Pass<"attnflow-gpu-map-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Map host scf.parallel loops onto a 1-D grid of thread "
                "blocks";
  let description = [{
    Prepares every outermost `scf.parallel` of host code (not inside a
    `gpu.launch`) for `convert-parallel-loops-to-gpu`: its dimensions are
    collapsed into one, tiled by `block-size` (the tile loop runs to the
    constant block size and guards the tail with scf.if), and mapped:
    tiles to `block_x`, elements of a tile to `thread_x`. Nested parallel
    loops (e.g. in an scf.forall's body) become scf.for loops in each
    thread.
    Why: upstream's gpu-map-parallel-loops maps the dimensions of a single
    loop to blocks only, which launches one thread per block; collapsing
    first also gives every elementwise kernel the same full-grid shape
    whatever its rank.
    Errors: an scf.parallel with reductions (init values), and a loop whose
    tiles would exceed CUDA's 2^31 - 1 blocks in x.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block (>= 1, <= 1024)">
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def GPUHoistLoopBuffersPass
    : Pass<"attnflow-gpu-hoist-loop-buffers", "::mlir::func::FuncOp"> {
  let summary = "Hoist per-iteration host buffers out of host loops";
  let description = [{
    A host loop that launches kernels on buffers it allocates in every
    iteration (the step loop of an `attnflow.ode_solve` with a network inside
    the velocity region) would allocate device memory per iteration, which
    attnflow-gpu-host-memory rejects (it frees host buffers at the end of the
    function). This pass moves each such `memref.alloc` in front of the
    outermost enclosing host loop, so all iterations reuse one buffer.

    That is sound when an iteration's buffer cannot be seen by a later one:
    the allocation has a static shape, and every use (through view-like ops)
    is a kernel launch (`gpu.launch`, the buffer used in its body), a copy,
    a host `memref.load` (a scalar read back within the iteration), a
    dealloc (dropped, as the buffer now outlives the loop) or a view; not
    a loop yield, a return, a call or a store of the buffer itself. Kernels
    and copies run in program order on one stream, so iteration i + 1
    overwrites the buffer only after iteration i is done with it; a fresh
    buffer's contents are undefined, so no iteration may read them before
    writing. Allocations that do not qualify are left in place (and
    diagnosed by attnflow-gpu-host-memory).
  }];
}

def GPUHostMemoryPass : Pass<"attnflow-gpu-host-memory", "::mlir::func::FuncOp"> {
  let summary = "Put the buffers of host code in device memory";
  let description = [{
    After bufferization, the host side of a CUDA module only allocates,
    copies and frees buffers and launches kernels on them. This pass makes
    those buffers device memory: `memref.alloc` outside kernels
    becomes `gpu.alloc`, `memref.dealloc` becomes `gpu.dealloc`,
    `memref.copy` becomes `gpu.memcpy`, and `memref.get_global`s read by a
    kernel are moved into it (kernel outlining then copies the global into
    the GPU module). It also frees them, since bufferization's
    ownership-based deallocation cannot analyse functions that launch
    kernels (gpu.launch and gpu.barrier declare no memory effects): a
    function owns its allocations and the results of its calls; every
    result becomes a fresh buffer the caller owns (a returned argument,
    global, view or repeated buffer is copied) and every other owned buffer
    is freed before the return. Run gpu-async-region after outlining to give
    these ops a stream.
    Two exceptions keep device memory out of host code soundly. A host
    `memref.load` of the only element of a statically shaped, identity-layout
    buffer (a scalar read back, e.g. the change deciding whether DEER's
    Newton loop goes on) reads a host stack slot of the function filled by a
    `gpu.memcpy` from the buffer right before it; gpu-async-region puts the
    host wait between the copy and the load. A `memref.alloc` inside a
    kernel (an scf.forall body's temporaries, run by each thread) becomes a
    `memref.alloca` at the start of the kernel (per-thread scratch) and its
    deallocs go.
    Errors: host code that would read or write a buffer itself (a load,
    store, vector transfer or linalg op left outside any kernel, but for the
    read back above), since its buffers are not in host memory; an
    allocation inside a loop of a kernel or of a dynamic shape in a kernel;
    a host `memref.alloca` (kernels cannot
    see the host stack); unranked buffers in host code; calls passing
    buffers to external (host) functions; allocations inside host control flow, or host
    code of several blocks (only straight-line host code is freed
    correctly); a copy between non-identity layouts
    (run attnflow-expand-strided-copies first).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def GPUMergeModulesPass
    : Pass<"attnflow-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "Move every kernel into one gpu.module";
  let description = [{
    Kernel outlining makes one `gpu.module` per kernel; this pass moves the
    kernels (and the globals they use, once each) of all of them into the
    first, renaming a kernel whose name is taken after its own module, and
    retargets `gpu.launch_func` ops, so a module compiles to one
    PTX / cubin that holds every kernel (DESIGN.md §5: `--emit=ptx` writes
    one file) and the host loads one CUDA module.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // ATTNFLOW_TRANSFORMS_PASSES_TD
