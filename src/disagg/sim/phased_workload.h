// Time-varying workloads: traffic as a sequence of phases read from a JSON
// file, for planning under shifting traffic (elastic scaling, issue 6).
//
// File format (every key is checked; an unknown key is an error naming the
// file and its key path, e.g. "wl.json: phases[1].rat: unknown key"):
//
//   {
//     "name": "mix-shift",                 required, non-empty
//     "description": "...",                optional, free text
//     "seed": 7,                           optional integer in [0, 2^53], default 1
//     "phases": [                          required, at least one
//       {"name": "prefill-heavy",          optional label
//        "duration": "20m",                required, > 0
//        "rate": 4.0,                      requests/s >= 0, or {"from": 5, "to": 45}:
//                                          a linear ramp over the whole phase
//        "arrival": "poisson",             "poisson" (default), "gamma" or "uniform"
//        "cv": 2.0,                        gamma only: coefficient of variation of the
//                                          gaps, in [0.01, 10], default 1
//        "isl": 8192,                      tokens: N, {"min": a, "max": b} (uniform
//        "osl": {"mean": 256, "sigma": 0.5}, integers) or {"mean": m, "sigma": s}
//                                          (lognormal with mean m tokens and s the
//                                          standard deviation of ln(length), in [0, 3];
//                                          rounded, clamped to [1, 10^7])
//        "ramp": "2m"}                     optional, in [0, duration]; not on the first
//     ],                                   phase
//     "diurnal": {"period": "24h",         optional; period required
//                 "amplitude": 0.5,        required, in [0, 1)
//                 "peak": "14h"}           optional, default 0
//   }
//
// Durations are strings with a unit ("250ms", "30s", "10m", "1h") or numbers
// of seconds. Lengths are integers in [1, 10^7]. The total duration is at
// most 10^7 s; a diurnal period is in [60 s, 10^7 s], its amplitude in
// [0, 1) and its peak in [0, period). A workload whose rates are all 0 is an
// error (it has no requests). Every error names the file, the key path and
// the value.
//
// Meaning. Phases follow each other from t = 0. A phase's rate is constant
// or linear from "from" to "to" over its duration. With "ramp": R, the first
// R seconds of a phase cross-fade linearly from the previous phase: at
// w = (t - phase start) / R the rate is (1 - w) x (previous phase's final
// rate) + w x (this phase's rate at t), and a request arriving then takes its
// ISL and OSL from this phase's distributions with probability w and from the
// previous phase's otherwise (one choice for both, as if it came from one of
// the two populations), so the mean lengths cross-fade linearly too. The
// diurnal pattern multiplies the rate by
// 1 + amplitude x cos(2 pi (t - peak) / period), t measured from the start.
//
// Generation. Arrivals are a renewal process on the time-rescaled clock
// Lambda(t) = integral of rate from 0 to t: unit-mean gaps are drawn on that
// clock and mapped back through the exact inverse of Lambda. With exponential
// gaps this is exactly the non-homogeneous Poisson process of rate(t)
// (time-rescaling theorem); gamma gaps (shape 1/cv^2) and constant gaps
// ("uniform") give the renewal processes with that burstiness at the local
// rate. The gap after an arrival follows the arrival process of the phase
// that arrival falls in; the first gap starts at t = 0. Lambda is integrated
// by 8-point Gauss-Legendre on pieces where the rate is a polynomial of
// degree <= 2 times the diurnal cosine (pieces of at most a quarter period),
// which is exact for polynomials and accurate to ~1e-15 relative for the
// cosine; the inverse is a bracketed Newton solve to 1e-12 of an arrival
// (or a few ulps of time). Generation costs well under 1 us a request. Arrival
// times and lengths use separate random streams (from raw mt19937_64 output,
// not the implementation-defined std:: distributions), so a seed gives the
// same requests with every standard library, and arrival times do not depend
// on the lengths. A source ends before the first arrival >= duration().
//
// Contract: a PhasedWorkload is an immutable value, thread-safe for const
// use; each NewSource() is an independent RequestSource (see workload.h)
// replaying the identical requests for the same seed, with memory O(number of
// phases), never O(requests). Sources are not thread-safe.
#ifndef DISAGG_SIM_PHASED_WORKLOAD_H_
#define DISAGG_SIM_PHASED_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "disagg/base/error.h"
#include "disagg/sim/workload.h"

namespace disagg::sim {

// One length distribution of a phase (ISL or OSL), in tokens.
struct LengthDistribution {
  enum class Kind { kFixed, kUniform, kLogNormal };
  Kind kind = Kind::kFixed;
  int64_t min = 1, max = 1;    // kFixed: min == max == the length; kUniform: the range
  double mean = 1, sigma = 0;  // kLogNormal: mean tokens, sd of ln(length)
  // The distribution's mean (for kLogNormal before rounding and clamping:
  // the sampled mean differs by < 0.5 token unless the clamps at 1 or 10^7
  // are often hit).
  double Mean() const;
};

// One phase, as validated from the file, with its place on the time axis.
struct WorkloadPhase {
  std::string name;                   // "" when not given
  double start = 0;                   // s since the workload start
  double duration = 0;                // s, > 0
  double rate_from = 0, rate_to = 0;  // requests/s at start and end (equal: constant)
  ArrivalProcess arrival = ArrivalProcess::kPoisson;
  double cv = 1;    // gamma arrivals
  double ramp = 0;  // s of cross-fade from the previous phase
  LengthDistribution isl, osl;
  double end() const { return start + duration; }
};

struct DiurnalPattern {
  double period = 0;     // s
  double amplitude = 0;  // in [0, 1)
  double peak = 0;       // s after the start (mod period) where the rate peaks
};

// Traffic averaged over arrivals (for sizing a static deployment).
struct AverageTraffic {
  double rate = 0;      // requests/s over the whole duration
  double mean_isl = 0;  // arrival-weighted mean of MeanIsl(t)
  double mean_osl = 0;
};

class PhasedWorkload {
 public:
  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  uint64_t seed() const { return seed_; }
  // Total duration, s.
  double duration() const { return phases_.back().end(); }
  const std::vector<WorkloadPhase>& phases() const { return phases_; }
  const std::optional<DiurnalPattern>& diurnal() const { return diurnal_; }
  // Phase start times followed by the end: phases().size() + 1 values.
  std::vector<double> PhaseBoundaries() const;
  // Index of the phase containing t (t < 0: 0; t >= duration(): the last).
  size_t PhaseAt(double t) const;

  // The expected arrival rate at t, requests/s, ramps and diurnal pattern
  // included; 0 outside [0, duration()).
  double Rate(double t) const;
  // Mean ISL and OSL of a request arriving at t (t clamped to the workload).
  double MeanIsl(double t) const;
  double MeanOsl(double t) const;
  // Expected number of arrivals in [t0, t1] (the integral of Rate).
  double ExpectedArrivals(double t0, double t1) const;
  AverageTraffic Average() const;

  // The same workload with every rate multiplied by `k` > 0 (phases, ramps
  // and the diurnal pattern keep their shape; lengths are unchanged).
  PhasedWorkload WithRateScale(double k) const;

  // A fresh source of this workload's requests, with the file's seed or the
  // given one. The source does not refer to this object after creation.
  std::unique_ptr<RequestSource> NewSource() const { return NewSource(seed_); }
  std::unique_ptr<RequestSource> NewSource(uint64_t seed) const;

  // Rate pieces: the rate on [start, end) is
  // (c0 + c1 u + c2 u^2) x diurnal(t), u = t - start. Public for the source.
  struct Segment {
    double start = 0, end = 0;
    double c0 = 0, c1 = 0, c2 = 0;
    size_t phase = 0;
    double fade = 0;  // > 0: a cross-fade segment of this length
  };
  const std::vector<Segment>& segments() const { return segments_; }

 private:
  friend Result<std::unique_ptr<PhasedWorkload>> ParseWorkload(std::string_view text,
                                                               const std::string& origin);
  PhasedWorkload() = default;
  void BuildSegments();

  std::string name_, description_;
  uint64_t seed_ = 1;
  std::vector<WorkloadPhase> phases_;
  std::optional<DiurnalPattern> diurnal_;
  std::vector<Segment> segments_;
};

// Reads and validates a workload file. Errors name the file, the key path and
// the value: unreadable file, malformed JSON (with line and column), unknown
// key, wrong type, value out of range, min > max, ramp > duration, ...
Result<std::unique_ptr<PhasedWorkload>> LoadWorkloadFile(const std::string& path);
// The same from text; `origin` names the source in errors.
Result<std::unique_ptr<PhasedWorkload>> ParseWorkload(std::string_view text,
                                                      const std::string& origin);

}  // namespace disagg::sim

#endif  // DISAGG_SIM_PHASED_WORKLOAD_H_
