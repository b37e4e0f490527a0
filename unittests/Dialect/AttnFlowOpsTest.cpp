//===- AttnFlowOpsTest.cpp - Building and verifying attnflow ops ----------===//
//
// The C++ API an embedder uses: build ops with the generated builders, read
// the effective defaults, and get located verifier diagnostics.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Dialect/AttnFlow/IR/AttnFlowOps.h"
#include "attnflow/InitAttnFlow.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <cmath>
#include <string>

using namespace mlir;
using namespace mlir::attnflow;

namespace {

class AttnFlowOpsTest : public ::testing::Test {
protected:
  AttnFlowOpsTest() {
    DialectRegistry registry;
    registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// A function `@f` whose arguments have `argTypes`, builder at its body.
  func::FuncOp makeFunc(ModuleOp module, ArrayRef<Type> argTypes,
                        OpBuilder &builder) {
    builder.setInsertionPointToEnd(module.getBody());
    auto func = func::FuncOp::create(builder, loc, "f",
                                     builder.getFunctionType(argTypes, {}));
    builder.setInsertionPointToStart(func.addEntryBlock());
    return func;
  }

  RankedTensorType f32Tensor(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&context));
  }

  MLIRContext context;
  Location loc = UnknownLoc::get(&context);
};

TEST_F(AttnFlowOpsTest, BuildRopeAndAttentionWithDefaults) {
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  auto qType = f32Tensor({1, 8, 16, 64});
  auto kvType = f32Tensor({1, 2, 24, 64});
  auto posType = RankedTensorType::get({16}, builder.getI64Type());
  func::FuncOp func =
      makeFunc(*module, {qType, kvType, kvType, posType}, builder);
  Block &body = func.getBody().front();

  // Generic builders: absent attributes take their documented defaults.
  auto rope = RopeOp::create(builder, loc, TypeRange{qType},
                             ValueRange{body.getArgument(0),
                                        body.getArgument(3)});
  auto attention = AttentionOp::create(
      builder, loc, TypeRange{qType},
      ValueRange{rope.getResult(), body.getArgument(1), body.getArgument(2)});
  attention.setCausal(true);
  func::ReturnOp::create(builder, loc);

  ASSERT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(rope.getEffectiveRotaryDim(), 64);
  EXPECT_EQ(rope.getTheta().convertToDouble(), 10000.0);
  EXPECT_EQ(rope.getLayout(), RopeLayout::half);
  EXPECT_DOUBLE_EQ(attention.getEffectiveScale(), 1.0 / 8.0);
  EXPECT_EQ(attention.getEffectiveQOffset(), 24 - 16);
  EXPECT_EQ(static_cast<int64_t>(attention.getWindowLeft()), -1);
  EXPECT_TRUE(attention.getCausal());

  // The printed form parses back to an identical module.
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  OwningOpRef<ModuleOp> reparsed =
      parseSourceString<ModuleOp>(printed, &context);
  ASSERT_TRUE(reparsed);
  std::string reprinted;
  llvm::raw_string_ostream os2(reprinted);
  reparsed->print(os2);
  EXPECT_EQ(printed, reprinted);
  EXPECT_NE(printed.find("attnflow.attention"), std::string::npos);
  EXPECT_NE(printed.find("causal = true"), std::string::npos);
}

TEST_F(AttnFlowOpsTest, VerifierNamesOperandExpectedAndActual) {
  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  auto qType = f32Tensor({1, 4, 8, 16});
  auto kvType = f32Tensor({1, 3, 8, 16});
  func::FuncOp func = makeFunc(*module, {qType, kvType, kvType}, builder);
  Block &body = func.getBody().front();
  auto attention = AttentionOp::create(
      builder, loc, TypeRange{qType},
      ValueRange{body.getArgument(0), body.getArgument(1),
                 body.getArgument(2)});

  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(attention)));
  EXPECT_EQ(message, "'attnflow.attention' op expects the query heads Hq = 4 "
                     "to be a multiple of the kv heads Hkv = 3");
}

TEST_F(AttnFlowOpsTest, RopeScalingAttrDefaultsAndVerifier) {
  auto llama3 = RopeScalingAttr::get(
      &context, RopeScalingKind::llama3, llvm::APFloat(8.0), int64_t(8192),
      llvm::APFloat(32.0), llvm::APFloat(1.0), llvm::APFloat(1.0),
      llvm::APFloat(4.0), std::optional<llvm::APFloat>());
  EXPECT_EQ(llama3.getEffectiveAttentionFactor(), 1.0);

  // yarn's default attention factor is 0.1 ln(factor) + 1 (HF get_mscale).
  auto yarn = RopeScalingAttr::get(
      &context, RopeScalingKind::yarn, llvm::APFloat(16.0), int64_t(4096),
      llvm::APFloat(32.0), llvm::APFloat(1.0), llvm::APFloat(1.0),
      llvm::APFloat(4.0), std::optional<llvm::APFloat>());
  EXPECT_DOUBLE_EQ(yarn.getEffectiveAttentionFactor(),
                   0.1 * std::log(16.0) + 1.0);

  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto missing = RopeScalingAttr::getChecked(
      [&] { return emitError(loc); }, &context, RopeScalingKind::yarn,
      llvm::APFloat(4.0), std::optional<int64_t>(), llvm::APFloat(32.0),
      llvm::APFloat(1.0), llvm::APFloat(1.0), llvm::APFloat(4.0),
      std::optional<llvm::APFloat>());
  EXPECT_FALSE(missing);
  EXPECT_EQ(message,
            "rope_scaling kind 'yarn' requires original_max_position");
}

TEST_F(AttnFlowOpsTest, ParserReportsLocatedDiagnostics) {
  const char *source = R"mlir(
func.func @f(%x: tensor<1x2x8x16xf32>, %pos: tensor<7xi64>) -> tensor<1x2x8x16xf32> {
  %0 = attnflow.rope %x, %pos : tensor<1x2x8x16xf32>, tensor<7xi64> -> tensor<1x2x8x16xf32>
  return %0 : tensor<1x2x8x16xf32>
}
)mlir";
  std::string message;
  unsigned line = 0;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    message = diag.str();
    if (auto fileLoc = dyn_cast<FileLineColLoc>(diag.getLocation()))
      line = fileLoc.getLine();
    return success();
  });
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(source, &context, "input.mlir");
  EXPECT_FALSE(module);
  EXPECT_EQ(line, 3u);
  EXPECT_EQ(message, "'attnflow.rope' op expects 'positions' dimension 0 "
                     "(sequence length S of x) to be 8, got 7");
}

} // namespace
