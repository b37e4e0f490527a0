// The contract with attnflow-compile: a module compiled with --target=cuda
// --emit=obj and linked with clang -shared loads into attnflow-cuda-run (its
// mgpu* calls resolve against the runtime), exports the entry's C interface
// and signature, and runs through the harness end to end on the fake driver
// (whose kernels do nothing here, so only shapes and book-keeping are
// checked: a GPU is needed for the numbers).
//
// REQUIRES: cuda-runtime, clang, ptxas
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %clang -shared -fPIC %S/Inputs/fake_libcuda.c -o %t/fake_libcuda.so
// RUN: attnflow-compile %s --target=cuda --emit=obj -o %t/model.o
// RUN: %clang -shared -o %t/model.so %t/model.o
// RUN: llvm-nm -D --undefined-only %t/model.so | FileCheck %s --check-prefix=UNDEF
// UNDEF: mgpuLaunchKernel
// UNDEF: mgpuModuleLoad
// RUN: env ATTNFLOW_CUDA_DRIVER=%t/fake_libcuda.so FAKE_CUDA_NOOP_KERNELS=1 FAKE_CUDA_TRACE=1 FAKE_CUDA_LEAKS=1 attnflow-cuda-run %t/model.so --random-inputs --seed=1 --output=%t/o.npy --repeat=2 --warmup=1 > %t/run.out 2> %t/run.err
// RUN: FileCheck %s --check-prefix=TIME < %t/run.out
// TIME: {{^}}min {{[0-9]+\.[0-9]+}} ms, median {{[0-9]+\.[0-9]+}} ms over 2 runs{{$}}
// RUN: FileCheck %s --check-prefix=TRACE < %t/run.err
// TRACE: fake-cuda: cuModuleLoad
// TRACE: fake-cuda: launch '{{.*}}'
// TRACE: fake-cuda: 0 live allocations at exit
// RUN: %python %S/../attnflow-run/Inputs/npytool.py print %t/o.npy | FileCheck %s --check-prefix=OUT
// OUT: float32 (1, 2, 64, 64)

func.func @main(%q: tensor<1x2x64x64xf32>, %k: tensor<1x1x64x64xf32>,
                %v: tensor<1x1x64x64xf32>) -> tensor<1x2x64x64xf32> {
  %o = attnflow.attention %q, %k, %v {causal = true}
      : tensor<1x2x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
      -> tensor<1x2x64x64xf32>
  return %o : tensor<1x2x64x64xf32>
}
