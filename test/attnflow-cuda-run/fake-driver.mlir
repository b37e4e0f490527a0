// attnflow-cuda-run end to end without a GPU: a fake CUDA driver (host memory
// as device memory, host functions as kernels; Inputs/fake_libcuda.c) loaded
// through ATTNFLOW_CUDA_DRIVER runs a module written in C with the ABI of
// attnflow-compile --target=cuda (Inputs/fake_module.c). This checks the
// harness (signature, descriptors, copies, conversions, results, timing,
// freeing) and the runtime's mgpu* functions (module loading, launches with
// large dynamic shared memory, clusters, stream-ordered and managed memory).
//
// REQUIRES: cuda-runtime, clang
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -shared -fPIC %S/Inputs/fake_libcuda.c -o %t/fake_libcuda.so
// RUN: %clang -shared -fPIC %S/Inputs/fake_module.c -o %t/module.so
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/x.npy "np.arange(4, dtype=np.float32)"
// An empty --output path is an error before anything runs.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so not attnflow-cuda-run %t/module.so --input=%t/x.npy --output= 2>&1 | FileCheck %s --check-prefix=EMPTYOUT
// EMPTYOUT: attnflow-cuda-run: error: the output path is empty
//
// One argument, one result, 64 KiB of dynamic shared memory: the kernel is
// allowed that much first; the result is allocated stream-ordered and freed;
// nothing leaks, and the GPU code is unloaded.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/y.npy --verbose 2>&1 | FileCheck %s --check-prefix=MAIN
// MAIN: fake-cuda: cuInit
// MAIN-NEXT: fake-cuda: cuDevicePrimaryCtxRetain 0
// MAIN-NEXT: fake-cuda: cuMemPoolSetAttribute 4 = 18446744073709551615
// MAIN-NEXT: fake-cuda: cuModuleLoadData 'fake-cubin'
// MAIN-NEXT: attnflow-cuda-run: device: Fake GPU 0 (device 0 of 1, sm_90, 132 SMs, 80 GiB, 227 KiB shared memory per block; driver 12.8)
// MAIN-NEXT: fake-cuda: cuMemAlloc 16
// MAIN-NEXT: fake-cuda: cuMemAllocAsync 16
// MAIN-NEXT: fake-cuda: cuFuncSetAttribute 'scale_kernel' 8 = 65536
// MAIN-NEXT: fake-cuda: launch 'scale_kernel' grid 1 1 1 block 4 1 1 smem 65536
// MAIN-NEXT: fake-cuda: cuMemFreeAsync
// MAIN-NEXT: fake-cuda: cuMemFree
// MAIN-DAG: fake-cuda: 0 live allocations at exit
// MAIN-DAG: fake-cuda: cuModuleUnload 'fake-cubin'
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/y.npy | FileCheck %s --check-prefix=Y
// Y: float32 (4,)
// Y-NEXT: [0.0, 2.0, 4.0, 6.0]
//
// Timed runs: the attribute is set once; every result but the last is freed
// right after its run; the outputs are those of the last run.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/y.npy --repeat=3 --warmup=2 > %t/repeat.out 2> %t/repeat.err
// RUN: FileCheck %s --check-prefix=REPEAT < %t/repeat.out
// REPEAT: {{^}}min {{[0-9]+\.[0-9]+}} ms, median {{[0-9]+\.[0-9]+}} ms over 3 runs{{$}}
// REPEAT-NOT: {{.}}
// RUN: grep -c "launch 'scale_kernel'" %t/repeat.err | FileCheck %s --check-prefix=FIVE
// RUN: grep -c "cuMemFreeAsync" %t/repeat.err | FileCheck %s --check-prefix=FIVE
// FIVE: 5
// RUN: grep -c "cuFuncSetAttribute" %t/repeat.err | FileCheck %s --check-prefix=ONCE
// ONCE: 1
// RUN: FileCheck %s --check-prefix=NOLEAK < %t/repeat.err
// NOLEAK: fake-cuda: 0 live allocations at exit
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/y.npy | FileCheck %s --check-prefix=Y
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x.npy --repeat=1 --warmup=0 | FileCheck %s --check-prefix=ONE
// ONE: {{^}}min {{[0-9]+\.[0-9]+}} ms, median {{[0-9]+\.[0-9]+}} ms over 1 run{{$}}
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --input=%t/x.npy | count 0
//
// Several results, among them a 0-d one (written with shape ()).
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/x23.npy "np.arange(6, dtype=np.float32).reshape(2, 3)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/pos.npy "np.array([5, 6, 7], dtype=np.int64)"
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/module.so --entry=multi --input=%t/x23.npy --input=%t/pos.npy --output=%t/m0.npy --output=%t/m1.npy --output=%t/m2.npy 2>&1 | FileCheck %s --check-prefix=NOLEAK
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/m0.npy %t/m1.npy %t/m2.npy | FileCheck %s --check-prefix=MULTI
// MULTI: float32 (2, 3)
// MULTI-NEXT: {{\[\[}}0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]
// MULTI-NEXT: int64 (3,)
// MULTI-NEXT: [5, 6, 7]
// MULTI-NEXT: float32 ()
// MULTI-NEXT: 15.0
//
// Every element type: bf16 read from float32 and rounded to nearest even
// (1 + 2^-8 is a tie: 1.0), written back as float32; i1 as bool.
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/a.npy "np.array([1.0, 1.00390625, -2.5, 3.14159, 1e30], dtype=np.float32)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/b.npy "np.array([True, False, True, True, False])"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/c.npy "np.array([0.5, -1.25], dtype=np.float16)"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/d.npy "np.array([1e-300, 2.5])"
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/e.npy "np.array([7, -8], dtype=np.int32)"
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=types --input=%t/a.npy --input=%t/b.npy --input=%t/c.npy --input=%t/d.npy --input=%t/e.npy --output=%t/t0.npy --output=%t/t1.npy --output=%t/t2.npy --output=%t/t3.npy --output=%t/t4.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/t0.npy %t/t1.npy %t/t2.npy %t/t3.npy %t/t4.npy | FileCheck %s --check-prefix=TYPES
// TYPES: float32 (5,)
// TYPES-NEXT: [1.0, 1.0, -2.5, 3.140625, 1.0002555517425873e+30]
// TYPES-NEXT: bool (5,)
// TYPES-NEXT: [True, False, True, True, False]
// TYPES-NEXT: float16 (2,)
// TYPES-NEXT: [0.5, -1.25]
// TYPES-NEXT: float64 (2,)
// TYPES-NEXT: [1e-300, 2.5]
// TYPES-NEXT: int32 (2,)
// TYPES-NEXT: [7, -8]
//
// A module returning its argument: copied out twice, never freed (the
// argument buffers are the runner's), no double free.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/module.so --entry=same --input=%t/x.npy --output=%t/s0.npy --output=%t/s1.npy --repeat=2 2>&1 | FileCheck %s --check-prefix=NOLEAK
// RUN: %python %S/../attnflow-run/Inputs/npytool.py assert "np.array_equal(a, x) and np.array_equal(b, x)" a=%t/s0.npy b=%t/s1.npy x=%t/x.npy
//
// --random-inputs draws exactly what attnflow-run draws for the same seed.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=same --random-inputs --seed=7 --output=%t/r0.npy --output=%t/r1.npy
// RUN: attnflow-run %S/Inputs/identity4.mlir --random-inputs --seed=7 --output=%t/cpu.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py same %t/r0.npy %t/cpu.npy
//
// Results with an offset and with non-unit strides (a transposed view).
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=transpose --input=%t/x23.npy --output=%t/tr.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py assert "np.array_equal(t, x.T)" t=%t/tr.npy x=%t/x23.npy
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=offset --input=%t/x.npy --output=%t/off.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/off.npy | FileCheck %s --check-prefix=OFFSET
// OFFSET: float32 (2,)
// OFFSET-NEXT: [1.0, 2.0]
//
// Empty tensors, functions without results, 21 pointer parameters.
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/z.npy "np.zeros((0, 4), dtype=np.float32)"
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=empty --input=%t/z.npy --output=%t/z2.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py same %t/z.npy %t/z2.npy
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=none --input=%t/x.npy --repeat=2 | FileCheck %s --check-prefix=NONE
// NONE: over 2 runs
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/one.npy "np.ones(1, dtype=np.float32)"
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=many --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --input=%t/one.npy --output=%t/many.npy
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/many.npy | FileCheck %s --check-prefix=MANY
// MANY: [20.0]
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=many --input=%t/one.npy --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=MANYCOUNT
// MANYCOUNT: attnflow-cuda-run: error: 'many' takes 20 arguments but 2 --input files were given
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so attnflow-cuda-run %t/module.so --entry=many --random-inputs --output=%t/many.npy
//
// Thread-block clusters (cuLaunchKernelEx) and managed (host-shared) memory.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 attnflow-cuda-run %t/module.so --entry=cluster --input=%t/x.npy --output=%t/cl.npy 2>&1 | FileCheck %s --check-prefix=CLUSTER
// CLUSTER: fake-cuda: cluster 2 1 1
// CLUSTER-NEXT: fake-cuda: launch 'scale_kernel' grid 4 1 1 block 128 1 1 smem 0
// RUN: %python %S/../attnflow-run/Inputs/npytool.py assert "np.array_equal(c, 3 * x)" c=%t/cl.npy x=%t/x.npy
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 attnflow-cuda-run %t/module.so --entry=managed --input=%t/x.npy --output=%t/mg.npy 2>&1 | FileCheck %s --check-prefix=MANAGED
// MANAGED: fake-cuda: cuMemAllocManaged 16
// MANAGED-NEXT: fake-cuda: cuMemFree
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/mg.npy | FileCheck %s --check-prefix=THREES
// THREES: [3.0, 3.0, 3.0, 3.0]
//
// Devices without memory pools get cuMemAlloc / cuMemFree.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_NO_POOLS=1 FAKE_CUDA_TRACE=1 FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/y.npy 2>&1 | FileCheck %s --check-prefix=NOPOOLS --implicit-check-not=Async --implicit-check-not=MemPool
// NOPOOLS: fake-cuda: cuMemAlloc 16
// NOPOOLS-NEXT: fake-cuda: cuMemAlloc 16
// NOPOOLS: fake-cuda: launch
// NOPOOLS-NEXT: fake-cuda: cuMemFree
// NOPOOLS-NEXT: fake-cuda: cuMemFree
// NOPOOLS: fake-cuda: 0 live allocations at exit
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/y.npy | FileCheck %s --check-prefix=Y
//
// TMA descriptors (mgpuTensorMapEncodeTiledMemref): dimensions innermost
// first, byte strides of the outer ones, the box reversed likewise; one
// device copy (cuMemAlloc 128) for identical requests.
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 attnflow-cuda-run %t/module.so --entry=tma --random-inputs 2>&1 | FileCheck %s --check-prefix=TMA
// TMA: fake-cuda: cuMemAlloc 4096
// TMA-NEXT: fake-cuda: cuTensorMapEncodeTiled type 6 rank 3 dims 64 16 2 strides 128 2048 box 64 8 1 element strides 1 1 1 swizzle 3
// TMA-NEXT: fake-cuda: cuMemAlloc 128
// TMA-NEXT: fake-cuda: cuTensorMapEncodeTiled type 6 rank 3 dims 64 16 2 strides 128 2048 box 64 8 1 element strides 1 1 1 swizzle 3
// TMA-NEXT: fake-cuda: cuMemFree
//
// PTX modules are JIT-compiled by the driver (mgpuModuleLoadJIT, level 2).
// RUN: %clang -shared -fPIC -DFAKE_JIT '-DFAKE_IMAGE="fake-ptx"' %S/Inputs/fake_module.c -o %t/jit.so
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_TRACE=1 attnflow-cuda-run %t/jit.so --input=%t/x.npy 2>&1 | FileCheck %s --check-prefix=JIT
// JIT: fake-cuda: cuModuleLoadDataEx 'fake-ptx' optimization level 2
