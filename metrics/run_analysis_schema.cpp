#include "metrics/run_analysis_schema.hpp"

#include <cmath>

namespace knee {
namespace {

using J = nlohmann::ordered_json;

J num(double v) { return std::isfinite(v) ? J(v) : J(nullptr); }
J opt_int(std::int64_t v) { return v > 0 ? J(v) : J(nullptr); }

template <class T>
J rows_json(const std::vector<T>& rows, const std::vector<AnalysisField<T>>& fields) {
  J out = J::array();
  for (const auto& r : rows) {
    J o = J::object();
    for (const auto& f : fields) o[f.key] = f.value(r);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

const std::vector<AnalysisField<CountAnalysis>>& analysis_count_fields() {
  using C = CountAnalysis;
  static const std::vector<AnalysisField<C>> f = {
      {"gpus", "GPUs", "GPU count", [](const C& c) { return J(c.gpus); }},
      {"runs", "", "runs (repetitions) at this count", [](const C& c) { return J(c.runs); }},
      {"iterations", "", "measurements given, all runs", [](const C& c) { return J(c.iterations); }},
      {"warmup_dropped", "", "leading iterations dropped as warm-up by MSER-5, all runs",
       [](const C& c) { return J(c.warmup_dropped); }},
      {"warmup_by_run", "", "iterations dropped in each run, in run order",
       [](const C& c) { return J(c.warmup_by_run); }},
      {"samples", "", "iterations kept after warm-up", [](const C& c) { return J(c.samples); }},
      {"mean", "measure", "mean of the kept iterations", [](const C& c) { return num(c.mean); }},
      {"mean_lo", "measure", "lower end of the mean's interval", [](const C& c) { return num(c.mean_ci.lo); }},
      {"mean_hi", "measure", "upper end of the mean's interval", [](const C& c) { return num(c.mean_ci.hi); }},
      {"median", "measure", "median of the kept iterations", [](const C& c) { return num(c.median); }},
      {"median_lo", "measure", "lower end of the median's interval", [](const C& c) { return num(c.median_ci.lo); }},
      {"median_hi", "measure", "upper end of the median's interval", [](const C& c) { return num(c.median_ci.hi); }},
      {"sd", "measure", "sample standard deviation of the kept iterations", [](const C& c) { return num(c.sd); }},
      {"cv", "share", "coefficient of variation: sd / mean", [](const C& c) { return num(c.cv); }},
      {"repetitions_needed", "", "iterations for the mean's 95% half-width to be the precision x the mean",
       [](const C& c) { return J(c.repetitions_needed); }},
      {"outliers", "", "kept iterations beyond the outlier rule (flagged, not dropped)",
       [](const C& c) { return J(c.outlier_iterations.size()); }},
      {"outlier_iterations", "", "their iteration numbers", [](const C& c) { return J(c.outlier_iterations); }},
      {"outlier_runs", "", "the run of each (\"\" without a run column)", [](const C& c) { return J(c.outlier_runs); }},
      {"global_batch", "samples", "global batch (null: not given)", [](const C& c) { return opt_int(c.global_batch); }},
      {"batch_per_gpu", "samples", "global batch / GPUs (null: not given)",
       [](const C& c) {
         return c.global_batch > 0 ? num(static_cast<double>(c.global_batch) / static_cast<double>(c.gpus)) : J();
       }},
      {"micro_batch", "samples", "micro batch (null: not given)", [](const C& c) { return opt_int(c.micro_batch); }},
      {"seq_len", "tokens", "sequence length (null: not given)", [](const C& c) { return opt_int(c.seq_len); }},
      {"throughput", "throughput", "work per step / mean step time (or the mean throughput)",
       [](const C& c) { return num(c.throughput); }},
      {"throughput_lo", "throughput", "lower end of its interval", [](const C& c) { return num(c.throughput_ci.lo); }},
      {"throughput_hi", "throughput", "upper end of its interval", [](const C& c) { return num(c.throughput_ci.hi); }},
      {"speedup", "x", "throughput / the baseline count's", [](const C& c) { return num(c.speedup); }},
      {"speedup_lo", "x", "lower end of its interval", [](const C& c) { return num(c.speedup_ci.lo); }},
      {"speedup_hi", "x", "upper end of its interval", [](const C& c) { return num(c.speedup_ci.hi); }},
      {"efficiency", "share", "speedup / (gpus / baseline gpus)", [](const C& c) { return num(c.efficiency); }},
      {"efficiency_lo", "share", "lower end of its interval", [](const C& c) { return num(c.efficiency_ci.lo); }},
      {"efficiency_hi", "share", "upper end of its interval", [](const C& c) { return num(c.efficiency_ci.hi); }},
  };
  return f;
}

const std::vector<AnalysisField<FitAnalysis>>& analysis_fit_fields() {
  using F = FitAnalysis;
  static const std::vector<AnalysisField<F>> f = {
      {"law", "", "amdahl, gustafson or usl", [](const F& x) { return J(scaling_law_name(x.fit.law)); }},
      {"fitted", "", "the law could be fitted (enough GPU counts)", [](const F& x) { return J(x.fit.ok); }},
      {"applies", "", "the law describes this kind of scaling", [](const F& x) { return J(x.applies); }},
      {"basis", "", "why it applies or not", [](const F& x) { return J(x.basis); }},
      {"points", "", "GPU counts fitted", [](const F& x) { return J(x.points); }},
      {"resamples_ok", "", "bootstrap replicates that could be fitted", [](const F& x) { return J(x.resamples_ok); }},
      {"x1", "throughput", "throughput of 1 GPU by the law (extrapolated without a 1-GPU run)",
       [](const F& x) { return x.fit.ok ? num(x.fit.x1) : J(); }},
      {"x1_lo", "throughput", "lower end of its interval", [](const F& x) { return num(x.x1_ci.lo); }},
      {"x1_hi", "throughput", "upper end of its interval", [](const F& x) { return num(x.x1_ci.hi); }},
      {"serial_fraction", "share", "s (Amdahl, Gustafson; null for usl)",
       [](const F& x) { return x.fit.ok && x.fit.law != ScalingLaw::kUsl ? num(x.fit.serial_fraction) : J(); }},
      {"serial_fraction_lo", "share", "lower end of its interval",
       [](const F& x) { return x.fit.law != ScalingLaw::kUsl ? num(x.serial_fraction_ci.lo) : J(); }},
      {"serial_fraction_hi", "share", "upper end of its interval",
       [](const F& x) { return x.fit.law != ScalingLaw::kUsl ? num(x.serial_fraction_ci.hi) : J(); }},
      {"sigma", "", "USL contention (null for the others)",
       [](const F& x) { return x.fit.ok && x.fit.law == ScalingLaw::kUsl ? num(x.fit.sigma) : J(); }},
      {"sigma_lo", "", "lower end of its interval",
       [](const F& x) { return x.fit.law == ScalingLaw::kUsl ? num(x.sigma_ci.lo) : J(); }},
      {"sigma_hi", "", "upper end of its interval",
       [](const F& x) { return x.fit.law == ScalingLaw::kUsl ? num(x.sigma_ci.hi) : J(); }},
      {"kappa", "", "USL coherency (null for the others)",
       [](const F& x) { return x.fit.ok && x.fit.law == ScalingLaw::kUsl ? num(x.fit.kappa) : J(); }},
      {"kappa_lo", "", "lower end of its interval",
       [](const F& x) { return x.fit.law == ScalingLaw::kUsl ? num(x.kappa_ci.lo) : J(); }},
      {"kappa_hi", "", "upper end of its interval",
       [](const F& x) { return x.fit.law == ScalingLaw::kUsl ? num(x.kappa_ci.hi) : J(); }},
      {"rms_rel_residual", "share", "root mean square of 1 - model / measured over the counts",
       [](const F& x) { return x.fit.ok ? num(x.fit.rms_rel_residual) : J(); }},
      {"knee_gpus", "GPUs", "where the law puts the knee (null: none, or not fitted)",
       [](const F& x) { return x.fit.ok ? num(x.fit.knee_gpus()) : J(); }},
      {"knee_lo", "GPUs", "lower end of its interval (null: none)", [](const F& x) { return num(x.knee_ci.lo); }},
      {"knee_hi", "GPUs", "upper end of its interval (null: none, or unbounded)",
       [](const F& x) { return num(x.knee_ci.hi); }},
      {"knee_rule", "", "what the knee means for this law", [](const F& x) { return J(scaling_knee_rule(x.fit.law)); }},
  };
  return f;
}

const std::vector<AnalysisField<Prediction>>& analysis_prediction_fields() {
  using P = Prediction;
  static const std::vector<AnalysisField<P>> f = {
      {"law", "", "amdahl, gustafson or usl", [](const P& p) { return J(scaling_law_name(p.law)); }},
      {"factor", "x", "x the largest measured count", [](const P& p) { return num(p.factor); }},
      {"gpus", "GPUs", "GPU count extrapolated to", [](const P& p) { return num(p.gpus); }},
      {"throughput", "throughput", "the law's throughput there", [](const P& p) { return num(p.throughput); }},
      {"throughput_lo", "throughput", "lower end of its interval", [](const P& p) { return num(p.throughput_ci.lo); }},
      {"throughput_hi", "throughput", "upper end of its interval", [](const P& p) { return num(p.throughput_ci.hi); }},
      {"efficiency", "share", "against the measured baseline: throughput / baseline's / (gpus / baseline gpus)",
       [](const P& p) { return num(p.efficiency); }},
      {"efficiency_lo", "share", "lower end of its interval", [](const P& p) { return num(p.efficiency_ci.lo); }},
      {"efficiency_hi", "share", "upper end of its interval", [](const P& p) { return num(p.efficiency_ci.hi); }},
  };
  return f;
}

const std::vector<AnalysisField<RunAnalysis>>& analysis_fields() {
  using A = RunAnalysis;
  static const std::vector<AnalysisField<A>> f = {
      {"source", "", "the file analysed", [](const A& a) { return J(a.source); }},
      {"measure", "", "what each row measured: step_time_s, tokens_per_s or samples_per_s",
       [](const A& a) { return J(run_measure_name(a.measure)); }},
      {"throughput_unit", "", "unit of throughput fields: samples/s, tokens/s or steps/s",
       [](const A& a) { return J(a.throughput_unit); }},
      {"mode", "", "strong, weak, mixed (unfair) or unknown scaling, from global_batch",
       [](const A& a) { return J(a.mode); }},
      {"mode_basis", "", "why that mode", [](const A& a) { return J(a.mode_basis); }},
      {"baseline_gpus", "GPUs", "the count speedup and efficiency are relative to",
       [](const A& a) { return J(a.baseline_gpus); }},
      {"baseline_is_one_gpu", "", "false: efficiency is against a multi-GPU baseline, not per GPU against one",
       [](const A& a) { return J(a.baseline_gpus == 1); }},
      {"confidence", "share", "of every interval", [](const A& a) { return num(a.options.confidence); }},
      {"resamples", "", "bootstrap resamples of every interval", [](const A& a) { return J(a.options.resamples); }},
      {"seed", "", "of the bootstrap streams", [](const A& a) { return J(a.options.seed); }},
      {"precision", "share", "wanted half-width of the mean's 95% interval / mean (repetitions_needed)",
       [](const A& a) { return num(a.options.precision); }},
      {"interval_method", "", "how the per-count intervals were made",
       [](const A&) { return J(analysis_interval_method()); }},
      {"fit_interval_method", "", "how the fits' intervals were made",
       [](const A&) { return J(analysis_fit_interval_method()); }},
      {"warmup_method", "", "how warm-up was found", [](const A&) { return J(analysis_warmup_method()); }},
      {"outlier_rule", "", "what is flagged as an outlier", [](const A&) { return J(analysis_outlier_rule()); }},
      {"notes", "", "unfair comparisons, assumptions, ignored columns", [](const A& a) { return J(a.notes); }},
      {"counts", "", "one row per GPU count", [](const A& a) { return rows_json(a.counts, analysis_count_fields()); }},
      {"fits", "", "one row per scaling law", [](const A& a) { return rows_json(a.fits, analysis_fit_fields()); }},
      {"predictions", "", "each fitted law at 2x, 4x and 8x the largest measured count",
       [](const A& a) { return rows_json(a.predictions, analysis_prediction_fields()); }},
      {"simulated", "",
       "with --scenario: the scenario swept over these counts with 95% intervals, beside the measured efficiency "
       "(scenario, mode, baseline_gpus, samples, points); null without",
       [](const A& a) { return a.simulated; }},
  };
  return f;
}

nlohmann::ordered_json analysis_json(const RunAnalysis& a) {
  J out = J::object();
  for (const auto& f : analysis_fields()) out[f.key] = f.value(a);
  return out;
}

}  // namespace knee
