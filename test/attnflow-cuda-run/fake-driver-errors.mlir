// attnflow-cuda-run's errors, without a GPU (the fake driver and module of
// fake-driver.mlir): bad .npy files and flags, modules returning bad buffers,
// GPU code that does not load, failing CUDA calls, missing devices. Each is
// one `attnflow-cuda-run: error:` line, exit code 1, and no output written.
//
// REQUIRES: cuda-runtime, clang
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -shared -fPIC %S/Inputs/fake_libcuda.c -o %t/fake_libcuda.so
// RUN: %clang -shared -fPIC %S/Inputs/fake_module.c -o %t/module.so
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/x.npy "np.arange(4, dtype=np.float32)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/keep.npy "np.array([42], dtype=np.int64)"
//
// .npy files and counts.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so 2>&1 | FileCheck %s --check-prefix=NOINPUT
// NOINPUT: attnflow-cuda-run: error: 'main' takes 1 argument: pass one --input=FILE.npy per argument, or --random-inputs
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x.npy --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=TWOINPUTS
// TWOINPUTS: attnflow-cuda-run: error: 'main' takes 1 argument but 2 --input files were given
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=multi --random-inputs --output=%t/a.npy 2>&1 | FileCheck %s --check-prefix=FEWOUT
// FEWOUT: attnflow-cuda-run: error: 'multi' returns 3 results but 1 --output file was given
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=none --random-inputs --output=%t/a.npy 2>&1 | FileCheck %s --check-prefix=NONEOUT
// NONEOUT: attnflow-cuda-run: error: 'none' returns 0 results but 1 --output file was given
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/nothere.npy 2>&1 | FileCheck %s --check-prefix=NONPY
// NONPY: attnflow-cuda-run: error: argument 0: {{.*}}nothere.npy: {{.*}}No such file or directory
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/keep.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: attnflow-cuda-run: error: argument 0: {{.*}}keep.npy: expected float32 of shape (4,) for tensor<4xf32>, got int64 of shape (1,)
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/x5.npy "np.arange(5, dtype=np.float32)"
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x5.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: attnflow-cuda-run: error: argument 0: {{.*}}x5.npy: expected float32 of shape (4,) for tensor<4xf32>, got float32 of shape (5,)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=types --input=%t/x.npy --input=%t/x.npy --input=%t/x.npy --input=%t/x.npy --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=BF16
// BF16: attnflow-cuda-run: error: argument 0: {{.*}}x.npy: expected float32 of shape (5,) for tensor<5xbf16> (rounded to bf16), got float32 of shape (4,)
// RUN: %python %S/../attnflow-run/Inputs/npytool.py write %t/bad.npy 93554d505900
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/bad.npy 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: attnflow-cuda-run: error: argument 0: {{.*}}bad.npy: {{.*}}
//
// Output paths.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=same --input=%t/x.npy --output=%t/a.npy --output=%t/./a.npy 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: attnflow-cuda-run: error: --output {{.*}}a.npy is given twice
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/missing/b.npy 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: attnflow-cuda-run: error: cannot write {{.*}}missing/b.npy: directory {{.*}}missing does not exist
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t 2>&1 | FileCheck %s --check-prefix=ISDIR
// ISDIR: attnflow-cuda-run: error: output {{.*}} is a directory
//
// Bad result buffers.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=badshape --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=BADSHAPE
// BADSHAPE: attnflow-cuda-run: error: result 0: the module returned a buffer of shape (5,) for tensor<4xf32>
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=nullresult --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=NULL
// NULL: attnflow-cuda-run: error: result 0: the module returned a null buffer for tensor<4xf32>
//
// GPU code that does not load: a cubin for another GPU, PTX that does not
// JIT-compile (with the driver's log).
// RUN: %clang -shared -fPIC '-DFAKE_IMAGE="BAD-cubin"' %S/Inputs/fake_module.c -o %t/badcubin.so
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/badcubin.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=NOBINARY
// NOBINARY: attnflow-cuda-run: error: {{.*}}badcubin.so: loading the GPU binary failed: cuModuleLoadData: CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is available for execution on the device) (device: Fake GPU 0, sm_90)
// RUN: %clang -shared -fPIC -DFAKE_JIT '-DFAKE_IMAGE="BADPTX"' %S/Inputs/fake_module.c -o %t/badptx.so
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/badptx.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=BADPTX
// BADPTX: attnflow-cuda-run: error: {{.*}}badptx.so: JIT-compiling the GPU code (PTX) failed: cuModuleLoadDataEx: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed) (device: Fake GPU 0, sm_90): ptxas application ptx input, line 7; error   : Unknown symbol 'bogus' ptxas fatal   : Ptx assembly aborted due to errors{{$}}
//
// Kernels: missing, too much shared memory, failing launches; a failure in
// the first timed run (after the synchronisations of the argument copy, the
// warm-up run and the freeing of its result) stops the runs.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=nokernel --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=NOKERNEL
// NOKERNEL: attnflow-cuda-run: error: running 'nokernel' failed: mgpuModuleGetFunction: kernel 'missing_kernel': cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND (named symbol not found)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=hugesmem --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=SMEM
// SMEM: attnflow-cuda-run: error: running 'hugesmem' failed: mgpuLaunchKernel: kernel 'scale_kernel': needs 307200 bytes of dynamic shared memory but Fake GPU 0 allows at most 232448 per block
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=staticsmem --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=STATIC
// STATIC: attnflow-cuda-run: error: running 'staticsmem' failed: mgpuLaunchKernel: kernel 'scale_kernel_static': needs 231936 bytes of dynamic shared memory (and 1024 bytes of static shared memory) but Fake GPU 0 allows at most 232448 per block
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuLaunchKernel attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=LAUNCH
// LAUNCH: attnflow-cuda-run: error: running 'main' failed: mgpuLaunchKernel: cuLaunchKernel of 'scale_kernel' failed: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuStreamSynchronize:700:3 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy --repeat=3 2>&1 | FileCheck %s --check-prefix=SYNC
// SYNC: attnflow-cuda-run: error: running 'main' failed: mgpuStreamSynchronize: cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)
// SYNC-NOT: min
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuStreamSynchronize:700 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=SYNCCOPY
// SYNCCOPY: attnflow-cuda-run: error: argument 0: attnflowCudaMemcpy: cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuMemAllocAsync:2 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=OOM
// OOM: attnflow-cuda-run: error: running 'main' failed: mgpuMemAlloc: cuMemAllocAsync of 16 bytes failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuMemAlloc:2 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=ARGOOM
// ARGOOM: attnflow-cuda-run: error: argument 0: cannot allocate 16 bytes of device memory: cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuMemcpyAsync:700 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=COPY
// COPY: attnflow-cuda-run: error: argument 0: attnflowCudaMemcpy: cuMemcpyAsync failed: CUDA_ERROR_ILLEGAL_ADDRESS (an illegal memory access was encountered)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuEventRecord attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy --repeat=2 2>&1 | FileCheck %s --check-prefix=EVENT
// EVENT: attnflow-cuda-run: error: attnflowCudaEventRecord: cuEventRecord failed: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)
//
// No device, failed initialisation, a missing context.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_DEVICES=0 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=NODEVICE
// NODEVICE: attnflow-cuda-run: error: no CUDA device: the driver reports 0 devices
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuInit:100 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=CUINIT
// CUINIT: attnflow-cuda-run: error: CUDA initialisation failed: cuInit: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected); no CUDA device
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_FAIL=cuDevicePrimaryCtxRetain attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/keep.npy 2>&1 | FileCheck %s --check-prefix=CONTEXT
// CONTEXT: attnflow-cuda-run: error: CUDA device 0: cuDevicePrimaryCtxRetain failed: CUDA_ERROR_LAUNCH_FAILED (unspecified launch failure)
//
// None of these wrote an output or left a temporary file; keep.npy is intact.
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t/a.npy %t/b.npy %t/missing %t/keep.npy.attnflow-partial
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/keep.npy | FileCheck %s --check-prefix=KEPT
// KEPT: int64 (1,)
// KEPT-NEXT: [42]
//
// A result that cannot be written after the run: earlier outputs are not
// replaced either.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=same --input=%t/x.npy --output=%t/keep.npy --output=/proc/attnflow-no.npy 2>&1 | FileCheck %s --check-prefix=LATE
// LATE: attnflow-cuda-run: error: result 1: {{.*}}/proc
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/keep.npy | FileCheck %s --check-prefix=KEPT
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t/keep.npy.attnflow-partial
