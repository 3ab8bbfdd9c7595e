// Stragglers in every-rank mode (docs/workloads.md, "Stragglers" and "Every rank"): each GPU draws
// its factors as folded stragglers do (the same seed and order), every unit's ops run at the pace
// of its TP x CP x EP group, its optimizer at its own GPUs'. Without variation the every-rank step
// bit for bit; one named straggler the closed form of every_rank_slow_gpus_test.cpp; the same draws
// as folded mode within 1% on a symmetric layout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/training/scenario_util.hpp"
#include "topologies/fabric.hpp"
#include "workloads/training/every_rank_jobs.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;

SimResult run(const nlohmann::json& j, bool every_rank, bool sm_sharing = true) {
  Scenario s = scen(j);
  s.ablate.no_sm_sharing = !sm_sharing;
  SimOptions o;
  o.every_rank = every_rank;
  o.simulate_if_not_fits = true;
  return simulate(s, o);
}

// 4 DGX H100 servers: tp 8, pp 2, dp 2, tied embedding.
nlohmann::json base_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 4, "gpus": 32,
    "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 51200},
    "parallelism": {"tp": 8, "pp": 2, "dp": 2, "micro_batch": 1, "global_batch": 16, "sequence_parallel": true,
                    "zero": 1}})");
}

// One DGX H100, tp 8: one unit.
nlohmann::json tp8_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 8,
    "model": {"layers": 4, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 32000},
    "parallelism": {"tp": 8, "pp": 1, "dp": 1, "micro_batch": 1, "global_batch": 4, "sequence_parallel": true}})");
}

nlohmann::json named(std::int64_t gpu, double slowdown) { return {{"gpu", gpu}, {"slowdown", slowdown}}; }

double kernels_s(const SimResult& r) { return r.breakdown.compute_s - r.breakdown.launch_gap_s; }

// (a) A named straggler at slowdown 1 turns stragglers on without changing any op: the every-rank
// step bit for bit, straggler_s 0; with slow GPUs as well, the slow GPUs' step bit for bit.
TEST(EveryRankStragglers, WithoutVariationTheEveryRankStepBitForBit) {
  std::vector<nlohmann::json> cases{base_json(), test::pipe_json()};
  auto z3 = base_json();
  z3["parallelism"]["zero"] = 3;
  cases.push_back(z3);
  auto cp = tp8_json();
  cp["nodes"] = 2;
  cp["gpus"] = 16;
  cp["parallelism"]["cp"] = 2;
  cp["parallelism"]["global_batch"] = 2;
  cases.push_back(cp);
  for (auto c : cases) {
    const SimResult nominal = run(c, true);
    c["stragglers"] = {{"slow_gpus", {named(3, 1.0)}}};
    const SimResult r = run(c, true);
    ASSERT_TRUE(r.stragglers.enabled);
    EXPECT_FALSE(r.folded);
    EXPECT_EQ(r.step_time_s, nominal.step_time_s) << c.dump();
    EXPECT_EQ(r.stragglers.nominal_step_time_s, nominal.step_time_s);
    EXPECT_EQ(r.breakdown.straggler_s, 0);
    EXPECT_EQ(r.stragglers.replicas, c["parallelism"]["dp"].get<int>());
    EXPECT_EQ(r.to_json()["breakdown"].dump(), nominal.to_json()["breakdown"].dump());
    EXPECT_GT(r.events, nominal.events);  // the straggler step was simulated
  }
  auto j = base_json();
  j["simulation"] = {{"slow_gpus", {{{"node", 2}, {"gpu", 4}, {"factor", 1.5}}}}};
  const SimResult slow = run(j, false);
  j["stragglers"] = {{"slow_gpus", {named(3, 1.0)}}};
  const SimResult both = run(j, false);
  EXPECT_EQ(both.step_time_s, slow.step_time_s);
  EXPECT_EQ(both.stragglers.slowest_gpu, 20);
  EXPECT_EQ(both.stragglers.slowest_gpu_factor, 1.5);
}

// (b) Two servers, tp 8 dp 2, gradients reduced after the backward in one bucket; a named
// straggler on server 1 at F = 2: as the slow GPU of every_rank_slow_gpus_test.cpp, the slow
// replica's kernels and optimizer F times as long, the fast one waits in the all-reduce:
// step = every-rank nominal + (F - 1)(K + O), all of it straggler_s.
TEST(EveryRankStragglers, NamedStragglerIsTheSlowGpuClosedForm) {
  const double F = 2;
  auto j = test::two_replicas_one_bucket_json();
  const SimResult nominal = run(j, true);
  j["stragglers"] = {{"slow_gpus", {named(13, F)}}};
  const SimResult r = run(j, true);
  const double K = kernels_s(nominal), O = nominal.breakdown.optimizer_s;
  const double want = nominal.step_time_s + (F - 1) * (K + O);
  std::printf("K %.9f s, O %.9f s: every-rank step %.9f s -> %.9f s with GPU 13 x%.0f (closed form %.9f s)\n", K, O,
              nominal.step_time_s, r.step_time_s, F, want);
  EXPECT_NEAR(r.step_time_s, want, 1e-9 * want);
  EXPECT_NEAR(r.breakdown.straggler_s, (F - 1) * (K + O), 1e-9 * want);
  EXPECT_EQ(r.stragglers.slowest_gpu, 13);
  EXPECT_EQ(r.stragglers.slowest_gpu_factor, F);
  EXPECT_EQ(r.stragglers.slowest_replica, 1);
  EXPECT_EQ(r.stragglers.slowest_stage, 0);
  // The same GPU named in simulation.slow_gpus: the same step (the same mechanism).
  j.erase("stragglers");
  j["simulation"] = {{"slow_gpus", {{{"node", 1}, {"gpu", 5}, {"factor", F}}}}};
  EXPECT_EQ(run(j, false).step_time_s, r.step_time_s);
}

// (c) The same seed on a symmetric layout: folded and every-rank mode draw the same GPUs and the
// same op factors (the slowest GPU and its factor agree exactly) and agree within 1% on the mean
// step. What differs: every-rank mode runs the sends and DP collectives on one network and slows
// the optimizer of a unit by its own GPUs' factor (folded mode runs the optimizer as nominal).
TEST(EveryRankStragglers, FoldedAndEveryRankAgreeOnTheSameDraws) {
  auto j = base_json();
  j["seed"] = 7;
  j["stragglers"] = {{"gpu_cv", 0.02}, {"op_cv", 0.04}, {"steps", 4}};
  const SimResult f = run(j, false, false), e = run(j, true, false);
  ASSERT_TRUE(f.folded);
  ASSERT_FALSE(e.folded);
  std::printf(
      "folded: nominal %.6f ms, stragglers %.6f ms (sd %.6f); every rank: nominal %.6f ms, stragglers %.6f ms (sd "
      "%.6f); slowest GPU %lld x%.4f\n",
      f.stragglers.nominal_step_time_s * 1e3, f.step_time_s * 1e3, f.stragglers.step_sd_s * 1e3,
      e.stragglers.nominal_step_time_s * 1e3, e.step_time_s * 1e3, e.stragglers.step_sd_s * 1e3,
      static_cast<long long>(e.stragglers.slowest_gpu), e.stragglers.slowest_gpu_factor);
  EXPECT_EQ(e.stragglers.slowest_gpu, f.stragglers.slowest_gpu);
  EXPECT_EQ(e.stragglers.slowest_gpu_factor, f.stragglers.slowest_gpu_factor);
  EXPECT_EQ(e.stragglers.steps, 4);
  EXPECT_EQ(e.stragglers.replicas, f.stragglers.replicas);
  EXPECT_NEAR(e.step_time_s / f.step_time_s, 1, 0.01);
  EXPECT_GT(e.breakdown.straggler_s, 0);
  EXPECT_GT(e.stragglers.step_sd_s, 0);
  EXPECT_NEAR(e.breakdown.straggler_s / e.step_time_s, f.breakdown.straggler_s / f.step_time_s, 0.01);
  // The breakdown still sums: straggler_s is the step less the every-rank step without them.
  EXPECT_NEAR(e.step_time_s - e.breakdown.straggler_s, e.stragglers.nominal_step_time_s, 1e-12);
  const auto J = e.to_json();
  EXPECT_FALSE(J["stragglers"].is_null());
  EXPECT_EQ(J["stragglers"]["steps"], 4);
  // From the profile's variability too.
  j["stragglers"] = {{"from_profile", true}, {"steps", 2}};
  const SimResult fp = run(j, false, false), ep = run(j, true, false);
  EXPECT_EQ(ep.stragglers.gpu_cv_from, "profile");
  EXPECT_EQ(ep.stragglers.slowest_gpu, fp.stragglers.slowest_gpu);
  EXPECT_NEAR(ep.step_time_s / fp.step_time_s, 1, 0.01);
}

// (d) The same seed, the same result; another seed, other draws.
TEST(EveryRankStragglers, SameSeedSameResult) {
  auto j = test::pipe_json();
  j["stragglers"] = {{"gpu_cv", 0.02}, {"op_cv", 0.03}, {"steps", 3}};
  const SimResult a = run(j, true), b = run(j, true);
  EXPECT_EQ(a.to_json().dump(), b.to_json().dump());
  j["seed"] = 12345;
  const SimResult c = run(j, true);
  EXPECT_NE(c.step_time_s, a.step_time_s);
}

// (e) A TP group moves at its slowest member: one straggler in the only TP group slows every op's
// kernels and the optimizer by its factor (the unit, not one GPU); two in one group run at the
// larger factor, not the product; a straggler on top of a slow GPU multiplies.
TEST(EveryRankStragglers, TpGroupMovesAtItsSlowestMember) {
  const double F = 1.5;
  auto j = tp8_json();
  const SimResult nominal = run(j, true);
  j["stragglers"] = {{"slow_gpus", {named(3, F)}}};
  const SimResult r = run(j, true);
  const double K = kernels_s(nominal), O = nominal.breakdown.optimizer_s;
  const double want = nominal.step_time_s + (F - 1) * (K + O);
  EXPECT_NEAR(r.step_time_s, want, 1e-9 * want);
  j["stragglers"] = {{"slow_gpus", {named(3, F), named(6, 1.25)}}};
  EXPECT_EQ(run(j, true).step_time_s, r.step_time_s);
  j["stragglers"] = {{"slow_gpus", {named(3, 1.25)}}};
  j["simulation"] = {{"slow_gpus", {{{"node", 0}, {"gpu", 3}, {"factor", 1.2}}}}};
  EXPECT_NEAR(run(j, false).step_time_s, want, 1e-9 * want);  // 1.25 x 1.2 = F
}

// Not in a job of a cluster file yet.
TEST(EveryRankStragglers, NotInAClusterJob) {
  auto j = tp8_json();
  j["stragglers"] = {{"gpu_cv", 0.01}};
  const Scenario s = scen(j);
  FabricOptions fo = s.fabric;
  fo.nodes = s.nodes;
  fo.kind = FabricKind::single_node;
  const Topology topo = build_topology(s.system, fo);
  const std::string m = test::error_of([&] { simulate_jobs({{&s, {0, 1, 2, 3, 4, 5, 6, 7}, ""}}, topo); });
  EXPECT_NE(m.find("<test>: $.stragglers: expected none in a job of a cluster file"), std::string::npos) << m;
}

}  // namespace
}  // namespace knee
