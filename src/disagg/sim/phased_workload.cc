#include "disagg/sim/phased_workload.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <utility>

#include "disagg/base/json_reader.h"
#include "disagg/base/units.h"
#include "disagg/sim/random.h"

namespace disagg::sim {
namespace {

using Segment = PhasedWorkload::Segment;
using Diurnal = std::optional<DiurnalPattern>;

constexpr int64_t kMaxTokens = 10'000'000;
constexpr double kMaxDuration = 1e7;  // s, about 116 days
constexpr double kMinPeriod = 60;     // s
constexpr double kMaxRate = 1e6;      // requests/s
constexpr double kMinCv = 0.01, kMaxCv = 10;
constexpr double kMaxSigma = 3;
constexpr int64_t kMaxSeed = int64_t{1} << 53;  // exact in a JSON double

int64_t SampleLength(const LengthDistribution& d, std::mt19937_64& rng) {
  switch (d.kind) {
    case LengthDistribution::Kind::kFixed:
      return d.min;
    case LengthDistribution::Kind::kUniform:
      return d.min + static_cast<int64_t>(UniformBelow(rng, d.max - d.min + 1));
    case LengthDistribution::Kind::kLogNormal: {
      double mu = std::log(d.mean) - d.sigma * d.sigma / 2;
      double x = std::round(std::exp(mu + d.sigma * Normal(rng)));
      return static_cast<int64_t>(std::clamp(x, 1.0, static_cast<double>(kMaxTokens)));
    }
  }
  return 1;
}

// --------------------------------------------------------- rate function

double DiurnalFactor(const Diurnal& d, double t) {
  if (!d) return 1;
  return 1 + d->amplitude * std::cos(2 * std::numbers::pi * (t - d->peak) / d->period);
}

double SegmentRate(const Segment& s, const Diurnal& d, double t) {
  double u = t - s.start;
  return std::max(0.0, s.c0 + u * (s.c1 + u * s.c2)) * DiurnalFactor(d, t);
}

// Cross-fade weight of the segment's phase at t (1 outside cross-fades).
double FadeWeight(const Segment& s, double t) {
  return s.fade > 0 ? std::clamp((t - s.start) / s.fade, 0.0, 1.0) : 1.0;
}

double MeanLength(const std::vector<WorkloadPhase>& phases, const Segment& s, double t, bool isl) {
  const WorkloadPhase& cur = phases[s.phase];
  double m = (isl ? cur.isl : cur.osl).Mean();
  if (s.fade <= 0) return m;
  const WorkloadPhase& prev = phases[s.phase - 1];
  double w = FadeWeight(s, t);
  return (1 - w) * (isl ? prev.isl : prev.osl).Mean() + w * m;
}

// 8-point Gauss-Legendre on [a, b]: exact for polynomials of degree <= 15.
constexpr double kGlNode[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267,
                               0.9602898564975363};
constexpr double kGlWeight[4] = {0.3626837833783620, 0.3137066458778873, 0.2223810344533745,
                                 0.1012285362903763};

template <typename F>
double Gauss(double a, double b, F f) {
  double mid = (a + b) / 2, half = (b - a) / 2, sum = 0;
  for (int i = 0; i < 4; ++i) {
    sum += kGlWeight[i] * (f(mid - half * kGlNode[i]) + f(mid + half * kGlNode[i]));
  }
  return sum * half;
}

// End of the integration piece that starts at t in segment s: the segment's
// end or, with a diurnal pattern, the next multiple of a quarter period.
double PieceEnd(const Segment& s, const Diurnal& d, double t) {
  if (!d) return s.end;
  double q = d->period / 4;
  double g = (std::floor(t / q) + 1) * q;
  if (g <= t) g += q;
  return std::min(s.end, g);
}

size_t SegmentIndex(const std::vector<Segment>& segs, double t) {
  auto it = std::upper_bound(segs.begin(), segs.end(), t,
                             [](double x, const Segment& s) { return x < s.start; });
  return it == segs.begin() ? 0 : static_cast<size_t>(it - segs.begin()) - 1;
}

// Integral over [t0, t1] of f(segment, t), piece by piece.
template <typename F>
double Integrate(const std::vector<Segment>& segs, const Diurnal& d, double t0, double t1, F f) {
  t0 = std::max(t0, segs.front().start);
  t1 = std::min(t1, segs.back().end);
  double total = 0, t = t0;
  for (size_t i = SegmentIndex(segs, t0); i < segs.size() && t < t1;) {
    const Segment& s = segs[i];
    if (t >= s.end) {
      ++i;
      continue;
    }
    double e = std::min(PieceEnd(s, d, t), t1);
    total += Gauss(t, e, [&](double x) { return f(s, x); });
    t = e;
  }
  return total;
}

// The x in [a, b] (one piece of segment s) where the integral of the rate
// from a reaches `target`, which the caller knows is at most the integral to
// b: bracketed Newton, falling back to bisection.
double SolveArrival(const Segment& s, const Diurnal& d, double a, double b, double target) {
  if (target <= 0) return a;
  auto rate = [&](double x) { return SegmentRate(s, d, x); };
  double lo = a, hi = b;
  double r0 = rate(a);
  double x = r0 > 0 ? a + target / r0 : (a + b) / 2;
  if (!(x > lo && x < hi)) x = (lo + hi) / 2;
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  for (int it = 0; it < 200; ++it) {
    double f = Gauss(a, x, rate) - target;
    double r = rate(x);
    // Done within 1e-12 of the target, or within the mass of a few ulps of x.
    double ulps = 4 * kEps * std::max(1.0, std::fabs(x));
    if (std::fabs(f) <= 1e-12 * target + ulps * r) return x;
    (f < 0 ? lo : hi) = x;
    if (hi - lo <= ulps) return hi;
    double next = r > 0 ? x - f / r : lo;
    x = next > lo && next < hi ? next : (lo + hi) / 2;
  }
  return x;
}

// ----------------------------------------------------------------- source

class PhasedSource : public RequestSource {
 public:
  PhasedSource(PhasedWorkload w, uint64_t seed)
      : w_(std::move(w)), arrival_rng_(seed), length_rng_(MixSeed(seed)) {}

  Result<std::optional<RequestSpec>> Next() override {
    if (done_) return std::nullopt;
    const auto& segs = w_.segments();
    const auto& d = w_.diurnal();
    // A unit-mean gap on the Lambda clock, by the process of the phase the
    // previous arrival (or t = 0) is in.
    double remaining = Gap(w_.phases()[segs[seg_].phase]);
    while (true) {
      if (seg_ >= segs.size()) return Finish();
      const Segment& s = segs[seg_];
      if (t_ >= s.end) {
        ++seg_;
        continue;
      }
      double e = PieceEnd(s, d, t_);
      double mass = Gauss(t_, e, [&](double x) { return SegmentRate(s, d, x); });
      if (mass >= remaining) {
        t_ = SolveArrival(s, d, t_, e, remaining);
        break;
      }
      remaining -= mass;
      t_ = e;
    }
    if (t_ >= w_.duration()) return Finish();
    const Segment& s = segs[seg_];
    const WorkloadPhase* from = &w_.phases()[s.phase];
    if (s.fade > 0 && Uniform01(length_rng_) >= FadeWeight(s, t_)) from = &w_.phases()[s.phase - 1];
    int64_t isl = SampleLength(from->isl, length_rng_);
    int64_t osl = SampleLength(from->osl, length_rng_);
    return RequestSpec{.id = next_id_++, .arrival = t_, .isl = isl, .osl = osl};
  }

 private:
  std::optional<RequestSpec> Finish() {
    done_ = true;
    return std::nullopt;
  }

  double Gap(const WorkloadPhase& p) {
    switch (p.arrival) {
      case ArrivalProcess::kPoisson:
        return -std::log1p(-Uniform01(arrival_rng_));
      case ArrivalProcess::kGamma: {
        double shape = 1 / (p.cv * p.cv);
        return Gamma(arrival_rng_, shape) / shape;
      }
      case ArrivalProcess::kUniform:
        return 1;
    }
    return 1;
  }

  PhasedWorkload w_;
  std::mt19937_64 arrival_rng_, length_rng_;
  size_t seg_ = 0;
  double t_ = 0;
  int64_t next_id_ = 0;
  bool done_ = false;
};

// ---------------------------------------------------------------- parsing

// A duration: a string with a unit or a number of seconds, in [0, 1e7] s
// (> 0 when `positive`). Missing: `fallback`, or an error when there is none.
double ReadDuration(JsonReader& r, std::string_view key, std::optional<double> fallback,
                    bool positive = false) {
  const Json* v = r.Raw(key);
  if (v == nullptr || v->is_null()) {
    if (!fallback) {
      r.Fail(key, "missing required field (a duration such as \"10m\" or a number of seconds)");
    }
    return fallback.value_or(0);
  }
  double x = 0;
  if (v->is_number()) {
    x = v->get<double>();
  } else if (v->is_string()) {
    std::string what = r.KeyPath(key);
    auto parsed = ParseDuration(v->get<std::string>(), what);
    if (!parsed) {
      std::string message = parsed.error().message;
      if (message.starts_with(what + ": ")) message.erase(0, what.size() + 2);
      r.Fail(key, message);
      return 0;
    }
    x = *parsed;
  } else {
    r.Fail(key, fmt::format("expected a duration such as \"10m\" or a number of seconds, got {}",
                            JsonSnippet(*v)));
    return 0;
  }
  if (!std::isfinite(x) || x < 0 || x > kMaxDuration || (positive && x <= 0)) {
    r.Fail(key, fmt::format("duration {} out of range, expected {} s", JsonSnippet(*v),
                            positive ? fmt::format("> 0 and <= {}", kMaxDuration)
                                     : fmt::format("0 to {}", kMaxDuration)));
    return 0;
  }
  return x;
}

LengthDistribution ReadLength(JsonReader& r, std::string_view key) {
  using Kind = LengthDistribution::Kind;
  LengthDistribution d;
  const Json* v = r.Raw(key);
  if (v != nullptr && v->is_number()) {
    d.min = d.max = r.Integer(key, 1, kMaxTokens);
    return d;
  }
  if (v == nullptr || !v->is_object()) {
    constexpr const char* kForms =
        "a token count, {\"min\": a, \"max\": b} or {\"mean\": m, \"sigma\": s}";
    r.Fail(key, v == nullptr ? fmt::format("missing required field ({})", kForms)
                             : fmt::format("expected {}, got {}", kForms, JsonSnippet(*v)));
    return d;
  }
  JsonReader o(*v, r.origin(), r.KeyPath(key));
  bool lognormal = o.Has("mean") || o.Has("sigma");
  bool uniform = o.Has("min") || o.Has("max");
  if (lognormal && uniform) {
    r.Fail(key, fmt::format("{} mixes min/max (uniform) with mean/sigma (lognormal); give one pair",
                            JsonSnippet(*v)));
  } else if (lognormal) {
    d.kind = Kind::kLogNormal;
    d.mean = o.Number("mean", 1, kMaxTokens);
    if (const Json* s = o.Raw("sigma");
        s != nullptr && s->is_number() && !(s->get<double>() <= kMaxSigma)) {
      o.Fail("sigma", fmt::format("value {} out of range, expected 0 to {} (sigma is the standard "
                                  "deviation of ln(length), not of the length in tokens)",
                                  JsonSnippet(*s), kMaxSigma));
    }
    d.sigma = o.Number("sigma", 0, kMaxSigma);
  } else if (uniform) {
    d.kind = Kind::kUniform;
    d.min = o.Integer("min", 1, kMaxTokens);
    d.max = o.Integer("max", 1, kMaxTokens);
    if (o.ok() && d.min > d.max) {
      o.Fail("min", fmt::format("min {} > max {}, expected min <= max", d.min, d.max));
    }
  } else {
    r.Fail(key, fmt::format("{} has neither min/max nor mean/sigma", JsonSnippet(*v)));
  }
  r.Absorb(o);
  return d;
}

WorkloadPhase ReadPhase(JsonReader& r, size_t index) {
  WorkloadPhase p;
  p.name = r.StringOr("name", "");
  p.duration = ReadDuration(r, "duration", std::nullopt, /*positive=*/true);
  const Json* rate = r.Raw("rate");
  if (rate != nullptr && rate->is_number()) {
    p.rate_from = p.rate_to = r.Number("rate", 0, kMaxRate);
  } else if (rate != nullptr && rate->is_object()) {
    JsonReader o(*rate, r.origin(), r.KeyPath("rate"));
    p.rate_from = o.Number("from", 0, kMaxRate);
    p.rate_to = o.Number("to", 0, kMaxRate);
    r.Absorb(o);
  } else {
    constexpr const char* kForms = "requests/s (a number) or {\"from\": a, \"to\": b}";
    r.Fail("rate", rate == nullptr
                       ? fmt::format("missing required field ({})", kForms)
                       : fmt::format("expected {}, got {}", kForms, JsonSnippet(*rate)));
  }
  std::string arrival = r.StringOr("arrival", "poisson");
  if (arrival == "poisson") {
    p.arrival = ArrivalProcess::kPoisson;
  } else if (arrival == "gamma") {
    p.arrival = ArrivalProcess::kGamma;
  } else if (arrival == "uniform") {
    p.arrival = ArrivalProcess::kUniform;
  } else {
    r.Fail("arrival", fmt::format("\"{}\" is not an arrival process, expected \"poisson\", "
                                  "\"gamma\" or \"uniform\"",
                                  arrival));
  }
  if (const Json* cv = r.Raw("cv"); cv != nullptr && p.arrival != ArrivalProcess::kGamma) {
    r.Fail("cv", fmt::format("{} given for \"{}\" arrivals; cv applies to \"gamma\" only",
                             JsonSnippet(*cv), arrival));
  }
  p.cv = r.NumberOr("cv", 1, kMinCv, kMaxCv);
  p.isl = ReadLength(r, "isl");
  p.osl = ReadLength(r, "osl");
  p.ramp = ReadDuration(r, "ramp", 0.0);
  if (r.ok() && p.ramp > 0 && index == 0) {
    r.Fail("ramp", fmt::format("{} s on the first phase, which has no previous phase to "
                               "cross-fade from (use \"rate\": {{\"from\", \"to\"}})",
                               p.ramp));
  } else if (r.ok() && p.ramp > p.duration) {
    r.Fail("ramp",
           fmt::format("{} s is longer than the phase's duration, {} s", p.ramp, p.duration));
  }
  return p;
}

DiurnalPattern ReadDiurnal(JsonReader& r) {
  DiurnalPattern d;
  d.period = ReadDuration(r, "period", std::nullopt, /*positive=*/true);
  if (r.ok() && d.period < kMinPeriod) {
    r.Fail("period",
           fmt::format("{} s is too short, expected at least {} s", d.period, kMinPeriod));
  }
  d.amplitude = r.Number("amplitude", 0, 1);
  if (r.ok() && d.amplitude >= 1) {
    r.Fail("amplitude", fmt::format("value {} out of range, expected >= 0 and < 1 (at 1 the rate "
                                    "falls to 0 at the trough)",
                                    d.amplitude));
  }
  d.peak = ReadDuration(r, "peak", 0.0);
  if (r.ok() && d.peak >= d.period) {
    r.Fail("peak", fmt::format("{} s is not within the period, expected 0 <= peak < {} s", d.peak,
                               d.period));
  }
  return d;
}

}  // namespace

double LengthDistribution::Mean() const {
  switch (kind) {
    case Kind::kFixed:
    case Kind::kUniform:
      return (static_cast<double>(min) + static_cast<double>(max)) / 2;
    case Kind::kLogNormal:
      return mean;
  }
  return mean;
}

void PhasedWorkload::BuildSegments() {
  double start = 0;
  for (WorkloadPhase& p : phases_) {
    p.start = start;
    start += p.duration;
  }
  segments_.clear();
  for (size_t i = 0; i < phases_.size(); ++i) {
    const WorkloadPhase& p = phases_[i];
    double slope = (p.rate_to - p.rate_from) / p.duration;
    double body = p.start + p.ramp;
    if (p.ramp > 0 && i > 0) {
      // (1 - w) prev + w (from + slope u), w = u / ramp.
      double prev = phases_[i - 1].rate_to;
      double end = std::min(body, p.end());
      segments_.push_back({.start = p.start,
                           .end = end,
                           .c0 = prev,
                           .c1 = (p.rate_from - prev) / p.ramp,
                           .c2 = slope / p.ramp,
                           .phase = i,
                           .fade = p.ramp});
    }
    if (body < p.end()) {
      segments_.push_back({.start = body,
                           .end = p.end(),
                           .c0 = p.rate_from + slope * p.ramp,
                           .c1 = slope,
                           .c2 = 0,
                           .phase = i,
                           .fade = 0});
    }
  }
  std::erase_if(segments_, [](const Segment& s) { return !(s.end > s.start); });
}

std::vector<double> PhasedWorkload::PhaseBoundaries() const {
  std::vector<double> b;
  for (const WorkloadPhase& p : phases_) b.push_back(p.start);
  b.push_back(duration());
  return b;
}

size_t PhasedWorkload::PhaseAt(double t) const {
  auto it = std::upper_bound(phases_.begin(), phases_.end(), t,
                             [](double x, const WorkloadPhase& p) { return x < p.start; });
  return it == phases_.begin() ? 0 : static_cast<size_t>(it - phases_.begin()) - 1;
}

double PhasedWorkload::Rate(double t) const {
  if (!(t >= 0 && t < duration())) return 0;
  return SegmentRate(segments_[SegmentIndex(segments_, t)], diurnal_, t);
}

double PhasedWorkload::MeanIsl(double t) const {
  t = std::clamp(t, 0.0, duration());
  return MeanLength(phases_, segments_[SegmentIndex(segments_, t)], t, /*isl=*/true);
}

double PhasedWorkload::MeanOsl(double t) const {
  t = std::clamp(t, 0.0, duration());
  return MeanLength(phases_, segments_[SegmentIndex(segments_, t)], t, /*isl=*/false);
}

double PhasedWorkload::ExpectedArrivals(double t0, double t1) const {
  return Integrate(segments_, diurnal_, t0, t1,
                   [&](const Segment& s, double t) { return SegmentRate(s, diurnal_, t); });
}

AverageTraffic PhasedWorkload::Average() const {
  double n = ExpectedArrivals(0, duration());
  auto weighted = [&](bool isl) {
    return Integrate(segments_, diurnal_, 0, duration(), [&](const Segment& s, double t) {
      return SegmentRate(s, diurnal_, t) * MeanLength(phases_, s, t, isl);
    });
  };
  return {.rate = n / duration(), .mean_isl = weighted(true) / n, .mean_osl = weighted(false) / n};
}

PhasedWorkload PhasedWorkload::WithRateScale(double k) const {
  PhasedWorkload w = *this;
  for (auto& p : w.phases_) {
    p.rate_from *= k;
    p.rate_to *= k;
  }
  // Every segment's rate is linear in the phases' rates.
  for (auto& s : w.segments_) {
    s.c0 *= k;
    s.c1 *= k;
    s.c2 *= k;
  }
  return w;
}

std::unique_ptr<RequestSource> PhasedWorkload::NewSource(uint64_t seed) const {
  return std::make_unique<PhasedSource>(*this, seed);
}

Result<std::unique_ptr<PhasedWorkload>> ParseWorkload(std::string_view text,
                                                      const std::string& origin) {
  auto json = ParseJsonText(text, origin);
  if (!json) return std::unexpected(json.error());
  JsonReader top(*json, origin);
  std::unique_ptr<PhasedWorkload> w(new PhasedWorkload());
  w->name_ = top.String("name");
  if (top.ok() && w->name_.empty()) top.Fail("name", "is empty, expected a name");
  w->description_ = top.StringOr("description", "");
  w->seed_ = static_cast<uint64_t>(top.IntegerOr("seed", 1, 0, kMaxSeed));
  const Json* phases = top.Raw("phases");
  if (phases == nullptr || !phases->is_array() || phases->empty()) {
    top.Fail("phases", fmt::format("expected a non-empty list of phases, got {}",
                                   phases == nullptr ? "nothing" : JsonSnippet(*phases)));
  } else {
    double total = 0, max_rate = 0;
    for (size_t i = 0; i < phases->size() && top.ok(); ++i) {
      JsonReader r((*phases)[i], origin, fmt::format("phases[{}]", i));
      WorkloadPhase p = ReadPhase(r, i);
      top.Absorb(r);
      total += p.duration;
      max_rate = std::max({max_rate, p.rate_from, p.rate_to});
      w->phases_.push_back(std::move(p));
    }
    if (top.ok() && total > kMaxDuration) {
      top.Fail("phases", fmt::format("total duration {} s is too long, expected at most {} s",
                                     total, kMaxDuration));
    }
    if (top.ok() && max_rate <= 0) {
      top.Fail("phases", "every rate is 0, so the workload has no requests");
    }
  }
  if (top.Has("diurnal")) {
    JsonReader r = top.Object("diurnal");
    w->diurnal_ = ReadDiurnal(r);
    top.Absorb(r);
  }
  if (auto done = top.Finish(); !done) return std::unexpected(done.error());
  w->BuildSegments();
  return w;
}

Result<std::unique_ptr<PhasedWorkload>> LoadWorkloadFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Fail("{}: is a directory, expected a workload JSON file", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("{}: cannot open workload file: {}", path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Fail("{}: read error", path);
  return ParseWorkload(text.str(), path);
}

}  // namespace disagg::sim
