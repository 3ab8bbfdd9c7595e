// ZeRO-1/2 parameter all-gathers gate the first forward bucket by bucket (Megatron's
// overlap_param_gather): exact event times of the pipeline simulation on a hand-made plan.
#include <gtest/gtest.h>

#include "profile/profile.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/comm_timer.hpp"
#include "workloads/training/pipeline_sim.hpp"
#include "workloads/training/stage_plans.hpp"

namespace knee {
namespace {

using workload::Gather;
using workload::PipelineSim;
using workload::StagePlan;

// One stage, one chunk, `m` microbatches of forward then backward (gpipe-like), forward and
// backward each `op_s`.
std::vector<workload::StageStats> run(const std::vector<Gather>& gathers, int m, double op_s,
                                      std::vector<workload::StageLog>* logs = nullptr, bool overlap = true) {
  StagePlan P;
  P.overlap_param_gather = overlap;
  P.optimizer_s = 0.5;
  workload::OpCost c;
  c.total_s = c.compute_s = op_s;
  P.fwd = {c};
  P.bwd = {c};
  P.buckets = {{}};
  P.gathers = {gathers};
  std::vector<std::vector<workload::PipeOp>> ops(1);
  for (int i = 0; i < m; ++i) ops[0].push_back({true, i, 0});
  for (int i = 0; i < m; ++i) ops[0].push_back({false, i, 0});
  std::vector<StagePlan> plans = {P};
  PipelineSim sim(ops, plans, 1, 1, m, {0}, {1.0});
  auto st = sim.run(nullptr);
  if (logs) *logs = sim.logs();
  return st;
}

TEST(ParamGather, ForwardWaitsForEachBucketBeforeItsLayersOnly) {
  // Forward of 1 s; bucket 0 (first half of the layers) gathered in 0.2 s, bucket 1 in 0.8 s.
  // Bucket 0 ready at 0.2, bucket 1 at 1.0: the forward starts at 0.2, reaches the second half at
  // 0.7, waits until 1.0, ends at 1.5; the whole-chunk gate would end it at 2.0.
  std::vector<workload::StageLog> logs;
  const auto st = run({{0.0, 0.2, 1}, {0.5, 0.8, 1}}, 1, 1.0, &logs);
  ASSERT_EQ(logs[0].ops.size(), 2u);
  EXPECT_EQ(logs[0].ops[0].start, s_to_ps_ceil(0.2));
  EXPECT_NEAR(ps_to_s(logs[0].ops[0].end), 1.5, 1e-9);
  EXPECT_NEAR(st[0].dp_exposed_s, 0.2 + 0.3, 1e-9);  // waited before bucket 0 and inside the forward
  EXPECT_NEAR(st[0].end_s, 3.0, 1e-9);               // then the 1 s backward and the optimizer
}

TEST(ParamGather, GathersShorterThanTheirLayersAreHidden) {
  // Each bucket gathered faster than the forward reaches it: only the first bucket is exposed.
  const auto st = run({{0.0, 0.1, 1}, {0.25, 0.1, 1}, {0.5, 0.1, 1}, {0.75, 0.1, 1}}, 2, 1.0);
  EXPECT_NEAR(st[0].dp_exposed_s, 0.1, 1e-9);
  EXPECT_NEAR(st[0].end_s, 0.1 + 4.0 + 0.5, 1e-9);
}

TEST(ParamGather, OneBucketGatesTheWholeChunk) {
  const auto st = run({{0.0, 0.7, 1}}, 1, 1.0);
  EXPECT_NEAR(st[0].dp_exposed_s, 0.7, 1e-9);
  EXPECT_NEAR(st[0].end_s, 3.2, 1e-9);
}

// --overlap-param-gather off: the distributed optimizer gathers the updated parameters after its
// step, every bucket exposed, and the forward waits for nothing.
TEST(ParamGather, WithoutOverlapTheGathersFollowTheOptimizer) {
  const auto st = run({{0.0, 0.2, 1}, {0.5, 0.8, 1}}, 1, 1.0, nullptr, false);
  EXPECT_NEAR(st[0].end_s, 2.0 + 0.5 + 1.0, 1e-9);
  EXPECT_NEAR(st[0].dp_exposed_s, 1.0, 1e-9);
}

Scenario dp_scenario(const std::string& key, const nlohmann::json& value) {
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 8, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 16, "micro_batch": 1, "global_batch": 64}})");
  if (!key.empty()) j["training"][key] = value;
  return test::scen(j);
}

// Gradient accumulation: Megatron reduces during the last microbatch's backward only; DDP/FSDP
// without no_sync during every one, m times the data-parallel traffic.
TEST(GradSync, EveryMicrobatchReducesMTimesTheGradients) {
  const Scenario last = dp_scenario("", nullptr), every = dp_scenario("grad_sync", "every_microbatch");
  ASSERT_EQ(last.microbatches(), 4);
  const SimResult a = simulate(last), b = simulate(every);
  EXPECT_NEAR(b.comm_total_s[workload::kDP], 4 * a.comm_total_s[workload::kDP], 1e-9 * b.comm_total_s[workload::kDP]);
  EXPECT_GE(b.step_time_s, a.step_time_s);
  EXPECT_NE(test::scenario_error(nlohmann::json::parse(R"({
    "system": "dgx-h100", "gpus": 1, "model": {"layers": 1, "hidden": 64, "heads": 1, "seq_len": 64, "vocab": 0},
    "parallelism": {"global_batch": 1}, "training": {"grad_sync": "sometimes"}})"))
                .find(R"(expected one of "last_microbatch", "every_microbatch")"),
            std::string::npos);
}

// --ddp-bucket-size: ceil(parameters / bucket) buckets, each reduced as its own collective.
TEST(GradSync, BucketSizeSetsTheBucketCount) {
  for (double bucket : {0.0, 25e6, 1e9, 3e6}) {
    const Scenario s = bucket > 0 ? dp_scenario("ddp_bucket_params", bucket) : dp_scenario("", nullptr);
    const Profile prof = load_scenario_profile(s);
    FabricOptions fo = s.fabric;
    fo.nodes = s.nodes;
    const Topology topo = build_topology(s.system, fo);
    workload::CommTimer timer(s, topo, nccl_params_for_gpu("h100"));
    const workload::StepPlan plan = workload::plan_step(s, prof, timer, false);
    // 8 layers of 12 h^2 + 13 h parameters (h = 2048), no embedding (vocab 0).
    const double params = 8 * (12.0 * 2048 * 2048 + 13.0 * 2048);
    const double b = bucket > 0 ? bucket : 40e6;  // Megatron's default max(40M, 1M x 16)
    EXPECT_EQ(plan.stages[0].buckets[0].size(), static_cast<std::size_t>(std::ceil(params / b))) << bucket;
  }
}

}  // namespace
}  // namespace knee
