#include "metrics/report_runs.hpp"

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "metrics/format.hpp"
#include "metrics/report_html.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

std::string value_ci(double v, double lo, double hi, int digits = 4) {
  if (!std::isfinite(v)) return "-";
  std::string s = format_sig(v, digits);
  if (std::isfinite(lo) && std::isfinite(hi)) s += " (" + format_sig(lo, digits) + "-" + format_sig(hi, digits) + ")";
  return s;
}

std::string cell(const std::string& s) { return "<td>" + html_escape(s) + "</td>"; }
std::string head_row(const std::vector<std::string>& h) {
  std::string o = "<tr>";
  for (const auto& x : h) o += "<th>" + html_escape(x) + "</th>";
  return o + "</tr>";
}

struct Count {
  double gpus, median, median_lo, median_hi, mean, mean_lo, mean_hi, cv;
  double thr, thr_lo, thr_hi, speedup, speedup_lo, speedup_hi, eff, eff_lo, eff_hi;
  std::int64_t runs, iterations, warmup, samples, outliers, reps_needed;
};

struct Law {
  std::string law, basis, rule;
  bool fitted = false, applies = false;
  double x1 = NAN, s = NAN, s_lo = NAN, s_hi = NAN, sigma = NAN, sigma_lo = NAN, sigma_hi = NAN, kappa = NAN,
         kappa_lo = NAN, kappa_hi = NAN, rms = NAN, knee = NAN, knee_lo = NAN, knee_hi = NAN;
  double throughput_at(double n) const {  // metrics/scaling_fits.hpp's forms
    if (law == "amdahl") return x1 / (s + (1 - s) / n);
    if (law == "gustafson") return x1 * (s + (1 - s) * n);
    return x1 * n / (1 + sigma * (n - 1) + kappa * n * (n - 1));
  }
};

struct Runs {
  std::string source, measure, unit, mode, mode_basis, warmup, outliers, intervals;
  double baseline = 0, confidence = 0.95;
  bool baseline_one_gpu = true;
  std::vector<std::string> notes;
  std::vector<Count> counts;
  std::vector<Law> laws;
  struct Sim {
    double gpus, eff, lo, hi;
  };
  std::vector<Sim> simulated;
  std::string sim_scenario;
};

Runs read_runs(const Json& doc, const std::string& source) {
  JsonObject r = JsonObject::root(doc, source);
  Runs a;
  a.source = r.string("source");
  a.measure = r.string("measure");
  a.unit = r.string("throughput_unit");
  a.mode = r.string("mode");
  a.mode_basis = r.string("mode_basis");
  a.baseline = r.positive("baseline_gpus");
  a.baseline_one_gpu = r.boolean("baseline_is_one_gpu");
  a.confidence = r.positive("confidence");
  a.warmup = r.string("warmup_method");
  a.outliers = r.string("outlier_rule");
  a.intervals = r.string("interval_method");
  JsonArray notes = r.array("notes");
  for (std::size_t i = 0; i < notes.size(); ++i) a.notes.push_back(notes.string(i));
  JsonArray counts = r.array("counts");
  if (counts.empty()) counts.fail_here("at least one measured GPU count");
  for (std::size_t i = 0; i < counts.size(); ++i) {
    JsonObject c = counts.object(i);
    Count k;
    k.gpus = c.positive("gpus");
    k.runs = c.integer("runs", 0), k.iterations = c.integer("iterations", 0);
    k.warmup = c.integer("warmup_dropped", 0), k.samples = c.integer("samples", 0);
    k.outliers = c.integer("outliers", 0), k.reps_needed = c.integer("repetitions_needed", 0);
    k.median = c.number("median"), k.median_lo = c.number_or_nan("median_lo"),
    k.median_hi = c.number_or_nan("median_hi");
    k.mean = c.number("mean"), k.mean_lo = c.number_or_nan("mean_lo"), k.mean_hi = c.number_or_nan("mean_hi");
    k.cv = c.number_or_nan("cv");
    k.thr = c.number("throughput"), k.thr_lo = c.number_or_nan("throughput_lo"),
    k.thr_hi = c.number_or_nan("throughput_hi");
    k.speedup = c.number_or_nan("speedup"), k.speedup_lo = c.number_or_nan("speedup_lo"),
    k.speedup_hi = c.number_or_nan("speedup_hi");
    k.eff = c.number_or_nan("efficiency"), k.eff_lo = c.number_or_nan("efficiency_lo"),
    k.eff_hi = c.number_or_nan("efficiency_hi");
    a.counts.push_back(k);
  }
  JsonArray fits = r.array("fits");
  for (std::size_t i = 0; i < fits.size(); ++i) {
    JsonObject f = fits.object(i);
    Law l;
    l.law = f.one_of("law", {"amdahl", "gustafson", "usl"});
    l.fitted = f.boolean("fitted");
    l.applies = f.boolean("applies");
    l.basis = f.string("basis");
    l.rule = f.string("knee_rule");
    l.x1 = f.number_or_nan("x1");
    l.s = f.number_or_nan("serial_fraction"), l.s_lo = f.number_or_nan("serial_fraction_lo");
    l.s_hi = f.number_or_nan("serial_fraction_hi");
    l.sigma = f.number_or_nan("sigma"), l.sigma_lo = f.number_or_nan("sigma_lo"),
    l.sigma_hi = f.number_or_nan("sigma_hi");
    l.kappa = f.number_or_nan("kappa"), l.kappa_lo = f.number_or_nan("kappa_lo"),
    l.kappa_hi = f.number_or_nan("kappa_hi");
    l.rms = f.number_or_nan("rms_rel_residual");
    l.knee = f.number_or_nan("knee_gpus"), l.knee_lo = f.number_or_nan("knee_lo"),
    l.knee_hi = f.number_or_nan("knee_hi");
    a.laws.push_back(l);
  }
  if (r.has("simulated") && !r.raw("simulated").is_null()) {
    JsonObject s = r.object("simulated");
    a.sim_scenario = s.string("scenario");
    JsonArray pts = s.array("points");
    for (std::size_t i = 0; i < pts.size(); ++i) {
      JsonObject p = pts.object(i);
      if (!p.boolean("feasible")) continue;
      a.simulated.push_back({p.positive("gpus"), p.number("efficiency"), p.number_or_nan("efficiency_lo"),
                             p.number_or_nan("efficiency_hi")});
    }
  }
  return a;
}

std::string counts_table(const Runs& a) {
  const std::string m = a.measure == "throughput" ? "throughput" : "step time (s)";
  std::string o =
      "<table>" + head_row({"GPUs", "runs", "warm-up dropped", "kept", "outliers (kept)", "median " + m, "CV",
                            "reps for precision", "throughput (" + a.unit + ")", "speedup", "efficiency"});
  for (const auto& c : a.counts) {
    const bool low = std::isfinite(c.eff) && c.eff < 0.5;
    o += std::string("<tr") + (low ? " class=\"knee\"" : "") + ">" + cell(format_count(c.gpus)) +
         cell(std::to_string(c.runs)) + cell(std::to_string(c.warmup)) + cell(std::to_string(c.samples)) +
         cell(std::to_string(c.outliers)) + cell(value_ci(c.median, c.median_lo, c.median_hi)) +
         cell(std::isfinite(c.cv) ? format_sig(100 * c.cv, 3) + "%" : "-") + cell(std::to_string(c.reps_needed)) +
         cell(value_ci(c.thr, c.thr_lo, c.thr_hi)) + cell(value_ci(c.speedup, c.speedup_lo, c.speedup_hi, 3)) +
         cell(value_ci(c.eff, c.eff_lo, c.eff_hi, 3)) + "</tr>";
  }
  return o + "</table>\n";
}

std::string laws_table(const Runs& a) {
  std::string o = "<table>" + head_row({"law", "applies", "serial fraction", "sigma (contention)", "kappa (coherency)",
                                        "rms residual", "knee (GPUs)", "knee rule"});
  for (const auto& l : a.laws) {
    if (!l.fitted) {
      o += "<tr class=\"bad\">" + cell(l.law) + "<td colspan=\"7\">not fitted: " + html_escape(l.basis) + "</td></tr>";
      continue;
    }
    o += std::string("<tr") + (l.applies ? "" : " class=\"bad\"") + ">" + cell(l.law) +
         cell((l.applies ? "yes: " : "no: ") + l.basis) + cell(value_ci(l.s, l.s_lo, l.s_hi, 3)) +
         cell(value_ci(l.sigma, l.sigma_lo, l.sigma_hi, 3)) + cell(value_ci(l.kappa, l.kappa_lo, l.kappa_hi, 3)) +
         cell(std::isfinite(l.rms) ? format_sig(100 * l.rms, 2) + "%" : "-") +
         cell(std::isinf(l.knee) || !std::isfinite(l.knee) ? "none" : value_ci(l.knee, l.knee_lo, l.knee_hi, 3)) +
         cell(l.rule) + "</tr>";
  }
  return o + "</table>\n";
}

// The x values a law's curve is drawn at: doublings from the smallest measured count to 8x the
// largest (the chart's x ticks are its first series' x, and a law's curve comes first).
std::vector<double> curve_x(const Runs& a) {
  double lo = a.counts.front().gpus, hi = a.counts.front().gpus;
  for (const auto& c : a.counts) lo = std::min(lo, c.gpus), hi = std::max(hi, c.gpus);
  std::vector<double> x;
  for (double n = lo; n <= 8 * hi * 1.0001; n *= 2) x.push_back(n);
  return x;
}

std::string charts(const Runs& a) {
  const std::vector<double> xs = curve_x(a);
  LineChart thr;
  thr.title = "Throughput, measured (" + format_sig(100 * a.confidence, 2) + "% band) and by the laws (dashed, to 8x)";
  thr.x_label = "GPUs";
  thr.y_label = a.unit;
  thr.log2_x = true;
  thr.log_y = true;
  Series m{"measured", {}, {}, false, false, {}, {}};
  std::vector<double> lo, hi;
  for (const auto& c : a.counts) {
    m.x.push_back(c.gpus), m.y.push_back(c.thr);
    lo.push_back(c.thr_lo), hi.push_back(c.thr_hi);
  }
  m = with_band(std::move(m), std::move(lo), std::move(hi));
  for (const auto& l : a.laws) {
    if (!l.fitted || !l.applies || !std::isfinite(l.x1)) continue;
    Series s{l.law, {}, {}, true, false, {}, {}};
    for (double n : xs) {
      const double y = l.throughput_at(n);
      if (std::isfinite(y) && y > 0) s.x.push_back(n), s.y.push_back(y);
    }
    thr.series.push_back(s);
  }
  thr.series.push_back(m);
  LineChart eff;
  eff.title = "Efficiency against the " + format_count(a.baseline) + "-GPU baseline" +
              (a.simulated.empty() ? "" : ", measured and simulated");
  eff.x_label = "GPUs";
  eff.y_label = "efficiency";
  eff.log2_x = true;
  Series me{"measured", {}, {}, false, false, {}, {}};
  std::vector<double> me_lo, me_hi;
  for (const auto& c : a.counts) {
    if (!std::isfinite(c.eff)) continue;
    me.x.push_back(c.gpus), me.y.push_back(c.eff);
    me_lo.push_back(c.eff_lo), me_hi.push_back(c.eff_hi);
  }
  me = with_band(std::move(me), std::move(me_lo), std::move(me_hi));
  if (!a.simulated.empty()) {  // first: its counts reach further, and the x ticks are the first series'
    Series s{"simulated (knee)", {}, {}, false, false, {}, {}};
    std::vector<double> s_lo, s_hi;
    for (const auto& p : a.simulated) {
      s.x.push_back(p.gpus), s.y.push_back(p.eff);
      s_lo.push_back(p.lo), s_hi.push_back(p.hi);
    }
    eff.series.push_back(with_band(std::move(s), std::move(s_lo), std::move(s_hi)));
  }
  eff.series.push_back(me);
  std::string sim;
  if (!a.simulated.empty())
    sim = "<p>Simulated: <code>" + html_escape(a.sim_scenario) +
          "</code> swept by knee over these counts and the laws' extrapolations (knee analyze --scenario), its band "
          "the profile's uncertainty, not the model's error against real runs.</p>\n";
  return sim + "<figure>" + thr.svg() + "</figure>\n<figure>" + eff.svg() + "</figure>\n";
}

}  // namespace

bool is_runs_report_input(const Json& doc) {
  return doc.is_object() && doc.contains("counts") && doc.contains("fits") && doc.contains("measure");
}

std::string runs_section_html(const Json& analysis, const std::string& source) {
  const Runs a = read_runs(analysis, source);
  std::string o = "<h2>Measured runs: " + html_escape(a.source) + "</h2>\n";
  o += "<p>" + format_count(static_cast<double>(a.counts.size())) + " GPU counts measured (" + html_escape(a.measure) +
       "); <b>" + html_escape(a.mode) + " scaling</b> (" + html_escape(a.mode_basis) + "); baseline <b>" +
       format_count(a.baseline) + " GPU" + (a.baseline == 1 ? "" : "s") + "</b>" +
       (a.baseline_one_gpu ? "" : " (not one GPU: efficiency takes it as 100% efficient)") + ".</p>\n";
  if (!a.notes.empty()) {
    o += "<div class=\"note\"><ul>";
    for (const auto& n : a.notes) o += "<li>" + html_escape(n) + "</li>";
    o += "</ul></div>\n";
  }
  o += counts_table(a);
  o += "<p>Warm-up: " + html_escape(a.warmup) + ". Outliers: " + html_escape(a.outliers) +
       " (flagged, kept). Intervals: " + html_escape(a.intervals) +
       ". Means with their intervals are in the JSON. A row is shaded where efficiency is below 50%.</p>\n";
  o += "<h3>Scaling laws</h3>\n" + laws_table(a);
  o += charts(a);
  return o;
}

std::string render_runs_report_html(const Json& analysis, const ReportContext& ctx) {
  const std::string body = runs_section_html(analysis, ctx.source);
  return report_html::page_head("knee: measured runs", "Measured runs") + body +
         report_html::reproducibility(
             {.command_line = ctx.command_line, .file = ctx.source, .made_with = "knee analyze --json"}) +
         "</body></html>\n";
}

}  // namespace knee
