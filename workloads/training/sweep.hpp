// Scaling studies (docs/workloads.md, "Sweeps"): a scenario simulated over GPU counts, strong
// (global batch fixed) or weak (global batch grows with dp), with the knee marked: the first point
// whose efficiency against the baseline falls below the threshold, and the cost that grew most.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/training/result.hpp"
#include "workloads/training/scenario.hpp"

namespace knee {

struct SweepPoint {
  std::int64_t gpus = 0, tp = 0, pp = 0, dp = 0, cp = 0, global_batch = 0;
  bool feasible = false;
  std::string reason;  // why not feasible
  SimResult result;
  double speedup = 0, efficiency = 0;
};

struct SweepResult {
  std::string mode;  // strong or weak
  std::int64_t baseline_gpus = 0;
  double threshold = 0.8;
  std::vector<SweepPoint> points;
  int knee = -1;                           // index of the first point below threshold, -1 if none
  std::string knee_cause;                  // the cost that grew most from the baseline to the knee
  nlohmann::ordered_json to_json() const;  // rendered as a table or CSV by metrics/sweep_table.hpp
};

// mode "strong" (global batch fixed) or "weak" (global batch grows with dp); baseline 0: the
// smallest feasible point. Infeasible points are kept with their reason.
SweepResult sweep(const Scenario& s, const std::vector<std::int64_t>& gpus, const std::string& mode,
                  std::int64_t baseline, double threshold);

// The pieces of sweep(), for callers that simulate points elsewhere (Python's process pools and
// Dask): check the arguments (returns the sorted, unique GPU counts), simulate one point, and
// assemble points simulated independently into the same JSON that sweep(...).to_json() gives.
std::vector<std::int64_t> check_sweep_args(const std::vector<std::int64_t>& gpus, const std::string& mode,
                                           std::int64_t baseline, double threshold);
SweepPoint sweep_point(const Scenario& base, std::int64_t gpus, const std::string& mode);
nlohmann::ordered_json sweep_point_json(const SweepPoint& p);  // one element of to_json()["points"]
nlohmann::ordered_json assemble_sweep_json(const std::vector<nlohmann::ordered_json>& points, const std::string& mode,
                                           std::int64_t baseline, double threshold);

}  // namespace knee
