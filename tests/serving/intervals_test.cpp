// Intervals of a serving run over request seeds and profile draws (workloads/serving/
// serving_intervals.hpp, docs/uncertainty.md "Serving").
#include <gtest/gtest.h>

#include <cmath>

#include "tests/common/error_of.hpp"
#include "tests/serving/serving_util.hpp"
#include "workloads/serving/serving_intervals.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

using test::base_scenario;
using test::parse;

nlohmann::ordered_json intervals(const ServingScenario& s, const ServingIntervalOptions& o,
                                 ServingResult* out = nullptr) {
  ServingOptions opt;
  const ServingResult r = simulate_serving(s, opt);
  if (out) *out = r;
  return serving_intervals(s, opt, r, o);
}

double width(const nlohmann::ordered_json& iv) { return iv[1].get<double>() - iv[0].get<double>(); }

TEST(ServingIntervals, NoneUnlessAskedAndAbsentFromTheJson) {
  const auto s = parse(base_scenario());
  ServingResult r;
  EXPECT_TRUE(intervals(s, {}, &r).is_null());
  EXPECT_FALSE(to_json(r).contains("intervals"));  // results without repetitions are as before
}

TEST(ServingIntervals, SeedsContainThePointAndAreBitIdenticalOnOneOrSeveralThreads) {
  const auto s = parse(base_scenario());
  ServingIntervalOptions o;
  o.seeds = 6;
  o.threads = 1;
  ServingResult r;
  const auto one = intervals(s, o, &r);
  o.threads = 4;
  const auto four = intervals(s, o);
  EXPECT_EQ(one.dump(), four.dump());
  EXPECT_EQ(one.dump(), intervals(s, o).dump());  // and again
  EXPECT_EQ(one["samples"], 6);
  EXPECT_EQ(one["varied"], "request seeds");
  const auto j = to_json(r);
  for (const char* p : {"/throughput_tokens_per_s", "/request_throughput_rps", "/ttft_s/p50", "/e2e_s/mean"}) {
    const nlohmann::ordered_json::json_pointer ptr(p);
    const double v = j.at(ptr).get<double>();
    const auto& iv = one.at(ptr);
    EXPECT_LE(iv[0].get<double>(), v) << p;
    EXPECT_GE(iv[1].get<double>(), v) << p;
    EXPECT_GT(width(iv), 0) << p;  // arrivals differ from seed to seed
  }
}

TEST(ServingIntervals, SeedsAreTheScenarioSeedAndTheNext) {
  // Two seeds: the scenario's seed (7) and 8, by hand: mean -/+ t(0.975, 1) x sd x sqrt(1 + 1/2).
  auto j = base_scenario();
  ServingIntervalOptions o;
  o.seeds = 2;
  const auto iv = intervals(parse(j), o);
  const double a = simulate_serving(parse(j)).ttft.mean;
  j["serving"]["seed"] = 8;
  const double b = simulate_serving(parse(j)).ttft.mean;
  ASSERT_NE(a, b);
  const double mean = (a + b) / 2, sd = std::abs(a - b) / std::sqrt(2.0);
  const double half = 12.706 * sd * std::sqrt(1.5);
  EXPECT_NEAR(iv["ttft_s"]["mean"][0].get<double>(), mean - half, 1e-12 * mean);
  EXPECT_NEAR(iv["ttft_s"]["mean"][1].get<double>(), mean + half, 1e-12 * mean);
}

TEST(ServingIntervals, ThroughputIntervalNarrowsAsTheRunGrows) {
  // The run-to-run spread of a throughput over n requests falls about as 1/sqrt(n): 16 times the
  // requests, about 4 times narrower; the test asks for at least 2 (8 seeds estimate each sd
  // within about 25%).
  ServingIntervalOptions o;
  o.seeds = 8;
  double rel[2];
  const int requests[2] = {100, 1600};
  for (int k = 0; k < 2; ++k) {
    auto j = base_scenario();
    j["serving"]["requests"] = requests[k];
    ServingResult r;
    const auto iv = intervals(parse(j), o, &r);
    rel[k] = width(iv["throughput_tokens_per_s"]) / r.throughput_tokens_per_s;
  }
  EXPECT_LT(rel[1], rel[0] / 2) << rel[0] << " " << rel[1];
}

TEST(ServingIntervals, ProfileWithoutIntervalsCollapsesToThePointExactly) {
  // A draw with neither source varies nothing: every figure's interval is [value, value].
  const auto s = parse(base_scenario());
  ServingIntervalOptions o;
  o.samples = 3;
  o.sources.parameters = false;
  o.sources.run_to_run = false;
  ServingResult r;
  const auto iv = intervals(s, o, &r);
  const auto j = to_json(r);
  int checked = 0;
  for (const auto& p : serving_interval_figures()) {
    const nlohmann::ordered_json::json_pointer ptr(p);
    if (!j.contains(ptr) || !j.at(ptr).is_number()) continue;
    ASSERT_TRUE(iv.contains(ptr)) << p;
    EXPECT_EQ(iv.at(ptr)[0].get<double>(), j.at(ptr).get<double>()) << p;
    EXPECT_EQ(iv.at(ptr)[1].get<double>(), j.at(ptr).get<double>()) << p;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

TEST(ServingIntervals, ProfileDrawsMoveTheLatencies) {
  const auto s = parse(base_scenario());  // h200: measured, with intervals
  ServingIntervalOptions o;
  o.samples = 4;
  ServingResult r;
  const auto iv = intervals(s, o, &r);
  EXPECT_EQ(iv["varied"], "profile draws");
  EXPECT_GT(iv["parameters_drawn"].get<int>(), 0);
  EXPECT_GT(width(iv["tpot_s"]["mean"]), 0);
  EXPECT_LE(iv["tpot_s"]["mean"][0].get<double>(), r.tpot.mean);
  EXPECT_GE(iv["tpot_s"]["mean"][1].get<double>(), r.tpot.mean);
}

TEST(ServingIntervals, BadRequestsAreOneLine) {
  const auto s = parse(base_scenario());
  ServingIntervalOptions o;
  o.seeds = 1;
  EXPECT_EQ(knee::test::error_of([&] { intervals(s, o); }), "<test>: seeds: expected an integer >= 2, got 1");
  o.seeds = 2;
  o.samples = 2;
  EXPECT_EQ(knee::test::error_of([&] { intervals(s, o); }),
            "<test>: seeds and samples: expected one source of repetitions, got both");
}

}  // namespace
}  // namespace knee::serving
