#include "metrics/run_analysis.hpp"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/random.hpp"
#include "metrics/run_analysis_schema.hpp"
#include "metrics/run_input.hpp"

using namespace knee;

namespace {

// A CSV of `iters` iterations per count at T(N) = t1 (s + (1 - s) / N) with 1% noise; the global
// batch of each count from `batch(N)` (0: no column).
std::string csv(const std::vector<int>& gpus, int iters, double s, std::int64_t (*batch)(int), std::uint64_t seed = 1) {
  Random rng(seed);
  std::string out = batch ? "gpus,iteration,step_time_s,global_batch\n" : "gpus,iteration,step_time_s\n";
  for (int n : gpus)
    for (int i = 0; i < iters; ++i) {
      const double t = 10.0 * (s + (1 - s) / n) * (1 + 0.01 * rng.normal());
      out += std::to_string(n) + "," + std::to_string(i) + "," + std::to_string(t);
      out += batch ? "," + std::to_string(batch(n)) + "\n" : "\n";
    }
  return out;
}

std::int64_t fixed_batch(int) { return 256; }
std::int64_t per_gpu_batch(int n) { return 4 * n; }
std::int64_t odd_batch(int n) { return n == 16 ? 100 : 256; }

RunAnalysis run(const std::string& text, AnalyzeOptions opt = {}) {
  opt.resamples = 300;
  return analyze_runs(parse_runs_csv(text, "t.csv", true), opt);
}

std::string error_of(const std::string& text, bool strict = true) {
  try {
    (void)analyze_runs(parse_runs_text(text, "bad.csv", strict), AnalyzeOptions{});
  } catch (const InputError& e) { return e.what(); }
  return "";
}

}  // namespace

TEST(RunAnalysis, NamesStrongWeakMixedAndUnknownScaling) {
  EXPECT_EQ(run(csv({8, 16, 32}, 30, 0.05, fixed_batch)).mode, "strong");
  EXPECT_EQ(run(csv({8, 16, 32}, 30, 0.05, per_gpu_batch)).mode, "weak");
  EXPECT_EQ(run(csv({8, 16, 32}, 30, 0.05, nullptr)).mode, "unknown");
  const RunAnalysis m = run(csv({8, 16, 32}, 30, 0.05, odd_batch));
  EXPECT_EQ(m.mode, "mixed");
  ASSERT_FALSE(m.notes.empty());
  EXPECT_NE(m.notes[0].find("unfair comparison: at 16 GPUs the global batch is 100"), std::string::npos) << m.notes[0];
  EXPECT_FALSE(m.fits[0].applies);  // Amdahl does not describe an irregular batch
}

TEST(RunAnalysis, SaysWhenTheBaselineIsNotOneGpu) {
  const RunAnalysis a = run(csv({8, 16, 32}, 30, 0.05, fixed_batch));
  EXPECT_EQ(a.baseline_gpus, 8);
  bool said = false;
  for (const auto& n : a.notes) said |= n.find("the baseline is 8 GPUs, not 1") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_FALSE(analysis_json(a)["baseline_is_one_gpu"].get<bool>());
  const RunAnalysis one = run(csv({1, 2, 4}, 30, 0.05, fixed_batch));
  for (const auto& n : one.notes) EXPECT_EQ(n.find("not 1"), std::string::npos) << n;
  AnalyzeOptions o;
  o.baseline_gpus = 16;
  const RunAnalysis b = run(csv({8, 16, 32}, 30, 0.05, fixed_batch), o);
  EXPECT_EQ(b.baseline_gpus, 16);
  EXPECT_DOUBLE_EQ(b.counts[1].speedup, 1.0);
  EXPECT_LT(b.counts[0].speedup, 1.0);
}

TEST(RunAnalysis, SpeedupAndAmdahlFromSyntheticRuns) {
  // The oracle: Amdahl's speedup of 32 over 8 GPUs for s = 0.05 is (0.05 + 0.95/8) / (0.05 + 0.95/32).
  const RunAnalysis a = run(csv({8, 16, 32, 64, 128, 256}, 40, 0.05, fixed_batch));
  const double want = (0.05 + 0.95 / 8) / (0.05 + 0.95 / 32);
  EXPECT_NEAR(a.counts[2].speedup, want, want * 0.01);
  EXPECT_LE(a.counts[2].speedup_ci.lo, a.counts[2].speedup);
  EXPECT_GE(a.counts[2].speedup_ci.hi, a.counts[2].speedup);
  EXPECT_NEAR(a.counts[2].efficiency, want / 4, want / 4 * 0.01);
  ASSERT_EQ(a.fits.size(), 3u);
  EXPECT_NEAR(a.fits[0].fit.serial_fraction, 0.05, 0.01);
  EXPECT_LE(a.fits[0].serial_fraction_ci.lo, 0.05 + 0.01);
  EXPECT_GE(a.fits[0].serial_fraction_ci.hi, 0.05 - 0.01);
  EXPECT_EQ(a.predictions.size(), 9u);
  EXPECT_DOUBLE_EQ(a.predictions[0].gpus, 512);
  EXPECT_DOUBLE_EQ(a.predictions[2].gpus, 2048);
  EXPECT_EQ(a.throughput_unit, "samples/s");
}

TEST(RunAnalysis, WarmupDroppedAndOutliersFlaggedByIteration) {
  std::string t = "gpus,iteration,step_time_s\n";
  for (int i = 0; i < 120; ++i) {
    double v = 1.0 + 0.005 * (i % 5 - 2);  // steady, a pattern of period 5: no natural outliers
    if (i < 20) v += 0.5;                  // warm-up
    if (i == 77) v = 1.3;                  // a spike
    t += "4," + std::to_string(i + 100) + "," + std::to_string(v) + "\n";
  }
  const RunAnalysis a = run(t);
  EXPECT_EQ(a.counts[0].warmup_dropped, 20);
  EXPECT_EQ(a.counts[0].samples, 100);
  ASSERT_EQ(a.counts[0].outlier_iterations.size(), 1u);
  EXPECT_EQ(a.counts[0].outlier_iterations[0], 177);
  EXPECT_EQ(a.counts[0].samples, 100);  // flagged, not dropped
}

TEST(RunAnalysis, SameInputGivesBitIdenticalJson) {
  const std::string t = csv({8, 16, 32}, 30, 0.05, fixed_batch);
  EXPECT_EQ(analysis_json(run(t)).dump(), analysis_json(run(t)).dump());
  AnalyzeOptions o;
  o.seed = 2;
  EXPECT_NE(analysis_json(run(t)).dump(), analysis_json(run(t, o)).dump());  // the seed matters
}

TEST(RunAnalysis, JsonFieldsAreTheSchemas) {
  const auto j = analysis_json(run(csv({8, 16, 32}, 30, 0.05, fixed_batch)));
  std::size_t i = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++i) EXPECT_EQ(it.key(), analysis_fields()[i].key);
  i = 0;
  for (auto it = j["counts"][0].begin(); it != j["counts"][0].end(); ++it, ++i)
    EXPECT_EQ(it.key(), analysis_count_fields()[i].key);
}

TEST(RunInput, BadInputNamesTheFileRowAndField) {
  EXPECT_EQ(error_of("gpus,iteration\n8,0\n"),
            "bad.csv: header: expected a column step_time_s, tokens_per_s or samples_per_s, got none of them");
  EXPECT_EQ(error_of("step_time_s\n1.0\n"), "bad.csv: header: expected a column gpus, got none");
  EXPECT_EQ(error_of("gpus,step_time_s\n8,1.0\n8,abc\n"),
            "bad.csv: row 2 (line 3), step_time_s: expected a positive number, got 'abc'");
  EXPECT_EQ(error_of("gpus,step_time_s\n8,1.0\n8,-2\n"),
            "bad.csv: row 2 (line 3), step_time_s: expected a positive number, got '-2'");
  EXPECT_EQ(error_of("gpus,step_time_s\n8,1.0\n"),
            "bad.csv: gpus 8: expected at least 2 measurements (iterations or runs) after warm-up, for an interval, "
            "got 1");
  EXPECT_NE(error_of("gpus,step_time_s,flops\n8,1.0,3\n8,1.1,3\n").find("column 'flops'"), std::string::npos);
  EXPECT_EQ(error_of("gpus,step_time_s,flops\n8,1.0,3\n8,1.1,3\n", false), "");  // not strict: ignored
  EXPECT_NE(error_of("{\"runs\": [{\"gpus\": 8, \"step_time_s\": [1, 2], \"globl_batch\": 4}]}").find("globl_batch"),
            std::string::npos);
  EXPECT_NE(error_of("[{\"gpus\": 8, \"step_time_s\": 1}, {\"gpus\": 8, \"step_time_s\": 0}]").find("$[1].step_time_s"),
            std::string::npos);
  EXPECT_NE(error_of("gpus,step_time_s,global_batch\n8,1.0,4\n8,1.1,8\n").find("row 2 (line 3), global_batch"),
            std::string::npos);
}

TEST(RunInput, JsonShapesEqualTheCsv) {
  const std::string c = "gpus,run,step_time_s,global_batch\n8,a,1.0,64\n8,a,1.1,64\n16,a,0.6,64\n16,a,0.61,64\n";
  const std::string runs =
      R"({"runs": [{"gpus": 8, "run": "a", "step_time_s": [1.0, 1.1], "global_batch": 64},
                   {"gpus": 16, "run": "a", "step_time_s": [0.6, 0.61], "global_batch": 64}]})";
  const std::string rows = R"([{"gpus": 8, "run": "a", "step_time_s": 1.0, "global_batch": 64},
      {"gpus": 8, "run": "a", "step_time_s": 1.1, "global_batch": 64},
      {"gpus": 16, "run": "a", "step_time_s": 0.6, "global_batch": 64},
      {"gpus": 16, "run": "a", "step_time_s": 0.61, "global_batch": 64}])";
  AnalyzeOptions o;
  o.resamples = 200;
  auto dump = [&](const std::string& t) {
    auto j = analysis_json(analyze_runs(parse_runs_text(t, "x", true), o));
    j.erase("source");
    return j.dump();
  };
  EXPECT_EQ(dump(c), dump(runs));
  EXPECT_EQ(dump(c), dump(rows));
}
