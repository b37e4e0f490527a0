// The CUDA toolkit's libcuda link stub resolves every driver function the
// runtime needs but is no driver: cuInit fails, and attnflow-cuda-run says so.
//
// REQUIRES: cuda-runtime, cuda-stub, clang
//
// RUN: %clang -shared -fPIC %S/Inputs/fake_module.c -o %t.module.so
// RUN: not env ATTNFLOW_CUDA_DRIVER=%cuda_stub_libcuda attnflow-cuda-run %t.module.so --random-inputs 2>&1 | FileCheck %s
// CHECK: attnflow-cuda-run: error: CUDA initialisation failed: cuInit: CUDA_ERROR_STUB_LIBRARY ({{.*}}){{$}}
// CHECK-NOT: {{.}}
