// Weighted quantiles without interpolation, shared by the kernel comparison of a trace
// (metrics/kernel_comparison) and the profile refit from one (calibrate/trace_refit).
#pragma once
#include <algorithm>
#include <utility>
#include <vector>

namespace knee {

// Of (value, weight) pairs sorted ascending (by value, then weight), the first value at which the
// running weight reaches q * total (>=, so a quantile landing on a pair's end is that pair's value);
// the last value when it never does (a `total` above the weights' sum: weight that has no value),
// `none` when there are no pairs.
inline double weighted_quantile_sorted(const std::vector<std::pair<double, double>>& sorted, double total, double q,
                                       double none) {
  double acc = 0;
  for (const auto& [v, w] : sorted) {
    acc += w;
    if (acc >= q * total) return v;
  }
  return sorted.empty() ? none : sorted.back().first;
}

// The same over pairs in any order, against the sum of their weights (summed in ascending order).
inline double weighted_quantile(std::vector<std::pair<double, double>> v, double q, double none) {
  std::sort(v.begin(), v.end());
  double total = 0;
  for (const auto& x : v) total += x.second;
  return weighted_quantile_sorted(v, total, q, none);
}

}  // namespace knee
