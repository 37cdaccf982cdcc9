// The benchmark replay of PredictRows: an opening burst weighted as one of
// the requests each client sent, the rest from clients at independent phases.
#include "disagg/calib/validate.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "disagg/testing/silicon_csv.h"

namespace disagg::calib {
namespace {

using testing::kSiliconHeader;

// Llama-3.1-8B on one H100, 16 clients of 2048-token prompts and 256-token
// answers: the burst is 32k prompt tokens, four 8192-token steps.
std::vector<SiliconRow> OneRow() {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("validate_test_" + std::to_string(::getpid())))
          .string();
  std::ofstream(path) << kSiliconHeader
                      << "r,silicon_concurrency=16,trtllm,1.0,meta-llama/Llama-3.1-8B-Instruct,"
                         "h100_sxm,fp8,agg,2048,256,fp8,,16,1,1,1,1,1,,,,,,,,,,,,,,,100,10\n";
  auto data = ReadSilicon(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(data.has_value()) << data.error().message;
  return data ? data->rows : std::vector<SiliconRow>{};
}

TEST(PredictRows, BurstWeighsAsOneRequestPerClient) {
  auto rows = OneRow();
  ASSERT_EQ(rows.size(), 1u);
  auto predict = [&](int requests) {
    PredictOptions o;
    o.benchmark_requests = requests;
    o.parallel = false;
    auto p = PredictRows(rows, o);
    EXPECT_TRUE(p[0].ok) << p[0].reason;
    return p[0];
  };
  const RowPrediction one = predict(1), two = predict(2), eight = predict(8);
  // With B the burst mean and S the settled mean, R requests per client give
  // B / R + (1 - 1/R) S: R = 1 is B, R = 2 gives S = 2 T2 - T1, so
  // T8 = (T1 + 7 S) / 8 = (14 T2 - 6 T1) / 8 (the settled replay does not
  // depend on R).
  EXPECT_NEAR(eight.ttft, (14 * two.ttft - 6 * one.ttft) / 8, 1e-9 * one.ttft);
  EXPECT_NEAR(eight.tpot, (14 * two.tpot - 6 * one.tpot) / 8, 1e-9 * one.tpot);
  // All 16 prompts at once queue behind four full prompt steps; clients at
  // independent phases rarely meet, so more requests per client lower TTFT.
  EXPECT_LT(two.ttft, one.ttft);
  EXPECT_LT(eight.ttft, two.ttft);
  // The burst weighs 1/8 of the mean, and every mean is positive.
  EXPECT_GT(eight.ttft, one.ttft / 8);
  // The decode batch is 16 either way: TPOT moves little.
  EXPECT_NEAR(eight.tpot / one.tpot, 1.0, 0.15);
}

TEST(PredictRows, TheRowsStepBudgetReachesTheReplay) {
  auto rows = OneRow();
  ASSERT_EQ(rows.size(), 1u);
  auto burst = [&](int64_t chunk) {
    rows[0].chunk = chunk;
    PredictOptions o;
    o.benchmark_requests = 1;  // the opening burst alone
    o.parallel = false;
    auto p = PredictRows(rows, o);
    EXPECT_TRUE(p[0].ok) << p[0].reason;
    return p[0].ttft;
  };
  // 16 prompts of 2048 tokens arrive at once. With 8192 tokens per step (the
  // default, chunk 0) they finish after 1, 2, 3 and 4 steps of at least T8
  // each (later steps also carry decodes): a mean of at least 2.5 T8. A
  // budget of 32768 takes them all in one step, no longer than 4 T8 (one step
  // overhead instead of four, GEMMs no less efficient on more tokens, each
  // prompt's attention its own), and every client waits for all of it. So
  // the ratio is at most 4 / 2.5 = 1.6, and above 1 unless a 32k-token step
  // ran 1.6 times as efficiently as four 8k-token ones.
  const double by_default = burst(0), whole = burst(32768);
  EXPECT_DOUBLE_EQ(burst(8192), by_default);
  EXPECT_GT(whole, 1.1 * by_default);
  EXPECT_LE(whole, 1.6 * by_default);
}

TEST(PredictRows, AnEngineTakingPromptsWholeKeepsAFixedLengthCohortTogether) {
  auto rows = OneRow();
  ASSERT_EQ(rows.size(), 1u);
  auto predict = [&](int prefill_first, double length_ratio, int requests,
                     bool whole_prompts = false) {
    rows[0].prefill_first = prefill_first;
    rows[0].length_ratio = length_ratio;
    rows[0].whole_prompts = whole_prompts;
    PredictOptions o;
    o.benchmark_requests = requests;
    o.parallel = false;
    auto p = PredictRows(rows, o);
    EXPECT_TRUE(p[0].ok) << p[0].reason;
    return p[0].ttft;
  };
  // Prefill first, fixed lengths: the 16 prompts of the opening burst are all
  // prefilled before any decodes, so all 16 finish in the same step, and
  // their clients' next prompts arrive together again. Every round repeats
  // the burst, so the mean over 8 rounds is the burst's own.
  const double burst = predict(1, 1.0, 1);
  EXPECT_NEAR(predict(1, 1.0, 8), burst, 0.02 * burst);
  // Mixed chunks (the earliest-prefilled prompts decode while later ones
  // prefill) or lengths drawn in [0.8 L, L] spread the cohort: those runs
  // settle with clients at independent phases, which rarely meet, and the
  // mean falls well below the burst (as in BurstWeighsAsOneRequestPerClient).
  EXPECT_LT(predict(0, 1.0, 8), 0.7 * burst);
  EXPECT_LT(predict(1, 0.8, 8), 0.7 * burst);
  // Without chunked prefill (TensorRT-LLM's enable_chunked_prefill false)
  // the mixed engine's cohort is replayed as a cohort too: its 16 members
  // are prefilled within a few steps and finish within as many decode steps,
  // far closer together than one prefill, so every round's prompts queue as
  // the burst's did. Its burst is the mixed engine's (prefill_first 0), and
  // the 8-round mean stays within 10% of it; drawn lengths still settle.
  const double mixed_burst = predict(0, 1.0, 1, true);
  EXPECT_NEAR(predict(0, 1.0, 8, true), mixed_burst, 0.1 * mixed_burst);
  EXPECT_LT(predict(0, 0.8, 8, true), 0.7 * mixed_burst);
}

TEST(GroupValue, ConcurrencyBandsQuadruple) {
  // Bands [1, 4], [5, 16], [17, 64], [65, 256], [257, 1024], then open: each
  // upper bound four times the last (4 x 4 = 16, 16 x 4 = 64, ...).
  SiliconRow r;
  auto band = [&](long long c) {
    r.concurrency = c;
    return GroupValue(r, "concurrency");
  };
  EXPECT_EQ(band(1), "c1-4");
  EXPECT_EQ(band(4), "c1-4");
  EXPECT_EQ(band(5), "c5-16");
  EXPECT_EQ(band(16), "c5-16");
  EXPECT_EQ(band(17), "c17-64");
  EXPECT_EQ(band(64), "c17-64");
  EXPECT_EQ(band(65), "c65-256");
  EXPECT_EQ(band(256), "c65-256");
  EXPECT_EQ(band(257), "c257-1024");
  EXPECT_EQ(band(1024), "c257-1024");
  EXPECT_EQ(band(1025), "c1025+");
  EXPECT_EQ(band(12000), "c1025+");
  // Reports list bands by their lower bound: 5 before 17, though "c17-64"
  // sorts before "c5-16" as text.
  auto order = [&](long long c) {
    r.concurrency = c;
    return GroupOrder(r, "concurrency");
  };
  EXPECT_LT(order(4), order(5));
  EXPECT_LT(order(16), order(17));
  EXPECT_LT(order(1024), order(1025));
  EXPECT_EQ(order(5), order(16));
  // Other keys order by their value.
  r.system = "h100_sxm";
  EXPECT_EQ(GroupOrder(r, "system"), "h100_sxm");
}

TEST(GroupValue, LoadBandsDoubleInOutputTokensPerSecond) {
  // The rate is clients / measured TPOT: 16 clients at 20 ms stream 800
  // tokens/s, at 10 ms 1,600, at 2 ms 8,000 (the top of "4k-8k"), at 1.9 ms
  // 8,421 ("8k-16k"); 1,024 clients at 10 ms 102,400 (open band).
  SiliconRow r;
  r.osl = 1024;
  auto band = [&](long long c, double tpot) {
    r.concurrency = c;
    r.tpot = tpot;
    return GroupValue(r, "load");
  };
  EXPECT_EQ(band(16, 0.020), "<=1k tok/s");
  EXPECT_EQ(band(10, 0.010), "<=1k tok/s");  // exactly 1,000
  EXPECT_EQ(band(16, 0.010), "1k-2k tok/s");
  EXPECT_EQ(band(16, 0.002), "4k-8k tok/s");
  EXPECT_EQ(band(16, 0.0019), "8k-16k tok/s");
  EXPECT_EQ(band(1024, 0.010), ">64k tok/s");
  // Single-token outputs measure no TPOT.
  r.osl = 1;
  EXPECT_EQ(band(16, 0.010), "no TPOT");
  // Reports list bands from the lightest: 1k-2k before 8k-16k, though the
  // text sorts the other way.
  r.osl = 1024;
  auto order = [&](long long c, double tpot) {
    r.concurrency = c;
    r.tpot = tpot;
    return GroupOrder(r, "load");
  };
  EXPECT_LT(order(16, 0.020), order(16, 0.010));
  EXPECT_LT(order(16, 0.010), order(16, 0.0019));
  EXPECT_LT(order(16, 0.0019), order(1024, 0.010));
}

// Rows that describe one deployment alike but measure differently bound what
// any model of these inputs can reach.
TEST(FloorOf, BestSingleValuePerDescription) {
  SiliconRow base;
  base.model = "llama-3.1-8b";
  base.system = "h100_sxm";
  base.backend_name = "vllm";
  base.isl = 1024;
  base.osl = 128;
  base.concurrency = 16;
  base.tpot = 0.01;
  // Three runs of one deployment (TTFT 1, 1 and 2 s), one of another (more
  // clients), and one of the first with a single output token.
  std::vector<SiliconRow> rows(5, base);
  rows[0].ttft = 1.0;
  rows[1].ttft = 1.0;
  rows[2].ttft = 2.0;
  rows[3].concurrency = 32;
  rows[3].ttft = 5.0;
  rows[4].ttft = 4.0;
  rows[4].osl = 1;
  for (size_t i = 0; i < rows.size(); ++i) rows[i].line = static_cast<long long>(i) + 2;
  // The id and line are not part of the description; clients and lengths are.
  EXPECT_EQ(DescriptionKey(rows[0]), DescriptionKey(rows[1]));
  EXPECT_NE(DescriptionKey(rows[0]), DescriptionKey(rows[3]));
  EXPECT_NE(DescriptionKey(rows[0]), DescriptionKey(rows[4]));
  rows[4].osl = 128;
  rows[4].tpot = 0.02;
  // Now row 4 joins rows 0-2: TTFT {1, 1, 2, 4}, TPOT {0.01 x 3, 0.02}.
  std::vector<RowPrediction> preds(rows.size());
  std::vector<const RowPrediction*> ptrs;
  for (size_t i = 0; i < rows.size(); ++i) {
    preds[i].row = &rows[i];
    preds[i].ok = true;
    ptrs.push_back(&preds[i]);
  }
  MeasurementFloor f = FloorOf(ptrs);
  EXPECT_EQ(f.rows, 5);
  EXPECT_EQ(f.repeated_rows, 4);
  EXPECT_EQ(f.disagreeing, 4);
  // TTFT {1, 1, 2, 4}: c = 1 gives 0 + 0 + 0.5 + 0.75 = 1.25; c = 2 gives
  // 1 + 1 + 0 + 0.5 = 2.5; c = 4 gives 3 + 3 + 1 + 0 = 7. Best 1.25, over 5
  // rows (the singleton scores 0): 0.25.
  EXPECT_NEAR(f.ttft_mape, 1.25 / 5, 1e-12);
  // TPOT {0.01, 0.01, 0.01, 0.02}: c = 0.01 gives 0.5, c = 0.02 gives 3.
  EXPECT_NEAR(f.tpot_mape, 0.5 / 5, 1e-12);
  // A prediction that failed is not counted; single-token rows count for TTFT only.
  preds[3].ok = false;
  rows[2].osl = 1;
  rows[2].ttft = 1.0;
  f = FloorOf(ptrs);
  EXPECT_EQ(f.rows, 4);
  // Rows 0, 1, 4 keep osl 128 (TTFT {1, 1, 4}: best c = 1 gives 0.75);
  // row 2, single-token, has a description of its own.
  EXPECT_EQ(f.repeated_rows, 3);
  EXPECT_NEAR(f.ttft_mape, 0.75 / 4, 1e-12);
  // TPOT over the 3 rows with more than one output token: {0.01, 0.01, 0.02}
  // at c = 0.01 gives 0.5.
  EXPECT_NEAR(f.tpot_mape, 0.5 / 3, 1e-12);
}

}  // namespace
}  // namespace disagg::calib
