// The KV-cache budget each engine hands out, by hand, and the properties the
// rules share (more weights never leave more cache; none hands out more than
// is free).
#include "disagg/parallel/memory.h"

#include <gtest/gtest.h>

namespace disagg::parallel {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;
constexpr double kMiB = 1024.0 * 1024;

TEST(SglangReservedBytes, FollowsTheEngineDefaultRule) {
  // 80 GiB (H100), tp 1: chunk 8192, 512 MiB + 1.5 MiB x 8192 + 1/8 GiB =
  // 0.5 + 12 + 0.125 = 12.625 GiB, above the 10 GiB floor.
  EXPECT_NEAR(SglangReservedBytes(80 * kGiB, perf::Mapping{1, 1, 1, 1, 1}), 12.625 * kGiB, 1);
  // 179 GiB (B200), tp 8: chunk 16384, 0.5 + 24 + 1 = 25.5 GiB.
  EXPECT_NEAR(SglangReservedBytes(179 * kGiB, perf::Mapping{8, 1, 1, 1, 8}), 25.5 * kGiB, 1);
  // 24 GiB: chunk 2048, 0.5 + 3 + 0.125 = 3.625 GiB, no floor below 60 GiB.
  EXPECT_NEAR(SglangReservedBytes(24 * kGiB, perf::Mapping{1, 1, 1, 1, 1}), 3.625 * kGiB, 1);
  // 64 GiB, tp 1: chunk 8192 gives 12.625 GiB again; tp 2 pp 2 adds 0.5 GiB
  // where the tp 1 rule adds 0.125.
  EXPECT_NEAR(SglangReservedBytes(64 * kGiB, perf::Mapping{2, 2, 1, 1, 1}),
              (512 + 1.5 * 8192) * kMiB + 0.5 * kGiB, 1);
}

TEST(KvBudget, EachEngineByHand) {
  hardware::Calibration cal;
  cal.kv_cache_fraction = 0.9;
  const perf::Mapping tp1{1, 1, 1, 1, 1};
  const double hbm = 80 * kGiB, reserve = 3 * kGiB, weights = 40 * kGiB, act = 1 * kGiB;
  // Free: 80 - 3 - 40 - 1 = 36 GiB.
  // TensorRT-LLM: 0.9 of the free memory, 32.4 GiB.
  EXPECT_NEAR(KvBudget(hardware::Backend::kTrtllm, cal, tp1, hbm, reserve, weights, act),
              32.4 * kGiB, 1);
  // vLLM: 0.9 x 80 = 72 GiB for everything, 72 - 3 - 40 - 1 = 28 GiB.
  EXPECT_NEAR(KvBudget(hardware::Backend::kVllm, cal, tp1, hbm, reserve, weights, act), 28 * kGiB,
              1);
  // SGLang by default: 80 - 12.625 (its reserve, activations included) - 40
  // = 27.375 GiB.
  EXPECT_NEAR(KvBudget(hardware::Backend::kSglang, cal, tp1, hbm, reserve, weights, act),
              27.375 * kGiB, 1);
  // SGLang launched with --mem-fraction-static 0.85: 0.85 x 80 - 40 = 28 GiB.
  EXPECT_NEAR(KvBudget(hardware::Backend::kSglang, cal, tp1, hbm, reserve, weights, act, 0.85),
              28 * kGiB, 1);
  // ... but never more than is free: at 0.99, 79.2 - 40 = 39.2 > 36 GiB.
  EXPECT_NEAR(KvBudget(hardware::Backend::kSglang, cal, tp1, hbm, reserve, weights, act, 0.99),
              36 * kGiB, 1);
  // Weights beyond what a rule leaves: nothing, never negative (vLLM: 72 - 3
  // - 70 - 1 < 0).
  EXPECT_EQ(KvBudget(hardware::Backend::kVllm, cal, tp1, hbm, reserve, 70 * kGiB, act), 0);
  EXPECT_EQ(KvBudget(hardware::Backend::kSglang, cal, tp1, hbm, reserve, 70 * kGiB, act), 0);
}

TEST(KvBudget, MoreWeightsNeverLeaveMoreCache) {
  hardware::Calibration cal;
  const perf::Mapping tp8{8, 1, 1, 1, 8};
  for (auto b :
       {hardware::Backend::kTrtllm, hardware::Backend::kVllm, hardware::Backend::kSglang}) {
    double last = 1e300;
    for (double w = 0; w <= 200 * kGiB; w += 5 * kGiB) {
      const double kv = KvBudget(b, cal, tp8, 179 * kGiB, 3 * kGiB, w, 2 * kGiB);
      EXPECT_LE(kv, last) << hardware::BackendName(b) << " at " << w / kGiB << " GiB";
      EXPECT_LE(kv, std::max(0.0, 179 * kGiB - 3 * kGiB - w - 2 * kGiB));
      EXPECT_GE(kv, 0);
      last = kv;
    }
  }
}

}  // namespace
}  // namespace disagg::parallel
