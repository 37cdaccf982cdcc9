// Pareto frontier of points that maximise two objectives.
//
// Contract: pure, deterministic (ties broken by the input order), O(n log n).
// A point is kept when no other point is at least as good on both objectives
// and strictly better on one. The result is ordered by ascending x, so a
// frontier reads left to right.
#ifndef DISAGG_SEARCH_PARETO_H_
#define DISAGG_SEARCH_PARETO_H_

#include <algorithm>
#include <numeric>
#include <vector>

namespace disagg::search {

// Indices of the non-dominated points, maximising x(i) and y(i), ordered by
// ascending x (and so descending y).
template <typename X, typename Y>
std::vector<size_t> ParetoFront(size_t n, X x, Y y) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Descending x; among equal x, descending y; then input order.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (x(a) != x(b)) return x(a) > x(b);
    return y(a) > y(b);
  });
  std::vector<size_t> front;
  bool any = false;
  double best_y = 0;
  for (size_t i : order) {
    if (!any || y(i) > best_y) {
      front.push_back(i);
      best_y = y(i);
      any = true;
    }
  }
  std::reverse(front.begin(), front.end());
  return front;
}

}  // namespace disagg::search

#endif  // DISAGG_SEARCH_PARETO_H_
