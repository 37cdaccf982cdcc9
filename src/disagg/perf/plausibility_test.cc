// Plausibility of the calibrated cost model against published measurements
// (../shared/validation/public_measurements.csv, see its README and the
// caveats at the top of public_measurements.md).
//
// (a) STEP-LATENCY rows: whole prefill steps (first-token latency) and decode
//     steps (time between tokens) of dense models, predicted through
//     serving::EvaluatePrefill / EvaluateDecode with the catalog calibration.
//     These rows are held out: no calibration value was fitted to them.
// (b) Kernel rows: GEMMs of [S17], decode and context attention of [S24] and
//     [S28] and the TRT-LLM all-reduce of [S44] (H100), predicted by the
//     op_cost.h functions through Device::FromSystem. The calibration WAS
//     fitted to these (data/hardware/h100_sxm.json), so this checks that the
//     fit and the code agree.
//
// Every row must be within a factor of 1.5 of its measurement, except the
// rows matched by a known-gap table below, which names the reason the model
// cannot reach them. Those are printed as a group of their own (with how many
// are inside 1.5x anyway) and held only to the looser guard factor of their
// table entry, as a regression check. The spreads (rows, median and max
// |error| as a factor) are printed and recorded as test properties.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/csv.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/perf/op_cost.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"
#include "disagg/serving/phase.h"
#include "disagg/testing/shared_data.h"

namespace disagg::perf {
namespace {

constexpr const char* kCsv = "validation/public_measurements.csv";
const double kBand = std::log(1.5);

struct Row {
  std::string category, source, model, hardware, precision, parallelism, isl, osl, concurrency,
      metric, notes;
  double value = 0;
  long long line = 0;
};

std::vector<Row> LoadRows() {
  std::vector<Row> rows;
  std::string path = testing::SharedFile(kCsv);
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return rows;
  }
  CsvReader reader(in, path);
  std::vector<std::string> f;
  auto first = reader.Next(f);
  if (!first || !*first) {
    ADD_FAILURE() << path << ": no header";
    return rows;
  }
  CsvHeader h(f);
  for (const char* col : {"category", "source", "model", "hardware", "precision", "parallelism",
                          "isl", "osl", "concurrency_or_rate", "metric", "value", "notes"}) {
    if (!h.Find(col)) ADD_FAILURE() << path << ": missing column " << col;
  }
  while (true) {
    auto more = reader.Next(f);
    if (!more) {
      ADD_FAILURE() << more.error().message;
      break;
    }
    if (!*more) break;
    Row r;
    r.category = h.Get(f, "category");
    r.source = h.Get(f, "source");
    r.model = h.Get(f, "model");
    r.hardware = h.Get(f, "hardware");
    r.precision = h.Get(f, "precision");
    r.parallelism = h.Get(f, "parallelism");
    r.isl = h.Get(f, "isl");
    r.osl = h.Get(f, "osl");
    r.concurrency = h.Get(f, "concurrency_or_rate");
    r.metric = h.Get(f, "metric");
    r.notes = h.Get(f, "notes");
    r.line = reader.line();
    // Multi-valued cells ("1.61/1.61/...", "252 -> 15") are not numbers;
    // only rows whose value parses completely are used below.
    std::string v(h.Get(f, "value"));
    size_t used = 0;
    try {
      r.value = std::stod(v, &used);
    } catch (...) {
      used = 0;
    }
    if (used == 0 || used != v.size()) r.value = std::nan("");
    rows.push_back(std::move(r));
  }
  return rows;
}

// "[S54] Mutinifni/..." -> "S54".
std::string SourceKey(std::string_view source) {
  size_t a = source.find('['), b = source.find(']');
  if (a == std::string_view::npos || b == std::string_view::npos || b < a) return "";
  return std::string(source.substr(a + 1, b - a - 1));
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// The integer after `key` in `s` ("m=512 n=8192" with key "n=" -> 8192).
std::optional<double> NumberAfter(std::string_view s, std::string_view key) {
  size_t at = s.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  at += key.size();
  size_t end = at;
  while (end < s.size() && (std::isdigit(static_cast<unsigned char>(s[end])) || s[end] == '.')) {
    ++end;
  }
  if (end == at) return std::nullopt;
  return std::stod(std::string(s.substr(at, end - at)));
}

// One compared row: its label, measurement and prediction (same unit).
struct Compared {
  std::string label;
  double measured = 0;
  double predicted = 0;
  std::string gap;   // reason when the row is in a known-gap table, else ""
  double guard = 0;  // for gap rows: the factor they must stay within
  double LogError() const { return std::log(predicted / measured); }
};

struct Spread {
  int rows = 0;
  double median = 0;  // of |log error|, reported as a factor
  double max = 0;
};

Spread SpreadOf(const std::vector<Compared>& c) {
  Spread s;
  std::vector<double> e;
  for (const auto& x : c) e.push_back(std::fabs(x.LogError()));
  s.rows = static_cast<int>(e.size());
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  size_t n = e.size();
  double med = n % 2 ? e[n / 2] : 0.5 * (e[n / 2 - 1] + e[n / 2]);
  s.median = std::exp(med);
  s.max = std::exp(e.back());
  return s;
}

// Prints every row and the spreads of all rows, of the checked rows and of
// the known-gap rows; then checks the checked rows against the 1.5x band and
// each gap row against its own (looser) guard, a regression check only. Gap
// rows that have come inside the band are counted, so the table can shrink.
void Report(const std::string& title, const std::vector<Compared>& all) {
  std::vector<Compared> checked, gaps;
  for (const auto& c : all) (c.gap.empty() ? checked : gaps).push_back(c);
  std::cout << "\n== " << title << "\n";
  for (const auto& c : all) {
    std::cout << fmt::format("  {:<72} meas {:>10.4g} pred {:>10.4g}  x{:.2f}{}\n", c.label,
                             c.measured, c.predicted, c.predicted / c.measured,
                             c.gap.empty() ? "" : "  [known gap]");
  }
  auto line = [](const char* what, const Spread& s) {
    return fmt::format("  {}: {} rows, median |error| x{:.3f}, max x{:.3f}\n", what, s.rows,
                       s.median, s.max);
  };
  Spread a = SpreadOf(all), s = SpreadOf(checked), g = SpreadOf(gaps);
  std::cout << line("all rows", a) << line("checked at 1.5x", s);
  if (!gaps.empty()) {
    std::cout << line("known-gap rows", g);
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
std::optional<std::string> Exclusion(const Row& r) {
  // Caveat of public_measurements.md: Splitwise batch-64 prompt_time rows
  // are anomalous (smaller than batch 32).
  if (SourceKey(r.source) == "S54" && r.concurrency == "batch 64" &&
      !Contains(r.metric, "decode")) {
    return "Splitwise batch-64 prompt time: anomalous per the caveats";
  }
  return std::nullopt;
}

std::optional<StepCase> MapStep(const Row& r) {
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
  if (!tp || !batch || !std::isfinite(r.value)) return std::nullopt;
  c.tp = static_cast<int>(*tp);
  c.batch = *batch;
  c.isl = std::stod(r.isl);
  c.osl = r.osl == "-" ? 1 : std::stod(r.osl);
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
// kernel-derived calibration, with the reason and the factor they are held
// to instead. Matched on the source key and substrings of model, hardware and
// metric, and on TP and ISL when those are non-zero.
struct StepGapRule {
  std::string_view source, model, hardware, metric;
  int tp = 0;
  double isl = 0;
  std::string_view reason;
  double guard = 0;
};

const std::vector<StepGapRule>& StepGaps() {
  static const std::vector<StepGapRule> gaps = {
      {"S54", "", "", "", 0, 0,
       "Splitwise profiles (2023 vLLM, eager PyTorch, FP16) are slower than the 2025 TRT-LLM "
       "kernel tables the calibration comes from, in every row (x0.30-0.99): TBT is flat in TP "
       "(Llama-2-70B H100 batch 1: TP4 29.7 ms, TP8 29.8 ms), a fixed ~15-25 ms per-step "
       "host/launch cost the model does not carry, and TP4/TP8 prefill of 4k-16k tokens runs "
       "at 18-25% of peak",
       3.5},
      {"S52", "LLaMA-2 70B", "H100", "first-token", 4, 128,
       "TRT-LLM v0.5 short-prompt FTL (static batching, no CUDA graphs): every ISL-128 TRT row "
       "is under-predicted (x0.59-0.77), fixed per-step costs beyond the 0.5 ms trtllm prior",
       2.0},
  };
  return gaps;
}

const StepGapRule* StepGap(const Row& r, const StepCase& c) {
  for (const auto& g : StepGaps()) {
    if (SourceKey(r.source) == g.source && Contains(r.model, g.model) &&
        Contains(r.hardware, g.hardware) && Contains(r.metric, g.metric) &&
        (g.tp == 0 || g.tp == c.tp) && (g.isl == 0 || g.isl == c.isl)) {
      return &g;
    }
  }
  return nullptr;
}

TEST(Plausibility, StepLatencyRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  std::vector<Row> rows = LoadRows();
  std::map<std::string, model::ModelSpec> models;
  std::map<std::string, hardware::SystemSpec> systems;
  std::vector<Compared> compared;
  int step_rows = 0, unmapped = 0;
  std::vector<std::string> excluded;
  for (const Row& r : rows) {
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
    auto precision = PrecisionPreset(c->precision);
    ASSERT_TRUE(precision.has_value()) << precision.error().message;
    Mapping map;
    map.tp = c->tp;
    auto step =
        StepModel::Create(models.at(c->model), systems.at(c->system), *precision, map, c->backend);
    ASSERT_TRUE(step.has_value()) << step.error().message;
    serving::Workload w{c->isl, c->osl};
    double predicted_s = c->decode ? serving::EvaluateDecode(*step, c->batch, w).ttl
                                   : serving::EvaluatePrefill(*step, c->batch, w).ftl;
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
  // The Splitwise group as a whole: its typical row is still within 1.5x.
  std::vector<Compared> splitwise;
  for (const auto& x : compared) {
    if (x.label.starts_with("S54 ")) splitwise.push_back(x);
  }
  Spread sw = SpreadOf(splitwise);
  std::cout << fmt::format("  Splitwise [S54] group: {} rows, median |error| x{:.3f}\n", sw.rows,
                           sw.median);
  EXPECT_LE(std::log(sw.median), kBand) << "median |error| of the Splitwise rows";
}

// -------------------------------------------------------------- (b) kernels

struct KernelGap {
  std::string_view label_part, reason;
  double guard = 0;
};

void MarkKernelGap(Compared& x, const std::vector<KernelGap>& gaps) {
  for (const auto& g : gaps) {
    if (Contains(x.label, g.label_part)) {
      x.gap = g.reason;
      x.guard = g.guard;
      return;
    }
  }
}

Device H100() {
  auto s = hardware::LoadSystem("h100_sxm");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? Device::FromSystem(*s) : Device{};
}

TEST(Plausibility, H100Bf16GemmRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  Device d = H100();
  std::vector<Compared> compared;
  for (const Row& r : LoadRows()) {
    if (r.category != "KERNEL-GEMM" || SourceKey(r.source) != "S17") continue;
    if (!r.precision.starts_with("bfloat16")) continue;
    auto m = NumberAfter(r.model, "m="), n = NumberAfter(r.model, "n="),
         k = NumberAfter(r.model, "k=");
    ASSERT_TRUE(m && n && k) << "line " << r.line << ": " << r.model;
    Compared x;
    x.label = fmt::format("S17 bf16 GEMM m={} n={} k={}", *m, *n, *k);
    x.measured = r.value;  // us
    x.predicted = GemmTime(d, *m, *n, *k, DType::kBf16, DType::kBf16) * 1e6;
    compared.push_back(x);
  }
  EXPECT_EQ(compared.size(), 24u);
  Report("S17 H100 bf16 GEMM (us)", compared);
}

// Query and KV heads per GPU of the attention rows' model descriptions.
std::pair<double, double> AttentionHeads(std::string_view model) {
  if (Contains(model, "TP8 per-GPU")) return {8, 1};
  if (Contains(model, "Llama-70B TP1")) return {64, 8};
  if (Contains(model, "Llama-8B TP1")) return {32, 8};
  return {0, 0};
}

TEST(Plausibility, H100AttentionRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  Device d = H100();
  constexpr double kHeadDim = 128;
  std::vector<Compared> decode, context;
  int fp8_context_skipped = 0;
  for (const Row& r : LoadRows()) {
    if (r.category != "KERNEL-ATTN") continue;
    std::string src = SourceKey(r.source);
    if (src != "S24" && src != "S28") continue;
    auto [q, kv] = AttentionHeads(r.model);
    ASSERT_GT(q, 0) << "line " << r.line << ": " << r.model;
    auto batch = NumberAfter(r.concurrency, "batch ");
    ASSERT_TRUE(batch) << "line " << r.line;
    bool fp8_kv = Contains(r.precision, "KV fp8");
    Compared x;
    x.measured = r.value;  // us per layer
    if (src == "S24") {
      // Decode: one query per sequence reading kv_len + 1 cached keys.
      auto len = NumberAfter(r.isl, "kv_len~");
      ASSERT_TRUE(len) << "line " << r.line << ": " << r.isl;
      double keys = *batch * (*len + 1);
      double flops = 4.0 * keys * kHeadDim * q;
      double bytes = keys * 2 * kv * kHeadDim * (fp8_kv ? 1.0 : 2.0);
      x.label = fmt::format("S24 decode q{} kv{} KV {} kv_len {} batch {}", q, kv,
                            fp8_kv ? "fp8" : "bf16", *len, *batch);
      x.predicted = DecodeAttentionTime(d, flops, bytes) * 1e6;
      decode.push_back(x);
    } else {
      // TRT-LLM runs the fp8-KV context rows as FP8 FMHA; the model charges
      // attention math in bf16, so only the bf16-KV rows are comparable.
      if (fp8_kv) {
        ++fp8_context_skipped;
        continue;
      }
      double s = std::stod(r.isl);
      double flops = 4.0 * *batch * s * (s + 1) / 2 * kHeadDim * q;
      x.label = fmt::format("S28 context q{} kv{} s {} batch {}", q, kv, s, *batch);
      x.predicted = AttentionTime(d, flops, s, 0) * 1e6;
      context.push_back(x);
    }
  }
  EXPECT_EQ(decode.size(), 40u);
  EXPECT_EQ(context.size(), 12u);
  std::cout << "\nS28 rows with fp8 KV not compared (FP8 FMHA): " << fp8_context_skipped << "\n";
  Report("S24 H100 decode attention (us/layer)", decode);
  Report("S28 H100 context attention, KV bf16 (us/layer)", context);
}

TEST(Plausibility, H100TrtllmAllReduceRowsWithinFactorOneAndAHalf) {
  DISAGG_REQUIRE_SHARED(kCsv);
  Device d = H100();
  // The ring formula's latency term 2(n-1) x hop grows 7x from 2 to 8 GPUs;
  // TRT-LLM's one-shot kernel is nearly flat (2.85 -> 3.56 us for 16 KB).
  // Its bandwidth share also grows with n (67 MB: busbw 0.59, 0.68, 0.81 of
  // the link at 2, 4, 8 GPUs) while comm_bw_eff is one number.
  constexpr std::string_view kLatency =
      "ring latency 2(n-1) x hop vs a one-shot kernel whose latency is flat in n";
  constexpr std::string_view kBandwidth =
      "achieved bus bandwidth grows with n (0.59 -> 0.81 of the link); one comm_bw_eff";
  static const std::vector<KernelGap> gaps = {
      {"n2 8192 ", kLatency, 3.0},     {"n2 65536 ", kLatency, 3.0},
      {"n8 8192 ", kLatency, 3.0},     {"n8 65536 ", kLatency, 3.0},
      {"n8 524288 ", kBandwidth, 3.0}, {"n8 33554432 ", kBandwidth, 3.0},
  };
  std::vector<Compared> compared;
  for (const Row& r : LoadRows()) {
    if (r.category != "KERNEL-COMM" || SourceKey(r.source) != "S44") continue;
    auto elements = NumberAfter(r.model, "strategy) ");
    auto gpus = NumberAfter(r.parallelism, "");
    ASSERT_TRUE(elements && gpus) << "line " << r.line << ": " << r.model;
    Compared x;
    x.label = fmt::format("S44 all-reduce n{} {} bf16 elements", *gpus, *elements);
    x.measured = r.value;  // us
    x.predicted = AllReduceTime(d.LinkFor(static_cast<int>(*gpus)), *elements * 2.0,
                                static_cast<int>(*gpus)) *
                  1e6;
    MarkKernelGap(x, gaps);
    compared.push_back(x);
  }
  EXPECT_EQ(compared.size(), 15u);
  Report("S44 H100 TRT-LLM AllReduce (us)", compared);
}

}  // namespace
}  // namespace disagg::perf
