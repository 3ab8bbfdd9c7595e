#include "metrics/analysis_overlay.hpp"

#include <algorithm>
#include <cmath>

#include "workloads/training/sweep_intervals.hpp"

namespace knee {

std::string sweep_mode_of(const RunAnalysis& a) { return a.mode == "weak" ? "weak" : "strong"; }

nlohmann::ordered_json sweep_beside_runs(const RunAnalysis& a, const Scenario& s, std::vector<std::int64_t> gpus,
                                         int samples) {
  for (const auto& c : a.counts) gpus.push_back(c.gpus);
  std::sort(gpus.begin(), gpus.end());
  gpus.erase(std::unique(gpus.begin(), gpus.end()), gpus.end());
  const std::string mode = sweep_mode_of(a);
  return with_sweep_intervals(sweep(s, gpus, mode, a.baseline_gpus, 0.8).to_json(), s, gpus, mode, a.baseline_gpus, 0.8,
                              {samples, {}});
}

void overlay_simulation(RunAnalysis& a, const Scenario& s, const std::string& scenario_source, int samples) {
  using J = nlohmann::ordered_json;
  std::vector<std::int64_t> extrapolated;
  for (const auto& p : a.predictions) extrapolated.push_back(static_cast<std::int64_t>(std::llround(p.gpus)));
  const J sw = sweep_beside_runs(a, s, extrapolated, samples);
  const std::string mode = sweep_mode_of(a);
  J out;
  out["scenario"] = scenario_source;
  out["mode"] = mode;
  out["baseline_gpus"] = a.baseline_gpus;
  out["samples"] = samples;
  out["points"] = J::array();
  for (const auto& p : sw.at("points")) {
    J q;
    q["gpus"] = p.at("gpus");
    q["feasible"] = p.at("feasible");
    if (!p.at("feasible").get<bool>()) {
      q["reason"] = p.at("reason");
      out["points"].push_back(q);
      continue;
    }
    auto iv = [&](const char* key, int end) -> J {
      if (!p.contains("intervals") || !p.at("intervals").contains(key)) return nullptr;
      return p.at("intervals").at(key).at(static_cast<std::size_t>(end));
    };
    q["step_time_s"] = p.at("step_time_s");
    q["step_time_s_lo"] = iv("step_time_s", 0);
    q["step_time_s_hi"] = iv("step_time_s", 1);
    q["efficiency"] = p.at("efficiency");
    q["efficiency_lo"] = iv("efficiency", 0);
    q["efficiency_hi"] = iv("efficiency", 1);
    q["measured_efficiency"] = nullptr;
    q["efficiency_difference"] = nullptr;
    for (const auto& c : a.counts)
      if (c.gpus == p.at("gpus").get<std::int64_t>()) {
        q["measured_efficiency"] = c.efficiency;
        q["efficiency_difference"] = p.at("efficiency").get<double>() - c.efficiency;
      }
    out["points"].push_back(q);
  }
  a.simulated = out;
}

}  // namespace knee
