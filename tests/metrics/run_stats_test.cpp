#include "metrics/run_stats.hpp"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

using namespace knee;

// 20 slow iterations (a transient decaying from 1.6 s) before 200 steady ones at 1.0 s with 1% noise:
// MSER-5 never keeps the transient (d >= 15: what is left of it is under the noise), and truncates
// within a few batches of 20 in most series. It may drop more on some (MSER's statistic fluctuates
// with the noise of the batches kept; over-truncation costs samples, not bias), never past half.
TEST(Mser5, FindsAPlantedTransient) {
  int near = 0;
  std::vector<std::size_t> ds;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Random rng(seed);
    std::vector<double> x;
    for (int i = 0; i < 20; ++i) x.push_back(1.0 + 0.6 * (20 - i) / 20.0 + 0.01 * rng.normal());
    for (int i = 0; i < 200; ++i) x.push_back(1.0 + 0.01 * rng.normal());
    const std::size_t d = mser5_truncation(x);
    EXPECT_GE(d, 15u) << "seed " << seed;
    EXPECT_LE(d, 110u) << "seed " << seed;
    EXPECT_EQ(d % 5, 0u);
    near += d <= 35;
    ds.push_back(d);
  }
  EXPECT_GE(near, 70);
  std::sort(ds.begin(), ds.end());
  EXPECT_GE(ds[50], 15u);
  EXPECT_LE(ds[50], 30u);
}

TEST(Mser5, SteadySeriesKeepsAlmostEverythingAndShortSeriesAreKept) {
  Random rng(3);
  std::vector<double> x;
  for (int i = 0; i < 200; ++i) x.push_back(2.0 + 0.02 * rng.normal());
  EXPECT_LE(mser5_truncation(x), 100u);                          // never past the first half
  EXPECT_EQ(mser5_truncation({5, 1, 1, 1, 1, 1, 1, 1, 1}), 0u);  // 9 values: too few for MSER-5
  // A step change: the first 30 at 3 s, then 70 at 1 s exactly -> the truncation is 30.
  std::vector<double> step(30, 3.0);
  step.resize(100, 1.0);
  EXPECT_EQ(mser5_truncation(step), 30u);
}

TEST(MadOutliers, FlagsPlantedSpikesOnly) {
  Random rng(11);
  std::vector<double> x;
  for (int i = 0; i < 100; ++i) x.push_back(1.0 + 0.01 * rng.normal());
  x[17] = 1.2;  // 20 sd away
  x[63] = 0.85;
  const auto o = mad_outliers(x);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0], 17u);
  EXPECT_EQ(o[1], 63u);
  EXPECT_TRUE(mad_outliers(std::vector<double>(10, 1.0)).empty());  // MAD 0: nothing flagged
}

TEST(Quantile, LinearInterpolationOfOrderStatistics) {
  EXPECT_DOUBLE_EQ(quantile_of({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_of({1, 2, 3, 4, 5}, 0.25), 2.0);
  EXPECT_DOUBLE_EQ(quantile_of({10, 20}, 0.1), 11.0);
  EXPECT_DOUBLE_EQ(sd_of({1, 2, 3, 4}), std::sqrt(5.0 / 3));
}

// The percentile bootstrap's 95% interval of the mean covers the true mean in 92-98% of 1,000 trials
// (normal samples of 40; the oracle is the distribution's mean, 5).
TEST(Bootstrap, MeanIntervalCoversAtItsNominalRate) {
  int covered = 0;
  const int trials = 1000;
  for (int t = 0; t < trials; ++t) {
    Random data(derived_seed(42, static_cast<std::uint64_t>(t)));
    std::vector<double> x;
    for (int i = 0; i < 40; ++i) x.push_back(5.0 + 2.0 * data.normal());
    Random boot(derived_seed(7, static_cast<std::uint64_t>(t)));
    const Interval ci = bootstrap_interval(x, mean_of, 500, 0.95, boot);
    covered += ci.lo <= 5.0 && 5.0 <= ci.hi;
  }
  EXPECT_GE(covered, 920);
  EXPECT_LE(covered, 980);
}

TEST(Repetitions, FormulaOfTheBrief) {
  // (1.96 * 0.05 / (0.01 * 1))^2 = 96.04 -> 97.
  EXPECT_EQ(repetitions_for_precision(0.05, 1.0, 0.01), 97);
  // (1.96 * 1 / (0.1 * 19.6))^2 = 1 -> at least 2.
  EXPECT_EQ(repetitions_for_precision(1.0, 19.6, 0.1), 2);
  EXPECT_EQ(repetitions_for_precision(2.0, 10.0, 0.02), 385);  // (1.96*2/0.2)^2 = 384.16
}
