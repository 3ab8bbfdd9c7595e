// Fan-out (serving.arrivals.fanout): each arrival is a group of calls at one instant, and a group
// is as slow as its slowest call. The Tail at Scale (Dean and Barroso, 2013): with 1% slow calls
// and 100 calls a request, 1 - 0.99^100 = 63.4% of requests are slow.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "serving_util.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

constexpr int kFanout = 100, kGroups = 2000;
constexpr int kShort = 2, kLong = 200;  // output tokens: one call in 100 is long

// Output lengths resampled from a file of 99 short and 1 long: each call is long with
// probability 1% exactly (an empirical draw picks one of the 100 rows uniformly).
std::string lengths_file() {
  const std::string path = ::testing::TempDir() + "/fanout_lengths.csv";
  std::ofstream f(path);
  f << "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < 100; ++i) f << i << ",16," << (i == 42 ? kLong : kShort) << "\n";
  return path;
}

// 8 replicas on one server, 100 calls of 16 prompt tokens a group spread over them (12 or 13
// each, one iteration's prefill); groups 4 s apart (gamma gaps, cv 0.05) while the slowest call
// takes ~1.2 s: every group finds the replicas idle, so no call ever queues.
nlohmann::json fanout_scenario(int groups = kGroups) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 8;
  j["serving"]["arrivals"] = {{"kind", "gamma"}, {"rate_per_s", 0.25}, {"cv", 0.05}, {"fanout", kFanout}};
  j["serving"]["lengths"] = {
      {"prompt_tokens", 16},
      {"output_tokens", {{"kind", "fitted"}, {"file", lengths_file()}, {"family", "empirical"}}}};
  j["serving"]["requests"] = groups * kFanout;
  return j;
}

TEST(ServingFanout, TailAtScale) {
  const ServingResult r = simulate_once(test::parse(fanout_scenario()));
  ASSERT_EQ(r.completed, kGroups * kFanout);
  ASSERT_TRUE(r.groups.on);
  EXPECT_EQ(r.groups.fanout, kFanout);
  EXPECT_EQ(r.groups.count, kGroups);
  EXPECT_EQ(r.queue.p999, 0);
  EXPECT_EQ(r.queue.mean, 0);
  // The threshold between the short and the long calls' end-to-end times: every short call ends
  // before it, every long one after.
  double short_max = 0, long_min = 1e9;
  for (const auto& q : r.requests) {
    ASSERT_EQ(q.queue_s, 0);
    if (q.output_tokens == kShort) short_max = std::max(short_max, q.e2e_s);
    else long_min = std::min(long_min, q.e2e_s);
  }
  ASSERT_LT(5 * short_max, long_min);
  const double threshold = std::sqrt(short_max * long_min);
  std::vector<double> group_e2e(kGroups, 0);
  std::vector<int> group_size(kGroups, 0);
  std::int64_t slow_calls = 0;
  for (std::size_t i = 0; i < r.requests.size(); ++i) {
    const auto& q = r.requests[i];
    ASSERT_EQ(q.group, std::int64_t(i) / kFanout);  // a group's calls are consecutive
    ASSERT_EQ(q.arrival_s, r.requests[std::size_t(q.group) * kFanout].arrival_s);
    group_e2e[std::size_t(q.group)] = std::max(group_e2e[std::size_t(q.group)], q.e2e_s);
    ++group_size[std::size_t(q.group)];
    slow_calls += q.e2e_s > threshold;
  }
  int slow_groups = 0;
  double mean = 0;
  for (int g = 0; g < kGroups; ++g) {
    ASSERT_EQ(group_size[std::size_t(g)], kFanout);
    slow_groups += group_e2e[std::size_t(g)] > threshold;
    mean += group_e2e[std::size_t(g)] / kGroups;
  }
  // Binomial: calls slow independently with p = 0.01; a group is slow with 1 - 0.99^100.
  const double p = 0.01, P = 1 - std::pow(1 - p, kFanout);
  const double n_calls = double(kGroups) * kFanout;
  const double call_share = double(slow_calls) / n_calls, group_share = double(slow_groups) / kGroups;
  const double se_call = std::sqrt(p * (1 - p) / n_calls), se_group = std::sqrt(P * (1 - P) / kGroups);
  EXPECT_NEAR(call_share, p, 4 * se_call);
  EXPECT_NEAR(group_share, P, 4 * se_group);
  std::printf(
      "slow calls %.5f (expected %.5f, se %.5f); slow groups %.4f (expected %.4f, se %.4f); threshold %.4f s "
      "between %.4f and %.4f s; group e2e p50 %.4f s, p99 %.4f s\n",
      call_share, p, se_call, group_share, P, se_group, threshold, short_max, long_min, r.groups.e2e.p50,
      r.groups.e2e.p99);
  // The group summary is the per-request table's, grouped: the mean of each group's last call,
  // the median a slow group's (63% are slow), the p90 of calls a fast one's.
  EXPECT_NEAR(r.groups.e2e.mean, mean, 1e-9 * mean);
  EXPECT_EQ(r.groups.e2e.count, kGroups);
  EXPECT_GT(r.groups.e2e.p50, threshold);
  EXPECT_LT(r.e2e.p90, threshold);
  // Offered: requests per second, the group rate times the fan-out.
  EXPECT_DOUBLE_EQ(r.offered_rate_per_s, 0.25 * kFanout);
  const auto j = to_json(r);
  ASSERT_TRUE(j.contains("groups"));
  EXPECT_EQ(j["groups"]["count"], kGroups);
  EXPECT_EQ(j["groups"]["fanout"], kFanout);
  EXPECT_DOUBLE_EQ(j["groups"]["e2e_s"]["p99"].get<double>(), r.groups.e2e.p99);
  EXPECT_EQ(requests_json(r)["group"].size(), r.requests.size());
}

// The calls of a group reach a replica together and share its first iteration: one replica
// prefills all 100 in one step.
TEST(ServingFanout, CallsOfAGroupShareAnIteration) {
  auto j = fanout_scenario(5);
  j["serving"]["replicas"] = 1;
  const ServingResult r = simulate_once(test::parse(j));
  for (const auto& q : r.requests) {
    ASSERT_EQ(q.queue_s, 0);
    ASSERT_EQ(q.ttft_s, r.requests[std::size_t(q.group) * kFanout].ttft_s);
  }
}

TEST(ServingFanout, FanoutOneIsAsBefore) {
  auto j = test::base_scenario();
  const ServingResult a = simulate_once(test::parse(j));
  j["serving"]["arrivals"]["fanout"] = 1;
  const ServingResult b = simulate_once(test::parse(j));
  const auto ja = to_json(a);
  EXPECT_FALSE(ja.contains("groups"));
  EXPECT_FALSE(ja["provenance"].contains("fanout"));
  EXPECT_EQ(ja.dump(), to_json(b).dump());
  EXPECT_EQ(requests_json(a).dump(), requests_json(b).dump());
  for (std::size_t i = 0; i < a.requests.size(); ++i) ASSERT_EQ(a.requests[i].group, std::int64_t(i));
}

TEST(ServingFanout, Deterministic) {
  const auto s = test::parse(fanout_scenario(50));
  const ServingResult a = simulate_once(s), b = simulate_once(s);
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  EXPECT_EQ(requests_json(a).dump(), requests_json(b).dump());
}

TEST(ServingFanout, BadInputNamesTheField) {
  auto j = fanout_scenario(10);
  j["serving"]["arrivals"]["fanout"] = 0;
  test::expect_parse_error(j, "$.serving.arrivals.fanout");
  j["serving"]["arrivals"]["fanout"] = "100";
  test::expect_parse_error(j, "$.serving.arrivals.fanout");
  j = fanout_scenario(10);
  j["serving"]["requests"] = 150;  // not whole groups of 100
  test::expect_parse_error(j, "$.serving.requests");
  // A trace's rows are the requests: no fan-out with one.
  const std::string trace = ::testing::TempDir() + "/fanout_trace.csv";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0,10,10\n";
  j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", trace}, {"fanout", 4}};
  test::expect_parse_error(j, "$.serving.arrivals.fanout");
}

}  // namespace
}  // namespace knee::serving
