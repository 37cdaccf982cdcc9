#include "disagg/calib/validate.h"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include "disagg/model/hf_config.h"
#include "disagg/sim/simulator.h"

namespace disagg::calib {
namespace {

// Specs loaded once and shared read-only by the worker threads.
class SpecCache {
 public:
  explicit SpecCache(const PredictOptions& o) : overrides_(o.systems) {}
  const model::ModelSpec* Model(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) {
      auto m = model::LoadModel(name);
      it = models_.emplace(name, m ? std::optional(*m) : std::nullopt).first;
    }
    return it->second ? &*it->second : nullptr;
  }
  const hardware::SystemSpec* System(const std::string& name) {
    if (auto o = overrides_.find(name); o != overrides_.end()) return &o->second;
    std::lock_guard lock(mu_);
    auto it = systems_.find(name);
    if (it == systems_.end()) {
      auto s = hardware::LoadSystem(name);
      it = systems_.emplace(name, s ? std::optional(*s) : std::nullopt).first;
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  const std::map<std::string, hardware::SystemSpec>& overrides_;
  std::mutex mu_;
  std::map<std::string, std::optional<model::ModelSpec>> models_;
  std::map<std::string, std::optional<hardware::SystemSpec>> systems_;
};

RowPrediction PredictOne(const SiliconRow& row, const PredictOptions& o, SpecCache& cache) {
  RowPrediction p;
  p.row = &row;
  const model::ModelSpec* m = cache.Model(row.model);
  const hardware::SystemSpec* s = cache.System(row.system);
  if (m == nullptr || s == nullptr) {
    p.reason = "catalog entry does not load";
    return p;
  }
  sim::SimConfig c;
  c.model = *m;
  c.system = *s;
  c.precision = row.precision;
  c.backend = row.backend;
  auto& d = c.deployment;
  d.speculation = row.speculation;
  if (d.speculation.depth > 0) d.speculation.acceptance = o.mtp_acceptance;
  if (row.disaggregated) {
    d.disaggregated = true;
    d.prefill = sim::PoolSpec{row.prefill.mapping, row.prefill.workers,
                              row.prefill.batch * row.prefill.mapping.dp, 0};
    d.decode = sim::PoolSpec{row.decode.mapping, row.decode.workers,
                             row.decode.batch * row.decode.mapping.dp, 0};
  } else {
    // A batch below the concurrency means several workers behind a router
    // (the Dynamo deployments of the file: concurrency 448 on workers of
    // batch 14): as many as the clients need.
    const int batch = row.agg.batch * row.agg.mapping.dp;
    const int workers = static_cast<int>((row.concurrency + batch - 1) / batch);
    d.colocated = sim::PoolSpec{row.agg.mapping, std::max(1, workers), batch,
                                row.chunk > 0 ? row.chunk : o.chunk};
    d.colocated.prefill_first = row.prefill_first;
    d.colocated.whole_prompts = row.whole_prompts;
    d.colocated.recv_interval = row.recv_interval;
    d.colocated.mem_fraction = row.mem_fraction;
    d.colocated.adp_balance = row.adp_balance;
    d.colocated.batch_wait = row.batch_wait;
  }
  auto spread = [&](int64_t n) {
    return std::max<int64_t>(1, static_cast<int64_t>(row.length_ratio * static_cast<double>(n)));
  };
  auto lengths = row.length_ratio < 1
                     ? sim::UniformLengths(spread(row.isl), row.isl, spread(row.osl), row.osl)
                     : sim::FixedLengths(row.isl, row.osl);
  c.lengths = lengths.get();
  c.concurrency = row.concurrency;
  c.prompt_hint = static_cast<double>(row.isl);
  // The opening burst: every client's first request at once.
  sim::SimConfig burst = c;
  burst.closed_requests = row.concurrency;
  // An engine that takes prompts whole (prefill first, or without chunked
  // prefill) keeps a fixed-length cohort together (see the header): every
  // round is a burst.
  const bool cohort = !row.disaggregated && row.length_ratio >= 1 &&
                      (row.whole_prompts || sim::PrefillFirst(d.colocated, row.backend));
  if (cohort) burst.closed_requests *= o.benchmark_requests;
  auto r = sim::Simulate(burst);
  if (r && r->requests_completed > 0 && o.benchmark_requests > 1 && !cohort) {
    // The settled run: clients at independent phases. Starting them over one
    // request latency and measuring after it leaves the ramp out.
    const double period = r->e2e.mean;
    c.client_spread = period;
    c.warmup = period;
    c.closed_requests = row.concurrency * (o.rounds + 1);
    c.seed = static_cast<uint64_t>(row.line);
    auto settled = sim::Simulate(c);
    if (!settled) {
      r = std::move(settled);
    } else if (settled->requests_completed > 0) {  // else the burst alone stands
      const double w = 1.0 / o.benchmark_requests;
      settled->ftl.mean = w * r->ftl.mean + (1 - w) * settled->ftl.mean;
      settled->ttl.mean = w * r->ttl.mean + (1 - w) * settled->ttl.mean;
      r = std::move(settled);
    }
  }
  if (!r) {
    p.reason = r.error().message.find("does not fit") != std::string::npos
                   ? "deployment does not fit in the modelled memory"
                   : "simulation failed";
    return p;
  }
  if (r->requests_completed == 0) {
    p.reason = "no request completed";
    return p;
  }
  p.ok = true;
  p.ttft = r->ftl.mean;
  p.tpot = row.osl > 1 ? r->ttl.mean : 0;
  return p;
}

// The band of concurrencies a row falls in: [1, 4], then bands whose bounds
// quadruple, the last open (high 0).
std::pair<long long, long long> ConcurrencyBand(long long concurrency) {
  long long low = 1, high = 4;
  while (concurrency > high && high < 1024) {
    low = high + 1;
    high *= 4;
  }
  if (concurrency > high) return {high + 1, 0};
  return {low, high};
}

// The band of output token rates (tokens/s) a row streamed: (0, 1000], then
// bands whose bounds double up to 64,000, the last open. Returns the band's
// index (0-7), or -1 without a TPOT.
int LoadBand(const SiliconRow& row) {
  if (row.osl <= 1 || row.tpot <= 0 || row.concurrency <= 0) return -1;
  const double rate = static_cast<double>(row.concurrency) / row.tpot;
  int band = 0;
  for (double high = 1000; rate > high && band < 7; high *= 2) ++band;
  return band;
}

std::string LoadBandName(int band) {
  if (band < 0) return "no TPOT";
  if (band == 0) return "<=1k tok/s";
  if (band == 7) return ">64k tok/s";
  return fmt::format("{}k-{}k tok/s", 1 << (band - 1), 1 << band);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  return (hi + *std::max_element(v.begin(), v.begin() + mid)) / 2;
}

}  // namespace

std::string ReplaySummary(int benchmark_requests) {
  return fmt::format(
      "{} requests per client: an opening burst, then clients at independent phases; "
      "fixed-length runs of engines that take prompts whole, every round a burst",
      benchmark_requests);
}

std::vector<RowPrediction> PredictRows(const std::vector<SiliconRow>& rows,
                                       const PredictOptions& o) {
  SpecCache cache(o);
  std::vector<RowPrediction> out(rows.size());
  auto one = [&](size_t i) { out[i] = PredictOne(rows[i], o, cache); };
  if (o.parallel) {
    tbb::parallel_for(size_t{0}, rows.size(), one);
  } else {
    for (size_t i = 0; i < rows.size(); ++i) one(i);
  }
  return out;
}

ErrorSummary Summarize(const std::vector<const RowPrediction*>& predictions) {
  ErrorSummary s;
  std::vector<double> ttft, tpot, ttft_signed, tpot_signed;
  for (const RowPrediction* p : predictions) {
    if (!p->ok) continue;
    ttft.push_back(std::fabs(p->ttft_error()));
    ttft_signed.push_back(p->ttft_error());
    if (p->row->osl > 1) {
      tpot.push_back(std::fabs(p->tpot_error()));
      tpot_signed.push_back(p->tpot_error());
    }
  }
  s.rows = static_cast<long long>(ttft.size());
  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return v.empty() ? 0.0 : sum / v.size();
  };
  s.ttft_mape = mean(ttft);
  s.tpot_mape = mean(tpot);
  s.ttft_median_ape = Median(ttft);
  s.tpot_median_ape = Median(tpot);
  s.ttft_bias = Median(ttft_signed);
  s.tpot_bias = Median(tpot_signed);
  return s;
}

Json ErrorSummaryJson(const ErrorSummary& s) {
  return Json{{"rows", s.rows},
              {"ttft_mape", s.ttft_mape},
              {"tpot_mape", s.tpot_mape},
              {"ttft_median_ape", s.ttft_median_ape},
              {"tpot_median_ape", s.tpot_median_ape},
              {"ttft_median_signed_error", s.ttft_bias},
              {"tpot_median_signed_error", s.tpot_bias}};
}

std::string DescriptionKey(const SiliconRow& row) {
  auto pool = [](const SiliconPool& p) {
    const auto& m = p.mapping;
    return fmt::format("{}x{}/{}/{}/{}/{}b{}", p.workers, m.tp, m.pp, m.dp, m.moe_tp, m.moe_ep,
                       p.batch);
  };
  auto quant = [](const perf::QuantMode& m) {
    return fmt::format("{}{}{}", static_cast<int>(m.weight), static_cast<int>(m.compute),
                       m.block_scaled ? "b" : "");
  };
  const auto& q = row.precision;
  return fmt::format(
      "{}|{}|{}|{}|{}.{}.{}|{}|{}|{}|{}|{}|{}.{}|{}|{}|{}.{}|{}.{}|{}|{}|{}|{}|{}/{}|{}", row.model,
      row.system, row.backend_name, row.precision_label, quant(q.gemm), quant(q.moe),
      static_cast<int>(q.kv), row.disaggregated, pool(row.agg), pool(row.prefill), pool(row.decode),
      row.fully_described, row.speculation.depth, row.speculation.acceptance, row.recv_interval,
      row.mem_fraction, row.adp_balance.timeout_iters, row.adp_balance.batching_wait_iters,
      row.batch_wait.timeout_iters, row.batch_wait.threshold_tokens, row.length_ratio, row.chunk,
      row.prefill_first, row.whole_prompts, row.isl, row.osl, row.concurrency);
}

MeasurementFloor FloorOf(const std::vector<const RowPrediction*>& predictions) {
  std::map<std::string, std::vector<const SiliconRow*>> by_key;
  for (const RowPrediction* p : predictions) {
    if (p->ok) by_key[DescriptionKey(*p->row)].push_back(p->row);
  }
  // Sum over `values` of |c / v - 1| at the best c, which is one of them:
  // the sum is convex and piecewise linear in c with kinks at the values.
  auto best_sum = [](const std::vector<double>& values) {
    double best = std::numeric_limits<double>::infinity();
    for (double c : values) {
      double sum = 0;
      for (double v : values) sum += std::fabs(c / v - 1);
      best = std::min(best, sum);
    }
    return values.empty() ? 0.0 : best;
  };
  MeasurementFloor f;
  double ttft_sum = 0, tpot_sum = 0;
  long long tpot_rows = 0;
  for (const auto& [key, rows] : by_key) {
    std::vector<double> ttft, tpot;
    for (const SiliconRow* r : rows) {
      ttft.push_back(r->ttft);
      if (r->osl > 1) tpot.push_back(r->tpot);
    }
    f.rows += static_cast<long long>(rows.size());
    tpot_rows += static_cast<long long>(tpot.size());
    if (rows.size() < 2) continue;
    f.repeated_rows += static_cast<long long>(rows.size());
    const double t = best_sum(ttft), p = best_sum(tpot);
    if (t > 0 || p > 0) f.disagreeing += static_cast<long long>(rows.size());
    ttft_sum += t;
    tpot_sum += p;
  }
  f.ttft_mape = f.rows > 0 ? ttft_sum / f.rows : 0;
  f.tpot_mape = tpot_rows > 0 ? tpot_sum / tpot_rows : 0;
  return f;
}

std::string GroupValue(const SiliconRow& row, const std::string& key) {
  if (key == "system") return row.system;
  if (key == "backend") return row.backend_name;
  if (key == "version") {
    return row.backend_name + " " + (row.backend_version.empty() ? "?" : row.backend_version);
  }
  if (key == "model") return row.model;
  if (key == "precision") return row.precision_label.empty() ? "bf16" : row.precision_label;
  if (key == "harness") return row.harness;
  if (key == "concurrency") {
    const auto [low, high] = ConcurrencyBand(row.concurrency);
    return high > 0 ? fmt::format("c{}-{}", low, high) : fmt::format("c{}+", low);
  }
  if (key == "load") return LoadBandName(LoadBand(row));
  if (key == "mode") {
    if (row.beyond_nvlink_domain) return "tp-beyond-domain";
    if (row.disaggregated && !row.fully_described) return "disagg-assumed";
    if (row.dep_assumed) return "dep-assumed";
    if (row.speculation.depth > 0) return "mtp-assumed";
    return row.disaggregated ? "disagg" : "agg";
  }
  return "?";
}

std::string GroupOrder(const SiliconRow& row, const std::string& key) {
  if (key == "concurrency") return fmt::format("{:08d}", ConcurrencyBand(row.concurrency).first);
  if (key == "load") return fmt::format("{:02d}", LoadBand(row) + 1);
  return GroupValue(row, key);
}

bool Headline(const SiliconRow& row) {
  return !row.beyond_nvlink_domain && !row.dep_assumed && row.speculation.depth == 0 &&
         (!row.disaggregated || row.fully_described);
}

}  // namespace disagg::calib
