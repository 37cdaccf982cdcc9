#include "disagg/sim/deployment.h"

#include <fmt/format.h>

#include "disagg/parallel/mapping_check.h"
#include "disagg/parallel/memory.h"
#include "disagg/perf/sharding.h"

namespace disagg::sim {
namespace {

constexpr int kUnlimitedBatch = 1 << 30;

// Splits the per-GPU cache bytes of a sequence into full, sliding-window and
// fixed parts (perf/sharding.h is the single source of these numbers).
KvCost MakeKvCost(const model::ModelSpec& m, const perf::Precision& p, const perf::Mapping& map) {
  KvCost k;
  k.fixed = perf::KvBytesPerSequencePerGpu(m, p, map, 0);
  double per_token = perf::KvBytesPerTokenPerGpu(m, p, map);
  if (m.sliding_window > 0) {
    double w = m.sliding_window;
    k.cap = w;
    k.full = (perf::KvBytesPerSequencePerGpu(m, p, map, 2 * w) -
              perf::KvBytesPerSequencePerGpu(m, p, map, w)) /
             w;
    k.capped = std::max(0.0, per_token - k.full);
  } else {
    k.full = per_token;
  }
  return k;
}

std::string PoolLabel(Role role, const PoolSpec& s) {
  return fmt::format("{} pool ({} x {})", RoleName(role), s.instances, s.mapping.Label());
}

}  // namespace

int Deployment::gpus() const {
  if (!disaggregated) return colocated.instances * colocated.mapping.gpus();
  return prefill.instances * prefill.mapping.gpus() + decode.instances * decode.mapping.gpus();
}

std::string Deployment::Speculative() const {
  if (speculation.depth == 0) return "";
  return fmt::format(", MTP depth {} ({:.2f} tokens/step)", speculation.depth,
                     speculation.TokensPerStep());
}

std::string Deployment::Describe() const {
  auto pool = [](const PoolSpec& s, const char* what) {
    return fmt::format("{} x {} {}{}{}", s.instances, s.mapping.Label(), what,
                       s.max_batch > 0 ? fmt::format(" batch {}", s.max_batch) : "",
                       s.chunk > 0 ? fmt::format(" chunk {}", s.chunk) : "");
  };
  if (!disaggregated) {
    const char* schedule = colocated.prefill_first == 1   ? ", prefill first"
                           : colocated.prefill_first == 0 ? ", mixed"
                                                          : "";
    return pool(colocated, "co-located") + schedule +
           (colocated.whole_prompts ? ", whole prompts" : "") + Speculative();
  }
  return pool(prefill, "prefill") + " + " + pool(decode, "decode") + Speculative();
}

bool PrefillFirst(const PoolSpec& spec, hardware::Backend backend) {
  return spec.prefill_first >= 0 ? spec.prefill_first == 1 : backend == hardware::Backend::kSglang;
}

Result<std::vector<Pool>> BuildPools(const model::ModelSpec& model,
                                     const hardware::SystemSpec& system,
                                     const perf::Precision& precision, hardware::Backend backend,
                                     const Deployment& d, double prompt_hint) {
  std::vector<std::pair<Role, PoolSpec>> specs;
  if (d.disaggregated) {
    specs = {{Role::kPrefill, d.prefill}, {Role::kDecode, d.decode}};
  } else {
    specs = {{Role::kColocated, d.colocated}};
  }
  std::vector<Pool> pools;
  for (auto [role, spec] : specs) {
    const std::string label = PoolLabel(role, spec);
    if (spec.instances < 0) return Fail("{}: instances must not be negative", label);
    if (spec.max_batch < 0) return Fail("{}: batch must not be negative", label);
    if (spec.chunk < 0) return Fail("{}: chunk must not be negative", label);
    auto legal = parallel::CheckMapping(model, system, spec.mapping, true);
    if (!legal.ok()) return Fail("{}: impossible mapping: {}", label, legal.detail);
    auto step =
        perf::StepModel::Create(model, system, precision, spec.mapping, backend, d.speculation);
    if (!step) return Fail("{}: {}", label, step.error().message);
    Pool p;
    p.role = role;
    p.spec = spec;
    p.model = std::make_shared<const perf::StepModel>(std::move(*step));
    const auto& map = spec.mapping;
    const int batch = spec.max_batch > 0 ? spec.max_batch : kUnlimitedBatch;
    // Workspace for the largest step per attention-DP rank.
    double step_tokens, step_seqs;
    if (role == Role::kPrefill) {
      double tokens = spec.chunk > 0 ? spec.chunk : prompt_hint;
      step_seqs = std::ceil(std::max(1, spec.max_batch) / double(map.dp));
      step_tokens = step_seqs * tokens;
    } else {
      step_seqs = std::min<double>(batch, 4096) / map.dp / map.pp;
      step_tokens =
          step_seqs * p.model->rows_per_decode() + (role == Role::kColocated ? spec.chunk : 0);
    }
    const double mtp =
        d.speculation.depth > 0 ? perf::MtpWeightBytesPerGpu(model, precision, map) : 0;
    auto fit = parallel::FitMemory(model, system, precision, map, backend, step_tokens, step_seqs,
                                   mtp, spec.mem_fraction);
    if (!fit.weights_fit || fit.kv_budget <= 0) {
      return Fail(
          "{} does not fit in memory: weights {:.1f} GiB + activations {:.1f} GiB + "
          "reserve {:.1f} GiB per GPU exceed the {:.1f} GiB of {}",
          label, fit.weights / 1073741824.0, fit.activations / 1073741824.0,
          fit.reserved / 1073741824.0, fit.hbm / 1073741824.0, system.gpu.name);
    }
    InstanceConfig& c = p.config;
    c.role = role;
    c.model = p.model.get();
    c.max_batch = role == Role::kPrefill ? std::max(1, spec.max_batch) : batch;
    c.chunk = spec.chunk;
    if (role == Role::kColocated && spec.chunk > 0 && p.model->tokens_per_step() > 1) {
      c.chunk = std::max<int64_t>(
          1, std::llround(static_cast<double>(spec.chunk) / p.model->tokens_per_step()));
    }
    c.kv_capacity = fit.kv_budget * map.dp;
    c.kv = MakeKvCost(model, precision, map);
    // TensorRT-LLM's default capacity scheduler guarantees no eviction;
    // SGLang's co-located scheduler is driven by requests of known length.
    c.admission = backend == hardware::Backend::kTrtllm ? Admission::kWholeRequest
                  : backend == hardware::Backend::kSglang && role == Role::kColocated
                      ? Admission::kWholeOutputs
                      : Admission::kPrompt;
    c.prefill_first = role == Role::kColocated && PrefillFirst(spec, backend);
    c.whole_prompts = role == Role::kColocated && spec.whole_prompts;
    c.recv_interval = role == Role::kColocated ? std::max(1, spec.recv_interval) : 1;
    if (role == Role::kColocated) {
      c.adp_balance = spec.adp_balance;
      c.batch_wait = spec.batch_wait;
    }
    c.gpus = map.gpus();
    pools.push_back(std::move(p));
  }
  return pools;
}

Result<RouterPolicy> ParseRouterPolicy(std::string_view name) {
  if (name == "round-robin" || name == "rr") return RouterPolicy::kRoundRobin;
  if (name == "least-outstanding" || name == "lor") return RouterPolicy::kLeastOutstanding;
  if (name == "least-kv" || name == "kv") return RouterPolicy::kLeastKv;
  return Fail("--router: unknown policy '{}' (expected round-robin, least-outstanding or least-kv)",
              name);
}

const char* RouterPolicyName(RouterPolicy p) {
  switch (p) {
    case RouterPolicy::kRoundRobin:
      return "round-robin";
    case RouterPolicy::kLeastOutstanding:
      return "least-outstanding";
    case RouterPolicy::kLeastKv:
      return "least-kv";
  }
  return "?";
}

}  // namespace disagg::sim
