#include "disagg/perf/sharding.h"

#include <algorithm>

namespace disagg::perf {
namespace {

using model::AttentionType;
using model::FfnType;

// Attention parameters one GPU holds for a layer of `type` (elements).
double AttentionParamsPerGpu(const model::ModelSpec& m, AttentionType type, int tp) {
  const double h = static_cast<double>(m.hidden_size);
  if (type == AttentionType::kLinear) return m.AttentionParamsPerLayer(type) / tp;
  if (m.mla) {
    const auto& d = m.mla_dims;
    double replicated = h * (d.kv_lora_rank + d.qk_rope_head_dim);
    if (d.q_lora_rank > 0) replicated += h * d.q_lora_rank;
    return replicated + (m.AttentionParamsPerLayer(type) - replicated) / tp;
  }
  double q_width =
      static_cast<double>(m.num_heads) * m.head_dim * (m.attention_output_gate ? 2 : 1) / tp;
  double kv_width = 2.0 * KvHeadsPerGpu(m, tp) * m.head_dim;
  double o = static_cast<double>(m.num_heads) / tp * m.head_dim * h;
  double indexer =
      m.indexer_heads > 0 ? h * m.indexer_heads * m.indexer_head_dim + h * m.indexer_head_dim : 0;
  return h * (q_width + kv_width) + o + indexer;
}

// Adds one decoder layer of `kind` as one GPU holds it.
void AddLayerWeights(const model::ModelSpec& m, const Precision& p, const Mapping& map,
                     const model::LayerKind& kind, StageWeights& w) {
  const double gemm_b = BytesPerElement(p.gemm.weight);
  w.attention += AttentionParamsPerGpu(m, kind.attention, map.tp) * gemm_b;
  if (kind.ffn == FfnType::kDense) {
    w.dense_ffn += m.DenseFfnParams() / map.tp * gemm_b;
  } else {
    w.experts += ExpertSlotsPerRank(m.num_experts, map) * m.ExpertParams() / map.moe_tp *
                 p.moe.WeightBytes();
    w.experts += m.SharedExpertParams() / map.tp * gemm_b;
    w.experts += m.RouterParams() * BytesPerElement(DType::kBf16);
  }
}

}  // namespace

StageWeights WeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map,
                               int stage) {
  StageWeights w;
  const double bf16 = BytesPerElement(DType::kBf16);
  int begin = StageBegin(m.num_layers, map.pp, stage);
  int end = StageBegin(m.num_layers, map.pp, stage + 1);
  for (int layer = begin; layer < end; ++layer) {
    AddLayerWeights(m, p, map, m.kinds[m.layer_kind[layer]], w);
  }
  const double table = static_cast<double>(m.vocab_size) * m.hidden_size / map.tp * bf16;
  if (stage == 0) w.embedding += table;
  // A tied LM head shares the embedding table only when both live on one stage.
  if (stage == map.pp - 1 && !(m.tie_word_embeddings && map.pp == 1)) w.embedding += table;
  return w;
}

double MtpWeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map) {
  if (m.num_mtp_layers == 0 || m.layer_kind.empty()) return 0;
  StageWeights layer;
  AddLayerWeights(m, p, map, m.kinds[m.layer_kind.back()], layer);
  const double h = static_cast<double>(m.hidden_size);
  const double merge = 2 * h * h / map.tp * BytesPerElement(p.gemm.weight);
  return m.num_mtp_layers * (layer.total() + merge);
}

double MaxWeightBytesPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map) {
  double most = 0;
  for (int s = 0; s < map.pp; ++s) most = std::max(most, WeightBytesPerGpu(m, p, map, s).total());
  return most;
}

double KvBytesPerSequencePerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map,
                                double context) {
  const double kv_b = BytesPerElement(p.kv);
  double most = 0;
  for (int s = 0; s < map.pp; ++s) {
    double bytes = 0;
    for (int layer = StageBegin(m.num_layers, map.pp, s);
         layer < StageBegin(m.num_layers, map.pp, s + 1); ++layer) {
      AttentionType t = m.kinds[m.layer_kind[layer]].attention;
      if (t == AttentionType::kLinear) {
        bytes += m.LinearStateElements() / map.tp * 4.0;
        continue;
      }
      double held =
          t == AttentionType::kSliding ? std::min<double>(context, m.sliding_window) : context;
      double per_token = m.KvElementsPerTokenLayer(t);
      if (!m.mla) {
        // GQA heads split over tp; the DSA indexer key is replicated.
        per_token = 2.0 * KvHeadsPerGpu(m, map.tp) * m.head_dim + m.indexer_head_dim;
      }
      bytes += per_token * held * kv_b;
    }
    most = std::max(most, bytes);
  }
  return most;
}

double KvBytesPerTokenPerGpu(const model::ModelSpec& m, const Precision& p, const Mapping& map) {
  const double kv_b = BytesPerElement(p.kv);
  double most = 0;
  for (int s = 0; s < map.pp; ++s) {
    double elems = 0;
    for (int layer = StageBegin(m.num_layers, map.pp, s);
         layer < StageBegin(m.num_layers, map.pp, s + 1); ++layer) {
      AttentionType t = m.kinds[m.layer_kind[layer]].attention;
      if (t == AttentionType::kLinear) continue;
      elems += m.mla ? m.KvElementsPerTokenLayer(t)
                     : 2.0 * KvHeadsPerGpu(m, map.tp) * m.head_dim + m.indexer_head_dim;
    }
    most = std::max(most, elems * kv_b);
  }
  return most;
}

}  // namespace disagg::perf
