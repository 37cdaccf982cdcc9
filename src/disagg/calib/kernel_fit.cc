#include "disagg/calib/kernel_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <nlopt.hpp>
#include <set>
#include <tuple>

namespace disagg::calib {
namespace {

using hardware::Calibration;
using hardware::CalibrationParam;
using hardware::SystemSpec;

// Squared log error charged for a row the candidate cannot predict (= e^5).
constexpr double kBadRow = 25.0;

// ------------------------------------------------------------ parameters

Calibration WithoutSources(Calibration c) {
  c.sources.clear();
  return c;
}

const CalibrationParam& Param(std::string_view key) {
  for (const auto& p : hardware::CalibrationParams()) {
    if (p.key == key) return p;
  }
  // Every key used below is in the table; reaching here is a programming error.
  std::abort();
}

double Get(const Calibration& c, const CalibrationParam& p) { return c.*p.field / p.to_si; }
void Set(Calibration& c, const CalibrationParam& p, double v) { c.*p.field = v * p.to_si; }

double RoundSignificant(double v, int digits) {
  if (v == 0 || !std::isfinite(v)) return v;
  double scale =
      std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  return std::round(v * scale) / scale;
}

// A parameter free in a stage: its legal bounds and the box the starts are
// spread over (JSON units).
struct Free {
  const CalibrationParam* p;
  double start_lo, start_hi;
};

Free MakeFree(std::string_view key) {
  // Where plausible values lie; the optimiser may leave this box, not the
  // legal bounds.
  static const std::map<std::string_view, std::pair<double, double>> boxes = {
      {"gemm_eff_bf16", {0.3, 0.95}},       {"gemm_eff_fp8", {0.3, 0.95}},
      {"gemm_eff_fp4", {0.3, 0.95}},        {"mem_eff", {0.6, 0.95}},
      {"kernel_launch_us", {1, 20}},        {"attn_prefill_eff", {0.2, 0.9}},
      {"attn_len_half_tokens", {16, 4096}}, {"attn_decode_eff", {0.4, 1.0}},
      {"comm_bw_eff", {0.3, 0.95}},         {"comm_latency_factor", {0.05, 2}},
      {"moe_gemm_eff", {0.15, 1.0}},
  };
  const CalibrationParam& p = Param(key);
  auto [lo, hi] = boxes.at(key);
  return Free{&p, std::max(lo, p.min), std::min(hi, p.max)};
}

// Radical inverse of i in `base`: the Halton sequence, a deterministic
// spread of start points.
double Halton(int i, int base) {
  double f = 1, r = 0;
  for (int n = i; n > 0; n /= base) {
    f /= base;
    r += f * (n % base);
  }
  return r;
}

// ------------------------------------------------------------ the fit

struct Item {
  const KernelRow* row;
  std::string family;
  bool fitted = false;
  char stage = 0;  // 'A' GEMM and attention, 'B' all-reduce, 'C' MoE, 0 none
};

double SumSquares(const SystemSpec& sys, const std::vector<const KernelRow*>& rows) {
  perf::Device d = perf::Device::FromSystem(hardware::KernelView(sys));
  double sum = 0;
  for (const KernelRow* r : rows) {
    auto p = PredictKernel(*r, sys, d);
    double e = p && *p > 0 ? std::log(*p / r->measured) : NAN;
    sum += std::isfinite(e) ? e * e : kBadRow;
  }
  return sum;
}

struct Stage {
  SystemSpec* work;
  const std::vector<Free>* free;
  const std::vector<const KernelRow*>* rows;
  long long* evaluations;
};

double StageObjective(const std::vector<double>& x, std::vector<double>& /*grad*/, void* data) {
  auto* s = static_cast<Stage*>(data);
  for (size_t i = 0; i < x.size(); ++i) Set(s->work->calibration, *(*s->free)[i].p, x[i]);
  ++*s->evaluations;
  return SumSquares(*s->work, *s->rows);
}

// Minimises the stage's error over its free parameters from several starts;
// leaves the best values in stage.work and returns the error there.
double MultiStart(Stage& stage, const KernelFitOptions& o) {
  const auto& free = *stage.free;
  const size_t n = free.size();
  std::vector<double> dummy;
  if (n == 0) return StageObjective({}, dummy, &stage);
  static constexpr int kPrimes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  std::vector<double> lo(n), hi(n), current(n), step(n);
  for (size_t i = 0; i < n; ++i) {
    lo[i] = free[i].p->min;
    hi[i] = free[i].p->max;
    current[i] = std::clamp(Get(stage.work->calibration, *free[i].p), lo[i], hi[i]);
    step[i] = 0.1 * (free[i].start_hi - free[i].start_lo);
  }
  std::vector<double> best = current;
  double best_f = StageObjective(best, dummy, &stage);
  if (n == 1) {
    // One parameter: tile padding makes the error piecewise constant in it
    // (moe_gemm_eff scales the padded rows' rate), so scan the legal range first and
    // start the local search from the best grid point.
    constexpr int kGrid = 1000;
    for (int i = 0; i <= kGrid; ++i) {
      std::vector<double> x{lo[0] + (hi[0] - lo[0]) * i / kGrid};
      double f = StageObjective(x, dummy, &stage);
      if (f < best_f) {
        best_f = f;
        best = x;
      }
    }
    current = best;
  }
  const auto algorithm = n >= 2 ? nlopt::LN_BOBYQA : nlopt::LN_NELDERMEAD;
  for (int s = 0; s < std::max(1, o.starts); ++s) {
    std::vector<double> x(n);
    for (size_t i = 0; i < n; ++i) {
      double u = s == 1 ? 0.5 : Halton(s - 1, kPrimes[i % std::size(kPrimes)]);
      x[i] = s == 0 ? current[i] : free[i].start_lo + u * (free[i].start_hi - free[i].start_lo);
    }
    nlopt::opt opt(algorithm, static_cast<unsigned>(n));
    opt.set_lower_bounds(lo);
    opt.set_upper_bounds(hi);
    opt.set_min_objective(StageObjective, &stage);
    opt.set_xtol_rel(1e-7);
    opt.set_ftol_abs(1e-14);
    opt.set_maxeval(o.max_evals);
    opt.set_initial_step(step);
    double f = 0;
    try {
      opt.optimize(x, f);
    } catch (const std::exception&) {
      // Round-off or another stop: x holds the best point NLopt reached.
    }
    f = StageObjective(x, dummy, &stage);
    if (f < best_f) {
      best_f = f;
      best = x;
    }
  }
  for (size_t i = 0; i < n; ++i) Set(stage.work->calibration, *free[i].p, best[i]);
  return best_f;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

std::string Factor(double f) { return fmt::format("x{:.2f}", f); }

int OpRank(const std::string& family) {
  static const char* order[] = {
      "GEMM", "decode attention", "context attention", "all-reduce", "MoE", "HBM"};
  for (int i = 0; i < 6; ++i) {
    if (StartsWith(family, order[i])) return i;
  }
  return 6;
}

}  // namespace

Result<KernelFit> FitKernels(const SystemSpec& system, const std::vector<KernelRow>& all,
                             const KernelFitOptions& o) {
  KernelFit fit;
  fit.system = system.name;
  fit.before = system.calibration;
  perf::Device before_device = perf::Device::FromSystem(hardware::KernelView(system));

  KernelSelection sel = SelectKernelRows(system, all, o.mem_eff_from_stream);
  fit.excluded = sel.excluded;
  if (sel.rows.empty()) {
    return Fail("no kernel rows for system '{}' that its GPU can run ({} rows given)", system.name,
                all.size());
  }
  std::vector<Item> items;
  for (const SelectedRow& s : sel.rows) {
    Item it{s.row, s.family, s.fitted};
    if (s.fitted) {
      switch (s.row->op) {
        case KernelOp::kGemm:
        case KernelOp::kDecodeAttention:
        case KernelOp::kContextAttention:
          it.stage = 'A';
          break;
        case KernelOp::kAllReduce:
          it.stage = 'B';
          break;
        case KernelOp::kMoe:
          it.stage = 'C';
          break;
        case KernelOp::kHbmStream:
          break;
      }
    }
    items.push_back(std::move(it));
  }
  auto stage_rows = [&](char stage) {
    std::vector<const KernelRow*> rows;
    for (const auto& it : items) {
      if (it.stage == stage) rows.push_back(it.row);
    }
    return rows;
  };
  auto any_fitted = [&](std::function<bool(const Item&)> pred) {
    return std::any_of(items.begin(), items.end(),
                       [&](const Item& it) { return it.fitted && pred(it); });
  };
  const auto rows_a = stage_rows('A'), rows_b = stage_rows('B'), rows_c = stage_rows('C');

  // mem_eff from STREAM.
  SystemSpec work = system;
  work.calibration = WithoutSources(system.calibration);
  std::vector<double> streams;
  std::set<std::string> stream_sources;
  for (const auto& it : items) {
    if (it.fitted && it.row->op == KernelOp::kHbmStream) {
      streams.push_back(it.row->measured);
      stream_sources.insert(fmt::format("[{}]", it.row->source));
    }
  }
  double stream_bw = 0;
  if (!streams.empty()) {
    for (double s : streams) stream_bw += s / streams.size();
    work.calibration.mem_eff = RoundSignificant(
        std::clamp(stream_bw / system.gpu.hbm_bw, Param("mem_eff").min, Param("mem_eff").max), 4);
  }

  // Free parameters of each stage.
  std::vector<Free> free_a, free_b, free_c;
  for (DType t : {DType::kBf16, DType::kFp8, DType::kNvfp4}) {
    if (any_fitted([t](const Item& it) {
          auto* g = std::get_if<GemmShape>(&it.row->shape);
          return g != nullptr && g->compute == t;
        })) {
      free_a.push_back(MakeFree(fmt::format("gemm_eff_{}", DTypeName(t))));
    }
  }
  const bool has_decode = !rows_a.empty() && any_fitted([](const Item& it) {
    return it.row->op == KernelOp::kDecodeAttention;
  });
  const bool has_context =
      any_fitted([](const Item& it) { return it.row->op == KernelOp::kContextAttention; });
  if (streams.empty() && (!free_a.empty() || has_decode)) free_a.push_back(MakeFree("mem_eff"));
  if (!rows_a.empty()) free_a.push_back(MakeFree("kernel_launch_us"));
  if (has_context) {
    free_a.push_back(MakeFree("attn_prefill_eff"));
    free_a.push_back(MakeFree("attn_len_half_tokens"));
  }
  if (has_decode) free_a.push_back(MakeFree("attn_decode_eff"));
  if (!rows_b.empty()) {
    free_b.push_back(MakeFree("comm_bw_eff"));
    free_b.push_back(MakeFree("comm_latency_factor"));
  }
  if (!rows_c.empty()) free_c.push_back(MakeFree("moe_gemm_eff"));

  // Stages A and C for each tile height; B once.
  const bool tiles_matter = any_fitted(
      [](const Item& it) { return it.row->op == KernelOp::kGemm || it.row->op == KernelOp::kMoe; });
  std::vector<double> tiles = tiles_matter ? o.tile_rows : std::vector<double>{};
  if (tiles.empty()) tiles = {work.calibration.gemm_tile_rows};
  const Calibration start = work.calibration;
  double best_cost = INFINITY;
  Calibration best = start;
  std::vector<std::string> tile_costs;
  std::vector<double> tile_cost;
  std::vector<Calibration> tile_best;
  for (double tile : tiles) {
    work.calibration = start;
    work.calibration.gemm_tile_rows = tile;
    Stage a{&work, &free_a, &rows_a, &fit.evaluations};
    double cost = rows_a.empty() ? 0 : MultiStart(a, o);
    Stage c{&work, &free_c, &rows_c, &fit.evaluations};
    cost += rows_c.empty() ? 0 : MultiStart(c, o);
    tile_costs.push_back(fmt::format("{}: {:.4g}", tile, cost));
    tile_cost.push_back(cost);
    tile_best.push_back(work.calibration);
    if (cost < best_cost) {
      best_cost = cost;
      best = work.calibration;
    }
  }
  // Candidates within 1% of the best are not told apart by the rows: keep
  // the prior (the catalog value) among them if it is one.
  for (size_t i = 0; i < tiles.size(); ++i) {
    if (tiles[i] == start.gemm_tile_rows && tile_cost[i] <= best_cost * 1.01) {
      best = tile_best[i];
      break;
    }
  }
  work.calibration = best;
  Stage b{&work, &free_b, &rows_b, &fit.evaluations};
  if (!rows_b.empty()) MultiStart(b, o);

  // Round the fitted values; the errors below are those of the rounded ones.
  std::set<std::string> fitted_keys;
  for (const auto* group : {&free_a, &free_b, &free_c}) {
    for (const Free& f : *group) {
      Set(work.calibration, *f.p, RoundSignificant(Get(work.calibration, *f.p), 4));
      fitted_keys.insert(std::string(f.p->key));
    }
  }
  fit.after = work.calibration;
  fit.after.sources = system.calibration.sources;

  // Per-row and per-family errors, before and after.
  perf::Device after_device = perf::Device::FromSystem(hardware::KernelView(work));
  std::map<std::string, std::pair<std::vector<std::pair<double, double>>,
                                  std::vector<std::pair<double, double>>>>
      pairs;
  std::map<std::string, bool> family_fitted;
  for (const auto& it : items) {
    RowResult rr;
    rr.label = it.row->Label();
    rr.family = it.family;
    rr.fitted = it.fitted;
    rr.measured = it.row->measured;
    rr.before = PredictKernel(*it.row, system, before_device).value_or(NAN);
    rr.after = PredictKernel(*it.row, work, after_device).value_or(NAN);
    pairs[it.family].first.emplace_back(rr.before, rr.measured);
    pairs[it.family].second.emplace_back(rr.after, rr.measured);
    family_fitted[it.family] = it.fitted;
    fit.rows.push_back(std::move(rr));
  }
  std::vector<std::string> families;
  for (const auto& [name, p] : pairs) families.push_back(name);
  std::stable_sort(families.begin(), families.end(), [&](const auto& a, const auto& b) {
    return std::tuple{OpRank(a), !family_fitted[a], a} <
           std::tuple{OpRank(b), !family_fitted[b], b};
  });
  std::map<std::string, std::pair<FamilyError, FamilyError>> spread;
  for (const auto& name : families) {
    FamilyError before = Spread(pairs[name].first), after = Spread(pairs[name].second);
    before.family = after.family = name;
    before.fitted = after.fitted = family_fitted[name];
    fit.before_errors.push_back(before);
    fit.after_errors.push_back(after);
    spread[name] = {before, after};
  }

  // Parameters and their source strings.
  auto algorithm_for = [&](size_t params) {
    return params >= 2 ? fmt::format(
                             "NLopt LN_BOBYQA from {} deterministic starts, least squares "
                             "of log(predicted/measured)",
                             o.starts)
                       : std::string(
                             "grid scan of the legal range, then NLopt LN_NELDERMEAD, "
                             "least squares of log(predicted/measured)");
  };
  const std::string algorithm = algorithm_for(2);
  fit.method = fmt::format(
      "{} (a single-parameter stage: grid scan, then Nelder-Mead); stages: GEMM+attention, "
      "all-reduce, MoE; gemm_tile_rows by grid over {{{}}} (summed "
      "squared log error {}; within 1% of the lowest the previous value is kept)",
      algorithm, fmt::join(o.tile_rows, ", "), fmt::join(tile_costs, ", "));
  auto describe = [&](std::function<bool(const std::string&)> family_pred) {
    std::vector<std::string> parts;
    for (const auto& name : families) {
      if (!family_pred(name)) continue;
      std::set<std::string> sources;
      for (const auto& it : items) {
        if (it.family == name) sources.insert(fmt::format("[{}]", it.row->source));
      }
      const auto& [b, a] = spread[name];
      parts.push_back(
          fmt::format("{}{} {}: {} rows, median {}, max {}, {:.0f}% within 1.5x "
                      "(before {}, {}, {:.0f}%)",
                      name, family_fitted[name] ? "" : " (held out)", fmt::join(sources, ""),
                      a.rows, Factor(a.median), Factor(a.max), 100 * a.within, Factor(b.median),
                      Factor(b.max), 100 * b.within));
    }
    return fmt::format("{}", fmt::join(parts, "; "));
  };
  auto family_pred_for = [&](std::string_view key) -> std::function<bool(const std::string&)> {
    if (key.starts_with("gemm_eff_")) {
      std::string prefix = fmt::format("GEMM {}", key.substr(9));
      return [prefix](const std::string& f) { return f.starts_with(prefix); };
    }
    if (key == "mem_eff") {
      return [](const std::string& f) {
        return f.starts_with("GEMM") || f.starts_with("decode") || f.starts_with("HBM");
      };
    }
    if (key == "kernel_launch_us") {
      return [&](const std::string& f) {
        return family_fitted[f] && (f.starts_with("GEMM") || f.find("attention") != f.npos);
      };
    }
    if (key.starts_with("attn_prefill") || key.starts_with("attn_len")) {
      return [](const std::string& f) { return f.starts_with("context attention"); };
    }
    if (key == "attn_decode_eff") {
      return [](const std::string& f) { return f.starts_with("decode attention"); };
    }
    if (key.starts_with("comm_")) {
      return [](const std::string& f) { return f.starts_with("all-reduce"); };
    }
    if (key == "moe_gemm_eff") {
      return [](const std::string& f) { return f.starts_with("MoE"); };
    }
    return [&](const std::string& f) {  // gemm_tile_rows
      return family_fitted[f] && (f.starts_with("GEMM") || f.starts_with("MoE"));
    };
  };
  auto keys_of = [](const std::vector<Free>& free) {
    std::vector<std::string_view> keys;
    for (const Free& f : free) keys.push_back(f.p->key);
    return fmt::format("{}", fmt::join(keys, ", "));
  };
  static constexpr std::string_view kKernelKeys[] = {
      "gemm_eff_bf16",   "gemm_eff_fp8",     "gemm_eff_fp4",        "gemm_tile_rows",
      "mem_eff",         "kernel_launch_us", "attn_prefill_eff",    "attn_len_half_tokens",
      "attn_decode_eff", "comm_bw_eff",      "comm_latency_factor", "moe_gemm_eff"};
  const std::string tool = fmt::format("disagg calibrate --kernels {}", o.origin);
  for (std::string_view key : kKernelKeys) {
    const CalibrationParam& p = Param(key);
    ParamFit pf{std::string(key), Get(fit.before, p), Get(fit.after, p), "kept (no rows)"};
    std::string source;
    if (fitted_keys.contains(pf.key)) {
      pf.how = "fitted";
      auto in = [&](const std::vector<Free>& g) {
        return std::any_of(g.begin(), g.end(), [&](const Free& f) { return f.p->key == key; });
      };
      const std::vector<Free>& group = in(free_a) ? free_a : in(free_b) ? free_b : free_c;
      std::string note;
      if (key == "attn_prefill_eff" || key == "attn_len_half_tokens") {
        note =
            " The model charges attention math at the bf16 rate whatever the KV format, so "
            "rows with an fp8 KV cache (run as FP8 FMHA) are held out.";
      } else if (key == "moe_gemm_eff") {
        note =
            " The rows use balanced routing, so this is the grouped expert GEMM's own rate; "
            "routing skew (moe_imbalance) is fitted end to end.";
      } else if (key == "kernel_launch_us") {
        note =
            " Single kernels timed on their own pay their launch and synchronisation; inside a "
            "CUDA-graph step the per-kernel cost (kernel_overhead_us) is fitted end to end.";
      }
      source = fmt::format(
          "Fitted by `{}` ({}; jointly: {}; gemm_tile_rows {}) on {}'s rows. {}. "
          "Previous value {:.4g}.{}",
          tool, algorithm_for(group.size()), keys_of(group), work.calibration.gemm_tile_rows,
          system.name, describe(family_pred_for(key)), pf.before, note);
    } else if (key == "gemm_tile_rows" && tiles_matter) {
      pf.how = fmt::format("grid {}", fmt::join(o.tile_rows, "/"));
      source = fmt::format(
          "Chosen by `{}` on {}'s rows: each candidate tile height with the GEMM+attention and "
          "MoE stages refitted, summed squared log error {}; the lowest wins, but within 1% of it "
          "the previous value is kept. {}.",
          tool, system.name, fmt::join(tile_costs, ", "), describe(family_pred_for(key)));
    } else if (key == "mem_eff" && !streams.empty()) {
      pf.how = "STREAM";
      source = fmt::format(
          "Measured HBM streaming bandwidth {:.3g} TB/s {} of the {:.3g} TB/s spec = {:.4g}; held "
          "fixed in the kernel fit (`{}`). {}.",
          stream_bw / 1e12, fmt::join(stream_sources, ""), system.gpu.hbm_bw / 1e12, pf.after, tool,
          describe(family_pred_for(key)));
    } else if (key.starts_with("gemm_eff_")) {
      DType t = key.ends_with("bf16")  ? DType::kBf16
                : key.ends_with("fp8") ? DType::kFp8
                                       : DType::kNvfp4;
      if (!system.gpu.Supports(t)) {
        pf.how = "unused";
        source = fmt::format("Unused: {} has no {} tensor cores, so no GEMM reads this value.",
                             system.gpu.name, DTypeName(t));
      }
    }
    if (!source.empty()) fit.after.sources[pf.key] = source;
    fit.params.push_back(std::move(pf));
  }
  return fit;
}

}  // namespace disagg::calib
