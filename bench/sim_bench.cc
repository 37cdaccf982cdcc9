// Google Benchmark: simulated requests per wall-clock second.
// - The Azure 2023 conversation trace (19,366 requests, ../shared/traces) on
//   16 co-located Llama-3.1-70B instances (skipped when the trace is absent).
// - A synthetic open-loop run of one million requests.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
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

BENCHMARK(BM_AzureConversationTrace)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_SyntheticMillion)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
