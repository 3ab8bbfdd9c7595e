// Small, dependency-free SVG charts for self-contained HTML reports: line charts (optionally
// log2 x axis, log10 y axis, a second y axis on the right, reference lines, a marked point) and
// stacked bar charts. Each svg() is laid out in a width x height coordinate system (its viewBox)
// and drawn at the width of its container (width 100%), so charts scale with the page.
#pragma once
#include <string>
#include <vector>

namespace knee {

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
  bool right = false;  // drawn against the right-hand y axis (LineChart::y2_label)
  // A band from lo to hi at each x (an interval), shaded under the line; empty: none.
  std::vector<double> lo{}, hi{};
};

// `s` with the band lo..hi, one pair per x, when every pair is finite (an interval at every point
// drawn); without a band otherwise.
Series with_band(Series s, std::vector<double> lo, std::vector<double> hi);

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log2_x = false;
  bool log_y = false;    // log10 y axis, ticks from log_ticks(); values <= 0 are left out
  double y_min = 0;      // linear y axis starts here unless data go lower
  std::string y2_label;  // the right-hand y axis (linear, from 0) of series with right = true
  double mark_x = -1;    // vertical marker (e.g. the knee); < 0: none
  std::string mark_label;
  std::string svg(int width = 640, int height = 360) const;
};

struct StackedBars {
  std::string title, y_label;
  std::vector<std::string> categories;      // one bar each (e.g. GPU counts)
  std::vector<std::string> parts;           // stacked components, bottom first
  std::vector<std::vector<double>> values;  // values[part][category]
  std::string svg(int width = 640, int height = 360) const;
};

// The ticks of a log10 axis over [lo, hi] (0 < lo <= hi), which the axis then spans: powers of
// ten from the one at or below lo to the one at or above hi; when hi / lo is 100 or less, 1, 2
// and 5 times each power, from the largest at or below lo to the smallest at or above hi.
// log_ticks(1, 2048) = {1, 10, 100, 1000, 10000}; log_ticks(0.7, 30) = {0.5, 1, 2, 5, 10, 20, 50}.
std::vector<double> log_ticks(double lo, double hi);

// An axis tick's label: grouped thousands below a million ("16,384"), M/B/T above ("1.5M").
std::string tick_label(double v);

std::string html_escape(const std::string& s);

}  // namespace knee
