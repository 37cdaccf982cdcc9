#include "disagg/perf/pipeline.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace disagg::perf {

PrefillTiming PipelinedPrefill(const StepModel& model, double batch, double isl, double chunk) {
  PrefillTiming out;
  if (batch <= 0 || isl <= 0) return out;
  if (chunk <= 0 || chunk >= isl) chunk = isl;
  const int pp = model.mapping().pp;
  const int chunks = static_cast<int>(std::ceil(isl / chunk - 1e-9));
  out.chunks = chunks;

  std::vector<double> stage(pp);
  std::vector<double> done(pp, 0.0);  // time chunk j-1 left each stage
  std::vector<double> busy(pp, 0.0);
  for (int j = 0; j < chunks; ++j) {
    double context = j * chunk;
    double len = std::min(chunk, isl - context);
    BatchShape b = model.NewBatch();
    b.AddPrefill(batch, len, context, j == chunks - 1);
    model.StageTimes(b, stage);
    out.breakdown += model.Evaluate(b).breakdown;
    // Each chunk is a separate step for the framework: it pays the per-step
    // overhead on entry to the first stage.
    stage[0] += model.StepOverhead(b);
    double ready = 0;  // when chunk j has left stage s-1
    for (int s = 0; s < pp; ++s) {
      double arrive = s == 0 ? 0 : ready + model.SendTime(b, s);
      double start = std::max(arrive, done[s]);
      done[s] = start + stage[s];
      busy[s] += stage[s];
      ready = done[s];
    }
  }
  out.latency = done[pp - 1];
  out.busy = *std::max_element(busy.begin(), busy.end());
  return out;
}

}  // namespace disagg::perf
