// `knee analyze`: measured runs analysed with a reviewer's discipline (docs/analyze.md). Per GPU
// count: warm-up dropped by MSER-5, outliers flagged (kept), mean and median with percentile
// bootstrap intervals, the coefficient of variation and the repetitions a precision needs; speedup
// and efficiency against a stated baseline with intervals; strong, weak or unfair scaling named
// from the global batch; Amdahl, Gustafson and USL fits with bootstrap intervals, extrapolations
// and knees. The fields of the result are defined once in run_analysis_schema.hpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/run_input.hpp"
#include "metrics/run_stats.hpp"
#include "metrics/scaling_fits.hpp"

namespace knee {

struct AnalyzeOptions {
  std::int64_t baseline_gpus = 0;  // 0: the smallest measured count
  double precision = 0.01;         // wanted half-width of the mean's 95% interval, a share of the mean
  int resamples = 2000;            // bootstrap resamples (each interval, and the fits)
  std::uint64_t seed = 1;          // of every bootstrap stream
  double confidence = 0.95;
  double outlier_mads = 3;  // flag beyond this many scaled MADs from the median
  // Predictions at 2, 4 and 8 x the largest measured count, and at these counts too (knee audit:
  // the size a claim speaks of), in increasing order without repeats.
  std::vector<double> predict_at_gpus;
};

struct CountAnalysis {
  std::int64_t gpus = 0;
  std::int64_t runs = 0, iterations = 0;    // runs (repetitions) and rows at this count
  std::int64_t warmup_dropped = 0;          // all runs together
  std::vector<std::int64_t> warmup_by_run;  // in run order
  std::vector<std::string> run_ids;
  std::int64_t samples = 0;                     // iterations kept after warm-up
  double mean = 0, median = 0, sd = 0, cv = 0;  // in the unit of the measure
  Interval mean_ci, median_ci;
  std::int64_t repetitions_needed = 0;
  std::vector<std::int64_t> outlier_iterations;
  std::vector<std::string> outlier_runs;                        // the run of each outlier ("" without a run column)
  std::int64_t global_batch = 0, micro_batch = 0, seq_len = 0;  // 0: not given
  double throughput = 0;                                        // in RunAnalysis::throughput_unit
  Interval throughput_ci;
  double speedup = 0, efficiency = 0;  // against the baseline count
  Interval speedup_ci, efficiency_ci;
  std::vector<double> kept;  // the values after warm-up, in order (not reported)
};

struct FitAnalysis {
  ScalingFit fit;
  bool applies = false;  // the law describes this kind of scaling
  std::string basis;     // why it applies or not
  std::int64_t points = 0;
  std::int64_t resamples_ok = 0;  // bootstrap replicates where the fit succeeded
  Interval x1_ci, serial_fraction_ci, sigma_ci, kappa_ci, knee_ci;
};

struct Prediction {
  ScalingLaw law = ScalingLaw::kAmdahl;
  double factor = 0;  // x the largest measured count
  double gpus = 0;
  double throughput = 0, efficiency = 0;  // efficiency against the measured baseline
  Interval throughput_ci, efficiency_ci;
};

struct RunAnalysis {
  std::string source;
  RunMeasure measure = RunMeasure::kStepTime;
  std::string throughput_unit;  // "samples/s", "tokens/s" or "steps/s"
  std::string mode;             // "strong", "weak", "mixed" or "unknown"
  std::string mode_basis;
  std::int64_t baseline_gpus = 0;
  AnalyzeOptions options;
  std::vector<std::string> notes;  // unfair baselines, assumptions, what was ignored
  std::vector<std::string> ignored_columns;
  std::vector<CountAnalysis> counts;
  std::vector<FitAnalysis> fits;
  std::vector<Prediction> predictions;
  // knee analyze --scenario: the simulated curve beside the measured one (analysis_overlay.hpp);
  // null without a scenario.
  nlohmann::ordered_json simulated;
};

// Analyses `t`. Bad options (a baseline that was not measured, a precision outside (0, 1)) and
// too few measurements for an interval are InputErrors naming the source.
RunAnalysis analyze_runs(const RunTable& t, const AnalyzeOptions& opt);

// How the intervals and the warm-up were found, one line each (for the JSON and the table).
const char* analysis_interval_method();
const char* analysis_fit_interval_method();
const char* analysis_warmup_method();
const char* analysis_outlier_rule();

}  // namespace knee
