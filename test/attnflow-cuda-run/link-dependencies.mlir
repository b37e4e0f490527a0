// attnflow-cuda-run and its runtime link no MLIR or LLVM library and not the
// CUDA driver or runtime (the driver is dlopen'ed), so that they run on any
// machine with an NVIDIA driver; the harness finds the runtime through its
// rpath. The runtime exports the mgpu* functions MLIR 22's gpu-to-llvm host
// code calls.
//
// REQUIRES: cuda-runtime
//
// RUN: ldd %attnflow_bin/attnflow-cuda-run | FileCheck %s --check-prefix=LDD --implicit-check-not=libMLIR --implicit-check-not=libLLVM '--implicit-check-not={{libcuda(rt)?\.so}}' --implicit-check-not="not found"
// LDD: libattnflow_cuda_runtime.so => {{.*}}/bin/../lib/libattnflow_cuda_runtime.so
// RUN: ldd %attnflow_lib/libattnflow_cuda_runtime.so | FileCheck %s --check-prefix=LDDRT --implicit-check-not=libMLIR --implicit-check-not=libLLVM '--implicit-check-not={{libcuda(rt)?\.so}}' --implicit-check-not="not found"
// LDDRT: libc.so
// RUN: llvm-readelf -d %attnflow_bin/attnflow-cuda-run | FileCheck %s --check-prefix=RPATH
// RPATH: {{RUNPATH|RPATH}}{{.*}}[$ORIGIN/../lib]
//
// RUN: llvm-nm -D --defined-only %attnflow_lib/libattnflow_cuda_runtime.so | FileCheck %s --check-prefix=SYMBOLS
// SYMBOLS-DAG: T attnflowCudaInit
// SYMBOLS-DAG: T attnflowCudaGetError
// SYMBOLS-DAG: T mgpuModuleLoad{{$}}
// SYMBOLS-DAG: T mgpuModuleLoadJIT
// SYMBOLS-DAG: T mgpuModuleUnload
// SYMBOLS-DAG: T mgpuModuleGetFunction
// SYMBOLS-DAG: T mgpuLaunchKernel
// SYMBOLS-DAG: T mgpuLaunchClusterKernel
// SYMBOLS-DAG: T mgpuStreamCreate
// SYMBOLS-DAG: T mgpuStreamSynchronize
// SYMBOLS-DAG: T mgpuStreamDestroy
// SYMBOLS-DAG: T mgpuStreamWaitEvent
// SYMBOLS-DAG: T mgpuEventCreate
// SYMBOLS-DAG: T mgpuEventDestroy
// SYMBOLS-DAG: T mgpuEventSynchronize
// SYMBOLS-DAG: T mgpuEventRecord
// SYMBOLS-DAG: T mgpuMemAlloc
// SYMBOLS-DAG: T mgpuMemFree
// SYMBOLS-DAG: T mgpuMemcpy
// SYMBOLS-DAG: T mgpuMemset16
// SYMBOLS-DAG: T mgpuMemset32
// SYMBOLS-DAG: T mgpuMemHostRegisterMemRef
// SYMBOLS-DAG: T mgpuMemHostUnregisterMemRef
// SYMBOLS-DAG: T mgpuSetDefaultDevice
// SYMBOLS-DAG: T mgpuTensorMapEncodeTiledMemref
// RUN: llvm-nm -D --undefined-only %attnflow_lib/libattnflow_cuda_runtime.so | FileCheck %s --check-prefix=UNDEF --implicit-check-not=" cu"
// UNDEF: dlopen
