// Workloads: where the simulator's requests come from.
//
// Contract: a RequestSource yields requests in non-decreasing arrival order,
// one at a time (memory does not grow with the length of a trace). Next()
// returns nullopt at the end and an Error (naming the file and line) for
// malformed input, unless the source was told to skip bad lines, in which
// case it counts them. After an Error the source is finished: later calls
// return the same Error. Sources are deterministic given their seed (every
// variate is built from raw std::mt19937_64 output, not from the
// implementation-defined std:: distributions). Not thread-safe.
#ifndef DISAGG_SIM_WORKLOAD_H_
#define DISAGG_SIM_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/sim/request.h"

namespace disagg::sim {

// A distribution of prompt and output lengths.
class LengthSampler {
 public:
  virtual ~LengthSampler() = default;
  // (isl, osl), both >= 1.
  virtual std::pair<int64_t, int64_t> Sample(std::mt19937_64& rng) = 0;
  // Means, for reports and sizing.
  virtual double MeanIsl() const = 0;
  virtual double MeanOsl() const = 0;
};

// Preconditions (validate user input before calling): lengths >= 1 and
// min <= max. So that Sample() keeps its contract regardless, a length below 1
// is raised to 1, a max below its min is raised to the min, and an empty
// empirical sample behaves as FixedLengths(1, 1).

// Fixed lengths.
std::unique_ptr<LengthSampler> FixedLengths(int64_t isl, int64_t osl);
// Independent uniform lengths in [min, max].
std::unique_ptr<LengthSampler> UniformLengths(int64_t isl_min, int64_t isl_max, int64_t osl_min,
                                              int64_t osl_max);
// Draws (isl, osl) pairs from an empirical sample (e.g. a trace's lengths).
std::unique_ptr<LengthSampler> EmpiricalLengths(std::vector<std::pair<int64_t, int64_t>> sample);

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  virtual Result<std::optional<RequestSpec>> Next() = 0;
  // Lines skipped as malformed (with skip_bad_lines).
  virtual int64_t skipped_lines() const { return 0; }
};

enum class ArrivalProcess { kPoisson, kGamma, kUniform };

struct OpenLoopOptions {
  ArrivalProcess process = ArrivalProcess::kPoisson;
  double rate = 1;           // requests/s
  double gamma_cv = 1;       // coefficient of variation of inter-arrival times (gamma)
  int64_t max_requests = 0;  // 0: unlimited
  double duration = 0;       // s; 0: unlimited
  uint64_t seed = 1;
};

// Open-loop arrivals with lengths from `lengths`: the first request arrives at
// 0, then gaps are exponential (Poisson), gamma with shape 1/cv^2 and mean
// 1/rate (Gamma), or exactly 1/rate (Uniform). Ids are 0, 1, 2, ...; the
// source ends after max_requests or before the first arrival >= duration.
// Invalid options (rate <= 0, gamma_cv <= 0, negative limits, no sampler)
// are reported as an Error by the first Next(). Arrival times and lengths use
// separate random streams, so a seed's arrival times do not depend on the
// length distribution.
std::unique_ptr<RequestSource> OpenLoop(const OpenLoopOptions& o,
                                        std::unique_ptr<LengthSampler> lengths);

struct TraceOptions {
  double time_scale = 1;  // multiply timestamps (< 1 compresses the trace)
  double rate_scale = 1;  // multiply the request rate by replicating requests
  int64_t max_requests = 0;
  bool skip_bad_lines = false;
  uint64_t seed = 1;  // for rate_scale's replication
};

// The Azure LLM inference trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens)
// and the Mooncake JSON-lines trace ({"timestamp": ms, "input_length",
// "output_length", "hash_ids"}). The format is chosen from the file's first
// line. Timestamps start at 0 for the first request.
// (The first non-blank line decides the format even with skip_bad_lines.)
//
// Azure timestamps are `YYYY-MM-DD HH:MM:SS[.f]` (1-9 fractional digits, a
// 'T' may replace the space), read exactly as calendar arithmetic (no time
// zones); Mooncake timestamps are milliseconds. Lengths must be integers >= 1:
// neither format gives a meaning to an empty prompt or output, so a 0 is an
// error, not raised to 1. Mooncake lines must have timestamp, input_length and
// output_length, may have hash_ids (a list, otherwise ignored) and nothing
// else. Blank lines are skipped.
//
// Errors name the file and line: an unreadable file, an unrecognised first
// line, a malformed line (bad CSV/JSON, missing or extra fields, a bad
// timestamp or length, unknown key), a timestamp going backwards, and a trace
// with no requests (reported by OpenTrace itself, which reads the first row).
// skip_bad_lines skips and counts malformed lines only; a timestamp going
// backwards is still an error (the trace is unsorted, which skipping would
// hide by dropping rows), as is a read error.
//
// time_scale multiplies every arrival time. rate_scale R in (0, 10000]
// turns each trace request into floor(R) copies plus one more with
// probability frac(R) (so R < 1 thins the trace); the first copy keeps the
// request's arrival, the others arrive at uniformly drawn times between it
// and the next request's arrival (with it, for the last request). Only one
// gap's copies are buffered. max_requests (0: unlimited) counts the requests
// returned.
Result<std::unique_ptr<RequestSource>> OpenTrace(const std::string& path, const TraceOptions& o);

}  // namespace disagg::sim

#endif  // DISAGG_SIM_WORKLOAD_H_
