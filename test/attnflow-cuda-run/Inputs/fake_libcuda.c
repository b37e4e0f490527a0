/* A fake CUDA driver for testing libattnflow_cuda_runtime and
 * attnflow-cuda-run on machines without a GPU (loaded through
 * ATTNFLOW_CUDA_DRIVER). "Device" memory is host memory, a "GPU binary" is a
 * string, and a kernel named K is the host function K of the process (the
 * test module defines them), called as K(params, number_of_threads).
 *
 * Environment:
 *   FAKE_CUDA_DEVICES=N     number of devices (default 1)
 *   FAKE_CUDA_NO_POOLS=1    no memory pools (cuMemAllocAsync unsupported)
 *   FAKE_CUDA_FAIL=name[:code[:skip]]  the function `name` fails with
 *                       `code` (default 719, CUDA_ERROR_LAUNCH_FAILED) from
 *                       its call number skip + 1 on (default: every call)
 *   FAKE_CUDA_NOOP_KERNELS=1  kernels that are no host function do nothing
 *                           (to run modules compiled for real GPUs)
 *   FAKE_CUDA_TRACE=1       print the interesting calls on stderr
 *   FAKE_CUDA_LEAKS=1       print the number of live allocations at exit
 *
 * Only the functions the runtime resolves exist; they use the driver's ABI
 * (CUresult is an int, handles are pointers, CUdeviceptr is 64-bit).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

#define MAX_SHARED_OPTIN 232448 /* 227 KiB, as on sm_90 */

static int live = 0;
static int initialized = 0;

static int traceOn(void) {
  const char *v = getenv("FAKE_CUDA_TRACE");
  return v && *v && strcmp(v, "0");
}
#define TRACE(...)                                                             \
  do {                                                                         \
    if (traceOn()) {                                                           \
      fprintf(stderr, "fake-cuda: " __VA_ARGS__);                              \
      fputc('\n', stderr);                                                     \
    }                                                                          \
  } while (0)

/* Returns the injected error for `name`, or 0. */
static CUresult injected(const char *name) {
  static int calls = 0;
  const char *v = getenv("FAKE_CUDA_FAIL");
  size_t n = strlen(name);
  if (!v || strncmp(v, name, n) || (v[n] && v[n] != ':'))
    return 0;
  CUresult code = 719;
  int skip = 0;
  if (v[n] == ':') {
    code = atoi(v + n + 1);
    const char *colon = strchr(v + n + 1, ':');
    if (colon)
      skip = atoi(colon + 1);
  }
  return calls++ < skip ? 0 : code;
}
#define INJECT(name)                                                           \
  do {                                                                         \
    CUresult injectedResult = injected(name);                                  \
    if (injectedResult)                                                        \
      return injectedResult;                                                   \
  } while (0)
#define NEED_INIT()                                                            \
  do {                                                                         \
    if (!initialized)                                                          \
      return 3; /* CUDA_ERROR_NOT_INITIALIZED */                               \
  } while (0)

__attribute__((destructor)) static void reportLeaks(void) {
  const char *v = getenv("FAKE_CUDA_LEAKS");
  if (v && *v && strcmp(v, "0"))
    fprintf(stderr, "fake-cuda: %d live allocations at exit\n", live);
}

static const struct {
  CUresult code;
  const char *name, *text;
} errors[] = {
    {0, "CUDA_SUCCESS", "no error"},
    {1, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {3, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {100, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {209, "CUDA_ERROR_NO_BINARY_FOR_GPU",
     "no kernel image is available for execution on the device"},
    {218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {500, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {700, "CUDA_ERROR_ILLEGAL_ADDRESS",
     "an illegal memory access was encountered"},
    {719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
};

CUresult cuGetErrorName(CUresult error, const char **out) {
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); ++i)
    if (errors[i].code == error) {
      *out = errors[i].name;
      return 0;
    }
  *out = NULL;
  return 1;
}
CUresult cuGetErrorString(CUresult error, const char **out) {
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); ++i)
    if (errors[i].code == error) {
      *out = errors[i].text;
      return 0;
    }
  *out = NULL;
  return 1;
}

CUresult cuInit(unsigned flags) {
  INJECT("cuInit");
  initialized = 1;
  TRACE("cuInit");
  return 0;
}
CUresult cuDriverGetVersion(int *version) {
  *version = 12080;
  return 0;
}
static int deviceCount(void) {
  const char *v = getenv("FAKE_CUDA_DEVICES");
  return v ? atoi(v) : 1;
}
CUresult cuDeviceGetCount(int *count) {
  NEED_INIT();
  INJECT("cuDeviceGetCount");
  *count = deviceCount();
  return 0;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  NEED_INIT();
  if (ordinal < 0 || ordinal >= deviceCount())
    return 101; /* CUDA_ERROR_INVALID_DEVICE */
  *device = ordinal;
  return 0;
}
CUresult cuDeviceGetName(char *name, int len, int device) {
  snprintf(name, (size_t)len, "Fake GPU %d", device);
  return 0;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  switch (attribute) {
  case 75: /* COMPUTE_CAPABILITY_MAJOR */
    *value = 9;
    return 0;
  case 76:
    *value = 0;
    return 0;
  case 16: /* MULTIPROCESSOR_COUNT */
    *value = 132;
    return 0;
  case 97: /* MAX_SHARED_MEMORY_PER_BLOCK_OPTIN */
    *value = MAX_SHARED_OPTIN;
    return 0;
  case 115: /* MEMORY_POOLS_SUPPORTED */
    *value = getenv("FAKE_CUDA_NO_POOLS") ? 0 : 1;
    return 0;
  default:
    *value = 0;
    return 0;
  }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int device) {
  *bytes = (size_t)80 << 30;
  return 0;
}

static int contextObject;
static void *currentContext = NULL;
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  NEED_INIT();
  INJECT("cuDevicePrimaryCtxRetain");
  *context = &contextObject;
  TRACE("cuDevicePrimaryCtxRetain %d", device);
  return 0;
}
CUresult cuCtxGetCurrent(void **context) {
  *context = currentContext;
  return 0;
}
CUresult cuCtxPushCurrent_v2(void *context) {
  currentContext = context;
  return 0;
}
CUresult cuCtxPopCurrent_v2(void **context) {
  if (context)
    *context = currentContext;
  currentContext = NULL;
  return 0;
}
CUresult cuCtxSynchronize(void) {
  INJECT("cuCtxSynchronize");
  return 0;
}

/* Modules: the "image" is a string. "BAD..." has no code for this GPU;
 * "BADPTX..." fails to JIT with a log. */
CUresult cuModuleLoadData(void **module, const void *image) {
  INJECT("cuModuleLoadData");
  TRACE("cuModuleLoadData '%s'", (const char *)image);
  if (!strncmp((const char *)image, "BAD", 3))
    return 209;
  *module = strdup((const char *)image);
  return 0;
}
CUresult cuModuleLoadDataEx(void **module, const void *image,
                            unsigned numOptions, int *options,
                            void **values) {
  INJECT("cuModuleLoadDataEx");
  int level = -1;
  char *log = NULL;
  size_t logSize = 0;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == 5) /* CU_JIT_ERROR_LOG_BUFFER */
      log = (char *)values[i];
    if (options[i] == 6) /* CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES */
      logSize = (size_t)(uintptr_t)values[i];
    if (options[i] == 7) /* CU_JIT_OPTIMIZATION_LEVEL */
      level = (int)(intptr_t)values[i];
  }
  TRACE("cuModuleLoadDataEx '%s' optimization level %d", (const char *)image,
        level);
  if (!strncmp((const char *)image, "BADPTX", 6)) {
    if (log && logSize)
      snprintf(log, logSize, "ptxas application ptx input, line 7; error   : "
                             "Unknown symbol 'bogus'\nptxas fatal   : Ptx "
                             "assembly aborted due to errors\n");
    return 218;
  }
  *module = strdup((const char *)image);
  return 0;
}
CUresult cuModuleUnload(void *module) {
  TRACE("cuModuleUnload '%s'", (const char *)module);
  free(module);
  return 0;
}

/* Kernels: host functions of the process. */
typedef void (*Kernel)(void **params, unsigned long long threads);
struct Function {
  Kernel kernel;
  int maxDynamicShared;
  char name[64];
};
static struct Function functions[32];
static int functionCount = 0;

static void noopKernel(void **params, unsigned long long threads) {}

CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  INJECT("cuModuleGetFunction");
  for (int i = 0; i < functionCount; ++i)
    if (!strcmp(functions[i].name, name)) {
      *function = &functions[i];
      return 0;
    }
  void *symbol = dlsym(RTLD_DEFAULT, name);
  if (!symbol && getenv("FAKE_CUDA_NOOP_KERNELS"))
    symbol = (void *)noopKernel;
  if (!symbol || functionCount == 32)
    return 500;
  struct Function *f = &functions[functionCount++];
  f->kernel = (Kernel)symbol;
  f->maxDynamicShared = 48 * 1024;
  snprintf(f->name, sizeof(f->name), "%s", name);
  *function = f;
  return 0;
}
CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  INJECT("cuFuncSetAttribute");
  struct Function *f = (struct Function *)function;
  TRACE("cuFuncSetAttribute '%s' %d = %d", f->name, attribute, value);
  if (attribute == 8) { /* MAX_DYNAMIC_SHARED_SIZE_BYTES */
    if (value > MAX_SHARED_OPTIN)
      return 1;
    f->maxDynamicShared = value;
  }
  return 0;
}
CUresult cuFuncGetAttribute(int *value, int attribute, void *function) {
  struct Function *f = (struct Function *)function;
  /* CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: kernels named *_static use 1 KiB of
   * static shared memory. */
  *value = attribute == 1 && strstr(f->name, "_static") ? 1024 : 0;
  return 0;
}
static CUresult launch(struct Function *f, unsigned gx, unsigned gy,
                       unsigned gz, unsigned bx, unsigned by, unsigned bz,
                       unsigned smem, void **params) {
  TRACE("launch '%s' grid %u %u %u block %u %u %u smem %u", f->name, gx, gy,
        gz, bx, by, bz, smem);
  if (!gx || !gy || !gz || !bx || !by || !bz)
    return 1;
  if ((int)smem > f->maxDynamicShared)
    return 1;
  f->kernel(params, (unsigned long long)gx * gy * gz * bx * by * bz);
  return 0;
}
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        void *stream, void **params, void **extra) {
  INJECT("cuLaunchKernel");
  return launch((struct Function *)function, gx, gy, gz, bx, by, bz, smem,
                params);
}
/* CUlaunchConfig / CUlaunchAttribute as in cuda.h (CUDA 12+). */
struct LaunchAttribute {
  int id;
  char pad[4];
  union {
    char bytes[64];
    struct {
      unsigned x, y, z;
    } clusterDim;
  } value;
};
struct LaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  void *hStream;
  struct LaunchAttribute *attrs;
  unsigned numAttrs;
};
CUresult cuLaunchKernelEx(const struct LaunchConfig *config, void *function,
                          void **params, void **extra) {
  INJECT("cuLaunchKernelEx");
  for (unsigned i = 0; i < config->numAttrs; ++i)
    if (config->attrs[i].id == 4) /* CLUSTER_DIMENSION */
      TRACE("cluster %u %u %u", config->attrs[i].value.clusterDim.x,
            config->attrs[i].value.clusterDim.y,
            config->attrs[i].value.clusterDim.z);
  return launch((struct Function *)function, config->gridDimX,
                config->gridDimY, config->gridDimZ, config->blockDimX,
                config->blockDimY, config->blockDimZ, config->sharedMemBytes,
                params);
}

/* Tensor maps: traced; the 128-byte map holds a checksum of the request. */
CUresult cuTensorMapEncodeTiled(void *map, int type, unsigned rank,
                                void *address, const uint64_t *dims,
                                const uint64_t *strides, const unsigned *box,
                                const unsigned *elementStrides, int interleave,
                                int swizzle, int l2, int oob) {
  INJECT("cuTensorMapEncodeTiled");
  if (traceOn()) {
    fprintf(stderr, "fake-cuda: cuTensorMapEncodeTiled type %d rank %u dims",
            type, rank);
    for (unsigned i = 0; i < rank; ++i)
      fprintf(stderr, " %llu", (unsigned long long)dims[i]);
    fprintf(stderr, " strides");
    for (unsigned i = 0; i + 1 < rank; ++i)
      fprintf(stderr, " %llu", (unsigned long long)strides[i]);
    fprintf(stderr, " box");
    for (unsigned i = 0; i < rank; ++i)
      fprintf(stderr, " %u", box[i]);
    fprintf(stderr, " element strides");
    for (unsigned i = 0; i < rank; ++i)
      fprintf(stderr, " %u", elementStrides[i]);
    fprintf(stderr, " swizzle %d\n", swizzle);
  }
  memset(map, 0, 128);
  memcpy(map, &address, sizeof(address));
  memcpy((char *)map + 8, dims, rank * sizeof(uint64_t));
  return 0;
}

/* Streams and events. */
static int streamObject;
CUresult cuStreamCreate(void **stream, unsigned flags) {
  INJECT("cuStreamCreate");
  *stream = &streamObject;
  return 0;
}
CUresult cuStreamDestroy_v2(void *stream) { return 0; }
CUresult cuStreamSynchronize(void *stream) {
  INJECT("cuStreamSynchronize");
  return 0;
}
CUresult cuStreamWaitEvent(void *stream, void *event, unsigned flags) {
  return 0;
}
CUresult cuEventCreate(void **event, unsigned flags) {
  INJECT("cuEventCreate");
  *event = calloc(1, sizeof(double));
  return 0;
}
CUresult cuEventDestroy_v2(void *event) {
  free(event);
  return 0;
}
CUresult cuEventSynchronize(void *event) { return 0; }
CUresult cuEventRecord(void *event, void *stream) {
  INJECT("cuEventRecord");
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  *(double *)event = now.tv_sec * 1e3 + now.tv_nsec * 1e-6;
  return 0;
}
/* Only the CUDA 12.0 name, so that the runtime's fallback is exercised. */
CUresult cuEventElapsedTime(float *ms, void *start, void *stop) {
  *ms = (float)(*(double *)stop - *(double *)start);
  return 0;
}

/* Memory. */
static CUresult allocate(CUdeviceptr *ptr, size_t bytes, const char *how) {
  INJECT(how);
  void *p = malloc(bytes ? bytes : 1);
  if (!p)
    return 2;
  memset(p, 0xA5, bytes); /* like uninitialised device memory */
  *ptr = (CUdeviceptr)(uintptr_t)p;
  ++live;
  TRACE("%s %zu", how, bytes);
  return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
  return allocate(ptr, bytes, "cuMemAlloc");
}
CUresult cuMemAllocManaged(CUdeviceptr *ptr, size_t bytes, unsigned flags) {
  return allocate(ptr, bytes, "cuMemAllocManaged");
}
CUresult cuMemAllocAsync(CUdeviceptr *ptr, size_t bytes, void *stream) {
  return allocate(ptr, bytes, "cuMemAllocAsync");
}
CUresult cuMemFree_v2(CUdeviceptr ptr) {
  INJECT("cuMemFree");
  TRACE("cuMemFree");
  free((void *)(uintptr_t)ptr);
  --live;
  return 0;
}
CUresult cuMemFreeAsync(CUdeviceptr ptr, void *stream) {
  INJECT("cuMemFreeAsync");
  TRACE("cuMemFreeAsync");
  free((void *)(uintptr_t)ptr);
  --live;
  return 0;
}
CUresult cuDeviceGetDefaultMemPool(void **pool, int device) {
  static int poolObject;
  *pool = &poolObject;
  return 0;
}
CUresult cuMemPoolSetAttribute(void *pool, int attribute, void *value) {
  TRACE("cuMemPoolSetAttribute %d = %llu", attribute,
        *(unsigned long long *)value);
  return 0;
}
CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  INJECT("cuMemcpy");
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
  return 0;
}
CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes,
                       void *stream) {
  INJECT("cuMemcpyAsync");
  memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
  return 0;
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count,
                          void *stream) {
  for (size_t i = 0; i < count; ++i)
    memcpy((char *)(uintptr_t)dst + 4 * i, &value, 4);
  return 0;
}
CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count,
                          void *stream) {
  for (size_t i = 0; i < count; ++i)
    memcpy((char *)(uintptr_t)dst + 2 * i, &value, 2);
  return 0;
}
CUresult cuMemHostRegister_v2(void *ptr, size_t bytes, unsigned flags) {
  TRACE("cuMemHostRegister %zu", bytes);
  return 0;
}
CUresult cuMemHostUnregister(void *ptr) { return 0; }
