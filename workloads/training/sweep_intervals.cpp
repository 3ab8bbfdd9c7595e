#include "workloads/training/sweep_intervals.hpp"

#include <algorithm>
#include <map>

#include "common/error.hpp"
#include "common/json_pointer.hpp"
#include "common/parallel_draws.hpp"

namespace knee {

using Json = nlohmann::ordered_json;

const std::vector<std::string>& sweep_interval_figures() {
  static const std::vector<std::string> f = [] {
    std::vector<std::string> v = interval_figures();
    v.insert(v.begin() + 2, {"/speedup", "/efficiency"});
    return v;
  }();
  return f;
}

Json with_sweep_intervals(Json nominal, const Scenario& s, const std::vector<std::int64_t>& gpus,
                          const std::string& mode, std::int64_t baseline, double threshold, const IntervalOptions& o) {
  if (o.samples == 0) return nominal;
  if (o.samples < 2) throw InputError("samples: expected 0 (no intervals) or an integer >= 2, got 1");
  const Profile base = load_scenario_profile(s);
  Json& points = nominal.at("points");
  // values[point][figure][draw]
  std::vector<std::vector<std::vector<double>>> values(
      points.size(), std::vector<std::vector<double>>(sweep_interval_figures().size()));
  std::map<std::int64_t, int> knees;  // -1: no knee
  const auto seeds = draw_seeds(s, o.samples);
  struct Drawn {
    Json sweep;
    DrawCounts counts;
  };
  const std::vector<Drawn> drawn = parallel_draws<Drawn>(o.samples, [&](int i) {
    Drawn d;
    d.sweep = sweep(scenario_draw(s, base, i, seeds[static_cast<std::size_t>(i)], o.sources, &d.counts), gpus, mode,
                    baseline, threshold)
                  .to_json();
    return d;
  });
  DrawCounts counts = drawn.empty() ? DrawCounts{} : drawn.back().counts;
  for (int i = 0; i < o.samples; ++i) {
    const Json& j = drawn[static_cast<std::size_t>(i)].sweep;
    const Json& dp = j.at("points");
    if (dp.size() != points.size()) throw std::logic_error("with_sweep_intervals: a draw has other points");
    for (std::size_t p = 0; p < points.size(); ++p)
      for (std::size_t f = 0; f < sweep_interval_figures().size(); ++f)
        if (const Json* v = json_number_at(dp[p], sweep_interval_figures()[f]))
          values[p][f].push_back(v->get<double>());
    ++knees[j.at("knee_gpus").is_null() ? -1 : j.at("knee_gpus").get<std::int64_t>()];
  }
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (!points[p].value("feasible", false)) continue;
    Json iv = Json::object();
    for (std::size_t f = 0; f < sweep_interval_figures().size(); ++f) {
      const auto& ptr = sweep_interval_figures()[f];
      // A figure every draw has (the nominal has it too: the same layout and inputs).
      if (!json_number_at(points[p], ptr) || values[p][f].size() != static_cast<std::size_t>(o.samples)) continue;
      FigureInterval fi;
      fi.pointer = ptr;
      interval_of(values[p][f], fi);
      put_interval(iv, fi);
    }
    points[p]["intervals"] = iv;
  }
  PredictionIntervals head;
  describe_draws(s, base, counts, o, head);
  nominal["intervals"] = intervals_header(head);
  std::vector<std::pair<std::int64_t, int>> ks(knees.begin(), knees.end());
  std::stable_sort(ks.begin(), ks.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Json dist = Json::array();
  for (const auto& [g, n] : ks)
    dist.push_back({{"gpus", g < 0 ? Json() : Json(g)}, {"share", static_cast<double>(n) / o.samples}});
  nominal["knee_distribution"] = dist;
  return nominal;
}

}  // namespace knee
