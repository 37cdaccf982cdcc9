// Requests as the simulator sees them.
//
// Contract: plain values, SI units (seconds, tokens). A RequestSpec is what a
// workload produces; the simulator adds the timestamps of what happened.
#ifndef DISAGG_SIM_REQUEST_H_
#define DISAGG_SIM_REQUEST_H_

#include <cstdint>

namespace disagg::sim {

struct RequestSpec {
  int64_t id = 0;
  double arrival = 0;  // s since the start of the run
  int64_t isl = 0;     // prompt tokens
  int64_t osl = 0;     // output tokens (>= 1)
};

// What happened to one request.
struct RequestRecord {
  RequestSpec spec;
  double prefill_start = -1;  // first prompt token entered a step
  double first_token = -1;    // first output token reached the user
  double finish = -1;         // last output token
  int preemptions = 0;
  bool finished() const { return finish >= 0; }
  double ftl() const { return first_token - spec.arrival; }
  double queueing() const { return prefill_start - spec.arrival; }
  double e2e() const { return finish - spec.arrival; }
  // Mean time between output tokens; 0 for single-token outputs.
  double ttl() const { return spec.osl > 1 ? (finish - first_token) / (spec.osl - 1) : 0; }
};

}  // namespace disagg::sim

#endif  // DISAGG_SIM_REQUEST_H_
