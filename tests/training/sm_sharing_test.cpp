// Communication kernels share the GPU with the compute they overlap (issue 13): closed forms of
// the slowdown, and the step's accounting of it.
#include <gtest/gtest.h>

#include "tests/training/scenario_util.hpp"
#include "workloads/training/sm_sharing.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

CommInterference gpu(int sms, double a = 1, double b = 1) {
  CommInterference ci;
  ci.sm_count = sms;
  ci.held_sm_cost = a;
  ci.hbm_share_cost = b;
  ci.provenance = "assumed";
  return ci;
}

// A compute-bound kernel beside a collective holding k of n SMs runs at (n - k)/n of its rate.
TEST(SmSharing, ComputeBoundKernelRunsOnTheSmsLeft) {
  for (int k : {1, 2, 16, 32}) {
    const auto sh = workload::sm_share(gpu(132), 4e12, k, 0);
    EXPECT_DOUBLE_EQ(1 + sh.compute_bound_extra, 132.0 / (132 - k)) << k;
    EXPECT_EQ(sh.memory_bound_extra, 0);
  }
  // A measured cost per held SM scales the SMs lost: a = 0.5 loses half an SM's share per CTA.
  EXPECT_DOUBLE_EQ(1 + workload::sm_share(gpu(108, 0.5), 2e12, 16, 0).compute_bound_extra, 108.0 / (108 - 8));
}

// HBM traffic of a ring collective per GPU, counted byte by byte on 4 ranks and 1 MB: a
// reduce-scatter sends 3 of its 4 chunks (a read each), receives 3 (a write each) and reads its own
// chunk to reduce each into (3 reads): 9 chunks = 2.25 MB; an all-gather the sends and receives
// alone, 1.5 MB; an all-reduce is the one then the other, 3.75 MB (not twice the reduce-scatter).
TEST(SmSharing, CollectiveHbmBytesCountedChunkByChunk) {
  const double B = 1e6, chunk = B / 4;
  EXPECT_DOUBLE_EQ(workload::collective_hbm_bytes_per_gpu(CollOp::reducescatter, B, 4), 9 * chunk);
  EXPECT_DOUBLE_EQ(workload::collective_hbm_bytes_per_gpu(CollOp::allgather, B, 4), 6 * chunk);
  EXPECT_DOUBLE_EQ(workload::collective_hbm_bytes_per_gpu(CollOp::allreduce, B, 4), 15 * chunk);
  EXPECT_EQ(workload::collective_hbm_bytes_per_gpu(CollOp::allreduce, B, 1), 0);  // alone: no traffic
}

// A memory-bound kernel beside communication moving H of the GPU's B bytes/s keeps B - H.
TEST(SmSharing, MemoryBoundKernelKeepsTheBandwidthLeft) {
  const auto sh = workload::sm_share(gpu(132), 4e12, 0, 1e12);
  EXPECT_DOUBLE_EQ(1 + sh.memory_bound_extra, 4.0 / 3.0);
  EXPECT_EQ(sh.compute_bound_extra, 0);
  EXPECT_DOUBLE_EQ(1 + workload::sm_share(gpu(132, 1, 0.5), 4e12, 0, 1e12).memory_bound_extra, 4.0 / 3.5);
}

Scenario dp_scenario(bool ablate) {
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 4096, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 16, "micro_batch": 1, "global_batch": 32}})");
  Scenario s = test::scen(j);
  s.ablate.no_sm_sharing = ablate;
  return s;
}

// Gradient reductions overlap the last backward: that backward's kernels run longer, the step
// with them, and the breakdown says by how much (part of compute_s).
TEST(SmSharing, OverlappedReductionsSlowTheBackwardAndTheBreakdownSaysSo) {
  const SimResult on = simulate(dp_scenario(false)), off = simulate(dp_scenario(true));
  ASSERT_TRUE(on.simulated && off.simulated);
  EXPECT_EQ(off.breakdown.sm_sharing_s, 0);
  EXPECT_GT(on.breakdown.sm_sharing_s, 0);
  EXPECT_NEAR(on.breakdown.compute_s - off.breakdown.compute_s, on.breakdown.sm_sharing_s,
              1e-9 * on.breakdown.compute_s);
  EXPECT_GT(on.step_time_s, off.step_time_s);
  // Bounded by the closed form: no op slows by more than its whole time at the compute-bound
  // rate with the most channels any reduction used (32 of 132 SMs here at most).
  EXPECT_LT(on.breakdown.sm_sharing_s, on.breakdown.compute_s * 32.0 / 100.0);
  const auto& k = on.breakdown;
  EXPECT_NEAR(k.compute_s + k.exposed_comm_s() + k.bubble_s + k.optimizer_s, on.step_time_s, 1e-9 * on.step_time_s);
  EXPECT_EQ(on.provenance["sm_sharing"]["provenance"], "assumed");
}

// One GPU: nothing communicates, nothing changes.
TEST(SmSharing, NoCommunicationNoSlowdown) {
  auto j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "gpus": 1,
    "model": {"layers": 2, "hidden": 1024, "heads": 8, "seq_len": 1024, "vocab": 0},
    "parallelism": {"global_batch": 2}})");
  const SimResult r = simulate(test::scen(j));
  EXPECT_EQ(r.breakdown.sm_sharing_s, 0);
}

}  // namespace
}  // namespace knee
