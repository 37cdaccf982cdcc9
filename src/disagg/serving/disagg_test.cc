#include "disagg/serving/disagg.h"

#include <gtest/gtest.h>

#include "disagg/testing/fixtures.h"

namespace disagg::serving {
namespace {

// Prefill: 2 requests/s per 4-GPU instance; decode: 1 request/s per 8-GPU
// instance; OSL 100.
const PoolRate kPrefill{2.0, 4};
const PoolRate kDecode{1.0, 8};

TEST(RateMatching, ContinuousOptimum) {
  // 100 / (4/2 + 8/1) = 100 / 10 = 10 tokens/s/GPU; ratio (4/2)/(8/1) = 0.25.
  EXPECT_DOUBLE_EQ(ContinuousTokensPerGpu(kPrefill, kDecode, 100), 10.0);
  EXPECT_DOUBLE_EQ(ContinuousCtxGenRatio(kPrefill, kDecode), 0.25);
}

TEST(RateMatching, IntegerCountsUnderABudget) {
  // Budget 12: only x = 1, y = 1 fits (12 GPUs): min(2, 1) = 1 request/s ->
  // 100 / 12 = 8.33 tokens/s/GPU.
  InstanceCounts a = SolveInstanceCounts(kPrefill, kDecode, 100, 12);
  EXPECT_EQ(a.prefill, 1);
  EXPECT_EQ(a.decode, 1);
  EXPECT_NEAR(a.tokens_per_s_per_gpu, 100.0 / 12, 1e-12);
  // Budget 19: (1,1) = 8.33 beats (2,1) = min(4,1) x 100 / 16 = 6.25.
  EXPECT_EQ(SolveInstanceCounts(kPrefill, kDecode, 100, 19).decode, 1);
  // Budget 20: (1,2) uses 20 GPUs for min(2,2) = 2 requests/s -> 10, the
  // continuous optimum.
  InstanceCounts b = SolveInstanceCounts(kPrefill, kDecode, 100, 20);
  EXPECT_EQ(b.prefill, 1);
  EXPECT_EQ(b.decode, 2);
  EXPECT_DOUBLE_EQ(b.tokens_per_s_per_gpu, 10.0);
  // Budget 40: (2,4) also reaches 10 with 4 requests/s; ties prefer the
  // larger deployment.
  InstanceCounts c = SolveInstanceCounts(kPrefill, kDecode, 100, 40);
  EXPECT_EQ(c.prefill, 2);
  EXPECT_EQ(c.decode, 4);
  // Budget 11: not even one of each.
  EXPECT_FALSE(SolveInstanceCounts(kPrefill, kDecode, 100, 11).ok());
}

TEST(RateMatching, ExhaustiveEnumerationAgrees) {
  // Brute force over all (x, y) for an awkward pair of rates.
  PoolRate p{3.7, 2}, d{1.3, 8};
  for (int budget : {10, 17, 33, 64, 100}) {
    double best = 0;
    for (int x = 1; x * p.gpus <= budget; ++x) {
      for (int y = 1; x * p.gpus + y * d.gpus <= budget; ++y) {
        double rate = std::min(x * p.requests_per_s, y * d.requests_per_s);
        best = std::max(best, 50 * rate / (x * p.gpus + y * d.gpus));
      }
    }
    EXPECT_NEAR(SolveInstanceCounts(p, d, 50, budget).tokens_per_s_per_gpu, best, 1e-12)
        << "budget " << budget;
  }
}

TEST(RateMatching, SmallestNearOptimal) {
  // (1, 2) reaches the continuous optimum exactly with 20 GPUs.
  InstanceCounts c = SmallestNearOptimal(kPrefill, kDecode, 100, 0.98, 1000);
  EXPECT_EQ(c.prefill, 1);
  EXPECT_EQ(c.decode, 2);
}

TEST(KvTransfer, LayerwiseOverlapExposesTheLastLayer) {
  auto sys = testing::IdealSystem();
  sys.calibration.comm_bw_eff = 1;
  // 80 MB per request over 4 prefill GPUs on NVLink (100 GB/s each):
  // 80e6 / 4e11 = 200 us in all; 80 layers -> 2.5 us exposed + 1 us latency.
  KvTransfer k = EvaluateKvTransfer(sys, 80e6, 1.0, 0.5, 4, 0.1, 80, true);
  EXPECT_NEAR(k.exposed_s, 2.5e-6 + 1e-6, 1e-12);
  EXPECT_DOUBLE_EQ(k.egress_bytes_per_s_per_gpu, 80e6);
  EXPECT_DOUBLE_EQ(k.ingress_bytes_per_s_per_gpu, 40e6);
  EXPECT_TRUE(k.feasible);
  // Over the 10 GB/s scale-out with a prefill of only 1 ms the transfer
  // (80e6 / 4e10 = 2 ms) outlasts the compute: 2 - 1 + 0.025 ms exposed.
  KvTransfer slow = EvaluateKvTransfer(sys, 80e6, 1.0, 0.5, 4, 1e-3, 80, false);
  EXPECT_NEAR(slow.exposed_s, 10e-6 + 1e-3 + 25e-6, 1e-12);
  // 200 requests/s/GPU x 80 MB = 16 GB/s > 10 GB/s: infeasible.
  EXPECT_FALSE(EvaluateKvTransfer(sys, 80e6, 200, 1, 4, 1, 80, false).feasible);
}

TEST(RateMatching, CountsForDemandWithinBudget) {
  // Prefill 2 req/s per 4 GPUs, decode 1 req/s per 8 GPUs. Demand 5 req/s:
  // x = ceil(5 / 2) = 3, y = ceil(5 / 1) = 5: 3 x 4 + 5 x 8 = 52 GPUs.
  auto c = CountsForDemand(kPrefill, kDecode, 5, 5, 100, 64);
  EXPECT_EQ(c.prefill, 3);
  EXPECT_EQ(c.decode, 5);
  EXPECT_EQ(c.gpus, 52);
  EXPECT_DOUBLE_EQ(c.requests_per_s, 5);  // min(6, 5)
  // Exactly 4 req/s needs x = 2, not 3; local prefills can make the two
  // demands differ: prefill 1 req/s, decode 3: x = 1, y = 3 (28 GPUs).
  EXPECT_EQ(CountsForDemand(kPrefill, kDecode, 4, 4, 100, 64).prefill, 2);
  auto local = CountsForDemand(kPrefill, kDecode, 1, 3, 100, 64);
  EXPECT_EQ(local.prefill, 1);
  EXPECT_EQ(local.decode, 3);
  EXPECT_EQ(local.gpus, 28);
  // No demand still keeps one instance of each.
  EXPECT_EQ(CountsForDemand(kPrefill, kDecode, 0, 0, 100, 64).gpus, 12);
}

TEST(RateMatching, CountsForDemandOverBudget) {
  // Demand 10 req/s would need 5 x 4 + 10 x 8 = 100 GPUs; the budget is 40.
  // Candidates (x, most y): (1, 4) serves min(2/10, 4/10) = 0.2;
  // (2, 4) min(0.4, 0.4) = 0.4; (3, 3) min(0.6, 0.3) = 0.3; (4, 3) 0.3;
  // (5, 2) 0.2; (6, 2) 0.2; (7, 1); (8, 1): 0.1. Best (2, 4) = 40 GPUs.
  auto c = CountsForDemand(kPrefill, kDecode, 10, 10, 100, 40);
  EXPECT_EQ(c.prefill, 2);
  EXPECT_EQ(c.decode, 4);
  EXPECT_DOUBLE_EQ(c.requests_per_s, 4);
  // Budget 44: (3, 4) serves min(0.6, 0.4) = 0.4 like (2, 4) but with more
  // GPUs; the tie goes to fewer GPUs.
  EXPECT_EQ(CountsForDemand(kPrefill, kDecode, 10, 10, 100, 44).gpus, 40);
  // A demand beyond any fleet (no integer overflow) gets the best split.
  auto huge = CountsForDemand(kPrefill, kDecode, 1e12, 1e12, 100, 40);
  EXPECT_EQ(huge.prefill, 2);
  EXPECT_EQ(huge.decode, 4);
  // One of each does not fit in 11 GPUs.
  EXPECT_FALSE(CountsForDemand(kPrefill, kDecode, 1, 1, 100, 11).ok());
}

}  // namespace
}  // namespace disagg::serving
