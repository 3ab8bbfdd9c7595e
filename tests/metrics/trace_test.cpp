#include "metrics/trace.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

using namespace knee;

TEST(ChromeTrace, WritesValidTraceEventJsonInMicroseconds) {
  ChromeTrace t;
  t.name_process(3, "GPU 3");
  t.name_thread(3, 1, "tp \"group\"");
  t.complete(3, 1, "all-reduce", "comm", 1'500'000, 2'000'001, R"({"bytes":64})");
  auto j = nlohmann::json::parse(t.json());
  const auto& ev = j["traceEvents"];
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[1]["args"]["name"], "tp \"group\"");
  EXPECT_EQ(ev[2]["ph"], "X");
  EXPECT_DOUBLE_EQ(ev[2]["ts"].get<double>(), 1.5);        // 1.5 us
  EXPECT_DOUBLE_EQ(ev[2]["dur"].get<double>(), 2.000001);  // picoseconds survive
  EXPECT_EQ(ev[2]["args"]["bytes"], 64);
  EXPECT_EQ(j["otherData"]["dropped_events"], 0);
}

TEST(ChromeTrace, IsBoundedAndCountsWhatItDrops) {
  ChromeTrace t(2);
  for (int i = 0; i < 5; ++i) t.complete(0, 0, "k", "compute", i, 1);
  EXPECT_EQ(t.events(), 2u);
  EXPECT_EQ(t.dropped(), 3u);
  EXPECT_EQ(nlohmann::json::parse(t.json())["otherData"]["dropped_events"], 3);
}

TEST(ChromeTrace, RankSetsAndBadPaths) {
  EXPECT_EQ(parse_rank_set("0-2,5,4", "--trace-ranks", 8), (std::vector<std::uint32_t>{0, 1, 2, 4, 5}));
  EXPECT_THROW(parse_rank_set("0-9", "--trace-ranks", 8), InputError);
  EXPECT_THROW(parse_rank_set("3-1", "--trace-ranks", 8), InputError);
  EXPECT_THROW(parse_rank_set("a", "--trace-ranks", 8), InputError);
  ChromeTrace t;
  EXPECT_THROW(t.write_file("/nonexistent-dir/x.json"), InputError);
}
