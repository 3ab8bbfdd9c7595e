#include "common/weighted_quantile.hpp"

#include <gtest/gtest.h>

using namespace knee;

// (3, 1), (1, 2), (2, 1): sorted (1, 2), (2, 1), (3, 1), total weight 4, running weight 2, 3, 4.
TEST(WeightedQuantile, FirstValueWhoseRunningWeightReachesQTimesTheTotal) {
  const std::vector<std::pair<double, double>> v = {{3, 1}, {1, 2}, {2, 1}};
  EXPECT_EQ(weighted_quantile(v, 0.1, -1), 1);   // 0.4: reached at 2
  EXPECT_EQ(weighted_quantile(v, 0.5, -1), 1);   // 2: reached exactly at 2 (>=), no interpolation
  EXPECT_EQ(weighted_quantile(v, 0.6, -1), 2);   // 2.4: reached at 3
  EXPECT_EQ(weighted_quantile(v, 0.75, -1), 2);  // 3: exactly at 3
  EXPECT_EQ(weighted_quantile(v, 0.9, -1), 3);   // 3.6: at 4
  EXPECT_EQ(weighted_quantile(v, 1.0, -1), 3);
  EXPECT_EQ(weighted_quantile(v, 0.0, -1), 1);
  EXPECT_EQ(weighted_quantile({}, 0.5, 7), 7);
}

// Equal values sort by weight; a total above the weights' sum may never be reached: the last value.
TEST(WeightedQuantile, SortedPairsAgainstAGivenTotal) {
  const std::vector<std::pair<double, double>> v = {{1, 2}, {2, 1}, {3, 1}};
  EXPECT_EQ(weighted_quantile_sorted(v, 8, 0.25, -1), 1);  // 2: at 2
  EXPECT_EQ(weighted_quantile_sorted(v, 8, 0.3, -1), 2);   // 2.4: at 3
  EXPECT_EQ(weighted_quantile_sorted(v, 8, 0.5, -1), 3);   // 4: at 4
  EXPECT_EQ(weighted_quantile_sorted(v, 8, 0.9, -1), 3);   // 7.2: never reached, the last value
  EXPECT_EQ(weighted_quantile_sorted({}, 8, 0.5, -1), -1);
  // Sorted (2, 1), (5, 1), (5, 3); total 5.
  const std::vector<std::pair<double, double>> ties = {{5, 3}, {2, 1}, {5, 1}};
  EXPECT_EQ(weighted_quantile(ties, 0.2, 0), 2);   // 1: at 1
  EXPECT_EQ(weighted_quantile(ties, 0.25, 0), 5);  // 1.25: at 2
}
