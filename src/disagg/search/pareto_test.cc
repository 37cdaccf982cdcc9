#include "disagg/search/pareto.h"

#include <gtest/gtest.h>

#include <random>

namespace disagg::search {
namespace {

struct P {
  double x, y;
};

std::vector<size_t> Front(const std::vector<P>& pts) {
  return ParetoFront(
      pts.size(), [&](size_t i) { return pts[i].x; }, [&](size_t i) { return pts[i].y; });
}

bool Dominates(const P& a, const P& b) {
  return a.x >= b.x && a.y >= b.y && (a.x > b.x || a.y > b.y);
}

TEST(Pareto, HandExample) {
  // (1,5) (2,4) (3,1) are the front; (2,3) is dominated by (2,4); (1,1) by all.
  std::vector<P> pts = {{2, 3}, {1, 5}, {3, 1}, {2, 4}, {1, 1}};
  auto f = Front(pts);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], 1u);
  EXPECT_EQ(f[1], 3u);
  EXPECT_EQ(f[2], 2u);
}

TEST(Pareto, PropertiesOnRandomClouds) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0, 100);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<P> pts(1 + trial % 60);
    for (auto& p : pts) p = {std::round(u(rng)), std::round(u(rng))};  // ties happen
    auto f = Front(pts);
    // No front point dominates another.
    for (size_t a : f) {
      for (size_t b : f) EXPECT_FALSE(Dominates(pts[a], pts[b]));
    }
    // Every point is on the front or dominated by (or equal to) a front point.
    for (size_t i = 0; i < pts.size(); ++i) {
      bool covered = false;
      for (size_t a : f) {
        covered |= Dominates(pts[a], pts[i]) || (pts[a].x == pts[i].x && pts[a].y == pts[i].y);
      }
      EXPECT_TRUE(covered);
    }
    // Ascending x along the front.
    for (size_t k = 1; k < f.size(); ++k) EXPECT_LT(pts[f[k - 1]].x, pts[f[k]].x);
    // Adding a point never removes a front point it does not dominate.
    P extra{std::round(u(rng)), std::round(u(rng))};
    auto more = pts;
    more.push_back(extra);
    auto g = Front(more);
    for (size_t a : f) {
      if (Dominates(extra, pts[a]) || (extra.x == pts[a].x && extra.y == pts[a].y)) continue;
      bool kept = false;
      for (size_t b : g) kept |= more[b].x == pts[a].x && more[b].y == pts[a].y;
      EXPECT_TRUE(kept);
    }
  }
}

}  // namespace
}  // namespace disagg::search
