#include "disagg/model/model_spec.h"

#include <gtest/gtest.h>

#include "disagg/model/hf_config.h"

namespace disagg::model {
namespace {

ModelSpec Load(const char* name) {
  auto m = LoadModel(name);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().message);
  return *m;
}

TEST(ModelSpec, Llama70BParameterCount) {
  ModelSpec m = Load("llama-3.1-70b");
  // Attention per layer: 8192 x (64 + 2x8) x 128 (qkv) + 64 x 128 x 8192 (o)
  //   = 83,886,080 + 67,108,864 = 150,994,944.
  // FFN per layer: 3 x 8192 x 28672 = 704,643,072.
  // 80 layers: 80 x 855,638,016 = 68,451,041,280.
  // Embedding + untied LM head: 2 x 128256 x 8192 = 2,101,346,304.
  // Total 70,552,387,584 (~70.6 B).
  EXPECT_DOUBLE_EQ(m.AttentionParamsPerLayer(AttentionType::kFull), 150994944.0);
  EXPECT_DOUBLE_EQ(m.DenseFfnParams(), 704643072.0);
  EXPECT_DOUBLE_EQ(m.TotalParams(), 70552387584.0);
  EXPECT_DOUBLE_EQ(m.ActiveParamsPerToken(), m.TotalParams());
}

TEST(ModelSpec, Llama70BKvBytesPerToken) {
  ModelSpec m = Load("llama-3.1-70b");
  // 80 layers x 2 (K and V) x 8 heads x 128 dims = 163,840 elements; at 2
  // bytes (bf16) = 327,680 bytes per token.
  EXPECT_DOUBLE_EQ(m.KvElementsPerToken() * 2, 327680.0);
}

TEST(ModelSpec, DeepSeekV3TotalAndActiveParameters) {
  ModelSpec m = Load("deepseek-v3");
  // Attention per layer (MLA): q_a 7168x1536 = 11,010,048; q_b 1536x128x192 =
  // 37,748,736; kv_a 7168x576 = 4,128,768; kv_b 512x128x256 = 16,777,216;
  // o 128x128x7168 = 117,440,512. Sum 187,105,280; x61 = 11,413,422,080.
  EXPECT_DOUBLE_EQ(m.AttentionParamsPerLayer(AttentionType::kFull), 187105280.0);
  // Dense FFN (3 layers): 3 x 7168 x 18432 = 396,361,728 each.
  // Expert: 3 x 7168 x 2048 = 44,040,192; 256 routed (11,274,289,152) + 1
  // shared (44,040,192) + router 7168 x 256 (1,835,008) = 11,320,164,352 per
  // MoE layer, x58 = 656,569,532,416.
  // Embedding + head 2 x 129280 x 7168 = 1,853,358,080.
  // Total = 11,413,422,080 + 1,189,085,184 + 656,569,532,416 + 1,853,358,080
  //       = 671,025,397,760 (~671 B, the published figure without the MTP module).
  EXPECT_NEAR(m.TotalParams(), 671025397760.0, 1.0);
  // Active: 8 routed + 1 shared expert per MoE layer: 9 x 44,040,192 +
  // 1,835,008 = 398,196,736 x 58 = 23,095,410,688; plus attention, dense FFN
  // and embeddings as above = 37,551,275,... (~37 B published).
  EXPECT_NEAR(m.ActiveParamsPerToken() / 1e9, 37.55, 0.01);
  EXPECT_EQ(m.num_mtp_layers, 1);
}

TEST(ModelSpec, DeepSeekMlaCachesTheLatent) {
  ModelSpec m = Load("deepseek-r1");
  // MLA caches kv_lora_rank + rope dims = 512 + 64 = 576 elements per token
  // per layer, over 61 layers = 35,136.
  EXPECT_DOUBLE_EQ(m.KvElementsPerToken(), 61.0 * 576);
}

TEST(ModelSpec, GptOssSlidingLayersCapTheCache) {
  ModelSpec m = Load("gpt-oss-120b");
  // 36 layers alternating sliding (window 128) and full; 8 KV heads x 64 dims
  // x 2 = 1024 elements per token per layer.
  ASSERT_EQ(m.sliding_window, 128);
  int sliding = 0;
  for (int i = 0; i < m.num_layers; ++i) {
    sliding += m.kinds[m.layer_kind[i]].attention == AttentionType::kSliding;
  }
  EXPECT_EQ(sliding, 18);
  // Context 4096: 18 full layers hold 4096 tokens, 18 sliding hold 128.
  EXPECT_DOUBLE_EQ(m.KvElementsForContext(4096), 1024.0 * (18 * 4096 + 18 * 128));
  // Below the window every layer holds the whole context.
  EXPECT_DOUBLE_EQ(m.KvElementsForContext(100), 1024.0 * 36 * 100);
}

TEST(ModelSpec, KimiK2Has384Experts) {
  ModelSpec m = Load("kimi-k2");
  EXPECT_EQ(m.num_experts, 384);
  EXPECT_EQ(m.experts_per_token, 8);
  EXPECT_TRUE(m.mla);
  // ~1.04 T total parameters (model card: 1 T total, 32 B active).
  EXPECT_NEAR(m.TotalParams() / 1e12, 1.03, 0.02);
  EXPECT_NEAR(m.ActiveParamsPerToken() / 1e9, 32.9, 0.7);
}

TEST(ModelSpec, MixtralAndQwenMoe) {
  ModelSpec mixtral = Load("mixtral-8x7b");
  // Model card: 46.7 B total, 12.9 B active.
  EXPECT_NEAR(mixtral.TotalParams() / 1e9, 46.7, 0.1);
  EXPECT_NEAR(mixtral.ActiveParamsPerToken() / 1e9, 12.9, 0.1);
  ModelSpec qwen = Load("qwen3-235b-a22b");
  // Model card: 235 B total, 22 B active.
  EXPECT_NEAR(qwen.TotalParams() / 1e9, 235, 1.5);
  EXPECT_NEAR(qwen.ActiveParamsPerToken() / 1e9, 22, 0.5);
}

TEST(ModelSpec, DenseFamilies) {
  // Model cards: Llama-3.1-8B 8.03 B, 405B 405.9 B, Qwen3-32B 32.8 B.
  EXPECT_NEAR(Load("llama-3.1-8b").TotalParams() / 1e9, 8.03, 0.01);
  EXPECT_NEAR(Load("llama-3.1-405b").TotalParams() / 1e9, 405.9, 0.2);
  EXPECT_NEAR(Load("qwen3-32b").TotalParams() / 1e9, 32.8, 0.2);
  // BLOOM 176 B (tied embeddings, 4x non-gated MLP).
  EXPECT_NEAR(Load("bloom-176b").TotalParams() / 1e9, 176.2, 0.5);
}

}  // namespace
}  // namespace disagg::model
