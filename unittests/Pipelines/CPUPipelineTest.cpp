//===- CPUPipelineTest.cpp - Lower and JIT attnflow modules ---------------===//
//
// Runs buildCPUPipeline on a module holding attnflow ops, JIT-compiles the
// result with the ExecutionEngine and calls it through the C interface, as an
// embedder would.
//
//===----------------------------------------------------------------------===//

#include "attnflow/InitAttnFlow.h"
#include "attnflow/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <vector>

using namespace mlir;

namespace {

class CPUPipelineTest : public ::testing::Test {
protected:
  CPUPipelineTest() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    DialectRegistry registry;
    attnflow::registerAllDialects(registry);
    attnflow::registerAllTranslations(registry);
    context.appendDialectRegistry(registry);
  }

  /// Parses `source`, lowers it with the CPU pipeline and JIT-compiles it.
  std::unique_ptr<ExecutionEngine> compile(const char *source) {
    OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return nullptr;
    PassManager pm(&context);
    attnflow::buildCPUPipeline(pm, attnflow::CPUPipelineOptions());
    if (failed(pm.run(*module)))
      return nullptr;
    // ExecutionEngineOptions holds references: keep their targets alive.
    std::function<llvm::Error(llvm::Module *)> optimizer =
        makeOptimizingTransformer(2, 0, nullptr);
    ExecutionEngineOptions options;
    options.transformer = optimizer;
    // Parallel attention tiles call into the OpenMP runtime.
    SmallVector<StringRef, 1> sharedLibs = {ATTNFLOW_OMP_LIBRARY};
    options.sharedLibPaths = sharedLibs;
    auto engine = ExecutionEngine::create(*module, options);
    if (!engine) {
      llvm::consumeError(engine.takeError());
      return nullptr;
    }
    return std::move(*engine);
  }

  static StridedMemRefType<float, 4> view(std::vector<float> &data,
                                          std::array<int64_t, 4> shape) {
    StridedMemRefType<float, 4> desc;
    desc.basePtr = desc.data = data.data();
    desc.offset = 0;
    int64_t stride = 1;
    for (int d = 3; d >= 0; --d) {
      desc.sizes[d] = shape[d];
      desc.strides[d] = stride;
      stride *= shape[d];
    }
    return desc;
  }

  MLIRContext context;
};

TEST_F(CPUPipelineTest, JitCausalAttentionMatchesClosedForm) {
  // q = 0: every visible key scores the same, so causal row i outputs the
  // mean of v[0..i]; with v[j] = j that is i / 2.
  const char *source = R"mlir(
func.func @main(%q: tensor<1x2x5x3xf32>, %k: tensor<1x1x5x3xf32>, %v: tensor<1x1x5x3xf32>) -> tensor<1x2x5x3xf32> {
  %0 = attnflow.attention %q, %k, %v {causal = true} : tensor<1x2x5x3xf32>, tensor<1x1x5x3xf32>, tensor<1x1x5x3xf32> -> tensor<1x2x5x3xf32>
  return %0 : tensor<1x2x5x3xf32>
}
)mlir";
  std::unique_ptr<ExecutionEngine> engine = compile(source);
  ASSERT_TRUE(engine);

  std::vector<float> q(2 * 5 * 3, 0.0f), k(5 * 3), v(5 * 3);
  for (int j = 0; j < 5; ++j)
    for (int d = 0; d < 3; ++d) {
      k[j * 3 + d] = 0.5f * static_cast<float>(j - d);
      v[j * 3 + d] = static_cast<float>(j) + 10.0f * static_cast<float>(d);
    }
  auto qDesc = view(q, {1, 2, 5, 3});
  auto kDesc = view(k, {1, 1, 5, 3});
  auto vDesc = view(v, {1, 1, 5, 3});
  StridedMemRefType<float, 4> result;
  auto *resultPtr = &result;
  auto *qPtr = &qDesc, *kPtr = &kDesc, *vPtr = &vDesc;
  SmallVector<void *> args = {&resultPtr, &qPtr, &kPtr, &vPtr};
  ASSERT_FALSE(static_cast<bool>(
      engine->invokePacked("_mlir_ciface_main", args)));

  ASSERT_EQ(result.sizes[1], 2);
  ASSERT_EQ(result.sizes[2], 5);
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 5; ++i)
      for (int d = 0; d < 3; ++d) {
        float got = result.data[result.offset + h * result.strides[1] +
                                i * result.strides[2] + d * result.strides[3]];
        EXPECT_NEAR(got, 0.5 * i + 10.0 * d, 1e-5)
            << "head " << h << " row " << i << " dim " << d;
      }
  // The pipeline's ABI: results are fresh allocations the caller frees.
  std::free(result.basePtr);
}

TEST_F(CPUPipelineTest, InvalidModuleIsRejectedNotCompiled) {
  // window_left below -1 is a verifier error: compile() must return null
  // through diagnostics, never assert.
  const char *source = R"mlir(
func.func @main(%q: tensor<1x2x5x3xf32>) -> tensor<1x2x5x3xf32> {
  %0 = attnflow.attention %q, %q, %q {window_left = -7 : i64} : tensor<1x2x5x3xf32>, tensor<1x2x5x3xf32>, tensor<1x2x5x3xf32> -> tensor<1x2x5x3xf32>
  return %0 : tensor<1x2x5x3xf32>
}
)mlir";
  context.getDiagEngine().registerHandler([](Diagnostic &) {});
  EXPECT_FALSE(compile(source));
}

} // namespace
