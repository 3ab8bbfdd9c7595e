// knee audit: each check against claims built to pass or fail it, the measured efficiency against
// the generating law, and the simulation row against a sweep run here directly.
#include "metrics/claim_audit.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/random.hpp"
#include "tests/common/error_of.hpp"
#include "tests/training/scenario_util.hpp"
#include "workloads/training/sweep.hpp"

using namespace knee;
using Json = nlohmann::json;

namespace {

// Runs of T(N) = serial + work / N with 1% noise: `runs` runs of 30 iterations at each count.
Json runs_of(const std::vector<int>& gpus, double serial, double work, int runs, bool batch = true,
             std::uint64_t seed = 3) {
  Random r(seed);
  Json out = Json::array();
  for (int g : gpus)
    for (int k = 0; k < runs; ++k) {
      Json times = Json::array();
      for (int i = 0; i < 30; ++i) times.push_back((serial + work / g) * (1 + 0.01 * r.normal()));
      Json run = {{"gpus", g}, {"run", "r" + std::to_string(k)}, {"step_time_s", times}};
      if (batch) run["global_batch"] = 512;
      out.push_back(run);
    }
  return out;
}

Json full_claim(double efficiency, int gpus) {
  return {{"claim", "test"},
          {"extrapolation", {{"gpus", gpus}, {"efficiency", efficiency}}},
          {"baseline_gpus", 8},
          {"measurement", {{"window", "iterations 0-29"}, {"warmup_steps", 0}}},
          {"runs", runs_of({8, 16, 32, 64}, 0.0, 12.0, 2)}};
}

const AuditCheck& check(const ClaimAudit& a, const std::string& item) {
  for (const auto& k : a.checks)
    if (k.item == item) return k;
  throw std::logic_error("no check " + item);
}

ClaimAudit audit(const Json& j) { return audit_claim(parse_claim(j, "claim.json", "."), {}); }

}  // namespace

// Perfectly linear runs (no serial part): a claim of 0.9 at 128 GPUs is consistent everywhere.
TEST(ClaimAudit, LinearRunsSupportAModestClaim) {
  const ClaimAudit a = audit(full_claim(0.9, 128));
  for (const char* item : {"baseline", "batch size", "measurement window", "warm-up", "repetitions", "variance"})
    EXPECT_EQ(check(a, item).status, "ok") << item << ": " << check(a, item).detail;
  EXPECT_EQ(check(a, "extrapolation").status, "extrapolated");
  EXPECT_EQ(check(a, "measured efficiency").status, "consistent");
  EXPECT_EQ(check(a, "scaling laws").status, "consistent") << check(a, "scaling laws").detail;
  EXPECT_EQ(check(a, "simulation").status, "not checked");
  EXPECT_EQ(a.verdict, "consistent with the evidence");
}

// A serial part of 0.35 s against 12 s of work: at 64 GPUs the efficiency is
// (0.35 + 12/8) / (0.35 + 12/64) / 8 = 0.430; a claim of linear scaling is contradicted.
TEST(ClaimAudit, ASerialPartContradictsLinearScaling) {
  Json j = full_claim(1.0, 1024);
  j["runs"] = runs_of({8, 16, 32, 64}, 0.35, 12.0, 2);
  const ClaimAudit a = audit(j);
  const double want = (0.35 + 12.0 / 8) / (0.35 + 12.0 / 64) / 8;
  EXPECT_NEAR(a.analysis.counts.back().efficiency, want, 0.01);
  EXPECT_EQ(check(a, "measured efficiency").status, "contradicted");
  EXPECT_EQ(check(a, "scaling laws").status, "contradicted");
  EXPECT_EQ(a.verdict, "not supported");
}

TEST(ClaimAudit, WhatIsNotStatedIsNamed) {
  Json j = full_claim(0.9, 128);
  j.erase("baseline_gpus");
  j.erase("measurement");
  j["runs"] = runs_of({8, 16, 32, 64}, 0.0, 12.0, 1, /*batch=*/false);
  const ClaimAudit a = audit(j);
  for (const char* item : {"baseline", "batch size", "measurement window", "warm-up"})
    EXPECT_EQ(check(a, item).status, "missing") << item;
  EXPECT_EQ(check(a, "repetitions").status, "weak");
  EXPECT_EQ(a.verdict, "cannot be judged");
  EXPECT_NE(a.verdict_basis.find("baseline, batch size, measurement window, warm-up"), std::string::npos)
      << a.verdict_basis;
}

TEST(ClaimAudit, ABatchThatChangesIrregularlyIsUnfair) {
  Json j = full_claim(0.9, 128);
  for (auto& r : j["runs"]) r["global_batch"] = r["gpus"].get<int>() >= 32 ? 768 : 512;  // neither rule
  EXPECT_EQ(check(audit(j), "batch size").status, "unfair");
}

// The simulation row is the sweep's own efficiency at the claimed size, with an interval around it.
TEST(ClaimAudit, TheSimulationRowIsTheSweepAtTheClaimedSize) {
  Json j = full_claim(1.0, 64);
  j["baseline_gpus"] = 16;
  j["runs"] = runs_of({16, 32, 64}, 0.0, 12.0, 2);
  j["scenario"] = knee::test::pipe_json();
  j["samples"] = 4;
  const ClaimAudit a = audit(j);
  const SweepResult direct = sweep(knee::test::scen(knee::test::pipe_json()), {16, 32, 64}, "strong", 16, 0.8);
  ASSERT_TRUE(direct.points.back().feasible);
  EXPECT_DOUBLE_EQ(a.simulated_efficiency, direct.points.back().efficiency);
  EXPECT_LT(a.simulated_efficiency_lo, a.simulated_efficiency_hi);
  EXPECT_EQ(a.simulated_samples, 4);
  EXPECT_EQ(check(a, "simulation").status, direct.points.back().efficiency < 1.0 ? "contradicted" : "consistent");
  EXPECT_NE(check(a, "simulation").detail.find("over 4 profile draws"), std::string::npos);
}

TEST(ClaimAudit, BadClaimsNameTheField) {
  auto err = [](const Json& j) { return knee::test::error_of([&] { parse_claim(j, "claim.json", "."); }); };
  Json j = full_claim(0.9, 128);
  j.erase("claim");
  EXPECT_NE(err(j).find("claim.json: $.claim"), std::string::npos) << err(j);
  j = full_claim(2.0, 128);
  EXPECT_NE(err(j).find("$.extrapolation.efficiency: expected an efficiency"), std::string::npos) << err(j);
  j = full_claim(0.9, 128);
  j["runs"] = "no-such-runs.csv";
  EXPECT_NE(err(j).find("$.runs: expected a runs file that exists"), std::string::npos) << err(j);
  j = full_claim(0.9, 128);
  j["samples"] = 1;
  EXPECT_NE(err(j).find("$.samples"), std::string::npos) << err(j);
  j = full_claim(0.9, 128);
  j["extrapolaton"] = 3;
  EXPECT_NE(err(j).find("$.extrapolaton"), std::string::npos) << err(j);
  j = full_claim(0.9, 128);
  j["runs"][0]["step_time_s"][0] = -1;
  EXPECT_NE(err(j).find("claim.json: $.runs[0].step_time_s[0]"), std::string::npos) << err(j);
}
