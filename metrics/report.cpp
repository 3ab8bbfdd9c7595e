#include "metrics/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json_reader.hpp"
#include "common/parse.hpp"
#include "common/printf.hpp"
#include "metrics/format.hpp"
#include "metrics/report_html.hpp"
#include "metrics/report_study.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

using namespace report_detail;

// Fixed-point formats ("%.3f", "%.1f") for shares and efficiencies; format.hpp for the rest.
std::string fmt(double v, const char* f) { return std::isfinite(v) ? printf_double(f, v) : "-"; }
std::string gpus_of(double gpus) { return format_count(gpus) + " GPUs"; }

using report_html::kv_table;

std::string section_head(const Study& s) {
  std::string h = report_html::page_head("knee capacity-planning report", "Capacity-planning report");
  h += "<p class=\"note\"><b>Simulated, not measured.</b> Every figure below comes from knee's event-driven simulation "
       "with the calibration profile named under <i>Provenance</i>. Baseline: " +
       gpus_of(s.baseline) + ". Mode: <b>" + s.mode + " scaling</b> (" +
       (s.mode == "strong" ? "the global batch is held fixed" : "the global batch grows with data parallelism") +
       ").</p>\n";
  return h + "<h2>The question</h2><p>" + html_escape(s.question) + "</p>\n";
}

// The knee and its baseline: "at 4,096 GPUs, the knee: efficiency 0.74 against the 8-GPU
// baseline (strong scaling, global batch 1,024)".
std::string knee_sentence(const Study& s) {
  const Point* b = s.baseline_point();
  const Point* k = s.knee_point();
  std::string batch;
  if (b && std::isfinite(b->global_batch)) {
    batch = ", global batch " + format_count(b->global_batch);
    if (s.mode == "weak" && k && std::isfinite(k->global_batch))
      batch += " at the baseline and " + format_count(k->global_batch) + " at the knee";
  }
  const std::string against = "the " + format_count(s.baseline) + "-GPU baseline (" + s.mode + " scaling" + batch + ")";
  if (!k)
    return "<p>Efficiency stays at or above " + fmt(s.threshold, "%.2f") + " against " + against +
           " over the whole range studied: no knee.</p>\n";
  return "<p>Scaling efficiency first falls below " + fmt(s.threshold, "%.2f") + " at <b>" + gpus_of(k->gpus) +
         "</b>, the knee: efficiency " + fmt(k->efficiency, "%.3f") + " against " + against + ", a speedup of " +
         format_sig(k->speedup, 3) + " on " + format_sig(k->gpus / s.baseline, 3) + " times the GPUs." +
         (s.cause.empty() ? "" : " The cost that grew: <b>" + html_escape(s.cause) + "</b>.") + "</p>\n";
}

std::string pct(double share) { return fmt(100 * share, "%.1f") + "%"; }

// "Over 8 profile draws the knee is at 4,096 GPUs in 75% of draws, at 2,048 in 25%."
std::string knee_distribution_sentence(const Study& s) {
  if (s.knee_shares.empty() || s.samples == 0) return "";
  std::string h = "<p>The knee is itself uncertain. Over " + format_count(s.samples) +
                  " draws of the profile within its measured intervals (docs/uncertainty.md) it is ";
  for (std::size_t i = 0; i < s.knee_shares.size(); ++i) {
    const auto& [g, share] = s.knee_shares[i];
    h += std::string(i ? (i + 1 == s.knee_shares.size() ? " and " : ", ") : "") +
         (std::isfinite(g) ? "at " + gpus_of(g) : "absent (no knee)") + " in " + fmt(100 * share, "%.0f") +
         "% of draws";
  }
  return h + ". The shaded bands on the charts are the 95% intervals of each point.</p>\n";
}

// Energy, cost, a whole run and goodput at the baseline and at the knee (or the largest point with them).
std::string answer_costs(const Study& s) {
  const Modelled& m = s.m;
  auto has = [&](const Point& p) { return p.energy || std::isfinite(p.usd_per_million_tokens) || p.run || p.failures; };
  const Point* base = nullptr;
  const Point* at = nullptr;
  for (const auto& p : s.points) {
    if (!p.feasible || !has(p)) continue;
    if (!base || p.gpus == s.baseline) base = &p;
    at = &p;
  }
  if (s.knee_point() && has(*s.knee_point())) at = s.knee_point();
  if (!base) return "";
  auto where = [&](const Point* p, std::string note) {
    if (p->gpus == s.baseline) note = "the baseline" + std::string(note.empty() ? "" : ", ") + note;
    else if (p == s.knee_point()) note = "the knee" + std::string(note.empty() ? "" : ", ") + note;
    return gpus_of(p->gpus) + (note.empty() ? "" : " (" + note + ")");
  };
  auto compare = [&](double Point::*v, std::string (*f)(double), const std::string& unit) {
    std::string o = "<b>" + f(base->*v) + unit + "</b> at " + where(base, "");
    if (at != base) {
      const double more = at->*v / base->*v - 1;
      o +=
          ", <b>" + f(at->*v) + unit + "</b> at " +
          where(at, !std::isfinite(more) ? "" : fmt(std::fabs(more) * 100, "%.0f") + (more >= 0 ? "% more" : "% less"));
    }
    return o + ".";
  };
  auto sig = [](double v) { return format_sig(v, 3); };
  std::string h;
  if (m.energy_of || m.priced) {
    h += "<p>";
    if (m.energy_of) h += "Facility energy per token: " + compare(&Point::J_per_token, sig, " J");
    if (m.energy_of && m.priced) h += " ";
    if (m.priced) h += "Cost per million tokens: " + compare(&Point::usd_per_million_tokens, format_usd, "");
    h += "</p>\n";
  }
  const bool goodputs = std::isfinite(base->goodput) && std::isfinite(at->goodput);
  // A whole run (cost.train_tokens): what the faster, dearer configuration means in days and money.
  if (m.run_of && std::isfinite(base->run_days) && std::isfinite(at->run_days)) {
    h += "<p>A run of " + format_tokens(base->train_tokens) +
         (!m.failures_of ? std::string(" (no failures modelled)")
          : goodputs     ? " (with failures: goodput " + pct(base->goodput) + " at " + gpus_of(base->gpus) + ", " +
                           pct(at->goodput) + " at " + format_count(at->gpus) + ")"
                     : std::string(" (with failures)")) +
         ": " + compare(&Point::run_days, sig, " days");
    if (std::isfinite(base->run_usd) && std::isfinite(at->run_usd)) h += " " + compare(&Point::run_usd, format_usd, "");
    if (std::isfinite(base->run_MWh) && std::isfinite(at->run_MWh))
      h += " Facility energy: " + compare(&Point::run_MWh, sig, " MWh");
    h += "</p>\n";
  } else if (m.failures_of && goodputs) {
    h += "<p>With failures, the share of wall time that trains (goodput): <b>" + pct(base->goodput) + "</b> at " +
         where(base, "") + (at != base ? ", <b>" + pct(at->goodput) + "</b> at " + where(at, "") : "") + ".</p>\n";
  }
  return h;
}

std::string section_answer(const Study& s) {
  return "<h2>The answer: where the curve bends</h2>\n" + knee_sentence(s) + knee_distribution_sentence(s) +
         answer_costs(s);
}

std::string section_table(const Study& s) {
  const bool energy = s.m.energy_of, priced = s.m.priced;
  // Smaller type for the wider table with energy and cost, so it stays within the page.
  std::string h = std::string("<h2>Scaling table</h2><table") + (energy || priced ? " style=\"font-size:85%\"" : "") +
                  "><tr><th>GPUs</th><th>layout</th><th>global batch</th><th>step (s)</th><th>tokens/s</th>"
                  "<th>speedup</th><th>efficiency</th><th>MFU</th><th>comm/compute</th>" +
                  std::string(energy ? "<th>W/GPU</th><th>J/token</th>" : "") + (priced ? "<th>$/M tokens</th>" : "") +
                  "<th>note</th></tr>\n";
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const Point& p = s.points[i];
    const bool knee = static_cast<int>(i) == s.knee;
    std::string cls = !p.feasible ? " class=\"bad\"" : (knee ? " class=\"knee\"" : "");
    std::string note = !p.feasible ? "infeasible: " + p.reason
                       : knee      ? "knee"
                                   : (p.gpus == s.baseline ? "baseline" : "");
    h += "<tr" + cls + "><td>" + format_count(p.gpus) + "</td><td>" + html_escape(p.layout) + "</td><td>" +
         format_count(p.global_batch) + "</td><td>" + format_sig(p.step_time_s, 4) +
         (std::isfinite(p.step_lo) ? " (" + format_sig(p.step_lo, 4) + "-" + format_sig(p.step_hi, 4) + ")" : "") +
         "</td><td>" + format_count(p.tokens_per_s) + "</td><td>" + format_sig(p.speedup, 3) + "</td><td>" +
         fmt(p.efficiency, "%.3f") + "</td><td>" + fmt(p.mfu, "%.3f") + "</td><td>" + format_sig(p.c2c, 3) + "</td>" +
         (energy ? "<td>" + format_count(p.avg_power_W) + "</td><td>" + format_sig(p.J_per_token, 3) + "</td>" : "") +
         (priced ? "<td>" + format_sig(p.usd_per_million_tokens, 3) + "</td>" : "") + "<td style=\"text-align:left\">" +
         html_escape(note) + "</td></tr>\n";
  }
  return h + "</table>\n";
}

// Charts are laid out at this size and drawn at the page's width.
constexpr int kChartW = 960, kChartH = 400;

// A chart against GPUs (log2), the knee marked, with one series per value of `ys`.
LineChart gpu_chart(const Study& s, const std::string& title, const std::string& y_label) {
  LineChart c;
  c.title = title;
  c.x_label = "GPUs";
  c.y_label = y_label;
  c.log2_x = true;
  if (const Point* k = s.knee_point()) c.mark_x = k->gpus, c.mark_label = "knee";
  return c;
}
// A series of a value over the feasible points that have it.
Series series_of(const Study& s, const std::string& name, double (*value)(const Study&, const Point&),
                 bool dashed = false, bool right = false) {
  Series r{name, {}, {}, dashed, right};
  for (const auto& p : s.points) {
    if (!p.feasible || !std::isfinite(value(s, p))) continue;
    r.x.push_back(p.gpus);
    r.y.push_back(value(s, p));
  }
  return r;
}

// The series with its band from each point's interval (when every point drawn has one).
Series with_band(const Study& s, Series r, double Point::*lo, double Point::*hi) {
  std::vector<double> l, h;
  for (const auto& p : s.points) {
    if (!p.feasible || std::find(r.x.begin(), r.x.end(), p.gpus) == r.x.end()) continue;
    if (!std::isfinite(p.*lo)) break;
    l.push_back(p.*lo);
    h.push_back(p.*hi);
  }
  return with_band(std::move(r), std::move(l), std::move(h));
}

// Speedup (log-log), efficiency and the communication-to-computation ratio.
std::vector<LineChart> scaling_charts(const Study& s) {
  const std::string base = format_count(s.baseline) + "-GPU baseline";
  LineChart speed = gpu_chart(s, "Speedup against the " + base + " (log-log)", "speedup");
  speed.log_y = true;
  speed.series = {with_band(s, series_of(s, "simulated", [](const Study&, const Point& p) { return p.speedup; }),
                            &Point::speedup_lo, &Point::speedup_hi),
                  series_of(
                      s, "ideal (linear)", [](const Study& t, const Point& p) { return p.gpus / t.baseline; }, true)};
  LineChart eff = gpu_chart(
      s, "Scaling efficiency against the " + base + " (threshold " + fmt(s.threshold, "%.2f") + ")", "efficiency");
  eff.series = {with_band(s, series_of(s, "simulated", [](const Study&, const Point& p) { return p.efficiency; }),
                          &Point::eff_lo, &Point::eff_hi),
                series_of(
                    s, "threshold", [](const Study& t, const Point&) { return t.threshold; }, true)};
  LineChart c2c = gpu_chart(s, "Communication-to-computation ratio", "comm / compute");
  c2c.series = {series_of(s, "simulated", [](const Study&, const Point& p) { return p.c2c; })};
  return {speed, eff, c2c};
}

// Where a step's time goes, as shares (step times span orders of magnitude across a sweep), the
// exposed communication by kind where the sweep has it.
std::string step_share_chart(const Study& s) {
  StackedBars bars;
  bars.title = "Where a step's time goes (share of the step)";
  bars.y_label = "share of step time";
  const bool by_kind =
      std::all_of(s.points.begin(), s.points.end(), [](const Point& p) { return !p.feasible || p.by_kind; });
  std::vector<int> kinds;  // the kinds exposed somewhere
  for (int k = 0; by_kind && k < 5; ++k)
    if (std::any_of(s.points.begin(), s.points.end(),
                    [&](const Point& p) { return p.feasible && p.exposed_by_kind_s[k] != 0; }))
      kinds.push_back(k);
  bars.parts = {"compute"};
  for (int k : kinds) bars.parts.push_back(std::string("exposed ") + kKinds[k] + " communication");
  if (!by_kind) bars.parts.push_back("exposed communication");
  bars.parts.insert(bars.parts.end(), {"pipeline bubble", "optimizer"});
  // Stragglers get their own part only when some point has them (older reports stay as they were).
  const bool stragglers =
      std::any_of(s.points.begin(), s.points.end(), [](const Point& p) { return p.straggler_s != 0; });
  if (stragglers) bars.parts.push_back("stragglers");
  bars.values.assign(bars.parts.size(), {});
  for (const auto& p : s.points) {
    if (!p.feasible) continue;
    bars.categories.push_back(format_count(p.gpus));
    std::vector<double> v = {p.compute_s};
    for (int k : kinds) v.push_back(p.exposed_by_kind_s[k]);
    if (!by_kind) v.push_back(p.exposed_comm_s);
    v.insert(v.end(), {p.bubble_s, p.optimizer_s});
    if (stragglers) v.push_back(std::max(0.0, p.straggler_s));
    for (std::size_t i = 0; i < v.size(); ++i) bars.values[i].push_back(v[i] / p.step_time_s);
  }
  return "<figure>" + bars.svg(kChartW, kChartH) + "</figure>\n";
}

// Energy per token; a whole run's days and dollars; goodput with failures: where the sweep has them.
std::string cost_charts(const Study& s) {
  const Modelled& m = s.m;
  std::string h;
  if (m.energy_of) {
    LineChart energy = gpu_chart(s, "Facility energy per token", "J per token");
    if (std::isfinite(m.energy_of->pue)) energy.title += " (PUE " + format_sig(m.energy_of->pue, 6) + ")";
    energy.series = {
        series_of(s, "simulated", [](const Study&, const Point& p) { return p.energy ? p.J_per_token : NAN; })};
    h += "<figure>" + energy.svg(kChartW, kChartH) + "</figure>\n";
  }
  if (m.run_of) {
    const bool usd =
        std::any_of(s.points.begin(), s.points.end(), [](const Point& p) { return std::isfinite(p.run_usd); });
    LineChart run = gpu_chart(s,
                              "A whole run of " + format_tokens(m.run_of->train_tokens) + ": days" +
                                  (usd ? " and cost" : "") + (m.failures_of ? " (with failures)" : ""),
                              "days");
    run.series = {series_of(s, "days", [](const Study&, const Point& p) { return p.run_days; })};
    if (usd) {
      run.y2_label = "cost (USD)";
      run.series.push_back(series_of(
          s, "cost (USD, right)", [](const Study&, const Point& p) { return p.run_usd; }, false, true));
    }
    h += "<figure>" + run.svg(kChartW, kChartH) + "</figure>\n";
  }
  if (m.failures_of) {
    LineChart g = gpu_chart(s, "Goodput with failures: the share of wall time that trains", "goodput (%)");
    g.series = {series_of(s, "goodput", [](const Study&, const Point& p) { return 100 * p.goodput; })};
    double lowest = 100;
    for (double y : g.series[0].y) lowest = std::min(lowest, y);
    g.y_min = std::max(0.0, std::floor(lowest / 10 - 1e-9) * 10);
    h += "<figure>" + g.svg(kChartW, kChartH) + "</figure>\n";
  }
  return h;
}

std::string section_charts(const Study& s) {
  const std::vector<LineChart> c = scaling_charts(s);
  auto figure = [](const LineChart& l) { return "<figure>" + l.svg(kChartW, kChartH) + "</figure>\n"; };
  return "<h2>Plots</h2>\n" + figure(c[0]) + figure(c[1]) + step_share_chart(s) + figure(c[2]) + cost_charts(s);
}

std::string straggler_item(const Study& s) {
  const Modelled& m = s.m;
  if (!m.stragglers) return "<li>Stragglers: not modelled; every GPU runs at the calibration profile's speed.</li>";
  std::string params;
  auto cv = [](const char* name, double v, const std::string& from) {
    return std::isfinite(v) ? std::string(name) + " " + format_sig(v, 6) + (from.empty() ? "" : " (" + from + ")") : "";
  };
  if (const Point* p = m.stragglers_of) {
    params = cv("gpu_cv", p->gpu_cv, p->gpu_cv_from);
    const std::string op = cv("op_cv", p->op_cv, p->op_cv_from);
    params += (params.empty() || op.empty() ? "" : ", ") + op;
  } else if (const Json* g = m.stragglers_scenario) {
    for (const char* k : {"gpu_cv", "op_cv"})
      if (g->contains(k) && (*g)[k].is_number())
        params += (params.empty() ? "" : ", ") + std::string(k) + " " + format_sig((*g)[k].get<double>(), 6);
    if (g->value("from_profile", false))
      params += params.empty() ? "gpu_cv and op_cv from the profile's variability"
                               : ", the rest from the profile's variability";
    if (g->contains("slow_gpus") && (*g)["slow_gpus"].is_array() && !(*g)["slow_gpus"].empty())
      params +=
          (params.empty() ? "" : ", ") + format_count(static_cast<double>((*g)["slow_gpus"].size())) + " slow GPUs";
  }
  std::string o =
      "<li>Stragglers: per-GPU variation was modelled (the scenario's <code>stragglers</code>" +
      (params.empty() ? "" : ": " + params) +
      "): every data-parallel replica runs its own pipeline, each op at its slowest tensor-parallel GPU, and "
      "the replicas meet in the gradient reductions; the breakdown's stragglers part is the step less the "
      "step with every GPU at the profile's speed";
  if (const Point* p = m.most_straggled)
    o += ", at most " + pct(p->straggler_s / p->step_time_s) + " of a step (at " + gpus_of(p->gpus) + ")";
  return o + ".</li>";
}

std::string failure_item(const Study& s) {
  const Modelled& m = s.m;
  if (!m.failures_of)
    return std::string("<li>Failures: not modelled (the scenario has no <code>failures</code>).") +
           (m.run_of ? " A whole run's days and dollars assume none." : "") + "</li>";
  const Point& f = *m.failures_of;
  const Point* last = &f;  // the largest point with failures
  for (const auto& p : s.points)
    if (p.feasible && p.failures) last = &p;
  std::string o =
      "<li>Failures: modelled over a whole run (the scenario's <code>failures</code>, Daly's checkpoint model)";
  const Json* given = s.scenario && s.scenario->contains("failures") ? &(*s.scenario)["failures"] : nullptr;
  if (std::isfinite(f.system_mtbf_h)) {  // system MTBF = GPU MTBF / GPUs
    o += ": a GPU MTBF of " + format_count(f.system_mtbf_h * f.gpus) + " hours, so a system MTBF of " +
         format_sig(f.system_mtbf_h, 3) + " h at " + gpus_of(f.gpus);
    if (last != &f && std::isfinite(last->system_mtbf_h))
      o += " and " + format_sig(last->system_mtbf_h, 3) + " h at " + gpus_of(last->gpus);
  } else if (given && given->is_object() && given->contains("gpu_mtbf_hours") &&
             (*given)["gpu_mtbf_hours"].is_number()) {
    o += ": a GPU MTBF of " + format_count((*given)["gpu_mtbf_hours"].get<double>()) + " hours";
  } else {
    o += ", at an MTBF the sweep file does not state";
  }
  if (std::isfinite(f.checkpoint_write_s))
    o += "; a checkpoint takes " + format_sig(f.checkpoint_write_s, 3) + " s to write" +
         (std::isfinite(f.checkpoint_interval_s)
              ? " and comes every " + format_sig(f.checkpoint_interval_s, 3) + " s of training at " + gpus_of(f.gpus) +
                    (f.interval.empty() ? "" : " (" + html_escape(f.interval) + ")")
              : "");
  if (std::isfinite(f.goodput))
    o += "; goodput " + pct(f.goodput) + " at " + gpus_of(f.gpus) +
         (last != &f && std::isfinite(last->goodput) ? " to " + pct(last->goodput) + " at " + gpus_of(last->gpus) : "");
  o += ". Step time, throughput and MFU are those of a failure-free step";
  if (!m.run_of) return o + ".</li>";
  return o + "; a whole run's days, GPU-hours" + (m.energy_of ? ", energy" : "") +
         " and dollars are divided by the goodput.</li>";
}

std::string energy_item(const Study& s) {
  const Modelled& m = s.m;
  if (!m.energy_of)
    return m.priced || m.run_of ? "<li>Energy: the calibration profile has no power model, so no energy figures.</li>"
                                : "";
  const Point& e = *m.energy_of;
  return "<li>Energy: each GPU draws the calibration profile's power (" +
         html_escape(e.power_model.empty() ? "unstated" : e.power_model) +
         " power model) at each kernel's compute and memory utilization, and idle power during launch gaps, "
         "pipeline bubbles and waits; communication that overlaps compute is not charged on top. Facility energy = "
         "(GPU energy + " +
         format_sig(std::isfinite(e.other_W_per_gpu) ? e.other_W_per_gpu : 0, 6) +
         " W per GPU of other IT power) &times; PUE " + format_sig(std::isfinite(e.pue) ? e.pue : 1, 6) + ".</li>";
}

std::string cost_item(const Study& s) {
  const Modelled& m = s.m;
  std::string o;
  if (m.priced) {
    const Point& c = *m.cost_of;
    // The prices as the scenario gave them.
    o += "<li>Prices: " +
         (std::isfinite(c.usd_per_gpu_hour) ? "$" + format_sig(c.usd_per_gpu_hour, 6) + " per GPU-hour"
                                            : std::string("no GPU-hour price")) +
         ", " +
         (std::isfinite(c.usd_per_kWh) ? "$" + format_sig(c.usd_per_kWh, 6) + " per kWh of facility energy"
                                       : std::string("no electricity price")) +
         ".</li>";
  } else {
    o += "<li>No prices given (the scenario's <code>cost</code>): no dollar figures.</li>";
  }
  if (m.run_of)
    o += "<li>A whole run of " + format_tokens(m.run_of->train_tokens) +
         " (the scenario's <code>cost.train_tokens</code>): whole steps at each point's step time" +
         (m.failures_of ? ", divided by its goodput" : ", no failures") + ".</li>";
  return o;
}

std::string section_assumptions(const Study& s) {
  std::string h = "<h2>Scenario and assumptions</h2>\n";
  // The scenario as JSON: "scenario" itself, or "scenario_json" beside its file name (knee sweep --json).
  if (s.scenario) h += kv_table(*s.scenario);
  h += "<ul><li>Compute kernels are timed from the calibration profile (GEMMs by shape, attention, memory-bound ops, "
       "launch overheads); communication runs as flows on the simulated fabric (max-min fair sharing), so contention "
       "emerges rather than being assumed.</li><li>The flow-level network leaves out packet-level effects "
       "(congestion control, PFC pauses, adaptive routing).</li>";
  return h + straggler_item(s) + failure_item(s) + energy_item(s) + cost_item(s) + "</ul>\n";
}

std::string section_provenance(const Json& sweep, const Study& s) {
  std::string h = "<h2>Provenance</h2>\n";
  const Json& first = sweep["points"][0];
  if (sweep.contains("provenance") && sweep["provenance"].is_object()) h += kv_table(sweep["provenance"]);
  else if (first.contains("result") && first["result"].is_object() && first["result"].contains("provenance"))
    h += kv_table(first["result"]["provenance"]);
  else h += "<p>The sweep file carries no provenance block.</p>";
  if (const Point* e = s.m.energy_of)
    h += "<p>Power model of the calibration profile: <code>" +
         html_escape(e->power_model.empty() ? "unstated" : e->power_model) + "</code>.</p>";
  return h;
}

std::string section_reproducibility(const Json& sweep, const ReportContext& ctx) {
  Json input = Json::object();
  for (const char* k : {"version", "git_revision", "command_line", "seed"})
    if (sweep.contains(k)) input[std::string("sweep_") + k] = sweep[k];
  return report_html::reproducibility(
      {.command_line = ctx.command_line, .file = ctx.source, .file_key = "sweep_file", .input = input});
}

}  // namespace

std::string render_report_html(const Json& sweep, const ReportContext& ctx) {
  const Study s = read_study(sweep, ctx);
  return section_head(s) + section_answer(s) + section_table(s) + section_charts(s) + section_assumptions(s) +
         ctx.appendix_html + section_provenance(sweep, s) + section_reproducibility(sweep, ctx) + "</body></html>\n";
}

}  // namespace knee
