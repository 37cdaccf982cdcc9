#include "disagg/serving/colocated.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace disagg::serving {

ColocatedMetrics EvaluatePiggyback(const perf::StepModel& model, const Workload& w, double chunk) {
  ColocatedMetrics c;
  if (chunk <= 0 || w.isl <= 0 || w.osl <= 0) return c;
  c.decode_batch = chunk * w.osl / w.isl;
  // The chunk is either a slice of one prompt (average cached context
  // (ISL - C) / 2 over the prompt's chunks) or C / ISL whole prompts.
  perf::BatchShape b = model.NewBatch();
  if (chunk < w.isl) {
    b.AddPrefill(1, chunk, (w.isl - chunk) / 2, false);
    b.logits += chunk / w.isl;  // the last chunk of each prompt yields a token
  } else {
    b.AddPrefill(chunk / w.isl, w.isl, 0);
  }
  b.AddDecode(c.decode_batch, w.isl + w.osl / 2);
  c.ttl = model.RoundTime(b);
  c.ftl = model.request_overhead() + std::ceil(w.isl / chunk - 1e-9) * c.ttl;
  c.tokens_per_s_per_gpu = c.decode_batch / c.ttl / model.mapping().gpus();
  c.step_tokens = b.tokens();
  return c;
}

ColocatedMetrics EvaluatePrefillFirst(const perf::StepModel& model, const Workload& w,
                                      double decode_batch, double prefill_batch) {
  ColocatedMetrics c;
  if (decode_batch <= 0 || prefill_batch <= 0) return c;
  PrefillMetrics p = EvaluatePrefill(model, prefill_batch, w);
  DecodeMetrics d = EvaluateDecode(model, decode_batch, w);
  const double per_request = p.timing.busy / prefill_batch;
  c.decode_batch = decode_batch;
  c.ttl = d.ttl + decode_batch * per_request / w.osl;
  const double rate = decode_batch / (c.ttl * w.osl);
  // Waiting for b - 1 more arrivals (half of them on average) and for the
  // decode step in progress, then the prefill step itself.
  c.ftl = p.ftl + d.ttl + (prefill_batch - 1) / (2 * rate);
  c.tokens_per_s_per_gpu = rate * w.osl / model.mapping().gpus();
  c.step_tokens = std::max(prefill_batch * w.isl, decode_batch);
  return c;
}

}  // namespace disagg::serving
