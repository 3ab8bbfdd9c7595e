// knee analyze --scenario S.json (docs/analyze.md, "The simulated curve beside the measured"):
// the scenario swept over the measured GPU counts and the laws' extrapolation counts, in the
// measurements' mode and baseline, with 95% intervals over profile draws, set beside each
// measured count's efficiency. knee's curve and the fitted laws then answer the same question.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/run_analysis.hpp"
#include "workloads/training/scenario.hpp"

namespace knee {

// The mode a scenario is swept in beside measured runs: weak if they are weak, else strong.
std::string sweep_mode_of(const RunAnalysis& a);
// `s` swept with 95% intervals over `samples` profile draws (with_sweep_intervals' JSON) at the
// measured counts of `a` and `extra_gpus`, in sweep_mode_of(a) against a's baseline.
nlohmann::ordered_json sweep_beside_runs(const RunAnalysis& a, const Scenario& s, std::vector<std::int64_t> extra_gpus,
                                         int samples);

// Sets a.simulated: {"scenario", "mode", "baseline_gpus", "samples", "points": [{"gpus",
// "feasible", "reason"?, "step_time_s", "step_time_s_lo", "step_time_s_hi", "efficiency",
// "efficiency_lo", "efficiency_hi", "measured_efficiency" (null where not measured),
// "efficiency_difference" (simulated - measured)}]}.
void overlay_simulation(RunAnalysis& a, const Scenario& s, const std::string& scenario_source, int samples);

}  // namespace knee
