#include "disagg/model/hf_config.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <set>

#include "disagg/base/files.h"

namespace disagg::model {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxDim = int64_t{1} << 24;

// Keys that do not change a model's performance (tokenizer ids, training-only
// knobs, numerics of norms and rotary embeddings, checkpoint quantisation that
// the deployment's precision overrides). They are read over without a warning.
const std::set<std::string, std::less<>>& IgnorableKeys() {
  // A word list, packed by hand.
  // clang-format off
  static const std::set<std::string, std::less<>> keys = {
      "_source", "_name_or_path", "architectures", "auto_map", "transformers_version",
      "torch_dtype", "dtype", "use_cache", "bos_token_id", "eos_token_id", "pad_token_id",
      "sep_token_id", "decoder_start_token_id", "tokenizer_class", "initializer_range",
      "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "hidden_act",
      "activation_function", "rope_theta", "rope_scaling", "rope_parameters", "rope_interleave",
      "rotary", "rotary_dim", "partial_rotary_factor", "max_position_embeddings",
      "initial_context_length", "n_positions", "attention_dropout", "hidden_dropout",
      "attn_pdrop", "embd_pdrop", "resid_pdrop", "attention_bias", "mlp_bias", "bias",
      "pretraining_tp", "quantization_config", "output_router_logits", "router_aux_loss_coef",
      "router_jitter_noise", "aux_loss_alpha", "seq_aux", "norm_topk_prob", "scoring_func",
      "topk_method", "n_group", "topk_group", "routed_scaling_factor", "ep_size",
      "use_routing_bias", "swiglu_limit", "use_qk_norm", "qk_norm_type", "alibi",
      "apply_residual_connection_post_layernorm", "attention_softmax_in_fp32",
      "masked_softmax_fusion", "slow_but_exact", "parallel_attn", "new_decoder_architecture",
      "gradient_checkpointing", "scale_attn_weights", "summary_activation",
      "summary_first_dropout", "summary_proj_to_labels", "summary_type", "summary_use_proj",
      "task_specific_params", "max_window_layers", "indexer_rope_interleave", "qk_head_dim",
      "mtp_use_dedicated_embeddings", "mamba_ssm_dtype", "use_mtp", "mtp_transformer_layers",
      "vision_config", "media_placeholder_token_id", "video_placeholder",
      "use_unified_vision_chunk", "ignore_index", "image_token_id", "video_token_id",
      "vision_start_token_id", "vision_end_token_id", "image_token_index", "is_decoder",
      "is_encoder_decoder", "add_cross_attention", "cross_attention_hidden_size",
      "chunk_size_feed_forward", "id2label", "label2id", "problem_type", "pruned_heads",
      "prefix", "finetuning_task", "torchscript", "tf_legacy_loss", "use_bfloat16",
      "return_dict", "return_dict_in_generate", "output_attentions", "output_hidden_states",
      "output_scores", "bad_words_ids", "begin_suppress_tokens", "suppress_tokens",
      "diversity_penalty", "do_sample", "early_stopping", "encoder_no_repeat_ngram_size",
      "exponential_decay_length_penalty", "forced_bos_token_id", "forced_eos_token_id",
      "length_penalty", "max_length", "min_length", "no_repeat_ngram_size", "num_beam_groups",
      "num_beams", "num_return_sequences", "remove_invalid_values", "repetition_penalty",
      "temperature", "top_k", "top_p", "typical_p", "tie_encoder_decoder",
      "attn_implementation", "_attn_implementation", "sliding_window_pattern",
      "full_attention_interval", "router_bias", "moe_router_bias", "pad_vocab_size_multiple",
      "embedding_multiplier", "logits_scaling", "residual_multiplier", "attention_multiplier",
  };
  // clang-format on
  return keys;
}

// Reads the first present key of `names` as an integer.
int64_t FirstInteger(JsonReader& r, std::initializer_list<std::string_view> names, int64_t fallback,
                     int64_t min = 1, int64_t max = kMaxDim) {
  for (auto name : names) {
    if (r.Has(name)) {
      const Json* raw = r.Raw(name);
      if (raw->is_null()) continue;
      return r.IntegerOr(name, fallback, min, max);
    }
  }
  return fallback;
}

int64_t RequiredInteger(JsonReader& r, std::initializer_list<std::string_view> names,
                        int64_t min = 1, int64_t max = kMaxDim) {
  int64_t v = FirstInteger(r, names, -1, min, max);
  if (v == -1 && r.ok()) r.Fail(*names.begin(), "missing required field (an integer)");
  return v;
}

// Adds layer `i`'s kind, reusing an existing entry.
void PushLayer(ModelSpec& m, LayerKind kind) {
  auto it = std::find(m.kinds.begin(), m.kinds.end(), kind);
  if (it == m.kinds.end()) {
    m.kinds.push_back(kind);
    it = m.kinds.end() - 1;
  }
  m.layer_kind.push_back(static_cast<int>(it - m.kinds.begin()));
}

// Attention type per layer from a `layer_types` list (gpt-oss, Qwen3.5).
bool ReadLayerTypes(JsonReader& r, int layers, std::vector<AttentionType>& out) {
  const Json* types = r.Raw("layer_types");
  if (types == nullptr || types->is_null()) return false;
  if (!types->is_array() || static_cast<int>(types->size()) != layers) {
    r.Fail("layer_types", fmt::format("expected a list of {} layer types (num_hidden_layers), "
                                      "got {}",
                                      layers, JsonSnippet(*types)));
    return false;
  }
  out.clear();
  for (const auto& t : *types) {
    std::string s = t.is_string() ? t.get<std::string>() : "";
    if (s == "full_attention" || s == "attention") {
      out.push_back(AttentionType::kFull);
    } else if (s == "sliding_attention") {
      out.push_back(AttentionType::kSliding);
    } else if (s == "linear_attention") {
      out.push_back(AttentionType::kLinear);
    } else {
      r.Fail("layer_types", fmt::format("unsupported layer type {} (expected full_attention, "
                                        "sliding_attention or linear_attention)",
                                        JsonSnippet(t)));
      return false;
    }
  }
  return true;
}

enum class Family {
  kDense,
  kMixtral,
  kQwenMoe,
  kDeepseek,
  kGptOss,
  kMiniMax,
  kQwenNext,
  kBloom,
  kFalcon,
  kGptJ
};

struct FamilyEntry {
  std::string_view model_type;
  Family family;
};

constexpr std::array kFamilies = {
    FamilyEntry{"llama", Family::kDense},
    FamilyEntry{"mistral", Family::kDense},
    FamilyEntry{"qwen2", Family::kDense},
    FamilyEntry{"qwen3", Family::kDense},
    FamilyEntry{"mixtral", Family::kMixtral},
    FamilyEntry{"qwen2_moe", Family::kQwenMoe},
    FamilyEntry{"qwen3_moe", Family::kQwenMoe},
    FamilyEntry{"deepseek_v2", Family::kDeepseek},
    FamilyEntry{"deepseek_v3", Family::kDeepseek},
    FamilyEntry{"kimi_k2", Family::kDeepseek},
    FamilyEntry{"glm_moe_dsa", Family::kDeepseek},
    FamilyEntry{"deepseek_v32", Family::kDeepseek},
    FamilyEntry{"gpt_oss", Family::kGptOss},
    FamilyEntry{"minimax_m2", Family::kMiniMax},
    FamilyEntry{"qwen3_next", Family::kQwenNext},
    FamilyEntry{"qwen3_5_moe", Family::kQwenNext},
    FamilyEntry{"qwen3_5_moe_text", Family::kQwenNext},
    FamilyEntry{"bloom", Family::kBloom},
    FamilyEntry{"falcon", Family::kFalcon},
    FamilyEntry{"gptj", Family::kGptJ},
};

std::string SupportedTypes() {
  std::string s;
  for (const auto& f : kFamilies) {
    if (!s.empty()) s += ", ";
    s += f.model_type;
  }
  return s;
}

// Reads the attention and FFN shape common to most families.
void ReadCommon(JsonReader& r, ModelSpec& m, Family family) {
  m.hidden_size = RequiredInteger(r, {"hidden_size", "n_embed", "n_embd", "d_model"});
  m.num_layers = static_cast<int>(RequiredInteger(r, {"num_hidden_layers", "n_layer"}, 1, 4096));
  m.vocab_size = RequiredInteger(r, {"vocab_size"});
  m.num_heads = static_cast<int>(RequiredInteger(r, {"num_attention_heads", "n_head"}, 1, 4096));
  int64_t kv_default = m.num_heads;
  if (family == Family::kFalcon && r.BoolOr("multi_query", false)) kv_default = 1;
  m.num_kv_heads = static_cast<int>(
      FirstInteger(r, {"num_key_value_heads", "num_kv_heads"}, kv_default, 1, 4096));
  if (m.hidden_size > 0 && m.num_heads > 0) {
    if (!r.Has("head_dim") && m.hidden_size % m.num_heads != 0 && family != Family::kDeepseek) {
      r.Fail("head_dim", fmt::format("missing, and hidden_size {} is not a multiple of "
                                     "num_attention_heads {}",
                                     m.hidden_size, m.num_heads));
    }
    int64_t hd_default = m.hidden_size / m.num_heads;
    m.head_dim = static_cast<int>(FirstInteger(r, {"head_dim"}, hd_default, 1, 4096));
  }
  // Dense models and older families tie by default in transformers, the
  // Llama/Qwen/DeepSeek families do not.
  bool tie_default = family == Family::kBloom || family == Family::kFalcon;
  m.tie_word_embeddings = r.BoolOr("tie_word_embeddings", tie_default);
  m.max_context = FirstInteger(r, {"max_position_embeddings", "n_positions"}, 0, 0,
                               std::numeric_limits<int32_t>::max());
}

Result<ModelSpec> ParseFamily(JsonReader& r, Family family, ModelSpec m) {
  ReadCommon(r, m, family);
  if (!r.ok()) return std::unexpected(Error{r.Finish().error()});

  std::vector<AttentionType> attn(m.num_layers, AttentionType::kFull);
  std::vector<FfnType> ffn(m.num_layers, FfnType::kDense);

  switch (family) {
    case Family::kDense: {
      m.intermediate_size = RequiredInteger(r, {"intermediate_size"});
      // Qwen configs carry a sliding_window that is off unless use_sliding_window.
      bool qwen = m.model_type.starts_with("qwen");
      bool use_sliding = qwen ? r.BoolOr("use_sliding_window", false) : true;
      int64_t window = FirstInteger(r, {"sliding_window"}, 0, 0, int64_t{1} << 31);
      if (use_sliding && window > 0) {
        m.sliding_window = static_cast<int>(window);
        std::fill(attn.begin(), attn.end(), AttentionType::kSliding);
      }
      break;
    }
    case Family::kMixtral:
    case Family::kMiniMax:
    case Family::kGptOss: {
      m.num_experts = static_cast<int>(RequiredInteger(r, {"num_local_experts", "num_experts"}));
      m.experts_per_token = static_cast<int>(
          RequiredInteger(r, {"num_experts_per_tok", "experts_per_token"}, 1, m.num_experts));
      if (family == Family::kGptOss) r.Ignore("experts_per_token");
      m.moe_intermediate_size = RequiredInteger(r, {"intermediate_size"});
      m.shared_intermediate_size = FirstInteger(r, {"shared_intermediate_size"}, 0, 0);
      std::fill(ffn.begin(), ffn.end(), FfnType::kMoe);
      int64_t window = FirstInteger(r, {"sliding_window"}, 0, 0, int64_t{1} << 31);
      if (family == Family::kGptOss) {
        ReadLayerTypes(r, m.num_layers, attn);
        m.sliding_window = static_cast<int>(window);
      } else if (family == Family::kMixtral && window > 0) {
        m.sliding_window = static_cast<int>(window);
        std::fill(attn.begin(), attn.end(), AttentionType::kSliding);
      }
      if (family == Family::kMiniMax) {
        m.num_mtp_layers = static_cast<int>(FirstInteger(r, {"num_mtp_modules"}, 0, 0, 64));
        if (const Json* list = r.Raw("attn_type_list"); list != nullptr && list->is_array()) {
          for (const auto& t : *list) {
            if (!t.is_number_integer() || t.get<int>() != 1) {
              r.Fail("attn_type_list",
                     "linear (lightning) attention layers (type 0) are not "
                     "supported; only softmax layers (type 1)");
              break;
            }
          }
        }
      }
      break;
    }
    case Family::kQwenMoe: {
      m.num_experts = static_cast<int>(RequiredInteger(r, {"num_experts"}));
      m.experts_per_token =
          static_cast<int>(RequiredInteger(r, {"num_experts_per_tok"}, 1, m.num_experts));
      m.moe_intermediate_size = RequiredInteger(r, {"moe_intermediate_size"});
      m.shared_intermediate_size = FirstInteger(r, {"shared_expert_intermediate_size"}, 0, 0);
      m.intermediate_size = FirstInteger(r, {"intermediate_size"}, 0, 0);
      int64_t step = FirstInteger(r, {"decoder_sparse_step"}, 1, 1, 4096);
      std::set<int64_t> dense_layers;
      if (const Json* mlp_only = r.Raw("mlp_only_layers"); mlp_only && mlp_only->is_array()) {
        for (const auto& x : *mlp_only) {
          if (x.is_number_integer()) dense_layers.insert(x.get<int64_t>());
        }
      }
      for (int i = 0; i < m.num_layers; ++i) {
        bool moe = !dense_layers.contains(i) && (i + 1) % step == 0;
        ffn[i] = moe ? FfnType::kMoe : FfnType::kDense;
      }
      bool use_sliding = r.BoolOr("use_sliding_window", false);
      int64_t window = FirstInteger(r, {"sliding_window"}, 0, 0, int64_t{1} << 31);
      if (use_sliding && window > 0) {
        m.sliding_window = static_cast<int>(window);
        std::fill(attn.begin(), attn.end(), AttentionType::kSliding);
      }
      break;
    }
    case Family::kDeepseek: {
      m.mla = true;
      auto& d = m.mla_dims;
      d.q_lora_rank = static_cast<int>(FirstInteger(r, {"q_lora_rank"}, 0, 0));
      d.kv_lora_rank = static_cast<int>(RequiredInteger(r, {"kv_lora_rank"}));
      d.qk_nope_head_dim = static_cast<int>(RequiredInteger(r, {"qk_nope_head_dim"}));
      d.qk_rope_head_dim = static_cast<int>(RequiredInteger(r, {"qk_rope_head_dim"}));
      d.v_head_dim = static_cast<int>(RequiredInteger(r, {"v_head_dim"}));
      m.head_dim = d.qk_nope_head_dim + d.qk_rope_head_dim;
      m.intermediate_size = RequiredInteger(r, {"intermediate_size"});
      m.num_experts = static_cast<int>(RequiredInteger(r, {"n_routed_experts"}));
      m.experts_per_token =
          static_cast<int>(RequiredInteger(r, {"num_experts_per_tok"}, 1, m.num_experts));
      m.moe_intermediate_size = RequiredInteger(r, {"moe_intermediate_size"});
      int64_t shared = FirstInteger(r, {"n_shared_experts"}, 0, 0, 64);
      m.shared_intermediate_size = shared * m.moe_intermediate_size;
      int64_t first_dense = FirstInteger(r, {"first_k_dense_replace"}, 0, 0, m.num_layers);
      int64_t freq = FirstInteger(r, {"moe_layer_freq"}, 1, 1, 4096);
      for (int i = 0; i < m.num_layers; ++i) {
        ffn[i] = i >= first_dense && i % freq == 0 ? FfnType::kMoe : FfnType::kDense;
      }
      m.num_mtp_layers = static_cast<int>(FirstInteger(r, {"num_nextn_predict_layers"}, 0, 0, 64));
      m.sparse_topk = static_cast<int>(FirstInteger(r, {"index_topk"}, 0, 0, int64_t{1} << 31));
      m.indexer_heads = static_cast<int>(FirstInteger(r, {"index_n_heads"}, 0, 0, 4096));
      m.indexer_head_dim = static_cast<int>(FirstInteger(r, {"index_head_dim"}, 0, 0, 4096));
      // GLM-5 states head_dim for its rotary part; the MLA dims above rule.
      r.Ignore("head_dim");
      break;
    }
    case Family::kQwenNext: {
      m.attention_output_gate = r.BoolOr("attn_output_gate", true);
      ReadLayerTypes(r, m.num_layers, attn);
      auto& l = m.linear;
      l.num_key_heads = static_cast<int>(RequiredInteger(r, {"linear_num_key_heads"}));
      l.num_value_heads = static_cast<int>(RequiredInteger(r, {"linear_num_value_heads"}));
      l.key_head_dim = static_cast<int>(RequiredInteger(r, {"linear_key_head_dim"}));
      l.value_head_dim = static_cast<int>(RequiredInteger(r, {"linear_value_head_dim"}));
      l.conv_kernel = static_cast<int>(FirstInteger(r, {"linear_conv_kernel_dim"}, 4, 1, 64));
      m.num_experts = static_cast<int>(RequiredInteger(r, {"num_experts"}));
      m.experts_per_token =
          static_cast<int>(RequiredInteger(r, {"num_experts_per_tok"}, 1, m.num_experts));
      m.moe_intermediate_size = RequiredInteger(r, {"moe_intermediate_size"});
      m.shared_intermediate_size = FirstInteger(r, {"shared_expert_intermediate_size"}, 0, 0);
      m.intermediate_size = FirstInteger(r, {"intermediate_size"}, 0, 0);
      m.num_mtp_layers = static_cast<int>(
          FirstInteger(r, {"mtp_num_hidden_layers", "num_nextn_predict_layers"}, 0, 0, 64));
      int64_t step = FirstInteger(r, {"decoder_sparse_step"}, 1, 1, 4096);
      std::set<int64_t> dense_layers;
      if (const Json* mlp_only = r.Raw("mlp_only_layers"); mlp_only && mlp_only->is_array()) {
        for (const auto& x : *mlp_only) {
          if (x.is_number_integer()) dense_layers.insert(x.get<int64_t>());
        }
      }
      for (int i = 0; i < m.num_layers; ++i) {
        ffn[i] = !dense_layers.contains(i) && (i + 1) % step == 0 ? FfnType::kMoe : FfnType::kDense;
      }
      break;
    }
    case Family::kBloom:
      m.intermediate_size = 4 * m.hidden_size;
      m.gated_ffn = false;
      break;
    case Family::kFalcon:
      m.intermediate_size = FirstInteger(r, {"ffn_hidden_size"}, 4 * m.hidden_size);
      m.gated_ffn = false;
      r.Ignore("multi_query");
      break;
    case Family::kGptJ:
      m.intermediate_size = FirstInteger(r, {"n_inner"}, 4 * m.hidden_size);
      m.gated_ffn = false;
      break;
  }
  if (!r.ok()) return std::unexpected(Error{r.Finish().error()});

  // Cross-field checks, each naming the fields involved.
  if (!m.mla && m.num_heads % m.num_kv_heads != 0) {
    return Fail("{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
                r.origin(), m.num_heads, m.num_kv_heads);
  }
  if (m.is_moe() && m.moe_intermediate_size <= 0) {
    return Fail("{}: MoE model without an expert width (moe_intermediate_size)", r.origin());
  }
  bool any_sliding = std::count(attn.begin(), attn.end(), AttentionType::kSliding) > 0;
  if (any_sliding && m.sliding_window <= 0) {
    return Fail("{}: layer_types has sliding_attention layers but sliding_window is missing",
                r.origin());
  }
  for (int i = 0; i < m.num_layers; ++i) {
    if (ffn[i] == FfnType::kDense && m.intermediate_size <= 0) {
      return Fail("{}: layer {} is a dense FFN layer but intermediate_size is missing", r.origin(),
                  i);
    }
    PushLayer(m, LayerKind{attn[i], ffn[i]});
  }

  for (const auto& key : r.UnreadKeys()) {
    if (!IgnorableKeys().contains(key)) {
      m.warnings.push_back(
          fmt::format("{}: ignoring unrecognised key '{}'", r.origin(), r.KeyPath(key)));
    }
  }
  return m;
}

// The checkpoint's quantization_config: top level, or the language model's
// in multimodal wrappers (Kimi-K2.5 keeps it in text_config); null if absent
// or not an object. The key is otherwise ignorable (the precision is chosen
// per deployment), so the readers below take a shape they do not recognise
// as "no".
const Json* QuantizationConfig(const Json& config) {
  const Json* c = &config;
  if (!config.contains("quantization_config") && config.contains("text_config") &&
      config["text_config"].is_object()) {
    c = &config["text_config"];
  }
  auto q = c->find("quantization_config");
  return q != c->end() && q->is_object() ? &*q : nullptr;
}

std::string QuantMethod(const Json& q) {
  auto method = q.find("quant_method");
  return method != q.end() && method->is_string() ? method->get<std::string>() : "";
}

// Whether the checkpoint is block-scaled FP8.
bool Fp8BlockCheckpoint(const Json& config) {
  const Json* q = QuantizationConfig(config);
  if (q == nullptr || QuantMethod(*q) != "fp8") return false;
  auto block = q->find("weight_block_size");
  return block != q->end() && block->is_array() && !block->empty();
}

// The storage size of the checkpoint's 4-bit routed-expert weights when its
// scale blocks differ from the format's default (ModelSpec::
// expert_weight_bytes): MXFP4 (quant_method "mxfp4": one 8-bit scale per 32
// values) and compressed-tensors INT4 groups (bf16 scale per group); a shape
// this does not recognise reads as "none".
void ReadExpertWeightFormat(const Json& config, ModelSpec& m) {
  const Json* q = QuantizationConfig(config);
  if (q == nullptr) return;
  const std::string method = QuantMethod(*q);
  if (method == "mxfp4") {
    m.expert_weight_format = DType::kNvfp4;  // the model's FP4 format
    m.expert_weight_bytes = 0.5 + 1.0 / 32.0;
    return;
  }
  if (method != "compressed-tensors") return;
  auto groups = q->find("config_groups");
  if (groups == q->end() || !groups->is_object()) return;
  for (const Json& group : *groups) {
    if (!group.is_object() || !group.contains("weights") || !group["weights"].is_object()) continue;
    const Json& w = group["weights"];
    auto get = [&](const char* key) { return w.contains(key) ? w[key] : Json(); };
    if (get("num_bits") == Json(4) && get("type") == Json("int") &&
        get("strategy") == Json("group") && get("group_size").is_number_integer() &&
        get("group_size").get<int>() > 0) {
      m.expert_weight_format = DType::kInt4;
      m.expert_weight_bytes = 0.5 + 2.0 / get("group_size").get<int>();
      return;
    }
  }
}

Result<ModelSpec> ParseHfConfigBody(const Json& config, const std::string& origin,
                                    const std::string& name) {
  JsonReader top(config, origin);
  std::string model_type = top.String("model_type");
  if (!top.ok()) return std::unexpected(top.Finish().error());

  auto find = [](std::string_view type) -> const FamilyEntry* {
    for (const auto& f : kFamilies) {
      if (f.model_type == type) return &f;
    }
    return nullptr;
  };
  const FamilyEntry* entry = find(model_type);
  // Multimodal wrappers (Kimi-K2.5, Qwen3.5) keep the language model in
  // text_config; the vision tower does not take part in text serving.
  if (config.contains("text_config") && (entry == nullptr || model_type == "qwen3_5_moe")) {
    JsonReader text = top.Object("text_config");
    std::string text_type = text.String("model_type");
    if (!text.ok()) return std::unexpected(text.Finish().error());
    const FamilyEntry* text_entry = find(text_type);
    if (text_entry == nullptr) {
      return Fail("{}: text_config.model_type '{}' is not supported (supported: {})", origin,
                  text_type, SupportedTypes());
    }
    ModelSpec m;
    m.name = name;
    m.model_type = text_type;
    m.source = origin;
    auto parsed = ParseFamily(text, text_entry->family, std::move(m));
    if (!parsed) return parsed;
    // Wrappers state tie_word_embeddings at the top (Qwen3.5 only there); it
    // applies to the text model unless text_config states its own.
    bool tie = top.BoolOr("tie_word_embeddings", parsed->tie_word_embeddings);
    if (!top.ok()) return std::unexpected(top.Finish().error());
    if (!config.at("text_config").contains("tie_word_embeddings")) {
      parsed->tie_word_embeddings = tie;
    }
    for (const auto& key : top.UnreadKeys()) {
      if (!IgnorableKeys().contains(key)) {
        parsed->warnings.push_back(fmt::format("{}: ignoring unrecognised key '{}'", origin, key));
      }
    }
    return parsed;
  }
  if (entry == nullptr) {
    return Fail("{}: model_type '{}' is not supported (supported: {})", origin, model_type,
                SupportedTypes());
  }
  ModelSpec m;
  m.name = name;
  m.model_type = model_type;
  m.source = origin;
  return ParseFamily(top, entry->family, std::move(m));
}

}  // namespace

Result<ModelSpec> ParseHfConfig(const Json& config, const std::string& origin,
                                const std::string& name) {
  auto m = ParseHfConfigBody(config, origin, name);
  if (m) {
    m->fp8_block_checkpoint = Fp8BlockCheckpoint(config);
    ReadExpertWeightFormat(config, *m);
  }
  return m;
}

Result<ModelSpec> LoadModel(std::string_view name_or_path) {
  std::string arg(name_or_path);
  if (arg.empty()) return Fail("--model: empty model name");
  std::error_code ec;
  std::string path;
  std::string name;
  fs::path p(arg);
  if (fs::is_directory(p, ec)) {
    path = (p / "config.json").string();
    name = p.filename().empty() ? p.parent_path().filename().string() : p.filename().string();
    if (!fs::exists(path, ec)) return Fail("--model: folder '{}' has no config.json", arg);
  } else if (fs::exists(p, ec)) {
    path = arg;
    name = p.stem().string();
    if (name == "config") name = p.parent_path().filename().string();
  } else if (arg.find('/') == std::string::npos && !arg.ends_with(".json")) {
    path = DataDir() + "/models/" + arg + ".json";
    name = arg;
    if (!fs::exists(path, ec)) {
      std::string known;
      for (const auto& n : CatalogModelNames()) known += (known.empty() ? "" : ", ") + n;
      return Fail("--model: unknown model '{}' (not a file; catalog has: {})", arg, known);
    }
  } else {
    return Fail("--model: file '{}' does not exist", arg);
  }
  auto json = LoadJsonFile(path);
  if (!json) return std::unexpected(json.error());
  return ParseHfConfig(*json, path, name);
}

std::vector<std::string> CatalogModelNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(DataDir() + "/models", ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace disagg::model
