#include "disagg/parallel/mapping_check.h"

#include <gtest/gtest.h>

#include "disagg/testing/fixtures.h"

namespace disagg::parallel {
namespace {

using testing::CatalogModel;
using testing::CatalogSystem;

TEST(CheckMapping, ExpertParallelismThatDoesNotDivideTheExpertsIsAReplicaLayout) {
  // DeepSeek-R1's 256 experts on 48 and 72 expert ranks (SGLang's and
  // TensorRT-LLM's wide-EP deployments on GB200 NVL72 with redundant experts):
  // legal, each rank holding ceil(256 / ep) slots (perf::ExpertSlotsPerRank).
  auto m = CatalogModel("deepseek-r1");
  auto sys = CatalogSystem("gb200");
  EXPECT_TRUE(CheckMapping(m, sys, perf::Mapping{1, 1, 48, 1, 48}).ok());
  EXPECT_TRUE(CheckMapping(m, sys, perf::Mapping{1, 1, 72, 1, 72}).ok());
  EXPECT_TRUE(CheckMapping(m, sys, perf::Mapping{4, 1, 12, 1, 48}).ok());
}

TEST(CheckMapping, MoreExpertRanksThanExpertsIsRejected) {
  // Mixtral-8x7B has 8 experts: 16 expert ranks would leave ranks with no
  // expert of their own, only copies.
  auto m = CatalogModel("mixtral-8x7b");
  auto sys = CatalogSystem("gb200");
  Feasibility f = CheckMapping(m, sys, perf::Mapping{1, 1, 16, 1, 16});
  EXPECT_EQ(f.reason, Infeasible::kExpertsNotDivisible);
  EXPECT_NE(f.detail.find("ep 16 exceeds the 8 experts"), std::string::npos) << f.detail;
  EXPECT_TRUE(CheckMapping(m, sys, perf::Mapping{1, 1, 8, 1, 8}).ok());
}

TEST(CheckMapping, ExpertWidthMustDivideByMoeTp) {
  // 2048-wide experts of DeepSeek-R1 sliced 3 ways do not split evenly.
  auto m = CatalogModel("deepseek-r1");
  auto sys = CatalogSystem("gb200");
  Feasibility f = CheckMapping(m, sys, perf::Mapping{1, 1, 24, 3, 8});
  EXPECT_EQ(f.reason, Infeasible::kExpertsNotDivisible);
  EXPECT_NE(f.detail.find("expert width 2048"), std::string::npos) << f.detail;
}

}  // namespace
}  // namespace disagg::parallel
