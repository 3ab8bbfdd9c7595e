// 95% intervals on a serving run's headline figures (docs/uncertainty.md, "Serving"): the run
// repeated over request seeds (arrival times and request lengths drawn again) or over profile
// draws (profile/profile_draw.hpp: the kernels' parameters within their stated uncertainty), each
// figure's spread over the repetitions turned into an interval with the rule of training's
// (common/draw_interval.hpp). What the interval includes and what it cannot is stated beside it.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile_draw.hpp"
#include "workloads/serving/serving.hpp"

namespace knee::serving {

struct ServingIntervalOptions {
  int seeds = 0;    // N >= 2: the scenario with serving.seed = seed, seed + 1, ..., seed + N - 1
  int samples = 0;  // N >= 2: N profile draws, the requests as the scenario's seed gives them
  DrawSources sources;
  int threads = 0;  // 0: every core (the output does not depend on it)
};

// The JSON pointers of the figures that get intervals, where the result has them as numbers:
// throughputs, goodput and SLO attainment, TTFT/TPOT/e2e mean, p50 and p99, energy per token and
// cost per million output tokens.
const std::vector<std::string>& serving_interval_figures();

// The `intervals` object of a serving result: {"level": 0.95, "samples", "varied", "method",
// "sources", "excluded", (with profile draws) "parameters_drawn", "parameters_fixed", then [lo, hi]
// at each figure's place ("throughput_tokens_per_s", "ttft_s": {"mean", "p50", "p99"}, ...)}; null
// when neither seeds nor samples is asked. `nominal` is simulate_serving(s, opt); each repetition
// runs simulate_serving too (with the goodput search when `opt` asks for it). Seeds need a
// stochastic part (drawn arrivals or lengths: not a trace); N of 1, or both seeds and samples,
// are InputErrors.
nlohmann::ordered_json serving_intervals(const ServingScenario& s, const ServingOptions& opt,
                                         const ServingResult& nominal, const ServingIntervalOptions& o);

}  // namespace knee::serving
