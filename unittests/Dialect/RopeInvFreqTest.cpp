//===- RopeInvFreqTest.cpp - RoPE frequency tables ------------------------===//
//
// computeRopeInvFreq against values written out by hand from Hugging Face
// transformers' modeling_rope_utils.py formulas.
//
//===----------------------------------------------------------------------===//

#include "attnflow/Conversion/AttnFlowToLinalg/AttnFlowToLinalg.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowAttrs.h"
#include "attnflow/Dialect/AttnFlow/IR/AttnFlowDialect.h"

#include "mlir/IR/MLIRContext.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attnflow;

namespace {

RopeScalingAttr scaling(MLIRContext &ctx, RopeScalingKind kind, double factor,
                        std::optional<int64_t> l0) {
  return RopeScalingAttr::get(&ctx, kind, llvm::APFloat(factor), l0,
                              llvm::APFloat(32.0), llvm::APFloat(1.0),
                              llvm::APFloat(1.0), llvm::APFloat(4.0),
                              std::optional<llvm::APFloat>());
}

class RopeInvFreqTest : public ::testing::Test {
protected:
  RopeInvFreqTest() { context.loadDialect<AttnFlowDialect>(); }
  MLIRContext context;
};

TEST_F(RopeInvFreqTest, Unscaled) {
  // theta^(-2i/r) with theta = 1e4, r = 4: 1, 1e-2.
  SmallVector<double> f = computeRopeInvFreq(4, 10000.0, RopeScalingAttr());
  ASSERT_EQ(f.size(), 2u);
  EXPECT_DOUBLE_EQ(f[0], 1.0);
  EXPECT_DOUBLE_EQ(f[1], 0.01);
}

TEST_F(RopeInvFreqTest, LinearAndNtk) {
  SmallVector<double> linear = computeRopeInvFreq(
      4, 10000.0, scaling(context, RopeScalingKind::linear, 4.0, std::nullopt));
  EXPECT_DOUBLE_EQ(linear[0], 0.25);
  EXPECT_DOUBLE_EQ(linear[1], 0.0025);
  // ntk: theta' = 1e4 * 4^(4/2) = 1.6e5, inv_freq_1 = 1.6e5^(-1/2).
  SmallVector<double> ntk = computeRopeInvFreq(
      4, 10000.0, scaling(context, RopeScalingKind::ntk, 4.0, std::nullopt));
  EXPECT_DOUBLE_EQ(ntk[0], 1.0);
  EXPECT_NEAR(ntk[1], 1.0 / 400.0, 1e-15);
}

TEST_F(RopeInvFreqTest, Yarn) {
  // r = 4, L0 = 64: correction dims -0.249 -> 0 and 0.504 -> 1, so pair 0
  // extrapolates (1) and pair 1 interpolates (0.01 / 4).
  SmallVector<double> f = computeRopeInvFreq(
      4, 10000.0, scaling(context, RopeScalingKind::yarn, 4.0, 64));
  EXPECT_DOUBLE_EQ(f[0], 1.0);
  EXPECT_DOUBLE_EQ(f[1], 0.0025);
}

TEST_F(RopeInvFreqTest, Llama3) {
  // theta 5e5, r = 8, factor 8, L0 8192, low 1, high 4: wavelengths 6.28 and
  // 167 are kept, 118143 is divided by 8, 4442.9 is smoothed with
  // s = (8192 / 4442.9 - 1) / 3.
  SmallVector<double> f = computeRopeInvFreq(
      8, 500000.0, scaling(context, RopeScalingKind::llama3, 8.0, 8192));
  double base2 = std::pow(500000.0, -0.5), base3 = std::pow(500000.0, -0.75);
  double s = (8192.0 / (2.0 * M_PI / base2) - 1.0) / 3.0;
  EXPECT_DOUBLE_EQ(f[0], 1.0);
  EXPECT_DOUBLE_EQ(f[1], std::pow(500000.0, -0.25));
  EXPECT_NEAR(f[2], (1.0 - s) * base2 / 8.0 + s * base2, 1e-18);
  EXPECT_NEAR(f[3], base3 / 8.0, 1e-18);
  EXPECT_NEAR(f[2], 5.2484614e-4, 1e-10);
}

} // namespace
