//===- CudaRuntimeTest.cpp - The CUDA launch runtime without a driver -----===//
//
// libattnflow_cuda_runtime.so must work as a library on machines without a
// CUDA driver: every entry point returns (NULL / non-zero) instead of
// crashing, and the recorded error says why. The driver is made unavailable
// through ATTNFLOW_CUDA_DRIVER, so the test behaves the same on GPU machines.
// (test/attnflow-cuda-run covers the runtime with a fake driver.)
//
//===----------------------------------------------------------------------===//

#include "CudaRuntime.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>

namespace {

class NoDriverEnvironment : public ::testing::Environment {
public:
  void SetUp() override {
    // Before the runtime's first use, which loads the driver once.
    ::setenv("ATTNFLOW_CUDA_DRIVER", "/nonexistent/attnflow/libcuda.so.1", 1);
  }
};

const ::testing::Environment *const environment =
    ::testing::AddGlobalTestEnvironment(new NoDriverEnvironment);

std::string error() {
  const char *text = attnflowCudaGetError();
  return text ? text : "";
}

TEST(CudaRuntimeNoDriver, InitFailsWithAClearMessage) {
  EXPECT_NE(attnflowCudaInit(), 0);
  EXPECT_EQ(error().rfind("no CUDA driver: ", 0), 0u) << error();
  EXPECT_NE(error().find("/nonexistent/attnflow/libcuda.so.1"),
            std::string::npos)
      << error();
  EXPECT_EQ(error().find('\n'), std::string::npos);
  // The outcome is kept; the message survives clearing.
  attnflowCudaClearError();
  EXPECT_EQ(attnflowCudaGetError(), nullptr);
  EXPECT_NE(attnflowCudaInit(), 0);
  EXPECT_EQ(error().rfind("no CUDA driver: ", 0), 0u) << error();
}

TEST(CudaRuntimeNoDriver, EntryPointsDoNothing) {
  attnflowCudaClearError();
  char image[] = "not a cubin";
  EXPECT_EQ(mgpuModuleLoad(image, sizeof(image)), nullptr);
  EXPECT_EQ(mgpuModuleLoadJIT(image, 2), nullptr);
  EXPECT_EQ(mgpuModuleGetFunction(nullptr, "kernel"), nullptr);
  mgpuModuleUnload(nullptr);
  mgpuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr, 0);
  mgpuLaunchClusterKernel(nullptr, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, nullptr,
                          nullptr, nullptr);
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  mgpuStreamSynchronize(nullptr);
  mgpuStreamWaitEvent(nullptr, nullptr);
  mgpuStreamDestroy(nullptr);
  EXPECT_EQ(mgpuEventCreate(), nullptr);
  mgpuEventRecord(nullptr, nullptr);
  mgpuEventSynchronize(nullptr);
  mgpuEventDestroy(nullptr);
  EXPECT_EQ(mgpuMemAlloc(16, nullptr, false), nullptr);
  EXPECT_EQ(mgpuMemAlloc(16, nullptr, true), nullptr);
  mgpuMemFree(nullptr, nullptr);
  float host[4] = {1, 2, 3, 4};
  mgpuMemcpy(host, host + 2, 8, nullptr);
  mgpuMemset32(host, 0, 1, nullptr);
  mgpuMemset16(host, 0, 1, nullptr);
  EXPECT_EQ(host[0], 1.0f);
  int64_t descriptor[5] = {0, 0, 0, 4, 1};
  descriptor[0] = descriptor[1] = reinterpret_cast<intptr_t>(host);
  mgpuMemHostRegisterMemRef(1, descriptor, 4);
  mgpuMemHostUnregisterMemRef(1, descriptor, 4);
  int64_t box[1] = {4};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(1, descriptor, 7, 0, 0, 0, 0, box),
            nullptr);
  EXPECT_EQ(error().rfind("no CUDA driver: ", 0), 0u) << error();
}

TEST(CudaRuntimeNoDriver, HelpersFail) {
  attnflowCudaClearError();
  EXPECT_EQ(attnflowCudaAlloc(16), nullptr);
  EXPECT_EQ(error().rfind("no CUDA driver: ", 0), 0u) << error();
  float a = 1, b = 2;
  EXPECT_NE(attnflowCudaMemcpy(&a, &b, 4), 0);
  EXPECT_EQ(a, 1.0f);
  EXPECT_EQ(attnflowCudaFree(nullptr), 0);
  EXPECT_NE(attnflowCudaSynchronize(), 0);
  char text[64] = "unchanged";
  EXPECT_NE(attnflowCudaDescribeDevice(text, sizeof(text)), 0);
  EXPECT_EQ(std::string(text), "unchanged");
  EXPECT_EQ(attnflowCudaTimerEventCreate(), nullptr);
  EXPECT_NE(attnflowCudaEventRecord(nullptr), 0);
  float ms = -1;
  EXPECT_NE(attnflowCudaEventElapsedMs(nullptr, nullptr, &ms), 0);
  EXPECT_EQ(ms, -1.0f);
  attnflowCudaEventDestroy(nullptr);
}

} // namespace
