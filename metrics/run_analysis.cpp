#include "metrics/run_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.hpp"
#include "common/printf.hpp"

namespace knee {
namespace {

// Purposes of the bootstrap streams (derived_seed): one per GPU count.
constexpr std::uint64_t kCountStream = 1000;

Interval percentile(std::vector<double> v, double confidence) {
  if (v.empty()) return {NAN, NAN};
  return {quantile_of(v, (1 - confidence) / 2), quantile_of(std::move(v), (1 + confidence) / 2)};
}

std::string list_counts(const std::vector<CountAnalysis>& cs) {
  std::string s;
  for (const auto& c : cs) s += (s.empty() ? "" : ", ") + std::to_string(c.gpus);
  return s;
}

// The counts' rows grouped by run (rows arrive ordered by count, run, iteration).
void fill_count(CountAnalysis& c, const std::vector<const RunRow*>& rows, const AnalyzeOptions& opt,
                const std::string& source) {
  c.gpus = rows.front()->gpus;
  c.iterations = static_cast<std::int64_t>(rows.size());
  c.global_batch = rows.front()->global_batch;
  c.micro_batch = rows.front()->micro_batch;
  c.seq_len = rows.front()->seq_len;
  std::vector<std::pair<std::string, std::int64_t>> kept_ids;  // (run, iteration) of each kept value
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t j = i;
    std::vector<double> series;
    while (j < rows.size() && rows[j]->run == rows[i]->run) series.push_back(rows[j++]->value);
    const std::size_t drop = mser5_truncation(series);
    c.run_ids.push_back(rows[i]->run);
    c.warmup_by_run.push_back(static_cast<std::int64_t>(drop));
    c.warmup_dropped += static_cast<std::int64_t>(drop);
    for (std::size_t k = i + drop; k < j; ++k) {
      c.kept.push_back(rows[k]->value);
      kept_ids.emplace_back(rows[k]->run, rows[k]->iteration);
    }
    i = j;
  }
  c.runs = static_cast<std::int64_t>(c.run_ids.size());
  c.samples = static_cast<std::int64_t>(c.kept.size());
  if (c.samples < 2)
    throw_input_error(source, "gpus " + std::to_string(c.gpus),
                      "at least 2 measurements (iterations or runs) after warm-up, for an interval",
                      std::to_string(c.samples));
  c.mean = mean_of(c.kept);
  c.median = median_of(c.kept);
  c.sd = sd_of(c.kept);
  c.cv = c.sd / c.mean;
  c.repetitions_needed = repetitions_for_precision(c.sd, c.mean, opt.precision);
  for (std::size_t i : mad_outliers(c.kept, opt.outlier_mads)) {
    c.outlier_iterations.push_back(kept_ids[i].second);
    c.outlier_runs.push_back(kept_ids[i].first);
  }
}

std::string per_gpu(std::int64_t batch, std::int64_t gpus) {
  return printf_double("%.4g", static_cast<double>(batch) / static_cast<double>(gpus));
}

// Strong (one global batch), weak (global batch proportional to GPUs), mixed or unknown; with the
// notes a reviewer would write about the baseline.
void name_scaling(RunAnalysis& a, const CountAnalysis& base) {
  const auto& cs = a.counts;
  const bool batch_known = std::all_of(cs.begin(), cs.end(), [](const CountAnalysis& c) { return c.global_batch > 0; });
  if (cs.size() < 2) {
    a.mode = "unknown";
    a.mode_basis = "one GPU count: no scaling to name";
  } else if (!batch_known) {
    a.mode = "unknown";
    a.mode_basis = "no global_batch at every count: each step assumed to do the same work (as strong scaling)";
  } else {
    const bool strong =
        std::all_of(cs.begin(), cs.end(), [&](const CountAnalysis& c) { return c.global_batch == base.global_batch; });
    const bool weak = std::all_of(cs.begin(), cs.end(), [&](const CountAnalysis& c) {
      return c.global_batch * base.gpus == base.global_batch * c.gpus;
    });
    if (strong) {
      a.mode = "strong";
      a.mode_basis = "the same global batch (" + std::to_string(base.global_batch) + ") at every count";
    } else if (weak) {
      a.mode = "weak";
      a.mode_basis = "global batch proportional to GPUs (" + per_gpu(base.global_batch, base.gpus) + " per GPU)";
    } else {
      a.mode = "mixed";
      a.mode_basis = "global batch neither fixed nor proportional to GPUs";
      for (const auto& c : cs) {
        if (c.global_batch == base.global_batch || c.global_batch * base.gpus == base.global_batch * c.gpus) continue;
        a.notes.push_back("unfair comparison: at " + std::to_string(c.gpus) + " GPUs the global batch is " +
                          std::to_string(c.global_batch) + " (" + per_gpu(c.global_batch, c.gpus) +
                          " per GPU); strong scaling from the baseline implies " + std::to_string(base.global_batch) +
                          " (" + per_gpu(base.global_batch, c.gpus) + " per GPU), weak scaling " +
                          per_gpu(base.global_batch * c.gpus, base.gpus) + " (" +
                          per_gpu(base.global_batch, base.gpus) + " per GPU)");
      }
    }
  }
  auto differs = [&](std::int64_t CountAnalysis::*f) {
    return std::any_of(cs.begin(), cs.end(), [&](const CountAnalysis& c) { return c.*f != base.*f; });
  };
  if (differs(&CountAnalysis::micro_batch))
    a.notes.push_back(
        "unfair comparison: micro_batch differs between counts, so kernel efficiency changes with the count as well "
        "as scaling");
  if (differs(&CountAnalysis::seq_len) && a.measure != RunMeasure::kTokensPerS)
    a.notes.push_back(
        "unfair comparison: seq_len differs between counts, so a sample (or a step) is not the same work");
  if (base.gpus > 1)
    a.notes.push_back("the baseline is " + std::to_string(base.gpus) + " GPUs, not 1: efficiency = speedup / (N / " +
                      std::to_string(base.gpus) +
                      ") takes the baseline as 100% efficient; it is not efficiency per GPU against one GPU (the laws' "
                      "1-GPU throughput is an extrapolation)");
}

// The throughput of one count from values in the measure: work per step / mean step time, or the
// mean throughput.
double throughput_of(double mean_value, double work, RunMeasure m) {
  return m == RunMeasure::kStepTime ? work / mean_value : mean_value;
}

void fit_laws(RunAnalysis& a, const std::vector<std::vector<double>>& boot_x, std::size_t base_i) {
  std::vector<ScalingPoint> pts;
  for (const auto& c : a.counts) pts.push_back({static_cast<double>(c.gpus), c.throughput});
  const double largest = static_cast<double>(a.counts.back().gpus);
  const double base_x = a.counts[base_i].throughput, base_n = static_cast<double>(a.counts[base_i].gpus);
  const double conf = a.options.confidence;
  for (ScalingLaw law : {ScalingLaw::kAmdahl, ScalingLaw::kGustafson, ScalingLaw::kUsl}) {
    FitAnalysis f;
    f.fit = fit_law(law, pts);
    f.points = static_cast<std::int64_t>(pts.size());
    if (law == ScalingLaw::kAmdahl) {
      f.applies = a.mode == "strong" || a.mode == "unknown";
      f.basis =
          f.applies ? "fixed work per step (strong scaling)" : "Amdahl's law assumes fixed work; this is " + a.mode;
    } else if (law == ScalingLaw::kGustafson) {
      f.applies = a.mode == "weak";
      f.basis = f.applies ? "work grows with GPUs (weak scaling)"
                          : "Gustafson's law assumes work growing with GPUs; this is " + a.mode;
    } else {
      f.applies = a.mode != "mixed";
      f.basis = f.applies ? "throughput at any work per step" : "the batch changes irregularly between counts";
    }
    if (!f.fit.ok) f.basis = "too few GPU counts for the law's parameters";
    std::vector<double> x1, s, sg, kp, kn;
    std::vector<double> ns = {2 * largest, 4 * largest, 8 * largest};
    for (double g : a.options.predict_at_gpus)
      if (g > 0) ns.push_back(g);
    std::sort(ns.begin(), ns.end());
    ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
    std::vector<std::vector<double>> px(ns.size()), pe(ns.size());
    for (std::size_t b = 0; b < boot_x.size() && f.fit.ok; ++b) {
      std::vector<ScalingPoint> q = pts;
      for (std::size_t i = 0; i < q.size(); ++i) q[i].throughput = boot_x[b][i];
      const ScalingFit r = fit_law(law, q);
      if (!r.ok) continue;
      x1.push_back(r.x1), s.push_back(r.serial_fraction), sg.push_back(r.sigma), kp.push_back(r.kappa);
      kn.push_back(r.knee_gpus());
      for (std::size_t k = 0; k < ns.size(); ++k) {
        const double n = ns[k], x = r.throughput_at(n);
        px[k].push_back(x);
        pe[k].push_back(x / boot_x[b][base_i] / (n / base_n));
      }
    }
    f.resamples_ok = static_cast<std::int64_t>(x1.size());
    f.x1_ci = percentile(x1, conf), f.serial_fraction_ci = percentile(s, conf);
    f.sigma_ci = percentile(sg, conf), f.kappa_ci = percentile(kp, conf), f.knee_ci = percentile(kn, conf);
    if (f.fit.ok) {
      for (std::size_t k = 0; k < ns.size(); ++k) {
        Prediction p;
        p.law = law;
        p.gpus = ns[k];
        p.factor = p.gpus / largest;
        p.throughput = f.fit.throughput_at(p.gpus);
        p.efficiency = p.throughput / base_x / (p.gpus / base_n);
        p.throughput_ci = percentile(px[k], conf);
        p.efficiency_ci = percentile(pe[k], conf);
        a.predictions.push_back(p);
      }
    }
    a.fits.push_back(f);
  }
}

}  // namespace

const char* analysis_interval_method() {
  return "percentile bootstrap: the iterations kept at each GPU count resampled with replacement, each count "
         "independently (iterations taken as independent; autocorrelation is not modelled)";
}
const char* analysis_fit_interval_method() {
  return "bootstrap over the per-count samples: each replicate refits the law to the counts' resampled throughputs";
}
const char* analysis_warmup_method() {
  return "MSER-5 (White 1997) per run: batch means of 5, the truncation minimising the marginal standard error, "
         "searched over the first half; runs under 10 iterations keep every iteration";
}
const char* analysis_outlier_rule() {
  return "beyond 3 scaled MADs (1.4826 x median absolute deviation) from the median after warm-up; flagged, kept";
}

RunAnalysis analyze_runs(const RunTable& t, const AnalyzeOptions& opt) {
  if (!(opt.precision > 0 && opt.precision < 1))
    throw_input_error(t.source, "precision", "a share in (0, 1), e.g. 0.01 for 1%", printf_double("%g", opt.precision));
  if (opt.resamples < 100)
    throw_input_error(t.source, "resamples", "at least 100 bootstrap resamples", std::to_string(opt.resamples));
  RunAnalysis a;
  a.source = t.source;
  a.measure = t.measure;
  a.options = opt;
  a.ignored_columns = t.ignored_columns;
  for (std::size_t i = 0; i < t.rows.size();) {
    std::size_t j = i;
    std::vector<const RunRow*> rows;
    while (j < t.rows.size() && t.rows[j].gpus == t.rows[i].gpus) rows.push_back(&t.rows[j++]);
    CountAnalysis c;
    fill_count(c, rows, opt, t.source);
    a.counts.push_back(std::move(c));
    i = j;
  }
  std::size_t base_i = 0;
  if (opt.baseline_gpus > 0) {
    auto it = std::find_if(a.counts.begin(), a.counts.end(),
                           [&](const CountAnalysis& c) { return c.gpus == opt.baseline_gpus; });
    if (it == a.counts.end())
      throw_input_error(t.source, "baseline", "one of the measured GPU counts (" + list_counts(a.counts) + ")",
                        std::to_string(opt.baseline_gpus));
    base_i = static_cast<std::size_t>(it - a.counts.begin());
  }
  const CountAnalysis& base = a.counts[base_i];
  a.baseline_gpus = base.gpus;
  name_scaling(a, base);
  const bool batch_known =
      std::all_of(a.counts.begin(), a.counts.end(), [](const CountAnalysis& c) { return c.global_batch > 0; });
  if (t.measure == RunMeasure::kTokensPerS) a.throughput_unit = "tokens/s";
  else if (t.measure == RunMeasure::kSamplesPerS || batch_known) a.throughput_unit = "samples/s";
  else a.throughput_unit = "steps/s";
  if (!t.ignored_columns.empty()) {
    std::string cols;
    for (const auto& c : t.ignored_columns) cols += (cols.empty() ? "" : ", ") + c;
    a.notes.push_back("ignored unknown columns: " + cols + " (--strict refuses them)");
  }

  // Bootstrap replicates of every count, each count its own stream: mean, median, throughput.
  const int R = opt.resamples;
  std::vector<std::vector<double>> boot_x(static_cast<std::size_t>(R), std::vector<double>(a.counts.size()));
  for (std::size_t ci = 0; ci < a.counts.size(); ++ci) {
    CountAnalysis& c = a.counts[ci];
    const double work = a.throughput_unit == "samples/s" && t.measure == RunMeasure::kStepTime
                            ? static_cast<double>(c.global_batch)
                            : 1.0;
    c.throughput = throughput_of(c.mean, work, t.measure);
    Random rng(derived_seed(opt.seed, kCountStream + static_cast<std::uint64_t>(c.gpus)));
    std::vector<double> means, medians, buf;
    for (int b = 0; b < R; ++b) {
      resample_into(c.kept, buf, rng);
      means.push_back(mean_of(buf));
      medians.push_back(median_of(buf));
      boot_x[static_cast<std::size_t>(b)][ci] = throughput_of(means.back(), work, t.measure);
    }
    c.mean_ci = percentile(means, opt.confidence);
    c.median_ci = percentile(medians, opt.confidence);
    std::vector<double> xs;
    for (int b = 0; b < R; ++b) xs.push_back(boot_x[static_cast<std::size_t>(b)][ci]);
    c.throughput_ci = percentile(xs, opt.confidence);
  }
  for (std::size_t ci = 0; ci < a.counts.size(); ++ci) {
    CountAnalysis& c = a.counts[ci];
    const double scale = static_cast<double>(c.gpus) / static_cast<double>(base.gpus);
    c.speedup = c.throughput / base.throughput;
    c.efficiency = c.speedup / scale;
    std::vector<double> sp, ef;
    for (int b = 0; b < R; ++b) {
      const auto& x = boot_x[static_cast<std::size_t>(b)];
      sp.push_back(x[ci] / x[base_i]);
      ef.push_back(sp.back() / scale);
    }
    c.speedup_ci = percentile(sp, opt.confidence);
    c.efficiency_ci = percentile(ef, opt.confidence);
  }
  if (a.counts.size() < 2) a.notes.push_back("one GPU count: no speedup, efficiency or scaling-law fit");
  else fit_laws(a, boot_x, base_i);
  return a;
}

}  // namespace knee
