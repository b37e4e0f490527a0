//===- CudaRuntime.cpp - AttnFlow's CUDA launch runtime -------------------===//
//
// The mgpu* entry points called by host code that MLIR 22's gpu-to-llvm
// lowering produces, and the attnflowCuda* helpers of attnflow-cuda-run. See
// CudaRuntime.h for the contract.
//
// The mgpu* functions are adapted from LLVM's
// mlir/lib/ExecutionEngine/CudaRuntimeWrappers.cpp (LLVM 22), which is
//   Part of the LLVM Project, under the Apache License v2.0 with LLVM
//   Exceptions. See https://llvm.org/LICENSE.txt for license information.
//   SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Changes from upstream: the driver is dlopen'ed instead of linked (see
// CudaRuntimeDriver.cpp); failures are recorded (attnflowCudaGetError)
// instead of printed, and nothing is launched after a failed step; device
// allocations are stream-ordered (cuMemAllocAsync) and host-shared ones
// managed; dynamic shared memory is checked against the device's opt-in
// limit and the kernel attribute is set once per kernel and size; cluster
// launches request non-portable cluster sizes above 8; the TMA descriptor of
// a memref honours its offset and strides and is cached by content.
//
//===----------------------------------------------------------------------===//

#include "CudaRuntime.h"
#include "CudaRuntimeDriver.h"

#include <array>
#include <climits>
#include <iterator>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

using namespace attnflow::cuda;

namespace {

//===----------------------------------------------------------------------===//
// Book-keeping shared by the entry points.
//===----------------------------------------------------------------------===//

enum class AllocationKind { Synchronous, StreamOrdered, Managed };

struct KernelInfo {
  CUmodule module = nullptr;
  std::string name;
  int sharedBytesAllowed = 0; ///< MAX_DYNAMIC_SHARED_SIZE_BYTES set so far.
};

std::mutex &stateMutex() {
  static std::mutex mutex;
  return mutex;
}
std::unordered_map<uintptr_t, AllocationKind> &allocations() {
  static std::unordered_map<uintptr_t, AllocationKind> map;
  return map;
}
std::unordered_map<CUfunction, KernelInfo> &kernels() {
  static std::unordered_map<CUfunction, KernelInfo> map;
  return map;
}

void rememberAllocation(CUdeviceptr ptr, AllocationKind kind) {
  std::lock_guard<std::mutex> lock(stateMutex());
  allocations()[static_cast<uintptr_t>(ptr)] = kind;
}

/// Removes `ptr` from the table; unknown pointers count as synchronous.
AllocationKind forgetAllocation(CUdeviceptr ptr) {
  std::lock_guard<std::mutex> lock(stateMutex());
  auto it = allocations().find(static_cast<uintptr_t>(ptr));
  if (it == allocations().end())
    return AllocationKind::Synchronous;
  AllocationKind kind = it->second;
  allocations().erase(it);
  return kind;
}

std::string kernelName(CUfunction function) {
  std::lock_guard<std::mutex> lock(stateMutex());
  auto it = kernels().find(function);
  return it == kernels().end() ? std::string("<unknown>") : it->second.name;
}

CUdeviceptr devicePtr(const void *ptr) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(ptr));
}

std::string oneLine(const char *text) {
  std::string out;
  for (const char *c = text; *c; ++c)
    out += (*c == '\n' || *c == '\r') ? ' ' : *c;
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

/// The memref descriptor layout of the LLVM dialect:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
struct MemRefView {
  char *aligned;
  int64_t offset;
  const int64_t *sizes;
  const int64_t *strides;
};

MemRefView viewMemRef(void *descriptor, int64_t rank) {
  auto *fields = static_cast<int64_t *>(descriptor);
  MemRefView view;
  view.aligned = reinterpret_cast<char *>(static_cast<uintptr_t>(fields[1]));
  view.offset = fields[2];
  view.sizes = fields + 3;
  view.strides = fields + 3 + rank;
  return view;
}

/// Byte size of a row-major contiguous memref, or -1 if it is not one.
int64_t contiguousBytes(const MemRefView &view, int64_t rank,
                        int64_t elementSizeBytes) {
  int64_t expected = 1;
  for (int64_t d = rank; d-- > 0;) {
    if (view.sizes[d] != 1 && view.strides[d] != expected)
      return -1;
    if (__builtin_mul_overflow(expected, view.sizes[d], &expected))
      return -1;
  }
  int64_t bytes;
  if (__builtin_mul_overflow(expected, elementSizeBytes, &bytes))
    return -1;
  return bytes;
}

/// Common part of the two launch entry points.
void launch(const char *where, CUfunction function, const intptr_t *cluster,
            const intptr_t grid[3], const intptr_t block[3], int32_t smem,
            CUstream stream, void **params, void **extra) {
  ScopedContext scope(where);
  if (!scope)
    return;
  if (!function) {
    recordError(std::string(where) +
                ": no kernel to launch (loading it failed earlier)");
    return;
  }
  // After a failure (a buffer that was not allocated, a kernel that did not
  // load), launching would only turn the first error into a fault.
  if (recordedError())
    return;
  const Driver &d = scope.api();
  std::string name = kernelName(function);
  auto fail = [&](const std::string &message) {
    recordError(std::string(where) + ": kernel '" + name + "': " + message);
  };
  const char *axes = "xyz";
  for (int i = 0; i < 3; ++i) {
    if (grid[i] < 0 || grid[i] > UINT_MAX)
      return fail(std::string("grid dimension ") + axes[i] + " = " +
                  std::to_string(grid[i]) + " is out of range");
    if (block[i] < 1 || block[i] > UINT_MAX)
      return fail(std::string("block dimension ") + axes[i] + " = " +
                  std::to_string(block[i]) + " is out of range");
    if (cluster && (cluster[i] < 1 || cluster[i] > UINT_MAX))
      return fail(std::string("cluster dimension ") + axes[i] + " = " +
                  std::to_string(cluster[i]) + " is out of range");
  }
  if (smem < 0)
    return fail("negative dynamic shared memory size " + std::to_string(smem));
  if (debugEnabled())
    std::fprintf(stderr,
                 "attnflow-cuda-runtime: launch '%s' grid (%ld, %ld, %ld) "
                 "block (%ld, %ld, %ld) cluster (%ld, %ld, %ld) dynamic "
                 "shared memory %d bytes\n",
                 name.c_str(), (long)grid[0], (long)grid[1], (long)grid[2],
                 (long)block[0], (long)block[1], (long)block[2],
                 (long)(cluster ? cluster[0] : 1),
                 (long)(cluster ? cluster[1] : 1),
                 (long)(cluster ? cluster[2] : 1), smem);
  // An empty grid has nothing to do (CUDA would reject it).
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
    return;
  if (smem > 0) {
    int allowed;
    {
      std::lock_guard<std::mutex> lock(stateMutex());
      allowed = kernels()[function].sharedBytesAllowed;
    }
    if (smem > allowed) {
      const Device &dev = scope.device();
      int staticBytes = 0;
      if (d.funcGetAttribute(&staticBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                             function) != CUDA_SUCCESS)
        staticBytes = 0;
      if (dev.maxSharedOptin > 0 &&
          int64_t(smem) + staticBytes > dev.maxSharedOptin)
        return fail("needs " + std::to_string(smem) +
                    " bytes of dynamic shared memory" +
                    (staticBytes ? " (and " + std::to_string(staticBytes) +
                                       " bytes of static shared memory)"
                                 : std::string()) +
                    " but " + dev.name + " allows at most " +
                    std::to_string(dev.maxSharedOptin) + " per block");
      if (!check(d.funcSetAttribute(
                     function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                     smem),
                 where,
                 ("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = " +
                  std::to_string(smem) + ") for kernel '" + name + "'")
                     .c_str()))
        return;
      std::lock_guard<std::mutex> lock(stateMutex());
      kernels()[function].sharedBytesAllowed = smem;
    }
  }
  std::string call = "cuLaunchKernel of '" + name + "'";
  if (!cluster) {
    check(d.launchKernel(function, static_cast<unsigned>(grid[0]),
                         static_cast<unsigned>(grid[1]),
                         static_cast<unsigned>(grid[2]),
                         static_cast<unsigned>(block[0]),
                         static_cast<unsigned>(block[1]),
                         static_cast<unsigned>(block[2]),
                         static_cast<unsigned>(smem), stream, params, extra),
          where, call.c_str());
    return;
  }
#if CUDA_VERSION >= 12000
  if (!d.launchKernelEx)
    return fail("cluster launches need cuLaunchKernelEx (a CUDA 12 driver)");
  if (cluster[0] * cluster[1] * cluster[2] > 8 &&
      !check(d.funcSetAttribute(
                 function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED,
                 1),
             where, "cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED)"))
    return;
  CUlaunchConfig config;
  std::memset(&config, 0, sizeof(config));
  config.gridDimX = static_cast<unsigned>(grid[0]);
  config.gridDimY = static_cast<unsigned>(grid[1]);
  config.gridDimZ = static_cast<unsigned>(grid[2]);
  config.blockDimX = static_cast<unsigned>(block[0]);
  config.blockDimY = static_cast<unsigned>(block[1]);
  config.blockDimZ = static_cast<unsigned>(block[2]);
  config.sharedMemBytes = static_cast<unsigned>(smem);
  config.hStream = stream;
  CUlaunchAttribute attributes[2];
  std::memset(attributes, 0, sizeof(attributes));
  attributes[0].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attributes[0].value.clusterDim.x = static_cast<unsigned>(cluster[0]);
  attributes[0].value.clusterDim.y = static_cast<unsigned>(cluster[1]);
  attributes[0].value.clusterDim.z = static_cast<unsigned>(cluster[2]);
  attributes[1].id = CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE;
  attributes[1].value.clusterSchedulingPolicyPreference =
      CU_CLUSTER_SCHEDULING_POLICY_SPREAD;
  config.attrs = attributes;
  config.numAttrs = 2;
  call = "cuLaunchKernelEx of '" + name + "'";
  check(d.launchKernelEx(&config, function, params, extra), where,
        call.c_str());
#else
  fail("cluster launches need a runtime built with CUDA 12 or newer");
#endif
}

/// cuTensorMapEncodeTiled; false (error recorded) on failure.
bool encodeTiled(void *tensorMap, int dataType, uint32_t rank,
                 void *globalAddress, const uint64_t *globalDim,
                 const uint64_t *globalStrides, const uint32_t *boxDim,
                 const uint32_t *elementStrides, int interleave, int swizzle,
                 int l2Promotion, int oobFill) {
  const char *where = "mgpuTensorMapEncodeTiled";
  ScopedContext scope(where);
  if (!scope)
    return false;
#if CUDA_VERSION >= 12000
  const Driver &d = scope.api();
  if (!d.tensorMapEncodeTiled)
    return recordError(std::string(where) +
                       ": TMA descriptors need cuTensorMapEncodeTiled (a "
                       "CUDA 12 driver)");
  return check(d.tensorMapEncodeTiled(
                   static_cast<CUtensorMap *>(tensorMap),
                   static_cast<CUtensorMapDataType>(dataType), rank,
                   globalAddress,
                   reinterpret_cast<const cuuint64_t *>(globalDim),
                   reinterpret_cast<const cuuint64_t *>(globalStrides),
                   reinterpret_cast<const cuuint32_t *>(boxDim),
                   reinterpret_cast<const cuuint32_t *>(elementStrides),
                   static_cast<CUtensorMapInterleave>(interleave),
                   static_cast<CUtensorMapSwizzle>(swizzle),
                   static_cast<CUtensorMapL2promotion>(l2Promotion),
                   static_cast<CUtensorMapFloatOOBfill>(oobFill)),
               where, "cuTensorMapEncodeTiled");
#else
  (void)tensorMap, (void)dataType, (void)rank, (void)globalAddress,
      (void)globalDim, (void)globalStrides, (void)boxDim, (void)elementStrides,
      (void)interleave, (void)swizzle, (void)l2Promotion, (void)oobFill;
  return recordError(std::string(where) +
                     ": needs a runtime built with CUDA 12 or newer");
#endif
}

#if CUDA_VERSION >= 12000
/// Element size of a CUtensorMapDataType, 0 if unsupported.
int64_t tensorMapElementBytes(int64_t type) {
  switch (type) {
  case CU_TENSOR_MAP_DATA_TYPE_UINT8:
    return 1;
  case CU_TENSOR_MAP_DATA_TYPE_UINT16:
  case CU_TENSOR_MAP_DATA_TYPE_FLOAT16:
  case CU_TENSOR_MAP_DATA_TYPE_BFLOAT16:
    return 2;
  case CU_TENSOR_MAP_DATA_TYPE_UINT32:
  case CU_TENSOR_MAP_DATA_TYPE_INT32:
  case CU_TENSOR_MAP_DATA_TYPE_FLOAT32:
  case CU_TENSOR_MAP_DATA_TYPE_FLOAT32_FTZ:
  case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32:
  case CU_TENSOR_MAP_DATA_TYPE_TFLOAT32_FTZ:
    return 4;
  case CU_TENSOR_MAP_DATA_TYPE_UINT64:
  case CU_TENSOR_MAP_DATA_TYPE_INT64:
  case CU_TENSOR_MAP_DATA_TYPE_FLOAT64:
    return 8;
  default:
    return 0;
  }
}

std::map<std::array<unsigned char, sizeof(CUtensorMap)>, CUdeviceptr> &
tensorMapCache() {
  static std::map<std::array<unsigned char, sizeof(CUtensorMap)>, CUdeviceptr>
      cache;
  return cache;
}
#endif

} // namespace

//===----------------------------------------------------------------------===//
// 1. mgpu* entry points.
//===----------------------------------------------------------------------===//

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  ScopedContext scope("mgpuModuleLoad");
  if (!scope)
    return nullptr;
  CUmodule module = nullptr;
  CUresult result = scope.api().moduleLoadData(&module, data);
  if (result != CUDA_SUCCESS) {
    const Device &dev = scope.device();
    recordError("loading the GPU binary failed: cuModuleLoadData: " +
                describeResult(result) + " (device: " + dev.name + ", sm_" +
                std::to_string(dev.ccMajor * 10 + dev.ccMinor) + ")");
    return nullptr;
  }
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  ScopedContext scope("mgpuModuleLoadJIT");
  if (!scope)
    return nullptr;
  CUmodule module = nullptr;
  char log[8192] = {0};
  if (optLevel < 0)
    optLevel = 0;
  if (optLevel > 4)
    optLevel = 4;
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                    reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
  CUresult result =
      scope.api().moduleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS) {
    const Device &dev = scope.device();
    std::string message =
        "JIT-compiling the GPU code (PTX) failed: cuModuleLoadDataEx: " +
        describeResult(result) + " (device: " + dev.name + ", sm_" +
        std::to_string(dev.ccMajor * 10 + dev.ccMinor) + ")";
    std::string text = oneLine(log);
    if (!text.empty())
      message += ": " + text;
    recordError(message);
    return nullptr;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  if (!module)
    return;
  ScopedContext scope("mgpuModuleUnload");
  if (!scope)
    return;
  {
    // Its kernels' handles may be reused by modules loaded later.
    std::lock_guard<std::mutex> lock(stateMutex());
    for (auto it = kernels().begin(); it != kernels().end();)
      it = it->second.module == module ? kernels().erase(it) : std::next(it);
  }
  check(scope.api().moduleUnload(static_cast<CUmodule>(module)),
        "mgpuModuleUnload", "cuModuleUnload");
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  ScopedContext scope("mgpuModuleGetFunction");
  if (!scope)
    return nullptr;
  if (!module) {
    recordError(std::string("mgpuModuleGetFunction: no GPU module to take "
                            "kernel '") +
                (name ? name : "") + "' from (loading it failed)");
    return nullptr;
  }
  CUfunction function = nullptr;
  CUresult result = scope.api().moduleGetFunction(
      &function, static_cast<CUmodule>(module), name);
  if (result != CUDA_SUCCESS) {
    recordError(std::string("mgpuModuleGetFunction: kernel '") + name +
                "': cuModuleGetFunction failed: " + describeResult(result));
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(stateMutex());
  KernelInfo &info = kernels()[function];
  if (info.name.empty()) {
    info.module = static_cast<CUmodule>(module);
    info.name = name;
  }
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  const intptr_t grid[3] = {gridX, gridY, gridZ};
  const intptr_t block[3] = {blockX, blockY, blockZ};
  launch("mgpuLaunchKernel", static_cast<CUfunction>(function), nullptr, grid,
         block, smem, static_cast<CUstream>(stream), params, extra);
}

void mgpuLaunchClusterKernel(void *function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t smem, void *stream, void **params,
                             void **extra) {
  const intptr_t cluster[3] = {clusterX, clusterY, clusterZ};
  const intptr_t grid[3] = {gridX, gridY, gridZ};
  const intptr_t block[3] = {blockX, blockY, blockZ};
  launch("mgpuLaunchClusterKernel", static_cast<CUfunction>(function), cluster,
         grid, block, smem, static_cast<CUstream>(stream), params, extra);
}

void *mgpuStreamCreate(void) {
  ScopedContext scope("mgpuStreamCreate");
  if (!scope)
    return nullptr;
  CUstream stream = nullptr;
  if (!check(scope.api().streamCreate(&stream, CU_STREAM_NON_BLOCKING),
             "mgpuStreamCreate", "cuStreamCreate"))
    return nullptr;
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  ScopedContext scope("mgpuStreamDestroy");
  if (!scope || !stream)
    return;
  check(scope.api().streamDestroy(static_cast<CUstream>(stream)),
        "mgpuStreamDestroy", "cuStreamDestroy");
}

void mgpuStreamSynchronize(void *stream) {
  ScopedContext scope("mgpuStreamSynchronize");
  if (!scope)
    return;
  check(scope.api().streamSynchronize(static_cast<CUstream>(stream)),
        "mgpuStreamSynchronize", "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  ScopedContext scope("mgpuStreamWaitEvent");
  if (!scope)
    return;
  check(scope.api().streamWaitEvent(static_cast<CUstream>(stream),
                                    static_cast<CUevent>(event), 0),
        "mgpuStreamWaitEvent", "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  ScopedContext scope("mgpuEventCreate");
  if (!scope)
    return nullptr;
  CUevent event = nullptr;
  if (!check(scope.api().eventCreate(&event, CU_EVENT_DISABLE_TIMING),
             "mgpuEventCreate", "cuEventCreate"))
    return nullptr;
  return event;
}

void mgpuEventDestroy(void *event) {
  ScopedContext scope("mgpuEventDestroy");
  if (!scope || !event)
    return;
  check(scope.api().eventDestroy(static_cast<CUevent>(event)),
        "mgpuEventDestroy", "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  ScopedContext scope("mgpuEventSynchronize");
  if (!scope)
    return;
  check(scope.api().eventSynchronize(static_cast<CUevent>(event)),
        "mgpuEventSynchronize", "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  ScopedContext scope("mgpuEventRecord");
  if (!scope)
    return;
  check(scope.api().eventRecord(static_cast<CUevent>(event),
                                static_cast<CUstream>(stream)),
        "mgpuEventRecord", "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared) {
  ScopedContext scope("mgpuMemAlloc");
  if (!scope || sizeBytes == 0)
    return nullptr;
  const Driver &d = scope.api();
  CUdeviceptr ptr = 0;
  CUresult result;
  AllocationKind kind;
  const char *call;
  if (isHostShared) {
    kind = AllocationKind::Managed;
    call = "cuMemAllocManaged";
    result = d.memAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL);
  } else if (scope.device().memoryPools) {
    kind = AllocationKind::StreamOrdered;
    call = "cuMemAllocAsync";
    result = d.memAllocAsync(&ptr, sizeBytes, static_cast<CUstream>(stream));
  } else {
    kind = AllocationKind::Synchronous;
    call = "cuMemAlloc";
    result = d.memAlloc(&ptr, sizeBytes);
  }
  if (result != CUDA_SUCCESS) {
    recordError("mgpuMemAlloc: " + std::string(call) + " of " +
                std::to_string(sizeBytes) +
                " bytes failed: " + describeResult(result));
    return nullptr;
  }
  rememberAllocation(ptr, kind);
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  ScopedContext scope("mgpuMemFree");
  if (!scope)
    return;
  const Driver &d = scope.api();
  CUdeviceptr device = devicePtr(ptr);
  if (forgetAllocation(device) == AllocationKind::StreamOrdered) {
    check(d.memFreeAsync(device, static_cast<CUstream>(stream)), "mgpuMemFree",
          "cuMemFreeAsync");
    return;
  }
  // Work queued on `stream` may still use the buffer.
  if (check(d.streamSynchronize(static_cast<CUstream>(stream)), "mgpuMemFree",
            "cuStreamSynchronize"))
    check(d.memFree(device), "mgpuMemFree", "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  ScopedContext scope("mgpuMemcpy");
  if (!scope || sizeBytes == 0)
    return;
  check(scope.api().memcpyAsync(devicePtr(dst), devicePtr(src), sizeBytes,
                                static_cast<CUstream>(stream)),
        "mgpuMemcpy", "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  ScopedContext scope("mgpuMemset32");
  if (!scope || count == 0)
    return;
  check(scope.api().memsetD32Async(devicePtr(dst), value, count,
                                   static_cast<CUstream>(stream)),
        "mgpuMemset32", "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream) {
  ScopedContext scope("mgpuMemset16");
  if (!scope || count == 0)
    return;
  check(scope.api().memsetD16Async(devicePtr(dst), value, count,
                                   static_cast<CUstream>(stream)),
        "mgpuMemset16", "cuMemsetD16Async");
}

void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes) {
  ScopedContext scope("mgpuMemHostRegister");
  if (!scope || sizeBytes == 0)
    return;
  check(scope.api().memHostRegister(ptr, sizeBytes, 0), "mgpuMemHostRegister",
        "cuMemHostRegister");
}

void mgpuMemHostUnregister(void *ptr) {
  ScopedContext scope("mgpuMemHostUnregister");
  if (!scope || !ptr)
    return;
  check(scope.api().memHostUnregister(ptr), "mgpuMemHostUnregister",
        "cuMemHostUnregister");
}

void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementSizeBytes) {
  MemRefView view = viewMemRef(descriptor, rank);
  int64_t bytes = contiguousBytes(view, rank, elementSizeBytes);
  if (bytes < 0) {
    recordError("mgpuMemHostRegisterMemRef: only row-major contiguous memrefs "
                "can be registered");
    return;
  }
  mgpuMemHostRegister(view.aligned + view.offset * elementSizeBytes,
                      static_cast<uint64_t>(bytes));
}

void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementSizeBytes) {
  MemRefView view = viewMemRef(descriptor, rank);
  int64_t bytes = contiguousBytes(view, rank, elementSizeBytes);
  if (bytes == 0)
    return;
  mgpuMemHostUnregister(view.aligned + view.offset * elementSizeBytes);
}

void mgpuSetDefaultDevice(int32_t device) { setDefaultDevice(device); }

void mgpuTensorMapEncodeTiled(void *tensorMap, int dataType, uint32_t rank,
                              void *globalAddress, const uint64_t *globalDim,
                              const uint64_t *globalStrides,
                              const uint32_t *boxDim,
                              const uint32_t *elementStrides, int interleave,
                              int swizzle, int l2Promotion, int oobFill) {
  encodeTiled(tensorMap, dataType, rank, globalAddress, globalDim,
              globalStrides, boxDim, elementStrides, interleave, swizzle,
              l2Promotion, oobFill);
}

void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t dataType, int64_t interleave,
                                     int64_t swizzle, int64_t l2Promotion,
                                     int64_t oobFill, const int64_t *boxDims) {
  const char *where = "mgpuTensorMapEncodeTiledMemref";
  ScopedContext scope(where);
  if (!scope)
    return nullptr;
#if CUDA_VERSION >= 12000
  int64_t elementBytes = tensorMapElementBytes(dataType);
  if (rank < 1 || rank > 5 || elementBytes == 0) {
    recordError(std::string(where) + ": unsupported rank " +
                std::to_string(rank) + " or data type " +
                std::to_string(dataType) + " (ranks 1 to 5)");
    return nullptr;
  }
  MemRefView view = viewMemRef(descriptor, rank);
  if (view.strides[rank - 1] != 1) {
    recordError(std::string(where) +
                ": the innermost dimension of the memref must be contiguous");
    return nullptr;
  }
  // cuTensorMapEncodeTiled counts dimensions from the innermost one; strides
  // (in bytes) are given for all but the innermost.
  uint64_t globalDim[5] = {0}, globalStrides[5] = {0};
  uint32_t boxDim[5] = {0}, elementStrides[5] = {0};
  for (int64_t r = 0; r < rank; ++r) {
    int64_t dim = rank - 1 - r;
    globalDim[r] = static_cast<uint64_t>(view.sizes[dim]);
    boxDim[r] = static_cast<uint32_t>(boxDims[dim]);
    elementStrides[r] = 1;
    if (r > 0)
      globalStrides[r - 1] =
          static_cast<uint64_t>(view.strides[dim] * elementBytes);
  }
  CUtensorMap tensorMap;
  std::memset(&tensorMap, 0, sizeof(tensorMap));
  if (!encodeTiled(&tensorMap, static_cast<int>(dataType),
                   static_cast<uint32_t>(rank),
                   view.aligned + view.offset * elementBytes, globalDim,
                   globalStrides, boxDim, elementStrides,
                   static_cast<int>(interleave), static_cast<int>(swizzle),
                   static_cast<int>(l2Promotion), static_cast<int>(oobFill)))
    return nullptr;
  std::array<unsigned char, sizeof(CUtensorMap)> key;
  std::memcpy(key.data(), &tensorMap, sizeof(tensorMap));
  {
    std::lock_guard<std::mutex> lock(stateMutex());
    auto it = tensorMapCache().find(key);
    if (it != tensorMapCache().end())
      return reinterpret_cast<void *>(static_cast<uintptr_t>(it->second));
  }
  const Driver &d = scope.api();
  CUdeviceptr copy = 0;
  if (!check(d.memAlloc(&copy, sizeof(tensorMap)), where, "cuMemAlloc") ||
      !check(d.memcpy(copy, devicePtr(&tensorMap), sizeof(tensorMap)), where,
             "cuMemcpy"))
    return nullptr;
  std::lock_guard<std::mutex> lock(stateMutex());
  tensorMapCache()[key] = copy;
  return reinterpret_cast<void *>(static_cast<uintptr_t>(copy));
#else
  (void)rank, (void)descriptor, (void)dataType, (void)interleave,
      (void)swizzle, (void)l2Promotion, (void)oobFill, (void)boxDims;
  recordError(std::string(where) + ": needs a runtime built with CUDA 12");
  return nullptr;
#endif
}

//===----------------------------------------------------------------------===//
// 2. attnflowCuda* helpers.
//===----------------------------------------------------------------------===//

int attnflowCudaInit(void) {
  static const bool ok = [] {
    const Driver *d = driver();
    Device *dev = d ? currentDevice() : nullptr;
    if (!dev)
      return false;
    // Make the context current on this thread and leave it there, so that
    // the entry points called from it later need no push / pop.
    CUcontext current = nullptr;
    if (d->ctxGetCurrent(&current) != CUDA_SUCCESS ||
        current != dev->context)
      return check(d->ctxPushCurrent(dev->context), "attnflowCudaInit",
                   "cuCtxPushCurrent");
    return true;
  }();
  // Re-record why, should the error have been cleared since.
  if (!ok && driver())
    currentDevice();
  return ok ? 0 : 1;
}

const char *attnflowCudaGetError(void) { return recordedError(); }

void attnflowCudaClearError(void) { clearError(); }

int attnflowCudaDescribeDevice(char *buffer, size_t size) {
  ScopedContext scope("attnflowCudaDescribeDevice");
  if (!scope)
    return 1;
  const Device &dev = scope.device();
  int count = 0;
  scope.api().deviceGetCount(&count);
  int version = driverVersion();
  std::snprintf(buffer, size,
                "%s (device %d of %d, sm_%d, %d SMs, %.0f GiB, %d KiB shared "
                "memory per block; driver %d.%d)",
                dev.name, dev.ordinal, count, dev.ccMajor * 10 + dev.ccMinor,
                dev.smCount,
                static_cast<double>(dev.totalMemory) / (1024.0 * 1024 * 1024),
                dev.maxSharedOptin / 1024, version / 1000,
                version % 1000 / 10);
  return 0;
}

void *attnflowCudaAlloc(uint64_t bytes) {
  ScopedContext scope("attnflowCudaAlloc");
  if (!scope || bytes == 0)
    return nullptr;
  CUdeviceptr ptr = 0;
  CUresult result = scope.api().memAlloc(&ptr, bytes);
  if (result != CUDA_SUCCESS) {
    recordError("cannot allocate " + std::to_string(bytes) +
                " bytes of device memory: cuMemAlloc failed: " +
                describeResult(result));
    return nullptr;
  }
  rememberAllocation(ptr, AllocationKind::Synchronous);
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

int attnflowCudaFree(void *ptr) {
  if (!ptr)
    return 0;
  ScopedContext scope("attnflowCudaFree");
  if (!scope)
    return 1;
  const Driver &d = scope.api();
  CUdeviceptr device = devicePtr(ptr);
  if (forgetAllocation(device) == AllocationKind::StreamOrdered) {
    if (!check(d.memFreeAsync(device, nullptr), "attnflowCudaFree",
               "cuMemFreeAsync") ||
        !check(d.streamSynchronize(nullptr), "attnflowCudaFree",
               "cuStreamSynchronize"))
      return 1;
    return 0;
  }
  if (!check(d.streamSynchronize(nullptr), "attnflowCudaFree",
             "cuStreamSynchronize") ||
      !check(d.memFree(device), "attnflowCudaFree", "cuMemFree"))
    return 1;
  return 0;
}

int attnflowCudaMemcpy(void *dst, const void *src, uint64_t bytes) {
  ScopedContext scope("attnflowCudaMemcpy");
  if (!scope)
    return 1;
  if (bytes == 0)
    return 0;
  const Driver &d = scope.api();
  if (!check(d.memcpyAsync(devicePtr(dst), devicePtr(src), bytes, nullptr),
             "attnflowCudaMemcpy", "cuMemcpyAsync") ||
      !check(d.streamSynchronize(nullptr), "attnflowCudaMemcpy",
             "cuStreamSynchronize"))
    return 1;
  return 0;
}

int attnflowCudaSynchronize(void) {
  ScopedContext scope("attnflowCudaSynchronize");
  if (!scope)
    return 1;
  return check(scope.api().ctxSynchronize(), "attnflowCudaSynchronize",
               "cuCtxSynchronize")
             ? 0
             : 1;
}

void *attnflowCudaTimerEventCreate(void) {
  ScopedContext scope("attnflowCudaTimerEventCreate");
  if (!scope)
    return nullptr;
  CUevent event = nullptr;
  if (!check(scope.api().eventCreate(&event, CU_EVENT_DEFAULT),
             "attnflowCudaTimerEventCreate", "cuEventCreate"))
    return nullptr;
  return event;
}

int attnflowCudaEventRecord(void *event) {
  ScopedContext scope("attnflowCudaEventRecord");
  if (!scope)
    return 1;
  return check(scope.api().eventRecord(static_cast<CUevent>(event), nullptr),
               "attnflowCudaEventRecord", "cuEventRecord")
             ? 0
             : 1;
}

int attnflowCudaEventSynchronize(void *event) {
  ScopedContext scope("attnflowCudaEventSynchronize");
  if (!scope)
    return 1;
  return check(scope.api().eventSynchronize(static_cast<CUevent>(event)),
               "attnflowCudaEventSynchronize", "cuEventSynchronize")
             ? 0
             : 1;
}

int attnflowCudaEventElapsedMs(void *start, void *stop, float *milliseconds) {
  ScopedContext scope("attnflowCudaEventElapsedMs");
  if (!scope)
    return 1;
  const Driver &d = scope.api();
  if (!check(d.eventSynchronize(static_cast<CUevent>(stop)),
             "attnflowCudaEventElapsedMs", "cuEventSynchronize") ||
      !check(d.eventElapsedTime(milliseconds, static_cast<CUevent>(start),
                                static_cast<CUevent>(stop)),
             "attnflowCudaEventElapsedMs", "cuEventElapsedTime"))
    return 1;
  return 0;
}

void attnflowCudaEventDestroy(void *event) { mgpuEventDestroy(event); }

} // extern "C"
