// The serving simulation's invariants: conservation, determinism, preemption, the router, and a
// lone request's timing against the cost model iteration by iteration.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "serving_util.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

void expect_conserved(const ServingResult& r, std::int64_t n) {
  ASSERT_EQ(r.completed, n);
  ASSERT_EQ(std::int64_t(r.requests.size()), n);
  std::int64_t out = 0, gaps = 0;
  for (const auto& q : r.requests) {
    out += q.output_tokens;
    gaps += q.output_tokens - 1;
    EXPECT_GE(q.queue_s, 0);
    EXPECT_GE(q.ttft_s, q.queue_s);
    EXPECT_GE(q.e2e_s, q.ttft_s);
  }
  EXPECT_EQ(r.total_output_tokens, out);
  // Every token after a request's first is one inter-token gap, counted once.
  EXPECT_EQ(r.itl.count, gaps);
}

TEST(ServingSim, EveryRequestCompletesOnce) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 4;
  j["serving"]["arrivals"] = {{"kind", "gamma"}, {"rate_per_s", 60}, {"cv", 2}};
  j["serving"]["lengths"] = {{"prompt_tokens", {{"kind", "lognormal"}, {"mean", 800}, {"cv", 1}}},
                             {"output_tokens", {{"kind", "uniform"}, {"min", 1}, {"max", 300}}}};
  j["serving"]["requests"] = 3000;
  expect_conserved(simulate_once(test::parse(j)), 3000);
}

TEST(ServingSim, SameSeedSameResult) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 2;
  j["serving"]["router"] = "least_outstanding_tokens";
  j["serving"]["lengths"]["prompt_tokens"] = {{"kind", "lognormal"}, {"mean", 600}, {"cv", 1.5}};
  j["serving"]["slo"] = {{"ttft_s", 0.2}};
  const auto s = test::parse(j);
  const auto a = simulate_serving(s), b = simulate_serving(s);
  EXPECT_EQ(to_json(a).dump(), to_json(b).dump());
  EXPECT_EQ(requests_json(a).dump(), requests_json(b).dump());
  j["serving"]["seed"] = 8;
  EXPECT_NE(requests_json(simulate_once(test::parse(j))).dump(), requests_json(a).dump());
}

TEST(ServingSim, SmallCachePreemptsAndStillCompletes) {
  auto j = test::base_scenario();
  // 64 blocks of 16 tokens hold two whole requests of 200 + 300 tokens; admission needs only the
  // prompt's blocks, so decodes run out of blocks and the newest request is recomputed.
  j["serving"]["kv_cache"] = {{"num_blocks", 64}};
  j["serving"]["batching"] = {{"max_batch", 8}};
  j["serving"]["lengths"] = {{"prompt_tokens", 200}, {"output_tokens", 300}};
  j["serving"]["arrivals"]["rate_per_s"] = 100;
  j["serving"]["requests"] = 60;
  const auto r = simulate_once(test::parse(j));
  expect_conserved(r, 60);
  EXPECT_GT(r.preemptions, 0);
  EXPECT_GT(r.requests_preempted, 0);
  EXPECT_LE(r.kv_peak_fraction, 1.0);
  EXPECT_GT(r.kv_peak_fraction, 0.9);
  // The series over time integrates to the time mean; no bin above the peak.
  double integral = 0, top = 0;
  for (double f : r.kv_series_fraction) {
    integral += f * r.kv_series_bin_s;
    top = std::max(top, f);
  }
  EXPECT_NEAR(integral, r.kv_mean_fraction * r.duration_s, 1e-9 * r.duration_s);
  EXPECT_LE(top, r.kv_peak_fraction + 1e-12);
  EXPECT_GT(top, 0.5);
  // The same load with a large cache: no preemption, and no request slower at the end.
  j["serving"].erase("kv_cache");
  const auto big = simulate_once(test::parse(j));
  EXPECT_EQ(big.preemptions, 0);
  EXPECT_LT(big.e2e.mean, r.e2e.mean);
}

TEST(ServingSim, LoneRequestFollowsTheCostModel) {
  auto j = test::base_scenario();
  j["serving"]["requests"] = 1;
  j["serving"]["lengths"] = {{"prompt_tokens", 1000}, {"output_tokens", 100}};
  const auto s = test::parse(j);
  const auto r = simulate_once(s);
  IterationCost c(s);
  // TTFT: one prefill iteration; then 99 decode iterations, each reading one more token of KV.
  const TimePs prefill = s_to_ps_ceil(c.iteration_s(1000, c.prefill_attention_s(1000, 0), 1, false));
  TimePs decode = 0;
  for (int g = 1; g < 100; ++g) decode += s_to_ps_ceil(c.iteration_s(1, c.decode_attention_s(1000 + g), 1, true));
  ASSERT_EQ(r.completed, 1);
  EXPECT_DOUBLE_EQ(r.requests[0].ttft_s, ps_to_s(prefill));
  EXPECT_DOUBLE_EQ(r.requests[0].e2e_s, ps_to_s(prefill + decode));
  EXPECT_NEAR(r.requests[0].tpot_s, ps_to_s(decode) / 99, 1e-15);
}

TEST(ServingSim, RoundRobinAndChunking) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 3;
  j["serving"]["requests"] = 30;
  j["serving"]["lengths"] = {{"prompt_tokens", 3000}, {"output_tokens", 20}};
  j["serving"]["batching"] = {{"max_tokens_per_iter", 1024}};
  const auto r = simulate_once(test::parse(j));
  for (std::size_t i = 0; i < r.requests.size(); ++i) EXPECT_EQ(r.requests[i].replica, int(i % 3));
  expect_conserved(r, 30);
  // Without chunking a 3,000-token prompt never fits a 1,024-token budget: refused up front, as
  // vLLM refuses a max_num_batched_tokens below max_model_len.
  j["serving"]["batching"]["chunked_prefill"] = false;
  EXPECT_THROW(simulate_once(test::parse(j)), InputError);
}

TEST(ServingSim, GoodputBracketsTheSlo) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 2;
  j["serving"]["requests"] = 400;
  j["serving"]["slo"] = {{"ttft_s", 0.1}, {"tpot_s", 0.02}};
  j["serving"]["goodput"] = {{"runs", 10}};
  const auto s = test::parse(j);
  const auto r = simulate_serving(s);
  ASSERT_TRUE(r.goodput.computed);
  ASSERT_GT(r.goodput.lower_rps, 0);
  ASSERT_GT(r.goodput.upper_rps, r.goodput.lower_rps);
  EXPECT_EQ(r.goodput.goodput_rps, r.goodput.lower_rps);
  // Re-simulated at the bracket's ends: met at the lower rate, missed at the upper.
  const double base = r.offered_rate_per_s;
  EXPECT_GE(slo_attainment(s, simulate_once(s, r.goodput.lower_rps / base).requests), 0.9);
  EXPECT_LT(slo_attainment(s, simulate_once(s, r.goodput.upper_rps / base).requests), 0.9);
  EXPECT_LE(r.goodput.runs, 10);
}

}  // namespace
}  // namespace knee::serving

namespace knee::serving {
namespace {

TEST(ServingSim, LeastOutstandingTokensAvoidsTheLoadedReplica) {
  // A long request on replica 0; the short ones after it go to replica 1 while replica 0 still
  // owes more tokens, and back to 0 once its request has finished.
  const std::string trace = ::testing::TempDir() + "/serving_lot_trace.csv";
  std::ofstream(trace) << "arrival_s,prompt_tokens,output_tokens\n0,6000,500\n0.001,100,10\n0.002,100,10\n"
                          "0.003,100,10\n100,100,10\n";
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 2;
  j["serving"]["router"] = "least_outstanding_tokens";
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", trace}};
  const auto r = simulate_once(test::parse(j));
  ASSERT_EQ(r.completed, 5);
  const int expect[5] = {0, 1, 1, 1, 0};  // at 100 s both are idle: ties go to the lowest index
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.requests[std::size_t(i)].replica, expect[i]) << i;
}

}  // namespace
}  // namespace knee::serving
