// Folding a ring's steps into fewer slices (algorithms.hpp, uniform_ring_task_budget): exact
// alone for a ring of one GPU per server, whose edges all run at one rate; a ring with NVLink and
// network edges keeps its exact steps.
#include <gtest/gtest.h>

#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/collective.hpp"
#include "tests/collectives/collective_util.hpp"

using namespace knee;

namespace {

std::shared_ptr<const CollSchedule> ring(const Topology& t, CollOp op, std::vector<std::uint32_t> ranks, int channels,
                                         std::size_t uniform_budget) {
  CollRequest q;
  q.op = op;
  q.bytes = 96 * kMiB;
  q.ranks = std::move(ranks);
  q.algo = CollAlgo::ring;
  q.channels = channels;
  q.uniform_ring_task_budget = uniform_budget;
  return build_schedule(t, nccl_params_for_gpu("h100"), q, "test");
}

TimePs alone(const Topology& t, const std::shared_ptr<const CollSchedule>& s) {
  return run_schedule_alone(t, effective_links(t, nccl_params_for_gpu("h100")), s);
}

// 16 servers, one GPU each: all-reduce (30 steps) and all-gather (15 steps) on 2 channels, folded
// from every step down to 2 slices: the same bytes and the same end, to the picosecond rounding
// of each slice (one per slice and edge at most).
TEST(RingSlices, OneGpuPerServerFoldsExactly) {
  const Topology t = test::cluster("dgx-h100", 16);
  const auto ranks = test::strided(16, 8);
  for (CollOp op : {CollOp::allreduce, CollOp::allgather}) {
    const auto exact = ring(t, op, ranks, 2, kTaskBudget);
    const std::size_t steps = op == CollOp::allreduce ? 30 : 15;
    ASSERT_EQ(exact->size(), 16u * 2 * steps);  // every step its own task
    const TimePs want = alone(t, exact);
    for (std::size_t budget : {std::size_t{16 * 2 * 8}, std::size_t{16 * 2 * 2}}) {
      const auto folded = ring(t, op, ranks, 2, budget);
      EXPECT_EQ(folded->size(), budget);
      EXPECT_DOUBLE_EQ(folded->payload_bytes, exact->payload_bytes);
      EXPECT_NEAR(static_cast<double>(alone(t, folded)), static_cast<double>(want), static_cast<double>(2 * steps))
          << to_string(op) << ", budget " << budget;
    }
  }
}

// Two servers of 8 GPUs: NVLink and network edges run at different rates, where coarser slices
// would add pipeline fill; the uniform budget does not apply and the steps stay exact.
TEST(RingSlices, MixedRingKeepsItsSteps) {
  const Topology t = test::cluster("dgx-h100", 2);
  const auto ranks = test::strided(16);
  const auto exact = ring(t, CollOp::allreduce, ranks, 2, kTaskBudget);
  const auto asked = ring(t, CollOp::allreduce, ranks, 2, 64);
  EXPECT_EQ(asked->size(), exact->size());
  EXPECT_EQ(alone(t, asked), alone(t, exact));
}

}  // namespace
