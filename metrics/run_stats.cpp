#include "metrics/run_stats.hpp"

#include <algorithm>
#include <cmath>

namespace knee {

double mean_of(const std::vector<double>& x) {
  if (x.empty()) return NAN;
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double sd_of(const std::vector<double>& x) {
  if (x.size() < 2) return 0;
  const double m = mean_of(x);
  double s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double quantile_of(std::vector<double> x, double q) {
  if (x.empty()) return NAN;
  std::sort(x.begin(), x.end());
  const double h = q * static_cast<double>(x.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (h - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

double median_of(const std::vector<double>& x) { return quantile_of(x, 0.5); }

std::size_t mser5_truncation(const std::vector<double>& series) {
  if (series.size() < kMserMinValues) return 0;
  const std::size_t k = series.size() / kMserBatch;
  std::vector<double> z(k);
  for (std::size_t j = 0; j < k; ++j) {
    double s = 0;
    for (int i = 0; i < kMserBatch; ++i) s += series[j * kMserBatch + static_cast<std::size_t>(i)];
    z[j] = s / kMserBatch;
  }
  std::size_t best = 0;
  double best_value = INFINITY;
  for (std::size_t d = 0; d <= k / 2; ++d) {
    const std::size_t kept = k - d;
    double m = 0;
    for (std::size_t j = d; j < k; ++j) m += z[j];
    m /= static_cast<double>(kept);
    double ss = 0;
    for (std::size_t j = d; j < k; ++j) ss += (z[j] - m) * (z[j] - m);
    const double v = ss / (static_cast<double>(kept) * static_cast<double>(kept));
    if (v < best_value) best_value = v, best = d;
  }
  return best * kMserBatch;
}

std::vector<std::size_t> mad_outliers(const std::vector<double>& x, double k) {
  std::vector<std::size_t> out;
  if (x.size() < 3) return out;
  const double med = median_of(x);
  std::vector<double> dev(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) dev[i] = std::fabs(x[i] - med);
  const double scaled_mad = 1.4826 * median_of(dev);
  if (!(scaled_mad > 0)) return out;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (dev[i] > k * scaled_mad) out.push_back(i);
  return out;
}

void resample_into(const std::vector<double>& x, std::vector<double>& out, Random& rng) {
  out.resize(x.size());
  const double n = static_cast<double>(x.size());
  for (auto& v : out) v = x[std::min(x.size() - 1, static_cast<std::size_t>(rng.uniform() * n))];
}

Interval bootstrap_interval(const std::vector<double>& x, const std::function<double(const std::vector<double>&)>& stat,
                            int resamples, double confidence, Random& rng) {
  std::vector<double> stats, buf;
  stats.reserve(static_cast<std::size_t>(resamples));
  for (int b = 0; b < resamples; ++b) {
    resample_into(x, buf, rng);
    stats.push_back(stat(buf));
  }
  return {quantile_of(stats, (1 - confidence) / 2), quantile_of(stats, (1 + confidence) / 2)};
}

std::int64_t repetitions_for_precision(double sd, double mean, double precision) {
  const double n = std::pow(1.96 * sd / (precision * mean), 2);
  // A hair below an integer is that integer (1.96 sd / (p mean) squared exactly, up to rounding).
  const double up = std::ceil(n - 1e-9);
  return std::max<std::int64_t>(2, static_cast<std::int64_t>(up));
}

std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t purpose) {
  Random r(seed ^ (purpose * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL));
  r.next();
  return r.next();
}

}  // namespace knee
