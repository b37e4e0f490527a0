//===- CudaRuntimeDriver.cpp - The dlopen'ed CUDA driver ------------------===//
//
// Loads libcuda.so.1 at run time (never linked), resolves the driver API,
// records the first error and manages the primary contexts. See
// CudaRuntime.h for the contract.
//
//===----------------------------------------------------------------------===//

#include "CudaRuntimeDriver.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include <dlfcn.h>

namespace attnflow {
namespace cuda {

namespace {

//===----------------------------------------------------------------------===//
// The recorded error.
//===----------------------------------------------------------------------===//

std::mutex &errorMutex() {
  static std::mutex mutex;
  return mutex;
}
bool hasError = false;
std::string errorText;

//===----------------------------------------------------------------------===//
// Loading the driver.
//===----------------------------------------------------------------------===//

struct Symbol {
  void **slot;
  const char *names[2]; ///< Exported names to try, in order.
  bool required;
};

struct LoadedDriver {
  Driver api = {};
  bool ok = false;
  std::string error; ///< Why the driver is unusable (when !ok).
  int version = 0;   ///< cuDriverGetVersion, e.g. 13000.
};

template <typename T> void **slot(T &member) {
  return reinterpret_cast<void **>(&member);
}

LoadedDriver loadDriver() {
  LoadedDriver loaded;
  Driver &d = loaded.api;
  const char *path = std::getenv("ATTNFLOW_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *handle = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = ::dlerror();
    loaded.error = std::string("no CUDA driver: ") +
                   (reason ? reason : path) +
                   " (running CUDA code needs an NVIDIA GPU and its driver)";
    return loaded;
  }
  // The names cuda.h binds its declarations to (cuMemAlloc is cuMemAlloc_v2,
  // ...), so that the types in Driver match the functions resolved.
  const Symbol symbols[] = {
      {slot(d.getErrorName), {"cuGetErrorName", nullptr}, true},
      {slot(d.getErrorString), {"cuGetErrorString", nullptr}, true},
      {slot(d.init), {"cuInit", nullptr}, true},
      {slot(d.driverGetVersion), {"cuDriverGetVersion", nullptr}, true},
      {slot(d.deviceGetCount), {"cuDeviceGetCount", nullptr}, true},
      {slot(d.deviceGet), {"cuDeviceGet", nullptr}, true},
      {slot(d.deviceGetName), {"cuDeviceGetName", nullptr}, true},
      {slot(d.deviceGetAttribute), {"cuDeviceGetAttribute", nullptr}, true},
      {slot(d.deviceTotalMem), {"cuDeviceTotalMem_v2", nullptr}, true},
      {slot(d.devicePrimaryCtxRetain),
       {"cuDevicePrimaryCtxRetain", nullptr},
       true},
      {slot(d.ctxGetCurrent), {"cuCtxGetCurrent", nullptr}, true},
      {slot(d.ctxPushCurrent), {"cuCtxPushCurrent_v2", nullptr}, true},
      {slot(d.ctxPopCurrent), {"cuCtxPopCurrent_v2", nullptr}, true},
      {slot(d.ctxSynchronize), {"cuCtxSynchronize", nullptr}, true},
      {slot(d.moduleLoadData), {"cuModuleLoadData", nullptr}, true},
      {slot(d.moduleLoadDataEx), {"cuModuleLoadDataEx", nullptr}, true},
      {slot(d.moduleUnload), {"cuModuleUnload", nullptr}, true},
      {slot(d.moduleGetFunction), {"cuModuleGetFunction", nullptr}, true},
      {slot(d.funcSetAttribute), {"cuFuncSetAttribute", nullptr}, true},
      {slot(d.funcGetAttribute), {"cuFuncGetAttribute", nullptr}, true},
      {slot(d.launchKernel), {"cuLaunchKernel", nullptr}, true},
      {slot(d.streamCreate), {"cuStreamCreate", nullptr}, true},
      {slot(d.streamDestroy), {"cuStreamDestroy_v2", nullptr}, true},
      {slot(d.streamSynchronize), {"cuStreamSynchronize", nullptr}, true},
      {slot(d.streamWaitEvent), {"cuStreamWaitEvent", nullptr}, true},
      {slot(d.eventCreate), {"cuEventCreate", nullptr}, true},
      {slot(d.eventDestroy), {"cuEventDestroy_v2", nullptr}, true},
      {slot(d.eventSynchronize), {"cuEventSynchronize", nullptr}, true},
      {slot(d.eventRecord), {"cuEventRecord", nullptr}, true},
      // Same signature; _v2 (CUDA 12.8) is what cuda.h 13 binds to.
      {slot(d.eventElapsedTime),
       {"cuEventElapsedTime_v2", "cuEventElapsedTime"},
       true},
      {slot(d.memAlloc), {"cuMemAlloc_v2", nullptr}, true},
      {slot(d.memAllocManaged), {"cuMemAllocManaged", nullptr}, true},
      {slot(d.memFree), {"cuMemFree_v2", nullptr}, true},
      {slot(d.memcpy), {"cuMemcpy", nullptr}, true},
      {slot(d.memcpyAsync), {"cuMemcpyAsync", nullptr}, true},
      {slot(d.memsetD32Async), {"cuMemsetD32Async", nullptr}, true},
      {slot(d.memsetD16Async), {"cuMemsetD16Async", nullptr}, true},
      {slot(d.memHostRegister), {"cuMemHostRegister_v2", nullptr}, true},
      {slot(d.memHostUnregister), {"cuMemHostUnregister", nullptr}, true},
      {slot(d.memAllocAsync), {"cuMemAllocAsync", nullptr}, false},
      {slot(d.memFreeAsync), {"cuMemFreeAsync", nullptr}, false},
      {slot(d.deviceGetDefaultMemPool),
       {"cuDeviceGetDefaultMemPool", nullptr},
       false},
      {slot(d.memPoolSetAttribute), {"cuMemPoolSetAttribute", nullptr}, false},
#if CUDA_VERSION >= 12000
      {slot(d.launchKernelEx), {"cuLaunchKernelEx", nullptr}, false},
      {slot(d.tensorMapEncodeTiled), {"cuTensorMapEncodeTiled", nullptr}, false},
#endif
#if CUDA_VERSION >= 12030
      {slot(d.funcGetName), {"cuFuncGetName", nullptr}, false},
#endif
  };
  std::string missing;
  for (const Symbol &symbol : symbols) {
    *symbol.slot = nullptr;
    for (const char *name : symbol.names)
      if (name && !*symbol.slot)
        *symbol.slot = ::dlsym(handle, name);
    if (!*symbol.slot && symbol.required)
      missing += (missing.empty() ? "" : ", ") + std::string(symbol.names[0]);
  }
  if (d.driverGetVersion)
    d.driverGetVersion(&loaded.version);
  if (!missing.empty()) {
    loaded.error = std::string("the CUDA driver ") + path;
    if (loaded.version)
      loaded.error += " (version " + std::to_string(loaded.version / 1000) +
                      "." + std::to_string(loaded.version % 1000 / 10) + ")";
    loaded.error += " lacks " + missing + ": a newer NVIDIA driver is needed";
    return loaded;
  }
  CUresult result = d.init(0);
  if (result != CUDA_SUCCESS) {
    loaded.error = "CUDA initialisation failed: cuInit: " +
                   describeResultWith(&d, result);
    if (result == CUDA_ERROR_NO_DEVICE)
      loaded.error += "; no CUDA device";
    return loaded;
  }
  loaded.ok = true;
  return loaded;
}

const LoadedDriver &loadedDriver() {
  static const LoadedDriver loaded = loadDriver();
  return loaded;
}

//===----------------------------------------------------------------------===//
// Devices.
//===----------------------------------------------------------------------===//

struct DeviceSlot {
  Device *device = nullptr;
  std::string error;
};

std::mutex &deviceMutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<int, DeviceSlot> &deviceSlots() {
  static std::map<int, DeviceSlot> slots;
  return slots;
}
std::atomic<int> defaultOrdinal{0};

/// Retains the primary context of device `ordinal` and queries what the
/// runtime needs. Sets `error` on failure.
Device *openDevice(const Driver &d, int ordinal, std::string &error) {
  auto fail = [&](const char *call, CUresult result) -> Device * {
    error = std::string("CUDA device ") + std::to_string(ordinal) + ": " +
            call + " failed: " + describeResult(result);
    return nullptr;
  };
  int count = 0;
  CUresult result = d.deviceGetCount(&count);
  if (result != CUDA_SUCCESS)
    return fail("cuDeviceGetCount", result);
  if (count == 0) {
    error = "no CUDA device: the driver reports 0 devices";
    return nullptr;
  }
  if (ordinal < 0 || ordinal >= count) {
    error = "CUDA device " + std::to_string(ordinal) +
            " does not exist (the driver reports " + std::to_string(count) +
            (count == 1 ? " device)" : " devices)");
    return nullptr;
  }
  Device dev;
  dev.ordinal = ordinal;
  if ((result = d.deviceGet(&dev.device, ordinal)) != CUDA_SUCCESS)
    return fail("cuDeviceGet", result);
  if (d.deviceGetName(dev.name, sizeof(dev.name) - 1, dev.device) !=
      CUDA_SUCCESS)
    std::snprintf(dev.name, sizeof(dev.name), "CUDA device %d", ordinal);
  auto attribute = [&](CUdevice_attribute which, int &value) {
    if (d.deviceGetAttribute(&value, which, dev.device) != CUDA_SUCCESS)
      value = 0;
  };
  attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev.ccMajor);
  attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev.ccMinor);
  attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev.smCount);
  attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
            dev.maxSharedOptin);
  int pools = 0;
  attribute(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, pools);
  if (d.deviceTotalMem(&dev.totalMemory, dev.device) != CUDA_SUCCESS)
    dev.totalMemory = 0;
  if ((result = d.devicePrimaryCtxRetain(&dev.context, dev.device)) !=
      CUDA_SUCCESS)
    return fail("cuDevicePrimaryCtxRetain", result);
  // Stream-ordered allocation where available, with a pool that keeps its
  // memory across synchronisations (the default threshold 0 hands it back
  // to the OS at every one).
  if (pools && d.memAllocAsync && d.memFreeAsync) {
    dev.memoryPools = true;
    CUmemoryPool pool = nullptr;
    if (d.deviceGetDefaultMemPool && d.memPoolSetAttribute &&
        d.ctxPushCurrent(dev.context) == CUDA_SUCCESS) {
      if (d.deviceGetDefaultMemPool(&pool, dev.device) == CUDA_SUCCESS) {
        cuuint64_t threshold = UINT64_MAX;
        d.memPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                              &threshold);
      }
      CUcontext popped = nullptr;
      d.ctxPopCurrent(&popped);
    }
  }
  return new Device(dev);
}

} // namespace

bool debugEnabled() {
  static const bool enabled = [] {
    const char *value = std::getenv("ATTNFLOW_CUDA_DEBUG");
    return value && *value && std::string(value) != "0";
  }();
  return enabled;
}

bool recordError(const std::string &message) {
  if (debugEnabled())
    std::fprintf(stderr, "attnflow-cuda-runtime: error: %s\n", message.c_str());
  std::lock_guard<std::mutex> lock(errorMutex());
  if (!hasError) {
    hasError = true;
    errorText = message;
  }
  return false;
}

const char *recordedError() {
  std::lock_guard<std::mutex> lock(errorMutex());
  return hasError ? errorText.c_str() : nullptr;
}

void clearError() {
  std::lock_guard<std::mutex> lock(errorMutex());
  hasError = false;
  errorText.clear();
}

std::string describeResultWith(const Driver *d, CUresult result) {
  const char *name = nullptr;
  const char *text = nullptr;
  if (d && d->getErrorName && d->getErrorName(result, &name) != CUDA_SUCCESS)
    name = nullptr;
  if (d && d->getErrorString &&
      d->getErrorString(result, &text) != CUDA_SUCCESS)
    text = nullptr;
  std::string out;
  if (name)
    out = name;
  else if (result == CUDA_ERROR_STUB_LIBRARY)
    out = "CUDA_ERROR_STUB_LIBRARY";
  else
    out = "CUresult " + std::to_string(static_cast<int>(result));
  if (text)
    out += std::string(" (") + text + ")";
  else if (result == CUDA_ERROR_STUB_LIBRARY)
    out += " (the loaded libcuda is the CUDA toolkit's link stub, not a "
           "driver)";
  return out;
}

std::string describeResult(CUresult result) {
  const LoadedDriver &loaded = loadedDriver();
  return describeResultWith(&loaded.api, result);
}

bool check(CUresult result, const char *where, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  return recordError(std::string(where) + ": " + call +
                     " failed: " + describeResult(result));
}

const Driver *driver() {
  const LoadedDriver &loaded = loadedDriver();
  if (!loaded.ok) {
    recordError(loaded.error);
    return nullptr;
  }
  return &loaded.api;
}

int driverVersion() { return loadedDriver().version; }

Device *currentDevice() {
  const Driver *d = driver();
  if (!d)
    return nullptr;
  int ordinal = defaultOrdinal.load();
  std::lock_guard<std::mutex> lock(deviceMutex());
  DeviceSlot &slot = deviceSlots()[ordinal];
  if (!slot.device && slot.error.empty()) {
    slot.device = openDevice(*d, ordinal, slot.error);
    if (!slot.device && slot.error.empty())
      slot.error = "CUDA device " + std::to_string(ordinal) + " is unusable";
  }
  if (!slot.device)
    recordError(slot.error);
  return slot.device;
}

void setDefaultDevice(int ordinal) { defaultOrdinal.store(ordinal); }

ScopedContext::ScopedContext(const char *where) {
  drv = driver();
  if (!drv)
    return;
  Device *d = currentDevice();
  if (!d)
    return;
  CUcontext current = nullptr;
  if (drv->ctxGetCurrent(&current) != CUDA_SUCCESS || current != d->context) {
    if (!check(drv->ctxPushCurrent(d->context), where, "cuCtxPushCurrent"))
      return;
    pushed = true;
  }
  dev = d;
}

ScopedContext::~ScopedContext() {
  if (pushed) {
    CUcontext popped = nullptr;
    drv->ctxPopCurrent(&popped);
  }
}

} // namespace cuda
} // namespace attnflow
