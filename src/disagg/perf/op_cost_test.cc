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
  // fp8 math doubles the peak and halves the time, after a kernel that
  // quantises the 8192 x 8192 activations (read 2 B, write 1 B: 201 MB ->
  // 201 us).
  EXPECT_NEAR(GemmTime(d, 8192, 8192, 8192, DType::kFp8, DType::kFp8),
              expected / 2 + 8192.0 * 8192 * 3 / 1e12, 1e-9);
}

TEST(OpCost, EngineGemmRatesScaleServingStepsOnly) {
  auto sys = testing::IdealSystem();
  sys.calibration.engine_gemm_bf16 = 0.5;
  sys.calibration.gemm_eff_fp8 = 0.6;
  sys.calibration.engine_gemm_fp8 = 1.25;
  sys.calibration.engine_gemm_w4a16 = 0.4;
  Device d = Device::FromSystem(sys);
  // Serving: bf16 at 1e15 x 1 x 0.5 = 5e14 FLOP/s, fp8 at 2e15 x 0.6 x 1.25
  // = 1.5e15.
  EXPECT_DOUBLE_EQ(d.flops[static_cast<int>(DType::kBf16)], 5e14);
  EXPECT_DOUBLE_EQ(d.flops[static_cast<int>(DType::kFp8)], 1.5e15);
  // Never above the dense peak: bf16 at 1 x 1.25 runs at 1e15, not 1.25e15.
  auto fast = sys;
  fast.calibration.engine_gemm_bf16 = 1.25;
  EXPECT_DOUBLE_EQ(Device::FromSystem(fast).flops[static_cast<int>(DType::kBf16)], 1e15);
  // m = n = k = 8192 bf16 (compute bound, see above): 2 x 8192^3 / 5e14 =
  // 2.199 ms, twice the benchmarked kernel's time.
  EXPECT_NEAR(GemmTime(d, 8192, 8192, 8192, DType::kBf16, DType::kBf16),
              2.0 * 8192.0 * 8192 * 8192 / 5e14, 1e-9);
  // Weight-only 4-bit GEMMs (int4 or fp4 weights, bf16 math) run at their
  // own rate, 0.4 of the benchmarked bf16 one: 4e14 FLOP/s; 4-bit weights with
  // their own math do not.
  EXPECT_DOUBLE_EQ(GemmRate(d, DType::kInt4, DType::kBf16), 4e14);
  EXPECT_DOUBLE_EQ(GemmRate(d, DType::kNvfp4, DType::kBf16), 4e14);
  EXPECT_DOUBLE_EQ(GemmRate(d, DType::kBf16, DType::kBf16), 5e14);
  EXPECT_DOUBLE_EQ(GemmRate(d, DType::kInt4, DType::kFp8), 1.5e15);
  // A grouped expert GEMM of them: 4 experts x 2048 rows each (whole
  // 16-row tiles, no padding), n = k = 4096: 2 x 8192 x 4096^2 / 4e14 = 687 us of math
  // against (4 x 4096^2 x 0.5 B + 8192 x 8192 x 2 B) / 1e12 = 168 us of
  // bytes (int4 weights with their group scales counted as 0.5 B here).
  QuantMode w4a16{DType::kInt4, DType::kBf16, false};
  const double math = 2.0 * 8192 * 4096.0 * 4096 / 4e14;
  EXPECT_NEAR(GroupedGemmTime(d, 8192, 4, 4096, 4096, w4a16), math, 1e-9);
  // Single-kernel benchmarks (KernelView) run the benchmarked kernels.
  Device bench = Device::FromSystem(hardware::KernelView(sys));
  EXPECT_DOUBLE_EQ(bench.weight_only_flops, 1e15);
  EXPECT_DOUBLE_EQ(bench.flops[static_cast<int>(DType::kBf16)], 1e15);
  EXPECT_DOUBLE_EQ(bench.flops[static_cast<int>(DType::kFp8)], 1.2e15);  // 2e15 x 0.6
}

TEST(OpCost, SingleRowGemmIsWeightBound) {
  Device d = Device::FromSystem(testing::IdealSystem());
  // m = 1, n = k = 8192, bf16 weights: 134,217,728 bytes of weights plus
  // 1 x 16384 x 2 = 32,768 bytes of activations, at 1e12 B/s = 134.25 us.
  // Compute is 2 x 8192^2 / 1e15 = 0.134 us.
  double expected = (8192.0 * 8192 * 2 + 16384.0 * 2) / 1e12;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kBf16, DType::kBf16), expected, 1e-12);
  // fp8 weights move half the bytes; quantising one row moves 8192 x 3 B.
  double fp8 = (8192.0 * 8192 * 1 + 16384.0 * 2) / 1e12 + 8192.0 * 3 / 1e12;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kFp8, DType::kFp8), fp8, 1e-12);
}

TEST(OpCost, TileQuantisationPadsRows) {
  auto sys = testing::IdealSystem();
  sys.calibration.gemm_tile_rows = 64;
  Device d = Device::FromSystem(sys);
  // n = k = 8192 in bf16 (1 PFLOP/s). m = 65 rows
  // would compute as 128 rows but is weight bound (134 MB -> 134 us), so use
  // m = 4097: padded 4160 rows, compute 2 x 4160 x 8192^2 / 1e15 = 558 us;
  // memory (134,217,728 + 4097 x 16384 x 2) / 1e12 = 268 us.
  double padded = 2.0 * 4160 * 8192 * 8192 / 1e15;
  EXPECT_NEAR(GemmTime(d, 4097, 8192, 8192, DType::kBf16, DType::kBf16), padded, 1e-12);
  EXPECT_DOUBLE_EQ(PaddedRows(d, 8), 64.0);
  EXPECT_DOUBLE_EQ(PaddedRows(d, 64), 64.0);
  EXPECT_DOUBLE_EQ(PaddedRows(d, 64.5), 128.0);
  // Grouped expert GEMMs pad each expert's rows separately, to the smallest
  // power-of-two tile of at least 16 rows that holds them, at most the dense
  // tile (64 here): 8 rows -> 16, 17 -> 32, 33 -> 64, 65 -> 2 x 64.
  EXPECT_DOUBLE_EQ(ExpertPaddedRows(d, 1), 16.0);
  EXPECT_DOUBLE_EQ(ExpertPaddedRows(d, 8), 16.0);
  EXPECT_DOUBLE_EQ(ExpertPaddedRows(d, 17), 32.0);
  EXPECT_DOUBLE_EQ(ExpertPaddedRows(d, 33), 64.0);
  EXPECT_DOUBLE_EQ(ExpertPaddedRows(d, 65), 128.0);
  // 4 experts sharing 32 rows (8 each) compute 4 x 16 rows: with n = k =
  // 8192 in bf16 at 1 PFLOP/s (moe_gemm_eff 1), 2 x 64 x 8192^2 / 1e15 =
  // 8.6 us, far below the 4 x 134 MB of weights (537 us): weight bound.
  double weights = (4.0 * 8192 * 8192 * 2 + 32.0 * 16384 * 2) / 1e12;
  EXPECT_NEAR(GroupedGemmTime(d, 32, 4, 8192, 8192, BytesPerElement(DType::kBf16), DType::kBf16),
              weights, 1e-12);
}

TEST(OpCost, LowPrecisionMathQuantisesActivationsFirst) {
  auto sys = testing::IdealSystem();
  sys.calibration.kernel_overhead = 1e-6;
  Device d = Device::FromSystem(sys);
  // In a stand-alone kernel measurement the quantise step is its own launch;
  // inside a serving graph it is fused (quantize_overhead 0 by default).
  EXPECT_EQ(d.quantize_overhead, 0);
  d.quantize_overhead = d.kernel_overhead;
  // m = 1, n = k = 8192: fp8 GEMM is weight bound: (8192^2 + 16384 x 2) /
  // 1e12 = 67.14 us + 1 us overhead; the quantise kernel moves 8192 x 3 bytes
  // = 24.6 ns + 1 us overhead.
  double gemm = (8192.0 * 8192 + 16384.0 * 2) / 1e12 + 1e-6;
  double quant = 8192.0 * 3 / 1e12 + 1e-6;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kFp8, DType::kFp8), gemm + quant, 1e-12);
  // bf16 math has no quantise step.
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, DType::kBf16, DType::kBf16),
              (8192.0 * 8192 * 2 + 16384.0 * 2) / 1e12 + 1e-6, 1e-12);
}

TEST(OpCost, BlockScaledFp8AddsItsQuantisationCost) {
  Device d = Device::FromSystem(testing::IdealSystem());
  d.block_quant_overhead = 5e-6;
  QuantMode tensor{DType::kFp8, DType::kFp8, false}, block{DType::kFp8, DType::kFp8, true};
  // Same bytes and math: m = 1, n = k = 8192 fp8 reads (8192^2 + 16384 x 2)
  // / 1e12 = 67.14 us, and quantising the row moves 8192 x 3 bytes (24.6 ns),
  // either way; the block-scaled GEMM pays 5 us more, once per GEMM and once
  // per grouped expert GEMM (not per expert).
  double gemm = (8192.0 * 8192 + 16384.0 * 2 + 8192.0 * 3) / 1e12;
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, tensor), gemm, 1e-12);
  EXPECT_NEAR(GemmTime(d, 1, 8192, 8192, block), gemm + 5e-6, 1e-12);
  EXPECT_NEAR(
      GroupedGemmTime(d, 8, 4, 8192, 8192, block) - GroupedGemmTime(d, 8, 4, 8192, 8192, tensor),
      5e-6, 1e-12);
  // An empty GEMM costs nothing, scales or not.
  EXPECT_EQ(GemmTime(d, 0, 8192, 8192, block), 0);
  // The file's quant-mode names: fp8_block is block-scaled, fp8 is not.
  EXPECT_TRUE(ParseQuantMode("fp8_block", "q")->block_scaled);
  // FP4 weights, BF16 math (GPUs without FP4 tensor cores).
  EXPECT_EQ(ParseQuantMode("fp4_wo", "q")->weight, DType::kNvfp4);
  EXPECT_EQ(ParseQuantMode("fp4_wo", "q")->compute, DType::kBf16);
  EXPECT_FALSE(ParseQuantMode("fp8", "q")->block_scaled);
}

TEST(OpCost, RingAllReduce) {
  Link nvlink{100e9, 3e-6, 1e-6, true};
  // 8 GPUs, 16 MiB each: ring 2 x 7/8 x 16,777,216 B / 1e11 B/s = 293.6 us,
  // plus 2 x 7 hops x 1 us = 14 us: 307.6 us. One-shot would move 7 x 16 MiB
  // = 1174 us: the ring wins.
  double expected = 2.0 * 7 / 8 * 16777216 / 100e9 + 14e-6;
  EXPECT_NEAR(AllReduceTime(nvlink, 16777216, 8), expected, 1e-12);
  EXPECT_EQ(AllReduceTime(nvlink, 16777216, 1), 0);
  // 16 KiB: ring 2 x 7/8 x 16384 / 1e11 + 14 us = 14.29 us; one-shot
  // 7 x 16384 / 1e11 + 3 us = 4.15 us: the one-shot kernel wins.
  EXPECT_NEAR(AllReduceTime(nvlink, 16384, 8), 7.0 * 16384 / 100e9 + 3e-6, 1e-12);
  // Across nodes there is no one-shot kernel; for 16 KiB over 8 GPUs the
  // tree (2 x 16384 / 1e10 + 2 x 3 hops x 5 us = 33.3 us) beats the ring
  // (2 x 7/8 x 16384 / 1e10 + 14 x 5 us = 72.9 us).
  Link ib{10e9, 10e-6, 5e-6, false};
  EXPECT_NEAR(AllReduceTime(ib, 16384, 8), 2.0 * 16384 / 10e9 + 30e-6, 1e-12);
  // 64 MiB over 8 GPUs: the ring moves 2 x 7/8 of the bytes, the tree twice
  // them: ring 2 x 7/8 x 67,108,864 / 1e10 + 70 us = 11.81 ms wins.
  EXPECT_NEAR(AllReduceTime(ib, 67108864, 8), 2.0 * 7 / 8 * 67108864 / 10e9 + 70e-6, 1e-12);
}

TEST(OpCost, AllToAllAndPointToPoint) {
  Link l{50e9, 5e-6, 1e-6, true};
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
