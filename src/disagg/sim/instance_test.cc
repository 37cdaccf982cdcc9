// Step composition of a co-located instance: mixed batching against
// SGLang's prefill-first scheduling, SGLang's polling for new requests and
// TensorRT-LLM's attention-DP context balancing, step by step.
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

const perf::StepModel& SglangStep() {
  static const perf::StepModel step =
      *perf::StepModel::Create(CatalogModel("llama-3.1-8b"), CatalogSystem("h100_sxm"),
                               Preset("fp8"), perf::Mapping{}, hardware::Backend::kSglang);
  return step;
}

// An instance whose cache never limits admission.
InstanceConfig Roomy(const perf::StepModel& step, int max_batch, int64_t chunk) {
  InstanceConfig c;
  c.model = &step;
  c.max_batch = max_batch;
  c.chunk = chunk;
  c.kv_capacity = 1e12;
  c.kv.full = 1000;
  return c;
}

// One sequence decoding (prompt 64, 100 output tokens), then a 3,000-token
// prompt arrives that a 1,024-token chunk splits over 3 steps.
Steps RunSteps(bool prefill_first) {
  InstanceConfig c = Roomy(SglangStep(), 8, 1024);
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

// Two 600-token prompts under a 1,024-token budget, over two steps: each
// step's time and the slots whose first token it produced.
Steps TwoPrompts(bool whole, std::vector<std::vector<int64_t>>& firsts) {
  InstanceConfig c = Roomy(SglangStep(), 8, 1024);
  c.whole_prompts = whole;
  BatchingInstance inst(c);
  StepOutcome out;
  inst.Enqueue(Seq{.slot = 0, .isl = 600, .osl = 100});
  inst.Enqueue(Seq{.slot = 1, .isl = 600, .osl = 100});
  Steps s;
  double now = 0;
  for (int i = 0; i < 2; ++i) {
    const double dt = inst.StartStep(now);
    now += dt;
    out.Clear();
    inst.FinishStep(now, out);
    s.time.push_back(dt);
    firsts.push_back(out.first_token);
  }
  return s;
}

TEST(BatchingInstance, WholePromptsWaitForAStepTheyFitIn) {
  std::vector<std::vector<int64_t>> chunked_firsts, whole_firsts;
  Steps chunked = TwoPrompts(false, chunked_firsts);
  Steps whole = TwoPrompts(true, whole_firsts);
  // Either way the first prompt finishes in step 1 and the second in step 2.
  const std::vector<std::vector<int64_t>> expected{{0}, {1}};
  EXPECT_EQ(chunked_firsts, expected);
  EXPECT_EQ(whole_firsts, expected);
  // Chunked, step 1 carries 600 + 424 (the budget's rest) prompt tokens and
  // step 2 the other 176 beside one decode; whole, the second prompt does
  // not fit the 424 left and runs all 600 tokens in step 2. So whole prompts
  // make step 1 shorter and step 2 longer.
  EXPECT_LT(whole.time[0], chunked.time[0]);
  EXPECT_GT(whole.time[1], chunked.time[1]);
}

// A prompt arriving during a decode step waits for the scheduler's next poll:
// every `interval` decode iterations, or at once after a prefill step.
std::vector<int64_t> DecodedWithPolls(int interval) {
  InstanceConfig c = Roomy(SglangStep(), 8, 8192);
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
  inst.Enqueue(Seq{.slot = 0, .isl = 64, .osl = 100});   // idle: polled at once
  start(), finish();                                     // its prefill
  start(), finish();                                     // decode (the poll after the prefill)
  start();                                               // decode, in flight when...
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

// Two sequences decode on the instance `c` configures; during step 3,
// `arrivals` prompts of `isl` tokens arrive. Returns the step (1-based) in
// which the first of them produced its first token (-1: not within
// `max_steps`).
int FirstArrivalTokenStep(const InstanceConfig& c, int arrivals, int64_t isl, int max_steps) {
  BatchingInstance inst(c);
  StepOutcome out;
  double now = 0;
  inst.Enqueue(Seq{.slot = 0, .isl = 64, .osl = 100});
  inst.Enqueue(Seq{.slot = 1, .isl = 64, .osl = 100});
  for (int i = 1; i <= max_steps; ++i) {
    now += inst.StartStep(now);
    if (i == 3) {
      for (int k = 0; k < arrivals; ++k) inst.Enqueue(Seq{.slot = 2 + k, .isl = isl, .osl = 100});
    }
    out.Clear();
    inst.FinishStep(now, out);
    for (int64_t slot : out.first_token) {
      if (slot == 2) return i;
    }
  }
  return -1;
}

// Two attention-DP ranks (one decoding sequence each), 256-token arrivals.
int FirstTokenStep(AdpBalance balance, int arrivals) {
  static const perf::StepModel step = *perf::StepModel::Create(
      CatalogModel("gpt-oss-120b"), CatalogSystem("b200_sxm"), Preset("fp4"),
      perf::Mapping{1, 1, 2, 1, 2}, hardware::Backend::kTrtllm);
  InstanceConfig c = Roomy(step, 16, 8192);
  c.adp_balance = balance;
  return FirstArrivalTokenStep(c, arrivals, 256, 12);
}

TEST(BatchingInstance, AttentionDpBalanceHoldsAPromptUntilEveryRankHasOne) {
  // Off: the prompt arriving in step 3 is prefilled in step 4.
  EXPECT_EQ(FirstTokenStep({}, 1), 4);
  // Timeout 5: steps 2 and 3 (no prompt on every rank) counted 1 and 2;
  // the prompt waits through steps 4 (3) and 5 (4) and starts at 5 in step 6.
  EXPECT_EQ(FirstTokenStep({.timeout_iters = 5, .batching_wait_iters = 0}, 1), 6);
  // A prompt for each rank goes at once...
  EXPECT_EQ(FirstTokenStep({.timeout_iters = 5, .batching_wait_iters = 0}, 2), 4);
  // ...unless told to wait for more: two iterations, then step 6.
  EXPECT_EQ(FirstTokenStep({.timeout_iters = 5, .batching_wait_iters = 2}, 2), 6);
}

// One rank, `arrivals` prompts of `isl` tokens.
int FirstTokenStepWaiting(BatchWait wait, int arrivals, int64_t isl) {
  static const perf::StepModel step = *perf::StepModel::Create(
      CatalogModel("llama-3.1-8b"), CatalogSystem("h100_sxm"), Preset("fp8"),
      perf::Mapping{1, 1, 1, 1, 1}, hardware::Backend::kTrtllm);
  InstanceConfig c = Roomy(step, 16, 8192);
  c.batch_wait = wait;
  return FirstArrivalTokenStep(c, arrivals, isl, 40);
}

TEST(BatchingInstance, BatchWaitingHoldsPromptsUntilTimeoutOrEnoughTokens) {
  // Off: the prompt arriving in step 3 is prefilled in step 4.
  EXPECT_EQ(FirstTokenStepWaiting({}, 1, 1000), 4);
  // Timeout 20 iterations, threshold 0.9 x 16384 = 14745.6 tokens: one
  // 1000-token prompt (+2 decoding) never reaches it, so it is held in steps
  // 4..23 (counts 0..19 -> 1..20) and starts in step 24 (count 20 >= 20).
  EXPECT_EQ(FirstTokenStepWaiting({.timeout_iters = 20, .threshold_tokens = 14745.6}, 1, 1000), 24);
  // Enough tokens: 7400 + 2 decoding >= 7000, released at once (step 4).
  EXPECT_EQ(FirstTokenStepWaiting({.timeout_iters = 20, .threshold_tokens = 7000}, 1, 7400), 4);
  // Only prompts the step's 8192-token budget can take count: of two
  // 5000-token prompts one fits, 5002 < 9000, so they wait out the timeout.
  EXPECT_EQ(FirstTokenStepWaiting({.timeout_iters = 20, .threshold_tokens = 9000}, 2, 5000), 24);
  // Two 3000-token prompts both fit and both count: 6002 >= 6000, at once.
  EXPECT_EQ(FirstTokenStepWaiting({.timeout_iters = 20, .threshold_tokens = 6000}, 2, 3000), 4);
  // A threshold of 0 is the engine's "off" (its token test always passes).
  EXPECT_EQ(FirstTokenStepWaiting({.timeout_iters = 20, .threshold_tokens = 0}, 1, 1000), 4);
}

// SGLang's admission for requests of known length: a prompt joins only if
// the cache holds every running sequence to its whole output, counting what
// those that finish first give back. One byte per token; prompts of 1,000
// tokens with outputs of 500, 4,000 and 4,000 arriving together.
int64_t AdmittedOfThree(double capacity, Admission admission) {
  InstanceConfig c = Roomy(SglangStep(), 8, 8192);
  c.kv_capacity = capacity;
  c.kv.full = 1;
  c.prefill_first = true;
  c.admission = admission;
  BatchingInstance inst(c);
  inst.Enqueue(Seq{.slot = 0, .isl = 1000, .osl = 500});
  inst.Enqueue(Seq{.slot = 1, .isl = 1000, .osl = 4000});
  inst.Enqueue(Seq{.slot = 2, .isl = 1000, .osl = 4000});
  inst.StartStep(0);
  return inst.running();
}

TEST(BatchingInstance, AdmitsWhatTheCacheHoldsToTheWholeOutputs) {
  // The third prompt, with the first two admitted (2,000 bytes of prompts
  // held): free = C - 2,000 - 1,000 = C - 3,000. All three whole outputs at
  // once (500 + 4,000 + 4,000 = 8,500) need C > 11,503. In order of
  // finishing: while the 500-token output runs, 3 x 500 = 1,500 must fit
  // (C - 3,000 - 1,500 > 3); then, with its 1,000 prompt bytes back, the
  // other two need 2 x 4,000: C - 3,000 + 1,000 - 8,000 > 2, so C > 10,002.
  EXPECT_EQ(AdmittedOfThree(10002, Admission::kWholeOutputs), 2);
  EXPECT_EQ(AdmittedOfThree(10003, Admission::kWholeOutputs), 3);
  // The second prompt: free C - 2,000; while the short output runs, 2 x 500
  // (C - 3,000 > 2), then 4,000 more with 1,000 given back (C - 2,000 +
  // 1,000 - 4,000 > 1): two fit from C > 5,001.
  EXPECT_EQ(AdmittedOfThree(5001, Admission::kWholeOutputs), 1);
  EXPECT_EQ(AdmittedOfThree(5002, Admission::kWholeOutputs), 2);
  // Admission on the prompt alone takes all three at 5,002 (3,001 bytes
  // under a 2% watermark); whole-request reservations (TensorRT-LLM) need
  // 1,500 + 5,000 + 5,000 = 11,500 for all three.
  EXPECT_EQ(AdmittedOfThree(5002, Admission::kPrompt), 3);
  EXPECT_EQ(AdmittedOfThree(11499, Admission::kWholeRequest), 2);
  EXPECT_EQ(AdmittedOfThree(11500, Admission::kWholeRequest), 3);
}

}  // namespace
}  // namespace disagg::sim
