// A training step's result from the every-rank simulation (internal to workloads/training;
// every_rank_sim.hpp): the critical unit's breakdown, as the folded step reports its critical
// stage's, and what the mode simulated.
#pragma once

#include "workloads/training/result.hpp"
#include "workloads/training/stage_plans.hpp"
#include "workloads/training/training.hpp"

namespace knee::workload {

// InputError naming $.simulation.every_rank when the scenario or the options ask for what
// every-rank mode does not simulate yet (a timeline).
void check_every_rank(const Scenario& s, const SimOptions& opt);

// Fills step time, breakdown, communication totals, events, flows and r.every_rank.
void every_rank_step(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const Topology& topo,
                     const NcclParams& P, SimResult& r);

}  // namespace knee::workload
