#include "disagg/calib/silicon.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>
#include <regex>

#include "disagg/base/csv.h"
#include "disagg/base/files.h"
#include "disagg/base/json_reader.h"
#include "disagg/model/hf_config.h"
#include "disagg/parallel/mapping_check.h"

namespace disagg::calib {
namespace {

const char* const kColumns[] = {"id",
                                "silicon_data_source",
                                "backend",
                                "model_path",
                                "system",
                                "precision",
                                "mode",
                                "isl",
                                "osl",
                                "gemm_quant_mode",
                                "moe_quant_mode",
                                "batch_size",
                                "tp_size",
                                "pp_size",
                                "attention_dp_size",
                                "moe_tp_size",
                                "moe_ep_size",
                                "prefill_batch_size",
                                "prefill_num_workers",
                                "prefill_tp_size",
                                "prefill_pp_size",
                                "prefill_attention_dp_size",
                                "prefill_moe_tp_size",
                                "prefill_moe_ep_size",
                                "decode_batch_size",
                                "decode_num_workers",
                                "decode_tp_size",
                                "decode_pp_size",
                                "decode_attention_dp_size",
                                "decode_moe_tp_size",
                                "decode_moe_ep_size",
                                "silicon_ttft_ms",
                                "silicon_tpot_ms"};

// A row that cannot be used: the reason (for counting) and a sentence.
struct Skip {
  std::string reason;
  std::string detail;
};

// Runs that decode speculatively although no column says so, known from the
// public sweep definitions the rows come from, which pin one container image
// per configuration: InferenceX
// (formerly InferenceMAX), .github/configs/nvidia-master.yaml, keys
// dsr1-fp4-b200-trt-mtp and dsr1-fp8-b200-trt-mtp run
// nvcr.io/nvidia/tensorrt-llm/release:1.2.0rc6.post3 with
// speculative_config {decoding_type: MTP, num_nextn_predict_layers: 3, or 1
// with attention DP} (benchmarks/single_node/dsr1_fp*_b200_trt_mtp.sh), while
// the plain keys dsr1-fp*-b200-trt run 1.2.0rc6.post2 (SemiAnalysisAI/
// InferenceX, read 2026-11-23). The file's post3 rows agree: about 1.5x lower
// TPOT than post2 at the same mapping and concurrency. Such rows are replayed
// with that speculation (depth as the scripts set it, the catalog's default
// acceptance, perf::kMtpAcceptance).
struct SpeculativeImage {
  hardware::Backend backend;
  const char* version;
  const char* model;  // catalog name
  int depth;          // drafted tokens per step
  int depth_with_attention_dp;
};
constexpr SpeculativeImage kSpeculativeImages[] = {
    {hardware::Backend::kTrtllm, "1.2.0rc6.post3", "deepseek-r1", 3, 1},
};

const SpeculativeImage* Speculative(const SiliconRow& r) {
  for (const auto& s : kSpeculativeImages) {
    if (s.backend == r.backend && r.backend_version == s.version && r.model == s.model) return &s;
  }
  return nullptr;
}

// Whether a row was measured by NVIDIA's config generator (its
// aic-auto-gap-analysis runs, named in the source column) rather than by the
// InferenceX sweeps (SiliconRow::harness).
bool FromAiconfigurator(std::string_view source) { return source.contains("aic-auto-gap"); }

// SGLang's --scheduler-recv-interval of a co-located run (1: the default,
// every scheduler iteration polls for new requests), from the public launch
// scripts of the InferenceX single-node sweeps the b200 SGLang rows come from
// (SemiAnalysisAI/InferenceX benchmarks/{,single_node/}dsr1_fp4_b200.sh,
// dsr1_fp8_b200.sh, qwen3.5_bf16_b200.sh, qwen3.5_fp8_b200.sh, read
// 2026-11-23): 30 at concurrency 16 and above, else 10; 10 for DeepSeek-R1
// fp8 at TP4; 1 with attention DP (SGLang refuses the skipper there). Their
// H200 and GLM-5 scripts do not set it, nor do the aic-auto-gap-analysis
// harness rows. Runs wider than one node (tp > 8) came from other harnesses.
// The file's DeepSeek-V3 db-dump rows and qwen3.5 gap-analysis rows repeat
// the InferenceX measurements (same values) and take the same setting.
int RecvInterval(const SiliconRow& r, std::string_view source) {
  if (r.backend != hardware::Backend::kSglang || r.disaggregated || r.system != "b200_sxm" ||
      FromAiconfigurator(source) || r.agg.mapping.tp > 8 || r.agg.mapping.dp > 1) {
    return 1;
  }
  const bool deepseek = r.model == "deepseek-r1" || r.model == "deepseek-v3";
  if (!deepseek && r.model != "qwen3.5-397b-a17b") return 1;
  if (deepseek && r.precision_label == "fp8" && r.agg.mapping.tp == 4) return 10;
  return r.concurrency >= 16 ? 30 : 10;
}

// SGLang's --mem-fraction-static of a co-located run (0: SGLang's default
// rule), from the same InferenceX b200 launch scripts as RecvInterval
// (benchmarks/single_node/dsr1_fp8_b200.sh: 0.82 at TP8, 0.95 at TP4;
// dsr1_fp4_b200.sh: 0.85; qwen3.5_fp8_b200.sh and qwen3.5_bf16_b200.sh:
// 0.82; read 2026-11-24). The same scripts cap --max-running-requests at
// 128 (DeepSeek-R1 FP8 TP8, Qwen3.5) or 256 (FP4), which the file's runs at
// 256-512 clients contradict (their TTFT would be several whole decodes), so
// those caps belong to other versions of the scripts and are not read.
double MemFraction(const SiliconRow& r, std::string_view source) {
  // The runs RecvInterval reads a launch script for, and only those.
  if (RecvInterval(r, source) == 1) return 0;
  const bool deepseek = r.model == "deepseek-r1" || r.model == "deepseek-v3";
  if (deepseek && r.precision_label == "fp8") return r.agg.mapping.tp == 4 ? 0.95 : 0.82;
  if (deepseek && r.precision_label == "fp4") return 0.85;
  return 0.82;  // Qwen3.5-397B, bf16 and fp8
}

// TensorRT-LLM's attention-DP context balancing of a co-located run, from
// the same sweeps' launch scripts (SemiAnalysisAI/InferenceX
// benchmarks/{,single_node/,single_node/fixed_seq_len/}dsr1_fp{4,8}_b200_trt.sh,
// dsr1_fp8_h200_trt.sh, gptoss_fp4_b200_trt.sh, read 2026-11-23), written
// only when attention DP is on: DeepSeek-R1 {enable_balance: true,
// timeout_iters: 60, batching_wait_iters: 0}; gpt-oss-120b on b200
// {enable_balance: true}, so TensorRT-LLM's defaults 50 and 10
// (llmapi AttentionDpConfig). Their H200 gpt-oss and Llama scripts set none,
// nor do the disaggregated recipes or the aic-auto-gap-analysis harness.
sim::AdpBalance AdpBalanceOf(const SiliconRow& r, std::string_view source) {
  if (r.backend != hardware::Backend::kTrtllm || r.disaggregated || r.agg.mapping.dp <= 1 ||
      FromAiconfigurator(source) || r.agg.mapping.tp * r.agg.mapping.dp > 8) {
    return {};
  }
  if ((r.model == "deepseek-r1" || r.model == "deepseek-v3") &&
      (r.system == "b200_sxm" || r.system == "h200_sxm")) {
    return {.timeout_iters = 60, .batching_wait_iters = 0};
  }
  if (r.model == "gpt-oss-120b" && r.system == "b200_sxm") {
    return {.timeout_iters = 50, .batching_wait_iters = 10};
  }
  return {};
}

// TensorRT-LLM's batch waiting of a co-located run (InstanceConfig::
// batch_wait), from the same sweeps' launch scripts (SemiAnalysisAI/InferenceX,
// read 2026-11-23). Llama-3.1-70B (benchmarks/70b_fp8_b200_trt_slurm.sh,
// 70b_fp4_b200_trt_slurm.sh, 70b_fp8_h200_trt_slurm.sh and their docker
// twins): at ISL = OSL = 1024 and TP < 8, batch_wait_timeout_iters 20 and
// batch_wait_max_tokens_ratio 0.9 of max_num_tokens, which some versions set
// to the maximum model length (ISL + OSL) and others to 16384; the file does
// not say which ran, and its 39 such rows favour the model length (TTFT MAPE
// 14% against 18% for 16384, 51% without waiting). DeepSeek-R1 fp8 on b200
// (benchmarks/single_node/dsr1_fp8_b200_trt.sh, delay batching): at ISL = OSL
// = 1024 and concurrency >= 64, 40 iterations and 0.8 of max(8192, conc +
// ISL + 64) = 8192 tokens. Their MTP, fp4, H200 and gpt-oss scripts set none;
// the engine ignores it under attention DP.
sim::BatchWait BatchWaitOf(const SiliconRow& r, std::string_view source) {
  if (r.backend != hardware::Backend::kTrtllm || r.disaggregated || r.agg.mapping.dp > 1 ||
      r.speculation.depth > 0 || FromAiconfigurator(source) || r.agg.mapping.tp > 8 ||
      r.isl != 1024 || r.osl != 1024) {
    return {};
  }
  if (r.model == "llama-3.1-70b" && r.agg.mapping.tp < 8) {
    return {.timeout_iters = 20, .threshold_tokens = 0.9 * static_cast<double>(r.isl + r.osl)};
  }
  if ((r.model == "deepseek-r1" || r.model == "deepseek-v3") && r.system == "b200_sxm" &&
      r.precision_label == "fp8" && r.concurrency >= 64) {
    const double max_num_tokens =
        std::max<double>(8192, static_cast<double>(r.concurrency + r.isl + 64));
    return {.timeout_iters = 40, .threshold_tokens = 0.8 * max_num_tokens};
  }
  return {};
}

// The client's length spread. The InferenceX sweeps (the file's dated
// source_file exports, their gap-analysis copies and the db-dump runs) use
// their benchmark_serving.py random dataset with --random-range-ratio 0.8:
// prompt and output lengths uniform integers in [int(0.8 x L), L]
// (SemiAnalysisAI/InferenceX utils/bench_serving/benchmark_serving.py,
// sample_random_requests; RANDOM_RANGE_RATIO 0.8 in
// .github/workflows/benchmark-tmpl.yml and benchmark-multinode-tmpl.yml, read
// 2026-11-23). The aic-auto-gap-analysis rows' aiperf client takes its
// length spread from a benchmark configuration the file does not record:
// fixed.
double LengthRatio(std::string_view source) { return FromAiconfigurator(source) ? 1.0 : 0.8; }

// Prompt tokens the aiconfigurator generator gives a co-located engine per
// step beyond the prompt itself (ai-dynamo/aiconfigurator src/aiconfigurator/
// generator/rule_plugin/benchmark/{trtllm,vllm,sglang}.rule, read 2026-11-23:
// TensorRT-LLM and vLLM max_num_tokens = max_batch_size + ISL + 1500, SGLang
// max_prefill_tokens = ISL + 1500). A published setting, not a tuned value.
constexpr int64_t kAicPromptHeadroom = 1500;

// The co-located engine's prompt budget per step and step composition, where
// a run's launch settings differ from the replay's defaults (8192 tokens; the
// backend's own composition). Evidence and checks: docs/validation.md, "the
// step budgets the runs were launched with" and "a prefill-first engine keeps
// a fixed-length cohort together".
// - aic-auto-gap-analysis rows (the generator above): ISL + 1500 prompt
//   tokens per step, and SGLang with --enable-mixed-chunk, except SGLang
//   0.5.1.post1, whose template (cli_args.0.5.1.post1.j2) reads that switch
//   under the key `enable-mix-chunk`, which the rules never set: prefill
//   first. The vLLM 0.12.0 template emits no --max-num-batched-tokens, but the
//   generic one does and the rows favour ISL + 1500, so it stays. The
//   TensorRT-LLM 1.0.0rc3 template (extra_engine_args.1.0.0rc3.yaml.j2) sets
//   enable_chunked_prefill false: whole prompts.
// - InferenceX vLLM on b200, MiniMax-M2.5 and Kimi-K2.5 fp4: the sweep's
//   newest launch scripts (SemiAnalysisAI/InferenceX benchmarks/single_node/
//   fixed_seq_len/minimaxm2.5_fp{8,4}_b200.sh, kimik2.5_fp4_b200.sh, read
//   2026-11-23) set --max-num-batched-tokens to 2 x ISL; older copies keep
//   vLLM's 8192, and the rows favour 2 x ISL.
void StepComposition(SiliconRow& r, std::string_view source) {
  if (r.disaggregated) return;
  if (FromAiconfigurator(source)) {
    r.chunk = r.isl + kAicPromptHeadroom;
    if (r.backend == hardware::Backend::kSglang)
      r.prefill_first = r.backend_version == "0.5.1.post1" ? 1 : 0;
    r.whole_prompts = r.backend == hardware::Backend::kTrtllm && r.backend_version == "1.0.0rc3";
    return;
  }
  if (r.backend == hardware::Backend::kVllm && r.system == "b200_sxm" &&
      (r.model == "minimax-m2.5" || (r.model == "kimi-k2.5" && r.precision_label == "fp4"))) {
    r.chunk = 2 * r.isl;
  }
}

std::optional<double> Number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Result<std::map<std::string, std::string>> LoadAliases(const std::string& path) {
  auto json = LoadJsonFile(path);
  if (!json) return std::unexpected(json.error());
  if (!json->is_object()) return Fail("{}: expected an object of id -> catalog name", path);
  std::map<std::string, std::string> out;
  for (auto it = json->begin(); it != json->end(); ++it) {
    if (it.key().starts_with("_")) continue;
    if (!it.value().is_string()) return Fail("{}: {}: expected a catalog name", path, it.key());
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

// "..._c64_tp1_ep1_512" -> "..._tp1_ep1": the run a row belongs to.
std::string RunKey(const std::string& id) {
  static const std::regex concurrency("_c[0-9]+(?=_|$)");
  std::string key = std::regex_replace(id, concurrency, "");
  static const std::regex counter("_[0-9]+$");
  if (!key.contains("_cfg")) key = std::regex_replace(key, counter, "");
  return key;
}

}  // namespace

perf::Precision RowPrecision(const std::string& precision, const std::string& gemm_quant,
                             const std::string& moe_quant, const hardware::SystemSpec& system) {
  perf::Precision p;
  p.name = precision.empty() ? "bf16" : precision;
  auto mode = [&](const std::string& q) {
    perf::QuantMode m;
    if (q.empty()) return m;
    auto parsed = perf::ParseQuantMode(q, "quant_mode");
    if (parsed) m = *parsed;
    // Formats the tensor cores lack run weight-only: the weights stay in
    // their format and are expanded to BF16 for BF16 math (w4a16). This is
    // what the engines ship for the file's only such rows, gpt-oss-120b's
    // MXFP4 experts on Hopper: TensorRT-LLM's MoE support matrix lists BF16
    // activations with MXFP4 weights on Hopper ("simulated mxfp4, HGMMA",
    // examples/models/core/gpt_oss/README.md), vLLM runs them through its
    // mxfp4_w4a16 Triton path. Computing them in FP8 instead (this reader
    // until 2026-11-23) halved their prefill time: those rows' TTFT rose
    // 2.0-2.3x faster with the prompt length than predicted.
    if (!system.gpu.Supports(m.compute == DType::kInt4 ? DType::kBf16 : m.compute)) {
      m.compute = DType::kBf16;
    }
    return m;
  };
  p.gemm = mode(gemm_quant);
  p.moe = mode(moe_quant.empty() ? gemm_quant : moe_quant);
  // The file has no KV-cache column. Quantised runs are read with an fp8
  // cache on every backend (TensorRT-LLM's default for them; NVIDIA's FP8
  // and NVFP4 checkpoints declare an FP8 KV cache; for vLLM and SGLang the
  // file does not say, and the measurements point to fp8): with a bf16 cache the
  // lockstep replay of long-output vLLM/SGLang rows runs out of cache and
  // preempts, predicting TTFT 5-25x the measured one (e.g. Llama-3.1-70B
  // fp4 tp1 b200 vLLM c64 1024/8192: 5.96 s predicted, 0.24 s measured);
  // with fp8 the vLLM TTFT MAPE fell from 70% to 55%, SGLang's from 48% to
  // 41%, TPOT unchanged or better.
  bool low = precision == "fp8" || precision == "fp4";
  p.kv = low ? DType::kFp8 : DType::kBf16;
  return p;
}

Result<SiliconData> ReadSilicon(const std::string& path, const SiliconOptions& o) {
  std::ifstream in(path);
  if (!in) return Fail("{}: cannot open file", path);
  auto aliases =
      LoadAliases(o.aliases_path.empty() ? DataDir() + "/model_aliases.json" : o.aliases_path);
  if (!aliases) return std::unexpected(aliases.error());
  CsvReader reader(in, path);
  std::vector<std::string> f;
  auto first = reader.Next(f);
  if (!first) return std::unexpected(first.error());
  if (!*first) return Fail("{}: empty file (no header)", path);
  CsvHeader h(f);
  for (const char* c : kColumns) {
    if (!h.Find(c)) return Fail("{}: missing column '{}'", path, c);
  }

  SiliconData data;
  std::map<std::string, std::optional<hardware::SystemSpec>> systems;
  std::map<std::string, std::optional<model::ModelSpec>> models;
  while (true) {
    auto more = reader.Next(f);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    ++data.rows_read;
    const long long line = reader.line();
    auto get = [&](const char* col) { return std::string(h.Get(f, col)); };
    std::optional<Skip> skip;
    auto fail = [&](std::string reason, std::string detail) {
      if (!skip) skip = Skip{std::move(reason), std::move(detail)};
    };
    // Integer cells: empty means 1; anything else must be a positive integer.
    auto count = [&](const char* col, int fallback = 1) {
      std::string v = get(col);
      if (v.empty()) return fallback;
      auto x = Number(v);
      if (!x || *x < 1 || *x != std::floor(*x) || *x > 1 << 20) {
        fail("unparsable number", fmt::format("column {}: '{}'", col, v));
        return fallback;
      }
      return static_cast<int>(*x);
    };

    SiliconRow r;
    r.line = line;
    r.id = get("id");
    r.run = RunKey(r.id);
    r.model_path = get("model_path");
    r.system = get("system");
    r.backend_name = get("backend");
    r.backend_version = get("backend_version");
    r.precision_label = get("precision");
    r.disaggregated = get("mode") == "disagg";
    if (get("mode") != "agg" && get("mode") != "disagg") {
      fail("unknown mode", fmt::format("column mode: '{}'", get("mode")));
    }
    auto alias = aliases->find(r.model_path);
    if (alias == aliases->end()) {
      fail("unsupported model", fmt::format("model_path '{}' is not in the catalog", r.model_path));
    } else {
      r.model = alias->second;
    }
    auto backend = hardware::ParseBackend(r.backend_name);
    if (!backend) {
      fail("unknown backend", fmt::format("column backend: '{}'", r.backend_name));
    } else {
      r.backend = *backend;
    }
    auto& sys = systems[r.system];
    if (!sys.has_value()) {
      auto loaded = hardware::LoadSystem(r.system);
      if (loaded) sys = *loaded;
    }
    if (!sys) fail("unknown system", fmt::format("column system: '{}'", r.system));
    r.isl = count("isl", 0);
    r.osl = count("osl", 0);
    if (r.isl < 1 || r.osl < 1) fail("missing value", "isl and osl are required");
    auto ttft = Number(get("silicon_ttft_ms")), tpot = Number(get("silicon_tpot_ms"));
    if (!ttft || !tpot || *ttft <= 0 || *tpot <= 0) {
      fail("unparsable number", fmt::format("silicon_ttft_ms '{}', silicon_tpot_ms '{}'",
                                            get("silicon_ttft_ms"), get("silicon_tpot_ms")));
    } else {
      r.ttft = *ttft / 1000;
      r.tpot = *tpot / 1000;
    }
    static const std::regex conc("silicon_concurrency=([0-9]+)");
    std::smatch m;
    std::string source = get("silicon_data_source");
    if (std::regex_search(source, m, conc)) {
      r.concurrency = std::stoll(m[1]);
    } else {
      r.concurrency = count("batch_size", 0);
    }
    if (r.concurrency < 1)
      fail("missing value", "no concurrency (silicon_concurrency or batch_size)");

    auto pool = [&](const std::string& prefix, SiliconPool& p) {
      p.mapping.tp = count((prefix + "tp_size").c_str());
      p.mapping.pp = count((prefix + "pp_size").c_str());
      p.mapping.dp = count((prefix + "attention_dp_size").c_str());
      p.mapping.moe_tp = count((prefix + "moe_tp_size").c_str());
      p.mapping.moe_ep = count((prefix + "moe_ep_size").c_str());
      p.batch = count((prefix + "batch_size").c_str(), 0);
      if (!prefix.empty()) p.workers = count((prefix + "num_workers").c_str(), 0);
    };
    if (r.disaggregated) {
      pool("prefill_", r.prefill);
      pool("decode_", r.decode);
      r.fully_described = r.prefill.workers > 0 && r.decode.workers > 0 && r.decode.batch > 0;
      if (!r.fully_described) {
        // The stated assumption: one worker per pool, the decode batch
        // taking the whole concurrency, prompts prefilled one at a time.
        r.prefill.workers = r.decode.workers = 1;
        r.decode.batch =
            static_cast<int>(std::ceil(static_cast<double>(r.concurrency) / r.decode.mapping.dp));
        r.prefill.batch = 1;
      }
      if (r.prefill.batch == 0) r.prefill.batch = 1;
    } else {
      pool("", r.agg);
      if (r.agg.batch == 0) {
        r.agg.batch =
            static_cast<int>(std::ceil(static_cast<double>(r.concurrency) / r.agg.mapping.dp));
      }
    }
    r.recv_interval = RecvInterval(r, source);
    r.mem_fraction = MemFraction(r, source);
    r.adp_balance = AdpBalanceOf(r, source);
    r.length_ratio = LengthRatio(source);
    r.harness = FromAiconfigurator(source) ? "aiconfigurator" : "inferencex";
    if (const SpeculativeImage* spec = Speculative(r)) {
      const bool dp = (r.disaggregated ? r.decode.mapping.dp : r.agg.mapping.dp) > 1;
      r.speculation.depth = dp ? spec->depth_with_attention_dp : spec->depth;
      r.speculation.acceptance = perf::kMtpAcceptance;
    }
    r.batch_wait = BatchWaitOf(r, source);
    StepComposition(r, source);
    // Mappings against the model: the MoE columns mean nothing for dense
    // models; MoE groups that do not cover tp x dp follow the file's
    // convention that experts span the worker's attention GPUs.
    if (!skip) {
      auto& spec = models[r.model];
      if (!spec.has_value()) {
        auto loaded = model::LoadModel(r.model);
        if (loaded) spec = *loaded;
      }
      if (!spec) {
        fail("unsupported model", fmt::format("catalog model '{}' does not load", r.model));
      } else {
        r.precision = perf::OnCheckpoint(
            RowPrecision(r.precision_label, get("gemm_quant_mode"), get("moe_quant_mode"), *sys),
            *spec);
        for (SiliconPool* p : {&r.agg, &r.prefill, &r.decode}) {
          if ((p == &r.agg) == r.disaggregated) continue;
          perf::Mapping& mp = p->mapping;
          if (spec->is_moe() && mp.tp > 8 && mp.dp == 1 && sys->nvlink_domain >= 72) {
            // DEP, see SiliconRow::dep_assumed; an agg batch is per DP rank.
            mp.dp = mp.tp;
            mp.tp = 1;
            mp.moe_tp = 1;
            mp.moe_ep = mp.dp;
            if (p == &r.agg && p->batch > 0) p->batch = (p->batch + mp.dp - 1) / mp.dp;
            r.dep_assumed = true;
          }
          if (!spec->is_moe()) {
            mp.moe_tp = mp.moe_ep = 1;
          } else if (mp.moe_tp * mp.moe_ep != mp.tp * mp.dp) {
            int group = mp.tp * mp.dp;
            mp.moe_ep = std::gcd(mp.moe_ep, group);
            mp.moe_tp = group / mp.moe_ep;
          }
          if (mp.tp > sys->nvlink_domain || (p == &r.agg && mp.tp * mp.dp > sys->nvlink_domain)) {
            r.beyond_nvlink_domain = true;
          }
          auto legal = parallel::CheckMapping(*spec, *sys, mp, true);
          if (!legal.ok()) fail("impossible mapping", legal.detail);
        }
        auto supported = parallel::CheckPrecision(*sys, r.precision);
        if (!supported.ok()) fail("unsupported precision", supported.detail);
      }
    }
    if (skip) {
      if (o.strict) return Fail("{}:{}: {}: {}", path, line, skip->reason, skip->detail);
      ++data.skipped[skip->reason];
      data.skipped_rows.push_back(
          {static_cast<long long>(line), r.id, r.system, skip->reason, skip->detail});
      continue;
    }
    data.rows.push_back(std::move(r));
  }
  return data;
}

}  // namespace disagg::calib
