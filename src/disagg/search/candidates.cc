#include "disagg/search/candidates.h"

#include <algorithm>
#include <cmath>

#include "disagg/parallel/memory.h"
#include "disagg/perf/sharding.h"
#include "disagg/serving/colocated.h"

namespace disagg::search {
namespace {

using parallel::Infeasible;

// Most prompt tokens one prefill step may carry (batch x chunk): beyond this
// batching adds latency without adding throughput.
constexpr double kMaxPrefillStepTokens = 65536;
// Smallest CPP chunk worth pipelining.
constexpr double kMinChunk = 512;

// Sequences of `context` tokens that fit per instance, given the step's token
// and logit counts per DP rank. 0 when the weights alone do not fit.
int64_t FitSequences(const perf::StepModel& step, const hardware::SystemSpec& system,
                     double step_tokens, double step_seqs, double context) {
  const auto& map = step.mapping();
  const double mtp = step.speculation().depth > 0
                         ? perf::MtpWeightBytesPerGpu(step.model(), step.precision(), map)
                         : 0;
  auto fit = parallel::FitMemory(step.model(), system, step.precision(), map, step.backend(),
                                 step_tokens, step_seqs, mtp);
  if (!fit.weights_fit) return 0;
  return parallel::MaxSequences(fit, step.model(), step.precision(), map, context);
}

}  // namespace

void Tally::SeeFtl(double ftl, const std::string& config) {
  if (fastest_ftl_config.empty() || ftl < fastest_ftl) {
    fastest_ftl = ftl;
    fastest_ftl_config = config;
  }
}

void Tally::Merge(const Tally& o) {
  evaluated += o.evaluated;
  feasible += o.feasible;
  pruned += o.pruned;
  for (int i = 0; i < parallel::kNumInfeasible; ++i) infeasible[i] += o.infeasible[i];
  if (!o.fastest_ftl_config.empty()) SeeFtl(o.fastest_ftl, o.fastest_ftl_config);
}

std::vector<int> DecodeBatchGrid(int max_per_rank) {
  std::vector<int> grid;
  for (int b = 1; b <= std::min(16, max_per_rank); ++b) grid.push_back(b);
  double b = 16;
  while (true) {
    b *= 1.12;
    int v = static_cast<int>(std::lround(b / 2) * 2);  // even sizes beyond 16
    if (v > max_per_rank) break;
    if (v > grid.back()) grid.push_back(v);
  }
  if (max_per_rank > 0 && grid.back() != max_per_rank) grid.push_back(max_per_rank);
  return grid;
}

void PrefillCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                       const FrontierOptions& o, std::vector<PrefillConfig>& out, Tally& tally) {
  const auto& map = step.mapping();
  const double isl = o.workload.isl;
  std::vector<double> chunks;
  if (map.pp == 1) {
    chunks.push_back(isl);
  } else {
    // CPP: cut the prompt into 1..64 chunks, none shorter than kMinChunk.
    for (int k = 1; k <= 64; k *= 2) {
      double c = std::ceil(isl / k);
      if (k > 1 && c < kMinChunk) break;
      chunks.push_back(c);
    }
  }
  for (int per_rank = 1; per_rank <= 64; per_rank *= 2) {
    const int batch = per_rank * map.dp;
    if (per_rank > 1 && per_rank * isl > kMaxPrefillStepTokens) break;
    for (double chunk : chunks) {
      int64_t fits = FitSequences(step, system, per_rank * chunk, per_rank, isl);
      if (fits < batch) {
        tally.Reject(Infeasible::kOutOfMemory);
        continue;
      }
      auto p = serving::EvaluatePrefill(step, batch, o.workload, chunk);
      tally.SeeFtl(p.ftl, fmt::format("{} batch {}{}", map.Label(), batch,
                                      chunk < isl ? fmt::format(" chunk {}", chunk) : ""));
      if (p.ftl > o.ftl_max) {
        tally.Reject(Infeasible::kFtlExceeded);
        continue;
      }
      tally.Ok();
      out.push_back(
          PrefillConfig{map, batch, chunk, p.ftl, p.requests_per_s, p.kv_bytes_per_request});
    }
  }
}

void DecodeCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                      const FrontierOptions& o, std::vector<DecodeConfig>& out, Tally& tally) {
  const auto& map = step.mapping();
  const double context = o.workload.isl + o.workload.osl;
  // Capacity with a modest step size first, to size the grid.
  int64_t cap = FitSequences(step, system, 256, 256, context);
  if (cap < map.dp) {
    tally.Reject(Infeasible::kOutOfMemory);
    return;
  }
  const int max_per_rank = static_cast<int>(std::min<int64_t>(cap / map.dp, 1 << 14));
  for (int per_rank : DecodeBatchGrid(max_per_rank)) {
    const int batch = per_rank * map.dp;
    const double rows = per_rank * step.rows_per_decode();  // with verified drafts
    if (rows > 256 && FitSequences(step, system, rows / map.pp, per_rank, context) < batch) {
      tally.Reject(Infeasible::kOutOfMemory);
      continue;
    }
    auto d = serving::EvaluateDecode(step, batch, o.workload);
    tally.Ok();
    out.push_back(DecodeConfig{map, batch, d.ttl, d.tokens_per_s / o.workload.osl});
  }
}

void ColocatedCandidates(const perf::StepModel& step, const hardware::SystemSpec& system,
                         const FrontierOptions& o, std::vector<DesignPoint>& out, Tally& tally) {
  const auto& map = step.mapping();
  const auto& w = o.workload;
  const double context = w.isl + w.osl;
  if (o.gpu_budget > 0 && map.gpus() > o.gpu_budget) {
    tally.Reject(Infeasible::kBudgetExceeded);
    return;
  }
  auto emit = [&](const serving::ColocatedMetrics& c, Policy policy, double chunk, int pb) {
    if (c.ftl > o.ftl_max) {
      tally.Reject(Infeasible::kFtlExceeded);
      return;
    }
    tally.Ok();
    DesignPoint p;
    p.policy = policy;
    p.ttl = c.ttl;
    p.ftl = c.ftl;
    p.tokens_per_s_per_user = 1 / c.ttl;
    p.tokens_per_s_per_gpu = c.tokens_per_s_per_gpu;
    p.gpus = map.gpus();
    p.mapping = map;
    p.batch = c.decode_batch;
    p.chunk = chunk;
    p.prefill_batch = pb;
    out.push_back(p);
  };

  // Piggybacking: sweep the per-step prompt-token budget C. Under speculative
  // decoding an engine step is tokens_per_step() token steps, so the engine's
  // budget is that many times the per-token-step C the costing uses.
  const double per_engine_step = step.tokens_per_step();
  for (double chunk = 64; chunk <= 32768; chunk *= std::sqrt(2.0)) {
    double c = std::round(chunk / 16) * 16;
    double decode = c * w.osl / w.isl;
    double seqs_rank = std::ceil((decode + std::ceil(c / w.isl)) / map.dp);
    const double engine_rows = c * per_engine_step + decode * step.rows_per_decode();
    if (FitSequences(step, system, engine_rows / map.dp / map.pp, seqs_rank, context) <
        seqs_rank * map.dp) {
      tally.Reject(Infeasible::kOutOfMemory);
      continue;
    }
    emit(serving::EvaluatePiggyback(step, w, c), Policy::kPiggyback,
         std::round(c * per_engine_step), 0);
  }

  // Prefill-first: decode batch x prompts per prefill step.
  int64_t cap = FitSequences(step, system, std::min(w.isl, kMaxPrefillStepTokens), 256, context);
  if (cap < map.dp) {
    tally.Reject(Infeasible::kOutOfMemory);
    return;
  }
  for (int per_rank : DecodeBatchGrid(static_cast<int>(std::min<int64_t>(cap / map.dp, 1 << 14)))) {
    const int batch = per_rank * map.dp;
    for (int pb = map.dp; pb <= 8 * map.dp; pb *= 2) {
      if (pb / map.dp * w.isl > kMaxPrefillStepTokens && pb > map.dp) break;
      if (batch + pb > cap) {
        tally.Reject(Infeasible::kOutOfMemory);
        continue;
      }
      emit(serving::EvaluatePrefillFirst(step, w, batch, pb), Policy::kPrefillFirst, 0, pb);
    }
  }
}

}  // namespace disagg::search
