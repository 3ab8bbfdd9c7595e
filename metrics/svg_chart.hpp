// Small, dependency-free SVG charts for self-contained HTML reports: line charts (optionally
// log2 x axis, reference lines, a marked point) and stacked bar charts.
#pragma once
#include <string>
#include <vector>

namespace knee {

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log2_x = false;
  double y_min = 0;            // y axis starts here unless data go lower
  double mark_x = -1;          // vertical marker (e.g. the knee); < 0: none
  std::string mark_label;
  std::string svg(int width = 640, int height = 360) const;
};

struct StackedBars {
  std::string title, y_label;
  std::vector<std::string> categories;          // one bar each (e.g. GPU counts)
  std::vector<std::string> parts;               // stacked components, bottom first
  std::vector<std::vector<double>> values;      // values[part][category]
  std::string svg(int width = 640, int height = 360) const;
};

std::string html_escape(const std::string& s);

}  // namespace knee
