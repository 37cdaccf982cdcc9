// Google Benchmark: simulated requests per wall-clock second.
// - The Azure 2023 conversation trace (19,366 requests, ../shared/traces) on
//   16 co-located Llama-3.1-70B instances (skipped when the trace is absent).
// - A synthetic open-loop run of one million requests.
// - The planner: one hour of shifting traffic (examples/workloads/mix-shift.json
//   at 2.46x its rate, 32 requests/s) on a budget of 20 tp4 Llama-3.1-70B
//   instances (80 H200 GPUs), dynamic policy.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/sim/phased_workload.h"
#include "disagg/sim/simulator.h"

namespace {

using namespace disagg;

sim::SimConfig Config(const char* model, const char* system, int instances, int tp) {
  sim::SimConfig c;
  c.model = *model::LoadModel(model);
  c.system = *hardware::LoadSystem(system);
  c.precision = *perf::PrecisionPreset("fp8");
  c.deployment.colocated = sim::PoolSpec{perf::Mapping{tp, 1, 1, 1, 1}, instances, 0, 8192};
  return c;
}

void Report(benchmark::State& state, const sim::SimResult& r, double seconds) {
  state.counters["requests"] = static_cast<double>(r.requests_completed);
  state.counters["requests_per_wall_s"] = r.requests_completed / seconds;
  state.counters["events"] = static_cast<double>(r.events);
}

void BM_AzureConversationTrace(benchmark::State& state) {
  std::string path = std::string(DISAGG_SOURCE_DIR) + "/../shared/traces/azure_llm_2023_conv.csv";
  if (!std::filesystem::exists(path)) {
    state.SkipWithError("trace absent: ../shared/traces/azure_llm_2023_conv.csv");
    return;
  }
  for (auto _ : state) {
    auto c = Config("llama-3.1-70b", "h200_sxm", 16, 4);
    auto source = sim::OpenTrace(path, sim::TraceOptions{});
    c.source = source->get();
    auto r = sim::Simulate(c);
    Report(state, *r, r->elapsed_wall_s);
  }
}

void BM_SyntheticMillion(benchmark::State& state) {
  for (auto _ : state) {
    auto c = Config("llama-3.1-8b", "h100_sxm", 32, 1);
    sim::OpenLoopOptions o;
    o.rate = 300;
    o.max_requests = 1000000;
    auto source = sim::OpenLoop(o, sim::UniformLengths(128, 2048, 16, 512));
    c.source = source.get();
    auto r = sim::Simulate(c);
    Report(state, *r, r->elapsed_wall_s);
  }
}

void BM_PlannerHour20Instances(benchmark::State& state) {
  auto w =
      sim::LoadWorkloadFile(std::string(DISAGG_SOURCE_DIR) + "/examples/workloads/mix-shift.json");
  if (!w) {
    state.SkipWithError(w.error().message.c_str());
    return;
  }
  sim::PhasedWorkload scaled = (*w)->WithRateScale(32.0 / 13.0);
  for (auto _ : state) {
    sim::SimConfig c;
    c.model = *model::LoadModel("llama-3.1-70b");
    c.system = *hardware::LoadSystem("h200_sxm");
    c.precision = *perf::PrecisionPreset("fp8");
    c.deployment.disaggregated = true;
    c.deployment.prefill = sim::PoolSpec{perf::Mapping{4, 1, 1, 1, 1}, 1, 1, 0};
    c.deployment.decode = sim::PoolSpec{perf::Mapping{4, 1, 1, 1, 1}, 1, 256, 0};
    c.prompt_hint = 8192;
    c.ftl_max = 3;
    c.ttl_max = 0.05;
    sim::PlannerOptions o;
    o.policy = sim::PlannerPolicy::kDynamic;
    o.gpu_budget = 80;
    o.SizeFor(scaled.Average());
    o.ftl_max = c.ftl_max;
    o.ttl_max = c.ttl_max;
    c.planner = o;
    auto source = scaled.NewSource(1);
    c.source = source.get();
    auto r = sim::Simulate(c);
    Report(state, *r, r->elapsed_wall_s);
    state.counters["reconfigurations"] = static_cast<double>(r->reconfigurations);
  }
}

BENCHMARK(BM_AzureConversationTrace)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_PlannerHour20Instances)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_SyntheticMillion)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
