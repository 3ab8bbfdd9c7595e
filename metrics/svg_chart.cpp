#include "metrics/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace knee {

namespace {
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
std::string tick_label(double v) {
  char b[32];
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-2)) std::snprintf(b, sizeof b, "%.2g", v);
  else std::snprintf(b, sizeof b, "%g", std::round(v * 1000) / 1000);
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
}  // namespace

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string LineChart::svg(int W, int H) const {
  const double L = 70, R = 180, T = 36, B = 50;
  double xmin = INFINITY, xmax = -INFINITY, ymin = y_min, ymax = -INFINITY;
  auto fx = [&](double x) { return log2_x ? std::log2(x) : x; };
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log2_x && s.x[i] <= 0)) continue;
      xmin = std::min(xmin, fx(s.x[i]));
      xmax = std::max(xmax, fx(s.x[i]));
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  double step = nice_step(ymax - ymin);
  ymax = std::ceil(ymax / step) * step;
  if (ymax <= ymin) ymax = ymin + 1;
  auto px = [&](double x) { return L + (fx(x) - xmin) / (xmax - xmin) * (W - L - R); };
  auto py = [&](double y) { return H - B - (y - ymin) / (ymax - ymin) * (H - T - B); };
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(W) + "\" height=\"" +
                  std::to_string(H) + "\" role=\"img\" aria-label=\"" + html_escape(title) + "\">";
  o += "<text x=\"" + num(W / 2.0) + "\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">" + html_escape(title) + "</text>";
  for (double y = ymin; y <= ymax + 1e-9 * step; y += step) {
    o += "<line x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(py(y)) + "\" y2=\"" + num(py(y)) +
         "\" stroke=\"#ddd\"/><text x=\"" + num(L - 6) + "\" y=\"" + num(py(y) + 4) +
         "\" text-anchor=\"end\" font-size=\"11\">" + tick_label(y) + "</text>";
  }
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
  o += "<text x=\"" + num((L + W - R) / 2) + "\" y=\"" + num(H - 12.0) + "\" text-anchor=\"middle\" font-size=\"12\">" +
       html_escape(x_label) + "</text>";
  o += "<text transform=\"translate(16," + num((T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" +
       html_escape(y_label) + "</text>";
  if (mark_x > 0 || (!log2_x && mark_x >= 0)) {
    o += "<line x1=\"" + num(px(mark_x)) + "\" x2=\"" + num(px(mark_x)) + "\" y1=\"" + num(T) + "\" y2=\"" +
         num(H - B) + "\" stroke=\"#d62728\" stroke-dasharray=\"2,3\"/><text x=\"" + num(px(mark_x) + 4) + "\" y=\"" +
         num(T + 12) + "\" font-size=\"11\" fill=\"#d62728\">" + html_escape(mark_label) + "</text>";
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string pts;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i]) || (log2_x && s.x[i] <= 0)) continue;
      pts += num(px(s.x[i])) + "," + num(py(s.y[i])) + " ";
    }
    const char* c = kColors[k % 8];
    o += "<polyline fill=\"none\" stroke=\"" + std::string(c) + "\" stroke-width=\"2\"" +
         (s.dashed ? " stroke-dasharray=\"6,4\"" : "") + " points=\"" + pts + "\"/>";
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]) && !(log2_x && s.x[i] <= 0))
        o += "<circle cx=\"" + num(px(s.x[i])) + "\" cy=\"" + num(py(s.y[i])) + "\" r=\"3\" fill=\"" + c + "\"/>";
    o += "<rect x=\"" + num(W - R + 10) + "\" y=\"" + num(T + 18.0 * k) + "\" width=\"12\" height=\"4\" fill=\"" + c +
         "\"/><text x=\"" + num(W - R + 28) + "\" y=\"" + num(T + 18.0 * k + 6) + "\" font-size=\"11\">" +
         html_escape(s.name) + "</text>";
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
  double step = nice_step(ymax);
  ymax = std::max(step, std::ceil(ymax / step) * step);
  auto py = [&](double y) { return H - B - y / ymax * (H - T - B); };
  const double slot = (W - L - R) / std::max<std::size_t>(1, categories.size());
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(W) + "\" height=\"" +
                  std::to_string(H) + "\" role=\"img\" aria-label=\"" + html_escape(title) + "\">";
  o += "<text x=\"" + num(W / 2.0) + "\" y=\"20\" text-anchor=\"middle\" font-weight=\"bold\">" + html_escape(title) + "</text>";
  for (double y = 0; y <= ymax + 1e-9 * step; y += step)
    o += "<line x1=\"" + num(L) + "\" x2=\"" + num(W - R) + "\" y1=\"" + num(py(y)) + "\" y2=\"" + num(py(y)) +
         "\" stroke=\"#ddd\"/><text x=\"" + num(L - 6) + "\" y=\"" + num(py(y) + 4) +
         "\" text-anchor=\"end\" font-size=\"11\">" + tick_label(y) + "</text>";
  for (std::size_t c = 0; c < categories.size(); ++c) {
    double x = L + slot * c + slot * 0.15, acc = 0;
    for (std::size_t p = 0; p < values.size(); ++p) {
      double v = c < values[p].size() && std::isfinite(values[p][c]) ? std::max(0.0, values[p][c]) : 0;
      o += "<rect x=\"" + num(x) + "\" y=\"" + num(py(acc + v)) + "\" width=\"" + num(slot * 0.7) + "\" height=\"" +
           num(py(acc) - py(acc + v)) + "\" fill=\"" + kColors[p % 8] + "\"><title>" + html_escape(parts[p]) + ": " +
           tick_label(v) + "</title></rect>";
      acc += v;
    }
    o += "<text x=\"" + num(x + slot * 0.35) + "\" y=\"" + num(H - B + 16) + "\" text-anchor=\"middle\" font-size=\"10\">" +
         html_escape(categories[c]) + "</text>";
  }
  o += "<text transform=\"translate(16," + num((T + H - B) / 2) + ") rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">" +
       html_escape(y_label) + "</text>";
  for (std::size_t p = 0; p < parts.size(); ++p)
    o += "<rect x=\"" + num(W - R + 10) + "\" y=\"" + num(T + 18.0 * p) + "\" width=\"12\" height=\"12\" fill=\"" +
         kColors[p % 8] + "\"/><text x=\"" + num(W - R + 28) + "\" y=\"" + num(T + 18.0 * p + 10) +
         "\" font-size=\"11\">" + html_escape(parts[p]) + "</text>";
  return o + "</svg>";
}

}  // namespace knee
