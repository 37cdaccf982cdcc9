#include "disagg/perf/op_cost.h"

#include <gtest/gtest.h>

#include "disagg/testing/fixtures.h"

namespace disagg::perf {
namespace {

TEST(OpCost, LargeGemmIsComputeBound) {
  Device d = Device::FromSystem(testing::IdealSystem());
  // m = n = k = 8192, bf16: 2 x 8192^3 = 1.0995e12 FLOP at 1e15 FLOP/s
  // = 1.0995 ms. Bytes: weights 8192^2 x 2 = 134 MB, activations
  // 8192 x (8192 + 8192) x 2 = 268 MB, total 403 MB at 1e12 B/s = 0.40 ms,
  // so compute bound.
  double expected = 2.0 * 8192.0 * 8192 * 8192 / 1e15;
  EXPECT_NEAR(GemmTime(d, 8192, 8192, 8192, DType::kBf16, DType::kBf16), expected, 1e-9);
  // fp8 math doubles the peak and halves the time.
  EXPECT_NEAR(GemmTime(d, 8192, 8192, 8192, DType::kFp8, DType::kFp8), expected / 2, 1e-9);
}

TEST(OpCost, SingleRowGemmIsWeightBound) {
  Device d = Device::FromSystem(testing::IdealSystem());
  // m = 1, n = k = 8192, bf16 weights: 134,217,728 bytes of weights plus
  // 1 x 16384 x 2 = 32,768 bytes of activations, at 1e12 B/s = 134.25 us.
  // Compute is 2 x 8192^2 / 1e15 = 0.134 us.
  double expected = (8192.0 * 8192 * 2 + 16384.0 * 2) / 1e12;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kBf16, DType::kBf16), expected, 1e-12);
  // fp8 weights move half the bytes.
  double fp8 = (8192.0 * 8192 * 1 + 16384.0 * 2) / 1e12;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kFp8, DType::kFp8), fp8, 1e-12);
}

TEST(OpCost, ComputeEfficiencyRisesWithRows) {
  auto sys = testing::IdealSystem();
  sys.calibration.gemm_m_half = 64;
  Device d = Device::FromSystem(sys);
  // eff(m) = 1 x m / (m + 64). A shape large enough to be compute bound:
  // m = 65536, n = k = 8192 in fp8: compute 2 m n k / (2e15 x 65536/65600)
  // = 4.40 ms; memory (8192^2 x 1 + 65536 x 16384 x 2) / 1e12 = 2.21 ms.
  double m = 65536, n = 8192, k = 8192;
  double eff = m / (m + 64);
  double compute = 2 * m * n * k / (2e15 * eff);
  EXPECT_NEAR(GemmTime(d, m, n, k, DType::kFp8, DType::kFp8), compute, 1e-9);
  // At m = 64 the efficiency is one half: compute 2 x 64 x 65536 x 65536 /
  // (2e15 x 0.5) = 0.55 ms against memory (65536^2 + 64 x 131072 x 2) / 1e12
  // = 4.31 ms: memory bound, unaffected by efficiency.
  EXPECT_NEAR(GemmTime(d, 64, 65536, 65536, DType::kFp8, DType::kFp8),
              (65536.0 * 65536 + 64.0 * 131072 * 2) / 1e12, 1e-12);
}

TEST(OpCost, RingAllReduce) {
  Link nvlink{100e9, 1e-6};
  // 8 GPUs, 16 MiB each: 2 x 7/8 x 16,777,216 B / 1e11 B/s = 293.6 us, plus
  // 2 x 7 hops x 1 us = 14 us: 307.6 us.
  double expected = 2.0 * 7 / 8 * 16777216 / 100e9 + 14e-6;
  EXPECT_NEAR(AllReduceTime(nvlink, 16777216, 8), expected, 1e-12);
  EXPECT_EQ(AllReduceTime(nvlink, 16777216, 1), 0);
}

TEST(OpCost, AllToAllAndPointToPoint) {
  Link l{50e9, 5e-6};
  // All-to-all over 4 GPUs of 8 MB each: 3/4 x 8e6 / 5e10 = 120 us + 5 us.
  EXPECT_NEAR(AllToAllTime(l, 8e6, 4), 125e-6, 1e-12);
  // Point to point 1 MB: 1e6 / 5e10 = 20 us + 5 us.
  EXPECT_NEAR(PointToPointTime(l, 1e6), 25e-6, 1e-12);
}

TEST(OpCost, LinkChoiceFollowsTheNvlinkDomain) {
  Device d = Device::FromSystem(testing::IdealSystem());
  EXPECT_EQ(d.LinkFor(8).bw, 100e9);
  EXPECT_EQ(d.LinkFor(16).bw, 10e9);
}

}  // namespace
}  // namespace disagg::perf
