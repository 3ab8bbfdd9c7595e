// A training step as a timeline (docs/workloads.md, "Timelines"; internal to
// workloads/training): one process per traced GPU, one thread per stream (compute, each
// communicator, pipeline sends, bubbles and waits, the optimizer).
#pragma once
#include <vector>

#include "workloads/training/stage_plans.hpp"
#include "workloads/training/training.hpp"

namespace knee::workload {

// Writes the traced GPUs of opt.trace_ranks (default: one pipeline) to opt.trace and fills
// r.trace_metadata. `real` are the stage logs of the step, `free` those of the same schedule with
// free transfers (the bubble part of each input wait).
void write_step_timeline(const Scenario& s, const StepPlan& plan, const CommTimer& timer,
                         const std::vector<StageLog>& real, const std::vector<StageLog>& free, int critical_stage,
                         const std::vector<std::vector<double>>* op_scale, const SimOptions& opt, SimResult& r);

// Every-rank mode's logs, one per unit ((stage, dp, cp) in that order, units_per_stage = dp x cp):
// `real` of the step, `free` of the run with free pipeline sends (empty without pipeline).
struct UnitLogs {
  const std::vector<StageLog>& real;
  const std::vector<StageLog>& free;
  int units_per_stage;
};
// The same timeline from every-rank logs: each traced GPU drawn with its own unit's events.
void write_every_rank_timeline(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const UnitLogs& units,
                               int critical_stage, const SimOptions& opt, SimResult& r);

}  // namespace knee::workload
