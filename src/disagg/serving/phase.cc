#include "disagg/serving/phase.h"

#include <algorithm>

namespace disagg::serving {

double KvTransferBytes(const perf::StepModel& model, double isl) {
  const auto& m = model.model();
  double bytes = m.KvElementsForContext(isl) * BytesPerElement(model.precision().kv);
  return bytes + m.LinearStateElementsPerSequence() * 4.0;
}

PrefillMetrics EvaluatePrefill(const perf::StepModel& model, double batch, const Workload& w,
                               double chunk) {
  PrefillMetrics p;
  if (batch <= 0 || w.isl <= 0) return p;
  p.timing = perf::PipelinedPrefill(model, batch, w.isl, chunk);
  const double gpus = model.mapping().gpus();
  p.ftl = model.request_overhead() + p.timing.latency;
  p.requests_per_s = batch / p.timing.busy;
  p.requests_per_s_per_gpu = p.requests_per_s / gpus;
  p.kv_bytes_per_request = KvTransferBytes(model, w.isl);
  p.kv_egress_bytes_per_s_per_gpu = p.kv_bytes_per_request * p.requests_per_s_per_gpu;
  return p;
}

DecodeMetrics EvaluateDecode(const perf::StepModel& model, double batch, const Workload& w) {
  DecodeMetrics d;
  if (batch <= 0 || w.osl <= 0) return d;
  const int pp = model.mapping().pp;
  perf::BatchShape b = model.NewBatch();
  b.AddDecode(batch, w.isl + w.osl / 2);
  d.step = model.Evaluate(b.Scaled(1.0 / pp));
  d.ttl = model.RoundTime(b);
  const double gpus = model.mapping().gpus();
  d.tokens_per_s = batch / d.ttl;
  d.tokens_per_s_per_gpu = d.tokens_per_s / gpus;
  d.requests_per_s_per_gpu = d.tokens_per_s_per_gpu / w.osl;
  d.kv_ingress_bytes_per_s_per_gpu = KvTransferBytes(model, w.isl) * d.requests_per_s_per_gpu;
  return d;
}

}  // namespace disagg::serving
