// Phase models: the steady-state metrics of one prefill or one decode
// instance, from the StepModel.
//
// Contract: pure functions, thread-safe, SI units. Prefill: a batch of b
// prompts of ISL tokens (optionally chunked through the pipeline, CPP); FTL is
// the prefill latency (KV transfer is added by the disaggregated composition),
// and the instance completes b requests every `busy` seconds (its busiest
// stage's occupancy), so requests/s/GPU = b / (busy x GPUs). Decode: B
// sequences at the steady-state context ISL + OSL/2 spread over pp
// micro-batches; TTL = max(micro-batch latency, pp x period); tokens/s =
// B / TTL; requests/s = tokens/s / OSL.
#ifndef DISAGG_SERVING_PHASE_H_
#define DISAGG_SERVING_PHASE_H_

#include "disagg/perf/pipeline.h"
#include "disagg/perf/step_model.h"

namespace disagg::serving {

struct Workload {
  double isl = 0;  // input tokens per request
  double osl = 0;  // output tokens per request
};

struct PrefillMetrics {
  double ftl =
      0;  // s: the framework's request overhead + the prefill (KV transfer added by disagg)
  double requests_per_s = 0;  // whole instance
  double requests_per_s_per_gpu = 0;
  double kv_bytes_per_request = 0;           // cache bytes a request hands to decode
  double kv_egress_bytes_per_s_per_gpu = 0;  // needed to ship the cache out at that rate
  perf::PrefillTiming timing;
};

struct DecodeMetrics {
  double ttl = 0;  // s between tokens of one request
  double tokens_per_s = 0;
  double tokens_per_s_per_gpu = 0;
  double requests_per_s_per_gpu = 0;
  double kv_ingress_bytes_per_s_per_gpu = 0;  // to receive the caches of new requests
  perf::StepCost step;                        // one micro-batch step
};

// Cache bytes one request of `isl` prompt tokens hands to decode, over all
// layers (sliding layers send the window only).
double KvTransferBytes(const perf::StepModel& model, double isl);

PrefillMetrics EvaluatePrefill(const perf::StepModel& model, double batch, const Workload& w,
                               double chunk = 0);

DecodeMetrics EvaluateDecode(const perf::StepModel& model, double batch, const Workload& w);

}  // namespace disagg::serving

#endif  // DISAGG_SERVING_PHASE_H_
