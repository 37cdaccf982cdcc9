// Step composition of a co-located instance: mixed batching against
// SGLang's prefill-first scheduling, and SGLang's polling for new requests,
// step by step.
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
const perf::StepModel& SglangStep() {
  static const perf::StepModel step =
      *perf::StepModel::Create(CatalogModel("llama-3.1-8b"), CatalogSystem("h100_sxm"),
                               Preset("fp8"), perf::Mapping{}, hardware::Backend::kSglang);
  return step;
}

Steps RunSteps(bool prefill_first) {
  const perf::StepModel& step = SglangStep();
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

// A prompt arriving during a decode step waits for the scheduler's next poll:
// every `interval` decode iterations, or at once after a prefill step.
std::vector<int64_t> DecodedWithPolls(int interval) {
  InstanceConfig c;
  c.model = &SglangStep();
  c.max_batch = 8;
  c.chunk = 8192;
  c.kv_capacity = 1e12;
  c.kv.full = 1000;
  c.prefill_first = true;
  c.recv_interval = interval;
  BatchingInstance inst(c);
  StepOutcome out;
  std::vector<int64_t> decoded;
  double now = 0;
  auto start = [&] { now += inst.StartStep(now); };
  auto finish = [&] {
    out.Clear();
    inst.FinishStep(now, out);
    decoded.push_back(out.decoded);
  };
  inst.Enqueue(Seq{.slot = 0, .isl = 64, .osl = 100});  // idle: polled at once
  start(), finish();                                   // its prefill
  start(), finish();                                   // decode (the poll after the prefill)
  start();                                             // decode, in flight when...
  inst.Enqueue(Seq{.slot = 1, .isl = 512, .osl = 100});  // ...the second prompt arrives
  finish();
  for (int i = 0; i < 5; ++i) start(), finish();
  return decoded;
}

TEST(BatchingInstance, RecvIntervalHoldsArrivalsUntilThePoll) {
  // Polling every iteration: the prompt is prefilled in the step after the
  // one it arrived in (step 4), then both decode.
  EXPECT_EQ(DecodedWithPolls(1), (std::vector<int64_t>{0, 1, 1, 0, 2, 2, 2, 2}));
  // Every 5: the poll before step 2 resets the count; steps 2-6 are 5
  // decode iterations, so the next poll is before step 7.
  EXPECT_EQ(DecodedWithPolls(5), (std::vector<int64_t>{0, 1, 1, 1, 1, 1, 0, 2}));
}

}  // namespace
}  // namespace disagg::sim
