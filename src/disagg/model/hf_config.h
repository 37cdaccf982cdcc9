// Reading Hugging Face config.json files into ModelSpec, and the model catalog.
//
// Contract: never throws. Supported model_type values: llama, mistral, qwen2,
// qwen3 (dense GQA); mixtral, qwen2_moe, qwen3_moe, minimax_m2, gpt_oss (MoE,
// gpt_oss with alternating sliding-window layers); deepseek_v2, deepseek_v3,
// kimi_k2 (MLA + MoE), glm_moe_dsa (MLA + MoE + sparse attention), qwen3_next
// and qwen3_5_moe(_text) (hybrid linear attention + MoE); bloom, falcon, gptj
// (older dense models); and multimodal wrappers whose `text_config` is one of
// these. Anything else fails with an Error naming the file and model_type.
// Architectural keys are checked for type and range (errors name the key and
// value); keys known to be irrelevant to performance are skipped; any other
// key becomes a warning in ModelSpec::warnings (never silently ignored).
#ifndef DISAGG_MODEL_HF_CONFIG_H_
#define DISAGG_MODEL_HF_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/base/json_reader.h"
#include "disagg/model/model_spec.h"

namespace disagg::model {

// Parses an already loaded config; `origin` names the file for messages.
Result<ModelSpec> ParseHfConfig(const Json& config, const std::string& origin,
                                const std::string& name);

// `name_or_path`: a catalog name (data/models/<name>.json), a path to a
// config.json, or a folder holding one.
Result<ModelSpec> LoadModel(std::string_view name_or_path);

// Catalog names, sorted.
std::vector<std::string> CatalogModelNames();

}  // namespace disagg::model

#endif  // DISAGG_MODEL_HF_CONFIG_H_
