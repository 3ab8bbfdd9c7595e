// Slow GPUs in every-rank mode (simulation.slow_gpus; docs/workloads.md, "Slow GPUs"): a GPU's
// kernels F times as long slow its TP unit and the CP units of its (stage, dp) to its pace, the
// other replicas wait for it in the DP collectives; closed forms from the nominal run's compute,
// optimizer and communication terms.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "sim/collectives/nccl_params.hpp"
#include "tests/training/scenario_util.hpp"
#include "topologies/fabric.hpp"
#include "workloads/training/comm_timer.hpp"
#include "workloads/training/every_rank_jobs.hpp"
#include "workloads/training/every_rank_sim.hpp"
#include "workloads/training/stage_plans.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;
using workload::CommTimer;
using workload::EveryRankRun;
using workload::kTP;

SimResult run(const nlohmann::json& j) {
  SimOptions o;
  o.simulate_if_not_fits = true;
  return simulate(scen(j), o);
}

Topology topology_of(const Scenario& s) {
  FabricOptions fo = s.fabric;
  fo.nodes = s.nodes;
  if (s.nodes == 1) fo.kind = FabricKind::single_node;
  return build_topology(s.system, fo);
}

// Every unit's stats (the result reports only the critical unit's).
EveryRankRun units(const nlohmann::json& j) {
  const Scenario s = scen(j);
  const Topology topo = topology_of(s);
  const NcclParams P = nccl_params_for_gpu(s.system.gpu_model);  // the timer keeps a reference
  const Profile prof = load_scenario_profile(s);
  CommTimer timer(s, topo, P);
  const workload::StepPlan plan = workload::plan_step(s, prof, timer, false);
  return workload::run_every_rank(s, plan, timer, topo, false);
}

nlohmann::json slow(std::int64_t node, std::int64_t gpu, double f) {
  return {{"node", node}, {"gpu", gpu}, {"factor", f}};
}

// One DGX H100, tp 8: one unit, no DP, no PP.
nlohmann::json tp8_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 8,
    "model": {"layers": 4, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 32000},
    "parallelism": {"tp": 8, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 4, "sequence_parallel": true}})");
}

// Kernel time of the critical unit's ops: compute less launch gaps (gaps are host-side).
double kernels_s(const SimResult& r) { return r.breakdown.compute_s - r.breakdown.launch_gap_s; }

// One slow GPU (F = 1.5) in the only TP group: every op's kernels and the optimizer step take F
// times as long, nothing else changes: step' = step + (F - 1)(K + O), K the kernel time of the
// step's ops, O the optimizer step; exposed TP communication and launch gaps unchanged.
TEST(EveryRankSlowGpus, OneSlowGpuInTheTpGroupScalesEveryKernelByF) {
  const double F = 1.5;
  auto j = tp8_json();
  j["simulation"] = {{"every_rank", true}};
  const SimResult nominal = run(j);
  j["simulation"] = {{"slow_gpus", {slow(0, 3, F)}}};
  const SimResult r = run(j);
  EXPECT_FALSE(r.folded);
  EXPECT_EQ(r.every_rank["why"], "slow GPUs break the symmetry folding needs (run by itself)");
  const double K = kernels_s(nominal), O = nominal.breakdown.optimizer_s;
  const double want = nominal.step_time_s + (F - 1) * (K + O);
  std::printf(
      "nominal step %.9f s (kernels K %.9f s, optimizer O %.9f s); slow GPU x%.1f: %.9f s, closed form %.9f s\n",
      nominal.step_time_s, K, O, F, r.step_time_s, want);
  EXPECT_NEAR(kernels_s(r), F * K, 1e-12 * K);
  EXPECT_NEAR(r.breakdown.optimizer_s, F * O, 1e-12 * O);
  EXPECT_NEAR(r.step_time_s, want, 1e-9 * want);
  EXPECT_EQ(r.breakdown.launch_gap_s, nominal.breakdown.launch_gap_s);
  EXPECT_EQ(r.breakdown.tp_s, nominal.breakdown.tp_s);
  EXPECT_EQ(r.comm_total_s[kTP], nominal.comm_total_s[kTP]);
  const auto& g = r.every_rank["critical_unit"]["slow_gpu"];
  EXPECT_EQ(g["node"], 0);
  EXPECT_EQ(g["gpu"], 3);
  EXPECT_EQ(g["rank"], 3);
  EXPECT_EQ(g["factor"], F);
  EXPECT_EQ(g["via"], "tp");
  EXPECT_TRUE(nominal.every_rank["critical_unit"]["slow_gpu"].is_null());
}

// Two DGX H100 servers, tp 8, dp 2 (replica d on server d), gradients reduced after the whole
// backward in one bucket. A slow GPU (F = 2) on server 1: replica 1's ops take K more each of
// their kernel time; the gradient all-reduce starts when it is ready (the fast replica waits
// (F - 1) K for it) and runs as in the nominal step (A): step' = step + (F - 1)(K + O).
TEST(EveryRankSlowGpus, FastReplicaWaitsForTheSlowOneInTheAllReduce) {
  const double F = 2;
  auto j = test::two_replicas_one_bucket_json();
  j["simulation"] = {{"every_rank", true}};
  const SimResult nominal = run(j);
  const EveryRankRun n = units(j);
  j["simulation"] = {{"slow_gpus", {slow(1, 5, F)}}};
  const SimResult r = run(j);
  const EveryRankRun u = units(j);
  const double K = kernels_s(nominal), O = nominal.breakdown.optimizer_s, A = nominal.breakdown.dp_s;
  const double want = nominal.step_time_s + (F - 1) * (K + O);
  ASSERT_EQ(u.stats.size(), 2u);
  std::printf(
      "K %.9f s, O %.9f s, all-reduce A %.9f s: step %.9f s -> %.9f s (closed form %.9f s); fast replica's wait "
      "for the all-reduce %.9f s (expected (F-1)K + A = %.9f s)\n",
      K, O, A, nominal.step_time_s, r.step_time_s, want, u.stats[0].dp_exposed_s, (F - 1) * K + A);
  EXPECT_NEAR(r.step_time_s, want, 1e-9 * want);
  EXPECT_EQ(r.every_rank["critical_unit"]["dp"], 1);
  EXPECT_EQ(r.every_rank["critical_unit"]["slow_gpu"]["rank"], 13);
  EXPECT_NEAR(r.breakdown.dp_s, A, 1e-9 * A);  // the slow replica: the all-reduce alone
  // The fast replica: nominal kernels, then (F - 1) K of waiting plus the same all-reduce.
  EXPECT_EQ(u.stats[0].compute_s, n.stats[0].compute_s);
  EXPECT_NEAR(u.stats[0].dp_exposed_s, (F - 1) * K + A, 1e-9 * ((F - 1) * K + A));
  EXPECT_NEAR(u.stats[1].compute_s, F * n.stats[1].compute_s, 1e-12 * n.stats[1].compute_s);
  ASSERT_EQ(u.pace.size(), 2u);
  EXPECT_EQ(u.pace[0].op, 1);
  EXPECT_EQ(u.pace[1].op, F);
  EXPECT_TRUE(n.pace.empty());
}

// tp 8, cp 2 on two servers (cp rank c on server c): a slow GPU on server 1 paces both CP units of
// the (stage, dp), met at every layer's CP exchange: each unit's kernels take F K, not only its own.
TEST(EveryRankSlowGpus, SlowGpuInACpGroupSlowsEveryCpUnit) {
  const double F = 1.25;
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 2, "hidden": 2048, "heads": 16, "seq_len": 4096, "vocab": 0},
    "parallelism": {"tp": 8, "pp": 1, "dp": 1, "cp": 2, "micro_batch": 1, "global_batch": 2}})");
  j["simulation"] = {{"every_rank", true}};
  const EveryRankRun n = units(j);
  j["simulation"] = {{"slow_gpus", {slow(1, 2, F)}}};
  const EveryRankRun u = units(j);
  ASSERT_EQ(u.stats.size(), 2u);
  for (std::size_t c = 0; c < 2; ++c) {
    const double K = n.stats[c].compute_s;
    EXPECT_NEAR(u.stats[c].compute_s, F * K, 1e-12 * K) << "cp unit " << c;
    EXPECT_EQ(u.stats[c].gap_s, n.stats[c].gap_s);
    EXPECT_EQ(u.pace[c].op, F);
  }
  EXPECT_EQ(u.pace[0].own, 1);  // its own GPUs are nominal: its optimizer is not slowed
  EXPECT_EQ(u.pace[1].own, F);
  EXPECT_TRUE(u.pace[0].via_cp);
  EXPECT_FALSE(u.pace[1].via_cp);
  const SimResult r = run(j);
  const auto& g = r.every_rank["critical_unit"]["slow_gpu"];
  EXPECT_EQ(g["rank"], 10);
  EXPECT_EQ(g["via"], r.every_rank["critical_unit"]["cp"] == 0 ? "cp" : "tp");
}

// The GPU lands in the unit that holds it through the placement: with dp varying fastest
// (dp-tp-cp-pp) GPU 3 is rank 3 = (dp 1, tp 1): replica 1 is slow, replica 0 is not.
TEST(EveryRankSlowGpus, PlacementMapsTheGpuToItsUnit) {
  auto j = tp8_json();
  j["parallelism"]["tp"] = 4;
  j["parallelism"]["dp"] = 2;
  j["placement"] = "dp-tp-cp-pp";
  j["simulation"] = {{"slow_gpus", {slow(0, 3, 1.5)}}};
  const Scenario s = scen(j);
  const Topology topo = topology_of(s);
  EXPECT_EQ(topo.name(topo.gpu_node(3)), "s0.gpu3");
  const NcclParams P = nccl_params_for_gpu(s.system.gpu_model);
  const CommTimer timer(s, topo, P);
  const auto pace = workload::unit_paces(s, timer);
  ASSERT_EQ(pace.size(), 2u);
  EXPECT_EQ(pace[0].op, 1);
  EXPECT_EQ(pace[0].slow, -1);
  EXPECT_EQ(pace[1].op, 1.5);
  EXPECT_EQ(pace[1].slow, 0);
}

// Factor 1 everywhere is the run without slow GPUs, bit for bit (but for why); two slow GPUs in
// one TP group run at the larger factor, not the product.
TEST(EveryRankSlowGpus, FactorOneIsNominalAndTwoInOneGroupTakeTheMax) {
  auto j = test::pipe_json();  // tp 2 pp 4 dp 2: 8 units, pipeline sends, DP and embedding reductions
  j["simulation"] = {{"every_rank", true}};
  SimResult nominal = run(j);
  j["simulation"] = {{"slow_gpus", {slow(0, 0, 1), slow(1, 7, 1)}}};
  SimResult ones = run(j);
  EXPECT_TRUE(ones.every_rank["critical_unit"]["slow_gpu"].is_null());
  EXPECT_EQ(ones.step_time_s, nominal.step_time_s);
  ones.every_rank["why"] = nominal.every_rank["why"];
  EXPECT_EQ(ones.to_json().dump(), nominal.to_json().dump());

  j = tp8_json();
  j["simulation"] = {{"slow_gpus", {slow(0, 6, 1.6)}}};
  const SimResult one = run(j);
  j["simulation"] = {{"slow_gpus", {slow(0, 2, 1.3), slow(0, 6, 1.6)}}};
  const SimResult two = run(j);
  EXPECT_EQ(two.step_time_s, one.step_time_s);
  EXPECT_EQ(two.breakdown.compute_s, one.breakdown.compute_s);
  EXPECT_EQ(two.every_rank["critical_unit"]["slow_gpu"]["gpu"], 6);
  j["simulation"] = {{"slow_gpus", {slow(0, 6, 1.3 * 1.6)}}};
  EXPECT_GT(run(j).step_time_s, two.step_time_s * 1.1);
}

TEST(EveryRankSlowGpus, BadInputNamesTheField) {
  auto err = [](nlohmann::json sg) {
    auto j = tp8_json();
    j["simulation"] = {{"slow_gpus", sg}};
    return test::scenario_error(j);
  };
  auto has = [](const std::string& m, const std::string& want) { EXPECT_NE(m.find(want), std::string::npos) << m; };
  has(err({slow(0, 1, 0.5)}), "<test>: $.simulation.slow_gpus[0].factor: expected a kernel-time multiplier");
  has(err({slow(0, 1, 1.2), slow(1, 0, 2)}), "<test>: $.simulation.slow_gpus[1].node: expected a server holding");
  has(err({slow(0, 8, 2)}), "<test>: $.simulation.slow_gpus[0].gpu: expected a GPU of server 0");
  has(err({slow(0, 1, 2), slow(0, 1, 3)}), "<test>: $.simulation.slow_gpus[1]: expected a GPU no earlier entry");
  has(err({{{"node", 0}, {"gpu", 1}, {"factor", 2}, {"speed", 1}}}), "$.simulation.slow_gpus[0].speed");
  has(err({{{"node", 0}, {"gpu", 1}}}), "$.simulation.slow_gpus[0].factor");
  has(err(nlohmann::json::object()), "$.simulation.slow_gpus");
  auto j = tp8_json();
  j["simulation"] = {{"slow_gpus", {slow(0, 1, 2)}}};
  // With stragglers: simulated together (every_rank_stragglers_test.cpp). Not in a job of a
  // cluster file yet.
  const Scenario s = scen(j);
  const Topology topo = topology_of(s);
  std::vector<std::uint32_t> gpus = {0, 1, 2, 3, 4, 5, 6, 7};
  has(test::error_of([&] {
        simulate_jobs({{&s, gpus}}, topo);
      }),
      "<test>: $.simulation.slow_gpus: expected none in a job of a cluster file");
}

}  // namespace
}  // namespace knee
