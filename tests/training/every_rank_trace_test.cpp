// Timelines of an every-rank step (knee simulate --every-rank --trace): each traced GPU drawn
// from its own unit's events, so replicas that differ (a slow GPU) differ in the timeline too.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "metrics/trace.hpp"
#include "tests/training/scenario_util.hpp"
#include "tests/training/trace_util.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::pipe_json;

using test::ps;
using test::Traced;

Traced run_traced(const nlohmann::json& sj, std::vector<std::uint32_t> ranks) {
  return test::run_traced(sj, std::move(ranks), 1'000'000, true);
}

// Per process: seconds on the compute track and in bubble slices; every track's slices nest.
struct Sums {
  std::map<int, double> compute_s, bubble_s;
};
Sums sums(const nlohmann::json& j) {
  Sums s;
  std::map<std::pair<int, int>, std::string> threads;
  std::map<std::pair<int, int>, std::vector<std::pair<std::int64_t, std::int64_t>>> slices;
  for (const auto& e : j.at("traceEvents"))
    if (e.at("ph") == "M" && e.at("name") == "thread_name")
      threads[{e.at("pid").get<int>(), e.at("tid").get<int>()}] = e.at("args").at("name");
  for (const auto& e : j.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    const int pid = e.at("pid"), tid = e.at("tid");
    const std::int64_t a = ps(e.at("ts")), d = ps(e.at("dur"));
    slices[{pid, tid}].push_back({a, a + d});
    if (threads[{pid, tid}] == "compute") s.compute_s[pid] += d * 1e-12;
    if (e.at("name") == "bubble") s.bubble_s[pid] += d * 1e-12;
  }
  for (auto& [key, v] : slices) {
    std::sort(v.begin(), v.end());
    for (std::size_t i = 1; i < v.size(); ++i) EXPECT_LE(v[i - 1].second, v[i].first) << key.first << "/" << key.second;
  }
  return s;
}

// tp 2 pp 4 dp 2 (placement tp-cp-dp-pp: rank = tp + 2 (dp + 2 stage)): every unit's tp-0 GPU traced.
const std::vector<std::uint32_t> kUnitGpus = {0, 2, 4, 6, 8, 10, 12, 14};

TEST(EveryRankTrace, TracksNestAndTheCriticalUnitSumsToTheBreakdown) {
  const Traced t = run_traced(pipe_json(), kUnitGpus);
  ASSERT_FALSE(t.r.folded);
  const Sums s = sums(t.j);
  ASSERT_EQ(s.compute_s.size(), 8u);
  const auto& cu = t.r.every_rank.at("critical_unit");
  const int pid = 2 * (cu.at("dp").get<int>() + 2 * cu.at("stage").get<int>());
  // Slice ends are whole picoseconds: 1e-6 relative.
  EXPECT_NEAR(s.compute_s.at(pid), t.r.breakdown.compute_s, 1e-6 * t.r.breakdown.compute_s);
  EXPECT_NEAR(s.bubble_s.at(pid), t.r.breakdown.bubble_s, 1e-6 * t.r.step_time_s);
  EXPECT_GT(t.r.breakdown.bubble_s, 0);
  const auto& meta = t.j.at("otherData").at("knee");
  EXPECT_NE(meta.at("folding").get<std::string>().find("every rank"), std::string::npos);
  EXPECT_TRUE(meta.at("folded_ranks").empty());  // each traced GPU is its unit's tp 0
}

// GPU 13 (tp 1, dp 0, stage 3) at factor 2: its unit's compute slices take (F - 1) x its kernel
// time more than the replica without it, whose unit (GPU 14's) keeps the nominal time; the slow
// unit's sum is the breakdown's compute (the slow unit ends the step).
TEST(EveryRankTrace, ASlowGpuShowsInItsOwnUnitOnly) {
  const Traced nominal = run_traced(pipe_json(), kUnitGpus);
  auto j = pipe_json();
  j["simulation"] = {{"slow_gpus", {{{"node", 1}, {"gpu", 5}, {"factor", 2.0}}}}};
  const Traced slow = run_traced(j, kUnitGpus);
  const Sums a = sums(nominal.j), b = sums(slow.j);
  EXPECT_NEAR(b.compute_s.at(14), a.compute_s.at(14), 1e-6 * a.compute_s.at(14));
  EXPECT_GT(b.compute_s.at(12), 1.5 * a.compute_s.at(12));
  EXPECT_NEAR(b.compute_s.at(12), slow.r.breakdown.compute_s, 1e-6 * slow.r.breakdown.compute_s);
}

TEST(EveryRankTrace, RefusedWithStragglers) {
  auto j = pipe_json();
  j["stragglers"] = {{"gpu_cv", 0.01}};
  ChromeTrace t(1000);
  SimOptions o;
  o.trace = &t;
  o.every_rank = true;
  const std::string m = test::error_of([&] { simulate(parse_scenario(j, "<test>"), o); });
  EXPECT_NE(m.find("<test>: $.stragglers: expected no stragglers with a timeline in every-rank mode"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace knee
