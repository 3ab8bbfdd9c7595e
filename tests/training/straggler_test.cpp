// Stragglers (docs/workloads.md, "Stragglers"): per-GPU variation runs every data-parallel
// replica's pipeline with its own op times and meets them in the gradient reductions. Without
// variation that must give the nominal step to the picosecond; with it, exact closed forms where
// the schedule makes them exact, and order statistics where it does not.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/error.hpp"
#include "profile/profile.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;

std::string error_of(const nlohmann::json& j) { return test::scenario_error(j); }

// 2 servers: tp 2 (in a server), pp 4, dp 2, tied embedding, ZeRO-1.
nlohmann::json pipe_json() {
  auto j = test::pipe_json();
  j["parallelism"]["zero"] = 1;
  return j;
}

// 4 GPUs of one server, data parallel only.
nlohmann::json dp_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 4,
    "model": {"layers": 4, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 4, "micro_batch": 1, "global_batch": 16},
    "training": {"overlap_grad_reduce": false}})");
}

TEST(WorkloadStragglers, WithoutVariationTheNominalStepExactly) {
  // A named straggler with slowdown 1 switches the replica runs on without changing any op: the
  // merged data-parallel streams must then reproduce the folded simulation bit for bit.
  std::vector<nlohmann::json> cases{pipe_json(), dp_json()};
  auto j = pipe_json();
  j["parallelism"]["schedule"] = "interleaved";
  j["parallelism"]["virtual_stages"] = 2;
  j["training"]["overlap_grad_reduce"] = false;
  cases.push_back(j);
  j = pipe_json();
  j["parallelism"]["zero"] = 3;
  cases.push_back(j);
  for (auto c : cases) {
    const SimResult nominal = simulate(scen(c));
    c["stragglers"] = {{"slow_gpus", {{{"gpu", 3}, {"slowdown", 1.0}}}}};
    const SimResult r = simulate(scen(c));
    ASSERT_TRUE(r.stragglers.enabled);
    EXPECT_EQ(r.step_time_s, nominal.step_time_s) << c.dump();
    EXPECT_EQ(r.breakdown.straggler_s, 0);
    EXPECT_EQ(r.stragglers.replicas, c["parallelism"]["dp"].get<int>());
  }
}

TEST(WorkloadStragglers, OneSlowGpuStretchesItsReplicasKernels) {
  // Data parallel only, reductions after the backward: the step is the slowest replica's compute,
  // then the reductions and the optimizer, so a GPU 1.5x slower adds half its kernel time.
  auto j = dp_json();
  const SimResult nominal = simulate(scen(j));
  j["stragglers"] = {{"slow_gpus", {{{"gpu", 2}, {"slowdown", 1.5}}}}};
  const SimResult r = simulate(scen(j));
  const double kernels = nominal.breakdown.compute_s - nominal.breakdown.launch_gap_s;
  EXPECT_NEAR(r.breakdown.straggler_s, 0.5 * kernels, 1e-9);  // ps rounding of each op
  EXPECT_EQ(r.stragglers.slowest_gpu, 2);
  EXPECT_EQ(r.stragglers.slowest_gpu_factor, 1.5);
  EXPECT_EQ(r.stragglers.slowest_replica, 2);
  const auto& b = r.breakdown;
  EXPECT_NEAR(b.compute_s + b.exposed_comm_s() + b.bubble_s + b.optimizer_s + b.straggler_s, r.step_time_s, 1e-12);
  EXPECT_NEAR(r.tokens_per_s, 16.0 * 2048 / r.step_time_s, 1e-9 * r.tokens_per_s);
  EXPECT_EQ(r.to_json().at("stragglers").at("slowest_gpu"), 2);
  EXPECT_TRUE(nominal.to_json().at("stragglers").is_null());
}

TEST(WorkloadStragglers, ATensorParallelGroupMovesAtItsSlowestMember) {
  auto j = pipe_json();
  j["stragglers"] = {{"slow_gpus", {{{"gpu", 0}, {"slowdown", 1.3}}}}};
  const SimResult one = simulate(scen(j));
  // GPU 1 is GPU 0's tensor-parallel peer (tp is the fastest-varying rank index).
  j["stragglers"] = {{"slow_gpus", {{{"gpu", 0}, {"slowdown", 1.3}}, {{"gpu", 1}, {"slowdown", 1.3}}}}};
  const SimResult both = simulate(scen(j));
  EXPECT_EQ(one.step_time_s, both.step_time_s);
  EXPECT_GT(one.breakdown.straggler_s, 0);
}

TEST(WorkloadStragglers, SeededDeterministicAndVaried) {
  auto j = pipe_json();
  j["stragglers"] = {{"gpu_cv", 0.05}, {"op_cv", 0.05}};
  j["seed"] = 7;
  const SimResult a = simulate(scen(j)), b = simulate(scen(j));
  EXPECT_EQ(a.step_time_s, b.step_time_s);
  EXPECT_EQ(a.stragglers.slowest_gpu, b.stragglers.slowest_gpu);
  j["seed"] = 8;
  EXPECT_NE(simulate(scen(j)).step_time_s, a.step_time_s);
}

TEST(WorkloadStragglers, MoreReplicasWaitForASlowerSlowest) {
  // Order statistics: the step waits for the slowest of dp replicas, so the same per-GPU variation
  // costs more on more GPUs (expected maximum of 4 vs 64 lognormal factors with cv 3%: about
  // +1.0 and +2.4 standard deviations). Averaged over five seeds.
  auto slowdown = [](int dp) {
    double sum = 0;
    for (int seed = 0; seed < 5; ++seed) {
      auto j = dp_json();
      j["nodes"] = dp / 8 > 0 ? dp / 8 : 1;
      j["gpus"] = dp;
      j["parallelism"]["dp"] = dp;
      j["parallelism"]["global_batch"] = 4 * dp;
      j["stragglers"] = {{"gpu_cv", 0.03}};
      j["seed"] = seed;
      const SimResult r = simulate(scen(j));
      sum += r.step_time_s / r.stragglers.nominal_step_time_s - 1;
    }
    return sum / 5;
  };
  const double few = slowdown(4), many = slowdown(64);
  EXPECT_GT(many, few + 0.01);
  EXPECT_GT(many, 0.04);
  EXPECT_LT(many, 0.12);
}

TEST(WorkloadStragglers, ParametersFromTheProfile) {
  // from_profile: gpu_cv and op_cv from the profile's variability (the derived h100 carries the
  // H200's), an explicit value wins, and a profile without them is an error naming the key.
  const Profile h100 = Profile::builtin("h100");
  auto j = pipe_json();
  j["stragglers"] = {{"from_profile", true}};
  SimResult r = simulate(scen(j));
  EXPECT_EQ(r.stragglers.gpu_cv, h100.variability_cv("gpu_cv"));
  EXPECT_EQ(r.stragglers.op_cv, h100.variability_cv("op_cv"));
  EXPECT_EQ(r.stragglers.gpu_cv_from, "profile");
  j["stragglers"] = {{"from_profile", true}, {"op_cv", 0.0}};
  r = simulate(scen(j));
  EXPECT_EQ(r.stragglers.op_cv, 0);
  EXPECT_EQ(r.stragglers.op_cv_from, "scenario");
  EXPECT_EQ(r.stragglers.gpu_cv_from, "profile");
  auto pj = h100.json();
  pj.erase("variability");
  const std::string path = std::string(KNEE_BINARY_DIR) + "/straggler_test_no_variability.json";
  std::ofstream(path) << pj.dump();
  j["profile"] = path;
  try {
    simulate(scen(j));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.stragglers.from_profile: expected a profile with variability.gpu_cv"),
              std::string::npos)
        << e.what();
  }
}

TEST(WorkloadStragglers, StepsGiveTheSpreadOfStepTimes) {
  auto j = pipe_json();
  j["stragglers"] = {{"gpu_cv", 0.02}, {"op_cv", 0.03}};
  const SimResult one = simulate(scen(j));
  j["stragglers"]["steps"] = 20;
  const SimResult many = simulate(scen(j));
  const auto& g = many.stragglers;
  EXPECT_EQ(g.steps, 20);
  EXPECT_GT(g.step_sd_s, 0);
  EXPECT_LE(g.step_min_s, g.step_p5_s);
  EXPECT_LE(g.step_p5_s, g.step_p50_s);
  EXPECT_LE(g.step_p50_s, g.step_p95_s);
  EXPECT_LE(g.step_p95_s, g.step_max_s);
  EXPECT_GE(many.step_time_s, g.step_min_s);  // the mean
  EXPECT_LE(many.step_time_s, g.step_max_s);
  // The first step is the one-step run's, to the picosecond.
  EXPECT_LE(g.step_min_s, one.step_time_s);
  EXPECT_GE(g.step_max_s, one.step_time_s);
  EXPECT_EQ(one.stragglers.step_sd_s, 0);
  // The same GPUs in every step: without op variation the steps are identical.
  j["stragglers"] = {{"gpu_cv", 0.02}, {"steps", 5}};
  const SimResult fixed = simulate(scen(j));
  EXPECT_EQ(fixed.stragglers.step_sd_s, 0);
  j["stragglers"].erase("steps");
  EXPECT_EQ(fixed.step_time_s, simulate(scen(j)).step_time_s);
  const auto js = many.to_json().at("stragglers").at("step_time_s");
  EXPECT_EQ(js.at("mean").get<double>(), many.step_time_s);
  EXPECT_EQ(js.at("p95").get<double>(), g.step_p95_s);
}

TEST(WorkloadStragglers, ErrorsNameTheKeys) {
  auto j = pipe_json();
  j["stragglers"] = {{"gpu_cv", 1.5}};
  EXPECT_NE(error_of(j).find("$.stragglers.gpu_cv: expected a coefficient of variation in [0, 1)"), std::string::npos)
      << error_of(j);
  j["stragglers"] = {{"slow_gpus", {{{"gpu", 16}, {"slowdown", 2}}}}};
  EXPECT_NE(error_of(j).find("$.stragglers.slow_gpus[0].gpu: expected a GPU below gpus (16)"), std::string::npos)
      << error_of(j);
  j["stragglers"] = {{"slow_gpus", {{{"gpu", 1}, {"slowdown", 0.5}}}}};
  EXPECT_NE(error_of(j).find("slowdown: expected a compute-time multiplier between 1 and 100"), std::string::npos)
      << error_of(j);
  j["stragglers"] = {{"steps", 0}};
  EXPECT_NE(error_of(j).find("$.stragglers.steps"), std::string::npos) << error_of(j);
  j["stragglers"] = {{"jitter", 0.1}};
  EXPECT_NE(error_of(j).find("$.stragglers.jitter"), std::string::npos) << error_of(j);
}

}  // namespace
}  // namespace knee
