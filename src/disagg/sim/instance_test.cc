// Step composition of a co-located instance: mixed batching against
// SGLang's prefill-first scheduling, step by step.
#include "disagg/sim/instance.h"

#include <gtest/gtest.h>

#include "disagg/testing/fixtures.h"

namespace disagg::sim {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;
using testing::Preset;

struct Steps {
  std::vector<int64_t> decoded;  // tokens the decoding sequences produced, per step
  std::vector<double> time;      // step durations
};

// One sequence decoding (prompt 64, 100 output tokens), then a 3,000-token
// prompt arrives that a 1,024-token chunk splits over 3 steps.
Steps RunSteps(bool prefill_first) {
  static const perf::StepModel step =
      *perf::StepModel::Create(CatalogModel("llama-3.1-8b"), CatalogSystem("h100_sxm"),
                               Preset("fp8"), perf::Mapping{}, hardware::Backend::kSglang);
  InstanceConfig c;
  c.model = &step;
  c.max_batch = 8;
  c.chunk = 1024;
  c.kv_capacity = 1e12;
  c.kv.full = 1000;
  c.prefill_first = prefill_first;
  BatchingInstance inst(c);
  StepOutcome out;
  inst.Enqueue(Seq{.slot = 0, .isl = 64, .osl = 100});
  Steps s;
  double now = 0;
  auto one = [&] {
    double dt = inst.StartStep(now);
    now += dt;
    out.Clear();
    inst.FinishStep(now, out);
    s.decoded.push_back(out.decoded);
    s.time.push_back(dt);
  };
  one();  // the short prompt's prefill: its first token
  one();  // a decode step
  inst.Enqueue(Seq{.slot = 1, .isl = 3000, .osl = 100});
  for (int i = 0; i < 4; ++i) one();  // three chunks of the long prompt, then decoding
  return s;
}

TEST(BatchingInstance, PrefillFirstHoldsDecodingUntilThePromptIsDone) {
  Steps pf = RunSteps(true);
  // Steps 3-5 are the long prompt's chunks (1024, 1024, 952 tokens): no
  // decoding beside them. Step 6 decodes both sequences.
  EXPECT_EQ(pf.decoded, (std::vector<int64_t>{0, 1, 0, 0, 0, 2}));
  Steps mixed = RunSteps(false);
  // Mixed batching decodes the first sequence beside every chunk.
  EXPECT_EQ(mixed.decoded, (std::vector<int64_t>{0, 1, 1, 1, 1, 2}));
  // A chunk step with a decode riding along costs at least the chunk alone.
  for (int i = 2; i < 5; ++i) EXPECT_GE(mixed.time[i], pf.time[i]) << "step " << i;
}

}  // namespace
}  // namespace disagg::sim
