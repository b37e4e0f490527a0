// Without a CUDA driver (simulated with ATTNFLOW_CUDA_DRIVER naming a file
// that does not exist, so that the test behaves the same on GPU machines),
// attnflow-cuda-run still checks the module and the .npy files, then says
// that the driver is missing, and writes nothing. With the CUDA toolkit's
// libcuda link stub in place of a driver, cuInit's failure is reported.
//
// REQUIRES: cuda-runtime, clang
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -shared -fPIC %S/Inputs/fake_module.c -o %t/module.so
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/x.npy "np.arange(4, dtype=np.float32)"
//
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/libcuda.so.1 attnflow-cuda-run %t/module.so --input=%t/x.npy --output=%t/o.npy 2>&1 | FileCheck %s --check-prefix=NODRIVER
// NODRIVER: attnflow-cuda-run: error: no CUDA driver: {{.*}}libcuda.so.1: cannot open shared object file: No such file or directory (running CUDA code needs an NVIDIA GPU and its driver)
// NODRIVER-NOT: {{.}}
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/libcuda.so.1 attnflow-cuda-run %t/module.so --random-inputs --repeat=3 2>&1 | FileCheck %s --check-prefix=NODRIVER
// RUN: %python %S/../attnflow-run/Inputs/npytool.py absent %t/o.npy %t/o.npy.attnflow-partial
//
// The files are checked first, so a bad input is named even without a GPU.
// RUN: %python %S/../attnflow-run/Inputs/npytool.py save %t/i.npy "np.arange(4)"
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/libcuda.so.1 attnflow-cuda-run %t/module.so --input=%t/i.npy 2>&1 | FileCheck %s --check-prefix=BADINPUT
// BADINPUT: attnflow-cuda-run: error: argument 0: {{.*}}i.npy: expected float32 of shape (4,) for tensor<4xf32>, got int64 of shape (4,)
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/libcuda.so.1 attnflow-cuda-run %t/module.so 2>&1 | FileCheck %s --check-prefix=NOINPUT
// NOINPUT: attnflow-cuda-run: error: 'main' takes 1 argument: pass one --input=FILE.npy per argument, or --random-inputs
//
// A file that is not a shared library, as the driver.
// RUN: not env ATTNFLOW_CUDA_DRIVER=%s attnflow-cuda-run %t/module.so --random-inputs 2>&1 | FileCheck %s --check-prefix=NOTLIB
// NOTLIB: attnflow-cuda-run: error: no CUDA driver: {{.*}}no-driver.mlir: {{.*}}
//
// A driver too old to have what the runtime needs.
// RUN: echo 'int cuInit(unsigned f) { return 0; } int cuDriverGetVersion(int *v) { *v = 10020; return 0; }' > %t/old.c
// RUN: %clang -shared -fPIC %t/old.c -o %t/old.so
// RUN: not env ATTNFLOW_CUDA_DRIVER=%t/old.so attnflow-cuda-run %t/module.so --random-inputs 2>&1 | FileCheck %s --check-prefix=OLD
// OLD: attnflow-cuda-run: error: the CUDA driver {{.*}}old.so (version 10.2) lacks cuGetErrorName, cuGetErrorString, cuDeviceGetCount, {{.*}}: a newer NVIDIA driver is needed
