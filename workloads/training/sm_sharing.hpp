// Communication and computation share a GPU (internal to workloads/training; docs/workloads.md,
// "SM sharing"): while an NCCL kernel runs it holds SMs (one CTA per channel) and HBM bandwidth,
// so the compute it overlaps slows down. A compute-bound kernel beside a collective holding k of
// the GPU's n SMs runs at (n - a k)/n of its rate; a memory-bound kernel beside communication
// moving H bytes/s through HBM (of the GPU's B) at (1 - b H/B) of its rate; a and b come from the
// profile (Profile::comm_interference(): measured by calibration, else assumed 1).
#pragma once
#include <vector>

#include "profile/profile.hpp"
#include "workloads/training/contention.hpp"

namespace knee::workload {

// Slowdown of a compute stream's kernels while `channels` communication CTAs run beside them:
// compute-bound kernels a k / (n - a k) longer, memory-bound kernels b H / (B - b H) longer.
struct SmShare {
  double compute_bound_extra = 0, memory_bound_extra = 0;
};
SmShare sm_share(const CommInterference& ci, double hbm_Bps, int channels, double comm_hbm_Bps);

// HBM bytes one GPU moves for a ring collective of `bytes` over n ranks: each byte on the wire is
// read to send it and written where it arrives (2), and a reduction reads the local operand to
// combine with it (3): reduce-scatter 3 (n-1)/n bytes, all-gather (and the rest) 2 (n-1)/n, and an
// all-reduce, a reduce-scatter then an all-gather, 5 (n-1)/n.
double collective_hbm_bytes_per_gpu(CollOp op, double bytes, double n);

// Per stage, per op: the multiplier of the op's kernel time (PipelineSim::set_op_scale) from the
// communication that pass `run` had overlapping it on the same GPUs: the stage's data-parallel jobs,
// its own sends and the sends arriving at it. Empty when nothing overlaps.
std::vector<std::vector<double>> sm_sharing_scale(const Scenario& s, const Profile& prof, const StepPlan& plan,
                                                  const PipelineRun& run, CommTimer& timer);
// Re-runs `run` with those scales (one pass, not iterated: the slower ops overlap a little more
// communication, which the second pass does not charge again), keeping them in run.op_scale.
void apply_sm_sharing(const Scenario& s, const Profile& prof, const StepPlan& plan, CommTimer& timer, PipelineRun& run,
                      std::uint64_t* events);

}  // namespace knee::workload
