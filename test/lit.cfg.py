# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "ATTNFLOW"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnflow_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

runner_libs = ",".join(
    os.path.join(config.mlir_lib_dir, lib)
    for lib in ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so", "libomp.so")
)
config.substitutions.append(("%mlir_runner_libs", runner_libs))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%attnflow_src", config.attnflow_src_root))

tool_dirs = [config.attnflow_tools_dir, config.llvm_tools_dir]
tools = [
    "attnflow-opt",
    "attnflow-compile",
    "attnflow-run",
    ToolSubst("mlir-runner", unresolved="fatal"),
    ToolSubst("mlir-translate", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Integration tests use numpy to write inputs and check outputs.
config.environment["PYTHONPATH"] = os.path.join(config.attnflow_src_root, "python")

# GPU code is assembled with ptxas where the CUDA toolkit has it (DESIGN.md §1);
# without it those tests are reported unsupported, and lit says why.
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
else:
    lit_config.note("ptxas not found: GPU assembly tests (REQUIRES: ptxas) are unsupported")
if config.cuda_toolkit_found.upper() in ("TRUE", "ON", "1", "YES"):
    config.available_features.add("cuda-runtime")

# --- attnflow-cuda-run and the CUDA launch runtime (test/attnflow-cuda-run) --
# Built when the CUDA toolkit is found (feature cuda-runtime). Its tests need
# no GPU: they build fake modules and a fake driver with clang, and use the
# toolkit's libcuda link stub where it is found.
if "cuda-runtime" in config.available_features:
    llvm_config.add_tool_substitutions(["attnflow-cuda-run"], tool_dirs)
    config.substitutions.append(("%attnflow_bin", config.attnflow_tools_dir))
    config.substitutions.append(
        ("%attnflow_lib", os.path.join(config.attnflow_obj_root, "lib")))
    clang = os.path.join(config.llvm_tools_dir, "clang")
    if os.path.exists(clang):
        config.available_features.add("clang")
        config.substitutions.append(("%clang", clang))
    cuda_root = (os.path.dirname(os.path.dirname(config.ptxas))
                 if config.ptxas else "/usr/local/cuda")
    for stub in (os.path.join(cuda_root, "lib64", "stubs", "libcuda.so"),
                 os.path.join(cuda_root, "targets", "x86_64-linux", "lib",
                              "stubs", "libcuda.so")):
        if os.path.exists(stub):
            config.available_features.add("cuda-stub")
            config.substitutions.append(("%cuda_stub_libcuda", stub))
            break
