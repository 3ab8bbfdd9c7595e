// Transformer training workloads on a simulated cluster (docs/workloads.md): a scenario file
// (docs/scenarios.md) names a system, a model and a parallel layout; simulate() turns one training
// step into the kernels each layer launches (timed from a calibrated profile) and the collectives
// each parallel group sends (timed on the flow-level network), runs the pipeline schedule as
// events, and reports step time, throughput, MFU, memory and where the time went.
#pragma once
#include <cstdint>
#include <vector>

#include "workloads/training/result.hpp"
#include "workloads/training/scenario.hpp"
#include "workloads/training/sweep.hpp"

namespace knee {

class Timeline;  // sim/engine/timeline.hpp

struct SimOptions {
  bool simulate_if_not_fits = false;  // memory over capacity: report only (default) or run anyway
  // Timeline (docs/workloads.md, Timelines): when set, the step is written to it, one process
  // per traced GPU. trace_ranks empty: one pipeline (tp 0, cp 0, dp 0 of every stage).
  Timeline* trace = nullptr;
  std::vector<std::uint32_t> trace_ranks;
  // Every rank on one network (docs/workloads.md, "Folding and its limits"), as the scenario's
  // simulation.every_rank: either turns it on.
  bool every_rank = false;
  // 95% intervals on the headline figures from this many profile draws (docs/uncertainty.md,
  // SimResult::intervals); 0: none. The CLI and Python default to 8 (0 with every-rank).
  int interval_samples = 0;
  // Only the stochastic parts vary between the draws (the CLI's --seeds N, Python's seeds=N): the
  // straggler seeds, the profile held at its medians; the scenario must have stragglers.
  bool interval_seeds_only = false;
};

SimResult simulate(const Scenario& s, const SimOptions& opt = {});
// Model FLOPs of one step: forward + backward (2x forward), no recompute; closed form in
// docs/workloads.md. With `recompute` the recomputed forward passes are added.
double step_flops(const Scenario& s, bool with_recompute);

}  // namespace knee
