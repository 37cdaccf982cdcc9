// A small SVG line-chart writer for frontier and timeline figures.
//
// Contract: pure string building, deterministic (fixed number formatting), no
// external fonts or scripts, so the file renders the same in any browser or
// converter. Axes are linear or log10; ticks at 1-2-5 steps (linear) or
// decades with 2 and 5 minors (log). Series with fewer than one point are
// skipped; non-finite or non-positive (on log axes) values are dropped.
#ifndef DISAGG_REPORT_SVG_PLOT_H_
#define DISAGG_REPORT_SVG_PLOT_H_

#include <string>
#include <utility>
#include <vector>

namespace disagg::report {

struct Series {
  std::string label;
  std::string color;  // CSS colour, e.g. "#1f77b4"
  std::vector<std::pair<double, double>> points;
  bool step = false;    // staircase: y of point i+1 holds just right of x_i (best y at >= x)
  bool markers = true;  // a dot per point
  bool dashed = false;
  int y_axis = 0;  // 0: left axis, 1: right axis
};

struct Chart {
  std::string title;
  std::string subtitle;
  std::string x_label;
  std::string y_label;
  std::string y2_label;  // right axis, when any series uses it
  bool log_x = false;
  bool log_y = false;
  int width = 900;
  int height = 560;
  std::vector<Series> series;
  // Optional annotations: vertical lines at x with a label.
  std::vector<std::pair<double, std::string>> x_marks;
};

std::string RenderSvg(const Chart& chart);

}  // namespace disagg::report

#endif  // DISAGG_REPORT_SVG_PLOT_H_
