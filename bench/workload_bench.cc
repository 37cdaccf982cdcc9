// Google Benchmark: trace replay throughput (rows per second) on the real
// traces in ../shared/traces, and open-loop generation for comparison.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "disagg/sim/workload.h"
#include "disagg/testing/shared_data.h"

namespace {

using disagg::sim::OpenTrace;
using disagg::sim::TraceOptions;

void ReadTrace(benchmark::State& state, const char* relative, double rate_scale) {
  std::string path = disagg::testing::SharedFile(relative);
  if (!std::filesystem::exists(path)) {
    state.SkipWithError(("shared data absent: " + path).c_str());
    return;
  }
  TraceOptions o;
  o.rate_scale = rate_scale;
  int64_t requests = 0;
  for (auto _ : state) {
    auto source = OpenTrace(path, o);
    if (!source) {
      state.SkipWithError(source.error().message.c_str());
      return;
    }
    while (true) {
      auto next = (*source)->Next();
      if (!next || !*next) break;
      benchmark::DoNotOptimize(**next);
      ++requests;
    }
  }
  state.SetItemsProcessed(requests);
}

void BM_AzureConversation(benchmark::State& state) {
  ReadTrace(state, "traces/azure_llm_2023_conv.csv", 1);
}
BENCHMARK(BM_AzureConversation)->Unit(benchmark::kMillisecond);

void BM_AzureConversationRateScale4(benchmark::State& state) {
  ReadTrace(state, "traces/azure_llm_2023_conv.csv", 4);
}
BENCHMARK(BM_AzureConversationRateScale4)->Unit(benchmark::kMillisecond);

void BM_MooncakeConversation(benchmark::State& state) {
  ReadTrace(state, "traces/mooncake_conversation.jsonl", 1);
}
BENCHMARK(BM_MooncakeConversation)->Unit(benchmark::kMillisecond);

void BM_OpenLoopPoisson(benchmark::State& state) {
  disagg::sim::OpenLoopOptions o;
  o.rate = 100;
  auto source = disagg::sim::OpenLoop(o, disagg::sim::UniformLengths(1, 8192, 1, 1024));
  for (auto _ : state) benchmark::DoNotOptimize(source->Next());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenLoopPoisson);

}  // namespace

// main() comes from step_model_bench.cc (one disagg_bench binary).
