// The 95% interval of a figure from n >= 2 independent draws (docs/uncertainty.md, "From draws to
// intervals"), for the rooms that cannot include training's prediction_intervals.hpp (serving,
// collectives): mean -/+ t(0.975, n - 1) x sd x sqrt(1 + 1/n), the normal-theory prediction interval
// for one more draw, the rule every room applies (training's interval_of calls it).
#pragma once
#include <cmath>
#include <stdexcept>
#include <vector>

#include "common/student_t.hpp"

namespace knee {

struct DrawInterval {
  double mean = 0, sd = 0, lo = 0, hi = 0;
};

// The mean is taken as v0 + mean(v - v0), so n equal values give exactly [v0, v0].
inline DrawInterval prediction_interval(const std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 2) throw std::logic_error("prediction_interval: fewer than 2 values");
  const double v0 = values[0];
  double d = 0;
  for (double v : values) d += v - v0;
  DrawInterval out;
  out.mean = v0 + d / static_cast<double>(n);
  double ss = 0;
  for (double v : values) ss += (v - out.mean) * (v - out.mean);
  out.sd = std::sqrt(ss / static_cast<double>(n - 1));
  const double half = student_t975(static_cast<int>(n - 1)) * out.sd * std::sqrt(1 + 1.0 / static_cast<double>(n));
  out.lo = out.mean - half;
  out.hi = out.mean + half;
  return out;
}

}  // namespace knee
