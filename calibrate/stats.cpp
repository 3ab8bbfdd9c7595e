#include "calibrate/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace knee {

double median_of(std::vector<double> v) {
  if (v.empty()) throw std::logic_error("median_of: empty");
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Summary summarize(const std::vector<double>& xs) {
  Summary s;
  std::vector<double> v = xs;
  std::sort(v.begin(), v.end());
  const int n = static_cast<int>(v.size());
  s.reps = n;
  if (n == 0) return s;
  s.median = median_of(v);
  s.ci_method = "order-statistic";
  if (n < 6) {
    s.ci_lo = v.front();
    s.ci_hi = v.back();
    s.ci_method = "min-max (fewer than 6 repetitions)";
  } else {
    const double half = 1.96 * std::sqrt(static_cast<double>(n)) / 2;
    int j = static_cast<int>(std::floor(n / 2.0 - half));  // 1-based ranks
    int k = static_cast<int>(std::ceil(n / 2.0 + half)) + 1;
    j = std::max(j, 1);
    k = std::min(k, n);
    s.ci_lo = v[j - 1];
    s.ci_hi = v[k - 1];
  }
  std::vector<double> dev(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) dev[i] = std::fabs(v[i] - s.median);
  const double mad = median_of(dev);
  for (double x : v)
    if (std::fabs(x - s.median) > 3 * 1.4826 * mad && mad > 0) ++s.outliers;
  return s;
}

}  // namespace knee
