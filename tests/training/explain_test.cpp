// knee explain (workloads/training/explain.hpp): the baseline is simulate() itself, each row is
// simulate() of the scenario with one mechanism off (checked against scenarios edited by hand),
// rows that do not apply are absent, and the ablation switches remove exactly their mechanism.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/training/scenario_util.hpp"
#include "workloads/training/explain.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;

const ExplainRow* row_of(const ExplainResult& r, const std::string& id) {
  for (const auto& row : r.rows)
    if (row.id == id) return &row;
  return nullptr;
}

Scenario gpt3() { return load_scenario(std::string(KNEE_SOURCE_DIR) + "/examples/scenarios/gpt3-175b-1024.json"); }

TEST(Explain, BaselineIsSimulateExactly) {
  const Scenario s = scen(test::pipe_json());
  EXPECT_FALSE(s.ablate.any());  // a parsed scenario is the full model
  const ExplainResult e = explain(s);
  const SimResult r = simulate(s);
  EXPECT_EQ(e.baseline.step_time_s, r.step_time_s);  // bit for bit
  EXPECT_EQ(e.baseline.to_json(), r.to_json());
}

TEST(Explain, OverlapOffNeverFaster) {
  for (const Scenario& s : {gpt3(), scen(test::pipe_json())}) {
    ASSERT_GT(s.par.dp, 1);
    const ExplainResult e = explain(s);
    const ExplainRow* row = row_of(e, "dp_overlap");
    ASSERT_NE(row, nullptr) << s.source;
    EXPECT_GE(row->step_time_s, e.baseline.step_time_s) << s.source;
    EXPECT_GE(row->delta_s, 0) << s.source;
  }
}

// Each row against simulate() of the scenario written with that mechanism off.
TEST(Explain, RowsEqualHandEditedScenarios) {
  auto j = test::pipe_json();
  j["fabric"] = {{"oversubscription", 4}};
  j["stragglers"] = {{"gpu_cv", 0.02}};
  const ExplainResult e = explain(scen(j));
  const double base = e.baseline.step_time_s;

  auto no_overlap = j;
  no_overlap["training"]["overlap_grad_reduce"] = false;
  auto no_strag = j;
  no_strag.erase("stragglers");
  auto full_bisection = j;
  full_bisection["fabric"]["oversubscription"] = 1;
  const std::pair<const char*, nlohmann::json> cases[] = {
      {"dp_overlap", no_overlap}, {"stragglers", no_strag}, {"oversubscription", full_bisection}};
  for (const auto& [id, edited] : cases) {
    const ExplainRow* row = row_of(e, id);
    ASSERT_NE(row, nullptr) << id;
    const double oracle = simulate(scen(edited)).step_time_s;
    EXPECT_EQ(row->step_time_s, oracle) << id;
    EXPECT_EQ(row->delta_s, oracle - base) << id;
    EXPECT_DOUBLE_EQ(row->delta_pct, 100 * (oracle - base) / base) << id;
  }
  const ExplainRow* strag = row_of(e, "stragglers");
  EXPECT_EQ(strag->provenance, "assumed");  // gpu_cv written in the scenario
  EXPECT_NE(strag->basis.find("gpu_cv 0.02 from the scenario"), std::string::npos) << strag->basis;
  // Oversubscription only slows traffic: a full-bisection fabric is never slower.
  EXPECT_LE(row_of(e, "oversubscription")->delta_s, 0);
}

TEST(Explain, RowsThatDoNotApplyAreAbsent) {
  auto j = test::pipe_json();
  j["parallelism"]["dp"] = 1;
  j["gpus"] = 8;
  j["nodes"] = 1;
  const ExplainResult e = explain(scen(j));
  EXPECT_EQ(row_of(e, "dp_overlap"), nullptr);          // dp x cp = 1
  EXPECT_EQ(row_of(e, "traffic_contention"), nullptr);  // no DP traffic to contend with
  EXPECT_EQ(row_of(e, "stragglers"), nullptr);          // none in the scenario
  EXPECT_EQ(row_of(e, "oversubscription"), nullptr);    // one server; oversubscription 1
  EXPECT_EQ(row_of(e, "tp_comm_overlap"), nullptr);     // off in the scenario
  EXPECT_NE(row_of(e, "launch_gaps"), nullptr);         // every step launches kernels

  const ExplainResult full = explain(scen(test::pipe_json()));  // dp 2, pp 4
  EXPECT_NE(row_of(full, "dp_overlap"), nullptr);
  EXPECT_NE(row_of(full, "traffic_contention"), nullptr);
  EXPECT_NE(row_of(full, "group_contention"), nullptr);
}

TEST(Explain, RowsSortedByAbsoluteDelta) {
  const ExplainResult e = explain(gpt3());
  ASSERT_GE(e.rows.size(), 3u);
  for (std::size_t i = 1; i < e.rows.size(); ++i)
    EXPECT_GE(std::fabs(e.rows[i - 1].delta_s), std::fabs(e.rows[i].delta_s)) << e.rows[i].id;
  for (const auto& row : e.rows) {
    EXPECT_FALSE(row.off.empty()) << row.id;
    EXPECT_FALSE(row.basis.empty()) << row.id;
    const std::string p = row.provenance;
    EXPECT_TRUE(p.find("measured") != p.npos || p.find("fitted") != p.npos || p.find("derived") != p.npos ||
                p.find("datasheet") != p.npos || p.find("assumed") != p.npos)
        << row.id << ": " << p;
  }
}

// The switches remove their mechanism and nothing is left of it in the step.
TEST(Explain, SwitchesRemoveTheirMechanism) {
  auto j = test::pipe_json();
  j["training"]["framework"] = "eager";  // small kernels: the GPU waits for the host
  Scenario s = scen(j);
  const SimResult base = simulate(s);
  ASSERT_GT(base.breakdown.launch_gap_s, 0);
  s.ablate.no_launch_gaps = true;
  const SimResult no_gaps = simulate(s);
  EXPECT_EQ(no_gaps.breakdown.launch_gap_s, 0);
  EXPECT_LT(no_gaps.step_time_s, base.step_time_s);

  Scenario g = gpt3();
  g.ablate.no_traffic_contention = true;
  const SimResult no_traffic = simulate(g);
  EXPECT_EQ(no_traffic.provenance["contention"]["dp_with_pp"], 1.0);
  EXPECT_EQ(no_traffic.provenance["contention"]["pp_with_dp"], 1.0);
  EXPECT_EQ(no_traffic.provenance["contention"]["dp_with_other_stages_dp"], 1.0);
}

TEST(Explain, LayoutThatDoesNotFitIsExplainedAnyway) {
  auto j = test::pipe_json();
  j["model"]["layers"] = 96;
  j["model"]["hidden"] = 12288;
  j["model"]["heads"] = 96;
  j["training"]["recompute"] = "none";
  const ExplainResult e = explain(scen(j));
  EXPECT_FALSE(e.baseline.memory.fits);
  EXPECT_TRUE(e.baseline.simulated);
  EXPECT_GT(e.baseline.step_time_s, 0);
  EXPECT_FALSE(e.rows.empty());
}

TEST(Explain, JsonRowsFollowTheDefinition) {
  const ExplainResult e = explain(scen(test::pipe_json()));
  const auto j = explain_json(e);
  std::size_t i = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++i) EXPECT_EQ(it.key(), explain_fields().at(i).key);
  ASSERT_EQ(j["rows"].size(), e.rows.size());
  for (const auto& row : j["rows"]) {
    std::size_t k = 0;
    for (auto it = row.begin(); it != row.end(); ++it, ++k) EXPECT_EQ(it.key(), explain_row_fields().at(k).key);
    EXPECT_EQ(k, explain_row_fields().size());
  }
  EXPECT_EQ(j["step_time_s"], e.baseline.step_time_s);
}

}  // namespace
}  // namespace knee
