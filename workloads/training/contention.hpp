// Contention between kinds of traffic in a folded step (internal to workloads/training;
// docs/workloads.md, "Folding and its limits"). Pass 1 runs the pipeline with every kind of
// traffic alone on the fabric; pass 2 (when kinds share links) slows each stage's DP jobs and
// sends by the measured contention factors, weighted by the fraction of their time pass 1 had
// them overlapping the other kind (not iterated further).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "workloads/training/stage_plans.hpp"

namespace knee::workload {

struct PipelineRun {
  std::unique_ptr<PipelineSim> sim;  // the run whose logs the step reports
  std::vector<StageStats> stats;
  std::vector<TimePs> p2p_ps;    // per stage: one send's duration, contention included
  std::vector<double> dp_scale;  // per stage: DP jobs' slowdown from contention
  CommTimer::Contention contention;
  // Per stage, per op: the kernel-time multiplier `sim` ran with (SM sharing, sm_sharing.hpp);
  // empty: none. Straggler runs multiply theirs by it.
  std::vector<std::vector<double>> op_scale;
};

// ablate.no_traffic_contention: pass 1 only, the factors left at 1 (knee explain).
PipelineRun run_with_contention(const StepPlan& plan, const CommTimer& timer, const Ablation& ablate,
                                std::uint64_t* events);

}  // namespace knee::workload
