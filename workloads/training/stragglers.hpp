// Stragglers (docs/workloads.md, "Stragglers"; internal to workloads/training): per-GPU
// performance variation, each data-parallel replica's pipeline run with its own op times.
#pragma once
#include "profile/profile.hpp"
#include "workloads/training/contention.hpp"
#include "workloads/training/result.hpp"

namespace knee::workload {

// With s.stragglers enabled: fills r.stragglers, replaces r.step_time_s by the mean over the
// simulated steps and sets r.breakdown.straggler_s. Parameters not in the scenario come from the
// profile's variability (from_profile).
void apply_stragglers(const Scenario& s, const Profile& prof, const CommTimer& timer, const StepPlan& plan,
                      const PipelineRun& run, SimResult& r);

}  // namespace knee::workload
