// Intervals on a sweep (docs/uncertainty.md): the whole sweep run once per profile draw (one drawn
// GPU for every point, as one cluster has one kind of GPU), each point's figures with their 95%
// interval, and the knee's location as a distribution over the draws.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/training/prediction_intervals.hpp"
#include "workloads/training/sweep.hpp"

namespace knee {

// The figures of a sweep point that get intervals: those of a step, and speedup and efficiency.
const std::vector<std::string>& sweep_interval_figures();

// `nominal` (sweep(...).to_json() or assemble_sweep_json for the same arguments) with, when
// o.samples > 0: each feasible point's "intervals" ({"step_time_s": [lo, hi], "speedup": ...},
// the shape of the point), and at the top "intervals" (level, samples, method, sources,
// excluded) and "knee_distribution": [{"gpus": G or null (no knee), "share": draws / samples}],
// the most frequent first (ties: no knee, then fewer GPUs).
nlohmann::ordered_json with_sweep_intervals(nlohmann::ordered_json nominal, const Scenario& s,
                                            const std::vector<std::int64_t>& gpus, const std::string& mode,
                                            std::int64_t baseline, double threshold, const IntervalOptions& o);

}  // namespace knee
