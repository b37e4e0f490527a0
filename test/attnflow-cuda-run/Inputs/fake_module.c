/* A stand-in for a module compiled by `attnflow-compile --target=cuda` and
 * linked with `clang -shared`: the same ABI (see attnflow-cuda-run --help),
 * written in C. Its "GPU binary" is a string and its "kernels" are host
 * functions, run by the fake driver (fake_libcuda.c). Each entry does what
 * gpu-to-llvm host code does: create a stream, allocate the results with
 * mgpuMemAlloc, launch, synchronise, destroy the stream.
 *
 * -DFAKE_IMAGE="..." selects the binary ("BAD..." does not load);
 * -DFAKE_JIT loads it as PTX (mgpuModuleLoadJIT) with the log of a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *stream, void **params, void **extra, size_t count);
void mgpuLaunchClusterKernel(void *function, intptr_t cx, intptr_t cy,
                             intptr_t cz, intptr_t gx, intptr_t gy, intptr_t gz,
                             intptr_t bx, intptr_t by, intptr_t bz,
                             int32_t smem, void *stream, void **params,
                             void **extra);
void *mgpuStreamCreate(void);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamDestroy(void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool hostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream);
void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream);

#ifndef FAKE_IMAGE
#define FAKE_IMAGE "fake-cubin"
#endif

static void *module;
__attribute__((constructor)) static void load(void) {
  static char image[] = FAKE_IMAGE;
#ifdef FAKE_JIT
  module = mgpuModuleLoadJIT(image, 2);
#else
  module = mgpuModuleLoad(image, sizeof(image));
#endif
}
__attribute__((destructor)) static void unload(void) {
  mgpuModuleUnload(module);
}

typedef struct {
  void *allocated, *aligned;
  int64_t offset;
} D0;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} D1;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} D2;

static D1 d1(void *p, int64_t n) {
  D1 d = {p, p, 0, {n}, {1}};
  return d;
}

/* Kernels (host functions called by the fake driver). */
void scale_kernel(void **params, unsigned long long threads) {
  float *in = *(float **)params[0], *out = *(float **)params[1];
  float factor = *(float *)params[2];
  int64_t n = *(int64_t *)params[3];
  for (int64_t i = 0; i < n; ++i)
    out[i] = factor * in[i];
}
void sum_kernel(void **params, unsigned long long threads) {
  float *in = *(float **)params[0], *out = *(float **)params[1];
  int64_t n = *(int64_t *)params[2];
  float s = 0;
  for (int64_t i = 0; i < n; ++i)
    s += in[i];
  *out = s;
}

static void launchScale(void *stream, float *in, float *out, float factor,
                        int64_t n, int32_t smem) {
  void *f = mgpuModuleGetFunction(module, "scale_kernel");
  void *params[] = {&in, &out, &factor, &n};
  mgpuLaunchKernel(f, 1, 1, 1, n ? n : 1, 1, 1, smem, stream, params, NULL, 4);
}

/* main: 4xf32 -> 4xf32, y = 2x, launched with 64 KiB of dynamic shared
 * memory (above the 48 KiB default). */
const char _attnflow_signature_main[] = "4xf32->4xf32";
void _mlir_ciface_main(D1 *result, D1 *x) {
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc(16, stream, false);
  launchScale(stream, (float *)x->aligned + x->offset, out, 2.0f, 4, 65536);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *result = d1(out, 4);
}

/* multi: (2x3xf32, 3xi64) -> (2x3xf32 = x + x, 3xi64 = pos, f32 = sum(x)) */
const char _attnflow_signature_multi[] = "2x3xf32,3xi64->2x3xf32,3xi64,f32";
struct MultiResults {
  D2 y;
  D1 pos;
  D0 sum;
};
void _mlir_ciface_multi(struct MultiResults *r, D2 *x, D1 *pos) {
  void *stream = mgpuStreamCreate();
  float *y = mgpuMemAlloc(24, stream, false);
  int64_t *p = mgpuMemAlloc(24, stream, false);
  float *s = mgpuMemAlloc(4, stream, false);
  launchScale(stream, x->aligned, y, 2.0f, 6, 0);
  mgpuMemcpy(p, pos->aligned, 24, stream);
  void *f = mgpuModuleGetFunction(module, "sum_kernel");
  int64_t n = 6;
  void *xp = x->aligned;
  void *params[] = {&xp, &s, &n};
  mgpuLaunchKernel(f, 1, 1, 1, 32, 1, 1, 0, stream, params, NULL, 3);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  D2 dy = {y, y, 0, {2, 3}, {3, 1}};
  r->y = dy;
  r->pos = d1(p, 3);
  D0 ds = {s, s, 0};
  r->sum = ds;
}

/* types: (5xbf16, 5xi1, 2xf16, 2xf64, 2xi32) -> the same, copied. */
const char _attnflow_signature_types[] =
    "5xbf16,5xi1,2xf16,2xf64,2xi32->5xbf16,5xi1,2xf16,2xf64,2xi32";
struct TypesResults {
  D1 r[5];
};
void _mlir_ciface_types(struct TypesResults *r, D1 *a, D1 *b, D1 *c, D1 *d,
                        D1 *e) {
  D1 *args[] = {a, b, c, d, e};
  const int64_t bytes[] = {10, 5, 4, 16, 8}, sizes[] = {5, 5, 2, 2, 2};
  void *stream = mgpuStreamCreate();
  for (int i = 0; i < 5; ++i) {
    void *p = mgpuMemAlloc(bytes[i], stream, false);
    mgpuMemcpy(p, args[i]->aligned, bytes[i], stream);
    r->r[i] = d1(p, sizes[i]);
  }
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
}

/* same: returns its argument (which the runner must not free) twice. */
const char _attnflow_signature_same[] = "4xf32->4xf32,4xf32";
void _mlir_ciface_same(D1 r[2], D1 *x) {
  r[0] = *x;
  r[1] = *x;
}

/* transpose: 2x3xf32 -> 3x2xf32 as a strided view (strides [1, 3]). */
const char _attnflow_signature_transpose[] = "2x3xf32->3x2xf32";
void _mlir_ciface_transpose(D2 *r, D2 *x) {
  void *stream = mgpuStreamCreate();
  float *copy = mgpuMemAlloc(24, stream, false);
  mgpuMemcpy(copy, x->aligned, 24, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  D2 t = {copy, copy, 0, {3, 2}, {1, 3}};
  *r = t;
}

/* offset: 4xf32 -> 2xf32 = x[1:3] of a copy (offset 1). */
const char _attnflow_signature_offset[] = "4xf32->2xf32";
void _mlir_ciface_offset(D1 *r, D1 *x) {
  float *copy = mgpuMemAlloc(16, NULL, false);
  mgpuMemcpy(copy, x->aligned, 16, NULL);
  mgpuStreamSynchronize(NULL);
  D1 v = {copy, copy, 1, {2}, {1}};
  *r = v;
}

/* empty: 0x4xf32 -> 0x4xf32 (no memory at all). */
const char _attnflow_signature_empty[] = "0x4xf32->0x4xf32";
void _mlir_ciface_empty(D2 *r, D2 *x) {
  void *p = mgpuMemAlloc(0, NULL, false);
  D2 e = {p, p, 0, {0, 4}, {4, 1}};
  *r = e;
}

/* none: 4xf32 -> (), a zero-result function. */
const char _attnflow_signature_none[] = "4xf32->";
int noneCalls = 0;
void _mlir_ciface_none(D1 *x) { ++noneCalls; }

/* many: 20 x 1xf32 -> 1xf32, the sum (21 pointer parameters). */
const char _attnflow_signature_many[] =
    "1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,"
    "1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32,1xf32->1xf32";
#define P(i) D1 *a##i
void _mlir_ciface_many(D1 *r, P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7),
                       P(8), P(9), P(10), P(11), P(12), P(13), P(14), P(15),
                       P(16), P(17), P(18), P(19)) {
  D1 *args[] = {a0,  a1,  a2,  a3,  a4,  a5,  a6,  a7,  a8,  a9,
                a10, a11, a12, a13, a14, a15, a16, a17, a18, a19};
  float host[20], sum = 0;
  for (int i = 0; i < 20; ++i) {
    mgpuMemcpy(&host[i], args[i]->aligned, 4, NULL);
    sum += host[i];
  }
  float *out = mgpuMemAlloc(4, NULL, false);
  mgpuMemcpy(out, &sum, 4, NULL);
  mgpuStreamSynchronize(NULL);
  *r = d1(out, 1);
}

/* Failures. */
const char _attnflow_signature_badshape[] = "4xf32->4xf32";
void _mlir_ciface_badshape(D1 *r, D1 *x) {
  float *out = mgpuMemAlloc(20, NULL, false);
  *r = d1(out, 5);
}
const char _attnflow_signature_nullresult[] = "4xf32->4xf32";
void _mlir_ciface_nullresult(D1 *r, D1 *x) { *r = d1(NULL, 4); }
const char _attnflow_signature_nokernel[] = "4xf32->4xf32";
void _mlir_ciface_nokernel(D1 *r, D1 *x) {
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc(16, stream, false);
  void *f = mgpuModuleGetFunction(module, "missing_kernel");
  mgpuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, stream, NULL, NULL, 0);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *r = d1(out, 4);
}
const char _attnflow_signature_hugesmem[] = "4xf32->4xf32";
void _mlir_ciface_hugesmem(D1 *r, D1 *x) {
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc(16, stream, false);
  launchScale(stream, x->aligned, out, 2.0f, 4, 300 * 1024);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *r = d1(out, 4);
}
/* 231936 bytes of dynamic shared memory fit the device's 232448, but not
 * with the kernel's 1 KiB of static shared memory. */
void scale_kernel_static(void **params, unsigned long long threads) {
  scale_kernel(params, threads);
}
const char _attnflow_signature_staticsmem[] = "4xf32->4xf32";
void _mlir_ciface_staticsmem(D1 *r, D1 *x) {
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc(16, stream, false);
  void *f = mgpuModuleGetFunction(module, "scale_kernel_static");
  float factor = 2.0f;
  int64_t n = 4;
  void *in = x->aligned;
  void *params[] = {&in, &out, &factor, &n};
  mgpuLaunchKernel(f, 1, 1, 1, 4, 1, 1, 231936, stream, params, NULL, 4);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *r = d1(out, 4);
}
const char _attnflow_signature_cluster[] = "4xf32->4xf32";
void _mlir_ciface_cluster(D1 *r, D1 *x) {
  void *stream = mgpuStreamCreate();
  float *out = mgpuMemAlloc(16, stream, false);
  void *f = mgpuModuleGetFunction(module, "scale_kernel");
  float factor = 3.0f;
  int64_t n = 4;
  void *in = x->aligned;
  void *params[] = {&in, &out, &factor, &n};
  mgpuLaunchClusterKernel(f, 2, 1, 1, 4, 1, 1, 128, 1, 1, 0, stream, params,
                          NULL);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
  *r = d1(out, 4);
}
const char _attnflow_signature_managed[] = "4xf32->4xf32";
void _mlir_ciface_managed(D1 *r, D1 *x) {
  float *out = mgpuMemAlloc(16, NULL, true);
  mgpuMemset32(out, 0x40400000u /* 3.0f */, 4, NULL);
  mgpuStreamSynchronize(NULL);
  *r = d1(out, 4);
}

/* tma: TMA descriptors of a 3-D f16 buffer (64-element boxes of 8 rows);
 * the second, identical request reuses the first one's device copy. */
void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t type, int64_t interleave,
                                     int64_t swizzle, int64_t l2, int64_t oob,
                                     const int64_t *box);
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} D3;
const char _attnflow_signature_tma[] = "2x16x64xf16->";
void _mlir_ciface_tma(D3 *x) {
  int64_t box[3] = {1, 8, 64};
  void *a = mgpuTensorMapEncodeTiledMemref(3, x, 6 /* FLOAT16 */, 0,
                                           3 /* 128B */, 0, 0, box);
  void *b = mgpuTensorMapEncodeTiledMemref(3, x, 6, 0, 3, 0, 0, box);
  if (!a || a != b)
    mgpuMemFree((void *)1, NULL); /* make the run fail */
}

/* Malformed signatures. */
const char _attnflow_signature_badtype[] = "4xq32->4xf32";
void _mlir_ciface_badtype(D1 *r, D1 *x) {}
const char _attnflow_signature_dynamic[] = "?x4xf32->4xf32";
void _mlir_ciface_dynamic(D1 *r, D1 *x) {}
const char _attnflow_signature_noarrow[] = "4xf32";
void _mlir_ciface_noarrow(D1 *r, D1 *x) {}

/* An entry without a signature. */
void _mlir_ciface_unsigned(D1 *r, D1 *x) {}
