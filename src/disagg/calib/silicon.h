// Reading end-to-end serving measurements in the format of
// ../shared/validation/silicon_calibration.csv into deployments the
// simulator can replay.
//
// Contract: ReadSilicon never crashes on a row: a row it cannot use is
// skipped with a counted reason (unsupported model, unknown system or
// backend, unparsable number, missing column value, impossible mapping) or,
// with `strict`, turns into an Error naming the file, line and column. A
// missing file or a missing column in the header is always an Error.
// Conventions of the format (see the file's README): empty cells mean 1 (or
// not applicable); GPUs per worker = tp x attention_dp x pp; an agg row's
// batch_size is the engine's maximum batch per attention-DP rank; a disagg
// row's decode batch x workers x attention DP = its concurrency; 719 disagg
// rows do not state worker counts or batches and are marked not fully
// described (the replay then assumes one prefill and one decode worker, the
// decode batch taking the whole concurrency). An agg row whose batch x
// attention DP is below its concurrency describes several identical workers
// behind a router (26 rows, Dynamo deployments): the replay runs
// ceil(concurrency / (batch x DP)) of them. MoE pools with tp > 8 and no
// attention DP on a 72-GPU domain are read as attention DP (see
// SiliconRow::dep_assumed). Quantised runs (fp8/fp4 weights) are read with
// an fp8 KV cache on every backend: the bf16 cache of vLLM's and SGLang's
// `auto` setting cannot hold what the measured TPOT and TTFT show being
// served (see RowPrecision). Rows whose backend image a public sweep
// definition pins to MTP speculative decoding carry that speculation
// (SiliconRow::speculation; the table and its source are in silicon.cc).
// Thread-safe to read.
#ifndef DISAGG_CALIB_SILICON_H_
#define DISAGG_CALIB_SILICON_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/perf/mapping.h"
#include "disagg/perf/precision.h"
#include "disagg/perf/step_model.h"
#include "disagg/sim/instance.h"

namespace disagg::calib {

struct SiliconPool {
  perf::Mapping mapping;
  int workers = 1;
  int batch = 0;  // per attention-DP rank; 0 when not stated
};

struct SiliconRow {
  long long line = 0;
  std::string id;
  std::string run;  // the benchmark run: the id without its concurrency and row counter
  std::string model_path, model;  // Hugging Face id and catalog name
  std::string system;
  hardware::Backend backend = hardware::Backend::kTrtllm;
  std::string backend_name;
  std::string backend_version;  // optional column; "" when absent or empty
  std::string precision_label;  // "fp8", "fp4", ... as in the file
  perf::Precision precision;    // as run on the model's checkpoint (perf::OnCheckpoint)
  bool disaggregated = false;
  bool fully_described = true;
  // Tensor parallelism wider than the system's NVLink domain (tp 16-64 on
  // 8-GPU systems), or a co-located instance whose TP x attention DP is
  // (tp1 dp16/dp64, tp4 dp4 on 8-GPU systems): measured latencies of these
  // rows match single-node deployments, not collectives over the scale-out
  // network, and the single-node launch scripts of their sweeps place one
  // instance on one node, so their columns are suspect; they are predicted
  // as stated but kept out of fits and headline errors (their own group).
  bool beyond_nvlink_domain = false;
  // An MoE pool stating TP wider than 8 with no attention DP inside a
  // 72-GPU NVLink domain (the GB200 DeepSeek-R1/V3, Kimi and GLM series:
  // tp 12-72, most not dividing the attention heads, TPOT too low for TP
  // attention across that many GPUs) is read as attention data parallelism
  // over those GPUs with the experts spread over all of them (DEP), the
  // layout of NVIDIA's wide-EP GB200 deployments. Reinterpreted columns:
  // kept out of fits and headline errors (their own group).
  bool dep_assumed = false;
  SiliconPool agg, prefill, decode;
  // Speculative decoding the run used although no column records it (depth
  // 0: none), from the image's published configuration.
  perf::Speculation speculation;
  // SGLang's --scheduler-recv-interval the run was launched with (1: every
  // scheduler iteration polls for new requests), from its public launch
  // script (silicon.cc, RecvInterval).
  int recv_interval = 1;
  // SGLang's --mem-fraction-static the run was launched with (0: SGLang's
  // default rule), from its public launch script (silicon.cc, MemFraction).
  double mem_fraction = 0;
  // TensorRT-LLM's attention-DP context balancing the run was launched with
  // (off: timeout 0), from its public launch script (silicon.cc,
  // AdpBalanceOf).
  sim::AdpBalance adp_balance{};
  // TensorRT-LLM's batch waiting the run was launched with (off: timeout 0),
  // from its public launch script (silicon.cc, BatchWaitOf).
  sim::BatchWait batch_wait{};
  // The benchmark client's length spread: prompt and output lengths uniform
  // in [floor(ratio x isl), isl] and [floor(ratio x osl), osl]; 1: fixed.
  double length_ratio = 1;
  // The benchmark harness that measured the run, from its source: "inferencex"
  // (the InferenceX sweeps' benchmark_serving.py: their dated exports, gap
  // analysis copies and database dumps) or "aiconfigurator" (the
  // aic-auto-gap-analysis runs of NVIDIA's config generator).
  std::string harness = "inferencex";
  // The co-located engine's prompt tokens per step (0: the replay's default)
  // and step composition (-1: the backend's default, 0 mixed, 1 prefill
  // first) the run was launched with (silicon.cc, StepComposition).
  int64_t chunk = 0;
  int prefill_first = -1;
  // The engine takes each prompt whole in one step (TensorRT-LLM launched
  // with enable_chunked_prefill false); false: chunked or not known.
  bool whole_prompts = false;
  int64_t isl = 0, osl = 0;
  int64_t concurrency = 0;
  double ttft = 0;  // measured mean, s
  double tpot = 0;  // measured mean, s
};

struct SkippedRow {
  long long line = 0;  // in the file, header = 1
  std::string id, system, reason, detail;
};

struct SiliconData {
  std::vector<SiliconRow> rows;
  long long rows_read = 0;
  std::map<std::string, long long> skipped;  // reason -> rows
  std::vector<SkippedRow> skipped_rows;      // each, with what was wrong
};

struct SiliconOptions {
  bool strict = false;
  // HF id -> catalog name table (data/model_aliases.json by default).
  std::string aliases_path;
};

Result<SiliconData> ReadSilicon(const std::string& path, const SiliconOptions& options = {});

// The precision a row's labels mean on `system`: formats the GPU lacks in
// its tensor cores run as weight-only with BF16 math (FP4 weights on Hopper:
// w4a16). The KV cache is FP8 for FP8/FP4 runs on every backend and BF16
// otherwise.
perf::Precision RowPrecision(const std::string& precision, const std::string& gemm_quant,
                             const std::string& moe_quant, const hardware::SystemSpec& system);

}  // namespace disagg::calib

#endif  // DISAGG_CALIB_SILICON_H_
