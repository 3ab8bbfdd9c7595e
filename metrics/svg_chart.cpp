#include "metrics/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "metrics/format.hpp"

namespace knee {

namespace {
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr std::size_t kNColors = sizeof kColors / sizeof kColors[0];

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
// A "nice" step near range/5.
double nice_step(double range) {
  if (range <= 0) return 1;
  double raw = range / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

// The opening tag, laid out in a W x H viewBox and drawn at the container's width, and the title.
std::string svg_open(int W, int H, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H) +
         "\" width=\"100%\" role=\"img\" aria-label=\"" + html_escape(title) + "\"><text x=\"" + num(W / 2.0) +
         "\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">" + html_escape(title) + "</text>";
}

// A y axis: its ticks, which it spans (first to last), linear or log10.
struct Axis {
  std::vector<double> ticks;
  bool log = false;
  // 0 at the first tick, 1 at the last.
  double frac(double v) const {
    const double lo = ticks.front(), hi = ticks.back();
    return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
  }
};
// From lo to hi rounded up to a nice step (lo itself is where the axis starts).
Axis linear_axis(double lo, double hi) {
  if (!(hi > lo)) hi = lo + 1;
  const double step = nice_step(hi - lo);
  // A hair over a step (shares that sum to 1.0000001) does not add a step.
  hi = std::max(lo + step, std::ceil(hi / step - 1e-6) * step);
  Axis a;
  for (int k = 0; lo + k * step <= hi + 1e-9 * step; ++k) a.ticks.push_back(lo + k * step);
  return a;
}
Axis log_axis(double lo, double hi) {
  Axis a;
  a.ticks = log_ticks(lo, hi);
  a.log = true;
  return a;
}
// The y range of the series on one side: {lowest, highest}, or {inf, -inf} without data.
std::pair<double, double> y_range(const std::vector<Series>& series, bool right, bool log2_x, bool log_y) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (s.right == right && std::isfinite(s.y[i]) && !(log2_x && s.x[i] <= 0) && !(log_y && !right && s.y[i] <= 0)) {
        lo = std::min(lo, s.y[i]);
        hi = std::max(hi, s.y[i]);
        if (i < s.lo.size() && i < s.hi.size() && std::isfinite(s.lo[i]) && std::isfinite(s.hi[i]) &&
            !(log_y && !right && s.lo[i] <= 0)) {
          lo = std::min(lo, s.lo[i]);
          hi = std::max(hi, s.hi[i]);
        }
      }
  return {lo, hi};
}
// Grid lines and tick labels of a y axis; labels right-aligned left of x0, or left-aligned right of x1.
std::string y_ticks(const Axis& a, double x0, double x1, double top, double bottom, bool right) {
  std::string o;
  // One unit for the axis: 500,000 and 1,000,000 read as 0.5M and 1M.
  double unit = 1;
  const char* suffix = "";
  const double most = std::max(std::fabs(a.ticks.front()), std::fabs(a.ticks.back()));
  for (auto [u, sfx] : {std::pair{1e12, "T"}, std::pair{1e9, "B"}, std::pair{1e6, "M"}})
    if (unit == 1 && most >= u) unit = u, suffix = sfx;
  for (double y : a.ticks) {
    const double py = bottom - a.frac(y) * (bottom - top);
    if (!right)
      o += "<line x1=\"" + num(x0) + "\" x2=\"" + num(x1) + "\" y1=\"" + num(py) + "\" y2=\"" + num(py) +
           "\" stroke=\"#ddd\"/>";
    o += "<text x=\"" + num(right ? x1 + 6 : x0 - 6) + "\" y=\"" + num(py + 4) + "\" text-anchor=\"" +
         (right ? "start" : "end") + "\" font-size=\"11\">" + (y == 0 ? "0" : tick_label(y / unit) + suffix) +
         "</text>";
  }
  return o;
}
std::string rotated_label(double x, double y, const std::string& text) {
  return "<text transform=\"translate(" + num(x) + "," + num(y) +
         ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" + html_escape(text) + "</text>";
}
std::string legend_entry(double x, double y, std::size_t k, const std::string& name, bool swatch_square) {
  return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"12\" height=\"" + (swatch_square ? "12" : "4") +
         "\" fill=\"" + kColors[k % kNColors] + "\"/><text x=\"" + num(x + 18) + "\" y=\"" +
         num(y + (swatch_square ? 10 : 6)) + "\" font-size=\"11\">" + html_escape(name) + "</text>";
}
}  // namespace

Series with_band(Series s, std::vector<double> lo, std::vector<double> hi) {
  bool every = lo.size() == s.x.size() && hi.size() == s.x.size();
  for (std::size_t i = 0; every && i < lo.size(); ++i) every = std::isfinite(lo[i]) && std::isfinite(hi[i]);
  s.lo = every ? std::move(lo) : std::vector<double>{};
  s.hi = every ? std::move(hi) : std::vector<double>{};
  return s;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(lo)) lo = 1;
  if (!(hi >= lo) || !std::isfinite(hi)) hi = lo;
  // A tiny tolerance, so 1000 is the power 3 and not 2.9999...
  const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int e1 = std::max(e0 + 1, static_cast<int>(std::ceil(std::log10(hi) - 1e-9)));
  std::vector<double> all;
  const bool fine = std::log10(hi / lo) <= 2 + 1e-9;
  for (int e = e0; e <= e1; ++e)
    for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      if (e == e1 && m > 1) break;
      all.push_back(m * std::pow(10.0, e));
    }
  // From the largest tick at or below lo to the smallest at or above hi.
  std::size_t first = 0, last = all.size() - 1;
  while (first + 1 < all.size() && all[first + 1] <= lo * (1 + 1e-9)) ++first;
  while (last > first + 1 && all[last - 1] >= hi * (1 - 1e-9)) --last;
  return std::vector<double>(all.begin() + static_cast<std::ptrdiff_t>(first),
                             all.begin() + static_cast<std::ptrdiff_t>(last) + 1);
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  if (std::fabs(v) >= 1e6) return format_scaled(v);
  if (std::fabs(v) < 1e-2) return format_sig(v, 2);
  return format_sig(std::round(v * 1000) / 1000, 6);
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string LineChart::svg(int W, int H) const {
  const bool two_axes = std::any_of(series.begin(), series.end(), [](const Series& s) { return s.right; });
  const double L = 70, R = two_axes ? 250 : 180, T = 36, B = 50;
  auto fx = [&](double x) { return log2_x ? std::log2(x) : x; };
  auto drawn = [&](const Series& s, std::size_t i) {
    return i < s.y.size() && std::isfinite(s.y[i]) && !(log2_x && s.x[i] <= 0) && !(log_y && !s.right && s.y[i] <= 0);
  };
  double xmin = INFINITY, xmax = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (drawn(s, i)) xmin = std::min(xmin, fx(s.x[i])), xmax = std::max(xmax, fx(s.x[i]));
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  auto [lo, hi] = y_range(series, false, log2_x, log_y);
  if (!std::isfinite(lo)) lo = log_y ? 1 : y_min, hi = log_y ? 10 : 1;
  const Axis ya = log_y ? log_axis(lo, hi) : linear_axis(std::min(y_min, lo), hi);
  const auto r = y_range(series, true, log2_x, log_y);
  const Axis y2 = linear_axis(0, std::isfinite(r.second) ? std::max(0.0, r.second) : 1);
  auto px = [&](double x) { return L + (fx(x) - xmin) / (xmax - xmin) * (W - L - R); };
  auto py = [&](double y, bool right) { return H - B - (right ? y2 : ya).frac(y) * (H - T - B); };

  std::string o = svg_open(W, H, title) + y_ticks(ya, L, W - R, T, H - B, false);
  if (two_axes) o += y_ticks(y2, L, W - R, T, H - B, true) + rotated_label(W - R + 58, (T + H - B) / 2, y2_label);
  // x ticks at the data points of the first series (GPU counts, sizes)
  if (!series.empty())
    for (double x : series[0].x) {
      if (log2_x && x <= 0) continue;
      o += "<text x=\"" + num(px(x)) + "\" y=\"" + num(H - B + 16) + "\" text-anchor=\"middle\" font-size=\"10\">" +
           tick_label(x) + "</text>";
    }
  o += "<line x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(H - B) + "\" y2=\"" + num(H - B) +
       "\" stroke=\"#000\"/><line x1=\"" + num(L) + "\" x2=\"" + num(L) + "\" y1=\"" + num(T) + "\" y2=\"" +
       num(H - B) + "\" stroke=\"#000\"/>";
  if (two_axes)
    o += "<line x1=\"" + num(W - R) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(T) + "\" y2=\"" + num(H - B) +
         "\" stroke=\"#000\"/>";
  o += "<text x=\"" + num((L + W - R) / 2) + "\" y=\"" + num(H - 12.0) + "\" text-anchor=\"middle\" font-size=\"12\">" +
       html_escape(x_label) + "</text>" + rotated_label(16, (T + H - B) / 2, y_label);
  if (mark_x > 0 || (!log2_x && mark_x >= 0)) {
    o += "<line x1=\"" + num(px(mark_x)) + "\" x2=\"" + num(px(mark_x)) + "\" y1=\"" + num(T) + "\" y2=\"" +
         num(H - B) + "\" stroke=\"#d62728\" stroke-dasharray=\"2,3\"/><text x=\"" + num(px(mark_x) + 4) + "\" y=\"" +
         num(T + 12) + "\" font-size=\"11\" fill=\"#d62728\">" + html_escape(mark_label) + "</text>";
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string pts, dots;
    const char* c = kColors[k % kNColors];
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!drawn(s, i)) continue;
      pts += num(px(s.x[i])) + "," + num(py(s.y[i], s.right)) + " ";
      dots +=
          "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i], s.right)) + "\" r=\"3\" fill=\"" + c + "\"/>";
    }
    if (s.lo.size() == s.x.size() && s.hi.size() == s.x.size()) {
      std::string up, down;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!drawn(s, i) || !std::isfinite(s.lo[i]) || !std::isfinite(s.hi[i]) || (log_y && !s.right && s.lo[i] <= 0))
          continue;
        up += num(px(s.x[i])) + "," + num(py(s.hi[i], s.right)) + " ";
        down = num(px(s.x[i])) + "," + num(py(s.lo[i], s.right)) + " " + down;
      }
      if (!up.empty())
        o += "<polygon class=\"band\" fill=\"" + std::string(c) + "\" fill-opacity=\"0.18\" stroke=\"none\" points=\"" +
             up + down + "\"><title>" + html_escape(s.name) + ": 95% interval</title></polygon>";
    }
    o += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"2\"" +
         (s.dashed ? " stroke-dasharray=\"6,4\"" : "") + " points=\"" + pts + "\"/>" + dots +
         legend_entry(W - R + (two_axes ? 80 : 10), T + 18.0 * k, k, s.name, false);
  }
  return o + "</svg>";
}

std::string StackedBars::svg(int W, int H) const {
  const double L = 70, R = 180, T = 36, B = 50;
  double ymax = 0;
  for (std::size_t c = 0; c < categories.size(); ++c) {
    double sum = 0;
    for (const auto& p : values) sum += c < p.size() && std::isfinite(p[c]) ? std::max(0.0, p[c]) : 0;
    ymax = std::max(ymax, sum);
  }
  const Axis ya = linear_axis(0, ymax);
  auto py = [&](double y) { return H - B - ya.frac(y) * (H - T - B); };
  const double slot = (W - L - R) / std::max<std::size_t>(1, categories.size());
  std::string o = svg_open(W, H, title) + y_ticks(ya, L, W - R, T, H - B, false);
  for (std::size_t c = 0; c < categories.size(); ++c) {
    double x = L + slot * c + slot * 0.15, acc = 0;
    for (std::size_t p = 0; p < values.size(); ++p) {
      double v = c < values[p].size() && std::isfinite(values[p][c]) ? std::max(0.0, values[p][c]) : 0;
      o += "<rect x=\"" + num(x) + "\" y=\"" + num(py(acc + v)) + "\" width=\"" + num(slot * 0.7) + "\" height=\"" +
           num(py(acc) - py(acc + v)) + "\" fill=\"" + kColors[p % kNColors] + "\"><title>" +
           html_escape(p < parts.size() ? parts[p] : "") + ": " + tick_label(v) + "</title></rect>";
      acc += v;
    }
    o += "<text x=\"" + num(x + slot * 0.35) + "\" y=\"" + num(H - B + 16) +
         "\" text-anchor=\"middle\" font-size=\"10\">" + html_escape(categories[c]) + "</text>";
  }
  o += rotated_label(16, (T + H - B) / 2, y_label);
  for (std::size_t p = 0; p < parts.size(); ++p) o += legend_entry(W - R + 10, T + 18.0 * p, p, parts[p], true);
  return o + "</svg>";
}

}  // namespace knee
