// 95% intervals on a step's headline figures (docs/uncertainty.md): the step simulated again on
// profiles drawn within their stated uncertainty (profile/profile_draw.hpp), with new straggler
// seeds when the scenario has stragglers, and each figure's spread over the draws turned into an
// interval. What the interval includes is stated beside it; what it cannot include (the model's
// own error against real runs, the error of a derived profile's datasheet ratios) is named too.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile.hpp"
#include "profile/profile_draw.hpp"
#include "workloads/training/result.hpp"
#include "workloads/training/scenario.hpp"
#include "workloads/training/training.hpp"

namespace knee {

struct IntervalOptions {
  int samples = 8;  // Monte Carlo draws; 0: no intervals
  DrawSources sources;
};

// One figure of the result: its JSON pointer (e.g. "/breakdown/compute_s"), the nominal value
// (every parameter at its median) and the interval.
struct FigureInterval {
  std::string pointer;
  double nominal = 0, mean = 0, sd = 0, lo = 0, hi = 0;
};

struct PredictionIntervals {
  int samples = 0;                    // 0: none computed
  std::vector<std::string> sources;   // what the draws varied, in words
  std::vector<std::string> excluded;  // what they could not, in words
  int parameters_drawn = 0, parameters_fixed = 0;
  std::vector<FigureInterval> figures;
  // {"level": 0.95, "samples", "method", "sources", "excluded", "parameters_drawn",
  //  "parameters_fixed", then [lo, hi] at each figure's place in the result ("step_time_s",
  //  "breakdown": {"compute_s", ...}, ...)}; null when samples is 0.
  nlohmann::ordered_json to_json() const;
  const FigureInterval* find(const std::string& pointer) const;  // nullptr when not a figure
};

// The default number of draws of `knee simulate` and knee.simulate: 8, or 0 when the step runs
// every rank (each draw would be a whole every-rank run).
int default_interval_samples(const Scenario& s, const SimOptions& opt);

// The JSON pointers of the figures that get intervals, where the result has them as numbers.
const std::vector<std::string>& interval_figures();

// The interval of values from n >= 2 independent draws: mean -/+ t(0.975, n - 1) x sd x
// sqrt(1 + 1/n), the normal-theory prediction interval for one more draw, which covers 95% of
// the figure's distribution under the draws (for n of a few, it is wide: that is its honesty).
void interval_of(const std::vector<double>& values, FigureInterval& out);

// Draw `draw` of the scenario: its profile drawn from `base` with `profile_seed` (counts in
// `counts`), and with stragglers the straggler seed s.seed + 1 + draw.
Scenario scenario_draw(const Scenario& s, const Profile& base, int draw, std::uint64_t profile_seed,
                       const DrawSources& sources, DrawCounts* counts);
// The profile seed of each draw, from the scenario's seed.
std::vector<std::uint64_t> draw_seeds(const Scenario& s, int samples);
// What draws of `s` vary and what they cannot, in words (sources, excluded), and the counts.
void describe_draws(const Scenario& s, const Profile& base, const DrawCounts& counts, const IntervalOptions& o,
                    PredictionIntervals& out);
// The header of an "intervals" object (level, samples, method, sources, excluded, counts).
nlohmann::ordered_json intervals_header(const PredictionIntervals& p);
// Sets [lo, hi] of `f` at its pointer in `j`.
void put_interval(nlohmann::ordered_json& j, const FigureInterval& f);

// Simulates o.samples draws of `s` (its profile drawn with seed s.seed x sample; stragglers with
// seed s.seed + 1 + sample) with `opt` less its trace, and returns each figure of `nominal`
// (simulate(s, opt)) with its interval. A draw that does not simulate (memory) is an error:
// memory does not depend on the drawn parameters.
PredictionIntervals prediction_intervals(const Scenario& s, const SimOptions& opt, const SimResult& nominal,
                                         const IntervalOptions& o);

}  // namespace knee
