// knee analyze --scenario: the simulated points are the sweep's own, run here directly; the
// measured efficiency beside them is the analysis's, and the difference is their difference.
#include "metrics/analysis_overlay.hpp"

#include <gtest/gtest.h>

#include "metrics/run_analysis_schema.hpp"
#include "tests/common/source_path.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/sweep.hpp"

using namespace knee;

TEST(AnalysisOverlay, SimulatedPointsAreTheSweepsBesideTheMeasured) {
  RunAnalysis a = analyze_runs(load_runs(knee::test::source_path("examples/runs/synthetic-strong.csv"), true), {});
  EXPECT_TRUE(analysis_json(a)["simulated"].is_null());
  const Scenario s = knee::test::scen(knee::test::pipe_json());
  overlay_simulation(a, s, "pipe", 3);
  const auto& sim = a.simulated;
  EXPECT_EQ(sim["mode"], "strong");
  EXPECT_EQ(sim["samples"], 3);
  const SweepResult direct = sweep(s, {8, 16, 32, 64}, "strong", 8, 0.8);
  int measured = 0;
  for (const auto& q : sim["points"]) {
    if (!q["feasible"].get<bool>()) continue;
    for (const auto& p : direct.points) {
      if (p.gpus == q["gpus"].get<std::int64_t>()) { EXPECT_DOUBLE_EQ(q["efficiency"].get<double>(), p.efficiency); }
    }
    for (const auto& c : a.counts)
      if (c.gpus == q["gpus"].get<std::int64_t>()) {
        ++measured;
        EXPECT_DOUBLE_EQ(q["measured_efficiency"].get<double>(), c.efficiency);
        EXPECT_DOUBLE_EQ(q["efficiency_difference"].get<double>(), q["efficiency"].get<double>() - c.efficiency);
        EXPECT_LE(q["step_time_s_lo"].get<double>(), q["step_time_s"].get<double>());
        EXPECT_GE(q["step_time_s_hi"].get<double>(), q["step_time_s"].get<double>());
      }
  }
  EXPECT_EQ(measured, 4);
  // The laws' extrapolation counts are simulated too (128 = 2 x the largest measured).
  bool has128 = false;
  for (const auto& q : sim["points"]) has128 |= q["gpus"] == 128;
  EXPECT_TRUE(has128);
  EXPECT_EQ(analysis_json(a)["simulated"].dump(), sim.dump());
}
