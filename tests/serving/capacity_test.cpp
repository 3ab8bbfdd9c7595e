// Capacity planning against a closed form: one-token outputs of a fixed prompt, one request at a
// time per replica, make each replica a server of deterministic service time D (one prefill
// iteration, from the cost model). At rate R, n replicas run at utilization rho = R D / n; the
// answer must lie between the fluid bound (rho >= 1.2 cannot meet a TTFT SLO of 5 D for 90% of
// the run) and rho <= 0.5 (M/D/1-like waits far below 4 D), be monotone in R, and be minimal.
#include <gtest/gtest.h>

#include <cmath>

#include "serving_util.hpp"
#include "workloads/serving/capacity.hpp"
#include "workloads/serving/capacity_schema.hpp"
#include "workloads/serving/iteration_cost.hpp"

namespace knee::serving {
namespace {

nlohmann::json md1_json() {
  auto j = test::base_scenario();
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  j["serving"]["lengths"] = {{"prompt_tokens", 512}, {"output_tokens", 1}};
  j["serving"]["requests"] = 2000;
  return j;
}

// One prefill iteration of the prompt on a replica of tp GPUs, as the simulation rounds it.
double service_s(std::int64_t tp) {
  auto j = md1_json();
  j["serving"]["tp"] = tp;
  const auto s = test::parse(j);
  IterationCost c(s);
  return ps_to_s(s_to_ps_ceil(c.iteration_s(512, c.prefill_attention_s(512, 0), 1, false)));
}

ServingScenario md1_scenario() {
  auto j = md1_json();
  j["serving"]["slo"] = {{"ttft_s", 5 * service_s(1)}};
  return test::parse(j);
}

// Fewest tp-1 replicas the search found to meet the SLOs (0: none).
std::int64_t fewest_tp1(const CapacityResult& r) {
  std::int64_t n = 0;
  for (const auto& c : r.tried)
    if (c.tp == 1 && c.meets && (n == 0 || c.replicas < n)) n = c.replicas;
  return n;
}

CapacityResult plan(const ServingScenario& s, double rate) {
  CapacityOptions o;
  o.rate_per_s = rate;
  o.disaggregated = false;
  o.max_gpus = 64;
  return plan_capacity(s, o);
}

TEST(ServingCapacity, ReplicasWithinTheQueueingBounds) {
  const auto s = md1_scenario();
  const double D = service_s(1);
  for (double load : {3.0, 6.0}) {  // R D: the replicas a fluid model would keep exactly busy
    const double R = load / D;
    const auto r = plan(s, R);
    const std::int64_t n = fewest_tp1(r);
    ASSERT_GT(n, 0) << "R " << R;
    EXPECT_GT(double(n), load / 1.2) << "R " << R;
    EXPECT_LE(double(n), std::ceil(2 * load)) << "R " << R;
    // Minimal: one fewer replica misses the SLOs, re-simulated here.
    CapacityCandidate c;
    c.tp = 1;
    c.replicas = n - 1;
    c.gpus = n - 1;
    if (n > 1) { EXPECT_LT(slo_attainment(s, simulate_at(with_layout(s, c, R), R).requests), s.serving.goodput_share); }
    // And the best over all TPs needs more than one GPU once one replica saturates (R D > 1).
    ASSERT_GE(r.best, 0);
    EXPECT_GT(r.tried[std::size_t(r.best)].gpus, 1);
    EXPECT_LE(r.tried[std::size_t(r.best)].gpus, n);
  }
}

TEST(ServingCapacity, MonotoneInRate) {
  const auto s = md1_scenario();
  const double D = service_s(1);
  std::int64_t prev = 0;
  for (double load : {0.5, 1.0, 2.0, 4.0, 8.0}) {
    const auto r = plan(s, load / D);
    ASSERT_GE(r.best, 0) << load;
    const std::int64_t g = r.tried[std::size_t(r.best)].gpus;
    EXPECT_GE(g, prev) << "doubling the rate to " << load / D << " req/s needed fewer GPUs";
    prev = g;
  }
}

TEST(ServingCapacity, TpServiceTimesAreTheCostModels) {
  // The larger TP a replica has, the shorter its prefill, but not below a linear speedup.
  const double d1 = service_s(1), d2 = service_s(2);
  EXPECT_LT(d2, d1);
  EXPECT_GT(d2, d1 / 2);
}

TEST(ServingCapacity, MaxRateHoldsBelowAndBreaksAbove) {
  auto j = md1_json();
  j["serving"]["replicas"] = 2;
  j["serving"]["arrivals"]["rate_per_s"] = 1 / service_s(1);
  j["serving"]["slo"] = {{"ttft_s", 5 * service_s(1)}};
  const auto s = test::parse(j);
  const auto m = find_max_rate(s, 10);
  ASSERT_TRUE(m.computed);
  ASSERT_GT(m.lower_rps, 0);
  ASSERT_GT(m.upper_rps, m.lower_rps);
  EXPECT_LT(m.upper_rps / m.lower_rps, 1.1);  // 10 runs narrow a factor-2 bracket below 10%
  EXPECT_GE(slo_attainment(s, simulate_at(s, m.lower_rps).requests), s.serving.goodput_share);
  EXPECT_LT(slo_attainment(s, simulate_at(s, m.upper_rps).requests), s.serving.goodput_share);
  // Two servers of capacity 1 / D each: the SLO holds at rho <= 0.5 and fails at rho >= 1.2 (the
  // bounds of ReplicasWithinTheQueueingBounds), so the knee lies in between.
  const double D = service_s(1);
  EXPECT_LT(m.max_rate_rps, 1.2 * 2 / D);
  EXPECT_GE(m.max_rate_rps, 0.5 * 2 / D);
  // One request at a time, nothing preempted, no batch to fill: TTFT past 5 D is waiting.
  EXPECT_EQ(m.cause, "queueing") << m.detail;
}

TEST(ServingCapacity, BatchLimitAndPreemptionCauses) {
  auto j = test::base_scenario();
  j["serving"]["replicas"] = 1;
  j["serving"]["lengths"] = {{"prompt_tokens", 128}, {"output_tokens", 256}};
  j["serving"]["batching"] = {{"max_batch", 4}, {"max_tokens_per_iter", 1024}};
  j["serving"]["slo"] = {{"ttft_s", 0.5}};
  j["serving"]["requests"] = 400;
  const auto m = find_max_rate(test::parse(j), 8);
  EXPECT_EQ(m.cause, "decode_batch_limit") << m.detail;
  // A cache of 3 requests' blocks under a batch of 64: decodes outgrow it and are preempted.
  j["serving"]["batching"] = {{"max_batch", 64}, {"max_tokens_per_iter", 1024}};
  j["serving"]["kv_cache"] = {{"num_blocks", 3 * (128 + 256) / 16}};
  const auto p = find_max_rate(test::parse(j), 8);
  EXPECT_EQ(p.cause, "kv_cache_preemption") << p.detail;
}

TEST(ServingCapacity, DisaggregatedPoolsAreSearched) {
  auto j = md1_json();
  j["serving"]["lengths"] = {{"prompt_tokens", 512}, {"output_tokens", 32}};
  j["serving"]["batching"] = {{"max_batch", 64}, {"max_tokens_per_iter", 1024}};
  j["serving"]["requests"] = 300;
  j["serving"]["slo"] = {{"ttft_s", 0.5}, {"tpot_s", 0.05}};
  const auto s = test::parse(j);
  CapacityOptions o;
  o.rate_per_s = 200;  // beyond one replica (asserted below), so the pools' counts of 2+ are tried
  o.max_gpus = 16;
  const auto both = plan_capacity(s, o);
  o.disaggregated = false;
  const auto colo = plan_capacity(s, o);
  std::int64_t disagg = 0;
  for (const auto& c : both.tried) {
    if (!c.disaggregated()) continue;
    ++disagg;
    EXPECT_EQ(c.prefill_replicas + c.decode_replicas, c.replicas);
    EXPECT_GE(c.decode_replicas, 1);
  }
  EXPECT_GT(disagg, 0);
  ASSERT_GE(colo.best, 0);
  ASSERT_GE(both.best, 0);
  EXPECT_GT(colo.tried[std::size_t(colo.best)].gpus, 1);
  // A larger search space never needs more GPUs.
  EXPECT_LE(both.tried[std::size_t(both.best)].gpus, colo.tried[std::size_t(colo.best)].gpus);
}

TEST(ServingCapacity, Deterministic) {
  const auto s = md1_scenario();
  const double R = 3 / service_s(1);
  EXPECT_EQ(to_json(plan(s, R)).dump(), to_json(plan(s, R)).dump());
}

TEST(ServingCapacity, BadInput) {
  const auto s = md1_scenario();
  for (double r : {0.0, -1.0, std::nan("")}) EXPECT_THROW(plan(s, r), InputError) << r;
  auto j = md1_json();  // no SLO: nothing to plan against
  try {
    plan(test::parse(j), 10);
    FAIL() << "no SLO accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.serving.slo"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace knee::serving
