#include "disagg/calib/kernel_predict.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "disagg/model/model_spec.h"
#include "disagg/perf/batch.h"
#include "disagg/perf/step_model.h"

namespace disagg::calib {
namespace {

using hardware::SystemSpec;

const double kBand = std::log(1.5);

std::optional<double> PredictMoe(const MoeShape& s, const SystemSpec& system) {
  // One MoE layer with only the routed experts of the row; attention and the
  // router are costed by StepModel too but land in other parts of the
  // breakdown.
  model::ModelSpec m;
  m.name = "kernel-row-moe";
  m.hidden_size = static_cast<int64_t>(s.hidden);
  m.num_layers = 1;
  m.num_heads = s.tp * s.ep;
  m.num_kv_heads = s.tp * s.ep;
  m.head_dim = 128;
  m.gated_ffn = true;
  m.num_experts = s.experts;
  m.experts_per_token = s.top_k;
  m.moe_intermediate_size = static_cast<int64_t>(s.inter);
  m.kinds = {model::LayerKind{model::AttentionType::kFull, model::FfnType::kMoe}};
  m.layer_kind = {0};
  perf::Precision p;
  p.name = s.quant;
  p.moe = perf::QuantMode{s.compute, s.compute};
  perf::Mapping map;
  map.tp = s.tp * s.ep;
  map.moe_tp = s.tp;
  map.moe_ep = s.ep;
  auto step =
      perf::StepModel::Create(m, hardware::KernelView(system), p, map, hardware::Backend::kTrtllm);
  if (!step) return std::nullopt;
  perf::BatchShape b = step->NewBatch();
  b.AddDecode(s.tokens, 0);
  return step->Evaluate(b).breakdown.moe;
}

}  // namespace

std::optional<double> PredictKernel(const KernelRow& row, const SystemSpec& system,
                                    const perf::Device& d) {
  struct Visitor {
    const SystemSpec& system;
    const perf::Device& d;
    std::optional<double> operator()(const GemmShape& g) const {
      if (!system.gpu.Supports(g.compute)) return std::nullopt;
      double t = perf::GemmTime(d, g.m, g.n, g.k, g.compute, g.compute);
      // A BLAS benchmark's inputs are already in the format: no quantise kernel.
      if (g.library == GemmLibrary::kVendorBlas) t -= perf::QuantizeTime(d, g.m * g.k, g.compute);
      return t;
    }
    std::optional<double> operator()(const DecodeAttentionShape& a) const {
      perf::BatchShape b;
      b.AddDecode(a.batch, a.kv_len);
      double flops = 4.0 * b.decode_kv * a.head_dim * a.q_heads;
      double bytes = b.decode_kv * 2 * a.kv_heads * a.head_dim * BytesPerElement(a.kv);
      return perf::DecodeAttentionTime(d, flops, bytes);
    }
    std::optional<double> operator()(const ContextAttentionShape& a) const {
      perf::BatchShape b;
      b.AddPrefill(a.batch, a.seq, 0);
      double flops = 4.0 * b.prefill_pairs * a.head_dim * a.q_heads;
      double bytes = b.prefill_ctx * 2 * a.kv_heads * a.head_dim * BytesPerElement(a.kv);
      return perf::AttentionTime(d, flops, b.prefill_pairs / b.prefill_tokens, bytes);
    }
    std::optional<double> operator()(const AllReduceShape& a) const {
      return perf::AllReduceTime(d.LinkFor(a.gpus), a.bytes, a.gpus);
    }
    std::optional<double> operator()(const MoeShape& m) const { return PredictMoe(m, system); }
    std::optional<double> operator()(const HbmStreamShape&) const { return d.mem_bw; }
  };
  return std::visit(Visitor{system, d}, row.shape);
}

std::string KernelFamily(const KernelRow& row) {
  struct Visitor {
    std::string operator()(const GemmShape& g) const {
      return fmt::format("GEMM {}{}", DTypeName(g.compute),
                         g.library == GemmLibrary::kVendorBlas ? " (vendor BLAS)" : "");
    }
    std::string operator()(const DecodeAttentionShape&) const { return "decode attention"; }
    std::string operator()(const ContextAttentionShape& a) const {
      return a.kv == DType::kBf16 ? "context attention"
                                  : fmt::format("context attention, KV {}", DTypeName(a.kv));
    }
    std::string operator()(const AllReduceShape& a) const {
      return a.impl == AllReduceImpl::kNccl ? "all-reduce NCCL" : "all-reduce TRT-LLM";
    }
    std::string operator()(const MoeShape& m) const {
      return fmt::format("MoE {}", DTypeName(m.compute));
    }
    std::string operator()(const HbmStreamShape&) const { return "HBM STREAM"; }
  };
  return std::visit(Visitor{}, row.shape);
}

FamilyError Spread(const std::vector<std::pair<double, double>>& pm) {
  FamilyError s;
  std::vector<double> e;
  int within = 0;
  for (auto [p, m] : pm) {
    double x = std::fabs(std::log(p / m));
    if (!std::isfinite(x)) x = 1e9;
    e.push_back(x);
    within += x <= kBand + 1e-12;
  }
  s.rows = static_cast<int>(e.size());
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  size_t n = e.size();
  s.median = std::exp(n % 2 ? e[n / 2] : 0.5 * (e[n / 2 - 1] + e[n / 2]));
  s.max = std::exp(e.back());
  s.within = static_cast<double>(within) / s.rows;
  return s;
}

KernelSelection SelectKernelRows(const SystemSpec& system, const std::vector<KernelRow>& all,
                                 bool mem_eff_from_stream) {
  KernelSelection sel;
  perf::Device device = perf::Device::FromSystem(hardware::KernelView(system));
  std::vector<const KernelRow*> mine;
  std::map<std::tuple<double, double, double, int, int, int, int, int>, const KernelRow*> moe_best;
  for (const KernelRow& r : all) {
    if (r.system != system.name) continue;
    if (!PredictKernel(r, system, device)) {
      ++sel.excluded[fmt::format("{}: compute format without tensor cores on {}", KernelFamily(r),
                                 system.gpu.name)];
      continue;
    }
    if (const auto* m = std::get_if<MoeShape>(&r.shape)) {
      auto key = std::tuple{m->tokens, m->hidden, m->inter, m->experts,
                            m->top_k,  m->ep,     m->tp,    static_cast<int>(m->compute)};
      auto [it, added] = moe_best.emplace(key, &r);
      if (!added) {
        ++sel.excluded["MoE: a slower kernel at a shape with a faster one (the fastest is kept)"];
        if (r.measured < it->second->measured) it->second = &r;
      }
      continue;
    }
    mine.push_back(&r);
  }
  for (const auto& [key, r] : moe_best) mine.push_back(r);
  std::stable_sort(mine.begin(), mine.end(),
                   [](const KernelRow* a, const KernelRow* b) { return a->line < b->line; });

  auto has = [&](auto pred) { return std::any_of(mine.begin(), mine.end(), pred); };
  const bool trtllm_gemm = has([](const KernelRow* r) {
    auto* g = std::get_if<GemmShape>(&r->shape);
    return g != nullptr && g->library == GemmLibrary::kTrtllm;
  });
  const bool trtllm_allreduce = has([](const KernelRow* r) {
    auto* a = std::get_if<AllReduceShape>(&r->shape);
    return a != nullptr && a->impl == AllReduceImpl::kTrtllmCustom;
  });
  for (const KernelRow* r : mine) {
    SelectedRow s{r, KernelFamily(*r)};
    switch (r->op) {
      case KernelOp::kGemm:
        s.fitted = !trtllm_gemm || std::get<GemmShape>(r->shape).library == GemmLibrary::kTrtllm;
        break;
      case KernelOp::kDecodeAttention:
      case KernelOp::kMoe:
        s.fitted = true;
        break;
      case KernelOp::kContextAttention:
        s.fitted = std::get<ContextAttentionShape>(r->shape).kv == DType::kBf16;
        break;
      case KernelOp::kAllReduce:
        s.fitted = !trtllm_allreduce ||
                   std::get<AllReduceShape>(r->shape).impl == AllReduceImpl::kTrtllmCustom;
        break;
      case KernelOp::kHbmStream:
        s.fitted = mem_eff_from_stream;
        break;
    }
    sel.rows.push_back(std::move(s));
  }
  return sel;
}

}  // namespace disagg::calib
