// Timelines of a training step (knee simulate --trace) and the mechanisms added with them:
// embedding-gradient all-reduce, contention between kinds of traffic, TP communication overlap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "metrics/trace.hpp"
#include "tests/training/scenario_util.hpp"
#include "tests/training/trace_util.hpp"
#include "workloads/training/layer_model.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::pipe_json;

using test::ps;
using test::run_traced;
using test::Traced;

TEST(WorkloadTrace, TracksNestAndSumToTheBreakdown) {
  const Traced t = run_traced(pipe_json());
  ASSERT_TRUE(t.r.simulated);
  std::map<int, std::string> procs;
  std::map<std::pair<int, int>, std::string> threads;
  std::map<std::pair<int, int>, std::vector<std::pair<std::int64_t, std::int64_t>>> slices;
  std::map<int, double> compute_s, bubble_s;
  std::set<std::string> dp_names;
  for (const auto& e : t.j.at("traceEvents")) {
    const int pid = e.at("pid");
    if (e.at("ph") == "M") {
      if (e.at("name") == "process_name") procs[pid] = e.at("args").at("name");
      else threads[{pid, e.at("tid").get<int>()}] = e.at("args").at("name");
      continue;
    }
    const int tid = e.at("tid");
    const std::int64_t a = ps(e.at("ts")), d = ps(e.at("dur"));
    slices[{pid, tid}].push_back({a, a + d});
    const std::string& track = threads[{pid, tid}];
    if (track == "compute") compute_s[pid] += d * 1e-12;
    if (e.at("name") == "bubble") bubble_s[pid] += d * 1e-12;
    if (track == "dp") dp_names.insert(e.at("name").get<std::string>());
    if (track == "tp") { EXPECT_GT(e.at("args").at("bytes").get<double>(), 0); }
  }
  // Default: one pipeline, GPUs 0, 4, 8, 12 (tp 0, dp 0 of each stage with tp-cp-dp-pp placement).
  ASSERT_EQ(procs.size(), 4u);
  for (int pid : {0, 4, 8, 12}) ASSERT_TRUE(procs.count(pid)) << pid;
  for (const char* tr :
       {"compute", "idle (bubble, waits)", "tp", "pp send forward", "pp send backward", "dp", "optimizer"})
    EXPECT_TRUE(std::any_of(threads.begin(), threads.end(), [&](auto& kv) { return kv.second == tr; })) << tr;
  EXPECT_TRUE(dp_names.count("embedding-gradient all-reduce (allreduce)"));
  // Slices on one track never overlap (Chrome's "X" events must nest).
  for (auto& [key, v] : slices) {
    std::sort(v.begin(), v.end());
    for (std::size_t i = 1; i < v.size(); ++i) EXPECT_LE(v[i - 1].second, v[i].first) << key.first << "/" << key.second;
  }
  // The critical stage's compute slices and bubble slices sum to the breakdown's values. Each
  // slice's ends are rounded to whole picoseconds: tolerance 1 ps per slice (relative 1e-6 here).
  const int crit_pid = 4 * t.r.critical_stage;
  EXPECT_NEAR(compute_s[crit_pid], t.r.breakdown.compute_s, 1e-6 * t.r.breakdown.compute_s);
  EXPECT_NEAR(bubble_s[crit_pid], t.r.breakdown.bubble_s, 1e-6 * t.r.step_time_s);
  EXPECT_GT(t.r.breakdown.bubble_s, 0);
  EXPECT_EQ(t.j.at("otherData").at("dropped_events"), 0);
}

TEST(WorkloadTrace, StageZeroOfASingleStageSumsToCompute) {
  auto j = pipe_json();
  j["parallelism"]["pp"] = 1;
  j["parallelism"]["dp"] = 8;
  const Traced t = run_traced(j);
  double c = 0;
  for (const auto& e : t.j.at("traceEvents"))
    if (e.at("ph") == "X" && e.at("pid") == 0 && e.at("tid") == 0) c += ps(e.at("dur")) * 1e-12;
  EXPECT_NEAR(c, t.r.breakdown.compute_s, 1e-6 * t.r.breakdown.compute_s);
}

TEST(WorkloadTrace, FoldedRanksAreNamedAndEventsBounded) {
  // GPU 7: tp 1, dp 1, stage 1: shows GPU 4's events.
  const Traced t = run_traced(pipe_json(), {4, 7}, 500);
  const auto& meta = t.j.at("otherData").at("knee");
  EXPECT_EQ(meta.at("folded_ranks").at("7"), 4);
  EXPECT_FALSE(meta.at("folded_ranks").contains("4"));
  EXPECT_EQ(meta.at("traced_ranks"), 2);
  EXPECT_GT(t.j.at("otherData").at("dropped_events").get<int>(), 0);
  EXPECT_EQ(meta.at("dropped_events"), t.j.at("otherData").at("dropped_events"));
  std::size_t x = 0;
  bool named = false;
  for (const auto& e : t.j.at("traceEvents")) {
    x += e.at("ph") == "X";
    if (e.at("ph") == "M" && e.at("pid") == 7 && e.at("name") == "process_name")
      named = e.at("args").at("name").get<std::string>().find("= GPU 4 folded") != std::string::npos;
  }
  EXPECT_EQ(x, 500u);
  EXPECT_TRUE(named);
}

TEST(WorkloadMechanisms, TiedEmbeddingGradientIsAllReducedBetweenEndStages) {
  auto j = pipe_json();
  const SimResult tied = simulate(parse_scenario(j, "<test>"));
  j["model"]["ffn"] = "swiglu";  // untied (Llama-style): no embedding all-reduce
  j["model"]["ffn_hidden"] = 5632;
  const SimResult untied = simulate(parse_scenario(j, "<test>"));
  // Stage 0 and stage pp-1 both wait for it: its time shows in their DP busy time.
  EXPECT_GT(tied.comm_total_s[workload::kDP], 0);
  const auto& k = tied.breakdown;
  EXPECT_NEAR(k.compute_s + k.exposed_comm_s() + k.bubble_s + k.optimizer_s, tied.step_time_s, 1e-9 * tied.step_time_s);
  // The last stage (critical here) waits for stage 0, which finishes its backward last, before the
  // all-reduce: that wait is the schedule's (bubble), so exposed DP never exceeds DP busy time.
  EXPECT_EQ(tied.critical_stage, 3);
  EXPECT_LE(k.dp_s, tied.comm_total_s[workload::kDP]);
  EXPECT_GT(k.bubble_s, 0);
  EXPECT_TRUE(untied.simulated);
  ChromeTrace t;
  SimOptions o;
  o.trace = &t;
  simulate(parse_scenario(j, "<test>"), o);
  EXPECT_EQ(t.json().find("embedding-gradient"), std::string::npos);
}

TEST(WorkloadMechanisms, PipelineSendsAndDataParallelReductionsContend) {
  // tp 8 fills a server, so both stage boundaries and DP rings cross servers and share the
  // GPUs' NICs: both slow down when they run together (max-min fair shares: up to 2x).
  auto j = pipe_json();
  j["nodes"] = 4;
  j["gpus"] = 32;
  j["parallelism"]["tp"] = 8;
  j["parallelism"]["pp"] = 2;
  const SimResult r = simulate(parse_scenario(j, "<test>"));
  const auto& c = r.provenance.at("contention");
  EXPECT_GT(c.at("dp_with_pp").get<double>(), 1.2);
  EXPECT_GT(c.at("pp_with_dp").get<double>(), 1.2);
  EXPECT_LE(c.at("pp_with_dp").get<double>(), 2.0 + 1e-9);
}

TEST(WorkloadMechanisms, TpCommOverlapHidesCollectivesBehindGemms) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 1, "gpus": 8,
    "model": {"layers": 4, "hidden": 8192, "heads": 64, "seq_len": 4096, "vocab": 0},
    "parallelism": {"tp": 8, "global_batch": 1, "sequence_parallel": true}})");
  const SimResult off = simulate(parse_scenario(j, "<test>"));
  j["training"]["tp_comm_overlap"] = true;
  const SimResult on = simulate(parse_scenario(j, "<test>"));
  ASSERT_GT(off.breakdown.tp_s, 0);
  EXPECT_LT(on.breakdown.tp_s, 0.5 * off.breakdown.tp_s);
  EXPECT_DOUBLE_EQ(on.comm_total_s[workload::kTP], off.comm_total_s[workload::kTP]);  // same traffic, hidden
  EXPECT_DOUBLE_EQ(on.breakdown.compute_s, off.breakdown.compute_s);
  EXPECT_LT(on.step_time_s, off.step_time_s);
  j["parallelism"]["sequence_parallel"] = false;
  try {
    parse_scenario(j, "<test>");
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("$.training.tp_comm_overlap"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace knee
