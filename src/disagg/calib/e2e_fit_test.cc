#include "disagg/calib/e2e_fit.h"

#include <gtest/gtest.h>

#include <cmath>

namespace disagg::calib {
namespace {

TEST(FitLossTest, NamesRoundTripAndUnknownNamesAreErrors) {
  for (FitLoss l : {FitLoss::kAbsolutePercent, FitLoss::kHuberLog}) {
    auto parsed = ParseFitLoss(FitLossName(l));
    ASSERT_TRUE(parsed) << FitLossName(l);
    EXPECT_EQ(*parsed, l);
  }
  auto bad = ParseFitLoss("mse");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'mse'"), std::string::npos) << bad.error().message;
}

TEST(FitLossTest, DefaultIsTheTargetsMeasureWithEqualWeights) {
  E2eFitOptions o;
  EXPECT_EQ(o.loss, FitLoss::kAbsolutePercent);
  EXPECT_EQ(o.ttft_weight, 1.0);
  EXPECT_NE(DescribeLoss(o).find("mean absolute percentage error"), std::string::npos);
}

TEST(FitLossTest, AbsolutePercentRowLossByHand) {
  E2eFitOptions o;
  o.ttft_weight = 2;
  // TTFT predicted 1.5x the measurement, TPOT 0.8x: 2 x |1.5 - 1| + |0.8 - 1| = 1.0 + 0.2.
  EXPECT_NEAR(FitRowLoss(o, 1.5, 0.8, true), 1.2, 1e-12);
  // A single-token output has no TPOT term: 2 x 0.5.
  EXPECT_NEAR(FitRowLoss(o, 1.5, 0.8, false), 1.0, 1e-12);
  // Exact predictions cost nothing.
  EXPECT_EQ(FitRowLoss(o, 1.0, 1.0, true), 0.0);
  // Unlike the log loss, halving and doubling differ: |0.5 - 1| = 0.5 < |2 - 1| = 1,
  // as they do in the MAPE the targets are stated in.
  o.ttft_weight = 1;
  EXPECT_NEAR(FitRowLoss(o, 0.5, 1.0, true), 0.5, 1e-12);
  EXPECT_NEAR(FitRowLoss(o, 2.0, 1.0, true), 1.0, 1e-12);
}

TEST(FitLossTest, HuberLogRowLossByHand) {
  E2eFitOptions o;
  o.loss = FitLoss::kHuberLog;
  o.huber = 0.1;
  o.ttft_weight = 0.5;
  // Inside the knee the loss is the squared log error: TPOT ratio e^0.05 -> 0.0025.
  EXPECT_NEAR(FitRowLoss(o, 1.0, std::exp(0.05), true), 0.0025, 1e-12);
  // Beyond it, linear: |log| = 0.5 -> 0.1 x (2 x 0.5 - 0.1) = 0.09, weighted 0.5 -> 0.045;
  // halving and doubling cost the same.
  EXPECT_NEAR(FitRowLoss(o, std::exp(0.5), 1.0, true), 0.045, 1e-12);
  EXPECT_NEAR(FitRowLoss(o, std::exp(-0.5), 1.0, true), 0.045, 1e-12);
  EXPECT_NE(DescribeLoss(o).find("Huber loss (knee 0.1)"), std::string::npos) << DescribeLoss(o);
}

}  // namespace
}  // namespace disagg::calib
