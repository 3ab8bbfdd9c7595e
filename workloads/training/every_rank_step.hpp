// A training step's result from the every-rank simulation (internal to workloads/training;
// every_rank_sim.hpp): the critical unit's breakdown, as the folded step reports its critical
// stage's, and what the mode simulated.
#pragma once

#include "workloads/training/result.hpp"
#include "workloads/training/stage_plans.hpp"
#include "workloads/training/training.hpp"

namespace knee::workload {

// InputError when the scenario or the options ask for what every-rank mode does not simulate yet
// (a timeline of a step with stragglers: it would show one of the steps, not their mean).
void check_every_rank(const Scenario& s, const SimOptions& opt);

// Fills step time, breakdown, communication totals, events, flows and r.every_rank; with
// opt.trace, the timeline of the traced GPUs, each from its own unit (plan built for tracing).
void every_rank_step(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const Topology& topo,
                     const NcclParams& P, const SimOptions& opt, SimResult& r);

}  // namespace knee::workload
