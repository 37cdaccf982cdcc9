#include "disagg/calib/kernel_fit.h"

#include <gtest/gtest.h>

#include "disagg/perf/op_cost.h"

namespace disagg::calib {
namespace {

using hardware::Calibration;
using hardware::SystemSpec;

SystemSpec B200() {
  auto s = hardware::LoadSystem("b200_sxm");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? *s : SystemSpec{};
}

// The parameters the synthetic rows are generated with: away from the
// catalog values the fit starts from.
Calibration Truth(Calibration c) {
  c.gemm_eff_bf16 = 0.71;
  c.gemm_eff_fp8 = 0.62;
  c.gemm_eff_fp4 = 0.47;
  c.gemm_tile_rows = 64;
  c.mem_eff = 0.83;
  c.kernel_launch = 6.5e-6;
  c.attn_prefill_eff = 0.55;
  c.attn_len_half = 700;
  c.attn_decode_eff = 0.81;
  c.comm_bw_eff = 0.63;
  c.comm_latency_factor = 0.5;
  c.moe_gemm_eff = 0.6;
  return c;
}

KernelRow Row(KernelOp op, auto shape) {
  KernelRow r;
  r.op = op;
  r.system = "b200_sxm";
  r.source = "T1";
  r.shape = shape;
  return r;
}

// Rows spanning every regime of every op, "measured" as the cost model
// predicts them with `truth`.
std::vector<KernelRow> SyntheticRows(const SystemSpec& truth) {
  std::vector<KernelRow> rows;
  for (DType t : {DType::kBf16, DType::kFp8, DType::kNvfp4}) {
    for (double m : {1.0, 16.0, 96.0, 200.0, 352.0, 700.0, 1500.0, 4096.0, 16384.0}) {
      for (auto [n, k] : {std::pair{4096.0, 4096.0}, {8192.0, 8192.0}, {28672.0, 8192.0}}) {
        rows.push_back(Row(KernelOp::kGemm, GemmShape{m, n, k, t, "x", GemmLibrary::kTrtllm}));
      }
    }
  }
  for (double batch : {1.0, 8.0, 64.0, 256.0}) {
    for (double len : {512.0, 4096.0, 16384.0}) {
      for (auto [q, kv] : {std::pair{8.0, 1.0}, {32.0, 8.0}}) {
        rows.push_back(Row(KernelOp::kDecodeAttention,
                           DecodeAttentionShape{batch, len, q, kv, 128, DType::kBf16}));
      }
    }
  }
  for (double s : {256.0, 1024.0, 4096.0, 16384.0}) {
    for (double batch : {1.0, 4.0}) {
      for (auto [q, kv] : {std::pair{8.0, 1.0}, {64.0, 8.0}}) {
        rows.push_back(Row(KernelOp::kContextAttention,
                           ContextAttentionShape{batch, s, q, kv, 128, DType::kBf16}));
      }
    }
  }
  for (int gpus : {2, 4, 8}) {
    for (double bytes : {16384.0, 131072.0, 1048576.0, 8388608.0, 67108864.0}) {
      rows.push_back(
          Row(KernelOp::kAllReduce, AllReduceShape{gpus, bytes, AllReduceImpl::kTrtllmCustom}));
    }
  }
  for (DType t : {DType::kFp8, DType::kNvfp4}) {
    for (int ep : {8, 32}) {
      for (double tokens : {1.0, 16.0, 256.0, 1024.0, 4096.0, 16384.0, 40000.0, 65536.0}) {
        rows.push_back(
            Row(KernelOp::kMoe, MoeShape{tokens, 7168, 2048, 256, 8, ep, 1, t, "x", "k"}));
      }
    }
  }
  perf::Device d = perf::Device::FromSystem(hardware::KernelView(truth));
  for (auto& r : rows) r.measured = *PredictKernel(r, truth, d);
  return rows;
}

void ExpectRelative(double got, double want, double tolerance, const char* what) {
  EXPECT_NEAR(got / want, 1.0, tolerance) << what << ": got " << got << ", want " << want;
}

TEST(KernelFit, RecoversTheParametersThatGeneratedTheRows) {
  SystemSpec system = B200();
  SystemSpec truth = system;
  truth.calibration = Truth(system.calibration);
  std::vector<KernelRow> rows = SyntheticRows(truth);

  auto fit = FitKernels(system, rows);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  const Calibration& c = fit->after;
  const Calibration& t = truth.calibration;
  // Fitted values are rounded to 4 significant digits.
  ExpectRelative(c.gemm_eff_bf16, t.gemm_eff_bf16, 0.005, "gemm_eff_bf16");
  ExpectRelative(c.gemm_eff_fp8, t.gemm_eff_fp8, 0.005, "gemm_eff_fp8");
  ExpectRelative(c.gemm_eff_fp4, t.gemm_eff_fp4, 0.005, "gemm_eff_fp4");
  EXPECT_EQ(c.gemm_tile_rows, 64);
  ExpectRelative(c.mem_eff, t.mem_eff, 0.005, "mem_eff");
  ExpectRelative(c.kernel_launch, t.kernel_launch, 0.01, "kernel_launch");
  ExpectRelative(c.attn_prefill_eff, t.attn_prefill_eff, 0.01, "attn_prefill_eff");
  ExpectRelative(c.attn_len_half, t.attn_len_half, 0.02, "attn_len_half");
  ExpectRelative(c.attn_decode_eff, t.attn_decode_eff, 0.005, "attn_decode_eff");
  ExpectRelative(c.comm_bw_eff, t.comm_bw_eff, 0.005, "comm_bw_eff");
  ExpectRelative(c.comm_latency_factor, t.comm_latency_factor, 0.02, "comm_latency_factor");
  // Tile padding makes the MoE error flat over small ranges of the imbalance.
  ExpectRelative(c.moe_gemm_eff, t.moe_gemm_eff, 0.03, "moe_gemm_eff");

  // Every family is then reproduced, and was not before.
  ASSERT_EQ(fit->after_errors.size(), fit->before_errors.size());
  double worst_before = 1;
  for (size_t i = 0; i < fit->after_errors.size(); ++i) {
    const auto& a = fit->after_errors[i];
    EXPECT_TRUE(a.fitted) << a.family;
    EXPECT_LT(a.max, 1.02) << a.family;
    EXPECT_EQ(a.within, 1.0) << a.family;
    worst_before = std::max(worst_before, fit->before_errors[i].max);
  }
  EXPECT_GT(worst_before, 1.2);
  for (const auto& p : fit->params) {
    EXPECT_TRUE(p.how == "fitted" || p.key == "gemm_tile_rows") << p.key << ": " << p.how;
    EXPECT_TRUE(fit->after.sources.contains(p.key)) << p.key;
  }
}

TEST(KernelFit, IsDeterministic) {
  SystemSpec system = B200();
  SystemSpec truth = system;
  truth.calibration = Truth(system.calibration);
  std::vector<KernelRow> rows = SyntheticRows(truth);
  // Noise-free rows would converge to the same point anyway; perturb them so
  // the optimum is a compromise the starts must agree on.
  for (size_t i = 0; i < rows.size(); ++i) rows[i].measured *= 1.0 + 0.2 * ((i * 7919) % 13) / 13;
  KernelFitOptions o;
  o.starts = 3;
  auto a = FitKernels(system, rows, o);
  auto b = FitKernels(system, rows, o);
  ASSERT_TRUE(a && b);
  for (size_t i = 0; i < a->params.size(); ++i) {
    EXPECT_EQ(a->params[i].after, b->params[i].after) << a->params[i].key;
  }
  EXPECT_EQ(a->after.sources, b->after.sources);
  EXPECT_EQ(a->evaluations, b->evaluations);
}

TEST(KernelFit, StreamFixesMemEffAndOtherImplementationsAreHeldOut) {
  SystemSpec system = B200();
  SystemSpec truth = system;
  truth.calibration = Truth(system.calibration);
  std::vector<KernelRow> rows = SyntheticRows(truth);
  KernelRow stream = Row(KernelOp::kHbmStream, HbmStreamShape{"STREAM Triad"});
  stream.measured = 0.9 * system.gpu.hbm_bw;
  rows.push_back(stream);
  // cuBLASLt and NCCL rows 3x off: reported, never fitted.
  KernelRow blas = Row(KernelOp::kGemm,
                       GemmShape{8192, 8192, 8192, DType::kFp8, "FP8", GemmLibrary::kVendorBlas});
  blas.measured = 3e-3;
  rows.push_back(blas);
  KernelRow nccl = Row(KernelOp::kAllReduce, AllReduceShape{8, 16384, AllReduceImpl::kNccl});
  nccl.measured = 1e-3;
  rows.push_back(nccl);

  KernelFitOptions o;
  o.starts = 3;
  auto fit = FitKernels(system, rows, o);
  ASSERT_TRUE(fit.has_value()) << fit.error().message;
  EXPECT_NEAR(fit->after.mem_eff, 0.9, 1e-9);
  bool saw_stream = false;
  for (const auto& p : fit->params) {
    if (p.key == "mem_eff") {
      EXPECT_EQ(p.how, "STREAM");
      saw_stream = true;
    }
  }
  EXPECT_TRUE(saw_stream);
  EXPECT_NE(fit->after.sources.at("mem_eff").find("STREAM"), std::string::npos);
  // The outliers did not move the all-reduce fit.
  EXPECT_NEAR(fit->after.comm_bw_eff / truth.calibration.comm_bw_eff, 1.0, 0.005);
  int held_out = 0;
  for (const auto& f : fit->after_errors) {
    if (!f.fitted) {
      ++held_out;
      EXPECT_TRUE(f.family == "GEMM fp8 (vendor BLAS)" || f.family == "all-reduce NCCL")
          << f.family;
    }
  }
  EXPECT_EQ(held_out, 2);
}

TEST(KernelFit, MoeRowsKeepTheFastestKernelPerShape) {
  SystemSpec system = B200();
  SystemSpec truth = system;
  truth.calibration = Truth(system.calibration);
  std::vector<KernelRow> rows = SyntheticRows(truth);
  KernelRow slow = Row(KernelOp::kMoe,
                       MoeShape{1024, 7168, 2048, 256, 8, 8, 1, DType::kFp8, "x", "slow kernel"});
  slow.measured = 1.0;  // far slower than the synthetic kernel at the same shape
  rows.push_back(slow);
  KernelFitOptions o;
  o.starts = 2;
  auto fit = FitKernels(system, rows, o);
  ASSERT_TRUE(fit.has_value());
  EXPECT_EQ(fit->excluded.size(), 1u);
  EXPECT_NEAR(fit->after.moe_gemm_eff / truth.calibration.moe_gemm_eff, 1.0, 0.03);
}

TEST(KernelFit, NoRowsForTheSystemIsAnError) {
  SystemSpec system = B200();
  KernelRow r = Row(KernelOp::kGemm, GemmShape{1, 1, 1, DType::kBf16, "x", GemmLibrary::kTrtllm});
  r.system = "h100_sxm";
  r.measured = 1e-5;
  auto fit = FitKernels(system, {r});
  ASSERT_FALSE(fit.has_value());
  EXPECT_NE(fit.error().message.find("b200_sxm"), std::string::npos) << fit.error().message;
}

TEST(KernelFit, FamilySpread) {
  FamilyError e = Spread({{2.0, 1.0}, {1.0, 1.0}, {1.0, 1.25}, {1.0, 4.0}});
  EXPECT_EQ(e.rows, 4);
  EXPECT_NEAR(e.median, std::exp(0.5 * (std::log(1.25) + std::log(2.0))), 1e-12);
  EXPECT_NEAR(e.max, 4.0, 1e-12);
  EXPECT_NEAR(e.within, 0.5, 1e-12);
}

}  // namespace
}  // namespace disagg::calib
