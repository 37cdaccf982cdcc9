// The request-level discrete-event simulator: one deployment under one
// workload, every step time from perf::StepModel.
//
// Contract: Simulate is deterministic (same config, same source, same seed:
// byte-identical results and output streams) and single-threaded; memory does
// not grow with the number of finished requests (they are folded into
// streaming histograms and, optionally, written out as CSV rows). Errors
// (malformed trace lines, a deployment that does not fit) come back as
// Error; nothing throws.
// Request life: arrival -> router -> (co-located: chunked prefill and decode
// on one instance) or (prefill instance -> KV transfer over the shared links
// -> decode instance). The first token reaches the user when the co-located
// step that finishes the prompt ends, or when the KV cache has arrived at
// the decode instance; TTL is (finish - first token) / (OSL - 1).
#ifndef DISAGG_SIM_SIMULATOR_H_
#define DISAGG_SIM_SIMULATOR_H_

#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/hardware/system_spec.h"
#include "disagg/model/model_spec.h"
#include "disagg/perf/precision.h"
#include "disagg/sim/deployment.h"
#include "disagg/sim/metrics.h"
#include "disagg/sim/planner.h"
#include "disagg/sim/workload.h"

namespace disagg::sim {

struct SimConfig {
  model::ModelSpec model;
  hardware::SystemSpec system;
  perf::Precision precision;
  hardware::Backend backend = hardware::Backend::kTrtllm;
  Deployment deployment;
  RouterPolicy router = RouterPolicy::kLeastOutstanding;

  // Workload: an open-loop or trace source, or closed loop with
  // `concurrency` clients each sending its next request (lengths from
  // `lengths`) as soon as the previous one finishes, `closed_requests` in all.
  RequestSource* source = nullptr;
  int64_t concurrency = 0;
  int64_t closed_requests = 0;
  // Closed loop: clients send their first request at times drawn uniformly
  // from [0, client_spread) (0: all at once, a benchmark's opening burst).
  double client_spread = 0;
  LengthSampler* lengths = nullptr;
  double prompt_hint = 8192;  // longest prompt expected (prefill workspace sizing)

  double ftl_max = std::numeric_limits<double>::infinity();  // goodput SLA
  double ttl_max = std::numeric_limits<double>::infinity();
  double warmup = 0;  // requests arriving before this are simulated but not measured
  double max_time = std::numeric_limits<double>::infinity();  // stop the clock here
  uint64_t seed = 1;
  // Run decode-only stretches of an instance in one event when exact (see
  // BatchingInstance::FastForward); off only to check that it is exact.
  bool fast_forward = true;

  // Elastic planning (disaggregated deployments only): the deployment's
  // pools give the mappings and batches; the planner sets the counts within
  // options.gpu_budget (the pools' `instances` are ignored).
  std::optional<PlannerOptions> planner;

  std::ostream* requests_out = nullptr;  // one CSV row per finished request
  std::ostream* timeline_out = nullptr;  // one CSV row per timeline interval
  double timeline_interval = 1;
  // Called about once per wall-clock second with (simulated time, completed).
  std::function<void(double, int64_t)> progress;
};

struct PoolStats {
  std::string role;
  std::string mapping;
  int instances = 0;
  int gpus = 0;
  double utilization = 0;  // busy fraction of the instances over the run
};

// One planner interval: what the fleet was and what users saw.
struct PlannerSample {
  double time = 0;            // s, end of the interval
  double arrival_rate = 0;    // requests/s that arrived in it
  int prefill_instances = 0;  // serving at the end of the interval
  int decode_instances = 0;
  int starting = 0, draining = 0;
  int gpus = 0;               // held (starting, serving, draining)
  double goodput_rps = 0;     // requests finished in the interval meeting both limits, per s
  double sla_attainment = 0;  // of the requests finished in it (NaN: none finished)
  double planned_rate = 0;    // requests/s the current counts were sized for
  int decode_batch = 0;
  int64_t local_threshold = 0;
};

struct SimResult {
  int64_t requests_arrived = 0;
  int64_t requests_completed = 0;   // measured (arrived after warmup) and finished
  int64_t requests_unfinished = 0;  // arrived, measured, not finished when the run stopped
  int64_t requests_rejected = 0;    // could never fit in a cache
  int64_t requests_warmup = 0;      // finished but arrived during warmup
  Distribution ftl, ttl, e2e, queueing;
  double start = 0, end = 0;  // measurement window (s)
  double output_tokens = 0;   // of the measured requests that finished
  double tokens_per_s = 0;    // output tokens produced inside the window / window
  double tokens_per_s_per_gpu = 0;
  double requests_per_s = 0;
  double goodput_rps = 0;  // measured requests meeting both SLAs, per second
  double sla_attainment = 0;
  int64_t preemptions = 0;
  int64_t kv_transfers = 0;
  double kv_bytes = 0;
  int gpus = 0;          // of the deployment; with a planner, the budget
  double gpu_hours = 0;  // GPUs held integrated over the run (until the last request ends)
  int max_gpus_held = 0;
  int64_t reconfigurations = 0;  // instances started or drained after t = 0
  int64_t local_prefills = 0;    // requests prefilled on a decode instance
  std::vector<PlannerSample> planner_timeline;
  std::vector<PoolStats> pools;
  int64_t events = 0;
  int64_t skipped_lines = 0;
  double elapsed_wall_s = 0;
};

Result<SimResult> Simulate(const SimConfig& config);

}  // namespace disagg::sim

#endif  // DISAGG_SIM_SIMULATOR_H_
