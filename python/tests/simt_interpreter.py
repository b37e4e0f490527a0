"""A SIMT interpreter for the attention kernels of lib/Conversion/AttnFlowToGPU,
so that its IR can be checked numerically and for races without a GPU.

Input: the generic-form IR that ``attnflow-opt --convert-attnflow-to-gpu --cse
--mlir-print-op-generic`` prints (one op per line, no locations). Only the
subset of MLIR that kernel uses is interpreted:

* host: ``func.func`` / ``func.return``, ``bufferization.to_buffer`` (inputs,
  read-only), ``memref.alloc`` (outputs), ``bufferization.to_tensor``,
  ``arith.constant``, ``gpu.launch``;
* device: ``gpu.launch`` block / thread ids and sizes, ``gpu.barrier``,
  ``gpu.shuffle xor``, ``gpu.dynamic_shared_memory`` + ``memref.view``,
  ``memref.load`` / ``memref.store`` (global and shared), ``scf.for``,
  ``scf.if`` (without results), ``scf.yield``, ``gpu.terminator``;
  ``arith.constant``, ``addi`` / ``subi`` / ``muli`` / ``minsi`` / ``maxsi``
  / ``andi`` / ``ori`` / ``xori`` / ``divui`` / ``remui`` (on index, i64,
  i1), ``index_cast``, ``cmpi`` (signed and equality predicates), ``addf`` /
  ``subf`` / ``mulf`` / ``divf`` / ``maximumf``, ``cmpf``, ``select``,
  ``sitofp``, ``extf``, ``truncf``; ``math.exp`` / ``log`` / ``tanh`` /
  ``fma`` / ``absi``; ``vector.extract`` of a scalar from a 1-D constant
  vector;
* the tensor-core kernel's warp-level subset: ``vector.load`` of a 1-D
  vector from a shared view (along its last dim, alignment checked),
  ``vector.from_elements``, ``vector.extract`` at static positions of a
  per-thread vector, splat vector constants, and ``nvgpu.mma.sync``
  m16n8k16 with f16 / bf16 multiplicands and f32 accumulators
  (:func:`mma_m16n8k16`: the fragments of a warp's 32 lanes are placed into
  A, B and C by the PTX ISA's fragment layouts, written down in
  :func:`_mma_fragment_coordinates` from the ISA's section "Matrix Fragments
  for mma.m16n8k16 with floating point type", and D = A B + C is computed
  exactly; test_simt_interpreter_mma.py checks it against numpy).

Any other op, or an unsupported form of one of these (an attribute, type or
operand shape outside the subset), raises :class:`UnsupportedOpError` naming
the op and its line; the interpreter never guesses.

Semantics
---------
Blocks of the grid run one after another (x fastest, then y, z). Within a
block all threads run in lockstep, vectorised with numpy: each op is
evaluated for every thread of the block at once, under a mask of the active
threads. A value is either uniform (a scalar) or per thread (an array with
one entry per thread; a vector: [threads, *shape]). Thread t (linear id,
x fastest) belongs to warp
t // 32. Divergence is modelled by masks: ``scf.if`` runs its then-region
for the threads whose condition holds, then its else-region for the others;
``scf.for`` with per-thread bounds iterates until every active thread has
left the loop, each thread taking part only in its own iterations. Side
effects (loads, stores, barriers, shuffles) only involve active threads.

Numbers: integers are 64-bit (``index`` and ``i64`` wrap like two's
complement; ``i1`` is a bool). Floats are held as float64 numpy values; the
inputs must be exactly representable in their element types (callers round
them first) and constants are rounded to their IR type. Two modes:

* ``float_mode="float64"`` (default): every float op is computed in float64
  without rounding to its IR type (except ``arith.truncf``, the explicit
  narrowing of the f16 / bf16 output), so results differ from the float64
  reference only by the kernel's algorithm and its f32 constants;
* ``float_mode="f32"``: every float result is also rounded to its IR result
  type (f32 throughout the kernel), i.e. single-precision arithmetic with
  correctly rounded exp / log / tanh and a fused fma; an mma's exact
  result is rounded once to f32 (the hardware's accumulation order and
  intermediate precision are unspecified by PTX and may differ slightly).

Checks
------
Fatal, raised as :class:`SimtError` (with the op's line, the block and
thread): an index out of bounds of a global buffer or shared view, a shared
view outside the launch's dynamic shared memory, a store to a read-only
input, an unsigned division of a negative value or by zero, malformed IR.

Reported, collected in :attr:`KernelRun.issues` (one per kind and op line)
while interpretation goes on:

* ``RAW race`` / ``WAR race`` / ``WAW race``: a shared-memory word accessed by
  two different threads between the same two barriers (no ``gpu.barrier``
  orders them) with at least one access a write. Lockstep execution is just
  one legal schedule, so the computed numbers would not show a missing
  barrier; this check does, independently of the schedule;
* ``uninitialized shared read``: a shared word read before any thread of the
  block wrote it (each block starts with fresh, unwritten shared memory);
* ``uninitialized global read``: an element of an allocated buffer read
  before written;
* ``divergent barrier``: a ``gpu.barrier`` reached by only some threads of the
  block (undefined behaviour on the GPU);
* ``divergent shuffle``: a ``gpu.shuffle`` reached by only some threads of a
  warp (the inactive lanes' values are undefined);
* ``divergent mma``: an ``nvgpu.mma.sync`` reached by only some threads of
  a warp (mma.sync.aligned requires the whole warp; undefined otherwise).

Fatal as well: an mma fragment holding a value not representable in its
multiplicand type, and a misaligned or out-of-bounds ``vector.load``.

:attr:`KernelRun.write_counts` counts the stores to every element of each
allocated output, so a caller can require that each is written exactly once
(no element missed, none written by two threads or blocks: inter-block races
on global memory show up there).

Limits
------
Only single-block regions (no ``cf`` branches); shared memory only as f32,
f16 or bf16 views of the dynamic allocation, tracked in 2-byte units (the
granularity of the race check; an f32 element is tracked at its first unit,
so views of different types must not overlap); global memory only as the function's inputs (read-only, so never
racy) and allocations (checked through the write counts; an integer allocation, such as
the codes one kernel writes for the next, holds int64 so its loads can index); one
``func.func`` is run,
each ``gpu.launch`` in it in order; ``gpu.shuffle`` only in ``xor`` mode with
width 32; no atomics, no async tokens, no clusters, no workgroup
attributions; vectors only in the forms listed above (no vector
arithmetic). Not modelled: performance, bank conflicts, coalescing, the
device's shared-memory capacity (only the launch's own size is enforced),
and the few-ulp differences of the GPU's exp / log / tanh.
"""

import operator
import re
from dataclasses import dataclass, field

import numpy as np

from _helpers import round_bf16

__all__ = ["Op", "Block", "Issue", "LaunchInfo", "KernelRun", "SimtError",
           "UnsupportedOpError", "Interpreter", "parse_module", "round_to_type",
           "interpret"]

WARP_SIZE = 32
FLOAT_MODES = ("float64", "f32")
_INT64_MIN, _INT64_RANGE = -2 ** 63, 2 ** 64
_MANY_READERS = -2  # reader of a shared word read by several threads
# vector.extract's marker of a dynamic position in static_position.
_DYNAMIC_POSITION = -2 ** 63


class SimtError(Exception):
    """Interpretation cannot go on: a fatal check failed or the IR is
    malformed."""


class UnsupportedOpError(SimtError):
    """The IR uses an op (or a form of an op) outside the supported subset."""


# --------------------------------------------------------------------------
# Parsing of the generic form
# --------------------------------------------------------------------------

@dataclass
class Block:
    """A block: argument names (with ``%``) and ops."""
    arguments: list
    ops: list = field(default_factory=list)


@dataclass
class Op:
    """An op of the generic form.

    ``results`` are SSA names: ``%5``, or ``%5#0`` ... ``%5#(n-1)`` for
    ``%5:n``. ``attributes`` is the raw text of the properties (``<{...}>``)
    and attribute dictionary; ``result_types`` the result types of the
    trailing function type. ``line`` is the 1-based line number and ``text``
    the stripped line. ``decoded`` caches what the interpreter decodes from
    the attributes."""
    name: str
    results: list
    operands: list
    attributes: str
    result_types: list
    regions: list
    line: int
    text: str
    decoded: object = None

    def where(self):
        return f"line {self.line} ({self.text[:110]})"


_OP_RE = re.compile(
    r'^(?:(?P<results>%[\w$.-]+(?::\d+)?(?:\s*,\s*%[\w$.-]+(?::\d+)?)*)\s*=\s*)?'
    r'"(?P<name>[\w.$]+)"\((?P<operands>[^)]*)\)(?P<rest>.*)$')
_BLOCK_RE = re.compile(r'^\^[\w$.-]+(?:\((?P<args>.*)\))?:$')
_BLOCK_ARG_RE = re.compile(r'(%[\w$.-]+)\s*:')


def _split_top_level(text):
    """Splits text on commas outside (), <>, [], {} and strings; the '>' of
    '->' closes nothing."""
    parts, depth, start, in_string = [], 0, 0, False
    for i, c in enumerate(text):
        if in_string:
            in_string = c != '"' or text[i - 1] == "\\"
        elif c == '"':
            in_string = True
        elif c in "(<[{":
            depth += 1
        elif c in ")]}" or (c == ">" and text[i - 1] != "-"):
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    if text.strip():
        parts.append(text[start:].strip())
    return parts


def _closing_brace(text, start):
    """Index of the '}' matching the '{' at text[start] (strings skipped)."""
    depth, in_string = 0, False
    for i in range(start, len(text)):
        c = text[i]
        if in_string:
            in_string = c != '"' or text[i - 1] == "\\"
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
    raise SimtError(f"unbalanced braces in {text!r}")


def _split_attributes(text):
    """Splits the text after an op's operand list into (attribute text,
    rest): the leading ``<{properties}>`` and ``{attribute dict}``."""
    attributes, rest = [], text.strip()
    while rest.startswith("<{") or rest.startswith("{"):
        open_at = rest.index("{")
        end = _closing_brace(rest, open_at) + 1
        if rest.startswith("<{"):
            end += 1  # the '>' after '}'
        attributes.append(rest[:end])
        rest = rest[end:].strip()
    return " ".join(attributes), rest


def _result_types(signature, where):
    """Result types of a trailing ``: (operand types) -> result types``."""
    if signature.startswith(":"):
        function_type, depth = signature[1:].strip(), 0
        for i, c in enumerate(function_type):
            if c == "-" and depth == 0 and function_type.startswith("->", i):
                results = function_type[i + 2:].strip()
                if results.startswith("(") and results.endswith(")"):
                    results = results[1:-1]
                return _split_top_level(results)
            if c in "(<[{":
                depth += 1
            elif c in ")]}" or (c == ">" and function_type[i - 1] != "-"):
                depth -= 1
    raise SimtError(f"{where}: expected ': (types) -> types', got {signature!r}")


def parse_module(text):
    """Parses generic-form MLIR into its top-level ops (a list of
    :class:`Op`), each region a list of :class:`Block`.

    Raises:
      SimtError: a line that is not an op, a block label or a region
        delimiter of the generic form.
      UnsupportedOpError: an op with successors (unstructured control flow).
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)
             if line.strip()]
    position = 0

    def next_line():
        nonlocal position
        if position == len(lines):
            raise SimtError("unexpected end of the IR inside a region")
        position += 1
        return lines[position - 1]

    def parse_regions():
        """Reads regions up to the closing '})'; returns them and the text
        after '})' (attribute dict and function type)."""
        regions, blocks = [], []
        while True:
            number, line = next_line()
            if line.startswith("})"):
                regions.append(blocks)
                return regions, line[2:]
            if line == "}, {":
                regions.append(blocks)
                blocks = []
                continue
            label = _BLOCK_RE.match(line)
            if label:
                blocks.append(Block(_BLOCK_ARG_RE.findall(label.group("args") or "")))
                continue
            if not blocks:
                blocks.append(Block([]))  # entry block printed without label
            blocks[-1].ops.append(parse_op(number, line))

    def parse_op(number, line):
        match = _OP_RE.match(line)
        if not match:
            raise SimtError(f"line {number}: not a generic-form op: {line[:120]!r}")
        results = []
        for group in _split_top_level(match.group("results") or ""):
            name, _, count = group.partition(":")
            results += [f"{name}#{i}" for i in range(int(count))] if count else [name]
        attributes, rest = _split_attributes(match.group("rest"))
        op = Op(match.group("name"), results, _split_top_level(match.group("operands")),
                attributes, [], [], number, line)
        if rest.startswith("["):
            raise UnsupportedOpError(f"line {number}: op '{op.name}' has successors "
                                     "(unstructured control flow)")
        signature = rest
        if rest.startswith("({"):
            op.regions, tail = parse_regions()
            more_attributes, signature = _split_attributes(tail)
            op.attributes = (op.attributes + " " + more_attributes).strip()
        op.result_types = _result_types(signature, f"line {number}")
        if len(op.result_types) != len(results):
            raise SimtError(f"line {number}: {len(results)} results but "
                            f"{len(op.result_types)} result types")
        return op

    ops = []
    while position < len(lines):
        ops.append(parse_op(*next_line()))
    return ops


# --------------------------------------------------------------------------
# Types and values
# --------------------------------------------------------------------------

_SHAPED_TYPE_RE = re.compile(
    r'^(?:tensor|memref|vector)<(?P<shape>(?:[\d?]+x)*)(?P<element>\w+)(?:,\s*.*)?>$')
_FLOAT_TYPES = ("f16", "bf16", "f32", "f64")
# 2-byte units of shared memory per element.
_SHARED_UNITS = {"f32": 2, "f16": 1, "bf16": 1}
_INT_TYPES = ("index", "i64", "i32", "i1")


def _shaped_type(text, where):
    """(shape, element type) of a tensor / memref / vector type (its memory
    space aside); '?' dims are None."""
    match = _SHAPED_TYPE_RE.match(text)
    if not match:
        raise UnsupportedOpError(f"{where}: unsupported type {text!r}")
    shape = tuple(None if d == "?" else int(d)
                  for d in match.group("shape").split("x")[:-1])
    return shape, match.group("element")


def round_to_type(x, element_type):
    """x rounded to a float element type ("f16", "bf16", "f32", "f64"), as
    float64 (bf16: rounded through f32, ties to even)."""
    if element_type == "f64":
        return np.asarray(x, dtype=np.float64)
    if element_type == "f32":
        return np.asarray(x, dtype=np.float32).astype(np.float64)
    if element_type == "f16":
        return np.asarray(x, dtype=np.float16).astype(np.float64)
    if element_type == "bf16":
        # (through a 1-D array: round_bf16's bit arithmetic fails on numpy
        # scalars)
        return round_bf16(np.atleast_1d(x)).astype(np.float64).reshape(np.shape(x))
    raise ValueError(f"not a float type: {element_type!r}")


def _wrap_int64(x):
    """A Python integer result wrapped to int64 like two's complement."""
    return (int(x) - _INT64_MIN) % _INT64_RANGE + _INT64_MIN


@dataclass
class GlobalBuffer:
    """A global memref: a function input (read-only) or an allocation (an
    output, whose stores are counted)."""
    name: str
    array: np.ndarray
    write_counts: np.ndarray = None  # None: read-only input


@dataclass
class SharedView:
    """A memref.view of the dynamic shared memory: elements of
    `element_type` (f32, f16 or bf16) from `offset` with a row-major `shape`;
    offset and strides count 2-byte units (an f32 element spans two, and is
    tracked at its first)."""
    offset: int
    shape: tuple
    strides: tuple
    element_type: str = "f32"


@dataclass
class ConstantVector:
    """A constant vector (only ``vector.extract`` reads it)."""
    values: np.ndarray


class _DynamicSharedMemory:
    """The value of ``gpu.dynamic_shared_memory`` (a byte buffer)."""


class _SharedMemory:
    """A block's shared memory, in 2-byte units, with the bookkeeping of the
    race checks: the last writer and the last reader (_MANY_READERS when
    several threads read) of each word and the barrier epoch of those
    accesses."""

    def __init__(self, words):
        self.values = np.zeros(words)
        self.written = np.zeros(words, dtype=bool)
        self.writer = np.full(words, -1)
        self.writer_epoch = np.full(words, -1)
        self.reader = np.full(words, -1)
        self.reader_epoch = np.full(words, -1)


@dataclass(frozen=True)
class Issue:
    """A check that failed without stopping interpretation. kind is one of
    "RAW race", "WAR race", "WAW race", "uninitialized shared read",
    "uninitialized global read", "divergent barrier", "divergent shuffle"."""
    kind: str
    line: int
    message: str


@dataclass
class LaunchInfo:
    """What a gpu.launch ran: grid and block sizes (x, y, z) and its dynamic
    shared memory in bytes."""
    grid: tuple
    block: tuple
    shared_bytes: int


@dataclass
class KernelRun:
    """The result of :func:`interpret`: the function's results (float64
    arrays), their write counts (None for a result that is not an
    allocation), the issues found and the launches run."""
    outputs: list
    write_counts: list
    issues: list
    launches: list


# --------------------------------------------------------------------------
# The interpreter
# --------------------------------------------------------------------------

_INT_BINARY = {
    "arith.addi": operator.add, "arith.subi": operator.sub,
    "arith.muli": operator.mul, "arith.andi": operator.and_,
    "arith.ori": operator.or_, "arith.xori": operator.xor,
    "arith.minsi": np.minimum, "arith.maxsi": np.maximum,
}
_SIGNED_CMPI = {0: operator.eq, 1: operator.ne, 2: operator.lt,
                3: operator.le, 4: operator.gt, 5: operator.ge}
_FLOAT_BINARY = {
    "arith.addf": np.add, "arith.subf": np.subtract,
    "arith.mulf": np.multiply, "arith.divf": np.divide,
    "arith.maximumf": np.maximum,  # NaN-propagating, as arith.maximumf
}
_FLOAT_UNARY = {"math.exp": np.exp, "math.log": np.log, "math.tanh": np.tanh}
# arith.cmpf predicates: (ordered result wanted?, comparison); 0 and 15 are
# the constant false / true predicates.
_CMPF = {1: (True, operator.eq), 2: (True, operator.gt), 3: (True, operator.ge),
         4: (True, operator.lt), 5: (True, operator.le), 6: (True, operator.ne),
         8: (False, operator.eq), 9: (False, operator.gt), 10: (False, operator.ge),
         11: (False, operator.lt), 12: (False, operator.le), 13: (False, operator.ne)}


class Interpreter:
    """Runs one function of a parsed module; see the module docstring.
    Use :func:`interpret`."""

    def __init__(self, float_mode="float64"):
        if float_mode not in FLOAT_MODES:
            raise ValueError(f"float_mode must be one of {FLOAT_MODES}, got {float_mode!r}")
        self.float_mode = float_mode
        self.issues = []
        self.launches = []
        self._issue_keys = set()
        self._device_ops = {
            "arith.constant": self._constant_op,
            "arith.index_cast": self._identity,
            "arith.extf": self._identity,
            "arith.truncf": self._truncf,
            "arith.sitofp": self._sitofp,
            "arith.cmpi": self._cmpi,
            "arith.cmpf": self._cmpf,
            "arith.select": self._select,
            "arith.divui": self._unsigned_division,
            "arith.remui": self._unsigned_division,
            "math.absi": self._absi,
            "math.fma": self._fma,
            "vector.extract": self._vector_extract,
            "vector.from_elements": self._from_elements,
            "vector.load": self._vector_load,
            "nvgpu.mma.sync": self._mma_sync,
            "gpu.dynamic_shared_memory": self._dynamic_shared_memory,
            "memref.view": self._view,
            "memref.load": self._load,
            "memref.store": self._store,
            "gpu.barrier": self._barrier,
            "gpu.shuffle": self._shuffle,
            "scf.for": self._for,
            "scf.if": self._if,
        }
        for name in _INT_BINARY:
            self._device_ops[name] = self._int_binary
        for name in _FLOAT_BINARY:
            self._device_ops[name] = self._float_binary
        for name in _FLOAT_UNARY:
            self._device_ops[name] = self._float_unary

    # ---- host ------------------------------------------------------------

    def run_function(self, function, inputs):
        """Runs `function` (a ``func.func`` Op) on `inputs`; returns the
        :class:`KernelRun`."""
        entry = function.regions[0][0]
        if len(function.regions[0]) != 1:
            raise UnsupportedOpError(f"{function.where()}: function with several blocks")
        if len(inputs) != len(entry.arguments):
            raise ValueError(f"the function takes {len(entry.arguments)} arguments, "
                             f"got {len(inputs)} inputs")
        argument_types = _function_argument_types(function)
        env = {}
        for name, type_text, x in zip(entry.arguments, argument_types, inputs):
            shape, element_type = _shaped_type(type_text, function.where())
            array = np.asarray(x, dtype=np.float64)
            if array.shape != shape:
                raise ValueError(f"argument {name}: shape {array.shape} != {shape}")
            if not np.array_equal(round_to_type(array, element_type), array, equal_nan=True):
                raise ValueError(f"argument {name}: values not representable in "
                                 f"{element_type} (round the inputs first)")
            env[name] = GlobalBuffer(name, array)
        with np.errstate(all="ignore"):
            for op in entry.ops:
                if op.name == "func.return":
                    buffers = [env[name] for name in op.operands]
                    return KernelRun([b.array for b in buffers],
                                     [b.write_counts for b in buffers],
                                     self.issues, self.launches)
                self._host_op(op, env)
        raise SimtError(f"{function.where()}: no func.return")

    def _host_op(self, op, env):
        if op.name == "arith.constant":
            env[op.results[0]] = self._constant(op)
        elif op.name in ("bufferization.to_buffer", "bufferization.to_tensor"):
            env[op.results[0]] = env[op.operands[0]]
        elif op.name == "memref.alloc":
            if op.operands:
                raise UnsupportedOpError(f"{op.where()}: memref.alloc with dynamic sizes")
            shape, element_type = _shaped_type(op.result_types[0], op.where())
            # Integer buffers (e.g. codes) hold int64, so loads can index.
            array = (np.zeros(shape, dtype=np.int64) if element_type in _INT_TYPES
                     else np.full(shape, np.nan))
            env[op.results[0]] = GlobalBuffer(op.results[0], array,
                                              np.zeros(shape, dtype=np.int64))
        elif op.name == "gpu.launch":
            self._launch(op, env)
        else:
            raise UnsupportedOpError(f"unsupported op '{op.name}' (host code) at {op.where()}")

    def _launch(self, op, env):
        segments = re.search(r"operandSegmentSizes = array<i32: ([\d, ]+)>", op.attributes)
        sizes = [int(s) for s in segments.group(1).split(",")] if segments else []
        # async deps, grid x y z, block x y z, cluster x y z, shared bytes
        if len(sizes) != 11 or sizes[0] or any(sizes[7:10]):
            raise UnsupportedOpError(f"{op.where()}: gpu.launch with async dependencies "
                                     "or clusters")
        values = [env[name] for name in op.operands]
        grid, block = tuple(values[0:3]), tuple(values[3:6])
        shared_bytes = int(values[6]) if sizes[10] else 0
        self.launches.append(LaunchInfo(grid, block, shared_bytes))
        body = op.regions[0]
        if len(body) != 1 or len(body[0].arguments) != 12:
            raise UnsupportedOpError(f"{op.where()}: gpu.launch with several blocks or "
                                     "workgroup / private attributions")
        threads = block[0] * block[1] * block[2]
        if threads % WARP_SIZE:
            raise UnsupportedOpError(f"{op.where()}: {threads} threads, not whole warps")
        linear = np.arange(threads)
        thread_ids = (linear % block[0], linear // block[0] % block[1],
                      linear // (block[0] * block[1]))
        self._threads = threads
        self._shared_bytes = shared_bytes
        for z in range(grid[2]):
            for y in range(grid[1]):
                for x in range(grid[0]):
                    self._block_id = (x, y, z)
                    block_env = dict(env)
                    block_env.update(zip(body[0].arguments,
                                         (x, y, z) + thread_ids + grid + block))
                    self._shared = _SharedMemory(shared_bytes // 2)
                    self._epoch = 0
                    self._run_ops(body[0].ops, block_env, np.ones(threads, dtype=bool),
                                  terminator="gpu.terminator")

    # ---- device: structure -----------------------------------------------

    def _run_ops(self, ops, env, mask, terminator):
        """Runs a block's ops under `mask`; returns the terminator's operand
        values."""
        for op in ops:
            if op.name == terminator:
                return [env[name] for name in op.operands]
            handler = self._device_ops.get(op.name)
            if handler is None:
                raise UnsupportedOpError(f"unsupported op '{op.name}' at {op.where()}")
            handler(op, env, mask)
        raise SimtError(f"block without {terminator} (last op at {ops[-1].where()})")

    def _for(self, op, env, mask):
        lower, upper, step = (env[name] for name in op.operands[:3])
        carried = [self._per_thread(env[name]) for name in op.operands[3:]]
        region = op.regions[0]
        if len(region) != 1:
            raise UnsupportedOpError(f"{op.where()}: scf.for with several blocks")
        induction, iter_args = region[0].arguments[0], region[0].arguments[1:]
        if all(np.ndim(v) == 0 for v in (lower, upper, step)):
            # Uniform bounds: every active thread runs every iteration.
            if step <= 0:
                raise SimtError(f"{op.where()}: non-positive step {step}")
            for i in range(int(lower), int(upper), int(step)):
                env[induction] = i
                env.update(zip(iter_args, carried))
                carried = self._run_ops(region[0].ops, env, mask, "scf.yield")
        else:
            # Per-thread bounds: a thread takes part while its own i < upper.
            if np.any(np.broadcast_to(step, mask.shape)[mask] <= 0):
                raise SimtError(f"{op.where()}: non-positive step")
            i = np.broadcast_to(lower, mask.shape).copy()
            active = mask & (i < upper)
            while active.any():
                env[induction] = i
                env.update(zip(iter_args, carried))
                yielded = self._run_ops(region[0].ops, env, active, "scf.yield")
                carried = [np.where(active.reshape((-1,) + (1,) * (np.ndim(c) - 1)), y, c)
                           for y, c in zip(yielded, carried)]
                i = np.where(active, i + step, i)
                active &= i < upper
        env.update(zip(op.results, carried))

    def _if(self, op, env, mask):
        if op.results:
            raise UnsupportedOpError(f"{op.where()}: scf.if with results")
        condition = np.asarray(env[op.operands[0]], dtype=bool)
        for region, taken in zip(op.regions, (condition, ~condition)):
            if len(region) > 1:
                raise UnsupportedOpError(f"{op.where()}: scf.if region with several blocks")
            branch_mask = mask & taken
            if region and branch_mask.any():
                self._run_ops(region[0].ops, env, branch_mask, "scf.yield")

    def _per_thread(self, value):
        """`value` with one entry per thread: scalars broadcast to
        (threads,), vector constants to (threads, *shape); per-thread values
        (scalars: (threads,), vectors: (threads, *shape)) as they are."""
        if isinstance(value, ConstantVector):
            return np.broadcast_to(value.values, (self._threads,) + value.values.shape)
        if np.ndim(value) >= 2:
            return value
        return np.broadcast_to(value, (self._threads,))

    # ---- device: arithmetic ----------------------------------------------

    def _round(self, x, result_type):
        """A float op's result: rounded to its IR type in "f32" mode."""
        return round_to_type(x, result_type) if self.float_mode == "f32" else x

    def _identity(self, op, env, mask):
        env[op.results[0]] = env[op.operands[0]]

    def _constant(self, op):
        """The value of an arith.constant (decoded once)."""
        if op.decoded is None:
            match = re.fullmatch(r"<\{value = (.*) : ([^:]+)\}>", op.attributes)
            if not match:
                raise UnsupportedOpError(f"{op.where()}: unsupported constant")
            op.decoded = _decode_constant(match.group(1), match.group(2).strip(), op)
        return op.decoded

    def _constant_op(self, op, env, mask):
        env[op.results[0]] = self._constant(op)

    def _int_binary(self, op, env, mask):
        result_type = op.result_types[0]
        if result_type not in ("index", "i64", "i1"):
            raise UnsupportedOpError(f"{op.name} on {result_type} at {op.where()} "
                                     "(only 64-bit and i1 integers)")
        a, b = env[op.operands[0]], env[op.operands[1]]
        value = _INT_BINARY[op.name](a, b)
        if np.ndim(value) == 0 and result_type != "i1":
            value = _wrap_int64(value)
        env[op.results[0]] = value

    def _unsigned_division(self, op, env, mask):
        a, b = (env[name] for name in op.operands)
        if (np.any(np.broadcast_to(a, mask.shape)[mask] < 0)
                or np.any(np.broadcast_to(b, mask.shape)[mask] <= 0)):
            raise SimtError(f"{op.name} of a negative value or by a non-positive one "
                            f"at {op.where()} in block {self._block_id}")
        if np.ndim(b):
            b = np.where(mask, b, 1)  # inactive lanes may hold anything
        env[op.results[0]] = a // b if op.name == "arith.divui" else a % b

    def _absi(self, op, env, mask):
        value = abs(env[op.operands[0]])
        env[op.results[0]] = _wrap_int64(value) if np.ndim(value) == 0 else value

    def _cmpi(self, op, env, mask):
        if op.decoded is None:
            predicate = int(re.search(r"predicate = (\d+)", op.attributes).group(1))
            if predicate not in _SIGNED_CMPI:
                raise UnsupportedOpError(f"arith.cmpi predicate {predicate} (unsigned) "
                                         f"at {op.where()}")
            op.decoded = _SIGNED_CMPI[predicate]
        env[op.results[0]] = op.decoded(env[op.operands[0]], env[op.operands[1]])

    def _cmpf(self, op, env, mask):
        if op.decoded is None:
            predicate = int(re.search(r"predicate = (\d+)", op.attributes).group(1))
            if predicate not in _CMPF:
                raise UnsupportedOpError(f"arith.cmpf predicate {predicate} at {op.where()}")
            op.decoded = _CMPF[predicate]
        ordered_only, compare = op.decoded
        a, b = np.asarray(env[op.operands[0]]), np.asarray(env[op.operands[1]])
        unordered = np.isnan(a) | np.isnan(b)
        holds = compare(a, b)
        env[op.results[0]] = holds & ~unordered if ordered_only else holds | unordered

    def _select(self, op, env, mask):
        condition, a, b = (env[name] for name in op.operands)
        env[op.results[0]] = ((a if condition else b) if np.ndim(condition) == 0
                              else np.where(condition, a, b))

    def _sitofp(self, op, env, mask):
        value = np.asarray(env[op.operands[0]], dtype=np.float64)
        env[op.results[0]] = self._round(value, op.result_types[0])

    def _truncf(self, op, env, mask):
        env[op.results[0]] = round_to_type(env[op.operands[0]], op.result_types[0])

    def _float_binary(self, op, env, mask):
        value = _FLOAT_BINARY[op.name](env[op.operands[0]], env[op.operands[1]])
        env[op.results[0]] = self._round(value, op.result_types[0])

    def _float_unary(self, op, env, mask):
        value = _FLOAT_UNARY[op.name](env[op.operands[0]])
        env[op.results[0]] = self._round(value, op.result_types[0])

    def _fma(self, op, env, mask):
        a, b, c = (env[name] for name in op.operands)
        # Exact product of two f32 values in float64, one rounding in "f32".
        env[op.results[0]] = self._round(np.multiply(a, b) + c, op.result_types[0])

    def _vector_extract(self, op, env, mask):
        vector = env[op.operands[0]]
        if isinstance(vector, np.ndarray) and vector.ndim >= 2:
            # A per-thread vector [threads, *shape]: static positions only.
            match = re.search(r"static_position = array<i64: ([-\d, ]+)>", op.attributes)
            position = tuple(int(x) for x in match.group(1).split(",")) if match else ()
            if (not match or len(op.operands) != 1 or len(position) > vector.ndim - 1
                    or any(not 0 <= p < n for p, n in zip(position, vector.shape[1:]))):
                raise UnsupportedOpError(f"{op.where()}: vector.extract of a per-thread "
                                         "vector at dynamic or out-of-range positions")
            env[op.results[0]] = vector[(slice(None),) + position]
            return
        match = re.search(r"static_position = array<i64: (-?\d+)>", op.attributes)
        if not isinstance(vector, ConstantVector) or vector.values.ndim != 1 or not match:
            raise UnsupportedOpError(f"{op.where()}: vector.extract of a scalar from a "
                                     "1-D constant vector only")
        position = int(match.group(1))
        if position == _DYNAMIC_POSITION:
            position = env[op.operands[1]]
        active = np.broadcast_to(position, mask.shape)[mask]
        if np.any((active < 0) | (active >= vector.values.size)):
            raise SimtError(f"{op.where()}: position out of bounds in block {self._block_id}")
        env[op.results[0]] = (vector.values[position] if np.ndim(position) == 0
                              else vector.values[np.clip(position, 0, vector.values.size - 1)])

    def _from_elements(self, op, env, mask):
        shape, _ = _shaped_type(op.result_types[0], op.where())
        if len(op.operands) != int(np.prod(shape)):
            raise SimtError(f"{op.where()}: {len(op.operands)} elements for {shape}")
        elements = [np.broadcast_to(env[name], (self._threads,)) for name in op.operands]
        env[op.results[0]] = np.stack(elements, axis=1).reshape((self._threads,) + shape)

    def _mma_sync(self, op, env, mask):
        """nvgpu.mma.sync m16n8k16, f16 / bf16 operands, f32 accumulators:
        per warp, the fragments of the 32 lanes are gathered into A (16x16),
        B (16x8), C (16x8) by :func:`mma_m16n8k16`."""
        if op.decoded is None:
            shape = re.search(r"mmaShape = \[([\d, ]+)\]", op.attributes)
            types = re.search(r":\s*\((.*)\)\s*->", op.text)
            operand_types = _split_top_level(types.group(1)) if types else []
            if (not shape or [int(x) for x in shape.group(1).split(",")] != [16, 8, 16]
                    or "tf32Enabled" in op.attributes or len(operand_types) != 3):
                raise UnsupportedOpError(f"{op.where()}: nvgpu.mma.sync other than m16n8k16")
            a_type = _shaped_type(operand_types[0], op.where())
            b_type = _shaped_type(operand_types[1], op.where())
            c_type = _shaped_type(operand_types[2], op.where())
            if (a_type[0] != (4, 2) or b_type[0] != (2, 2) or c_type != ((2, 2), "f32")
                    or a_type[1] not in ("f16", "bf16") or b_type[1] != a_type[1]
                    or op.result_types[0] != "vector<2x2xf32>"):
                raise UnsupportedOpError(f"{op.where()}: nvgpu.mma.sync other than "
                                         "vector<4x2xf16|bf16> x vector<2x2xf16|bf16> + "
                                         "vector<2x2xf32>")
            op.decoded = a_type[1]
        warps = mask.reshape(-1, WARP_SIZE)
        if np.any(warps.any(axis=1) & ~warps.all(axis=1)):
            self._issue("divergent mma", op, "a warp with inactive lanes")
        a, b, c = (self._per_thread(env[name]) for name in op.operands)
        for name, fragment in (("A", a), ("B", b)):
            if not np.array_equal(round_to_type(fragment, op.decoded), fragment,
                                  equal_nan=True):
                raise SimtError(f"{op.where()}: {name} fragment not representable in "
                                f"{op.decoded} in block {self._block_id}")
        d = np.concatenate([mma_m16n8k16(a[w:w + WARP_SIZE], b[w:w + WARP_SIZE],
                                         c[w:w + WARP_SIZE])
                            for w in range(0, self._threads, WARP_SIZE)])
        env[op.results[0]] = self._round(d, "f32")

    # ---- device: memory --------------------------------------------------

    def _dynamic_shared_memory(self, op, env, mask):
        env[op.results[0]] = _DynamicSharedMemory()

    def _view(self, op, env, mask):
        source, offset = env[op.operands[0]], env[op.operands[1]]
        if (not isinstance(source, _DynamicSharedMemory) or len(op.operands) != 2
                or np.ndim(offset) != 0):
            raise UnsupportedOpError(f"{op.where()}: memref.view other than a static view "
                                     "of gpu.dynamic_shared_memory at a uniform offset")
        shape, element_type = _shaped_type(op.result_types[0], op.where())
        if element_type not in _SHARED_UNITS:
            raise UnsupportedOpError(f"{op.where()}: shared view of {element_type} "
                                     "(f32, f16 and bf16 only)")
        units = _SHARED_UNITS[element_type]
        if offset % (2 * units):
            raise SimtError(f"{op.where()}: byte offset {offset} not aligned to "
                            f"{element_type}")
        size = 2 * units * int(np.prod(shape))
        if offset + size > self._shared_bytes:
            raise SimtError(f"{op.where()}: view of bytes [{offset}, {offset + size}) "
                            f"exceeds the launch's {self._shared_bytes} bytes of dynamic "
                            "shared memory")
        strides = tuple(units * int(np.prod(shape[d + 1:])) for d in range(len(shape)))
        env[op.results[0]] = SharedView(offset // 2, shape, strides, element_type)

    def _active_indices(self, op, indices, shape, lanes, what):
        """The indices of the active lanes' access (uniform ones stay
        scalars), bounds-checked."""
        result = []
        for dim, (index, size) in enumerate(zip(indices, shape)):
            if np.ndim(index):
                index = index[lanes]
                in_bounds = index.min() >= 0 and index.max() < size
            else:
                in_bounds = 0 <= index < size
            if not in_bounds:
                bad = np.flatnonzero(np.broadcast_to((index < 0) | (index >= size),
                                                     lanes.shape))[0]
                raise SimtError(
                    f"out-of-bounds {what} at {op.where()}: thread {lanes[bad]} of block "
                    f"{self._block_id} uses index {np.broadcast_to(index, lanes.shape)[bad]} "
                    f"in dim {dim} of size {size}")
            result.append(index)
        return result

    def _load(self, op, env, mask):
        memref = env[op.operands[0]]
        indices = [env[name] for name in op.operands[1:]]
        lanes = np.flatnonzero(mask)
        result = np.zeros(self._threads, dtype=np.int64
                          if isinstance(memref, GlobalBuffer)
                          and memref.array.dtype == np.int64 else np.float64)
        if isinstance(memref, SharedView):
            words = self._shared_words(op, memref, indices, lanes, "shared load")
            self._check_shared_read(op, words, lanes)
            result[lanes] = self._shared.values[words]
        elif isinstance(memref, GlobalBuffer):
            index = tuple(self._active_indices(op, indices, memref.array.shape, lanes,
                                               f"load from {memref.name}"))
            if memref.write_counts is not None and np.any(memref.write_counts[index] == 0):
                self._issue("uninitialized global read", op, f"{memref.name} read before "
                            "written")
            result[lanes] = memref.array[index]
        else:
            raise UnsupportedOpError(f"{op.where()}: memref.load from {type(memref).__name__}")
        env[op.results[0]] = result

    def _vector_load(self, op, env, mask):
        """vector.load of a 1-D vector of n elements along the last dim of a
        shared view; checks bounds (the n elements), the alignment (the
        op's, else the element size) and races like n scalar loads."""
        view = env[op.operands[0]]
        if not isinstance(view, SharedView):
            raise UnsupportedOpError(f"{op.where()}: vector.load other than from shared memory")
        (n,), element_type = _shaped_type(op.result_types[0], op.where())
        if element_type != view.element_type:
            raise SimtError(f"{op.where()}: vector of {element_type} from a view of "
                            f"{view.element_type}")
        alignment = re.search(r"alignment = (\d+)", op.attributes)
        alignment = int(alignment.group(1)) if alignment else 2 * _SHARED_UNITS[element_type]
        indices = [env[name] for name in op.operands[1:]]
        lanes = np.flatnonzero(mask)
        last = np.broadcast_to(indices[-1], mask.shape)[lanes]
        if np.any(last + n > view.shape[-1]):
            raise SimtError(f"out-of-bounds shared vector load at {op.where()}: elements "
                            f"up to {int(last.max()) + n - 1} of a last dim of "
                            f"{view.shape[-1]} in block {self._block_id}")
        first = self._shared_words(op, view, indices, lanes, "shared vector load")
        if np.any((2 * first) % alignment):
            bad = np.flatnonzero((2 * first) % alignment)[0]
            raise SimtError(f"misaligned shared vector load at {op.where()}: thread "
                            f"{lanes[bad]} of block {self._block_id} reads byte "
                            f"{2 * first[bad]}, alignment {alignment}")
        step = view.strides[-1]
        words = (first[:, None] + step * np.arange(n)).ravel()
        self._check_shared_read(op, words, np.repeat(lanes, n))
        result = np.zeros((self._threads, n))
        result[lanes] = self._shared.values[words].reshape(-1, n)
        env[op.results[0]] = result

    def _store(self, op, env, mask):
        value, memref = env[op.operands[0]], env[op.operands[1]]
        indices = [env[name] for name in op.operands[2:]]
        lanes = np.flatnonzero(mask)
        values = value[lanes] if np.ndim(value) else value
        if isinstance(memref, SharedView):
            words = self._shared_words(op, memref, indices, lanes, "shared store")
            self._record_shared_write(op, words, lanes)
            self._shared.values[words] = values
        elif isinstance(memref, GlobalBuffer):
            if memref.write_counts is None:
                raise SimtError(f"{op.where()}: store to the read-only input {memref.name}")
            index = tuple(self._active_indices(op, indices, memref.array.shape, lanes,
                                               f"store to {memref.name}"))
            memref.array[index] = values
            np.add.at(memref.write_counts, index, 1)
        else:
            raise UnsupportedOpError(f"{op.where()}: memref.store to {type(memref).__name__}")

    def _shared_words(self, op, view, indices, lanes, what):
        """Shared-memory word of each active lane's access."""
        word = view.offset
        for index, stride in zip(self._active_indices(op, indices, view.shape, lanes, what),
                                 view.strides):
            word = word + index * stride
        return np.broadcast_to(word, lanes.shape)

    def _check_shared_read(self, op, words, lanes):
        shared, epoch = self._shared, self._epoch
        raw = (shared.writer_epoch[words] == epoch) & (shared.writer[words] != lanes)
        if raw.any():
            first = np.argmax(raw)
            self._issue("RAW race", op, f"thread {lanes[first]} reads shared word "
                        f"{words[first]} written by thread {shared.writer[words[first]]} "
                        "since the last barrier")
        if not shared.written[words].all():
            first = np.argmin(shared.written[words])
            self._issue("uninitialized shared read", op, f"thread {lanes[first]} reads "
                        f"shared word {words[first]}, never written")
        # Reader bookkeeping: a word read this epoch by another thread, before
        # or within this load, now has several readers.
        earlier = shared.reader[words]
        read_by_other = (shared.reader_epoch[words] == epoch) & (earlier != lanes)
        shared.reader[words] = lanes
        read_by_other |= shared.reader[words] != lanes  # another lane of this load
        shared.reader[words[read_by_other]] = _MANY_READERS
        shared.reader_epoch[words] = epoch

    def _record_shared_write(self, op, words, lanes):
        shared, epoch = self._shared, self._epoch
        war = (shared.reader_epoch[words] == epoch) & (shared.reader[words] != lanes)
        if war.any():
            first = np.argmax(war)
            reader = shared.reader[words[first]]
            readers = "several threads" if reader == _MANY_READERS else f"thread {reader}"
            self._issue("WAR race", op, f"thread {lanes[first]} writes shared word "
                        f"{words[first]} read by {readers} since the last barrier")
        waw = (shared.writer_epoch[words] == epoch) & (shared.writer[words] != lanes)
        shared.writer[words] = lanes
        waw |= shared.writer[words] != lanes  # two lanes of this store
        if waw.any():
            first = np.argmax(waw)
            self._issue("WAW race", op, f"shared word {words[first]} written by two "
                        "threads since the last barrier")
        shared.writer_epoch[words] = epoch
        shared.written[words] = True

    # ---- device: synchronisation -----------------------------------------

    def _barrier(self, op, env, mask):
        if not mask.all():
            self._issue("divergent barrier", op, f"reached by {mask.sum()} of "
                        f"{mask.size} threads")
        self._epoch += 1

    def _shuffle(self, op, env, mask):
        if op.decoded is None:
            mode = re.search(r"shuffle_mode (\w+)", op.attributes)
            if not mode or mode.group(1) != "xor":
                raise UnsupportedOpError(f"{op.where()}: gpu.shuffle mode other than xor")
            op.decoded = True
        value, offset, width = (env[name] for name in op.operands)
        if np.ndim(offset) or np.ndim(width) or width != WARP_SIZE or not 0 <= offset < width:
            raise UnsupportedOpError(f"{op.where()}: gpu.shuffle xor needs a uniform "
                                     "offset < width = 32")
        warps = mask.reshape(-1, WARP_SIZE)
        if np.any(warps.any(axis=1) & ~warps.all(axis=1)):
            self._issue("divergent shuffle", op, "a warp with inactive lanes")
        lanes = np.arange(self._threads)
        env[op.results[0]] = np.broadcast_to(value, lanes.shape)[lanes ^ offset]
        env[op.results[1]] = np.ones(self._threads, dtype=bool)

    def _issue(self, kind, op, detail):
        if (kind, op.line) in self._issue_keys:
            return
        self._issue_keys.add((kind, op.line))
        self.issues.append(Issue(kind, op.line, f"{kind} at {op.where()} in block "
                                 f"{self._block_id}: {detail}"))


def _mma_fragment_coordinates():
    """(row, col) in A (16x16), B (16x8) and C / D (16x8) of each element of
    each lane's fragments of mma.m16n8k16 with a floating-point type (f16 /
    bf16 multiplicands, f32 accumulators), from the PTX ISA, section "Matrix
    Fragments for mma.m16n8k16 with floating point type"
    (https://docs.nvidia.com/cuda/parallel-thread-execution/
    #warp-level-matrix-fragment-mma-16816-float), with
    groupID = %laneid >> 2 and threadID_in_group = %laneid % 4:

    * A, elements a0..a7 (four .f16x2 / .bf16x2 registers): row = groupID
      for ai with i < 2 or 4 <= i < 6, else groupID + 8; col =
      threadID_in_group * 2 + (i & 1) for i < 4, that + 8 for i >= 4;
    * B, elements b0..b3 (two registers): row = threadID_in_group * 2 +
      (i & 1) for i < 2, that + 8 for i >= 2; col = groupID;
    * C and D, elements c0..c3 (four .f32 registers): row = groupID for
      i < 2, else groupID + 8; col = threadID_in_group * 2 + (i & 1).

    In MLIR's nvgpu.mma.sync the fragments are vector<4x2xf16|bf16>,
    vector<2x2xf16|bf16> and vector<2x2xf32>: vector row r is register r, so
    element [r][e] is a{2r+e} (b{2r+e}, c{2r+e}).

    Returns three int arrays of shape [32 lanes, registers, 2, 2 (row, col)].
    """
    lane = np.arange(WARP_SIZE)[:, None]
    group, in_group = lane >> 2, lane % 4
    i = np.arange(8)[None, :]
    a = np.stack([np.where((i < 2) | ((i >= 4) & (i < 6)), group, group + 8),
                  in_group * 2 + (i & 1) + np.where(i >= 4, 8, 0)], axis=-1)
    i = np.arange(4)[None, :]
    b = np.stack([in_group * 2 + (i & 1) + np.where(i >= 2, 8, 0),
                  np.broadcast_to(group, (WARP_SIZE, 4))], axis=-1)
    c = np.stack([np.where(i < 2, group, group + 8),
                  np.broadcast_to(in_group * 2, (WARP_SIZE, 4)) + (i & 1)], axis=-1)
    return a.reshape(WARP_SIZE, 4, 2, 2), b.reshape(WARP_SIZE, 2, 2, 2), \
        c.reshape(WARP_SIZE, 2, 2, 2)


_MMA_A, _MMA_B, _MMA_C = _mma_fragment_coordinates()


def mma_m16n8k16(a, b, c):
    """D = A B + C of one warp's mma.sync.m16n8k16 (row.col, f32
    accumulators) on fragments a [32, 4, 2], b [32, 2, 2], c [32, 2, 2]
    (lane, register, element; the layout of :func:`_mma_fragment_coordinates`);
    returns d [32, 2, 2] in the layout of c. Computed exactly in float64 (the
    products of f16 / bf16 values are exact); the hardware's f32 sum may
    round differently (its accumulation order and precision are not
    specified by PTX)."""
    a_matrix = np.full((16, 16), np.nan)
    b_matrix = np.full((16, 8), np.nan)
    c_matrix = np.full((16, 8), np.nan)
    a_matrix[_MMA_A[..., 0], _MMA_A[..., 1]] = a
    b_matrix[_MMA_B[..., 0], _MMA_B[..., 1]] = b
    c_matrix[_MMA_C[..., 0], _MMA_C[..., 1]] = c
    d_matrix = a_matrix @ b_matrix + c_matrix
    return d_matrix[_MMA_C[..., 0], _MMA_C[..., 1]]


def _decode_constant(text, type_text, op):
    """Python / numpy value of an arith.constant's `text` of type
    `type_text`."""
    if type_text.startswith("vector<"):
        shape, element_type = _shaped_type(type_text, op.where())
        match = re.fullmatch(r"dense<\[?(.*?)\]?>", text)
        if not match or element_type not in _FLOAT_TYPES:
            raise UnsupportedOpError(f"{op.where()}: unsupported vector constant")
        values = [_decode_constant(x.strip(), element_type, op)
                  for x in match.group(1).split(",")]
        if len(shape) != 1 and len(values) != 1:
            raise UnsupportedOpError(f"{op.where()}: n-D vector constant that is not a splat")
        return ConstantVector(np.broadcast_to(np.array(values, dtype=np.float64),
                                              shape).copy())
    if type_text in _FLOAT_TYPES:
        if text.startswith("0x"):
            bits = int(text, 16)
            if type_text == "bf16":
                bits, type_text = bits << 16, "f32"
            unsigned, floating = {"f16": (np.uint16, np.float16),
                                  "f32": (np.uint32, np.float32),
                                  "f64": (np.uint64, np.float64)}[type_text]
            return float(np.array([bits], dtype=unsigned).view(floating)[0])
        return float(round_to_type(float(text), type_text))
    if type_text == "i1":
        return text == "true"
    if type_text in _INT_TYPES:
        return _wrap_int64(int(text))
    raise UnsupportedOpError(f"{op.where()}: constant of type {type_text}")


def _function_argument_types(function):
    match = re.search(r"function_type = \((.*?)\) ->", function.attributes)
    if not match:
        raise SimtError(f"{function.where()}: no function_type")
    return _split_top_level(match.group(1))


def interpret(module_text, inputs, float_mode="float64", entry="main"):
    """Interprets function `entry` of generic-form `module_text` on `inputs`
    (numpy arrays, one per tensor argument, exactly representable in the
    argument's element type).

    Returns:
      KernelRun: outputs (float64 arrays), write counts, issues, launches.

    Raises:
      SimtError: a fatal check failed or the IR is malformed.
      UnsupportedOpError: the IR leaves the supported subset (names the op).
      ValueError: inputs of the wrong number, shape or precision.
    """
    functions = [op for top in parse_module(module_text) if top.name == "builtin.module"
                 for block in top.regions[0] for op in block.ops
                 if op.name == "func.func"
                 and re.search(rf'sym_name = "{re.escape(entry)}"', op.attributes)]
    if len(functions) != 1:
        raise SimtError(f"expected one func.func @{entry} in a builtin.module, "
                        f"found {len(functions)}")
    return Interpreter(float_mode).run_function(functions[0], inputs)
