// Pipelined prefill: the chunked-pipeline (CPP) recurrence.
//
// Contract: pure functions over a StepModel, thread-safe. A prompt of `isl`
// tokens is cut into chunks of `chunk` tokens; chunk j enters stage s when
// chunk j-1 has left stage s and chunk j has left stage s-1 (plus the send
// between them). Each chunk's stage time is evaluated with its own context
// (later chunks attend to more keys, so their stages are slower). `batch`
// prompts of equal length move together as one micro-batch per chunk.
// Allocation: one vector of pp entries per call.
#ifndef DISAGG_PERF_PIPELINE_H_
#define DISAGG_PERF_PIPELINE_H_

#include "disagg/perf/step_model.h"

namespace disagg::perf {

struct PrefillTiming {
  double latency = 0;  // first chunk in to last chunk out: the prefill part of FTL
  double busy = 0;     // time the busiest stage is occupied: sets the instance's throughput
  int chunks = 0;
  StepBreakdown breakdown;  // summed over chunks, for display
};

// chunk <= 0 or chunk >= isl: the whole prompt in one step.
PrefillTiming PipelinedPrefill(const StepModel& model, double batch, double isl, double chunk);

}  // namespace disagg::perf

#endif  // DISAGG_PERF_PIPELINE_H_
