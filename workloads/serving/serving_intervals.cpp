// Serving runs repeated over request seeds or profile draws, and the intervals of their figures.
#include "workloads/serving/serving_intervals.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "common/draw_interval.hpp"
#include "common/error.hpp"
#include "common/json_pointer.hpp"
#include "common/parallel_draws.hpp"
#include "common/random.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::serving {
namespace {

using Json = nlohmann::ordered_json;

bool stochastic(const ServingSpec& S) {
  if (S.arrivals.kind != ArrivalKind::trace) return true;  // a trace gives arrivals and lengths
  return false;
}

}  // namespace

const std::vector<std::string>& serving_interval_figures() {
  static const std::vector<std::string> f = {
      "/duration_s",
      "/request_throughput_rps",
      "/output_throughput_tokens_per_s",
      "/throughput_tokens_per_s",
      "/goodput_rps",
      "/slo_attainment",
      "/ttft_s/mean",
      "/ttft_s/p50",
      "/ttft_s/p99",
      "/tpot_s/mean",
      "/tpot_s/p50",
      "/tpot_s/p99",
      "/e2e_s/mean",
      "/e2e_s/p50",
      "/e2e_s/p99",
      "/J_per_output_token",
      "/J_per_token",
      "/usd_per_million_output_tokens",
  };
  return f;
}

Json serving_intervals(const ServingScenario& s, const ServingOptions& opt, const ServingResult& nominal,
                       const ServingIntervalOptions& o) {
  if (o.seeds == 0 && o.samples == 0) return nullptr;
  if (o.seeds != 0 && o.samples != 0)
    throw InputError(s.source + ": seeds and samples: expected one source of repetitions, got both");
  const bool seeds = o.seeds != 0;
  const int n = seeds ? o.seeds : o.samples;
  if (n < 2)
    throw InputError(s.source + ": " + (seeds ? "seeds" : "samples") + ": expected an integer >= 2, got " +
                     std::to_string(n));
  if (seeds && !stochastic(s.serving))
    throw_input_error(s.source, "$.serving.arrivals",
                      "arrivals and lengths drawn from $.serving.seed (poisson or gamma) to repeat over seeds",
                      "a trace (its arrivals and lengths are fixed)");

  const Json nominal_json = to_json(nominal);
  std::vector<std::string> pointers;
  for (const auto& p : serving_interval_figures())
    if (json_number_at(nominal_json, p)) pointers.push_back(p);

  std::vector<std::uint64_t> profile_seeds;
  if (!seeds) {
    Random r(s.serving.seed ^ 0x5e41f7c3a9b2d061ULL);
    for (int i = 0; i < n; ++i) profile_seeds.push_back(r.next());
  }
  struct Drawn {
    std::vector<double> values;
    DrawCounts counts;
  };
  const std::vector<Drawn> drawn = parallel_draws<Drawn>(
      n,
      [&](int i) {
        Drawn d;
        ServingScenario si = s;
        if (seeds) {
          si.serving.seed = s.serving.seed + static_cast<std::uint64_t>(i);
        } else {
          si.profile = Profile::from_json(
              draw_profile(s.profile.json(), profile_seeds[static_cast<std::size_t>(i)], o.sources, &d.counts),
              s.profile.name() + " (a draw)");
        }
        const Json j = to_json(simulate_serving(si, opt));
        for (const auto& p : pointers) {
          const Json* v = json_number_at(j, p);
          d.values.push_back(v ? v->get<double>() : std::numeric_limits<double>::quiet_NaN());
        }
        return d;
      },
      o.threads);

  Json out;
  out["level"] = 0.95;
  out["samples"] = n;
  out["varied"] = seeds ? "request seeds" : "profile draws";
  out["method"] =
      std::string(seeds ? "the run repeated with serving.seed = seed, seed + 1, ..., seed + samples - 1"
                        : "the run repeated on profile draws, the requests as serving.seed gives them") +
      ": mean -/+ t(0.975, samples - 1) x sd x sqrt(1 + 1/samples) of each figure over the runs, the interval of "
      "one more run (docs/uncertainty.md)";
  Json sources = Json::array(), excluded = Json::array();
  if (seeds) {
    sources.push_back(s.serving.prompt.kind == LengthKind::fixed && s.serving.output.kind == LengthKind::fixed
                          ? "arrival times drawn again with each seed (lengths fixed)"
                          : "arrival times and request lengths drawn again with each seed");
    excluded.push_back(
        "the profile's parameter intervals and run-to-run differences (seeds only: the profile at "
        "its medians)");
  } else {
    if (o.sources.parameters) sources.push_back("the profile's ci95 of each measured or fitted value");
    if (o.sources.run_to_run) sources.push_back("the profile's run-to-run differences (two calibration runs)");
    excluded.push_back("other request seeds (the arrivals and lengths of serving.seed only)");
    if (drawn.front().counts.without_interval > 0)
      excluded.push_back(std::to_string(drawn.front().counts.without_interval) +
                         " profile values without a ci95 or a second run (held fixed)");
  }
  excluded.push_back("the model's own error against real serving runs");
  excluded.push_back("the fabric's link parameters of the TP all-reduces and KV transfers (datasheet, no interval)");
  out["sources"] = sources;
  out["excluded"] = excluded;
  if (!seeds) {
    out["parameters_drawn"] = drawn.front().counts.drawn;
    out["parameters_fixed"] = drawn.front().counts.without_interval;
  }
  for (std::size_t k = 0; k < pointers.size(); ++k) {
    std::vector<double> v;
    for (const auto& d : drawn)
      if (!std::isnan(d.values[k])) v.push_back(d.values[k]);
    if (v.size() < 2) {  // a figure a run did not give (e.g. no goodput found): null
      json_put(out, pointers[k], nullptr);
      continue;
    }
    const DrawInterval iv = prediction_interval(v);
    json_put(out, pointers[k], Json::array({iv.lo, iv.hi}));
  }
  return out;
}

}  // namespace knee::serving
