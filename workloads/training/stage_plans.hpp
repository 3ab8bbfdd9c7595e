// What each pipeline stage of a step runs, derived once from a scenario (internal to
// workloads/training): its layers, the schedule's op order, every chunk's forward and backward
// cost, its gradient buckets and ZeRO gathers, the optimizer step, and the pipeline transfer.
#pragma once
#include <cstdint>
#include <vector>

#include "profile/profile.hpp"
#include "workloads/training/comm_timer.hpp"
#include "workloads/training/pipeline_sim.hpp"

namespace knee::workload {

using ChunkSlices = std::vector<std::vector<OpSlice>>;  // [0] forward, [1] backward

struct StepPlan {
  int pp = 1, v = 1, m = 1;
  std::vector<std::int64_t> layers;  // per virtual stage
  std::vector<StagePlan> stages;
  std::vector<std::vector<PipeOp>> ops;  // per stage, the schedule's order
  // Per stage, per chunk: the compute-stream slices of forward and backward (with a timeline).
  std::vector<std::vector<ChunkSlices>> slices;
  double act_bytes = 0;  // of one pipeline send (per GPU: Megatron scatters it over the TP ranks)
  double p2p_s = 0;      // its time alone on the fabric
  bool dp_comm = false;  // gradients are reduced over more than one GPU
  CollOp reduce_op = CollOp::allreduce;
};

StepPlan plan_step(const Scenario& s, const Profile& prof, CommTimer& timer, bool with_slices);

}  // namespace knee::workload
