#include "workloads/training/prediction_intervals.hpp"

#include <cmath>

#include "common/draw_interval.hpp"
#include "common/error.hpp"
#include "common/json_pointer.hpp"
#include "common/parallel_draws.hpp"
#include "common/random.hpp"
#include "profile/profile.hpp"

namespace knee {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

void put_interval(Json& j, const FigureInterval& f) { json_put(j, f.pointer, Json::array({f.lo, f.hi})); }

int default_interval_samples(const Scenario& s, const SimOptions& opt) {
  const bool every_rank = opt.every_rank || s.simulation.every_rank || s.simulation.asymmetric();
  return every_rank ? 0 : 8;
}

const std::vector<std::string>& interval_figures() {
  static const std::vector<std::string> f = {
      "/step_time_s",
      "/tokens_per_s",
      "/samples_per_s",
      "/tflops_per_gpu",
      "/mfu",
      "/comm_to_compute",
      "/breakdown/compute_s",
      "/breakdown/forward_s",
      "/breakdown/backward_s",
      "/breakdown/exposed_comm_s",
      "/breakdown/exposed_comm_by_group_s/tp",
      "/breakdown/exposed_comm_by_group_s/pp",
      "/breakdown/exposed_comm_by_group_s/dp",
      "/breakdown/exposed_comm_by_group_s/cp",
      "/breakdown/exposed_comm_by_group_s/ep",
      "/breakdown/bubble_s",
      "/breakdown/optimizer_s",
      "/breakdown/launch_gap_s",
      "/breakdown/sm_sharing_s",
      "/breakdown/straggler_s",
      "/energy/gpu_J_per_step",
      "/energy/avg_power_per_gpu_W",
      "/energy/facility_J_per_step",
      "/energy/facility_J_per_token",
      "/cost/usd_per_step",
      "/cost/usd_per_million_tokens",
      "/cost/run/days",
      "/cost/run/usd",
      "/failures/goodput",
  };
  return f;
}

void interval_of(const std::vector<double>& values, FigureInterval& out) {
  const DrawInterval d = prediction_interval(values);  // the rule every room applies (common/)
  out.mean = d.mean;
  out.sd = d.sd;
  out.lo = d.lo;
  out.hi = d.hi;
}

const FigureInterval* PredictionIntervals::find(const std::string& pointer) const {
  for (const auto& f : figures)
    if (f.pointer == pointer) return &f;
  return nullptr;
}

Json intervals_header(const PredictionIntervals& p) {
  Json j;
  j["level"] = 0.95;
  j["samples"] = p.samples;
  j["method"] =
      "Monte Carlo over profile draws: mean -/+ t(0.975, samples - 1) x sd x sqrt(1 + 1/samples) of each figure "
      "(docs/uncertainty.md)";
  j["sources"] = p.sources;
  j["excluded"] = p.excluded;
  j["parameters_drawn"] = p.parameters_drawn;
  j["parameters_fixed"] = p.parameters_fixed;
  return j;
}

Json PredictionIntervals::to_json() const {
  if (samples == 0) return nullptr;
  Json j = intervals_header(*this);
  for (const auto& f : figures) put_interval(j, f);
  return j;
}

std::vector<std::uint64_t> draw_seeds(const Scenario& s, int samples) {
  Random r(s.seed ^ 0x9d1f7c3a5b2e4f61ULL);
  std::vector<std::uint64_t> out;
  for (int i = 0; i < samples; ++i) out.push_back(r.next());
  return out;
}

Scenario scenario_draw(const Scenario& s, const Profile& base, int draw, std::uint64_t profile_seed,
                       const DrawSources& sources, DrawCounts* counts) {
  Scenario d = s;
  d.loaded_profile =
      Profile::from_json(draw_profile(base.json(), profile_seed, sources, counts), base.name() + " (a draw)");
  if (s.stragglers.enabled()) d.seed = s.seed + 1 + static_cast<std::uint64_t>(draw);
  return d;
}

void describe_draws(const Scenario& s, const Profile& base, const DrawCounts& counts, const IntervalOptions& o,
                    PredictionIntervals& out) {
  out.samples = o.samples;
  out.parameters_drawn = counts.drawn;
  out.parameters_fixed = counts.without_interval;
  out.sources.clear();
  out.excluded.clear();
  if (o.sources.parameters) out.sources.push_back("the profile's ci95 of each measured or fitted value");
  if (o.sources.run_to_run) out.sources.push_back("the profile's run-to-run differences (two calibration runs)");
  if (s.stragglers.enabled()) out.sources.push_back("straggler seeds (seed + 1 + draw)");
  if (!o.sources.parameters && !o.sources.run_to_run)
    out.excluded.push_back(
        "the profile's parameter intervals and run-to-run differences (seeds only: the profile "
        "at its medians)");
  out.excluded.push_back("the model's own error against real runs (docs/validation.md)");
  if (!base.derivation_datasheet().empty())
    out.excluded.push_back("the datasheet ratios this profile was derived by (" + base.derivation_datasheet() +
                           "): the error of those ratios is not quantified");
  if (counts.without_interval > 0)
    out.excluded.push_back(std::to_string(counts.without_interval) +
                           " profile values without a ci95 or a second run (held fixed)");
  out.excluded.push_back("the fabric's link parameters (datasheet values, no interval)");
}

PredictionIntervals prediction_intervals(const Scenario& s, const SimOptions& opt, const SimResult& nominal,
                                         const IntervalOptions& o) {
  PredictionIntervals out;
  if (o.samples == 0 || !nominal.simulated) return out;
  if (o.samples < 2) throw InputError("samples: expected 0 (no intervals) or an integer >= 2, got 1");
  const Profile base = load_scenario_profile(s);
  const Json nominal_json = nominal.to_json();
  std::vector<std::string> pointers;
  for (const auto& p : interval_figures())
    if (json_number_at(nominal_json, p)) pointers.push_back(p);
  std::vector<std::vector<double>> values(pointers.size());

  SimOptions draw_opt = opt;
  draw_opt.trace = nullptr;
  draw_opt.trace_ranks.clear();
  draw_opt.interval_samples = 0;
  const auto seeds = draw_seeds(s, o.samples);
  struct Drawn {
    Json result;
    DrawCounts counts;
  };
  const std::vector<Drawn> drawn = parallel_draws<Drawn>(o.samples, [&](int i) {
    Drawn d;
    const SimResult r =
        simulate(scenario_draw(s, base, i, seeds[static_cast<std::size_t>(i)], o.sources, &d.counts), draw_opt);
    if (!r.simulated) throw std::logic_error("prediction_intervals: a draw did not simulate");
    d.result = r.to_json();
    return d;
  });
  DrawCounts counts = drawn.empty() ? DrawCounts{} : drawn.back().counts;
  for (int i = 0; i < o.samples; ++i) {
    const Json& j = drawn[static_cast<std::size_t>(i)].result;
    for (std::size_t k = 0; k < pointers.size(); ++k) {
      const Json* v = json_number_at(j, pointers[k]);
      if (!v) throw std::logic_error("prediction_intervals: a draw lacks " + pointers[k]);
      values[k].push_back(v->get<double>());
    }
  }
  describe_draws(s, base, counts, o, out);
  for (std::size_t k = 0; k < pointers.size(); ++k) {
    FigureInterval f;
    f.pointer = pointers[k];
    f.nominal = json_number_at(nominal_json, pointers[k])->get<double>();
    interval_of(values[k], f);
    out.figures.push_back(f);
  }
  return out;
}

}  // namespace knee
