#include "disagg/perf/step_model.h"

#include <algorithm>
#include <cmath>

#include "disagg/perf/sharding.h"

namespace disagg::perf {
namespace {

using model::AttentionType;
using model::FfnType;

// Bytes of activations streamed per token per hidden unit by a layer's
// elementwise kernels: two RMSNorms, two residual adds and RoPE, each reading
// and writing bf16.
constexpr double kElementwisePassesPerLayer = 5;

// Chunk length of the chunked gated-delta-rule kernel of linear attention.
constexpr double kLinearChunk = 64;

}  // namespace

StepBreakdown& StepBreakdown::operator+=(const StepBreakdown& o) {
  gemm += o.gemm;
  attention += o.attention;
  moe += o.moe;
  comm += o.comm;
  other += o.other;
  return *this;
}

StepBreakdown StepBreakdown::Scaled(double k) const {
  return StepBreakdown{gemm * k, attention * k, moe * k, comm * k, other * k};
}

double Speculation::TokensPerStep() const {
  double tokens = 1, accepted = 1;
  for (int i = 0; i < depth; ++i) {
    accepted *= acceptance;
    tokens += accepted;
  }
  return tokens;
}

Result<StepModel> StepModel::Create(const model::ModelSpec& model,
                                    const hardware::SystemSpec& system, const Precision& precision,
                                    const Mapping& mapping, hardware::Backend backend,
                                    const Speculation& speculation) {
  const Mapping& m = mapping;
  if (m.tp < 1 || m.pp < 1 || m.dp < 1 || m.moe_tp < 1 || m.moe_ep < 1) {
    return Fail("mapping {}: every parallel degree must be at least 1", m.Label());
  }
  if (m.pp > model.num_layers || m.pp > kMaxStages) {
    return Fail("mapping {}: pp {} exceeds the model's {} layers", m.Label(), m.pp,
                model.num_layers);
  }
  if (model.is_moe() && m.moe_tp * m.moe_ep != m.tp * m.dp) {
    return Fail("mapping {}: moe_tp x moe_ep ({} x {}) must equal tp x dp ({} x {})", m.Label(),
                m.moe_tp, m.moe_ep, m.tp, m.dp);
  }
  if (static_cast<int>(model.kinds.size()) > kMaxLayerKinds) {
    return Fail("{}: {} distinct layer kinds, at most {} supported", model.source,
                model.kinds.size(), kMaxLayerKinds);
  }
  if (model.sliding_window > 0 && model.sparse_topk > 0) {
    return Fail("{}: sliding-window and sparse attention in one model are not supported",
                model.source);
  }
  for (auto [what, q] : {std::pair{"GEMM", precision.gemm}, std::pair{"MoE", precision.moe}}) {
    if (!system.gpu.Supports(q.compute == DType::kInt4 ? DType::kBf16 : q.compute)) {
      return Fail("precision {}: {} compute in {} needs {} tensor cores, which {} ({}) lacks",
                  precision.name, what, DTypeName(q.compute), DTypeName(q.compute), system.name,
                  system.gpu.name);
    }
  }

  if (speculation.depth < 0 || speculation.depth > kMaxSpeculationDepth) {
    return Fail("speculation depth {}: must be 0-{}", speculation.depth, kMaxSpeculationDepth);
  }
  if (speculation.depth > 0) {
    if (!(speculation.acceptance >= 0 && speculation.acceptance <= 1)) {
      return Fail("speculation acceptance {}: must be within 0-1", speculation.acceptance);
    }
    if (model.num_mtp_layers == 0) {
      return Fail(
          "{}: speculative decoding needs a multi-token-prediction module, which {} "
          "does not have",
          model.source, model.name);
    }
  }

  StepModel s;
  s.model_ = model;
  s.speculation_ = speculation.depth > 0 ? speculation : Speculation{};
  s.tokens_per_step_ = s.speculation_.TokensPerStep();
  s.draft_kind_ = model.layer_kind.empty() ? 0 : model.layer_kind.back();
  s.precision_ = OnCheckpoint(precision, model);
  s.mapping_ = mapping;
  s.backend_ = backend;
  s.device_ = Device::FromSystem(system);
  s.device_.block_quant_overhead = system.calibration.block_fp8_overhead[static_cast<int>(backend)];
  s.routing_excess_coef_ = s.device_.moe_random_routing && m.moe_ep > 1
                               ? 2 * std::log(static_cast<double>(m.moe_ep))
                               : 0;
  s.step_overhead_ = system.calibration.step_overhead[static_cast<int>(backend)];
  s.seq_overhead_ = system.calibration.seq_overhead[static_cast<int>(backend)];
  s.request_overhead_ = system.calibration.request_overhead[static_cast<int>(backend)];
  s.cap_ = model.sliding_window > 0 ? model.sliding_window : model.sparse_topk;
  s.num_kinds_ = static_cast<int>(model.kinds.size());
  for (int k = 0; k < s.num_kinds_; ++k) {
    s.kind_capped_[k] = model.AttentionCap(model.kinds[k].attention) > 0;
    s.kind_count_[k] = model.CountLayers(k);
  }
  s.stage_kind_count_.assign(m.pp, {});
  for (int stage = 0; stage < m.pp; ++stage) {
    for (int layer = StageBegin(model.num_layers, m.pp, stage);
         layer < StageBegin(model.num_layers, m.pp, stage + 1); ++layer) {
      ++s.stage_kind_count_[stage][model.layer_kind[layer]];
    }
  }
  // Stage boundary b sits between GPU blocks; it crosses NVLink domains when
  // the first GPU of stage b starts a new domain.
  const int stage_gpus = m.gpus_per_stage();
  s.boundary_link_.assign(m.pp, s.device_.nvlink);
  for (int b = 1; b < m.pp; ++b) {
    int first = b * stage_gpus;
    bool crosses = first / s.device_.nvlink_domain != (first - 1) / s.device_.nvlink_domain;
    s.boundary_link_[b] = crosses ? s.device_.scaleout : s.device_.nvlink;
  }
  s.comm_bytes_ = BytesPerElement(precision.comm);
  return s;
}

void StepModel::AttentionGqa(const BatchShape& b, bool capped, StepBreakdown& c) const {
  const auto& m = model_;
  const Device& d = device_;
  const double t = b.tokens();
  const double h = static_cast<double>(m.hidden_size);
  const double hd = m.head_dim;
  const double q_heads = static_cast<double>(m.num_heads) / mapping_.tp;
  const double kv_heads = KvHeadsPerGpu(m, mapping_.tp);
  const QuantMode q = precision_.gemm;
  const double kv_b = BytesPerElement(precision_.kv);

  double q_width = q_heads * hd * (m.attention_output_gate ? 2 : 1);
  c.gemm += GemmTime(d, t, q_width + 2 * kv_heads * hd, h, q);
  c.gemm += GemmTime(d, t, h, q_heads * hd, q);

  if (b.prefill_tokens > 0) {
    double pairs = capped ? b.prefill_pairs_capped : b.prefill_pairs;
    double ctx = capped ? b.prefill_ctx_capped : b.prefill_ctx;
    double flops = 4.0 * pairs * hd * q_heads;
    c.attention +=
        AttentionTime(d, flops, pairs / b.prefill_tokens, ctx * 2 * kv_heads * hd * kv_b);
  }
  if (b.decode_seqs > 0) {
    // Drafted tokens under verification are extra queries over the same keys.
    double kv = capped ? b.decode_kv_capped : b.decode_kv;
    c.attention += DecodeAttentionTime(d, 4.0 * kv * b.decode_queries_per_seq() * hd * q_heads,
                                       kv * 2 * kv_heads * hd * kv_b);
  }
}

void StepModel::AttentionMla(const BatchShape& b, bool capped, StepBreakdown& c) const {
  const auto& m = model_;
  const auto& md = m.mla_dims;
  const Device& d = device_;
  const double t = b.tokens();
  const double h = static_cast<double>(m.hidden_size);
  const double heads = static_cast<double>(m.num_heads) / mapping_.tp;
  const double qk = md.qk_nope_head_dim + md.qk_rope_head_dim;
  const double latent = md.kv_lora_rank + md.qk_rope_head_dim;
  const QuantMode q = precision_.gemm;
  const double kv_b = BytesPerElement(precision_.kv);

  // Down-projections (replicated), then the per-head query up-projection.
  if (md.q_lora_rank > 0) {
    c.gemm += GemmTime(d, t, md.q_lora_rank + latent, h, q);
    c.gemm += GemmTime(d, t, heads * qk, md.q_lora_rank, q);
  } else {
    c.gemm += GemmTime(d, t, heads * qk + latent, h, q);
  }
  const double kv_up = heads * (md.qk_nope_head_dim + md.v_head_dim);
  if (b.prefill_tokens > 0) {
    // Expanded form: decompress the latent of every key the chunk attends to.
    double ctx = capped ? b.prefill_ctx_capped : b.prefill_ctx;
    c.gemm += GemmTime(d, b.prefill_tokens + ctx, kv_up, md.kv_lora_rank, q);
    double pairs = capped ? b.prefill_pairs_capped : b.prefill_pairs;
    double flops = 2.0 * pairs * heads * (qk + md.v_head_dim);
    c.attention += AttentionTime(d, flops, pairs / b.prefill_tokens, ctx * latent * kv_b);
  }
  if (b.decode_seqs > 0) {
    // Absorbed form: queries move into the latent space, attention runs
    // there, and the output comes back through the value up-projection.
    c.gemm += GemmTime(d, b.decode_seqs + b.decode_extra, kv_up, md.kv_lora_rank, q);
    double kv = capped ? b.decode_kv_capped : b.decode_kv;
    double flops = 2.0 * kv * b.decode_queries_per_seq() * heads * (latent + md.kv_lora_rank);
    c.attention += DecodeAttentionTime(d, flops, kv * latent * kv_b);
  }
  if (m.indexer_heads > 0) {
    // Sparse-attention indexer: scores every cached key in fp8.
    double q_in = md.q_lora_rank > 0 ? md.q_lora_rank : h;
    c.gemm += GemmTime(d, t, m.indexer_heads * m.indexer_head_dim, q_in, q);
    c.gemm += GemmTime(d, t, m.indexer_head_dim + m.indexer_heads, h, q);
    double keys = b.prefill_pairs + b.decode_kv * b.decode_queries_per_seq();
    double flops = 2.0 * keys * m.indexer_heads * m.indexer_head_dim;
    double bytes = (b.prefill_ctx + b.decode_kv) * m.indexer_head_dim;
    c.attention += DecodeAttentionTime(d, flops, bytes);
  }
  c.gemm += GemmTime(d, t, h, heads * md.v_head_dim, q);
}

void StepModel::AttentionLinear(const BatchShape& b, StepBreakdown& c) const {
  const auto& l = model_.linear;
  const Device& d = device_;
  const double t = b.tokens();
  const double h = static_cast<double>(model_.hidden_size);
  const double nk = static_cast<double>(l.num_key_heads) / mapping_.tp;
  const double nv = static_cast<double>(l.num_value_heads) / mapping_.tp;
  const double dk = l.key_head_dim, dv = l.value_head_dim;
  const QuantMode q = precision_.gemm;
  c.gemm += GemmTime(d, t, 2 * nk * dk + 2 * nv * dv + 2 * nv, h, q);
  c.gemm += GemmTime(d, t, h, nv * dv, q);
  // Per token: state update and readout (2 x 2 dk dv per value head), plus
  // the intra-chunk attention of the chunked kernel; the fp32 state is read
  // and written once per sequence and step.
  double flops = b.prefill_tokens * nv * (4 * dk * dv + 2 * kLinearChunk * (dk + dv)) +
                 (b.decode_seqs + b.decode_extra) * nv * 4 * dk * dv;
  double state_bytes = b.seqs() * nv * dk * dv * 4.0 * 2;
  c.attention += DecodeAttentionTime(d, flops, state_bytes);
}

void StepModel::Moe(const BatchShape& b, double batch_tokens, StepBreakdown& c) const {
  const auto& m = model_;
  const Device& d = device_;
  const Mapping& map = mapping_;
  const double t = b.tokens();
  const double h = static_cast<double>(m.hidden_size);
  const double up = m.gated_ffn ? 2.0 : 1.0;
  const int group = map.tp * map.dp;

  c.gemm += GemmTime(d, t, m.num_experts, h, DType::kBf16, DType::kBf16);

  // Under attention DP every rank brings its own tokens to the expert group
  // (the whole batch's; with fewer sequences than ranks some ranks bring
  // none); otherwise the group's GPUs all see the same tokens.
  const double group_tokens = map.dp > 1 ? std::min(t * map.dp, batch_tokens) : t;
  const double assignments = group_tokens * m.experts_per_token;
  const double local_experts = ExpertSlotsPerRank(m.num_experts, map);
  const double mean_rank = assignments / map.moe_ep;
  // The busiest expert rank: a persistent routing skew (moe_imbalance) plus
  // the excess of random picks, the expected maximum of moe_ep near-Poisson
  // loads of mean L, about sqrt(2 ln(moe_ep) L): a light batch balances worse
  // than a large prefill, whose excess fades relative to L.
  const double excess = std::sqrt(routing_excess_coef_ * mean_rank);
  const double rank_rows =
      std::min(mean_rank * d.moe_imbalance + excess,
               group_tokens * std::min<double>(m.experts_per_token, local_experts));
  // Expected distinct experts hit: real routing concentrates on a popular
  // part of the experts (moe_routing_spread of them behave like a uniform
  // pool), so fewer weights are streamed than uniform picks would touch.
  const double pool = std::max(1.0, m.num_experts * d.moe_routing_spread);
  const double touched =
      std::clamp(DistinctReached(pool, assignments) / map.moe_ep, 1.0, local_experts);
  const double inter = static_cast<double>(m.moe_intermediate_size) / map.moe_tp;
  const QuantMode q = precision_.moe;
  c.moe += GroupedGemmTime(d, rank_rows, touched, up * inter, h, q);
  c.moe += GroupedGemmTime(d, rank_rows, touched, h, inter, q);

  if (m.shared_intermediate_size > 0) {
    const double s_inter = static_cast<double>(m.shared_intermediate_size) / map.tp;
    const QuantMode g = precision_.gemm;
    c.gemm += GemmTime(d, t, up * s_inter, h, g);
    c.gemm += GemmTime(d, t, h, s_inter, g);
  }

  if (map.dp == 1) {
    // Tokens are replicated in the group: one all-reduce combines the experts'
    // partial outputs (and the shared expert's).
    c.comm += GroupAllReduceTime(d, t * h * comm_bytes_, group);
  } else {
    // Dispatch each token to the GPUs holding its experts (quantised first
    // when the experts compute in fp8/fp4), then combine in the comm format.
    const double ranks = DistinctReached(map.moe_ep, m.experts_per_token) * map.moe_tp;
    const double dispatch_bytes =
        q.compute == DType::kBf16 || q.compute == DType::kInt4 ? comm_bytes_ : 1.0;
    c.comm += DispatchTime(d, t, h * dispatch_bytes, ranks, group);
    c.comm += DispatchTime(d, t, h * comm_bytes_, ranks, group);
  }
}

StepBreakdown StepModel::LayerCost(int kind, const BatchShape& b, double group_tokens) const {
  StepBreakdown c;
  const double t = b.tokens();
  if (t <= 0) return c;
  const auto& k = model_.kinds[kind];
  const double h = static_cast<double>(model_.hidden_size);
  const Device& d = device_;

  if (k.attention == AttentionType::kLinear) {
    AttentionLinear(b, c);
  } else if (model_.mla) {
    AttentionMla(b, kind_capped_[kind], c);
  } else {
    AttentionGqa(b, kind_capped_[kind], c);
  }
  c.comm += GroupAllReduceTime(d, t * h * comm_bytes_, mapping_.tp);
  c.other += StreamTime(d, kElementwisePassesPerLayer * 2 * t * h * 2.0);

  if (k.ffn == FfnType::kDense) {
    const double inter = static_cast<double>(model_.intermediate_size) / mapping_.tp;
    const double up = model_.gated_ffn ? 2.0 : 1.0;
    const QuantMode q = precision_.gemm;
    c.gemm += GemmTime(d, t, up * inter, h, q);
    c.gemm += GemmTime(d, t, h, inter, q);
    c.comm += GroupAllReduceTime(d, t * h * comm_bytes_, mapping_.tp);
  } else {
    Moe(b, group_tokens, c);
  }
  return c;
}

double StepModel::LmHeadTime(const BatchShape& b) const {
  if (b.logits <= 0) return 0;
  double vocab = static_cast<double>(model_.vocab_size) / mapping_.tp;
  return GemmTime(device_, b.logits, vocab, static_cast<double>(model_.hidden_size), DType::kBf16,
                  DType::kBf16);
}

double StepModel::SendTime(const BatchShape& batch, int boundary) const {
  BatchShape r = RankBatch(batch);
  return PointToPointTime(boundary_link_[boundary],
                          r.tokens() * static_cast<double>(model_.hidden_size) * 2.0);
}

void StepModel::StageTimes(const BatchShape& batch, std::span<double> out) const {
  BatchShape r = RankBatch(batch);
  std::array<double, kMaxLayerKinds> per_kind{};
  for (int k = 0; k < num_kinds_; ++k) per_kind[k] = LayerCost(k, r, batch.tokens()).total();
  const double lm = LmHeadTime(r);
  for (int s = 0; s < mapping_.pp; ++s) {
    double t = 0;
    for (int k = 0; k < num_kinds_; ++k) t += stage_kind_count_[s][k] * per_kind[k];
    out[s] = t + (s == mapping_.pp - 1 ? lm : 0);
  }
}

double StepModel::RoundTime(const BatchShape& batch) const {
  const int pp = mapping_.pp;
  if (pp == 1) return Evaluate(batch).latency;
  StepCost c = Evaluate(batch.Scaled(1.0 / pp));
  return std::max(c.latency, pp * c.period);
}

StepCost StepModel::Evaluate(const BatchShape& batch) const {
  if (speculation_.depth == 0 || batch.decode_seqs <= 0) return EngineStep(batch);
  // One engine step yields tokens_per_step() tokens per decoding sequence and
  // carries that many token-steps' prompt tokens (pairs scaled linearly: a
  // slight underestimate of the chunks' attention).
  const double e = tokens_per_step_;
  BatchShape v = batch;
  v.prefill_tokens *= e;
  v.prefill_pairs *= e;
  v.prefill_pairs_capped *= e;
  v.decode_extra = speculation_.depth * batch.decode_seqs;
  v.logits += v.decode_extra;
  StepCost c = EngineStep(v);
  const StepBreakdown draft = DraftCost(batch);
  c.breakdown += draft;
  c.latency += draft.total();
  // The MTP module runs after the last stage; with pp > 1 the period is taken
  // as if that stage were the slowest (an upper bound).
  c.period += draft.total();
  c.breakdown = c.breakdown.Scaled(1 / e);
  c.latency /= e;
  c.period /= e;
  return c;
}

StepBreakdown StepModel::DraftCost(const BatchShape& batch) const {
  // Each pass runs the MTP module (a decoder layer like the model's last,
  // with its own cache of the same length) on one token per sequence, merges
  // the hidden state with the token's embedding (2h -> h) and goes through
  // the shared LM head.
  BatchShape d = NewBatch();
  d.decode_seqs = batch.decode_seqs;
  d.decode_kv = batch.decode_kv;
  d.decode_kv_capped = batch.decode_kv_capped;
  d.logits = batch.decode_seqs;
  const BatchShape r = RankBatch(d);
  StepBreakdown pass = LayerCost(draft_kind_, r, d.tokens());
  const double h = static_cast<double>(model_.hidden_size);
  pass.gemm += GemmTime(device_, r.tokens(), h, 2 * h, precision_.gemm);
  pass.gemm += LmHeadTime(r);
  return pass.Scaled(speculation_.depth);
}

StepCost StepModel::EngineStep(const BatchShape& batch) const {
  StepCost cost;
  BatchShape r = RankBatch(batch);
  if (r.tokens() <= 0) return cost;
  std::array<double, kMaxLayerKinds> per_kind{};
  for (int k = 0; k < num_kinds_; ++k) {
    StepBreakdown layer = LayerCost(k, r, batch.tokens());
    per_kind[k] = layer.total();
    cost.breakdown += layer.Scaled(kind_count_[k]);
  }
  const double lm = LmHeadTime(r);
  cost.breakdown.gemm += lm;
  double slowest = 0;
  double sends = 0;
  const double act_bytes = r.tokens() * static_cast<double>(model_.hidden_size) * 2.0;
  for (int s = 0; s < mapping_.pp; ++s) {
    double t = 0;
    for (int k = 0; k < num_kinds_; ++k) t += stage_kind_count_[s][k] * per_kind[k];
    if (s == mapping_.pp - 1) t += lm;
    double send = s > 0 ? PointToPointTime(boundary_link_[s], act_bytes) : 0;
    sends += send;
    slowest = std::max(slowest, t + send);
  }
  cost.breakdown.comm += sends;
  const double overhead = RankOverhead(r);
  cost.breakdown.other += overhead;
  cost.latency = cost.breakdown.total();
  cost.period = mapping_.pp == 1 ? cost.latency : slowest + overhead;
  return cost;
}

}  // namespace disagg::perf
