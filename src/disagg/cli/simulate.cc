// `disagg simulate`: one deployment under a workload, request by request.
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>

#include "disagg/base/files.h"
#include "disagg/base/units.h"
#include "disagg/cli/commands.h"
#include "disagg/cli/common.h"
#include "disagg/cli/deployment_flags.h"
#include "disagg/cli/simulate_planner.h"
#include "disagg/report/sim_report.h"
#include "disagg/sim/phased_workload.h"
#include "disagg/sim/simulator.h"

namespace disagg::cli {
namespace {

struct SimulateFlags {
  SpecFlags spec;
  MappingFlags mapping;
  std::string mode;
  int instances = 1;
  int batch = 0;
  int64_t chunk = 8192;
  std::string schedule;
  bool whole_prompts = false;
  int recv_interval = 1;
  double mem_fraction = 0;
  int adp_timeout = 0, adp_wait = 0;
  int batch_wait_iters = 0;
  double batch_wait_tokens = 0;
  std::string prefill, decode;
  std::string from_frontier;
  int point = 0;
  std::string frontier_mode = "disaggregated";
  // Workload.
  double rate = 0;
  std::string isl, osl;
  std::string lengths_from;
  std::string arrival = "poisson";
  double cv = 1;
  int64_t concurrency = 0;
  int64_t requests = 0;
  std::string duration;
  std::string trace;
  std::string workload;
  bool seed_given = false;
  PlannerFlags planner;
  double time_scale = 1, rate_scale = 1;
  bool skip_bad_lines = false;
  // Measurement.
  std::string ftl_max, ttl_max, warmup;
  std::string router = "least-outstanding";
  uint64_t seed = 1;
  std::string requests_out, timeline_out;
  bool json = false;
};

// "N" (fixed) or "MIN-MAX" (uniform); both ends at least 1.
std::pair<int64_t, int64_t> LengthRange(const std::string& text, const char* flag) {
  auto number = [&](std::string_view s) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
      DieF("{}: expected a token count N or a range MIN-MAX, got '{}'", flag, text);
    }
    if (v < 1) DieF("{}: lengths must be at least 1, got '{}'", flag, text);
    return v;
  };
  size_t dash = text.find('-', 1);
  if (dash == std::string::npos) {
    int64_t v = number(text);
    return {v, v};
  }
  auto lo = number(std::string_view(text).substr(0, dash));
  auto hi = number(std::string_view(text).substr(dash + 1));
  if (hi < lo) DieF("{}: range '{}' has its maximum below its minimum", flag, text);
  return {lo, hi};
}

// (isl, osl) pairs of up to `limit` requests of a trace, for sampling.
std::vector<std::pair<int64_t, int64_t>> TraceLengths(const std::string& path, int64_t limit) {
  sim::TraceOptions o;
  o.max_requests = limit;
  auto source = Unwrap(sim::OpenTrace(path, o));
  std::vector<std::pair<int64_t, int64_t>> sample;
  while (true) {
    auto next = source->Next();
    if (!next) Die(next.error());
    if (!next->has_value()) break;
    sample.push_back({(*next)->isl, (*next)->osl});
  }
  return sample;
}

// Stateless samplers can serve several sources (one per planner policy).
class SharedSampler : public sim::LengthSampler {
 public:
  explicit SharedSampler(std::shared_ptr<sim::LengthSampler> s) : s_(std::move(s)) {}
  std::pair<int64_t, int64_t> Sample(std::mt19937_64& rng) override { return s_->Sample(rng); }
  double MeanIsl() const override { return s_->MeanIsl(); }
  double MeanOsl() const override { return s_->MeanOsl(); }

 private:
  std::shared_ptr<sim::LengthSampler> s_;
};

double Duration(const std::string& text, const char* flag, double fallback) {
  if (text.empty()) return fallback;
  return Unwrap(ParseDuration(text, flag));
}

void RunSimulate(const SimulateFlags& f) {
  // The frontier file's inputs fill in the specs the command line leaves out.
  SpecFlags spec = f.spec;
  Json frontier;
  std::string isl = f.isl, osl = f.osl;
  if (!f.from_frontier.empty()) {
    frontier = Unwrap(LoadJsonFile(f.from_frontier));
    const Json* in = frontier.contains("inputs") ? &frontier["inputs"] : nullptr;
    auto get = [&](const char* key) -> std::string {
      return in != nullptr && in->contains(key) && (*in)[key].is_string()
                 ? (*in)[key].get<std::string>()
                 : "";
    };
    if (spec.model.empty()) spec.model = get("model");
    if (spec.system.empty()) spec.system = get("system");
    if (in != nullptr && in->contains("precision") && f.spec.precision == "fp8") {
      spec.precision = get("precision");
    }
    // A point searched with speculative decoding is simulated with it.
    if (in != nullptr && f.spec.mtp == 0 && in->contains("mtp") && (*in)["mtp"].is_number()) {
      spec.mtp = (*in)["mtp"].get<int>();
      if (in->contains("mtp_acceptance") && (*in)["mtp_acceptance"].is_number()) {
        spec.mtp_acceptance = (*in)["mtp_acceptance"].get<double>();
      }
    }
    if (in != nullptr && isl.empty() && in->contains("isl")) {
      isl = std::to_string(static_cast<int64_t>((*in)["isl"].get<double>()));
    }
    if (in != nullptr && osl.empty() && in->contains("osl")) {
      osl = std::to_string(static_cast<int64_t>((*in)["osl"].get<double>()));
    }
  }
  if (spec.model.empty()) DieF("--model: required");
  if (spec.system.empty()) DieF("--system: required");
  Specs specs = LoadSpecs(spec);

  sim::SimConfig c;
  c.model = specs.model;
  c.system = specs.system;
  c.precision = specs.precision;
  c.backend = specs.backend;
  c.router = Unwrap(sim::ParseRouterPolicy(f.router));
  c.seed = f.seed;
  c.ftl_max = Duration(f.ftl_max, "--ftl-max", std::numeric_limits<double>::infinity());
  c.ttl_max = Duration(f.ttl_max, "--ttl-max", std::numeric_limits<double>::infinity());
  c.warmup = Duration(f.warmup, "--warmup", 0);
  c.max_time = Duration(f.duration, "--duration", std::numeric_limits<double>::infinity());

  // Deployment.
  if (!f.schedule.empty() && (f.mode != "colocated" || !f.from_frontier.empty())) {
    DieF("--schedule {}: only with --mode colocated (a frontier point brings its own)", f.schedule);
  }
  const bool colocated = f.mode == "colocated" && f.from_frontier.empty();
  if (f.whole_prompts && !colocated) DieF("--whole-prompts: only with --mode colocated");
  if (f.recv_interval != 1 && !colocated) {
    DieF("--recv-interval {}: only with --mode colocated", f.recv_interval);
  }
  if (f.mem_fraction != 0 && !colocated) {
    DieF("--mem-fraction {}: only with --mode colocated", f.mem_fraction);
  }
  if (f.mem_fraction != 0 && specs.backend != hardware::Backend::kSglang) {
    DieF("--mem-fraction {}: SGLang's --mem-fraction-static, only with --backend sglang",
         f.mem_fraction);
  }
  if ((f.adp_timeout != 0 || f.adp_wait != 0) && !colocated) {
    DieF("--adp-balance-timeout/--adp-balance-wait: only with --mode colocated");
  }
  if ((f.batch_wait_iters != 0 || f.batch_wait_tokens != 0) && !colocated) {
    DieF("--batch-wait-iters/--batch-wait-tokens: only with --mode colocated");
  }
  if (!f.from_frontier.empty()) {
    c.deployment = DeploymentFromFrontier(frontier, f.from_frontier, f.frontier_mode, f.point);
  } else if (f.mode == "colocated") {
    RequirePositive(f.instances, "--instances");
    c.deployment.colocated.mapping = ResolveMapping(specs, f.mapping);
    c.deployment.colocated.instances = f.instances;
    if (f.batch < 0) DieF("--batch: must not be negative, got {}", f.batch);
    if (f.chunk < 0) DieF("--chunk: must not be negative, got {}", f.chunk);
    c.deployment.colocated.max_batch = f.batch;
    c.deployment.colocated.chunk = f.chunk;
    if (f.schedule == "mixed") {
      c.deployment.colocated.prefill_first = 0;
    } else if (f.schedule == "prefill-first") {
      c.deployment.colocated.prefill_first = 1;
    } else if (!f.schedule.empty()) {
      DieF("--schedule: expected mixed or prefill-first, got '{}'", f.schedule);
    }
    c.deployment.colocated.whole_prompts = f.whole_prompts;
    if (f.recv_interval < 1) DieF("--recv-interval: must be at least 1, got {}", f.recv_interval);
    c.deployment.colocated.recv_interval = f.recv_interval;
    if (!(f.mem_fraction >= 0 && f.mem_fraction < 1)) {
      DieF("--mem-fraction: a share of the GPU below 1 (0: SGLang's own rule), got {}",
           f.mem_fraction);
    }
    c.deployment.colocated.mem_fraction = f.mem_fraction;
    if (f.adp_timeout < 0)
      DieF("--adp-balance-timeout: must not be negative, got {}", f.adp_timeout);
    if (f.adp_wait < 0) DieF("--adp-balance-wait: must not be negative, got {}", f.adp_wait);
    c.deployment.colocated.adp_balance = {f.adp_timeout, f.adp_wait};
    if (f.batch_wait_iters < 0) {
      DieF("--batch-wait-iters: must not be negative, got {}", f.batch_wait_iters);
    }
    if (f.batch_wait_tokens < 0) {
      DieF("--batch-wait-tokens: must not be negative, got {}", f.batch_wait_tokens);
    }
    if ((f.batch_wait_iters > 0) != (f.batch_wait_tokens > 0)) {
      DieF("--batch-wait-iters {} --batch-wait-tokens {}: give both (either 0 turns waiting off)",
           f.batch_wait_iters, f.batch_wait_tokens);
    }
    c.deployment.colocated.batch_wait = {f.batch_wait_iters, f.batch_wait_tokens};
  } else if (f.mode.empty() && f.planner.active()) {
    c.deployment.disaggregated = true;  // pools chosen by the frontier
  } else if (f.mode == "disagg") {
    if (f.prefill.empty() || f.decode.empty()) {
      DieF("--mode disagg: needs --prefill \"instances=..,tp=..,batch=..\" and --decode \"...\"");
    }
    c.deployment.disaggregated = true;
    c.deployment.prefill = ParsePoolSpec(f.prefill, "--prefill", specs);
    c.deployment.decode = ParsePoolSpec(f.decode, "--decode", specs);
  } else {
    DieF("--mode: expected colocated or disagg, got '{}' (or use --from-frontier)", f.mode);
  }
  c.deployment.speculation = specs.speculation;

  // Workload.
  std::unique_ptr<sim::RequestSource> source;
  std::unique_ptr<sim::LengthSampler> lengths;
  int workloads = (f.rate > 0) + (f.concurrency > 0) + !f.trace.empty() + !f.workload.empty();
  if (workloads != 1) {
    DieF(
        "choose exactly one workload: --rate R (open loop), --concurrency N (closed loop), "
        "--trace FILE or --workload FILE");
  }
  PlannedRun planned;
  std::unique_ptr<sim::PhasedWorkload> phased;
  if (!f.workload.empty()) {
    if (!isl.empty() || !osl.empty() || !f.lengths_from.empty()) {
      DieF("--workload: the file gives the lengths; drop --isl, --osl and --lengths-from");
    }
    phased = Unwrap(sim::LoadWorkloadFile(f.workload));
    RequirePositive(f.rate_scale, "--rate-scale");
    if (f.rate_scale != 1) {
      phased = std::make_unique<sim::PhasedWorkload>(phased->WithRateScale(f.rate_scale));
    }
    const uint64_t seed = f.seed_given ? f.seed : phased->seed();
    const sim::PhasedWorkload* w = phased.get();
    planned.make_source = [w, seed] { return w->NewSource(seed); };
    auto avg = w->Average();
    planned.average_rate = avg.rate;
    planned.average_isl = avg.mean_isl;
    planned.average_osl = avg.mean_osl;
    planned.workload_name = w->name();
    // The prefill workspace is sized for the longest prompt the phases make
    // likely (lognormal: 3 standard deviations up).
    double longest = 1;
    for (const auto& ph : w->phases()) {
      const auto& l = ph.isl;
      longest = std::max(longest, l.kind == sim::LengthDistribution::Kind::kLogNormal
                                      ? l.mean * std::exp(3 * l.sigma)
                                      : static_cast<double>(l.max));
    }
    c.prompt_hint = std::min(longest, 1e6);
    source = planned.make_source();
    c.source = source.get();
  } else if (f.trace.empty() && !f.lengths_from.empty()) {
    if (!isl.empty() || !osl.empty()) DieF("--lengths-from: replaces --isl and --osl; give one");
    auto sample = TraceLengths(f.lengths_from, 1000000);
    int64_t longest = 0;
    for (auto [i, o] : sample) longest = std::max(longest, i);
    c.prompt_hint = static_cast<double>(longest);
    lengths = sim::EmpiricalLengths(std::move(sample));
  } else if (f.trace.empty()) {
    if (isl.empty()) DieF("--isl: required (N or MIN-MAX), or --lengths-from TRACE");
    if (osl.empty()) DieF("--osl: required (N or MIN-MAX), or --lengths-from TRACE");
    auto [isl_lo, isl_hi] = LengthRange(isl, "--isl");
    auto [osl_lo, osl_hi] = LengthRange(osl, "--osl");
    lengths = isl_lo == isl_hi && osl_lo == osl_hi
                  ? sim::FixedLengths(isl_lo, osl_lo)
                  : sim::UniformLengths(isl_lo, isl_hi, osl_lo, osl_hi);
    c.prompt_hint = static_cast<double>(isl_hi);
  }
  if (f.requests < 0) DieF("--requests: must not be negative, got {}", f.requests);
  if (f.rate > 0) {
    sim::OpenLoopOptions o;
    if (f.arrival == "poisson") {
      o.process = sim::ArrivalProcess::kPoisson;
    } else if (f.arrival == "gamma") {
      o.process = sim::ArrivalProcess::kGamma;
    } else if (f.arrival == "uniform") {
      o.process = sim::ArrivalProcess::kUniform;
    } else {
      DieF("--arrival: expected poisson, gamma or uniform, got '{}'", f.arrival);
    }
    RequirePositive(f.cv, "--cv");
    o.rate = f.rate;
    o.gamma_cv = f.cv;
    o.seed = f.seed;
    o.max_requests = f.requests > 0 ? f.requests : (f.duration.empty() ? 1000 : 0);
    o.duration = f.duration.empty() ? 0 : c.max_time;
    if (f.planner.active()) {
      // Every policy replays the same requests: a fresh source each time.
      auto shared = std::shared_ptr<sim::LengthSampler>(std::move(lengths));
      planned.make_source = [o, shared] {
        return sim::OpenLoop(o, std::make_unique<SharedSampler>(shared));
      };
      planned.average_rate = f.rate;
      planned.average_isl = shared->MeanIsl();
      planned.average_osl = shared->MeanOsl();
      planned.workload_name = fmt::format("open loop at {} requests/s", f.rate);
      source = planned.make_source();
    } else {
      source = sim::OpenLoop(o, std::move(lengths));
    }
    c.source = source.get();
  } else if (f.concurrency > 0) {
    c.concurrency = f.concurrency;
    c.closed_requests = f.requests > 0 ? f.requests : (f.duration.empty() ? 10 * f.concurrency : 0);
    c.lengths = lengths.get();
  } else if (!f.trace.empty()) {
    RequirePositive(f.time_scale, "--time-scale");
    RequirePositive(f.rate_scale, "--rate-scale");
    sim::TraceOptions o;
    o.time_scale = f.time_scale;
    o.rate_scale = f.rate_scale;
    o.max_requests = f.requests;
    o.skip_bad_lines = f.skip_bad_lines;
    o.seed = f.seed;
    source = Unwrap(sim::OpenTrace(f.trace, o));
    c.source = source.get();
    c.prompt_hint = 16384;
    if (f.planner.active()) {
      planned.make_source = [path = f.trace, o]() -> std::unique_ptr<sim::RequestSource> {
        return Unwrap(sim::OpenTrace(path, o));
      };
      // The average traffic, from one pass over the trace.
      double n = 0, isl_sum = 0, osl_sum = 0, first = 0, last = 0;
      auto scan = planned.make_source();
      while (true) {
        auto next = scan->Next();
        if (!next) Die(next.error());
        if (!next->has_value()) break;
        if (n == 0) first = (*next)->arrival;
        last = (*next)->arrival;
        n += 1;
        isl_sum += static_cast<double>((*next)->isl);
        osl_sum += static_cast<double>((*next)->osl);
      }
      planned.average_rate = last > first ? n / (last - first) : n;
      planned.average_isl = n > 0 ? isl_sum / n : 1;
      planned.average_osl = n > 0 ? osl_sum / n : 1;
      planned.workload_name = f.trace.substr(f.trace.find_last_of('/') + 1);
    }
  }
  if (f.planner.active()) {
    if (f.concurrency > 0)
      DieF("--concurrency: the planner needs an open-loop workload or a trace");
    if (!f.requests_out.empty()) DieF("--requests-out: not available with a planner");
    planned.deployment_given = !f.mode.empty();
    // Pools without instance counts give the mappings only: static splits
    // the budget evenly.
    planned.counts_given = f.prefill.find("instances=") != std::string::npos &&
                           f.decode.find("instances=") != std::string::npos;
    planned.config = c;
    planned.config.source = nullptr;
    planned.timeline_out = f.timeline_out;
    planned.json = f.json;
    RunPlanned(f.planner, std::move(planned), specs);
    return;
  }
  if (!f.planner.plot.empty()) DieF("--plot: needs --planner or --compare");
  const auto accuracy = CiteAccuracy(specs.model.name, specs.system.name, specs.backend,
                                     c.deployment.disaggregated ? "disagg" : "agg");

  AtomicFileWriter requests_out, timeline_out;
  if (!f.requests_out.empty()) {
    Unwrap(CheckWritable(f.requests_out, "--requests-out"));
    Unwrap(requests_out.Open(f.requests_out));
    c.requests_out = &requests_out.stream();
  }
  if (!f.timeline_out.empty()) {
    Unwrap(CheckWritable(f.timeline_out, "--timeline-out"));
    Unwrap(timeline_out.Open(f.timeline_out));
    c.timeline_out = &timeline_out.stream();
  }
  c.progress = [](double t, int64_t done) {
    std::fprintf(stderr, "\rsimulated %.0f s, %lld requests done", t, static_cast<long long>(done));
  };
  auto result = sim::Simulate(c);
  if (!result) Die(result.error());
  std::fputc('\r', stderr);
  if (!f.requests_out.empty()) Unwrap(requests_out.Commit());
  if (!f.timeline_out.empty()) Unwrap(timeline_out.Commit());

  report::SimContext ctx{specs.model.name,        specs.system.name, specs.precision.name,
                         c.deployment.Describe(), c.ftl_max,         c.ttl_max};
  if (f.json) {
    Json j = report::SimJson(*result, ctx);
    j["measured_accuracy"] = accuracy.ToJson();
    std::fputs((j.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(report::SimText(*result, ctx).c_str(), stdout);
    std::fputs(("\n" + accuracy.Text("Measured accuracy")).c_str(), stdout);
  }
}

}  // namespace

void AddSimulateCommand(CLI::App& app) {
  auto f = std::make_shared<SimulateFlags>();
  auto* cmd = app.add_subcommand(
      "simulate", "one deployment under a workload or trace: latency distributions, goodput");
  AddSpecFlags(cmd, f->spec, false);
  AddMappingFlags(cmd, f->mapping);
  cmd->add_option("--mode", f->mode, "colocated or disagg");
  cmd->add_option("--instances", f->instances, "co-located instances")->capture_default_str();
  cmd->add_option("--batch", f->batch, "co-located: most running sequences (0: memory-bound)");
  cmd->add_option("--chunk", f->chunk, "co-located: prompt tokens per step (chunked prefill)")
      ->capture_default_str();
  cmd->add_option("--schedule", f->schedule,
                  "co-located steps: mixed (prompt chunks beside decodes) or prefill-first "
                  "(default: the backend's, prefill-first for sglang)");
  cmd->add_flag("--whole-prompts", f->whole_prompts,
                "co-located: never split a prompt across steps (TensorRT-LLM with "
                "enable_chunked_prefill false); one that does not fit what is left of the "
                "step's --chunk budget waits for the next step");
  cmd->add_option("--recv-interval", f->recv_interval,
                  "co-located: scheduler iterations between polls for new requests (SGLang's "
                  "--scheduler-recv-interval; a prefill step counts the whole interval)")
      ->capture_default_str();
  cmd->add_option("--mem-fraction", f->mem_fraction,
                  "co-located SGLang: the share of each GPU for weights and KV cache (its "
                  "--mem-fraction-static; 0, the default: SGLang's own rule)")
      ->capture_default_str();
  cmd->add_option("--adp-balance-timeout", f->adp_timeout,
                  "co-located with attention DP: TensorRT-LLM's context balancing, most "
                  "iterations a new prompt waits for one on every rank (0: off)")
      ->capture_default_str();
  cmd->add_option("--adp-balance-wait", f->adp_wait,
                  "co-located with attention DP: iterations prompts on every rank wait to batch")
      ->capture_default_str();
  cmd->add_option("--batch-wait-iters", f->batch_wait_iters,
                  "co-located without attention DP: TensorRT-LLM's batch_wait_timeout_iters, "
                  "most iterations new prompts are held while others decode (0: off)")
      ->capture_default_str();
  cmd->add_option("--batch-wait-tokens", f->batch_wait_tokens,
                  "co-located: scheduled tokens that release held prompts at once "
                  "(batch_wait_max_tokens_ratio x max_num_tokens)")
      ->capture_default_str();
  cmd->add_option("--prefill", f->prefill, "disagg prefill pool: \"instances=2,tp=4,batch=2\"");
  cmd->add_option("--decode", f->decode, "disagg decode pool: \"instances=1,tp=8,batch=128\"");
  cmd->add_option("--from-frontier", f->from_frontier, "a `disagg frontier --json` file");
  cmd->add_option("--point", f->point, "design point index in that file")->capture_default_str();
  cmd->add_option("--frontier-mode", f->frontier_mode, "disaggregated or colocated")
      ->capture_default_str();
  cmd->add_option("--rate", f->rate, "open loop: requests/s");
  cmd->add_option("--isl", f->isl, "input tokens per request: N, or MIN-MAX for uniform lengths");
  cmd->add_option("--osl", f->osl, "output tokens per request: N, or MIN-MAX");
  cmd->add_option("--lengths-from", f->lengths_from,
                  "draw (ISL, OSL) pairs from a trace's requests (empirical distribution)");
  cmd->add_option("--arrival", f->arrival, "poisson, gamma or uniform")->capture_default_str();
  cmd->add_option("--cv", f->cv, "gamma arrivals: coefficient of variation")->capture_default_str();
  cmd->add_option("--concurrency", f->concurrency, "closed loop: concurrent clients");
  cmd->add_option("--requests", f->requests,
                  "requests to send (default 1000 open loop, 10 x N closed loop)");
  cmd->add_option("--duration", f->duration, "stop the clock after this long, e.g. 10m");
  cmd->add_option("--trace", f->trace, "Azure CSV or Mooncake JSONL trace");
  cmd->add_option("--workload", f->workload, "time-varying workload file (JSON phases)");
  AddPlannerFlags(cmd, f->planner);
  cmd->add_option("--time-scale", f->time_scale, "multiply trace timestamps")
      ->capture_default_str();
  cmd->add_option("--rate-scale", f->rate_scale,
                  "multiply the trace's or workload file's request rate")
      ->capture_default_str();
  cmd->add_flag("--skip-bad-lines", f->skip_bad_lines, "count and skip malformed trace lines");
  cmd->add_option("--ftl-max", f->ftl_max, "goodput SLA on first-token latency, e.g. 2s");
  cmd->add_option("--ttl-max", f->ttl_max, "goodput SLA on token-to-token latency, e.g. 50ms");
  cmd->add_option("--warmup", f->warmup, "exclude requests arriving before this, e.g. 60s");
  cmd->add_option("--router", f->router, "round-robin, least-outstanding or least-kv")
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "random seed (a workload file's own seed unless given)")
      ->capture_default_str()
      ->each([f](const std::string&) { f->seed_given = true; });
  cmd->add_option("--requests-out", f->requests_out, "write one CSV row per request");
  cmd->add_option("--timeline-out", f->timeline_out, "write a per-second CSV time series");
  cmd->add_flag("--json", f->json, "machine-readable output on stdout");
  cmd->callback([f] { RunSimulate(*f); });
}

}  // namespace disagg::cli
