#include "disagg/calib/kernel_rows.h"

#include <gtest/gtest.h>

#include <sstream>

namespace disagg::calib {
namespace {

constexpr const char* kHeader =
    "category,source,model,hardware,precision,parallelism,isl,osl,concurrency_or_rate,metric,"
    "value,notes\n";

KernelRowSet Parse(const std::string& body) {
  std::istringstream in(std::string(kHeader) + body);
  auto rows = ParseMeasurements(in, "test.csv");
  EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
  return KernelRowsFrom(rows ? *rows : std::vector<MeasurementRow>{}, "test.csv");
}

TEST(KernelRows, ParsesEveryOpFamily) {
  KernelRowSet set = Parse(
      // TRT-LLM GEMM, latency in us.
      "KERNEL-GEMM,[S17] a,GEMM m=32 n=8192 k=4096 (o_proj),H100-SXM-80GB,fp8_block (TRT-LLM "
      "torch_flow GEMM),1 GPU,-,-,m=32,latency (us),50.5,\n"
      // cuBLASLt cube in TFLOPS: 2 x 2048^3 / 1000e12 s.
      "KERNEL-GEMM,[S14] b,GEMM m x n x k = 2048x2048x2048,H200-SXM-141GB (Azure ND H200 v5),FP8 "
      "(cuBLASLt),1 GPU,-,-,x,TFLOPS,1000,\n"
      // Decode attention with stated heads.
      "KERNEL-ATTN,[S26] c,\"decode attention (XQA/MMHA) Llama-8B TP1 (32 q, 8 kv heads), head_dim "
      "128\",B200-SXM-180GB,\"bf16 compute, KV fp8\",1 GPU,kv_len~4096,1 step,batch 16,latency "
      "per layer (us),55.3,\n"
      // Context attention: heads from the Llama size and TP.
      "KERNEL-ATTN,[S31] d,\"prefill attention (FMHA, causal) Llama-70B TP8 per-GPU, head_dim "
      "128\",GB200 (NVL72 tray),\"bf16 compute, KV bfloat16\",1 GPU,2048,-,batch 8,latency per "
      "layer (us),211.8,\n"
      // NCCL, TRT-LLM custom and nccl-tests bus-bandwidth all-reduces.
      "KERNEL-COMM,[S40] e,NCCL all_reduce 65536 fp16 elements,H100-SXM-80GB,fp16,4 GPUs "
      "(NVLink),-,-,-,latency (us),11.4,\n"
      "KERNEL-COMM,[S44] f,TRT-LLM AllReduce (custom/auto strategy) 8192 bf16 elements,"
      "H100-SXM-80GB,bf16,8 GPUs,-,-,e.g. 1 tokens,latency (us),3.56,\n"
      "KERNEL-COMM,[S13] g,\"nccl-tests all_reduce_perf in-place, msg 67MB\",8xH100-SXM-80GB "
      "(NVLink4/NVSwitch),-,8 GPUs intra-node,-,-,-,bus bandwidth GB/s,361.78,\n"
      // MoE expert layer.
      "KERNEL-MOE,[S34] h,\"DeepSeek-V3/R1 routed-expert MoE layer (hidden 7168, inter 2048, 256 "
      "experts, top-8), kernel deepgemm\",B200-SXM-180GB,fp8_block,moe_tp1 x moe_ep32 (local),-,-,"
      "num_tokens=1024,latency per MoE layer (us),107.72,\n"
      // STREAM: the Triad column; a single-valued bandwidth row.
      "KERNEL-HBM,[S13] i,STREAM (GPU),H100-SXM-80GB,-,1 GPU,-,-,-,HBM bandwidth TB/s "
      "Copy/Mul/Add/Triad/Dot,2.9/2.9/2.97/2.97/3.18,\n"
      "KERNEL-HBM,[S48] j,HBM bandwidth test,GB200 (ND GB200 v6),-,1 GPU,-,-,-,HBM bandwidth "
      "TB/s,7.35,\n");
  EXPECT_EQ(set.total, 10);
  EXPECT_EQ(set.SkippedCount(), 0) << (set.skipped.empty() ? "" : set.skipped.begin()->first);
  ASSERT_EQ(set.rows.size(), 10u);

  const KernelRow& gemm = set.rows[0];
  EXPECT_EQ(gemm.op, KernelOp::kGemm);
  EXPECT_EQ(gemm.system, "h100_sxm");
  EXPECT_EQ(gemm.source, "S17");
  EXPECT_EQ(gemm.line, 2);
  EXPECT_DOUBLE_EQ(gemm.measured, 50.5e-6);
  const auto& g = std::get<GemmShape>(gemm.shape);
  EXPECT_EQ(g.m, 32);
  EXPECT_EQ(g.n, 8192);
  EXPECT_EQ(g.k, 4096);
  EXPECT_EQ(g.compute, DType::kFp8);
  EXPECT_EQ(g.quant, "fp8_block");
  EXPECT_EQ(g.library, GemmLibrary::kTrtllm);

  const auto& cube = std::get<GemmShape>(set.rows[1].shape);
  EXPECT_EQ(set.rows[1].system, "h200_sxm");
  EXPECT_EQ(cube.library, GemmLibrary::kVendorBlas);
  EXPECT_EQ(cube.m, 2048);
  EXPECT_NEAR(set.rows[1].measured, 2.0 * 2048 * 2048 * 2048 / 1000e12, 1e-15);

  const auto& dec = std::get<DecodeAttentionShape>(set.rows[2].shape);
  EXPECT_EQ(set.rows[2].op, KernelOp::kDecodeAttention);
  EXPECT_EQ(set.rows[2].system, "b200_sxm");
  EXPECT_EQ(dec.q_heads, 32);
  EXPECT_EQ(dec.kv_heads, 8);
  EXPECT_EQ(dec.head_dim, 128);
  EXPECT_EQ(dec.kv_len, 4096);
  EXPECT_EQ(dec.batch, 16);
  EXPECT_EQ(dec.kv, DType::kFp8);

  const auto& ctx = std::get<ContextAttentionShape>(set.rows[3].shape);
  EXPECT_EQ(set.rows[3].system, "gb200");
  EXPECT_EQ(ctx.q_heads, 8);   // Llama-70B: 64 query heads / TP8
  EXPECT_EQ(ctx.kv_heads, 1);  // 8 KV heads / TP8
  EXPECT_EQ(ctx.seq, 2048);
  EXPECT_EQ(ctx.batch, 8);
  EXPECT_EQ(ctx.kv, DType::kBf16);

  const auto& nccl = std::get<AllReduceShape>(set.rows[4].shape);
  EXPECT_EQ(nccl.impl, AllReduceImpl::kNccl);
  EXPECT_EQ(nccl.gpus, 4);
  EXPECT_EQ(nccl.bytes, 131072);
  const auto& custom = std::get<AllReduceShape>(set.rows[5].shape);
  EXPECT_EQ(custom.impl, AllReduceImpl::kTrtllmCustom);
  EXPECT_EQ(custom.gpus, 8);
  EXPECT_EQ(custom.bytes, 16384);
  // "67MB" is 2^26 bytes; time = S x 2(n-1)/n / busbw.
  const auto& bus = std::get<AllReduceShape>(set.rows[6].shape);
  EXPECT_EQ(set.rows[6].system, "h100_sxm");
  EXPECT_EQ(bus.bytes, 67108864);
  EXPECT_EQ(bus.gpus, 8);
  EXPECT_NEAR(set.rows[6].measured, 67108864 * 2.0 * 7 / 8 / 361.78e9, 1e-12);

  const auto& moe = std::get<MoeShape>(set.rows[7].shape);
  EXPECT_EQ(moe.hidden, 7168);
  EXPECT_EQ(moe.inter, 2048);
  EXPECT_EQ(moe.experts, 256);
  EXPECT_EQ(moe.top_k, 8);
  EXPECT_EQ(moe.ep, 32);
  EXPECT_EQ(moe.tp, 1);
  EXPECT_EQ(moe.tokens, 1024);
  EXPECT_EQ(moe.compute, DType::kFp8);
  EXPECT_EQ(moe.kernel, "deepgemm");

  EXPECT_EQ(set.rows[8].op, KernelOp::kHbmStream);
  EXPECT_DOUBLE_EQ(set.rows[8].measured, 2.97e12);  // Triad
  EXPECT_DOUBLE_EQ(set.rows[9].measured, 7.35e12);
  EXPECT_EQ((std::vector<std::string>{"b200_sxm", "gb200", "h100_sxm", "h200_sxm"}), set.Systems());
}

TEST(KernelRows, CountsSkippedRowsByReason) {
  KernelRowSet set = Parse(
      "SPEC,[S2] a,-,H100-SXM-80GB,BF16,-,-,-,-,TFLOPS,989,\n"
      "STEP-LATENCY,[S51] b,LLaMA-2 7B,1xH100-SXM-80GB,FP8,TP1,128,1,batch 1,first-token latency "
      "(ms),7,\n"
      // Hardware without a catalog system with kernel tables, twice.
      "KERNEL-GEMM,[S12] c,GEMM m x n x k = 1024x1024x1024,A100-SXM4-80GB,FP16 (cuBLASLt),1 GPU,"
      "-,-,-,TFLOPS,119.4,\n"
      "KERNEL-GEMM,[S12] c,GEMM m x n x k = 2048x2048x2048,A100-SXM4-80GB,FP16 (cuBLASLt),1 GPU,"
      "-,-,-,TFLOPS,221.8,\n"
      // Two GPUs in one row.
      "KERNEL-ATTN,[S22] d,sparse MLA prefill fwd,H800 SXM5 / B200,BF16,1 GPU,-,-,-,TFLOPS,640,\n"
      // Not one number.
      "KERNEL-ATTN,[S22] e,MHA prefill fwd,B200,BF16,1 GPU,-,-,-,TFLOPS fwd / bwd,1460 / 1000,\n"
      // A summary without a shape.
      "KERNEL-ATTN,[S13] f,\"FlashAttention-2 fwd (hdim 128, batch 2, seqlen 8192)\","
      "H100-SXM-80GB,FP16/BF16,1 GPU,8192,-,-,TFLOPS,327.9,\n"
      // Collectives other than all-reduce.
      "KERNEL-COMM,[S40] g,NCCL all_gather 65536 fp16 elements,H100-SXM-80GB,fp16,2 GPUs "
      "(NVLink),-,-,-,latency (us),6.6,\n"
      "KERNEL-COMM,[S13] h,nvbandwidth,H100,-,2 GPUs,-,-,-,H2D / D2H / D2D-read GB/s,51,\n"
      // A GEMM without m, n, k.
      "KERNEL-GEMM,[S11] i,DeepGEMM peak,H100-SXM-80GB,FP8,1 GPU,-,-,-,peak TFLOPS,1550,\n"
      // An int4 GEMM: no format the fit knows.
      "KERNEL-GEMM,[S99] j,GEMM m=1 n=2 k=3,H100-SXM-80GB,int4_wo (TRT-LLM),1 GPU,-,-,-,latency "
      "(us),5,\n"
      // MoE without a token count.
      "KERNEL-MOE,[S32] k,\"routed-expert MoE layer (hidden 7168, inter 2048, 256 experts, "
      "top-8)\",H100-SXM-80GB,fp8_block,moe_tp1 x moe_ep8,-,-,-,latency per MoE layer (us),46,\n"
      // An unknown kernel category.
      "KERNEL,[S49] l,routing top-k,B200,-,-,-,-,-,kernel time (us),15,\n");
  EXPECT_EQ(set.total, 13);
  EXPECT_EQ(set.other_categories, 2);
  EXPECT_TRUE(set.rows.empty());
  EXPECT_EQ(set.SkippedCount(), 11);
  auto count = [&](std::string_view part) {
    int n = 0;
    for (const auto& [reason, c] : set.skipped) {
      if (reason.find(part) != std::string::npos) n += c;
    }
    return n;
  };
  EXPECT_EQ(count("hardware 'A100-SXM4-80GB'"), 2);
  EXPECT_EQ(count("hardware 'H800 SXM5 / B200'"), 1);
  EXPECT_EQ(count("not one number"), 1);
  EXPECT_EQ(count("summary without batch"), 1);
  EXPECT_EQ(count("NCCL all_gather"), 1);
  EXPECT_EQ(count("not an all-reduce"), 1);
  EXPECT_EQ(count("shape not stated"), 1);
  EXPECT_EQ(count("is not bf16, fp8 or fp4"), 1);
  EXPECT_EQ(count("MoE:"), 1);
  EXPECT_EQ(count("no op formula"), 1);
}

TEST(KernelRows, MapsHardwareStrings) {
  EXPECT_EQ(CatalogSystemFor("H100-SXM-80GB"), "h100_sxm");
  EXPECT_EQ(CatalogSystemFor("8xH100-SXM-80GB (NVLink4/NVSwitch)"), "h100_sxm");
  EXPECT_EQ(CatalogSystemFor("H100 IB"), "h100_sxm");
  EXPECT_EQ(CatalogSystemFor("H200-SXM-141GB"), "h200_sxm");
  EXPECT_EQ(CatalogSystemFor("B200-SXM-180GB"), "b200_sxm");
  EXPECT_EQ(CatalogSystemFor("GB200 (NVL72 tray)"), "gb200");
  EXPECT_EQ(CatalogSystemFor("GB200 NVL72 (4 GPUs of one ND GB200 v6 VM)"), "gb200");
  EXPECT_EQ(CatalogSystemFor("A100-SXM4-80GB"), std::nullopt);
  EXPECT_EQ(CatalogSystemFor("H800-SXM5"), std::nullopt);
  EXPECT_EQ(CatalogSystemFor("MI300X"), std::nullopt);
  EXPECT_EQ(CatalogSystemFor("H800 SXM5 / B200"), std::nullopt);
  EXPECT_EQ(CatalogSystemFor("H1000"), std::nullopt);
}

TEST(KernelRows, BadFilesAreErrors) {
  auto missing = ReadKernelRows("/nonexistent/kernels.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/kernels.csv"), std::string::npos);

  std::istringstream in("category,source,model,value\nKERNEL-GEMM,[S1],x,1\n");
  auto columns = ParseMeasurements(in, "few.csv");
  ASSERT_FALSE(columns.has_value());
  const std::string& m = columns.error().message;
  EXPECT_NE(m.find("few.csv"), std::string::npos) << m;
  EXPECT_NE(m.find("hardware"), std::string::npos) << m;
  EXPECT_NE(m.find("concurrency_or_rate"), std::string::npos) << m;

  std::istringstream quote(std::string(kHeader) + "KERNEL-GEMM,\"[S1] open quote\n");
  auto bad = ParseMeasurements(quote, "quote.csv");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("quote.csv:2"), std::string::npos) << bad.error().message;
}

TEST(Measurements, TextHelpers) {
  EXPECT_EQ(SourceKey("[S54] Mutinifni/splitwise-sim"), "S54");
  EXPECT_EQ(SourceKey("no key"), "");
  EXPECT_EQ(NumberAfter("GEMM m=512 n=8192 k=4096", "n="), 8192);
  EXPECT_EQ(NumberAfter("chain=16 n=3", "n="), 3);  // not the "n=" inside "chain="
  EXPECT_EQ(NumberAfter("kv_len~4096", "kv_len~"), 4096);
  EXPECT_EQ(NumberAfter("2 GPUs", ""), 2);
  EXPECT_EQ(NumberAfter("m=", "m="), std::nullopt);
  EXPECT_EQ(ParseNumber(" 7.35 "), 7.35);
  EXPECT_EQ(ParseNumber("~0.17"), std::nullopt);
  EXPECT_EQ(ParseNumber("252 -> 15"), std::nullopt);
}

}  // namespace
}  // namespace disagg::calib
