#include "metrics/scaling_fits.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "common/random.hpp"

using namespace knee;

// Amdahl with s = 0.05 and T1 = 10 s, measured at 8..256 GPUs with 1% noise: the fit recovers s
// within 0.01 (the oracle is the generating law), for every seed tried.
TEST(ScalingFits, AmdahlRecoversTheSerialFraction) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Random rng(seed);
    std::vector<ScalingPoint> pts;
    for (double n : {8, 16, 32, 64, 128, 256}) {
      const double t = 10.0 * (0.05 + 0.95 / n) * (1 + 0.01 * rng.normal());
      pts.push_back({n, 512 / t});
    }
    const ScalingFit f = fit_amdahl(pts);
    ASSERT_TRUE(f.ok);
    EXPECT_NEAR(f.serial_fraction, 0.05, 0.01) << "seed " << seed;
    EXPECT_NEAR(f.x1, 51.2, 51.2 * 0.05);
    EXPECT_NEAR(f.knee_gpus(), 21.0, 5.0);  // 1 + 1/0.05
  }
}

TEST(ScalingFits, ExactDataGiveExactParameters) {
  std::vector<ScalingPoint> am, gu, usl;
  for (double n : {1, 2, 4, 8, 16, 32, 64}) {
    am.push_back({n, 100 / (0.1 + 0.9 / n)});
    gu.push_back({n, 7 * (0.2 + 0.8 * n)});
    usl.push_back({n, 50 * n / (1 + 0.03 * (n - 1) + 0.0004 * n * (n - 1))});
  }
  const ScalingFit a = fit_amdahl(am), g = fit_gustafson(gu), u = fit_usl(usl);
  EXPECT_NEAR(a.serial_fraction, 0.1, 1e-9);
  EXPECT_NEAR(a.x1, 100, 1e-6);
  EXPECT_NEAR(g.serial_fraction, 0.2, 1e-9);
  EXPECT_NEAR(g.x1, 7, 1e-9);
  EXPECT_NEAR(u.sigma, 0.03, 1e-6);
  EXPECT_NEAR(u.kappa, 0.0004, 1e-8);
  EXPECT_NEAR(u.x1, 50, 1e-4);
  EXPECT_NEAR(u.knee_gpus(), std::sqrt(0.97 / 0.0004), 1e-2);
  EXPECT_TRUE(std::isinf(g.knee_gpus()));  // s <= 0.5: scaled efficiency never below 50%
}

// USL with sigma 0.02, kappa 0.0005 at 1..128 GPUs with 1% noise: both recovered.
TEST(ScalingFits, UslRecoversContentionAndCoherency) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Random rng(seed + 100);
    std::vector<ScalingPoint> pts;
    for (double n : {1, 2, 4, 8, 16, 32, 64, 128})
      pts.push_back({n, 1000 * n / (1 + 0.02 * (n - 1) + 0.0005 * n * (n - 1)) * (1 + 0.01 * rng.normal())});
    const ScalingFit f = fit_usl(pts);
    ASSERT_TRUE(f.ok);
    EXPECT_NEAR(f.sigma, 0.02, 0.01) << "seed " << seed;
    EXPECT_NEAR(f.kappa, 0.0005, 0.0001) << "seed " << seed;
    EXPECT_NEAR(f.knee_gpus(), std::sqrt(0.98 / 0.0005), 8.0);  // 44.3
  }
}

TEST(ScalingFits, ParametersStayInTheirRangesAndTooFewPointsFail) {
  // Superlinear data would need a negative serial fraction: clamped to 0.
  std::vector<ScalingPoint> sup = {{1, 1}, {2, 2.2}, {4, 4.8}};
  EXPECT_GE(fit_amdahl(sup).serial_fraction, 0);
  const ScalingFit u = fit_usl(sup);
  EXPECT_GE(u.sigma, 0);
  EXPECT_GE(u.kappa, 0);
  EXPECT_FALSE(fit_usl({{1, 1}, {2, 1.9}}).ok);
  EXPECT_FALSE(fit_amdahl({{4, 1}, {4, 1.1}}).ok);  // one distinct count
}
