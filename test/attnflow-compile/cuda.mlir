// REQUIRES: ptxas
// attnflow-compile --target=cuda (DESIGN.md §5): ptx and cubin are the device
// code, one file holding every kernel; llvm-ir and obj the host code with the
// cubin embedded, whose C interface and signature attnflow-cuda-run binds.
//
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_80 --emit=ptx -o %t.ptx
// RUN: FileCheck %s --check-prefix=PTX --input-file=%t.ptx
// PTX: .version 8.0
// PTX: .target sm_80
// PTX-COUNT-2: .visible .entry
// PTX-NOT: .visible .entry
//
// RUN: attnflow-compile %s --target=cuda --gpu-arch=sm_90 --emit=cubin -o %t.cubin
// RUN: llvm-readelf -h %t.cubin | FileCheck %s --check-prefix=CUBIN
// CUBIN: Machine: NVIDIA CUDA architecture
//
// RUN: attnflow-compile %s --target=cuda --emit=llvm-ir -o - | FileCheck %s --check-prefix=IR
// IR-DAG: @_attnflow_signature_main = {{.*}}constant [{{[0-9]+}} x i8] c"1x8x64x32xbf16,1x2x64x32xbf16,1x2x64x32xbf16,64xi64->1x8x64x32xbf16\00"
// IR-DAG: define void @_mlir_ciface_main(
// IR-DAG: call {{.*}}@mgpuLaunchKernel(
// IR-DAG: @llvm.global_ctors
//
// RUN: attnflow-compile %s --target=cuda --emit=obj -o %t.o
// RUN: llvm-nm %t.o | FileCheck %s --check-prefix=OBJ
// OBJ-DAG: R _attnflow_signature_main
// OBJ-DAG: T _mlir_ciface_main
// OBJ-DAG: U mgpuLaunchKernel
// OBJ-DAG: U mgpuModuleLoad
//
// RUN: attnflow-compile %s --target=cuda --emit=mlir -o - | FileCheck %s --check-prefix=MLIR
// MLIR: gpu.binary @main_kernel  [#gpu.object<#nvvm.target<chip = "sm_90", features = "+ptx80">
//
// Errors leave no output file.
// RUN: rm -f %t.bad
// RUN: not attnflow-compile %S/Inputs/f64-attention.mlir --target=cuda --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=F64
// F64: attnflow-compile: error: {{.*}}f64-attention.mlir:{{[0-9]+}}:{{[0-9]+}}: 'attnflow.attention' op has f64 operands, which the GPU lowering does not support (f32, f16 and bf16 are)
// F64: attnflow-compile: error: lowering {{.*}}f64-attention.mlir with attnflow-gpu-pipeline failed
// RUN: not attnflow-compile %S/Inputs/no-kernels.mlir --target=cuda --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=NOKERNEL
// NOKERNEL: attnflow-compile: error: {{.*}}no-kernels.mlir has no GPU kernels to emit
// RUN: env CUDA_HOME=%t.nocuda not attnflow-compile %s --target=cuda --emit=ptx -o %t.bad 2>&1 | FileCheck %s --check-prefix=NOCUDA
// NOCUDA: attnflow-compile: error: attnflow-gpu-pipeline: no CUDA toolkit at '{{.*}}nocuda' (kernels link its nvvm/libdevice/libdevice.10.bc for exp, sin, cos, ...): install the toolkit, set CUDA_HOME or pass cuda-path=
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t.bad
func.func @main(%q: tensor<1x8x64x32xbf16>, %k: tensor<1x2x64x32xbf16>, %v: tensor<1x2x64x32xbf16>, %pos: tensor<64xi64>) -> tensor<1x8x64x32xbf16> {
  %qr = attnflow.rope %q, %pos : tensor<1x8x64x32xbf16>, tensor<64xi64> -> tensor<1x8x64x32xbf16>
  %o = attnflow.attention %qr, %k, %v {causal = true} : tensor<1x8x64x32xbf16>, tensor<1x2x64x32xbf16>, tensor<1x2x64x32xbf16> -> tensor<1x8x64x32xbf16>
  return %o : tensor<1x8x64x32xbf16>
}
