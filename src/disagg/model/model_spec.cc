#include "disagg/model/model_spec.h"

#include <algorithm>

namespace disagg::model {

const char* AttentionTypeName(AttentionType t) {
  switch (t) {
    case AttentionType::kFull:
      return "full";
    case AttentionType::kSliding:
      return "sliding";
    case AttentionType::kLinear:
      return "linear";
  }
  return "?";
}

int ModelSpec::CountLayers(int kind) const {
  return static_cast<int>(std::count(layer_kind.begin(), layer_kind.end(), kind));
}

double ModelSpec::AttentionParamsPerLayer(AttentionType type) const {
  const double h = static_cast<double>(hidden_size);
  if (type == AttentionType::kLinear) {
    const auto& l = linear;
    double qk = 2.0 * l.num_key_heads * l.key_head_dim;
    double v = static_cast<double>(l.num_value_heads) * l.value_head_dim;
    // in_proj (q, k, v, output gate z, per-head beta and decay a), the short
    // convolution over q/k/v channels, and out_proj.
    double in_proj = h * (qk + 2.0 * v + 2.0 * l.num_value_heads);
    double conv = (qk + v) * l.conv_kernel;
    return in_proj + conv + v * h;
  }
  if (mla) {
    const auto& m = mla_dims;
    double qk_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
    double q = m.q_lora_rank > 0
                   ? h * m.q_lora_rank + static_cast<double>(m.q_lora_rank) * num_heads * qk_head
                   : h * num_heads * qk_head;
    double kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim);
    double kv_b =
        static_cast<double>(m.kv_lora_rank) * num_heads * (m.qk_nope_head_dim + m.v_head_dim);
    double o = static_cast<double>(num_heads) * m.v_head_dim * h;
    // DSA indexer: its own query (from the q latent), key and head weights.
    double indexer = 0;
    if (indexer_heads > 0) {
      double q_in = m.q_lora_rank > 0 ? m.q_lora_rank : h;
      indexer = q_in * indexer_heads * indexer_head_dim + h * indexer_head_dim + h * indexer_heads;
    }
    return q + kv_a + kv_b + o + indexer;
  }
  double q_width = static_cast<double>(num_heads) * head_dim * (attention_output_gate ? 2 : 1);
  double kv_width = 2.0 * num_kv_heads * head_dim;
  return h * (q_width + kv_width) + static_cast<double>(num_heads) * head_dim * h;
}

double ModelSpec::DenseFfnParams() const {
  return (gated_ffn ? 3.0 : 2.0) * static_cast<double>(hidden_size) * intermediate_size;
}

double ModelSpec::ExpertParams() const {
  return (gated_ffn ? 3.0 : 2.0) * static_cast<double>(hidden_size) * moe_intermediate_size;
}

double ModelSpec::SharedExpertParams() const {
  return (gated_ffn ? 3.0 : 2.0) * static_cast<double>(hidden_size) * shared_intermediate_size;
}

double ModelSpec::RouterParams() const { return static_cast<double>(hidden_size) * num_experts; }

double ModelSpec::EmbeddingParams() const {
  return static_cast<double>(vocab_size) * hidden_size * (tie_word_embeddings ? 1 : 2);
}

double ModelSpec::TotalParams() const {
  double total = EmbeddingParams();
  for (int layer = 0; layer < num_layers; ++layer) {
    const LayerKind& k = kinds[layer_kind[layer]];
    total += AttentionParamsPerLayer(k.attention);
    total += k.ffn == FfnType::kMoe
                 ? num_experts * ExpertParams() + SharedExpertParams() + RouterParams()
                 : DenseFfnParams();
  }
  return total;
}

double ModelSpec::ActiveParamsPerToken() const {
  double total = EmbeddingParams();
  for (int layer = 0; layer < num_layers; ++layer) {
    const LayerKind& k = kinds[layer_kind[layer]];
    total += AttentionParamsPerLayer(k.attention);
    total += k.ffn == FfnType::kMoe
                 ? experts_per_token * ExpertParams() + SharedExpertParams() + RouterParams()
                 : DenseFfnParams();
  }
  return total;
}

double ModelSpec::MtpParams() const {
  if (num_mtp_layers == 0) return 0;
  // One MTP module: a full MoE decoder layer (the last kind) plus the
  // projection that merges the hidden state with the next token's embedding.
  double layer = AttentionParamsPerLayer(AttentionType::kFull) +
                 (is_moe() ? num_experts * ExpertParams() + SharedExpertParams() + RouterParams()
                           : DenseFfnParams());
  double merge = 2.0 * hidden_size * hidden_size;
  return num_mtp_layers * (layer + merge);
}

double ModelSpec::KvElementsPerTokenLayer(AttentionType type) const {
  if (type == AttentionType::kLinear) return 0;
  // Sparse attention also caches one indexer key per token.
  if (mla) return mla_dims.kv_lora_rank + mla_dims.qk_rope_head_dim + indexer_head_dim;
  return 2.0 * num_kv_heads * head_dim + indexer_head_dim;
}

double ModelSpec::LinearStateElements() const {
  const auto& l = linear;
  // The delta-rule state (key_dim x value_dim per value head) plus the
  // convolution tail over the q/k/v channels.
  double state = static_cast<double>(l.num_value_heads) * l.key_head_dim * l.value_head_dim;
  double conv = (2.0 * l.num_key_heads * l.key_head_dim +
                 static_cast<double>(l.num_value_heads) * l.value_head_dim) *
                std::max(0, l.conv_kernel - 1);
  return state + conv;
}

double ModelSpec::KvElementsPerToken() const {
  double total = 0;
  for (int layer = 0; layer < num_layers; ++layer) {
    total += KvElementsPerTokenLayer(kinds[layer_kind[layer]].attention);
  }
  return total;
}

double ModelSpec::KvElementsForContext(double context) const {
  double total = 0;
  for (int layer = 0; layer < num_layers; ++layer) {
    AttentionType t = kinds[layer_kind[layer]].attention;
    if (t == AttentionType::kLinear) continue;
    // Sparse attention still caches every token; only sliding layers evict.
    double held =
        t == AttentionType::kSliding ? std::min<double>(context, sliding_window) : context;
    total += KvElementsPerTokenLayer(t) * held;
  }
  return total;
}

double ModelSpec::LinearStateElementsPerSequence() const {
  double total = 0;
  for (int layer = 0; layer < num_layers; ++layer) {
    if (kinds[layer_kind[layer]].attention == AttentionType::kLinear) {
      total += LinearStateElements();
    }
  }
  return total;
}

int ModelSpec::AttentionCap(AttentionType type) const {
  if (type == AttentionType::kSliding) return sliding_window;
  if (type == AttentionType::kFull) return sparse_topk;
  return 0;
}

}  // namespace disagg::model
