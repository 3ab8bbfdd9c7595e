// Intervals on predictions: the interval rule's coverage against draws of a known distribution,
// and the step's intervals against what the profile's own intervals imply.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/error.hpp"
#include "common/random.hpp"
#include "tests/common/source_path.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/prediction_intervals.hpp"
#include "workloads/training/sweep_intervals.hpp"

using namespace knee;
using knee::test::scen;
using Json = nlohmann::ordered_json;

namespace {

Scenario example(const std::string& name) {
  return load_scenario(knee::test::source_path("examples/scenarios/" + name + ".json"));
}

PredictionIntervals intervals_of(const Scenario& s, IntervalOptions o) {
  const SimResult r = simulate(s);
  return prediction_intervals(s, {}, r, o);
}

}  // namespace

// mean -/+ t sd sqrt(1 + 1/n) covers a new draw of a normal 95% of the time, for any n >= 2. Over
// 4,000 trials the share has a binomial sd of 0.34%: 0.95 -/+ 0.015 is 4 sigma.
TEST(PredictionIntervals, RuleCoversANewDrawAtItsNominalRate) {
  for (int n : {2, 3, 8, 40}) {
    Random r(1234 + n);
    int covered = 0;
    const int trials = 4000;
    for (int t = 0; t < trials; ++t) {
      std::vector<double> x(n);
      for (auto& v : x) v = 5 + 0.3 * r.normal();
      FigureInterval f;
      interval_of(x, f);
      const double fresh = 5 + 0.3 * r.normal();
      covered += f.lo <= fresh && fresh <= f.hi;
    }
    EXPECT_NEAR(static_cast<double>(covered) / trials, 0.95, 0.015) << "n " << n;
  }
}

// One H200, a compute-bound layer stack: the step is GEMMs, attention and memory-bound kernels,
// all from measured tables. Its interval must be at least as wide as the GEMMs' own uncertainty
// alone implies: every bf16 GEMM sample moves by exp(z s_i) together, so the GEMM time's relative
// 95% half-width is ~1.96 x s of the large samples, times the GEMM share of the step (> 0.5 here).
TEST(PredictionIntervals, AtLeastAsWideAsTheGemmIntervalsImplyOnOneGpu) {
  const Scenario s = example("h200-eager-layer-stack");
  const Json& samples = load_scenario_profile(s).json().at("compute").at("gemm").at("bf16").at("samples");
  double s_min = 1;
  for (const auto& x : samples)
    if (x.at("median_s").get<double>() > 1e-3) {
      const double ci = std::log(x.at("ci95_s")[1].get<double>() / x.at("ci95_s")[0].get<double>()) / (2 * 1.96);
      const double rr = std::fabs(std::log(x.at("other_run_median_s").get<double>() / x.at("median_s").get<double>())) /
                        std::sqrt(2.0);
      s_min = std::min(s_min, std::sqrt(ci * ci + rr * rr));
    }
  ASSERT_GT(s_min, 0);
  const PredictionIntervals iv = intervals_of(s, {16, {}});
  const FigureInterval* f = iv.find("/step_time_s");
  ASSERT_NE(f, nullptr);
  const double rel_half = (f->hi - f->lo) / 2 / f->nominal;
  EXPECT_GT(rel_half, 0.5 * 1.96 * s_min) << "s_min " << s_min;
  EXPECT_LE(f->lo, f->nominal);
  EXPECT_GE(f->hi, f->nominal);
  // Throughput moves against step time.
  const FigureInterval* tok = iv.find("/tokens_per_s");
  ASSERT_NE(tok, nullptr);
  EXPECT_NEAR(tok->mean * f->mean, tok->nominal * f->nominal, 0.02 * tok->nominal * f->nominal);
  EXPECT_EQ(iv.samples, 16);
  EXPECT_GT(iv.parameters_drawn, 100);
}

// With no source switched on, every draw is the nominal step: the intervals are exactly the value
// (so the width comes from the draws, not from the rule). Stragglers then add their seeds.
TEST(PredictionIntervals, NoSourceNoWidthStragglerSeedsGiveWidth) {
  nlohmann::json j = knee::test::pipe_json();
  const Scenario plain = scen(j);
  const PredictionIntervals none = intervals_of(plain, {4, {false, false}});
  for (const auto& f : none.figures) {
    EXPECT_EQ(f.lo, f.nominal) << f.pointer;
    EXPECT_EQ(f.hi, f.nominal) << f.pointer;
  }
  EXPECT_EQ(none.sources.size(), 0u);
  j["stragglers"] = {{"gpu_cv", 0.05}};
  const PredictionIntervals seeds = intervals_of(scen(j), {6, {false, false}});
  const FigureInterval* f = seeds.find("/step_time_s");
  ASSERT_NE(f, nullptr);
  EXPECT_GT(f->hi - f->lo, 1e-4 * f->nominal);
  ASSERT_EQ(seeds.sources.size(), 1u);
  EXPECT_NE(seeds.sources[0].find("straggler seeds"), std::string::npos);
}

// Seeds only (knee simulate --seeds N): the intervals are the spread of N straggler seeds with the
// profile at its medians: each draw is the scenario simulated with seed + 1 + draw, nothing else.
TEST(PredictionIntervals, SeedsOnlyIsTheSpreadOfStragglerSeedsAtTheMedianProfile) {
  nlohmann::json j = knee::test::pipe_json();
  j["stragglers"] = {{"gpu_cv", 0.05}};
  const Scenario s = scen(j);
  SimOptions opt;
  opt.interval_samples = 5;
  opt.interval_seeds_only = true;
  const SimResult r = simulate(s, opt);
  std::vector<double> steps;
  for (int i = 0; i < 5; ++i) {
    Scenario d = s;
    d.seed = s.seed + 1 + static_cast<std::uint64_t>(i);
    steps.push_back(simulate(d).step_time_s);
  }
  FigureInterval want;
  interval_of(steps, want);
  ASSERT_TRUE(r.intervals.contains("step_time_s"));
  EXPECT_DOUBLE_EQ(r.intervals["step_time_s"][0].get<double>(), want.lo);
  EXPECT_DOUBLE_EQ(r.intervals["step_time_s"][1].get<double>(), want.hi);
  EXPECT_GT(want.hi - want.lo, 1e-4 * r.step_time_s);
  ASSERT_EQ(r.intervals["sources"].size(), 1u);
  EXPECT_NE(r.intervals["sources"][0].get<std::string>().find("straggler seeds"), std::string::npos);
  EXPECT_NE(r.intervals["excluded"][0].get<std::string>().find("seeds only"), std::string::npos);
  // Without stragglers there is nothing stochastic to vary: an error naming $.stragglers.
  try {
    simulate(scen(knee::test::pipe_json()), opt);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.stragglers: expected a straggler model when only seeds vary"),
              std::string::npos)
        << e.what();
  }
}

// The same scenario and seed give the same intervals, bit for bit; the JSON has [lo, hi] where
// the result has the value, and names what it excludes (a derived profile's ratios among them).
TEST(PredictionIntervals, DeterministicAndShapedLikeTheResult) {
  const Scenario s = scen(knee::test::pipe_json());  // dgx-h100: the derived h100 profile
  const Json a = intervals_of(s, {4, {}}).to_json(), b = intervals_of(s, {4, {}}).to_json();
  EXPECT_EQ(a.dump(), b.dump());
  ASSERT_TRUE(a.contains("step_time_s"));
  EXPECT_EQ(a["step_time_s"].size(), 2u);
  EXPECT_TRUE(a["breakdown"]["exposed_comm_by_group_s"]["dp"].is_array());
  EXPECT_EQ(a["samples"], 4);
  bool names_derivation = false;
  for (const auto& e : a["excluded"]) names_derivation |= e.get<std::string>().find("derived by") != std::string::npos;
  EXPECT_TRUE(names_derivation) << a["excluded"].dump();
}

TEST(PredictionIntervals, ZeroSamplesNoneOneSampleAnError) {
  const Scenario s = scen(knee::test::pipe_json());
  EXPECT_TRUE(intervals_of(s, {0, {}}).to_json().is_null());
  EXPECT_THROW(intervals_of(s, {1, {}}), InputError);
}

// A sweep's intervals: one draw per sweep, so at the baseline every draw's speedup and efficiency
// are exactly 1 (an interval of [1, 1]); elsewhere they move. The knee's shares sum to 1.
TEST(PredictionIntervals, SweepPointsAndTheKneeAsADistribution) {
  const Scenario s = scen(knee::test::pipe_json());
  const std::vector<std::int64_t> gpus = {16, 32, 64};
  const Json nominal = sweep(s, gpus, "strong", 0, 0.8).to_json();
  const Json j = with_sweep_intervals(nominal, s, gpus, "strong", 0, 0.8, {4, {}});
  EXPECT_EQ(j["intervals"]["samples"], 4);
  const Json& p0 = j["points"][0];
  ASSERT_TRUE(p0["feasible"].get<bool>());
  EXPECT_EQ(p0["intervals"]["speedup"][0].get<double>(), 1.0);
  EXPECT_EQ(p0["intervals"]["efficiency"][1].get<double>(), 1.0);
  for (const auto& p : j["points"]) {
    if (!p["feasible"].get<bool>()) continue;
    const auto& st = p["intervals"]["step_time_s"];
    EXPECT_LT(st[0].get<double>(), st[1].get<double>()) << p.dump();
    EXPECT_TRUE(p["intervals"]["breakdown"]["compute_s"].is_array());
  }
  const Json& last = j["points"][2];
  EXPECT_LT(last["intervals"]["efficiency"][0].get<double>(), last["intervals"]["efficiency"][1].get<double>());
  double share = 0;
  for (const auto& k : j["knee_distribution"]) share += k["share"].get<double>();
  EXPECT_DOUBLE_EQ(share, 1.0);
  EXPECT_EQ(with_sweep_intervals(nominal, s, gpus, "strong", 0, 0.8, {4, {}}).dump(), j.dump());
  EXPECT_EQ(with_sweep_intervals(nominal, s, gpus, "strong", 0, 0.8, {0, {}}).dump(), nominal.dump());
}
