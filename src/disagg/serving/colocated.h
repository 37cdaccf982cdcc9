// Co-located serving: prefill and decode share the instance's GPUs.
//
// Contract: pure functions, thread-safe, SI units; steady state with fixed
// ISL/OSL. Two policies, as in the study:
// - Piggybacking (chunked prefill): every step carries B decode tokens and a
//   C-token prompt chunk. Prompts finish at C/ISL per step, each then decodes
//   OSL tokens, so in steady state B = C x OSL / ISL. TTL = t_step (x pp
//   micro-batches when pipelined), FTL = ceil(ISL / C) x TTL.
// - Prefill-first: whole-prompt prefill steps (b prompts each) pre-empt
//   decoding. With B decoding sequences emitting a token every TTL the
//   request rate is B / (TTL x OSL); with t_p the prefill time per request the
//   decode stall fraction is rate x t_p, so TTL = t_d / (1 - rate x t_p),
//   i.e. TTL = t_d + B x t_p / OSL. FTL = the prefill step of b prompts plus
//   the wait for the running decode step and for b - 1 more arrivals.
#ifndef DISAGG_SERVING_COLOCATED_H_
#define DISAGG_SERVING_COLOCATED_H_

#include "disagg/perf/step_model.h"
#include "disagg/serving/phase.h"

namespace disagg::serving {

struct ColocatedMetrics {
  double ftl = 0;
  double ttl = 0;
  double tokens_per_s_per_gpu = 0;  // output tokens
  double decode_batch = 0;          // steady-state decoding sequences B
  double step_tokens = 0;           // tokens per step (memory sizing)
};

// `chunk`: prompt tokens per step (C).
ColocatedMetrics EvaluatePiggyback(const perf::StepModel& model, const Workload& w, double chunk);

// `decode_batch`: B; `prefill_batch`: prompts per prefill step (b).
ColocatedMetrics EvaluatePrefillFirst(const perf::StepModel& model, const Workload& w,
                                      double decode_batch, double prefill_batch);

}  // namespace disagg::serving

#endif  // DISAGG_SERVING_COLOCATED_H_
