// ModelSpec: the architecture of a transformer LLM as the cost model needs it.
//
// Contract: a plain value, built once by the Hugging Face config parser
// (hf_config.h) and validated there; every method is const and thread-safe.
// Counts are elements (parameters, cache entries), never bytes: the dtype is a
// deployment choice and is applied by the caller. Layers are described by a
// small set of LayerKinds; `layer_kind[i]` gives the kind of layer i, so
// pipeline stages can be cut in layer order.
#ifndef DISAGG_MODEL_MODEL_SPEC_H_
#define DISAGG_MODEL_MODEL_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "disagg/base/dtype.h"

namespace disagg::model {

enum class AttentionType {
  kFull,     // causal attention over the whole context
  kSliding,  // causal attention over the last `sliding_window` tokens
  kLinear,   // linear attention (gated delta rule): a fixed-size state per sequence
};

enum class FfnType { kDense, kMoe };

struct LayerKind {
  AttentionType attention = AttentionType::kFull;
  FfnType ffn = FfnType::kDense;
  bool operator==(const LayerKind&) const = default;
};

// Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2): the cache holds one
// latent of kv_lora_rank + qk_rope_head_dim per token per layer.
struct MlaDims {
  int q_lora_rank = 0;  // 0: queries projected directly from the hidden state
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
};

// Linear-attention layers (Qwen3-Next / Qwen3.5 Gated DeltaNet).
struct LinearAttentionDims {
  int num_key_heads = 0;
  int num_value_heads = 0;
  int key_head_dim = 0;
  int value_head_dim = 0;
  int conv_kernel = 0;
};

struct ModelSpec {
  std::string name;        // catalog name or folder/file stem
  std::string model_type;  // Hugging Face model_type
  std::string source;      // file it was read from

  int64_t hidden_size = 0;
  int num_layers = 0;
  int64_t vocab_size = 0;
  bool tie_word_embeddings = false;

  // Softmax attention (full and sliding layers).
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  bool attention_output_gate = false;  // Qwen3.5: q_proj also emits a gate
  bool mla = false;
  MlaDims mla_dims;
  int sliding_window = 0;  // tokens; 0 when no layer slides
  LinearAttentionDims linear;
  // Sparse attention (DeepSeek sparse attention, GLM-5): a lightweight indexer
  // scores the whole context and the core attention reads only the best
  // `sparse_topk` tokens. 0: dense attention.
  int sparse_topk = 0;
  int indexer_heads = 0;
  int indexer_head_dim = 0;
  int64_t max_context = 0;  // max_position_embeddings; 0 when not stated

  // Feed-forward.
  int64_t intermediate_size = 0;  // dense FFN width
  bool gated_ffn = true;          // SwiGLU: gate, up, down; else up, down

  // Mixture of experts (num_experts == 0: dense model).
  int num_experts = 0;
  int experts_per_token = 0;
  int64_t moe_intermediate_size = 0;     // width of one routed expert
  int64_t shared_intermediate_size = 0;  // total width of the shared experts
  int num_mtp_layers = 0;                // multi-token-prediction modules (weights only)

  // The published checkpoint is FP8 with per-block weight scales
  // (quantization_config: quant_method fp8 with a weight_block_size, as
  // DeepSeek-V3/R1 and MiniMax-M2.5 ship): its FP8 GEMMs scale activations
  // per token group, see perf::QuantMode::block_scaled.
  bool fp8_block_checkpoint = false;
  // The published checkpoint's routed experts in a 4-bit format whose scale
  // blocks differ from the format's default: storage bytes per expert weight,
  // scales included (0: none). gpt-oss ships MXFP4 (4 bits + one 8-bit scale
  // per 32: 0.53125 B, against NVFP4's 0.5625), Kimi-K2.5 INT4 in groups of
  // 32 with bf16 scales (0.5625 B, against 0.516 for groups of 128). Used
  // when a deployment runs the experts in that format (expert_weight_format).
  double expert_weight_bytes = 0;
  DType expert_weight_format = DType::kBf16;

  std::vector<LayerKind> kinds;  // distinct layer kinds, at most a handful
  std::vector<int> layer_kind;   // per layer: index into kinds

  // Problems noticed while reading that are not errors (ignored keys ...).
  std::vector<std::string> warnings;

  bool is_moe() const { return num_experts > 0; }
  int CountLayers(int kind) const;

  // Parameters, in elements.
  double AttentionParamsPerLayer(AttentionType type) const;
  double DenseFfnParams() const;
  double ExpertParams() const;        // one routed expert
  double SharedExpertParams() const;  // all shared experts of one layer
  double RouterParams() const;
  double EmbeddingParams() const;  // input embedding + LM head (once if tied)
  double TotalParams() const;      // main model, MTP modules excluded
  double ActiveParamsPerToken() const;
  double MtpParams() const;

  // Cache elements per token for one layer of `type` (0 for linear layers).
  double KvElementsPerTokenLayer(AttentionType type) const;
  // Recurrent-state elements per sequence of one linear-attention layer.
  double LinearStateElements() const;
  // Cache elements per token over all layers, as if no layer slides.
  double KvElementsPerToken() const;
  // Cache elements one sequence of `context` tokens holds over all softmax
  // layers (sliding layers hold at most the window).
  double KvElementsForContext(double context) const;
  // Recurrent-state elements one sequence holds over all linear layers (kept
  // in fp32 by the reference implementations, whatever the KV dtype).
  double LinearStateElementsPerSequence() const;
  // The context cap of the core attention of a layer of `type`: the sliding
  // window, the sparse-attention top-k, or 0 for none.
  int AttentionCap(AttentionType type) const;
};

const char* AttentionTypeName(AttentionType t);

}  // namespace disagg::model

#endif  // DISAGG_MODEL_MODEL_SPEC_H_
