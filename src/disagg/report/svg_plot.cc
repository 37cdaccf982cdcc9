#include "disagg/report/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace disagg::report {
namespace {

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double Map(double v, double p0, double p1) const {
    double a = log ? std::log10(v) : v, l = log ? std::log10(lo) : lo,
           h = log ? std::log10(hi) : hi;
    if (h == l) return (p0 + p1) / 2;
    return p0 + (a - l) / (h - l) * (p1 - p0);
  }
};

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TickLabel(double v) {
  double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  if (a >= 1) return fmt::format("{:g}", std::round(v * 1000) / 1000);
  return fmt::format("{:.2g}", v);
}

// Linear axis: extends [lo, hi] to 1-2-5 steps; returns the ticks.
std::vector<double> LinearTicks(Axis& ax) {
  double span = ax.hi - ax.lo;
  if (span <= 0) span = std::fabs(ax.hi) > 0 ? std::fabs(ax.hi) : 1;
  double raw = span / 6;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  }
  ax.lo = std::floor(ax.lo / step) * step;
  ax.hi = std::ceil(ax.hi / step) * step;
  if (ax.hi == ax.lo) ax.hi = ax.lo + step;
  std::vector<double> ticks;
  for (double t = ax.lo; t <= ax.hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

std::vector<double> LogTicks(Axis& ax, std::vector<double>& minor) {
  ax.lo = std::pow(10, std::floor(std::log10(ax.lo)));
  ax.hi = std::pow(10, std::ceil(std::log10(ax.hi)));
  std::vector<double> ticks;
  for (double d = ax.lo; d <= ax.hi * 1.0001; d *= 10) {
    ticks.push_back(d);
    for (double m : {2.0, 5.0}) {
      if (d * m < ax.hi) minor.push_back(d * m);
    }
  }
  return ticks;
}

bool Usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

}  // namespace

std::string RenderSvg(const Chart& c) {
  const double left = 90, right = c.y2_label.empty() ? 30 : 90, top = 70, bottom = 70;
  const double x0 = left, x1 = c.width - right, y0 = c.height - bottom, y1 = top;
  Axis ax{0, 1, c.log_x}, ay{0, 1, c.log_y}, ay2{0, 1, false};
  double inf = std::numeric_limits<double>::infinity();
  double xlo = inf, xhi = -inf, ylo = inf, yhi = -inf, y2lo = inf, y2hi = -inf;
  for (const auto& s : c.series) {
    for (auto [x, y] : s.points) {
      bool second = s.y_axis == 1;
      if (!Usable(x, c.log_x) || !Usable(y, second ? false : c.log_y)) continue;
      xlo = std::min(xlo, x);
      xhi = std::max(xhi, x);
      (second ? y2lo : ylo) = std::min(second ? y2lo : ylo, y);
      (second ? y2hi : yhi) = std::max(second ? y2hi : yhi, y);
    }
  }
  if (xlo > xhi) xlo = 1, xhi = 10;
  if (ylo > yhi) ylo = 1, yhi = 10;
  if (y2lo > y2hi) y2lo = 0, y2hi = 1;
  ax.lo = xlo, ax.hi = xhi;
  ay.lo = c.log_y ? ylo : std::min(0.0, ylo), ay.hi = yhi;
  ay2.lo = std::min(0.0, y2lo), ay2.hi = y2hi;
  std::vector<double> xminor, yminor, unused;
  std::vector<double> xt = c.log_x ? LogTicks(ax, xminor) : LinearTicks(ax);
  std::vector<double> yt = c.log_y ? LogTicks(ay, yminor) : LinearTicks(ay);
  std::vector<double> y2t = LinearTicks(ay2);

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"Helvetica, Arial, sans-serif\">\n",
      c.width, c.height, c.width, c.height);
  svg += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", c.width, c.height);
  svg += fmt::format(
      "<text x=\"{}\" y=\"28\" font-size=\"18\" font-weight=\"bold\" "
      "text-anchor=\"middle\">{}</text>\n",
      c.width / 2, Escape(c.title));
  if (!c.subtitle.empty()) {
    svg += fmt::format(
        "<text x=\"{}\" y=\"50\" font-size=\"13\" fill=\"#444\" "
        "text-anchor=\"middle\">{}</text>\n",
        c.width / 2, Escape(c.subtitle));
  }
  // Grid and ticks.
  auto grid_x = [&](double v, bool major) {
    double px = ax.Map(v, x0, x1);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"/>\n", px, y0,
        px, y1, major ? "#ddd" : "#f0f0f0");
    if (major) {
      svg += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"middle\">{}"
          "</text>\n",
          px, y0 + 18, TickLabel(v));
    }
  };
  auto grid_y = [&](double v, bool major) {
    double py = ay.Map(v, y0, y1);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\"/>\n", x0, py,
        x1, py, major ? "#ddd" : "#f0f0f0");
    if (major) {
      svg += fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\" text-anchor=\"end\">{}"
          "</text>\n",
          x0 - 8, py + 4, TickLabel(v));
    }
  };
  for (double v : xminor) grid_x(v, false);
  for (double v : yminor) grid_y(v, false);
  for (double v : xt) grid_x(v, true);
  for (double v : yt) grid_y(v, true);
  if (!c.y2_label.empty()) {
    for (double v : y2t) {
      double py = ay2.Map(v, y0, y1);
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12\">{}</text>\n", x1 + 8,
                         py + 4, TickLabel(v));
    }
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#333\"/>\n",
      x0, y1, x1 - x0, y0 - y1);
  svg += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" text-anchor=\"middle\">{}"
      "</text>\n",
      (x0 + x1) / 2, c.height - 22.0, Escape(c.x_label));
  svg += fmt::format(
      "<text x=\"20\" y=\"{:.1f}\" font-size=\"14\" text-anchor=\"middle\" "
      "transform=\"rotate(-90 20 {:.1f})\">{}</text>\n",
      (y0 + y1) / 2, (y0 + y1) / 2, Escape(c.y_label));
  if (!c.y2_label.empty()) {
    double xr = c.width - 20.0;
    svg += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" text-anchor=\"middle\" "
        "transform=\"rotate(90 {:.1f} {:.1f})\">{}</text>\n",
        xr, (y0 + y1) / 2, xr, (y0 + y1) / 2, Escape(c.y2_label));
  }
  for (const auto& [x, label] : c.x_marks) {
    if (!Usable(x, c.log_x)) continue;
    double px = ax.Map(x, x0, x1);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n",
        px, y0, px, y1);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#555\">{}</text>\n",
                       px + 4, y1 + 14, Escape(label));
  }
  // Series.
  int legend = 0;
  for (const auto& s : c.series) {
    const Axis& yax = s.y_axis == 1 ? ay2 : ay;
    std::vector<std::pair<double, double>> pts;
    for (auto [x, y] : s.points) {
      if (Usable(x, c.log_x) && Usable(y, s.y_axis == 1 ? false : c.log_y)) {
        pts.push_back({ax.Map(x, x0, x1), yax.Map(y, y0, y1)});
      }
    }
    if (pts.empty()) continue;
    std::string path;
    for (size_t i = 0; i < pts.size(); ++i) {
      if (i == 0) {
        path += fmt::format("M{:.1f},{:.1f}", pts[i].first, pts[i].second);
      } else if (s.step) {
        path += fmt::format(" V{:.1f} H{:.1f}", pts[i].second, pts[i].first);
      } else {
        path += fmt::format(" L{:.1f},{:.1f}", pts[i].first, pts[i].second);
      }
    }
    svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.2\"{}/>\n",
                       path, s.color, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    if (s.markers) {
      for (auto [px, py] : pts) {
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\" fill=\"{}\"/>\n", px, py,
                           s.color);
      }
    }
    double ly = y1 + 18 + 20.0 * legend++;
    double lx = x1 - 260;
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "stroke-width=\"3\"{}/>\n",
        lx, ly, lx + 24, ly, s.color, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"13\">{}</text>\n", lx + 30,
                       ly + 4, Escape(s.label));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace disagg::report
