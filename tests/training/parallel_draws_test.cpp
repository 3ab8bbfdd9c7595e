// parallel_draws: draw i's result at index i, as a sequential loop gives it, and the first failing
// draw by index rethrown (not whichever thread failed first).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "common/parallel_draws.hpp"

using namespace knee;

TEST(ParallelDraws, ResultsByIndexAndTheFirstFailureByIndex) {
  const auto v = parallel_draws<long>(257, [](int i) { return static_cast<long>(i) * i + 3; });
  ASSERT_EQ(v.size(), 257u);
  for (int i = 0; i < 257; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], static_cast<long>(i) * i + 3) << i;
  EXPECT_TRUE(parallel_draws<int>(0, [](int) { return 1; }).empty());
  try {
    parallel_draws<int>(64, [](int i) -> int {
      if (i == 40 || i == 9) throw std::runtime_error("draw " + std::to_string(i));
      return i;
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) { EXPECT_STREQ(e.what(), "draw 9"); }
}
