// The statistics of measured iterations (docs/analyze.md): warm-up truncation by MSER-5, outliers
// by scaled MADs, percentile-bootstrap intervals and the repetitions a precision needs. Every
// random draw comes from common/random.hpp with a stated seed, so results are bit-identical.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "common/random.hpp"

namespace knee {

double mean_of(const std::vector<double>& x);
double sd_of(const std::vector<double>& x);  // sample standard deviation (n - 1); 0 below 2 values
// The q-quantile (0..1) by linear interpolation between order statistics (Hyndman-Fan type 7).
double quantile_of(std::vector<double> x, double q);
double median_of(const std::vector<double>& x);

// MSER-5 (White 1997; White, Cobb, Spratt 2000): batch means of 5 consecutive values; the
// truncation d (in batches) minimises the marginal standard error of the batches kept,
// sum_{j>d} (Z_j - mean)^2 / (k - d)^2, searched over the first half of the k batches only (ties:
// the smallest d). Returns the number of leading values to drop: 5 d; 0 when there are fewer than
// kMserMinValues values (too few for two batches).
inline constexpr int kMserBatch = 5;
inline constexpr std::size_t kMserMinValues = 2 * kMserBatch;
std::size_t mser5_truncation(const std::vector<double>& series);

// Indices of values beyond `k` scaled MADs (1.4826 x the median absolute deviation, which is the
// standard deviation for normal data) from the median. None when the MAD is 0.
std::vector<std::size_t> mad_outliers(const std::vector<double>& x, double k = 3.0);

struct Interval {
  double lo = 0, hi = 0;
};

// The percentile bootstrap (Efron and Tibshirani 1993, ch. 13) of `stat` over `resamples`
// resamples with replacement of `x`, drawn from `rng`: the (1-confidence)/2 and (1+confidence)/2
// quantiles of the resampled statistics.
Interval bootstrap_interval(const std::vector<double>& x, const std::function<double(const std::vector<double>&)>& stat,
                            int resamples, double confidence, Random& rng);

// One resample with replacement of `x` into `out` (same size).
void resample_into(const std::vector<double>& x, std::vector<double>& out, Random& rng);

// Repetitions for the mean's interval half-width to be `precision` x the mean at 95% confidence:
// ceil((1.96 sd / (precision mean))^2), at least 2.
std::int64_t repetitions_for_precision(double sd, double mean, double precision);

// A seed for one purpose from the user's seed (SplitMix64 of both), so streams do not overlap.
std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t purpose);

}  // namespace knee
