// The accuracy record: its groups, what a lookup cites, and strict parsing.
#include "disagg/calib/accuracy.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "disagg/testing/scoped_env.h"

namespace disagg::calib {
namespace {

// Owns the rows the predictions point at.
struct Fixture {
  std::deque<SiliconRow> rows;
  std::vector<RowPrediction> preds;

  // A headline row of `system`/`backend`, disaggregated or not, predicted
  // with signed errors `ttft_err` and `tpot_err` (measured TTFT 1 s, TPOT
  // 10 ms, 128 output tokens).
  void Add(const std::string& system, const std::string& backend, bool disagg, double ttft_err,
           double tpot_err, int copies = 1, const std::string& model = "llama-3.1-8b") {
    for (int i = 0; i < copies; ++i) {
      SiliconRow& r = rows.emplace_back();
      r.model = model;
      r.system = system;
      r.backend_name = backend;
      r.disaggregated = disagg;
      r.fully_described = true;
      r.osl = 128;
      r.ttft = 1.0;
      r.tpot = 0.010;
      RowPrediction p;
      p.row = &r;
      p.ok = true;
      p.ttft = 1.0 * (1 + ttft_err);
      p.tpot = 0.010 * (1 + tpot_err);
      preds.push_back(p);
    }
  }
};

AccuracyRecord Record(const Fixture& f, std::map<std::string, ErrorSummary> loo = {}) {
  return MakeAccuracyRecord("silicon.csv", "replay", "fit", 5, f.preds, loo);
}

TEST(AccuracyRecord, GroupsEverySystemBackendAndModeWithWildcards) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, +0.10, -0.02);
  f.Add("h200_sxm", "trtllm", false, -0.30, +0.04);
  f.Add("h200_sxm", "vllm", true, +0.50, +0.00);
  SiliconRow odd;  // speculative decoding no column records: not a headline row
  odd.system = "h200_sxm";
  odd.backend_name = "trtllm";
  odd.speculation.depth = 1;
  odd.ttft = 1;
  f.preds.push_back(RowPrediction{&odd, true, "", 5.0, 1.0});
  auto rec = Record(f);
  // h200 / trtllm / agg: |+0.10| and |-0.30| -> MAPE 0.20; TPOT (0.02 + 0.04)
  // / 2 = 0.03; the median of two is their mean, 0.20 and 0.03; the signed
  // median (0.10 - 0.30) / 2 = -0.10.
  const auto& g = rec.groups.at({"h200_sxm", "trtllm", "agg"});
  EXPECT_EQ(g.rows, 2);
  EXPECT_NEAR(g.ttft_mape, 0.20, 1e-12);
  EXPECT_NEAR(g.tpot_mape, 0.03, 1e-12);
  EXPECT_NEAR(g.ttft_bias, -0.10, 1e-12);
  // h200 / every backend / every mode: (0.10 + 0.30 + 0.50) / 3 = 0.30, the
  // speculative row left out.
  const auto& all = rec.groups.at({"h200_sxm", "*", "*"});
  EXPECT_EQ(all.rows, 3);
  EXPECT_NEAR(all.ttft_mape, 0.30, 1e-12);
  EXPECT_EQ(rec.groups.at({"*", "*", "disagg"}).rows, 1);
  EXPECT_EQ(rec.groups.at({"*", "vllm", "*"}).rows, 1);
  // Each row's groups: its system or "*", its backend or "*", its mode or
  // "*", its model or "*", 16. The two kinds of row (one model) share the 4
  // with backend and mode both "*": 16 + 16 - 4 = 28.
  EXPECT_EQ(rec.groups.size(), 28u);
  EXPECT_EQ(rec.groups.at({"*", "*", "agg", "llama-3.1-8b"}).rows, 2);
  EXPECT_FALSE(rec.groups.contains(AccuracyKey{"h200_sxm", "trtllm", "disagg"}));
}

TEST(AccuracyLookup, CitesTheNarrowestGroupWithEnoughRows) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, 0.2, 0.1, kMinAccuracyRows);
  f.Add("h200_sxm", "vllm", false, 0.4, 0.1, kMinAccuracyRows - 1);
  f.Add("h200_sxm", "trtllm", true, 0.3, 0.05, 3);
  f.Add("b200_sxm", "sglang", true, 0.5, 0.05, kMinAccuracyRows);
  f.Add("h100_sxm", "sglang", false, 0.6, 0.1, kMinAccuracyRows);
  auto rec = Record(f);

  auto exact = Lookup(&rec, "h200_sxm", "trtllm", "agg");
  EXPECT_EQ(exact.evidence, Evidence::kGroup);
  EXPECT_NEAR(exact.errors.ttft_mape, 0.2, 1e-12);
  EXPECT_NE(exact.text.find("TTFT 20%"), std::string::npos) << exact.text;

  // vLLM has 19 co-located rows: cite every backend's co-located rows,
  // (20 x 0.2 + 19 x 0.4) / 39 = 11.6 / 39.
  auto few = Lookup(&rec, "h200_sxm", "vllm", "agg");
  EXPECT_EQ(few.evidence, Evidence::kCoarser);
  EXPECT_EQ(few.key, (AccuracyKey{"h200_sxm", "*", "agg"}));
  EXPECT_NEAR(few.errors.ttft_mape, 11.6 / 39, 1e-12);

  // Three disaggregated rows on h200 under trtllm, and no other
  // disaggregated trtllm rows: another mode's figures never stand in, so the
  // disaggregated rows of every system, (3 x 0.3 + 20 x 0.5) / 23.
  auto disagg = Lookup(&rec, "h200_sxm", "trtllm", "disagg");
  EXPECT_EQ(disagg.evidence, Evidence::kOtherSystems);
  EXPECT_EQ(disagg.key, (AccuracyKey{"*", "*", "disagg"}));
  EXPECT_NEAR(disagg.errors.ttft_mape, (3 * 0.3 + 20 * 0.5) / 23, 1e-12);

  // b200 never ran co-located: its co-located answers get the co-located
  // rows of other systems, not b200's disaggregated ones; its backend's
  // where there are enough (sglang on h100: 0.6), else every backend's
  // (vllm's 19 fall short: (20 x 0.2 + 19 x 0.4 + 20 x 0.6) / 59).
  auto same_backend = Lookup(&rec, "b200_sxm", "sglang", "agg");
  EXPECT_EQ(same_backend.evidence, Evidence::kOtherSystems);
  EXPECT_EQ(same_backend.key, (AccuracyKey{"*", "sglang", "agg"}));
  EXPECT_NEAR(same_backend.errors.ttft_mape, 0.6, 1e-12);
  auto every_backend = Lookup(&rec, "b200_sxm", "vllm", "agg");
  EXPECT_EQ(every_backend.key, (AccuracyKey{"*", "*", "agg"}));
  EXPECT_NEAR(every_backend.errors.ttft_mape, (20 * 0.2 + 19 * 0.4 + 20 * 0.6) / 59, 1e-12);
}

TEST(AccuracyLookup, AModelCitesItsOwnRowsInItsMode) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, 0.2, 0.1, kMinAccuracyRows, "llama-3.1-70b");
  f.Add("b200_sxm", "trtllm", false, 0.6, 0.1, 15, "deepseek-r1");
  f.Add("h200_sxm", "sglang", false, 0.4, 0.1, 10, "deepseek-r1");
  f.Add("h200_sxm", "trtllm", true, 0.3, 0.1, 5, "deepseek-r1");
  auto rec = Record(f);
  auto own = LookupModel(&rec, "llama-3.1-70b", "h200_sxm", "trtllm", "agg");
  EXPECT_EQ(own.evidence, Evidence::kGroup);
  EXPECT_NEAR(own.errors.ttft_mape, 0.2, 1e-12);
  EXPECT_NE(own.text.find("llama-3.1-70b on h200_sxm"), std::string::npos) << own.text;
  // DeepSeek-R1 co-located: 15 rows on b200, 10 on h200; neither system
  // alone has 20, every system has 25: (15 x 0.6 + 10 x 0.4) / 25 = 0.52.
  auto r1 = LookupModel(&rec, "deepseek-r1", "h200_sxm", "trtllm", "agg");
  EXPECT_EQ(r1.evidence, Evidence::kOtherSystems);
  EXPECT_EQ(r1.key, (AccuracyKey{"*", "*", "agg", "deepseek-r1"}));
  EXPECT_NEAR(r1.errors.ttft_mape, 0.52, 1e-12);
  // Disaggregated: 5 rows, too few; the co-located ones do not stand in.
  auto few = LookupModel(&rec, "deepseek-r1", "h200_sxm", "trtllm", "disagg");
  EXPECT_EQ(few.evidence, Evidence::kNone);
  EXPECT_NE(few.text.find("only 5 fully described disaggregated rows of deepseek-r1"),
            std::string::npos)
      << few.text;
  auto never = LookupModel(&rec, "llama-3.1-405b", "h200_sxm", "trtllm", "agg");
  EXPECT_EQ(never.evidence, Evidence::kNone);
  EXPECT_NE(never.text.find("no fully described co-located rows of llama-3.1-405b"),
            std::string::npos)
      << never.text;
}

TEST(AccuracyLookup, AnUnmeasuredGpuGetsTheLeaveOneGpuOutRange) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, 0.2, 0.1, kMinAccuracyRows);
  ErrorSummary a, b;
  a.rows = 100;
  a.ttft_mape = 0.31;
  a.tpot_mape = 0.18;
  b.rows = 50;
  b.ttft_mape = 0.52;
  b.tpot_mape = 0.16;
  auto rec = Record(f, {{"b200_sxm", a}, {"gb200", b}});
  auto c = Lookup(&rec, "mi300x", "vllm", "agg");
  EXPECT_EQ(c.evidence, Evidence::kSpecSheet);
  EXPECT_NEAR(c.errors.ttft_mape, 0.52, 1e-12);
  EXPECT_NEAR(c.best.ttft_mape, 0.31, 1e-12);
  // TPOT's range is its own: 16% (gb200) to 18% (b200).
  EXPECT_NE(c.text.find("TTFT 31% (b200_sxm) to 52% (gb200), TPOT 16% to 18%"), std::string::npos)
      << c.text;
  // Without leave-one-GPU-out figures there is nothing to cite.
  auto bare = Record(f);
  EXPECT_EQ(Lookup(&bare, "mi300x", "vllm", "agg").evidence, Evidence::kNone);
  EXPECT_EQ(Lookup(nullptr, "h200_sxm", "trtllm", "agg").evidence, Evidence::kNone);
}

TEST(AccuracyRecord, RoundTripsThroughJson) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, 0.2, 0.1, 3);
  ErrorSummary a;
  a.rows = 7;
  a.ttft_mape = 0.4;
  auto rec = Record(f, {{"b200_sxm", a}});
  auto back = ParseAccuracy(AccuracyToJson(rec), "accuracy.json");
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->folds, 5);
  EXPECT_EQ(back->groups.size(), rec.groups.size());
  EXPECT_NEAR(back->groups.at({"h200_sxm", "trtllm", "agg"}).tpot_mape, 0.1, 1e-12);
  EXPECT_NEAR(back->leave_one_out.at("b200_sxm").ttft_mape, 0.4, 1e-12);
}

// Each kind of bad record is refused with the file and the key path.
TEST(AccuracyRecord, BadRecordsNameFileKeyAndValue) {
  Fixture f;
  f.Add("h200_sxm", "trtllm", false, 0.2, 0.1);
  const Json good = AccuracyToJson(Record(f));
  auto error = [](const Json& j) {
    auto r = ParseAccuracy(j, "acc.json");
    return r ? std::string("accepted") : r.error().message;
  };
  Json unknown = good;
  unknown["colour"] = "red";
  EXPECT_NE(error(unknown).find("colour"), std::string::npos) << error(unknown);
  Json bad_mode = good;
  bad_mode["groups"][0]["mode"] = "mixed";
  EXPECT_NE(error(bad_mode).find("mixed"), std::string::npos) << error(bad_mode);
  EXPECT_NE(error(bad_mode).find("acc.json"), std::string::npos);
  Json negative = good;
  negative["groups"][0]["ttft_mape"] = -0.1;
  EXPECT_NE(error(negative).find("ttft_mape"), std::string::npos) << error(negative);
  Json missing = good;
  missing.erase("groups");
  EXPECT_NE(error(missing).find("groups"), std::string::npos) << error(missing);
  Json twice = good;
  twice["groups"].push_back(twice["groups"][0]);
  EXPECT_NE(error(twice).find("twice"), std::string::npos) << error(twice);
  Json one_fold = good;
  one_fold["folds"] = 1;
  EXPECT_NE(error(one_fold).find("folds"), std::string::npos) << error(one_fold);
}

TEST(AccuracyRecord, ACatalogWithoutARecordHasNone) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("accuracy_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "validation");
  {
    testing::ScopedEnv catalog("DISAGG_DATA_DIR", dir.string());
    auto none = LoadCatalogAccuracy();
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value());
    std::ofstream(dir / "validation" / "accuracy.json") << "{\"csv\": ";  // truncated
    auto broken = LoadCatalogAccuracy();
    ASSERT_FALSE(broken.has_value());
    EXPECT_NE(broken.error().message.find("accuracy.json"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

// The record the catalog ships: complete, and within the targets it is the
// evidence for (TPOT <= 15%; TTFT is reported, not met: docs/validation.md).
TEST(AccuracyRecord, TheCatalogsRecordCoversEveryMeasuredGpu) {
  auto loaded = LoadCatalogAccuracy();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value()) << CatalogAccuracyPath() << " is missing";
  const AccuracyRecord& rec = **loaded;
  for (const char* gpu : {"b200_sxm", "gb200", "h100_sxm", "h200_sxm"}) {
    EXPECT_TRUE(rec.leave_one_out.contains(gpu)) << gpu;
    EXPECT_TRUE(rec.groups.contains(AccuracyKey{gpu, "*", "*"})) << gpu;
  }
  const ErrorSummary& all = rec.groups.at({"*", "*", "*"});
  EXPECT_GT(all.rows, 2000);
  EXPECT_LE(all.tpot_mape, 0.15);
  // A well-measured deployment cites its own group.
  EXPECT_EQ(Lookup(&rec, "h100_sxm", "trtllm", "agg").evidence, Evidence::kGroup);
}

}  // namespace
}  // namespace disagg::calib
