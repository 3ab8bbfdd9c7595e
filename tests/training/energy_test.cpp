// Energy and cost of a step (docs/workloads.md, "Energy and cost"): the energy is the kernels'
// time at the profile's power for their utilization plus idle power for everything else; the cost
// is plain arithmetic on the scenario's prices, so both are checked exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/error.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/layer_model.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

nlohmann::json one_gpu() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 1,
    "model": {"layers": 4, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 4},
    "training": {"precision": "mixed", "recompute": "none", "framework": "megatron"}})");
}

using test::scen;

std::string error_of(const nlohmann::json& j) { return test::scenario_error(j); }

TEST(WorkloadEnergy, PowerFollowsTheProfilesModel) {
  const Profile p = Profile::builtin("h100");
  ASSERT_TRUE(p.has_power());
  const auto ref = p.power_reference();
  // Utilization 1 of the calibration workloads draws the calibrated powers; nothing draws idle.
  EXPECT_DOUBLE_EQ(workload::work_power_W(p, ref.flops_per_s, 0, 1), p.power_W(1, 0));
  EXPECT_DOUBLE_EQ(workload::work_power_W(p, 0, ref.memory_Bps, 1), p.power_W(0, 1));
  EXPECT_DOUBLE_EQ(workload::work_power_W(p, 0, 0, 0), p.power_W(0, 0));
  // Half the GEMM rate: half-way between idle and compute power.
  EXPECT_DOUBLE_EQ(workload::work_power_W(p, ref.flops_per_s, 0, 2),
                   p.power_W(0, 0) + (p.power_W(1, 0) - p.power_W(0, 0)) / 2);
  // A derived profile's reference is its own bf16 8192^3 GEMM rate and copy bandwidth.
  EXPECT_DOUBLE_EQ(ref.flops_per_s, p.gemm_tflops(8192, 8192, 8192, "bf16") * 1e12);
  EXPECT_DOUBLE_EQ(ref.memory_Bps, p.memory_bandwidth_Bps());
  // The measured h200 carries the rates its power phases ran at.
  const Profile h200 = Profile::builtin("h200");
  EXPECT_DOUBLE_EQ(h200.power_reference().flops_per_s,
                   h200.json().at("power").at("calibration_rates").at("compute_tflops").get<double>() * 1e12);
}

TEST(WorkloadEnergy, OneGpuStepIsItsKernelsPlusIdleTime) {
  const Scenario s = scen(one_gpu());
  const SimResult r = simulate(s);
  ASSERT_TRUE(r.simulated);
  ASSERT_TRUE(r.energy.available);
  EXPECT_EQ(r.energy.power_provenance, "derived");
  const Profile p = Profile::builtin("h100");
  const workload::CommTimeFn none = [](int, CollOp, double) { return 0.0; };
  const auto f = workload::chunk_cost(s, p, 4, true, true, false, none);
  const auto b = workload::chunk_cost(s, p, 4, true, true, true, none);
  ASSERT_GT(f.energy_J, 0);
  const workload::StageParams sp = workload::stage_params(s, stage_layers(s), 0);
  const double opt_s = workload::optimizer_time_s(s, p, sp), opt_J = workload::optimizer_energy_J(s, p, sp);
  const double busy = 4 * (f.total_s + b.total_s);
  const double expected = 4 * (f.energy_J + b.energy_J) + opt_J + (r.step_time_s - busy - opt_s) * p.power_W(0, 0);
  EXPECT_NEAR(r.energy.gpu_J_per_step, expected, 1e-9 * expected);
  // Between idle and TDP, and with no other IT power and PUE 1 the facility is the GPUs.
  EXPECT_GT(r.energy.avg_power_per_gpu_W, p.power_W(0, 0));
  EXPECT_LE(r.energy.avg_power_per_gpu_W, 700);
  EXPECT_DOUBLE_EQ(r.energy.facility_J_per_step, r.energy.gpu_J_per_step);
  EXPECT_DOUBLE_EQ(r.energy.facility_J_per_token, r.energy.gpu_J_per_step / (4.0 * 2048));
  EXPECT_FALSE(r.cost.priced);
  EXPECT_FALSE(r.cost.run);
  const auto j = r.to_json();
  EXPECT_TRUE(j.at("cost").is_null());
  EXPECT_EQ(j.at("energy").at("power_model"), "derived");
}

TEST(WorkloadEnergy, BubblesLowerTheAveragePower) {
  // Four stages: with 4 microbatches the 1F1B bubble is 3/7 of the step, with 64 it is 3/67.
  auto j = one_gpu();
  j["gpus"] = 4;
  j["parallelism"]["pp"] = 4;
  j["parallelism"]["global_batch"] = 4;
  const SimResult few = simulate(scen(j));
  j["parallelism"]["global_batch"] = 64;
  const SimResult many = simulate(scen(j));
  EXPECT_GT(few.breakdown.bubble_s / few.step_time_s, 0.3);
  EXPECT_LT(many.breakdown.bubble_s / many.step_time_s, 0.1);
  EXPECT_LT(few.energy.avg_power_per_gpu_W + 20, many.energy.avg_power_per_gpu_W);
  // The same work per token, but the idle GPUs of the bubble cost energy.
  EXPECT_GT(few.energy.facility_J_per_token, many.energy.facility_J_per_token);
}

TEST(WorkloadCost, PricesFacilityAndRunAreExactArithmetic) {
  auto j = one_gpu();
  j["cost"] = {
      {"usd_per_gpu_hour", 2.5}, {"usd_per_kWh", 0.08}, {"pue", 1.25}, {"other_W_per_gpu", 150}, {"train_tokens", 1e9}};
  const SimResult r = simulate(scen(j));
  const double step = r.step_time_s, tokens = 4.0 * 2048;
  const double facility = (r.energy.gpu_J_per_step + 150 * step) * 1.25;
  EXPECT_DOUBLE_EQ(r.energy.facility_J_per_step, facility);
  const double usd = 2.5 * step / 3600 + 0.08 * facility / 3.6e6;
  ASSERT_TRUE(r.cost.priced);
  EXPECT_DOUBLE_EQ(r.cost.usd_per_step, usd);
  EXPECT_DOUBLE_EQ(r.cost.usd_per_million_tokens, usd / tokens * 1e6);
  ASSERT_TRUE(r.cost.run);
  const double steps = std::ceil(1e9 / tokens);
  EXPECT_EQ(r.cost.run_steps, steps);
  EXPECT_DOUBLE_EQ(r.cost.run_usd, steps * usd);
  EXPECT_DOUBLE_EQ(r.cost.run_gpu_hours, steps * step / 3600);
  EXPECT_DOUBLE_EQ(r.cost.run_days, steps * step / 86400);
  EXPECT_DOUBLE_EQ(r.cost.run_facility_MWh, steps * facility / 3.6e6 / 1000);
  const auto c = r.to_json().at("cost");
  EXPECT_EQ(c.at("usd_per_gpu_hour"), 2.5);
  EXPECT_EQ(c.at("run").at("steps"), steps);
  // Only a GPU-hour price: electricity is not charged on top.
  j["cost"] = {{"usd_per_gpu_hour", 2.0}};
  const SimResult g = simulate(scen(j));
  EXPECT_DOUBLE_EQ(g.cost.usd_per_step, 2.0 * g.step_time_s / 3600);
  EXPECT_TRUE(g.to_json().at("cost").at("usd_per_kWh").is_null());
  EXPECT_FALSE(g.to_json().at("cost").contains("run"));  // no train_tokens: no whole-run estimate
}

TEST(WorkloadCost, ErrorsNameTheKeys) {
  auto j = one_gpu();
  j["cost"] = {{"pue", 0.9}};
  EXPECT_NE(error_of(j).find("$.cost.pue: expected a power usage effectiveness between 1 and 10"), std::string::npos)
      << error_of(j);
  j["cost"] = {{"usd_per_gpu_hour", -2}};
  EXPECT_NE(error_of(j).find("$.cost.usd_per_gpu_hour"), std::string::npos) << error_of(j);
  j["cost"] = {{"usd_per_hour", 2}};
  EXPECT_NE(error_of(j).find("$.cost.usd_per_hour"), std::string::npos) << error_of(j);
  j["cost"] = {{"train_tokens", "many"}};
  EXPECT_NE(error_of(j).find("$.cost.train_tokens"), std::string::npos) << error_of(j);
}

TEST(WorkloadEnergy, ProfileWithoutPowerModelReportsNoEnergy) {
  auto pj = Profile::builtin("h100").json();
  pj["power"] = {{"note", "not measured"}};
  const std::string path = std::string(KNEE_BINARY_DIR) + "/energy_test_no_power.json";
  std::ofstream(path) << pj.dump();
  auto j = one_gpu();
  j["profile"] = path;
  j["cost"] = {{"usd_per_gpu_hour", 2.0}};
  const SimResult r = simulate(scen(j));
  ASSERT_TRUE(r.simulated);
  EXPECT_FALSE(r.energy.available);
  EXPECT_TRUE(r.to_json().at("energy").is_null());
  // The GPU-hour price needs no power model; an electricity price does.
  ASSERT_TRUE(r.cost.priced);
  EXPECT_DOUBLE_EQ(r.cost.usd_per_step, 2.0 * r.step_time_s / 3600);
  j["cost"] = {{"usd_per_kWh", 0.1}};
  try {
    simulate(scen(j));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.cost.usd_per_kWh: expected a profile with a power model"),
              std::string::npos)
        << e.what();
  }
}

TEST(WorkloadFailures, DalysGoodputAndOptimumInterval) {
  auto j = one_gpu();
  j["gpus"] = 8;
  j["parallelism"]["dp"] = 8;
  j["parallelism"]["global_batch"] = 8;
  j["failures"] = {{"gpu_mtbf_hours", 80.0}, {"restart_s", 120}, {"storage_write_GBps", 0.5}};
  j["cost"] = {{"usd_per_gpu_hour", 3.0}, {"train_tokens", 1e8}};
  const Scenario s = scen(j);
  const SimResult r = simulate(s);
  const auto& f = r.failures;
  ASSERT_TRUE(f.enabled);
  const double bytes = workload::total_params(s) * (2 + 12);  // bf16 weights, fp32 master and Adam moments
  EXPECT_DOUBLE_EQ(f.checkpoint_bytes, bytes);
  const double d = bytes / 0.5e9, M = 80.0 * 3600 / 8, R = 120;
  EXPECT_DOUBLE_EQ(f.checkpoint_write_s, d);
  EXPECT_DOUBLE_EQ(f.system_mtbf_s, M);
  const double x = d / (2 * M);
  const double tau = std::sqrt(2 * d * M) * (1 + std::sqrt(x) / 3 + x / 9) - d;
  EXPECT_DOUBLE_EQ(f.checkpoint_interval_s, tau);
  EXPECT_TRUE(f.interval_optimal);
  auto goodput = [&](double t) { return t / (M * std::exp(R / M) * std::expm1((t + d) / M)); };
  EXPECT_DOUBLE_EQ(f.goodput, goodput(tau));
  // Daly's interval is near the true optimum: halving or doubling it does worse.
  EXPECT_GT(f.goodput, goodput(tau / 2));
  EXPECT_GT(f.goodput, goodput(tau * 2));
  EXPECT_GT(f.goodput, 0.5);
  EXPECT_LT(f.goodput, 1);
  // The run pays for lost work, checkpoints and restarts.
  ASSERT_TRUE(r.cost.run);
  const double steps = std::ceil(1e8 / (8.0 * 2048));
  EXPECT_DOUBLE_EQ(r.cost.run_days, steps * r.step_time_s / 86400 / f.goodput);
  EXPECT_DOUBLE_EQ(r.cost.run_usd, steps * r.cost.usd_per_step / f.goodput);
  EXPECT_EQ(r.to_json().at("failures").at("interval"), "Daly's optimum");
  // A given interval, and failures so rare that only the checkpoints cost: tau / (tau + delta).
  j["failures"] = {
      {"gpu_mtbf_hours", 1e12}, {"restart_s", 120}, {"checkpoint_write_s", 10}, {"checkpoint_interval_s", 990}};
  const SimResult rare = simulate(scen(j));
  EXPECT_NEAR(rare.failures.goodput, 0.99, 1e-6);
  EXPECT_FALSE(rare.failures.interval_optimal);
}

TEST(WorkloadFailures, ErrorsNameTheKeys) {
  auto j = one_gpu();
  j["failures"] = {{"gpu_mtbf_hours", 1000}, {"restart_s", 60}};
  EXPECT_NE(error_of(j).find("$.failures.checkpoint_write_s: expected exactly one of checkpoint_write_s and "
                             "storage_write_GBps (> 0)"),
            std::string::npos)
      << error_of(j);
  j["failures"] = {{"gpu_mtbf_hours", 1000}, {"restart_s", 60}, {"checkpoint_write_s", 5}, {"storage_write_GBps", 9}};
  EXPECT_NE(error_of(j).find("$.failures.storage_write_GBps"), std::string::npos) << error_of(j);
  j["failures"] = {{"gpu_mtbf_hours", 0}, {"restart_s", 60}, {"checkpoint_write_s", 5}};
  EXPECT_NE(error_of(j).find("$.failures.gpu_mtbf_hours"), std::string::npos) << error_of(j);
  j["failures"] = {{"gpu_mtbf_hours", 1000}, {"checkpoint_write_s", 5}};
  EXPECT_NE(error_of(j).find("$.failures.restart_s"), std::string::npos) << error_of(j);
}

}  // namespace
}  // namespace knee
