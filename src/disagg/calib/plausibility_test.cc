// Plausibility of the calibrated cost model against published measurements
// (../shared/validation/public_measurements.csv, see its README and the
// caveats at the top of public_measurements.md).
//
// (a) STEP-LATENCY rows: whole prefill steps (first-token latency) and decode
//     steps (time between tokens) of dense models, predicted through
//     serving::EvaluatePrefill / EvaluateDecode with the catalog calibration.
//     These rows are held out: no calibration value was fitted to them.
// (b) Kernel rows of h100_sxm, h200_sxm, b200_sxm and gb200, predicted by
//     calib::PredictKernel (the op_cost.h formulas, StepModel for MoE) with
//     the catalog calibration, which `disagg calibrate --kernels` fitted to
//     the rows the fit uses; the held-out families (cuBLASLt GEMMs, NCCL
//     all-reduces, fp8-KV context attention) are reported beside them.
// (c) The catalog's kernel parameters are what the fit gives today: a change
//     of the cost model that is not followed by a recalibration fails here.
//
// Every checked row must be within a factor of 1.5 of its measurement, except
// the rows a known-gap table matches, with the reason the model cannot reach
// them. Those are printed as a group of their own (with how many are inside
// 1.5x anyway) and held only to the looser guard of their entry, as a
// regression check. The spreads (rows, median and max |error| as a factor)
// are printed and recorded as test properties.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/calib/kernel_fit.h"
#include "disagg/calib/kernel_predict.h"
#include "disagg/calib/kernel_rows.h"
#include "disagg/calib/measurements.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"
#include "disagg/serving/phase.h"
#include "disagg/testing/shared_data.h"

namespace disagg::calib {
namespace {

constexpr const char* kCsv = "validation/public_measurements.csv";
const double kBand = std::log(1.5);

// One compared row: its label, measurement and prediction (same unit).
struct Compared {
  std::string label;
  double measured = 0;
  double predicted = 0;
  std::string gap;   // reason when the row is in a known-gap table, else ""
  double guard = 0;  // for gap rows: the factor they must stay within
  double LogError() const { return std::log(predicted / measured); }
};

FamilyError SpreadOf(const std::vector<Compared>& c) {
  std::vector<std::pair<double, double>> pm;
  for (const auto& x : c) pm.emplace_back(x.predicted, x.measured);
  return Spread(pm);
}

std::string SpreadLine(const char* what, const FamilyError& s) {
  return fmt::format("  {}: {} rows, median |error| x{:.3f}, max x{:.3f}, {:.0f}% within 1.5x\n",
                     what, s.rows, s.median, s.max, 100 * s.within);
}

// Prints every row and the spreads of all rows, of the checked rows and of
// the known-gap rows; then checks the checked rows against the 1.5x band and
// each gap row against its own (looser) guard. Gap rows that have come inside
// the band are counted, so the table can shrink.
void Report(const std::string& title, const std::vector<Compared>& all) {
  std::vector<Compared> checked, gaps;
  for (const auto& c : all) (c.gap.empty() ? checked : gaps).push_back(c);
  std::cout << "\n== " << title << "\n";
  for (const auto& c : all) {
    std::cout << fmt::format("  {:<72} meas {:>10.4g} pred {:>10.4g}  x{:.2f}{}\n", c.label,
                             c.measured, c.predicted, c.predicted / c.measured,
                             c.gap.empty() ? "" : "  [known gap]");
  }
  FamilyError a = SpreadOf(all), s = SpreadOf(checked), g = SpreadOf(gaps);
  std::cout << SpreadLine("all rows", a) << SpreadLine("checked at 1.5x", s);
  if (!gaps.empty()) {
    std::cout << SpreadLine("known-gap rows", g);
    std::map<std::string, int> reasons;
    int inside = 0;
    for (const auto& c : gaps) {
      ++reasons[c.gap];
      if (std::fabs(c.LogError()) <= kBand) ++inside;
    }
    for (const auto& [reason, n] : reasons) std::cout << "    " << n << " rows: " << reason << "\n";
    std::cout << "    of which inside 1.5x anyway: " << inside << "\n";
  }
  ::testing::Test::RecordProperty(title + " rows", a.rows);
  ::testing::Test::RecordProperty(title + " median_abs_error", fmt::format("{:.3f}", a.median));
  ::testing::Test::RecordProperty(title + " max_abs_error", fmt::format("{:.3f}", a.max));
  ::testing::Test::RecordProperty(title + " known_gap_rows", g.rows);
  for (const auto& c : checked) {
    EXPECT_LE(std::fabs(c.LogError()), kBand)
        << c.label << ": predicted " << c.predicted << " vs measured " << c.measured << " (x"
        << c.predicted / c.measured << ")";
  }
  for (const auto& c : gaps) {
    EXPECT_LE(std::fabs(c.LogError()), std::log(c.guard))
        << c.label << " (known gap: " << c.gap << ") moved beyond its guard x" << c.guard
        << ": predicted " << c.predicted << " vs measured " << c.measured;
  }
}

// ---------------------------------------------------------------- (a) steps

struct StepCase {
  std::string model, system, precision;
  hardware::Backend backend = hardware::Backend::kTrtllm;
  int tp = 1;
  double batch = 1, isl = 0, osl = 0;
  bool decode = false;
};

std::optional<std::string> CatalogModelName(std::string_view m) {
  if (m == "LLaMA-2 7B") return "llama-2-7b";
  if (m == "LLaMA-2 70B" || m == "Llama2-70B") return "llama-2-70b";
  if (m == "BLOOM-176B") return "bloom-176b";
  if (m == "Falcon 180B") return "falcon-180b";
  if (m == "GPT-J 6B") return "gpt-j-6b";
  return std::nullopt;
}

// Why a STEP-LATENCY row is not compared, or nullopt to compare it.
std::optional<std::string> Exclusion(const MeasurementRow& r) {
  // Caveat of public_measurements.md: Splitwise batch-64 prompt_time rows
  // are anomalous (smaller than batch 32).
  if (SourceKey(r.source) == "S54" && r.concurrency == "batch 64" &&
      !Contains(r.metric, "decode")) {
    return "Splitwise batch-64 prompt time: anomalous per the caveats";
  }
  return std::nullopt;
}

std::optional<StepCase> MapStep(const MeasurementRow& r) {
  auto model = CatalogModelName(r.model);
  if (!model) return std::nullopt;
  StepCase c;
  c.model = *model;
  if (Contains(r.hardware, "H100")) {
    c.system = "h100_sxm";
  } else if (Contains(r.hardware, "A100")) {
    c.system = "a100_sxm";
  } else {
    return std::nullopt;
  }
  if (r.precision == "FP16") {
    c.precision = "bf16";
  } else if (r.precision == "FP8") {
    c.precision = "fp8";
  } else {
    return std::nullopt;
  }
  auto tp = NumberAfter(r.parallelism, "TP");
  auto batch = NumberAfter(r.concurrency, "batch ");
  auto isl = ParseNumber(r.isl);
  if (!tp || !batch || !isl || !std::isfinite(r.value)) return std::nullopt;
  c.tp = static_cast<int>(*tp);
  c.batch = *batch;
  c.isl = *isl;
  c.osl = ParseNumber(r.osl).value_or(1);
  if (Contains(r.metric, "decode time per token")) {
    c.decode = true;
  } else if (!Contains(r.metric, "prefill") && !Contains(r.metric, "first-token latency")) {
    return std::nullopt;
  }
  // TensorRT-LLM's own tables run TensorRT-LLM; the Splitwise profiles were
  // taken with vLLM (the engine Splitwise was built on).
  c.backend = SourceKey(r.source) == "S54" ? hardware::Backend::kVllm : hardware::Backend::kTrtllm;
  return c;
}

// Step-latency rows the model cannot reach within 1.5x with the
// kernel-fitted calibration, with the reason and the factor they are held to
// instead. Matched on the source key, on substrings of model and hardware,
// and on ISL when it is non-zero.
struct StepGapRule {
  std::string_view source, model, hardware;
  double isl = 0;
  std::string_view reason;
  double guard = 0;
};

const std::vector<StepGapRule>& StepGaps() {
  static const std::vector<StepGapRule> gaps = {
      {"S54", "", "", 0,
       "Splitwise profiles (2023 vLLM, eager PyTorch, FP16) are slower than the model in every "
       "row (x0.28-0.95): TBT is flat in TP (Llama-2-70B H100 batch 1: TP4 29.7 ms, TP8 29.8 ms), "
       "a fixed ~15-25 ms per-step host/launch cost of eager 2023 vLLM that today's vLLM (whose "
       "rows set the vllm step overhead end to end) no longer pays, and TP4/TP8 prefill of "
       "4k-16k tokens runs at 18-25% of peak",
       4.0},
      {"S5", "", "", 128,
       "TRT-LLM short-prompt FTL (ISL 128, batch 1; v0.5-era tables, static batching): 7-61 ms "
       "steps dominated by per-request engine costs the model does not carry; every such "
       "row is under-predicted (x0.67-0.94) while the ISL-2048 rows of the same tables are not",
       2.0},
  };
  return gaps;
}

const StepGapRule* StepGap(const MeasurementRow& r, const StepCase& c) {
  for (const auto& g : StepGaps()) {
    if (SourceKey(r.source).starts_with(g.source) && Contains(r.model, g.model) &&
        Contains(r.hardware, g.hardware) && (g.isl == 0 || g.isl == c.isl)) {
      return &g;
    }
  }
  return nullptr;
}

std::vector<MeasurementRow> LoadRows() {
  auto rows = ReadMeasurements(testing::SharedFile(kCsv));
  EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
  return rows ? *rows : std::vector<MeasurementRow>{};
}

TEST(Plausibility, StepLatencyRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  std::map<std::string, model::ModelSpec> models;
  std::map<std::string, hardware::SystemSpec> systems;
  std::vector<Compared> compared;
  int step_rows = 0, unmapped = 0;
  std::vector<std::string> excluded;
  for (const MeasurementRow& r : LoadRows()) {
    if (r.category != "STEP-LATENCY") continue;
    ++step_rows;
    if (auto why = Exclusion(r)) {
      excluded.push_back(fmt::format("line {} ({}): {}", r.line, SourceKey(r.source), *why));
      continue;
    }
    auto c = MapStep(r);
    if (!c) {
      ++unmapped;
      std::cout << "  not mapped: line " << r.line << " " << r.model << " / " << r.metric << "\n";
      continue;
    }
    if (!models.contains(c->model)) {
      auto m = model::LoadModel(c->model);
      ASSERT_TRUE(m.has_value()) << m.error().message;
      models.emplace(c->model, *m);
    }
    if (!systems.contains(c->system)) {
      auto s = hardware::LoadSystem(c->system);
      ASSERT_TRUE(s.has_value()) << s.error().message;
      systems.emplace(c->system, *s);
    }
    auto precision = perf::PrecisionPreset(c->precision);
    ASSERT_TRUE(precision.has_value()) << precision.error().message;
    perf::Mapping map;
    map.tp = c->tp;
    auto step = perf::StepModel::Create(models.at(c->model), systems.at(c->system), *precision, map,
                                        c->backend);
    ASSERT_TRUE(step.has_value()) << step.error().message;
    serving::Workload w{c->isl, c->osl};
    // These tables time the engine itself (benchmark binaries, profilers),
    // without a serving front end, so its per-request overhead is left out.
    double predicted_s =
        c->decode ? serving::EvaluateDecode(*step, c->batch, w).ttl
                  : serving::EvaluatePrefill(*step, c->batch, w).ftl - step->request_overhead();
    Compared x;
    x.label =
        fmt::format("{} {} {} {} TP{} isl {} b{} {}", SourceKey(r.source), c->model, c->system,
                    c->precision, c->tp, c->isl, c->batch, c->decode ? "TBT" : "FTL");
    x.measured = r.value;  // ms
    x.predicted = predicted_s * 1e3;
    if (const StepGapRule* g = StepGap(r, *c)) {
      x.gap = g->reason;
      x.guard = g->guard;
    }
    compared.push_back(x);
  }
  std::cout << fmt::format("\nSTEP-LATENCY rows: {}, compared {}, excluded {}, not mapped {}\n",
                           step_rows, compared.size(), excluded.size(), unmapped);
  for (const auto& e : excluded) std::cout << "  excluded: " << e << "\n";
  EXPECT_GT(compared.size(), 100u);
  Report("STEP-LATENCY (ms)", compared);
  // The Splitwise gap's stated cause is a cost the model lacks: then every
  // row must be predicted fast, and the group as a whole not far off.
  std::vector<Compared> splitwise;
  for (const auto& x : compared) {
    if (x.label.starts_with("S54 ")) {
      splitwise.push_back(x);
      EXPECT_LT(x.predicted, x.measured) << x.label << ": the gap reason says the model is fast";
    }
  }
  FamilyError sw = SpreadOf(splitwise);
  std::cout << SpreadLine("Splitwise [S54] group", sw);
  EXPECT_LE(sw.median, 1.75) << "median |error| of the Splitwise rows";
}

// -------------------------------------------------------------- (b) kernels

// Kernel rows of the fitted families the model cannot reach within 1.5x.
struct KernelGap {
  std::string_view reason;
  double guard;
  std::function<bool(const KernelRow&)> match;
};

bool IsBlackwell(const KernelRow& r) { return r.system == "b200_sxm" || r.system == "gb200"; }

const std::vector<KernelGap>& KernelGaps() {
  static const std::vector<KernelGap> gaps = {
      {"fp8_block (1x128 block-scaled) GEMMs at small M quantise activations inside a small-M "
       "kernel: up to 2.2x faster than the per-tensor fp8 path (separate quantise kernel + GEMM) "
       "the model charges every fp8 GEMM; both fit one gemm_eff_fp8",
       2.5,
       [](const KernelRow& r) {
         auto* g = std::get_if<GemmShape>(&r.shape);
         return g != nullptr && g->quant == "fp8_block" && g->m <= 512;
       }},
      {"small decode-attention kernels (under ~70 MB of KV, 5-25 us of streaming): the "
       "XQA/MMHA floor (12-19 us with a bf16 KV cache at batch 1) and ramp exceed the one "
       "kernel_overhead the GEMM rows set (~8 us)",
       2.2,
       [](const KernelRow& r) {
         auto* a = std::get_if<DecodeAttentionShape>(&r.shape);
         return a != nullptr && a->batch * (a->kv_len + 1) * 2 * a->kv_heads * a->head_dim *
                                        BytesPerElement(a->kv) <=
                                    70e6;
       }},
      {"context attention over fewer query tiles than SMs (8 heads x 1024 tokens = 64 tiles of "
       "128 rows): no occupancy term in the model, one attn_len_half_tokens for all shapes",
       2.2,
       [](const KernelRow& r) {
         auto* a = std::get_if<ContextAttentionShape>(&r.shape);
         return a != nullptr && a->batch * a->q_heads * std::ceil(a->seq / 128) < 132;
       }},
      {"Blackwell expert kernels differ by format: DeepGEMM fp8 runs near the dense GEMM rate at "
       "large token counts, the TRT-LLM nvfp4 kernels far below it (min_latency degrades past "
       "256 tokens); one moe_imbalance per system sits between them",
       2.0,
       [](const KernelRow& r) {
         auto* m = std::get_if<MoeShape>(&r.shape);
         return m != nullptr && IsBlackwell(r) && m->tokens >= 256;
       }},
  };
  return gaps;
}

const std::vector<std::string>& KernelSystems() {
  static const std::vector<std::string> s = {"h100_sxm", "h200_sxm", "b200_sxm", "gb200"};
  return s;
}

TEST(Plausibility, KernelRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  auto set = ReadKernelRows(testing::SharedFile(kCsv));
  ASSERT_TRUE(set.has_value()) << set.error().message;
  for (const std::string& name : KernelSystems()) {
    auto system = hardware::LoadSystem(name);
    ASSERT_TRUE(system.has_value()) << system.error().message;
    perf::Device d = perf::Device::FromSystem(hardware::KernelView(*system));
    KernelSelection sel = SelectKernelRows(*system, set->rows);
    EXPECT_GT(sel.rows.size(), 150u) << name;
    std::vector<Compared> fitted;
    std::map<std::string, std::vector<Compared>> held_out;
    for (const SelectedRow& s : sel.rows) {
      Compared x;
      x.label = s.row->Label();
      x.measured = s.row->measured;
      x.predicted = PredictKernel(*s.row, *system, d).value_or(NAN);
      if (!s.fitted) {
        held_out[s.family].push_back(x);
        continue;
      }
      for (const auto& g : KernelGaps()) {
        if (g.match(*s.row)) {
          x.gap = g.reason;
          x.guard = g.guard;
          break;
        }
      }
      fitted.push_back(x);
    }
    Report(name + " kernel rows in the fit (s; HBM: B/s)", fitted);
    for (const auto& [family, rows] : held_out) {
      FamilyError e = SpreadOf(rows);
      std::cout << SpreadLine(fmt::format("{} held out: {}", name, family).c_str(), e);
      // Held out: never fitted, so only the family's typical row is guarded.
      EXPECT_LE(e.median, 2.0) << name << " " << family;
    }
  }
}

// ------------------------------------------------------- (c) reproducibility

TEST(Plausibility, CatalogKernelCalibrationIsTheFit) {
  DISAGG_REQUIRE_SHARED(kCsv);
  auto set = ReadKernelRows(testing::SharedFile(kCsv));
  ASSERT_TRUE(set.has_value()) << set.error().message;
  for (const std::string& name : KernelSystems()) {
    auto system = hardware::LoadSystem(name);
    ASSERT_TRUE(system.has_value()) << system.error().message;
    KernelFitOptions o;
    o.origin = "public_measurements.csv";
    auto fit = FitKernels(*system, set->rows, o);
    ASSERT_TRUE(fit.has_value()) << fit.error().message;
    for (const ParamFit& p : fit->params) {
      EXPECT_NEAR(p.after, p.before, 0.005 * std::fabs(p.before))
          << name << " " << p.key << ": the catalog has " << p.before << ", the fit gives "
          << p.after << "; rerun `disagg calibrate --kernels " << testing::SharedFile(kCsv)
          << " --system " << name << " -o data/hardware/" << name << ".json`";
    }
  }
}

}  // namespace
}  // namespace disagg::calib
