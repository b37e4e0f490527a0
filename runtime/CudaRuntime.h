/*===- CudaRuntime.h - AttnFlow's CUDA launch runtime -----------*- C -*-===//
 *
 * libattnflow_cuda_runtime.so: the CUDA launch runtime of modules compiled by
 * `attnflow-compile --target=cuda` (DESIGN.md §5), and the few helpers
 * attnflow-cuda-run needs. Plain C interface; usable from C and C++.
 *
 * Two groups of functions:
 *
 *  1. The `mgpu*` entry points that host code produced by MLIR 22's
 *     `gpu-to-llvm` lowering (and the gpu.binary offloading translation)
 *     calls. Their names and ABI are fixed by LLVM/MLIR 22 (upstream
 *     mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp; the LLVM types in
 *     brackets are those of the calls the lowering emits). CUDA handles
 *     (CUmodule, CUfunction, CUstream, CUevent) are passed as opaque
 *     pointers, device pointers as `void *`.
 *
 *  2. `attnflowCuda*` helpers for a host program that runs such a module:
 *     initialisation, the recorded error, device memory, copies and timing.
 *
 * Driver loading. The library links neither libcuda nor libcudart nor any
 * MLIR/LLVM library: the CUDA driver (libcuda.so.1, or the file named by the
 * environment variable ATTNFLOW_CUDA_DRIVER) is dlopen'ed on first use and
 * the cu* functions are resolved with dlsym, so programs linking this library
 * start on machines without a GPU and can say so. Initialisation (first use
 * of any function below, or attnflowCudaInit) loads the driver, calls
 * cuInit(0), and retains the primary context of the default device (0 unless
 * mgpuSetDefaultDevice chose another). Every entry point makes that context
 * current for its duration (and restores the previous one), as upstream's
 * ScopedContext does. Where the device supports memory pools, the release
 * threshold of its default pool is raised so that stream-ordered allocations
 * are recycled across calls instead of returned to the OS at each
 * synchronisation.
 *
 * Errors. No function aborts or prints (unless ATTNFLOW_CUDA_DEBUG is set:
 * then every error, and every kernel launch, is also printed to stderr). The
 * first failure - driver missing, cuInit failing, no device, a failing cu*
 * call (with cuGetErrorName / cuGetErrorString), an invalid request - is
 * recorded as a one-line message and kept until attnflowCudaClearError;
 * later failures do not replace it. Once initialisation has failed, every
 * entry point does nothing and returns NULL / non-zero; once any error is
 * recorded, kernel launches are skipped (a kernel running on a buffer that
 * was not allocated would only turn the first error into a device fault). A
 * host program checks attnflowCudaGetError() after each call into compiled
 * code.
 *
 * Thread safety: all functions may be called from several threads.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNFLOW_RUNTIME_CUDARUNTIME_H
#define ATTNFLOW_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#else
#include <stdbool.h>
#endif

#if defined(__GNUC__)
#define ATTNFLOW_CUDA_EXPORT __attribute__((visibility("default")))
#else
#define ATTNFLOW_CUDA_EXPORT
#endif

/*===----------------------------------------------------------------------===
 * 1. Entry points of MLIR 22's gpu-to-llvm host code.
 *===----------------------------------------------------------------------===*/

/* Loads a cubin / fatbin image (gpu.binary with format `bin` / `fatbin`);
 * called from the module's global constructor. [ptr (ptr, i64)] */
ATTNFLOW_CUDA_EXPORT void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
/* Loads PTX text (format `isa`), JIT-compiled by the driver at `optLevel`
 * (0-4); a JIT failure is recorded with the driver's log. [ptr (ptr, i32)] */
ATTNFLOW_CUDA_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel);
/* [void (ptr)] NULL is ignored. */
ATTNFLOW_CUDA_EXPORT void mgpuModuleUnload(void *module);
/* Returns the kernel `name` of `module` or NULL (error recorded).
 * [ptr (ptr, ptr)] */
ATTNFLOW_CUDA_EXPORT void *mgpuModuleGetFunction(void *module,
                                                 const char *name);
/* Launches `function` on `stream` with grid (gridX, gridY, gridZ) blocks of
 * (blockX, blockY, blockZ) threads and `smem` bytes of dynamic shared memory.
 * When smem > 0 the kernel's CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
 * is raised to it first (needed above 48 KiB); a request above the device's
 * opt-in limit is recorded as an error and nothing is launched. A grid with a
 * zero dimension launches nothing. `params` holds one pointer per kernel
 * parameter; `paramsCount` is informational.
 * [void (ptr, i64 x6, i32, ptr, ptr, ptr, i64)] */
ATTNFLOW_CUDA_EXPORT void
mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                 intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                 intptr_t blockZ, int32_t smem, void *stream, void **params,
                 void **extra, size_t paramsCount);
/* As mgpuLaunchKernel, with thread-block clusters of (clusterX, clusterY,
 * clusterZ) blocks (sm_90+, cuLaunchKernelEx); grid dimensions count blocks.
 * [void (ptr, i64 x9, i32, ptr, ptr, ptr)] */
ATTNFLOW_CUDA_EXPORT void
mgpuLaunchClusterKernel(void *function, intptr_t clusterX, intptr_t clusterY,
                        intptr_t clusterZ, intptr_t gridX, intptr_t gridY,
                        intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                        intptr_t blockZ, int32_t smem, void *stream,
                        void **params, void **extra);
/* A new non-blocking stream (CU_STREAM_NON_BLOCKING), or NULL. */
ATTNFLOW_CUDA_EXPORT void *mgpuStreamCreate(void);
ATTNFLOW_CUDA_EXPORT void mgpuStreamDestroy(void *stream);
ATTNFLOW_CUDA_EXPORT void mgpuStreamSynchronize(void *stream);
ATTNFLOW_CUDA_EXPORT void mgpuStreamWaitEvent(void *stream, void *event);
/* Events created here have timing disabled (as upstream). */
ATTNFLOW_CUDA_EXPORT void *mgpuEventCreate(void);
ATTNFLOW_CUDA_EXPORT void mgpuEventDestroy(void *event);
ATTNFLOW_CUDA_EXPORT void mgpuEventSynchronize(void *event);
ATTNFLOW_CUDA_EXPORT void mgpuEventRecord(void *event, void *stream);
/* `sizeBytes` bytes of device memory, stream-ordered on `stream`
 * (cuMemAllocAsync) where the device has memory pools, else cuMemAlloc;
 * managed memory (cuMemAllocManaged) when `isHostShared`. 0 bytes -> NULL
 * without error. [ptr (i64, ptr, i8)] */
ATTNFLOW_CUDA_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                                        bool isHostShared);
/* Frees memory from mgpuMemAlloc or attnflowCudaAlloc: stream-ordered
 * (cuMemFreeAsync) for stream-ordered allocations, else after synchronising
 * `stream` (cuMemFree). NULL is ignored. [void (ptr, ptr)] */
ATTNFLOW_CUDA_EXPORT void mgpuMemFree(void *ptr, void *stream);
/* Asynchronous copy of `sizeBytes` bytes, any direction (unified
 * addressing). [void (ptr, ptr, i64, ptr)] */
ATTNFLOW_CUDA_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                                     void *stream);
/* Fill `count` 32-bit / 16-bit elements. [void (ptr, i32|i16, i64, ptr)] */
ATTNFLOW_CUDA_EXPORT void mgpuMemset32(void *dst, unsigned int value,
                                       size_t count, void *stream);
ATTNFLOW_CUDA_EXPORT void mgpuMemset16(void *dst, unsigned short value,
                                       size_t count, void *stream);
/* Page-locks host memory (cuMemHostRegister) / releases it. */
ATTNFLOW_CUDA_EXPORT void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes);
ATTNFLOW_CUDA_EXPORT void mgpuMemHostUnregister(void *ptr);
/* The same for the buffer of a rank-`rank` memref descriptor
 * {allocated, aligned, offset, sizes[rank], strides[rank]} with
 * `elementSizeBytes`-byte elements; only row-major contiguous memrefs are
 * accepted (else an error is recorded). [void (i64, ptr, i64)] */
ATTNFLOW_CUDA_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank,
                                                    void *descriptor,
                                                    int64_t elementSizeBytes);
ATTNFLOW_CUDA_EXPORT void
mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                            int64_t elementSizeBytes);
/* Device ordinal used by later initialisations / context switches. */
ATTNFLOW_CUDA_EXPORT void mgpuSetDefaultDevice(int32_t device);
/* cuTensorMapEncodeTiled into the 128-byte host object `tensorMap`; the
 * enums are CUtensorMapDataType, CUtensorMapInterleave, CUtensorMapSwizzle,
 * CUtensorMapL2promotion, CUtensorMapFloatOOBfill. Needs CUDA 12. */
ATTNFLOW_CUDA_EXPORT void
mgpuTensorMapEncodeTiled(void *tensorMap, int dataType, uint32_t rank,
                         void *globalAddress, const uint64_t *globalDim,
                         const uint64_t *globalStrides, const uint32_t *boxDim,
                         const uint32_t *elementStrides, int interleave,
                         int swizzle, int l2Promotion, int oobFill);
/* A TMA descriptor for the (device) buffer of a rank-`rank` memref
 * descriptor, with box `boxDims[rank]` (memref dimension order), copied to
 * device memory; returns its device address, or NULL (error recorded).
 * Identical descriptors share one device copy. nvgpu.tma.create.descriptor
 * lowers to this. [ptr (i64, ptr, i64, i64, i64, i64, i64, ptr)] */
ATTNFLOW_CUDA_EXPORT void *mgpuTensorMapEncodeTiledMemref(
    int64_t rank, void *descriptor, int64_t dataType, int64_t interleave,
    int64_t swizzle, int64_t l2Promotion, int64_t oobFill,
    const int64_t *boxDims);

/*===----------------------------------------------------------------------===
 * 2. Helpers for host programs (attnflow-cuda-run).
 *
 * Integer-returning functions return 0 on success and non-zero on failure;
 * the reason is then in attnflowCudaGetError().
 *===----------------------------------------------------------------------===*/

/* Loads the driver, initialises CUDA and makes the default device's primary
 * context available. Idempotent (the outcome of the first attempt is kept).
 * Failure messages start with "no CUDA driver: " when libcuda cannot be
 * loaded, "CUDA initialisation failed: " when cuInit fails, and say "no
 * CUDA device" when there is none. */
ATTNFLOW_CUDA_EXPORT int attnflowCudaInit(void);

/* The first recorded error (one line, no trailing newline), or NULL. The
 * pointer stays valid until attnflowCudaClearError. */
ATTNFLOW_CUDA_EXPORT const char *attnflowCudaGetError(void);

/* Forgets the recorded error (a failed initialisation is not retried). */
ATTNFLOW_CUDA_EXPORT void attnflowCudaClearError(void);

/* Writes a one-line description of the current device into `buffer`
 * (NUL-terminated, truncated to `size`), e.g.
 * "NVIDIA H200 (device 0 of 1, sm_90, 132 SMs, 140 GiB, 227 KiB shared
 * memory per block; driver 13.0)". */
ATTNFLOW_CUDA_EXPORT int attnflowCudaDescribeDevice(char *buffer, size_t size);

/* `bytes` bytes of device memory (cuMemAlloc), or NULL: for 0 bytes without
 * error, else on failure (error recorded). Free with attnflowCudaFree (or
 * mgpuMemFree). */
ATTNFLOW_CUDA_EXPORT void *attnflowCudaAlloc(uint64_t bytes);

/* Frees memory from attnflowCudaAlloc or mgpuMemAlloc, synchronously (all
 * work already queued on the legacy default stream is finished first).
 * NULL is ignored. */
ATTNFLOW_CUDA_EXPORT int attnflowCudaFree(void *ptr);

/* Copies `bytes` bytes between any two of host memory, device memory and
 * managed memory (unified addressing); returns once the bytes have arrived. */
ATTNFLOW_CUDA_EXPORT int attnflowCudaMemcpy(void *dst, const void *src,
                                            uint64_t bytes);

/* Waits until every stream of the context is idle (cuCtxSynchronize). */
ATTNFLOW_CUDA_EXPORT int attnflowCudaSynchronize(void);

/* Timing events (timing enabled; mgpuEventCreate's are not). Record them on
 * the legacy default stream; attnflowCudaEventElapsedMs waits for `stop` and
 * stores the milliseconds between the two (about 0.5 us resolution). */
ATTNFLOW_CUDA_EXPORT void *attnflowCudaTimerEventCreate(void);
ATTNFLOW_CUDA_EXPORT int attnflowCudaEventRecord(void *event);
ATTNFLOW_CUDA_EXPORT int attnflowCudaEventSynchronize(void *event);
ATTNFLOW_CUDA_EXPORT int attnflowCudaEventElapsedMs(void *start, void *stop,
                                                    float *milliseconds);
ATTNFLOW_CUDA_EXPORT void attnflowCudaEventDestroy(void *event);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATTNFLOW_RUNTIME_CUDARUNTIME_H */
