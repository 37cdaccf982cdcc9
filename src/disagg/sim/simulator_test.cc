// The simulator against the analytic serving model (same StepModel, so in
// steady state they must agree), against queueing theory, and for
// conservation and determinism.
#include "disagg/sim/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "disagg/serving/colocated.h"
#include "disagg/serving/disagg.h"
#include "disagg/serving/phase.h"
#include "disagg/testing/fixtures.h"

namespace disagg::sim {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;
using testing::Preset;

SimConfig Base(const char* model, const char* system) {
  SimConfig c;
  c.model = CatalogModel(model);
  c.system = CatalogSystem(system);
  c.precision = Preset("fp8");
  return c;
}

perf::StepModel Step(const SimConfig& c, perf::Mapping m) {
  return *perf::StepModel::Create(c.model, c.system, c.precision, m, c.backend);
}

TEST(SimulatorSteadyState, ColocatedPiggybackMatchesAnalytic) {
  SimConfig c = Base("llama-3.1-70b", "h200_sxm");
  const double isl = 2048, osl = 256, chunk = 1024;
  perf::Mapping m{8, 1, 1, 1, 1};
  c.deployment.colocated = PoolSpec{m, 1, 0, static_cast<int64_t>(chunk)};
  // Enough clients that the prompt budget is always used: B = C x OSL / ISL
  // = 128 decoding plus the prompts in flight.
  c.concurrency = 160;
  c.closed_requests = 6000;
  c.warmup = 60;
  auto lengths = FixedLengths(isl, osl);
  c.lengths = lengths.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto step = Step(c, m);
  // The analytic steady state decodes OSL tokens per request; the simulator
  // OSL - 1 (the prefill step yields the first), so B differs by 1/OSL.
  auto a = serving::EvaluatePiggyback(step, {isl, osl - 1}, chunk);
  EXPECT_NEAR(r->ttl.mean / a.ttl, 1.0, 0.05);
  double analytic_tput = a.tokens_per_s_per_gpu * osl / (osl - 1);
  EXPECT_NEAR(r->tokens_per_s_per_gpu / analytic_tput, 1.0, 0.05);
}

// Speculative decoding: an engine step yields tokens_per_step() tokens per
// decoding sequence and carries the engine's prompt budget, so a co-located
// instance takes budget / tokens_per_step() prompt tokens per token step and
// the steady state matches the analytic piggyback model at that chunk.
TEST(SimulatorSteadyState, SpeculativeColocatedMatchesAnalytic) {
  SimConfig c = Base("deepseek-r1", "b200_sxm");
  c.precision = Preset("fp4");
  const double isl = 1024, osl = 256, budget = 2048;
  perf::Mapping m{8, 1, 1, 1, 8};
  c.deployment.speculation = {3, perf::kMtpAcceptance};
  c.deployment.colocated = PoolSpec{m, 1, 0, static_cast<int64_t>(budget)};
  auto step = *perf::StepModel::Create(c.model, c.system, c.precision, m, c.backend,
                                       c.deployment.speculation);
  const double chunk = budget / step.tokens_per_step();
  // Clients for a full prompt budget: B = chunk x OSL / ISL decoding.
  c.concurrency = static_cast<int>(chunk * osl / isl) + 16;
  c.closed_requests = 30 * c.concurrency;
  c.warmup = 20;
  auto lengths = FixedLengths(isl, osl);
  c.lengths = lengths.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto a = serving::EvaluatePiggyback(step, {isl, osl - 1}, chunk);
  EXPECT_NEAR(r->ttl.mean / a.ttl, 1.0, 0.05);
  // And it decodes faster per token than the same deployment without.
  SimConfig plain = c;
  plain.deployment.speculation = {};
  auto rp = Simulate(plain);
  ASSERT_TRUE(rp.has_value()) << rp.error().message;
  EXPECT_LT(r->ttl.mean, rp->ttl.mean);
}

TEST(SimulatorSteadyState, DisaggregatedMatchesRateMatching) {
  SimConfig c = Base("llama-3.1-70b", "h200_sxm");
  const double isl = 4096, osl = 512;
  const int decode_batch = 128, prefill_batch = 2;
  perf::Mapping pm{4, 1, 1, 1, 1}, dm{8, 1, 1, 1, 1};
  auto ps = Step(c, pm), ds = Step(c, dm);
  auto p = serving::EvaluatePrefill(ps, prefill_batch, {isl, osl});
  auto d = serving::EvaluateDecode(ds, decode_batch, {isl, osl - 1});
  serving::PoolRate pr{p.requests_per_s, pm.gpus()}, dr{d.tokens_per_s / (osl - 1), dm.gpus()};
  auto counts = serving::SolveInstanceCounts(pr, dr, osl, 64);
  ASSERT_TRUE(counts.ok());
  c.deployment.disaggregated = true;
  c.deployment.prefill = PoolSpec{pm, counts.prefill, prefill_batch, 0};
  c.deployment.decode = PoolSpec{dm, counts.decode, decode_batch, 0};
  // Saturate: every decode slot busy, prefill queues never empty; measure a
  // window of steady state (no start-up burst, no drain).
  c.concurrency = counts.decode * decode_batch + counts.prefill * prefill_batch * 4;
  c.warmup = 100;
  c.max_time = 500;
  auto lengths = FixedLengths(isl, osl);
  c.lengths = lengths.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::printf(
      "counts %d x P + %d x D; TTL sim %.4f analytic %.4f; tok/s/GPU sim %.1f analytic %.1f\n",
      counts.prefill, counts.decode, r->ttl.mean, d.ttl, r->tokens_per_s_per_gpu,
      counts.tokens_per_s_per_gpu);
  EXPECT_NEAR(r->tokens_per_s_per_gpu / counts.tokens_per_s_per_gpu, 1.0, 0.05);
  // When decode is the bottleneck its batch stays full; the requests beyond
  // its slots wait in the decode queue, which the measured TTL includes (as a
  // benchmark's TPOT does), so TTL is at least the analytic step.
  if (counts.decode * dr.requests_per_s <= counts.prefill * pr.requests_per_s) {
    EXPECT_GT(r->ttl.mean / d.ttl, 0.98);
  }
}

TEST(SimulatorSteadyState, DisaggregatedTtlAtTheRateMatchedLoad) {
  // Open-loop arrivals at 95% of the rate-matched capacity: no standing
  // queue, so the simulated TTL matches the analytic decode step at the batch
  // the load sustains, and the throughput is 95% of the analytic one.
  SimConfig c = Base("llama-3.1-70b", "h200_sxm");
  const double isl = 4096, osl = 512;
  const int decode_batch = 128, prefill_batch = 2;
  perf::Mapping pm{4, 1, 1, 1, 1}, dm{8, 1, 1, 1, 1};
  auto ps = Step(c, pm), ds = Step(c, dm);
  auto p = serving::EvaluatePrefill(ps, prefill_batch, {isl, osl});
  auto d = serving::EvaluateDecode(ds, decode_batch, {isl, osl - 1});
  serving::PoolRate pr{p.requests_per_s, pm.gpus()}, dr{d.tokens_per_s / (osl - 1), dm.gpus()};
  auto counts = serving::SolveInstanceCounts(pr, dr, osl, 64);
  c.deployment.disaggregated = true;
  c.deployment.prefill = PoolSpec{pm, counts.prefill, prefill_batch, 0};
  // A little headroom in the batch absorbs the arrivals' randomness.
  c.deployment.decode = PoolSpec{dm, counts.decode, decode_batch + 16, 0};
  OpenLoopOptions o;
  o.rate = 0.95 * counts.requests_per_s;
  o.process = ArrivalProcess::kUniform;
  o.duration = 600;
  auto source = OpenLoop(o, FixedLengths(isl, osl));
  c.source = source.get();
  c.warmup = 100;
  c.max_time = 600;
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // The decode batch the load sustains (Little's law, per decode instance):
  // B = rate x (OSL - 1) x TTL(B) / y, solved by fixed-point iteration.
  double batch = decode_batch;
  for (int i = 0; i < 50; ++i) {
    double ttl = serving::EvaluateDecode(ds, batch, {isl, osl - 1}).ttl;
    batch = o.rate * (osl - 1) * ttl / counts.decode;
  }
  auto at_load = serving::EvaluateDecode(ds, batch, {isl, osl - 1});
  std::printf(
      "decode batch %.1f; TTL sim %.4f analytic %.4f; tok/s/GPU sim %.1f analytic x 0.95 "
      "%.1f\n",
      batch, r->ttl.mean, at_load.ttl, r->tokens_per_s_per_gpu, 0.95 * counts.tokens_per_s_per_gpu);
  EXPECT_NEAR(r->ttl.mean / at_load.ttl, 1.0, 0.05);
  EXPECT_NEAR(r->tokens_per_s_per_gpu / (0.95 * counts.tokens_per_s_per_gpu), 1.0, 0.05);
}

// SGLang's scheduler runs a waiting prompt's prefill as a step of its own
// before the next decode step, so every prefill stalls the decoding batch.
// With arrivals at rate r, each prompt's prefill (Tp) takes r x Tp of the
// time and decoding the rest: TTL = Td(B) + B x Tp / OSL with B = r x OSL x
// TTL in decode (Little), the analytic prefill-first model with one prompt
// per prefill step. Mixed batching (vLLM) carries the prompt beside the
// decodes, reading the weights once for both: never slower.
TEST(SimulatorSteadyState, PrefillFirstStallsDecodingByThePrefillShare) {
  SimConfig c = Base("llama-3.1-70b", "h200_sxm");
  const double isl = 2048, osl = 256;
  perf::Mapping m{8, 1, 1, 1, 1};
  c.backend = hardware::Backend::kSglang;
  // The same host overheads for both backends, so only scheduling differs.
  c.system.calibration.step_overhead = {1e-3, 1e-3, 1e-3};
  c.system.calibration.seq_overhead = {0, 0, 0};
  // One prompt per prefill step: the chunk is the prompt.
  c.deployment.colocated = PoolSpec{m, 1, 512, static_cast<int64_t>(isl)};
  auto step = Step(c, m);
  const double tp = serving::EvaluatePrefill(step, 1, {isl, osl}).timing.busy;
  OpenLoopOptions o;
  o.process = ArrivalProcess::kUniform;
  o.rate = 0.3 / tp;  // prefill takes 30% of the GPU time
  o.duration = 200;
  auto source = OpenLoop(o, FixedLengths(isl, osl));
  c.source = source.get();
  c.warmup = 50;
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const double batch = o.rate * (osl - 1) * r->ttl.mean;
  auto a = serving::EvaluatePrefillFirst(step, {isl, osl - 1}, batch, 1);
  EXPECT_NEAR(r->ttl.mean / a.ttl, 1.0, 0.05);
  // The stalls are a real share: 30% of the time, so TTL is 1/0.7 of the
  // decode step.
  auto d = serving::EvaluateDecode(step, batch, {isl, osl - 1});
  EXPECT_NEAR(r->ttl.mean / d.ttl, 1 / 0.7, 0.07);

  c.backend = hardware::Backend::kVllm;
  auto source2 = OpenLoop(o, FixedLengths(isl, osl));
  c.source = source2.get();
  auto mixed = Simulate(c);
  ASSERT_TRUE(mixed.has_value()) << mixed.error().message;
  EXPECT_LE(mixed->ttl.mean, 1.001 * r->ttl.mean);
}

// SGLang's --scheduler-recv-interval N: a prompt arriving while the engine
// decodes waits for the next poll, every N decode steps (or the step after a
// prefill). At light load, arrivals are independent of the poll phase, so
// the wait is uniform over the N-step cycle: mean N x Td / 2, against Td / 2
// (the step in flight) when polling every step. FTL grows by (N - 1) x Td / 2
// with Td the decode step, here ~ TTL (prefill takes 2-3% of the time).
TEST(SimulatorSteadyState, RecvIntervalAddsHalfTheSkippedDecodeSteps) {
  auto run = [](int interval) {
    SimConfig c = Base("llama-3.1-8b", "h100_sxm");
    c.backend = hardware::Backend::kSglang;
    c.deployment.colocated = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 64, 8192};
    c.deployment.colocated.recv_interval = interval;
    OpenLoopOptions o;
    o.rate = 1;  // x ~8 s of decoding: ~8 sequences decode at any time
    o.duration = 500;
    auto source = OpenLoop(o, FixedLengths(512, 1000));
    c.source = source.get();
    c.warmup = 50;
    auto r = Simulate(c);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return *r;
  };
  const int n = 16;
  SimResult every = run(1), polled = run(n);
  const double extra = polled.ftl.mean - every.ftl.mean;
  EXPECT_NEAR(extra / ((n - 1) * every.ttl.mean / 2), 1.0, 0.12)
      << "extra FTL " << extra << " s, TTL " << every.ttl.mean << " s";
  // Decoding is unchanged: polls cost nothing in the model.
  EXPECT_NEAR(polled.ttl.mean / every.ttl.mean, 1.0, 0.02);
}

TEST(SimulatorSteadyState, LightLoadFtlIsThePrefillTime) {
  SimConfig c = Base("llama-3.1-8b", "h100_sxm");
  const double isl = 3000, osl = 100;
  perf::Mapping pm{2, 1, 1, 1, 1}, dm{2, 1, 1, 1, 1};
  c.deployment.disaggregated = true;
  c.deployment.prefill = PoolSpec{pm, 1, 1, 0};
  c.deployment.decode = PoolSpec{dm, 1, 64, 0};
  OpenLoopOptions o;
  o.rate = 0.2;  // one request every 5 s: nobody waits
  o.max_requests = 200;
  auto source = OpenLoop(o, FixedLengths(isl, osl));
  c.source = source.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto ps = Step(c, pm);
  auto p = serving::EvaluatePrefill(ps, 1, {isl, osl});
  auto kv = serving::EvaluateKvTransfer(c.system, p.kv_bytes_per_request, p.requests_per_s_per_gpu,
                                        0, pm.gpus(), p.ftl, c.model.num_layers, true);
  double analytic = p.ftl + kv.exposed_s;
  EXPECT_NEAR(r->ftl.p50 / analytic, 1.0, 0.05);
  EXPECT_LT(r->queueing.mean, 0.05 * p.ftl);
}

// A closed loop whose clients all start at once stays in lockstep: every
// round the whole group's prompts are prefilled together. Started at random
// phases over one request latency, the same clients rarely collide, and a
// prompt waits for at most the step in flight.
TEST(SimulatorClosedLoop, SpreadStartsDesynchroniseTheClients) {
  SimConfig c = Base("llama-3.1-70b", "h200_sxm");
  const double isl = 1024, osl = 1024;
  const int clients = 16;
  perf::Mapping m{8, 1, 1, 1, 1};
  c.deployment.colocated = PoolSpec{m, 1, clients, 8192};
  auto lengths = FixedLengths(isl, osl);
  c.lengths = lengths.get();
  c.concurrency = clients;
  c.closed_requests = clients * 6;
  auto step = Step(c, m);
  // One prompt alone, and one decode step of the full batch at mid context.
  perf::BatchShape one;
  one.AddPrefill(1, isl, 0, true);
  const double prefill_one = step.RoundTime(one);
  perf::BatchShape all;
  all.AddPrefill(clients, isl, 0, true);
  const double prefill_all = step.RoundTime(all);
  perf::BatchShape decode;
  decode.AddDecode(clients, isl + osl / 2);
  const double decode_step = step.RoundTime(decode);
  const double overhead = c.system.calibration.request_overhead[static_cast<int>(c.backend)];

  auto lockstep = Simulate(c);
  ASSERT_TRUE(lockstep.has_value()) << lockstep.error().message;
  // Lockstep: after the first round the group arrives together and waits for
  // the prefill of all 16 prompts (16k tokens, two 8192-token steps), so
  // the mean is at least half of prefilling them all at once.
  EXPECT_GT(lockstep->ftl.mean, 0.5 * prefill_all);

  // Spread: a request latency is about OSL decode steps; 16 arrivals over it
  // load the prompt path at 16 x prefill_one / (OSL x step), a few percent,
  // so the mean is one prompt's prefill plus the wait for the step in
  // flight, plus the front end: below prefill_one + decode_step + overhead,
  // with a margin of 50% for the rare collision.
  c.client_spread = osl * decode_step;
  c.warmup = c.client_spread;
  c.closed_requests = clients * 7;
  auto spread = Simulate(c);
  ASSERT_TRUE(spread.has_value()) << spread.error().message;
  std::printf("prefill one %.4f all %.4f, decode step %.4f; FTL lockstep %.4f spread %.4f\n",
              prefill_one, prefill_all, decode_step, lockstep->ftl.mean, spread->ftl.mean);
  EXPECT_GT(spread->requests_completed, clients * 4);
  EXPECT_GT(spread->ftl.mean, prefill_one + overhead);
  EXPECT_LT(spread->ftl.mean, 1.5 * (prefill_one + decode_step + overhead));
  EXPECT_LT(spread->ftl.mean, 0.5 * lockstep->ftl.mean);
  // The decode batch, and so TPOT, is the same either way to a few percent.
  EXPECT_NEAR(spread->ttl.mean / lockstep->ttl.mean, 1.0, 0.1);
}

TEST(SimulatorQueueing, MD1MeanWaitingTime) {
  // One prefill instance serving one prompt at a time has a fixed service
  // time s; with Poisson arrivals at rho = 0.7 the mean wait is
  // rho s / (2 (1 - rho)) = 1.1667 s (Pollaczek-Khinchine).
  SimConfig c = Base("llama-3.1-8b", "h100_sxm");
  const double isl = 2048, osl = 2;
  perf::Mapping m{1, 1, 1, 1, 1};
  auto step = Step(c, m);
  const double service = serving::EvaluatePrefill(step, 1, {isl, osl}).timing.busy;
  const double rho = 0.7;
  c.deployment.disaggregated = true;
  c.deployment.prefill = PoolSpec{m, 1, 1, 0};
  c.deployment.decode = PoolSpec{perf::Mapping{8, 1, 1, 1, 1}, 1, 0, 0};
  OpenLoopOptions o;
  o.rate = rho / service;
  o.max_requests = 200000;
  o.seed = 11;
  auto source = OpenLoop(o, FixedLengths(isl, osl));
  c.source = source.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  double expected = rho * service / (2 * (1 - rho));
  std::printf("service %.4f s, mean wait %.4f s (M/D/1 %.4f s)\n", service, r->queueing.mean,
              expected);
  EXPECT_NEAR(r->queueing.mean / expected, 1.0, 0.04);
}

TEST(SimulatorConservation, EveryRequestFinishesOrIsReported) {
  SimConfig c = Base("llama-3.1-8b", "h100_sxm");
  c.deployment.colocated = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 2, 64, 2048};
  OpenLoopOptions o;
  o.rate = 40;
  o.max_requests = 3000;
  auto source = OpenLoop(o, UniformLengths(100, 3000, 1, 600));
  c.source = source.get();
  c.max_time = 40;  // stop while requests are still in flight
  std::ostringstream rows;
  c.requests_out = &rows;
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_GT(r->requests_unfinished, 0);
  EXPECT_EQ(r->requests_completed + r->requests_unfinished + r->requests_rejected,
            r->requests_arrived);
  // Output tokens equal the sum of the completed requests' OSLs (from the
  // per-request rows).
  std::istringstream in(rows.str());
  std::string line;
  std::getline(in, line);  // header
  double osl_sum = 0;
  int64_t finished = 0, rows_seen = 0;
  while (std::getline(in, line)) {
    ++rows_seen;
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) f.push_back(cell);
    if (line.back() == '1') {
      osl_sum += std::stod(f[3]);
      ++finished;
    }
  }
  EXPECT_EQ(rows_seen, r->requests_arrived);
  EXPECT_EQ(finished, r->requests_completed);
  EXPECT_DOUBLE_EQ(osl_sum, r->output_tokens);
}

TEST(SimulatorDeterminism, SameSeedSameBytes) {
  auto run = [](uint64_t seed) {
    SimConfig c = Base("mixtral-8x7b", "h100_sxm");
    c.deployment.disaggregated = true;
    c.deployment.prefill = PoolSpec{perf::Mapping{2, 1, 1, 1, 2}, 2, 2, 0};
    c.deployment.decode = PoolSpec{perf::Mapping{4, 1, 1, 1, 4}, 1, 96, 0};
    OpenLoopOptions o;
    o.rate = 6;
    o.max_requests = 1500;
    o.seed = seed;
    o.process = ArrivalProcess::kGamma;
    o.gamma_cv = 2;
    auto source = OpenLoop(o, UniformLengths(200, 4000, 10, 500));
    c.source = source.get();
    c.seed = seed;
    std::ostringstream rows, timeline;
    c.requests_out = &rows;
    c.timeline_out = &timeline;
    auto r = Simulate(c);
    EXPECT_TRUE(r.has_value());
    return rows.str() + timeline.str();
  };
  std::string a = run(5), b = run(5), other = run(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
}

TEST(SimulatorSpeed, FastForwardIsExact) {
  // Decode-only stretches run in one event; the per-request results must be
  // those of stepping one token at a time (to rounding).
  auto run = [](bool fast, bool adp) {
    SimConfig c = Base("gpt-oss-120b", "h100_sxm");  // sliding layers exercise the cap
    c.deployment.colocated = PoolSpec{perf::Mapping{2, 1, 1, 1, 2}, 3, 0, 2048};
    if (adp) {  // attention-DP balancing counts fast-forwarded iterations
      c.deployment.colocated.mapping = perf::Mapping{1, 1, 2, 1, 2};
      c.deployment.colocated.adp_balance = {.timeout_iters = 7, .batching_wait_iters = 2};
    }
    OpenLoopOptions o;
    o.rate = 3;
    o.max_requests = 800;
    auto source = OpenLoop(o, UniformLengths(50, 3000, 1, 800));
    c.source = source.get();
    c.fast_forward = fast;
    std::ostringstream rows;
    c.requests_out = &rows;
    auto r = Simulate(c);
    EXPECT_TRUE(r.has_value());
    return std::make_pair(*r, rows.str());
  };
  for (bool adp : {false, true}) {
    auto [slow, slow_rows] = run(false, adp);
    auto [fast, fast_rows] = run(true, adp);
    EXPECT_LT(fast.elapsed_wall_s, slow.elapsed_wall_s * 2 + 0.05);
    EXPECT_LT(fast.events, slow.events + 1);  // counted the same way
    EXPECT_EQ(fast.requests_completed, slow.requests_completed);
    EXPECT_NEAR(fast.ttl.mean, slow.ttl.mean, 1e-9 * slow.ttl.mean) << adp;
    EXPECT_NEAR(fast.ftl.mean, slow.ftl.mean, 1e-9 * slow.ftl.mean) << adp;
    EXPECT_NEAR(fast.e2e.p99, slow.e2e.p99, 1e-9 * slow.e2e.p99);
    EXPECT_NEAR(fast.tokens_per_s, slow.tokens_per_s, 1e-9 * slow.tokens_per_s);
    // Row by row, times agree to the microsecond (the rows print 6 decimals).
    EXPECT_EQ(fast_rows.size(), slow_rows.size());
    std::istringstream a(fast_rows), b(slow_rows);
    std::string la, lb;
    int differing = 0;
    while (std::getline(a, la) && std::getline(b, lb)) differing += la != lb;
    EXPECT_LE(differing, 2) << adp;  // a last-digit rounding flip at most
  }
}

TEST(SimulatorSpeed, FastForwardIsExactInClosedLoopAndDisaggregated) {
  auto run = [](bool fast, bool disagg) {
    SimConfig c = Base("llama-3.1-8b", "h100_sxm");
    if (disagg) {
      c.deployment.disaggregated = true;
      c.deployment.prefill = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 2, 2, 0};
      c.deployment.decode = PoolSpec{perf::Mapping{2, 1, 1, 1, 1}, 2, 64, 0};
    } else {
      c.deployment.colocated = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 0, 2048};
      // SGLang's polling: fast-forwarded runs must stop at each poll.
      c.backend = hardware::Backend::kSglang;
      c.deployment.colocated.recv_interval = 7;
    }
    auto lengths = UniformLengths(100, 2000, 2, 400);
    c.concurrency = 24;
    c.closed_requests = 400;
    c.lengths = lengths.get();
    c.fast_forward = fast;
    c.router = RouterPolicy::kLeastKv;
    std::ostringstream rows;
    c.requests_out = &rows;
    auto r = Simulate(c);
    EXPECT_TRUE(r.has_value());
    return std::make_pair(*r, rows.str());
  };
  for (bool disagg : {false, true}) {
    auto [slow, slow_rows] = run(false, disagg);
    auto [fast, fast_rows] = run(true, disagg);
    EXPECT_EQ(fast.requests_completed, slow.requests_completed);
    EXPECT_NEAR(fast.ttl.mean, slow.ttl.mean, 1e-9 * slow.ttl.mean) << disagg;
    EXPECT_NEAR(fast.ftl.mean, slow.ftl.mean, 1e-9 * slow.ftl.mean) << disagg;
    std::istringstream a(fast_rows), b(slow_rows);
    std::string la, lb;
    int differing = 0;
    while (std::getline(a, la) && std::getline(b, lb)) differing += la != lb;
    EXPECT_LE(differing, 2) << disagg;
  }
}

TEST(SimulatorErrors, DeploymentThatDoesNotFit) {
  SimConfig c = Base("llama-3.1-405b", "h100_sxm");
  c.deployment.colocated = PoolSpec{perf::Mapping{2, 1, 1, 1, 1}, 1, 0, 2048};
  auto lengths = FixedLengths(100, 10);
  c.concurrency = 1;
  c.closed_requests = 1;
  c.lengths = lengths.get();
  auto r = Simulate(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("does not fit"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("colocated pool"), std::string::npos) << r.error().message;
}

TEST(SimulatorKvCache, PreemptsWhenTheCacheRunsOut) {
  // A tiny cache (most of HBM reserved) forces preemptions under vLLM's
  // admission policy; every request still finishes.
  SimConfig c = Base("llama-3.1-8b", "h100_sxm");
  c.backend = hardware::Backend::kVllm;
  c.system.calibration.runtime_reserved = 55.0 * 1073741824.0;
  c.deployment.colocated = PoolSpec{perf::Mapping{1, 1, 1, 1, 1}, 1, 0, 4096};
  auto lengths = FixedLengths(2000, 2000);
  c.concurrency = 64;
  c.closed_requests = 300;
  c.lengths = lengths.get();
  auto r = Simulate(c);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_GT(r->preemptions, 0);
  EXPECT_EQ(r->requests_completed, 300);
  // TensorRT-LLM reserves each request's whole cache at admission: fewer run
  // at once, nothing is ever evicted, everything finishes.
  c.backend = hardware::Backend::kTrtllm;
  auto t = Simulate(c);
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(t->preemptions, 0);
  EXPECT_EQ(t->requests_completed, 300);
}

}  // namespace
}  // namespace disagg::sim
