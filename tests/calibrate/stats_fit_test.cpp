#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "calibrate/fit.hpp"
#include "calibrate/stats.hpp"

using namespace knee;

TEST(Stats, MedianOrderStatisticCiAndOutliers) {
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i);
  v.push_back(1000);  // one wild repetition: flagged, not dropped
  Summary s = summarize(v);
  EXPECT_EQ(s.reps, 21);
  EXPECT_DOUBLE_EQ(s.median, 11);
  // n = 21: ranks floor(10.5 - 4.49) = 6 and ceil(10.5 + 4.49) + 1 = 16.
  EXPECT_DOUBLE_EQ(s.ci_lo, 6);
  EXPECT_DOUBLE_EQ(s.ci_hi, 16);
  EXPECT_EQ(s.outliers, 1);
  Summary few = summarize({3, 1, 2});
  EXPECT_DOUBLE_EQ(few.ci_lo, 1);
  EXPECT_DOUBLE_EQ(few.ci_hi, 3);
  EXPECT_NE(few.ci_method, "order-statistic");
}

TEST(Stats, OrderStatisticIntervalCoversTheMedianAtItsBinomialRate) {
  // Exponential(1) repetitions, true median ln 2. For any continuous distribution [x(j), x(k)]
  // covers the median with probability P(j <= B <= k - 1), B ~ binomial(n, 1/2) counting the
  // repetitions below it. n = 21: ranks 6 and 16 (10.5 -/+ 4.49, rounded outward, one past on
  // top; as above), P(6 <= B <= 15) = 0.97340; n = 50: ranks 18 and 33 (25 -/+ 6.93),
  // P(18 <= B <= 32) = 0.96716 (sums of C(n, i) / 2^n). 4000 trials give a standard
  // error of 0.0025 / 0.0028: tolerance 0.01 (about 4 SE). One rank narrower on either side would
  // cover 0.9475 (n = 21) or 0.9511 (n = 50).
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> draw(1.0);
  const double truth = std::log(2.0);
  for (auto [n, exact] : {std::pair{21, 0.97340}, std::pair{50, 0.96716}}) {
    int covered = 0;
    const int trials = 4000;
    for (int t = 0; t < trials; ++t) {
      std::vector<double> v(n);
      for (double& x : v) x = draw(rng);
      const Summary s = summarize(v);
      covered += s.ci_lo <= truth && truth <= s.ci_hi;
    }
    EXPECT_NEAR(double(covered) / trials, exact, 0.01) << "n = " << n;
  }
}

TEST(Fit, ExactOnNoiselessData) {
  std::vector<double> x, t;
  for (double b = 8; b <= 1 << 30; b *= 4) {
    x.push_back(b);
    t.push_back(3e-6 + b / 50e9);
  }
  AlphaBetaFit f = fit_alpha_beta(x, t);
  EXPECT_NEAR(f.alpha_s, 3e-6, 3e-6 * 1e-9);
  EXPECT_NEAR(f.beta_s_per_byte, 1 / 50e9, 1 / 50e9 * 1e-9);
}

TEST(Fit, RecoversAlphaBetaWithinItsOwnIntervalFromNoisyData) {
  const double alpha = 5e-6, beta = 1 / 55e9;
  std::mt19937_64 rng(12345);
  std::normal_distribution<double> noise(0.0, 0.03);  // 3% relative noise per median
  int covered_a = 0, covered_b = 0;
  const int trials = 40;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<double> x, t;
    for (double b = 1; b <= 1 << 30; b *= 2) {
      x.push_back(b);
      t.push_back((alpha + beta * b) * (1 + noise(rng)));
    }
    AlphaBetaFit f = fit_alpha_beta(x, t);
    if (trial == 0) {  // the fixed-seed case itself: truth inside, interval not absurdly wide
      EXPECT_LE(f.alpha_ci[0], alpha);
      EXPECT_GE(f.alpha_ci[1], alpha);
      EXPECT_LE(f.beta_ci[0], beta);
      EXPECT_GE(f.beta_ci[1], beta);
      EXPECT_LT(f.beta_ci[1] - f.beta_ci[0], 0.1 * beta);
    }
    covered_a += f.alpha_ci[0] <= alpha && alpha <= f.alpha_ci[1];
    covered_b += f.beta_ci[0] <= beta && beta <= f.beta_ci[1];
  }
  // Nominal 95%: with 40 trials, fewer than 32 covered would be a broken interval (p < 0.001).
  EXPECT_GE(covered_a, 32);
  EXPECT_GE(covered_b, 32);
}

TEST(Fit, PiecewiseFindsTheRegimeChange) {
  // 10 GB/s up to 64 MiB, then 5 GB/s (a staging buffer running out), 1% noise.
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<double> x, t;
  for (double b = 1 << 20; b <= double(1ull << 33); b *= 2) {
    x.push_back(b);
    double clean = b <= (64 << 20) ? 2e-6 + b / 10e9 : -6.7e-3 + b / 5e9;
    t.push_back(clean * (1 + noise(rng)));
  }
  auto segs = fit_piecewise(x, t, 1);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].to_bytes, double(64 << 20));
  EXPECT_NEAR(1 / segs[0].beta_s_per_byte, 10e9, 0.05 * 10e9);
  EXPECT_NEAR(1 / segs[1].beta_s_per_byte, 5e9, 0.05 * 5e9);
  // A clean line stays one segment.
  std::vector<double> t1;
  for (double b : x) t1.push_back((2e-6 + b / 10e9) * (1 + noise(rng)));
  EXPECT_EQ(fit_piecewise(x, t1, 2).size(), 1u);
}

TEST(Fit, RegimesSeparateLatencyFromBandwidth) {
  // Host-bound small sizes scatter around 10 us; the bandwidth end is 4 TB/s.
  std::vector<double> x, t;
  const double lat[] = {10e-6, 13e-6, 9e-6, 12e-6, 10.5e-6, 11e-6};
  double b = 1024;
  for (double l : lat) {
    x.push_back(b);
    t.push_back(l);
    b *= 4;
  }
  for (; b <= double(1ull << 34); b *= 2) {
    x.push_back(b);
    t.push_back(2e-6 + b / 4e12);
  }
  auto segs = fit_regimes(x, t);
  ASSERT_GE(segs.size(), 2u);
  EXPECT_NEAR(1 / segs.back().beta_s_per_byte, 4e12, 4e12 * 1e-6);
  EXPECT_GT(segs.front().alpha_s, 8e-6);
  EXPECT_LT(segs.front().alpha_s, 14e-6);
}
