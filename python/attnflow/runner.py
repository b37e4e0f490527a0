"""Runs AttnFlow modules on numpy arrays through the ``attnflow-run`` tool
(DESIGN §5), which JIT-compiles them for the host CPU.

The tool is found through, in order: the environment variable
``ATTNFLOW_RUN`` (path of the binary), ``ATTNFLOW_BIN_DIR`` (the directory
holding it; ctest sets this to the build's bin/), then ``PATH``.
"""

import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

__all__ = ["find_attnflow_run", "entry_signature", "run"]

TOOL = "attnflow-run"

# numpy dtype each element type is exchanged as (DESIGN §5: a bf16 argument is
# read from an f32 file and rounded; bf16 results come back as f32).
_NPY_DTYPES = {"f64": np.float64, "f32": np.float32, "f16": np.float16,
               "bf16": np.float32, "i64": np.int64, "i32": np.int32,
               "i1": np.bool_}


def find_attnflow_run():
    """Path of the attnflow-run binary.

    Raises:
      FileNotFoundError: naming where it was looked for.
    """
    explicit = os.environ.get("ATTNFLOW_RUN")
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise FileNotFoundError(f"ATTNFLOW_RUN={explicit} is not an executable file")
    bin_dir = os.environ.get("ATTNFLOW_BIN_DIR")
    if bin_dir:
        path = os.path.join(bin_dir, TOOL)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise FileNotFoundError(f"ATTNFLOW_BIN_DIR={bin_dir} holds no executable {TOOL}")
    path = shutil.which(TOOL)
    if path:
        return path
    raise FileNotFoundError(f"{TOOL} not found: set ATTNFLOW_RUN to the binary, "
                            f"ATTNFLOW_BIN_DIR to its directory, or put it on PATH")


def _closing(text, start):
    """Index just past the bracket group opening at text[start]."""
    pairs = {"(": ")", "<": ">", "[": "]", "{": "}"}
    stack = []
    for i in range(start, len(text)):
        c = text[i]
        if c == "-" and text.startswith("->", i):
            continue
        if c == ">" and i > 0 and text[i - 1] == "-":
            continue  # the '>' of '->' inside a nested function type
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
    raise ValueError("unbalanced brackets in function signature")


def _split_top_level(text):
    """Splits on commas outside any bracket group."""
    parts, depth, cur = [], 0, []
    for i, c in enumerate(text):
        if c in "(<[{":
            depth += 1
        elif c in ")]}" or (c == ">" and text[i - 1] != "-"):
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return [p.strip() for p in parts]


def _element_type(type_text):
    match = re.match(r"tensor<(?:[0-9?]+x)*([a-z][a-z0-9]*)", type_text)
    return match.group(1) if match else None


def entry_signature(module_text, entry="main"):
    """Argument and result types of ``func.func @entry`` in module_text.

    Returns:
      (argument_types, result_types): lists of type strings such as
      "tensor<2x8xf32>".
    Raises:
      ValueError: no such function.
    """
    header = re.search(r"func\.func\s+(?:(?:public|private|nested)\s+)?@"
                       + re.escape(entry) + r"\s*\(", module_text)
    if not header:
        raise ValueError(f"no func.func @{entry} in the module")
    open_paren = header.end() - 1
    close = _closing(module_text, open_paren)
    args = []
    for arg in _split_top_level(module_text[open_paren + 1:close - 1]):
        type_text = arg.split(":", 1)[1].strip()
        args.append(type_text[:_closing(type_text, type_text.index("<"))]
                    if "<" in type_text else type_text.split()[0])
    rest = module_text[close:].lstrip()
    results = []
    if rest.startswith("->"):
        rest = rest[2:].lstrip()
        if rest.startswith("("):
            results = _split_top_level(rest[1:_closing(rest, 0) - 1])
        else:
            end = _closing(rest, rest.index("<")) if rest.startswith("tensor") \
                else len(rest.split()[0])
            results = [rest[:end]]
    return args, results


def run(module, inputs, entry="main", threads=None, extra_args=(),
        num_results=None, timeout=600):
    """JIT-compiles and runs ``@entry`` of an AttnFlow module on numpy arrays.

    Args:
      module: MLIR text, or a path (str or os.PathLike) of a .mlir file.
      inputs: one array per argument of the entry function, in order; each is
        cast (numpy "same_kind") to the argument's element type, bf16
        arguments are passed as float32 and rounded by the tool.
      entry: the function to run.
      threads: None, or the CPU thread bound passed as --threads=N.
      extra_args: further command-line flags for attnflow-run.
      num_results: the number of results; None parses it from the signature.
      timeout: seconds before the tool is killed (subprocess.TimeoutExpired).

    Returns:
      list of numpy arrays, one per result (bf16 results as float32).

    Raises:
      FileNotFoundError: the tool is not found (see :func:`find_attnflow_run`).
      ValueError: wrong number of inputs, or an input not castable.
      RuntimeError: the tool failed; the message holds its stderr.
    """
    tool = find_attnflow_run()
    if isinstance(module, os.PathLike) or (
            "func.func" not in module and os.path.isfile(module)):
        with open(module) as fh:
            module_text = fh.read()
        module_path = os.fspath(module)
    else:
        module_text, module_path = module, None
    arg_types, result_types = entry_signature(module_text, entry)
    if len(inputs) != len(arg_types):
        raise ValueError(f"@{entry} takes {len(arg_types)} arguments, "
                         f"got {len(inputs)} inputs")
    if num_results is None:
        num_results = len(result_types)

    with tempfile.TemporaryDirectory(prefix="attnflow-run-") as tmp:
        if module_path is None:
            module_path = os.path.join(tmp, "module.mlir")
            with open(module_path, "w") as fh:
                fh.write(module_text)
        cmd = [tool, module_path, f"--entry={entry}"]
        for i, (array, type_text) in enumerate(zip(inputs, arg_types)):
            dtype = _NPY_DTYPES.get(_element_type(type_text))
            array = np.asarray(array)
            if dtype is not None:
                try:
                    array = array.astype(dtype, casting="same_kind", copy=False)
                except TypeError as err:
                    raise ValueError(f"input {i} ({array.dtype}) does not fit "
                                     f"argument type {type_text}: {err}") from None
            path = os.path.join(tmp, f"in{i}.npy")
            # ascontiguousarray turns a 0-d array into shape (1,): keep ().
            np.save(path, np.ascontiguousarray(array).reshape(array.shape))
            cmd.append(f"--input={path}")
        out_paths = [os.path.join(tmp, f"out{i}.npy") for i in range(num_results)]
        cmd += [f"--output={p}" for p in out_paths]
        if threads is not None:
            cmd.append(f"--threads={int(threads)}")
        cmd += list(extra_args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{TOOL} failed with exit code {proc.returncode}: "
                               f"{' '.join(cmd)}\n{proc.stderr}")
        missing = [p for p in out_paths if not os.path.isfile(p)]
        if missing:
            raise RuntimeError(f"{TOOL} wrote no {', '.join(missing)}: "
                               f"{' '.join(cmd)}\n{proc.stderr}")
        return [np.load(p) for p in out_paths]
