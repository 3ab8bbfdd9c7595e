// Percentiles and their intervals; the token-gap histogram.
#include "workloads/serving/latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace knee::serving {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kQ[4] = {0.5, 0.9, 0.99, 0.999};
constexpr double kZ95 = 1.959963984540054;

double at(const std::vector<double>& v, double pos) {
  pos = std::clamp(pos, 0.0, double(v.size() - 1));
  const std::size_t i = std::size_t(std::floor(pos));
  const double frac = pos - double(i);
  return i + 1 < v.size() ? v[i] + frac * (v[i + 1] - v[i]) : v[i];
}

constexpr double kBinRatio = 1.001, kLo = 1e-9;
const double kLogRatio = std::log(kBinRatio);
constexpr std::size_t kBins = 30000;  // 1 ns x 1.001^30000 = 10^4 s

}  // namespace

LatencySummary summarize(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  LatencySummary s;
  s.count = std::int64_t(v.size());
  if (v.empty()) {
    s.mean = s.p50 = s.p90 = s.p99 = s.p999 = kNaN;
    for (auto& c : s.ci95) c = {kNaN, kNaN};
    return s;
  }
  std::sort(v.begin(), v.end());
  const double n = double(v.size());
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  s.mean = sum / n;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  const double se = v.size() > 1 ? std::sqrt(sq / (n - 1) / n) : 0;
  // The bootstrap distribution of a mean tends to normal with the standard error s / sqrt(n).
  s.ci95[0] = {s.mean - kZ95 * se, s.mean + kZ95 * se};
  double* q[4] = {&s.p50, &s.p90, &s.p99, &s.p999};
  for (int k = 0; k < 4; ++k) {
    *q[k] = at(v, kQ[k] * (n - 1));
    // A resample's q-quantile is the original order statistic whose rank is Binomial(n, q): its
    // 2.5% and 97.5% points (normal approximation) bound the bootstrap percentile interval.
    const double half = kZ95 * std::sqrt(n * kQ[k] * (1 - kQ[k]));
    s.ci95[std::size_t(k + 1)] = {at(v, kQ[k] * (n - 1) - half), at(v, kQ[k] * (n - 1) + half)};
  }
  return s;
}

LogHistogram::LogHistogram() : w_(kBins, 0) {}

void LogHistogram::add(double x, double weight) {
  const double b = x > kLo ? std::floor(std::log(x / kLo) / kLogRatio) : 0;
  w_[std::min<std::size_t>(kBins - 1, std::size_t(b))] += weight;
  n_ += weight;
  sum_ += x * weight;
}

LatencySummary LogHistogram::summary() const {
  LatencySummary s;
  s.count = std::int64_t(std::llround(n_));
  for (auto& c : s.ci95) c = {kNaN, kNaN};
  if (n_ <= 0) {
    s.mean = s.p50 = s.p90 = s.p99 = s.p999 = kNaN;
    return s;
  }
  s.mean = sum_ / n_;
  double* q[4] = {&s.p50, &s.p90, &s.p99, &s.p999};
  for (int k = 0; k < 4; ++k) {
    const double target = kQ[k] * n_;
    double cum = 0;
    std::size_t i = 0;
    for (; i + 1 < kBins; ++i) {
      cum += w_[i];
      if (cum >= target) break;
    }
    *q[k] = kLo * std::exp((double(i) + 0.5) * kLogRatio);
  }
  return s;
}

}  // namespace knee::serving
