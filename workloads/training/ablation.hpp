// Switches that turn one modelled mechanism off, for `knee explain` (workloads/training/explain.hpp):
// internal, never read from a scenario file. All false (the default) is the full model; each is
// consumed where its mechanism lives, so an ablated step is the same simulation less that mechanism.
#pragma once

namespace knee {

struct Ablation {
  // CommTimer::groups (comm_timer.hpp): a representative group's time is not scaled by the slowdown
  // the concurrent groups of its kind cause each other (the group alone on the fabric).
  bool no_group_contention = false;
  // run_with_contention (contention.cpp): the dp/dp, dp/pp and pp/dp factors between kinds of
  // traffic are 1 (no second pass).
  bool no_traffic_contention = false;
  // chunk_cost (layer_model.cpp): the host issues kernels in no time, so the GPU never waits for it.
  bool no_launch_gaps = false;
  // plan_step (stage_plans.cpp): ZeRO-1/2 parameter all-gathers gate the whole chunk's first forward,
  // as one gather, instead of each bucket gating the layers it holds.
  bool whole_chunk_param_gather = false;
  // simulate (sm_sharing.cpp): communication kernels take no SMs or HBM bandwidth from the
  // compute they overlap.
  bool no_sm_sharing = false;
  bool any() const {
    return no_group_contention || no_traffic_contention || no_launch_gaps || whole_chunk_param_gather || no_sm_sharing;
  }
};

}  // namespace knee
