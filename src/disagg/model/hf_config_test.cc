#include "disagg/model/hf_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace disagg::model {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// The architectural keys of meta-llama/Llama-3.1-8B's config.json.
Json Llama8B() {
  return Json::parse(R"({
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05,
    "tie_word_embeddings": false
  })");
}

// Mixtral-8x7B's MoE keys.
Json Mixtral() {
  Json j = Llama8B();
  j["model_type"] = "mixtral";
  j["num_local_experts"] = 8;
  j["num_experts_per_tok"] = 2;
  return j;
}

Result<ModelSpec> Parse(const Json& j) { return ParseHfConfig(j, "cfg.json", "test-model"); }

std::string ErrorOf(const Json& j) {
  auto m = Parse(j);
  EXPECT_FALSE(m.has_value()) << "expected an error";
  return m ? "" : m.error().message;
}

TEST(HfConfig, EveryCatalogModelParsesWithoutWarnings) {
  auto names = CatalogModelNames();
  // data/models holds 19 configs (data/models/README.md).
  EXPECT_GE(names.size(), 19u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    auto m = LoadModel(name);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(m->name, name);
    EXPECT_TRUE(m->warnings.empty()) << m->warnings.front();
    EXPECT_GT(m->hidden_size, 0);
    EXPECT_GT(m->num_layers, 0);
    EXPECT_EQ(m->layer_kind.size(), static_cast<size_t>(m->num_layers));
    EXPECT_FALSE(m->kinds.empty());
  }
}

TEST(HfConfig, Llama8BShape) {
  auto m = Parse(Llama8B());
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->name, "test-model");
  EXPECT_EQ(m->source, "cfg.json");
  EXPECT_EQ(m->model_type, "llama");
  EXPECT_EQ(m->hidden_size, 4096);
  EXPECT_EQ(m->num_layers, 32);
  EXPECT_EQ(m->num_heads, 32);
  EXPECT_EQ(m->num_kv_heads, 8);
  EXPECT_EQ(m->head_dim, 128);  // 4096 / 32
  EXPECT_EQ(m->intermediate_size, 14336);
  EXPECT_EQ(m->vocab_size, 128256);
  EXPECT_EQ(m->max_context, 131072);
  EXPECT_FALSE(m->is_moe());
  EXPECT_TRUE(m->warnings.empty());
}

TEST(HfConfig, KvHeadsDefaultToAttentionHeads) {
  Json j = Llama8B();
  j.erase("num_key_value_heads");
  auto m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->num_kv_heads, 32);  // MHA
}

// The published checkpoints' quantization_config: DeepSeek-R1 and MiniMax-M2.5
// ship FP8 with 128 x 128 weight blocks, gpt-oss MXFP4, Llama-3.1 none.
TEST(HfConfig, BlockScaledFp8CheckpointIsRead) {
  for (const char* name : {"deepseek-r1", "deepseek-v3", "minimax-m2.5"}) {
    auto m = LoadModel(name);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_TRUE(m->fp8_block_checkpoint) << name;
  }
  for (const char* name : {"gpt-oss-120b", "llama-3.1-70b", "kimi-k2.5"}) {
    auto m = LoadModel(name);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_FALSE(m->fp8_block_checkpoint) << name;
  }
  // Per-tensor FP8 (no weight_block_size) is not block-scaled; a malformed
  // quantization_config is ignored like the rest of the key.
  Json j = Llama8B();
  j["quantization_config"] = Json{{"quant_method", "fp8"}};
  EXPECT_FALSE(Parse(j)->fp8_block_checkpoint);
  j["quantization_config"]["weight_block_size"] = Json::array({128, 128});
  EXPECT_TRUE(Parse(j)->fp8_block_checkpoint);
  j["quantization_config"] = "fp8";
  EXPECT_FALSE(Parse(j)->fp8_block_checkpoint);
}

// The 4-bit expert formats of the published checkpoints and their storage:
// gpt-oss MXFP4, 4 bits + one 8-bit scale per 32 = 0.5 + 1/32 = 0.53125 B;
// Kimi-K2.5 compressed-tensors INT4 in groups of 32 with bf16 scales,
// 0.5 + 2/32 = 0.5625 B (its quantization_config sits in text_config).
TEST(HfConfig, ExpertWeightFormatOfTheCheckpointIsRead) {
  auto oss = LoadModel("gpt-oss-120b");
  ASSERT_TRUE(oss.has_value()) << oss.error().message;
  EXPECT_EQ(oss->expert_weight_format, DType::kNvfp4);
  EXPECT_DOUBLE_EQ(oss->expert_weight_bytes, 0.53125);
  auto kimi = LoadModel("kimi-k2.5");
  ASSERT_TRUE(kimi.has_value()) << kimi.error().message;
  EXPECT_EQ(kimi->expert_weight_format, DType::kInt4);
  EXPECT_DOUBLE_EQ(kimi->expert_weight_bytes, 0.5625);
  for (const char* name : {"deepseek-r1", "llama-3.1-70b", "minimax-m2.5"}) {
    auto m = LoadModel(name);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(m->expert_weight_bytes, 0) << name;
  }
  // INT4 groups of 128 give 0.5 + 2/128; a group without a size is not read.
  Json j = Llama8B();
  j["quantization_config"] = Json{
      {"quant_method", "compressed-tensors"},
      {"config_groups",
       {{"group_0",
         {{"weights",
           {{"num_bits", 4}, {"type", "int"}, {"strategy", "group"}, {"group_size", 128}}}}}}}};
  EXPECT_DOUBLE_EQ(Parse(j)->expert_weight_bytes, 0.515625);
  j["quantization_config"]["config_groups"]["group_0"]["weights"].erase("group_size");
  EXPECT_EQ(Parse(j)->expert_weight_bytes, 0);
}

TEST(HfConfig, UnsupportedModelTypeNamesFileAndType) {
  Json j = Llama8B();
  j["model_type"] = "mamba2";
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "'mamba2'"));
  EXPECT_TRUE(Contains(e, "not supported"));
  EXPECT_TRUE(Contains(e, "llama"));  // lists what is supported
}

TEST(HfConfig, UnsupportedTextConfigModelType) {
  Json j = Json::parse(R"({"model_type": "some_vlm", "text_config": {"model_type": "rwkv"}})");
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "text_config.model_type"));
  EXPECT_TRUE(Contains(e, "'rwkv'"));
}

TEST(HfConfig, MissingOrBadModelType) {
  Json j = Llama8B();
  j.erase("model_type");
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "model_type"));
  j["model_type"] = 7;
  e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "model_type"));
  EXPECT_TRUE(Contains(e, "7"));
}

TEST(HfConfig, MissingRequiredKeysAreNamed) {
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
                          "intermediate_size"}) {
    SCOPED_TRACE(key);
    Json j = Llama8B();
    j.erase(key);
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "cfg.json"));
    EXPECT_TRUE(Contains(e, key));
    EXPECT_TRUE(Contains(e, "missing"));
  }
}

TEST(HfConfig, NullRequiredKeyIsMissing) {
  Json j = Llama8B();
  j["hidden_size"] = nullptr;
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "hidden_size"));
  EXPECT_TRUE(Contains(e, "missing"));
}

TEST(HfConfig, MissingMoeKeysAreNamed) {
  for (const char* key : {"num_local_experts", "num_experts_per_tok"}) {
    SCOPED_TRACE(key);
    Json j = Mixtral();
    j.erase(key);
    std::string e = ErrorOf(j);
    EXPECT_TRUE(Contains(e, "cfg.json"));
    EXPECT_TRUE(Contains(e, key));
  }
}

TEST(HfConfig, HeadsNotDivisibleByKvHeads) {
  Json j = Llama8B();
  j["num_key_value_heads"] = 6;  // 32 % 6 = 2
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "num_attention_heads 32"));
  EXPECT_TRUE(Contains(e, "num_key_value_heads 6"));

  j["num_key_value_heads"] = 64;  // more KV heads than query heads
  EXPECT_TRUE(Contains(ErrorOf(j), "num_key_value_heads 64"));
}

TEST(HfConfig, NegativeOrZeroSizesRejected) {
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads",
                          "num_key_value_heads", "vocab_size", "intermediate_size"}) {
    for (int value : {0, -4096}) {
      SCOPED_TRACE(fmt::format("{} = {}", key, value));
      Json j = Llama8B();
      j[key] = value;
      std::string e = ErrorOf(j);
      EXPECT_TRUE(Contains(e, "cfg.json"));
      EXPECT_TRUE(Contains(e, key));
      EXPECT_TRUE(Contains(e, std::to_string(value)));
    }
  }
  Json j = Mixtral();
  j["num_local_experts"] = 0;
  EXPECT_TRUE(Contains(ErrorOf(j), "num_local_experts"));
}

TEST(HfConfig, WrongTypesRejected) {
  Json j = Llama8B();
  j["hidden_size"] = "4096";
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "hidden_size"));
  EXPECT_TRUE(Contains(e, "\"4096\""));

  j = Llama8B();
  j["num_hidden_layers"] = 31.5;
  e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "num_hidden_layers"));
  EXPECT_TRUE(Contains(e, "31.5"));

  j = Llama8B();
  j["tie_word_embeddings"] = "no";
  EXPECT_TRUE(Contains(ErrorOf(j), "tie_word_embeddings"));

  EXPECT_TRUE(Contains(ErrorOf(Json::array({1, 2})), "expected a JSON object"));
}

TEST(HfConfig, TooManyExpertsPerToken) {
  Json j = Mixtral();
  j["num_experts_per_tok"] = 9;  // > 8 experts
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "num_experts_per_tok"));
  EXPECT_TRUE(Contains(e, "9"));
}

TEST(HfConfig, LayerTypesMustMatchLayerCount) {
  Json j = Mixtral();
  j["model_type"] = "gpt_oss";
  j["sliding_window"] = 128;
  j["layer_types"] = Json::array({"sliding_attention", "full_attention"});  // 2, not 32
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "layer_types"));
  EXPECT_TRUE(Contains(e, "32"));

  j["layer_types"] = Json::array();
  for (int i = 0; i < 32; ++i)
    j["layer_types"].push_back(i == 5 ? "cross_attention" : "full_attention");
  EXPECT_TRUE(Contains(ErrorOf(j), "cross_attention"));
}

TEST(HfConfig, UnrecognisedKeyIsAWarningNotAnError) {
  Json j = Llama8B();
  j["my_new_knob"] = 3;
  auto m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  ASSERT_EQ(m->warnings.size(), 1u);
  EXPECT_TRUE(Contains(m->warnings[0], "cfg.json"));
  EXPECT_TRUE(Contains(m->warnings[0], "my_new_knob"));
}

TEST(HfConfig, IrrelevantKnownKeysAreNotWarnings) {
  Json j = Llama8B();
  j["torch_dtype"] = "bfloat16";
  j["rope_theta"] = 500000.0;
  j["bos_token_id"] = 128000;
  auto m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m->warnings.empty());
}

TEST(HfConfig, WrapperReadsTextConfig) {
  Json j = Json::object();
  j["model_type"] = "some_vlm";
  j["text_config"] = Llama8B();
  j["text_config"]["new_text_knob"] = 1;
  j["vision_config"] = Json::object();  // ignorable
  j["new_top_knob"] = 2;
  auto m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->model_type, "llama");
  EXPECT_EQ(m->hidden_size, 4096);
  ASSERT_EQ(m->warnings.size(), 2u);
  EXPECT_TRUE(Contains(m->warnings[0] + m->warnings[1], "text_config.new_text_knob"));
  EXPECT_TRUE(Contains(m->warnings[0] + m->warnings[1], "new_top_knob"));
}

TEST(HfConfig, WrapperTieWordEmbeddings) {
  Json j = Json::object();
  j["model_type"] = "some_vlm";
  j["text_config"] = Llama8B();
  j["text_config"].erase("tie_word_embeddings");
  j["tie_word_embeddings"] = true;  // stated only on the wrapper: applies
  auto m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_TRUE(m->tie_word_embeddings);
  EXPECT_TRUE(m->warnings.empty());

  j["text_config"]["tie_word_embeddings"] = false;  // the text model's own rules
  m = Parse(j);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_FALSE(m->tie_word_embeddings);

  j["tie_word_embeddings"] = "yes";
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "tie_word_embeddings"));
}

TEST(HfConfig, WrapperErrorsNameTheTextConfigPath) {
  Json j = Json::object();
  j["model_type"] = "some_vlm";
  j["text_config"] = Llama8B();
  j["text_config"]["hidden_size"] = -1;
  std::string e = ErrorOf(j);
  EXPECT_TRUE(Contains(e, "cfg.json"));
  EXPECT_TRUE(Contains(e, "text_config.hidden_size"));
}

TEST(HfConfig, KimiK25LoadsItsTextModel) {
  auto m = LoadModel("kimi-k2.5");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  // text_config of moonshotai/Kimi-K2.5: the Kimi-K2 (DeepSeek-V3) backbone,
  // 61 layers of hidden 7168, MLA with a 512 + 64 latent, 384 experts top-8.
  EXPECT_EQ(m->name, "kimi-k2.5");
  EXPECT_EQ(m->model_type, "kimi_k2");
  EXPECT_TRUE(m->mla);
  EXPECT_EQ(m->hidden_size, 7168);
  EXPECT_EQ(m->num_layers, 61);
  EXPECT_EQ(m->num_experts, 384);
  EXPECT_EQ(m->experts_per_token, 8);
  EXPECT_EQ(m->mla_dims.kv_lora_rank, 512);
  EXPECT_EQ(m->mla_dims.qk_rope_head_dim, 64);
  EXPECT_EQ(m->max_context, 262144);
  EXPECT_TRUE(m->warnings.empty());
}

class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("disagg_hf_config_test_{}_{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& relative, const std::string& text) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }
  fs::path dir_;
};

TEST_F(ModelFileTest, FolderWithConfigJsonLoads) {
  Write("Llama-3.1-8B/config.json", Llama8B().dump(2));
  std::string folder = (dir_ / "Llama-3.1-8B").string();
  for (const std::string& arg : {folder, folder + "/", folder + "/config.json"}) {
    SCOPED_TRACE(arg);
    auto m = LoadModel(arg);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    EXPECT_EQ(m->name, "Llama-3.1-8B");
    EXPECT_EQ(m->hidden_size, 4096);
    EXPECT_EQ(m->source, folder + "/config.json");
  }
}

TEST_F(ModelFileTest, FileNamedAfterTheModel) {
  std::string path = Write("my-llama.json", Llama8B().dump());
  auto m = LoadModel(path);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->name, "my-llama");
}

TEST_F(ModelFileTest, FolderWithoutConfigJson) {
  fs::create_directories(dir_ / "empty");
  std::string folder = (dir_ / "empty").string();
  auto m = LoadModel(folder);
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(Contains(m.error().message, "--model"));
  EXPECT_TRUE(Contains(m.error().message, folder));
  EXPECT_TRUE(Contains(m.error().message, "config.json"));
}

TEST_F(ModelFileTest, MalformedFileNamesLineAndColumn) {
  // Line 3 `  "hidden_size": 4096 @`: 2 spaces, `"hidden_size"` (13), `: ` (2),
  // `4096 ` (5), so '@' is at column 2 + 13 + 2 + 5 + 1 = 23.
  std::string path =
      Write("bad/config.json", "{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 4096 @\n}\n");
  auto m = LoadModel(path);
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(Contains(m.error().message, path + ":3:23:"));
}

TEST_F(ModelFileTest, ErrorsNameTheFile) {
  Json j = Llama8B();
  j["model_type"] = "t5";
  std::string path = Write("t5.json", j.dump());
  auto m = LoadModel(path);
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(Contains(m.error().message, path));
  EXPECT_TRUE(Contains(m.error().message, "'t5'"));
}

TEST(LoadModel, UnknownNamesAndMissingFiles) {
  auto m = LoadModel("llama-9-1t");
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(Contains(m.error().message, "--model"));
  EXPECT_TRUE(Contains(m.error().message, "llama-9-1t"));
  EXPECT_TRUE(Contains(m.error().message, "llama-3.1-70b"));  // lists the catalog

  m = LoadModel("/nonexistent/model/config.json");
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(Contains(m.error().message, "/nonexistent/model/config.json"));

  EXPECT_FALSE(LoadModel("").has_value());
}

}  // namespace
}  // namespace disagg::model
