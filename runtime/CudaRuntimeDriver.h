//===- CudaRuntimeDriver.h - The dlopen'ed CUDA driver ----------*- C++ -*-===//
//
// Internal to libattnflow_cuda_runtime.so (see CudaRuntime.h): the CUDA
// driver API loaded with dlopen/dlsym, the recorded error, and the primary
// context made current around each entry point. cuda.h is used for types
// only; nothing here links libcuda.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNFLOW_RUNTIME_CUDARUNTIMEDRIVER_H
#define ATTNFLOW_RUNTIME_CUDARUNTIMEDRIVER_H

#include "cuda.h"

#include <cstdint>
#include <string>

namespace attnflow {
namespace cuda {

/// The driver functions the runtime calls, resolved from libcuda by their
/// exported (versioned) names. Optional entries may be null.
struct Driver {
  decltype(&::cuGetErrorName) getErrorName;
  decltype(&::cuGetErrorString) getErrorString;
  decltype(&::cuInit) init;
  decltype(&::cuDriverGetVersion) driverGetVersion;
  decltype(&::cuDeviceGetCount) deviceGetCount;
  decltype(&::cuDeviceGet) deviceGet;
  decltype(&::cuDeviceGetName) deviceGetName;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute;
  decltype(&::cuDeviceTotalMem) deviceTotalMem;
  decltype(&::cuDevicePrimaryCtxRetain) devicePrimaryCtxRetain;
  decltype(&::cuCtxGetCurrent) ctxGetCurrent;
  decltype(&::cuCtxPushCurrent) ctxPushCurrent;
  decltype(&::cuCtxPopCurrent) ctxPopCurrent;
  decltype(&::cuCtxSynchronize) ctxSynchronize;
  decltype(&::cuModuleLoadData) moduleLoadData;
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx;
  decltype(&::cuModuleUnload) moduleUnload;
  decltype(&::cuModuleGetFunction) moduleGetFunction;
  decltype(&::cuFuncSetAttribute) funcSetAttribute;
  decltype(&::cuFuncGetAttribute) funcGetAttribute;
  decltype(&::cuLaunchKernel) launchKernel;
  decltype(&::cuStreamCreate) streamCreate;
  decltype(&::cuStreamDestroy) streamDestroy;
  decltype(&::cuStreamSynchronize) streamSynchronize;
  decltype(&::cuStreamWaitEvent) streamWaitEvent;
  decltype(&::cuEventCreate) eventCreate;
  decltype(&::cuEventDestroy) eventDestroy;
  decltype(&::cuEventSynchronize) eventSynchronize;
  decltype(&::cuEventRecord) eventRecord;
  decltype(&::cuEventElapsedTime) eventElapsedTime;
  decltype(&::cuMemAlloc) memAlloc;
  decltype(&::cuMemAllocManaged) memAllocManaged;
  decltype(&::cuMemFree) memFree;
  decltype(&::cuMemcpy) memcpy;
  decltype(&::cuMemcpyAsync) memcpyAsync;
  decltype(&::cuMemsetD32Async) memsetD32Async;
  decltype(&::cuMemsetD16Async) memsetD16Async;
  decltype(&::cuMemHostRegister) memHostRegister;
  decltype(&::cuMemHostUnregister) memHostUnregister;
  // Optional (newer drivers): stream-ordered allocation (11.2), cluster
  // launches and tensor maps (12.0), kernel names in messages (12.3).
  decltype(&::cuMemAllocAsync) memAllocAsync;
  decltype(&::cuMemFreeAsync) memFreeAsync;
  decltype(&::cuDeviceGetDefaultMemPool) deviceGetDefaultMemPool;
  decltype(&::cuMemPoolSetAttribute) memPoolSetAttribute;
#if CUDA_VERSION >= 12000
  decltype(&::cuLaunchKernelEx) launchKernelEx;
  decltype(&::cuTensorMapEncodeTiled) tensorMapEncodeTiled;
#endif
#if CUDA_VERSION >= 12030
  decltype(&::cuFuncGetName) funcGetName;
#endif
};

/// What the runtime knows about one device once its context is retained.
struct Device {
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  bool memoryPools = false; ///< cuMemAllocAsync usable.
  int maxSharedOptin = 0;   ///< Bytes of shared memory per block (opt-in).
  int ccMajor = 0, ccMinor = 0, smCount = 0;
  size_t totalMemory = 0;
  char name[256] = {0};
};

/// Loads the driver and runs cuInit once; returns the function table, or
/// null (error recorded) when CUDA is unavailable.
const Driver *driver();

/// The device selected by mgpuSetDefaultDevice (0 by default), its primary
/// context retained on first use; null (error recorded) on failure.
Device *currentDevice();

/// Sets the ordinal currentDevice() uses from now on.
void setDefaultDevice(int ordinal);

/// Records `message` as the error if none is recorded yet (and prints it
/// when ATTNFLOW_CUDA_DEBUG is set). Always returns false.
bool recordError(const std::string &message);

/// True when ATTNFLOW_CUDA_DEBUG is set in the environment.
bool debugEnabled();

/// The recorded error, or null.
const char *recordedError();

/// Forgets the recorded error.
void clearError();

/// "CUDA_ERROR_X (description)" for `result`, through `d` (may be null).
std::string describeResultWith(const Driver *d, CUresult result);

/// describeResultWith the loaded driver.
std::string describeResult(CUresult result);

/// cuDriverGetVersion of the loaded driver (e.g. 13000), 0 if unknown.
int driverVersion();

/// Returns true for CUDA_SUCCESS; otherwise records
/// "`where`: `call` failed: CUDA_ERROR_X (description)" and returns false.
bool check(CUresult result, const char *where, const char *call);

/// Makes the current device's primary context current for the lifetime of
/// the object (pushing it only when another context is current) and pops it
/// afterwards. Converts to false when CUDA is unavailable.
class ScopedContext {
public:
  explicit ScopedContext(const char *where);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;

  explicit operator bool() const { return dev != nullptr; }
  const Driver &api() const { return *drv; }
  Device &device() const { return *dev; }

private:
  const Driver *drv = nullptr;
  Device *dev = nullptr;
  bool pushed = false;
};

} // namespace cuda
} // namespace attnflow

#endif // ATTNFLOW_RUNTIME_CUDARUNTIMEDRIVER_H
