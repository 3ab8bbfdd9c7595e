#include "metrics/run_analysis_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "common/printf.hpp"
#include "metrics/format.hpp"

namespace knee {
namespace {

std::string num(double v, int digits = 4) { return std::isfinite(v) ? format_sig(v, digits) : "-"; }
std::string with_ci(double v, const Interval& ci, int digits = 4) {
  return num(v, digits) + " [" + num(ci.lo, digits) + ", " + (std::isinf(ci.hi) ? "inf" : num(ci.hi, digits)) + "]";
}

std::string outlier_list(const CountAnalysis& c) {
  std::string s;
  for (std::size_t i = 0; i < c.outlier_iterations.size(); ++i) {
    s += (i ? ", " : "");
    if (!c.outlier_runs[i].empty()) s += c.outlier_runs[i] + ":";
    s += std::to_string(c.outlier_iterations[i]);
  }
  return s;
}

}  // namespace

std::string analysis_table(const RunAnalysis& a) {
  std::ostringstream o;
  const auto& opt = a.options;
  const std::string measure = run_measure_name(a.measure);
  o << "# knee analyze " << a.source << ": " << measure << " at " << a.counts.size() << " GPU count"
    << (a.counts.size() == 1 ? "" : "s") << "; " << a.mode << " scaling (" << a.mode_basis << "); baseline "
    << a.baseline_gpus << " GPU" << (a.baseline_gpus == 1 ? "" : "s") << "\n";
  o << "# intervals: " << printf_double("%.0f", opt.confidence * 100) << "% percentile bootstrap, " << opt.resamples
    << " resamples per count, seed " << opt.seed << "; warm-up: MSER-5 per run; outliers: > "
    << format_sig(opt.outlier_mads) << " scaled MADs from the median (flagged, kept)\n";
  std::vector<std::vector<std::string>> rows = {
      {"gpus", "runs", "iters", "warmup", "kept", "mean " + measure, "median " + measure, "cv",
       "reps@" + format_sig(opt.precision * 100) + "%", "outliers", "speedup", "efficiency"}};
  for (const auto& c : a.counts)
    rows.push_back({std::to_string(c.gpus), std::to_string(c.runs), std::to_string(c.iterations),
                    std::to_string(c.warmup_dropped), std::to_string(c.samples), with_ci(c.mean, c.mean_ci),
                    with_ci(c.median, c.median_ci), printf_double("%.2f%%", c.cv * 100),
                    format_count(static_cast<double>(c.repetitions_needed)),
                    std::to_string(c.outlier_iterations.size()), with_ci(c.speedup, c.speedup_ci, 3),
                    with_ci(c.efficiency, c.efficiency_ci, 3)});
  o << format_columns(rows);
  for (const auto& c : a.counts) {
    if (!c.outlier_iterations.empty())
      o << "# " << c.gpus << " GPUs: outliers at iteration" << (c.outlier_iterations.size() == 1 ? " " : "s ")
        << outlier_list(c) << "\n";
    if (c.runs > 1) {
      std::string w;
      for (std::size_t r = 0; r < c.run_ids.size(); ++r)
        w += (r ? ", " : "") + (c.run_ids[r].empty() ? "-" : c.run_ids[r]) + " " + std::to_string(c.warmup_by_run[r]);
      o << "# " << c.gpus << " GPUs: warm-up dropped per run: " << w << "\n";
    }
  }
  o << "# throughput (" << a.throughput_unit << ") per count:";
  for (const auto& c : a.counts) o << " " << c.gpus << ": " << with_ci(c.throughput, c.throughput_ci) << ";";
  o << "\n# reps@: iterations the mean needs for a 95% half-width of " << format_sig(opt.precision * 100)
    << "% of the mean; efficiency: speedup / (gpus / " << a.baseline_gpus << ")\n";

  if (!a.fits.empty()) {
    o << "\n# scaling laws, least squares on relative residuals; intervals: bootstrap over the per-count samples\n";
    std::vector<std::vector<std::string>> fr = {
        {"law", "applies", "parameters", "1-GPU " + a.throughput_unit, "rms_resid", "knee_gpus"}};
    for (const auto& f : a.fits) {
      if (!f.fit.ok) {
        fr.push_back({scaling_law_name(f.fit.law), "-", f.basis, "-", "-", "-"});
        continue;
      }
      const std::string params =
          f.fit.law == ScalingLaw::kUsl
              ? "sigma " + with_ci(f.fit.sigma, f.sigma_ci, 3) + ", kappa " + with_ci(f.fit.kappa, f.kappa_ci, 3)
              : "s " + with_ci(f.fit.serial_fraction, f.serial_fraction_ci, 3);
      fr.push_back({scaling_law_name(f.fit.law), f.applies ? "yes" : "no", params, with_ci(f.fit.x1, f.x1_ci),
                    printf_double("%.2f%%", f.fit.rms_rel_residual * 100),
                    std::isinf(f.fit.knee_gpus()) ? "none" : with_ci(f.fit.knee_gpus(), f.knee_ci, 3)});
    }
    o << format_columns(fr);
    for (const auto& f : a.fits)
      o << "# " << scaling_law_name(f.fit.law) << ": " << f.basis << "; knee: " << scaling_knee_rule(f.fit.law) << "\n";
    std::vector<std::vector<std::string>> pr = {{"law", "gpus", "throughput " + a.throughput_unit, "efficiency"}};
    for (const auto& p : a.predictions)
      pr.push_back({scaling_law_name(p.law), format_count(p.gpus) + " (" + format_sig(p.factor) + "x)",
                    with_ci(p.throughput, p.throughput_ci), with_ci(p.efficiency, p.efficiency_ci, 3)});
    o << "\n# extrapolated: each law at 2x, 4x and 8x the largest measured count (efficiency against the baseline)\n"
      << format_columns(pr);
  }
  if (!a.simulated.is_null()) {
    const auto& sm = a.simulated;
    std::vector<std::vector<std::string>> sr = {
        {"gpus", "simulated step_s", "simulated efficiency", "measured", "difference"}};
    auto range = [](const nlohmann::ordered_json& q, const char* k, const char* f) {
      std::string s = printf_double(f, q[k].get<double>());
      const std::string lo = std::string(k) + "_lo", hi = std::string(k) + "_hi";
      if (q[lo].is_number())
        s += " (" + printf_double(f, q[lo].get<double>()) + "-" + printf_double(f, q[hi].get<double>()) + ")";
      return s;
    };
    std::string infeasible;
    for (const auto& q : sm["points"]) {
      if (!q["feasible"].get<bool>()) {
        sr.push_back({format_count(q["gpus"].get<double>()), "infeasible", "-", "-", "-"});
        infeasible += "# simulated: infeasible at " + format_count(q["gpus"].get<double>()) +
                      " GPUs: " + q["reason"].get<std::string>() + "\n";
        continue;
      }
      const bool measured = q["measured_efficiency"].is_number();
      sr.push_back({format_count(q["gpus"].get<double>()), range(q, "step_time_s", "%.4f"),
                    range(q, "efficiency", "%.3f"),
                    measured ? printf_double("%.3f", q["measured_efficiency"].get<double>()) : "-",
                    measured ? printf_double("%+.3f", q["efficiency_difference"].get<double>()) : "-"});
    }
    o << "\n# simulated by knee (" << sm["scenario"].get<std::string>() << ", " << sm["mode"].get<std::string>()
      << " scaling, baseline " << sm["baseline_gpus"].get<std::int64_t>() << " GPUs; intervals over "
      << sm["samples"].get<int>() << " profile draws, the model's own error not in them)\n"
      << format_columns(sr) << infeasible;
  }
  for (const auto& n : a.notes) o << "# note: " << n << "\n";
  return o.str();
}

}  // namespace knee
