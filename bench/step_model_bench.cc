// Google Benchmark: StepModel evaluations per second (the search calls
// Evaluate hundreds of thousands of times per run).
#include <benchmark/benchmark.h>

#include "disagg/hardware/system_spec.h"
#include "disagg/model/hf_config.h"
#include "disagg/perf/step_model.h"

namespace {

using disagg::perf::BatchShape;
using disagg::perf::Mapping;
using disagg::perf::StepModel;

StepModel Build(const char* model, const char* system, const char* precision, Mapping map) {
  auto m = disagg::model::LoadModel(model);
  auto s = disagg::hardware::LoadSystem(system);
  auto p = disagg::perf::PrecisionPreset(precision);
  auto step = StepModel::Create(*m, *s, *p, map, disagg::hardware::Backend::kTrtllm);
  if (!step) std::abort();
  return *step;
}

void Run(benchmark::State& state, const StepModel& step, bool prefill) {
  double context = 4096;
  for (auto _ : state) {
    BatchShape b = step.NewBatch();
    if (prefill) {
      b.AddPrefill(4, 4096, 0);
    } else {
      b.AddDecode(128, context);
    }
    benchmark::DoNotOptimize(step.Evaluate(b));
    context += 1;  // defeat hoisting
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Llama70BDecode(benchmark::State& state) {
  static const StepModel step = Build("llama-3.1-70b", "h200_sxm", "fp8", Mapping{4, 1, 1, 1, 1});
  Run(state, step, false);
}
void BM_Llama70BPrefill(benchmark::State& state) {
  static const StepModel step = Build("llama-3.1-70b", "h200_sxm", "fp8", Mapping{4, 1, 1, 1, 1});
  Run(state, step, true);
}
void BM_DeepSeekR1Decode(benchmark::State& state) {
  static const StepModel step = Build("deepseek-r1", "gb200", "fp4", Mapping{1, 1, 8, 1, 8});
  Run(state, step, false);
}
void BM_DeepSeekR1Prefill(benchmark::State& state) {
  static const StepModel step = Build("deepseek-r1", "gb200", "fp4", Mapping{4, 1, 1, 1, 4});
  Run(state, step, true);
}

BENCHMARK(BM_Llama70BDecode);
BENCHMARK(BM_Llama70BPrefill);
BENCHMARK(BM_DeepSeekR1Decode);
BENCHMARK(BM_DeepSeekR1Prefill);

}  // namespace

BENCHMARK_MAIN();
