#include "metrics/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json_reader.hpp"
#include "common/parse.hpp"
#include "common/printf.hpp"
#include "metrics/format.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

// Fixed-point formats ("%.3f", "%.1f") for shares and efficiencies; format.hpp for the rest.
std::string fmt(double v, const char* f) { return std::isfinite(v) ? printf_double(f, v) : "-"; }
std::string gpus_of(double gpus) { return format_count(gpus) + " GPUs"; }

const char* const kKinds[5] = {"tp", "pp", "dp", "cp", "ep"};  // breakdown.exposed_comm_by_group_s

// A sweep point as the report reads it. Values may sit on the point or in its "result".
struct Point {
  double gpus = 0;
  bool feasible = true;
  std::string reason;
  double step_time_s = NAN, tokens_per_s = NAN, speedup = NAN, efficiency = NAN, mfu = NAN, c2c = NAN;
  double global_batch = NAN;
  std::string layout;
  double compute_s = NAN, exposed_comm_s = NAN, bubble_s = NAN, optimizer_s = NAN;
  bool by_kind = false;  // breakdown.exposed_comm_by_group_s (absent in older sweep files)
  double exposed_by_kind_s[5] = {NAN, NAN, NAN, NAN, NAN};
  double straggler_s = 0;  // absent before stragglers existed; 0 without a straggler model
  // The point's "stragglers" (a simulation result's; knee sweep --json leaves it out): null without them.
  bool stragglers = false;
  double gpu_cv = NAN, op_cv = NAN;
  std::string gpu_cv_from, op_cv_from;
  // Energy and cost (absent in sweeps of older versions; null without a power model or a price).
  bool energy = false, cost = false;
  double avg_power_W = NAN, J_per_token = NAN, pue = NAN, other_W_per_gpu = NAN;
  std::string power_model;
  double usd_per_gpu_hour = NAN, usd_per_kWh = NAN, usd_per_million_tokens = NAN;
  // A whole run (the scenario's cost.train_tokens): run false and NAN when absent.
  bool run = false;
  double train_tokens = NAN, run_days = NAN, run_usd = NAN, run_MWh = NAN;
  // The scenario's failures (null without them): Daly's model over a whole run.
  bool failures = false;
  double goodput = NAN, system_mtbf_h = NAN, checkpoint_write_s = NAN, checkpoint_interval_s = NAN;
  std::string interval;  // "Daly's optimum" or "given"
  // 95% intervals (knee sweep --samples N: the point's "intervals"); NAN without them.
  double step_lo = NAN, step_hi = NAN, speedup_lo = NAN, speedup_hi = NAN, eff_lo = NAN, eff_hi = NAN;
};

const Json* find(const Json& p, const char* key) {
  if (p.contains(key)) return &p[key];
  if (p.contains("result") && p["result"].is_object() && p["result"].contains(key)) return &p["result"][key];
  return nullptr;
}
double num_of(const Json& p, const char* key) {
  const Json* v = find(p, key);
  return v && v->is_number() ? v->get<double>() : NAN;
}
// The JSON path of what find() found.
std::string path_of(const Json& p, const char* key, const std::string& path) {
  return path + (p.contains(key) ? "." : ".result.") + key;
}
// An optional number >= 0 that may be null (a price not given): NAN then.
double nullable(JsonObject& o, const char* key) {
  if (!o.has(key) || o.raw(key).is_null()) return NAN;
  return o.non_negative(key);
}
std::string string_of(JsonObject& o, const char* key) {
  return o.has(key) && o.raw(key).is_string() ? o.string(key) : "";
}

void read_breakdown(const Json& j, Point& p) {
  const Json* b = find(j, "breakdown");
  if (!b || !b->is_object()) return;
  auto g = [](const Json& o, const char* k) { return o.contains(k) && o[k].is_number() ? o[k].get<double>() : NAN; };
  p.compute_s = g(*b, "compute_s");
  p.exposed_comm_s = g(*b, "exposed_comm_s");
  p.bubble_s = g(*b, "bubble_s");
  p.optimizer_s = g(*b, "optimizer_s");
  if (std::isfinite(g(*b, "straggler_s"))) p.straggler_s = g(*b, "straggler_s");
  if (b->contains("exposed_comm_by_group_s") && (*b)["exposed_comm_by_group_s"].is_object()) {
    p.by_kind = true;
    for (int k = 0; k < 5; ++k) {
      p.exposed_by_kind_s[k] = g((*b)["exposed_comm_by_group_s"], kKinds[k]);
      p.by_kind = p.by_kind && std::isfinite(p.exposed_by_kind_s[k]);
    }
  }
}

// Energy, cost, failures and stragglers: each an object or null (or absent).
void read_extras(const Json& j, const std::string& source, const std::string& path, Point& p) {
  if (const Json* e = find(j, "energy"); e && !e->is_null()) {
    JsonObject o(*e, source, path_of(j, "energy", path));
    p.energy = true;
    p.avg_power_W = o.non_negative("avg_power_per_gpu_W");
    p.J_per_token = o.non_negative("facility_J_per_token");
    p.pue = nullable(o, "pue");
    p.other_W_per_gpu = nullable(o, "other_W_per_gpu");
    if (o.has("power_model")) p.power_model = o.string("power_model");
  }
  if (const Json* f = find(j, "failures"); f && !f->is_null()) {
    JsonObject o(*f, source, path_of(j, "failures", path));
    p.failures = true;
    p.goodput = nullable(o, "goodput");
    p.system_mtbf_h = nullable(o, "system_mtbf_h");
    p.checkpoint_write_s = nullable(o, "checkpoint_write_s");
    p.checkpoint_interval_s = nullable(o, "checkpoint_interval_s");
    p.interval = string_of(o, "interval");
  }
  if (const Json* s = find(j, "stragglers"); s && !s->is_null()) {
    JsonObject o(*s, source, path_of(j, "stragglers", path));
    p.stragglers = true;
    p.gpu_cv = nullable(o, "gpu_cv");
    p.op_cv = nullable(o, "op_cv");
    p.gpu_cv_from = string_of(o, "gpu_cv_from");
    p.op_cv_from = string_of(o, "op_cv_from");
  }
  if (const Json* c = find(j, "cost"); c && !c->is_null()) {
    JsonObject o(*c, source, path_of(j, "cost", path));
    p.cost = true;
    p.usd_per_gpu_hour = nullable(o, "usd_per_gpu_hour");
    p.usd_per_kWh = nullable(o, "usd_per_kWh");
    p.usd_per_million_tokens = nullable(o, "usd_per_million_tokens");
    if (o.has("run") && !o.raw("run").is_null()) {
      JsonObject r = o.object("run");
      p.run = true;
      p.train_tokens = nullable(r, "train_tokens");
      p.run_days = nullable(r, "days");
      p.run_usd = nullable(r, "usd");
      p.run_MWh = nullable(r, "facility_MWh");
    }
  }
}

Point read_point(const Json& j, const std::string& source, const std::string& path) {
  JsonObject o(j, source, path);  // must be an object
  Point p;
  p.gpus = o.positive("gpus");
  if (const Json* f = find(j, "feasible")) {
    if (!f->is_boolean()) throw_input_error(source, path + ".feasible", "true or false", describe_json(*f));
    p.feasible = f->get<bool>();
  }
  if (const Json* r = find(j, "reason"); r && r->is_string()) p.reason = r->get<std::string>();
  p.step_time_s = num_of(j, "step_time_s");
  if (p.feasible && !(p.step_time_s > 0))
    throw_input_error(source, path + ".step_time_s", "a step time > 0 for a feasible point",
                      find(j, "step_time_s") ? describe_json(*find(j, "step_time_s")) : "nothing");
  p.tokens_per_s = num_of(j, "tokens_per_s");
  p.speedup = num_of(j, "speedup");
  p.efficiency = num_of(j, "efficiency");
  p.mfu = num_of(j, "mfu");
  p.c2c = num_of(j, "comm_to_compute");
  p.global_batch = num_of(j, "global_batch");
  for (const char* k : kKinds) {
    double v = num_of(j, k);
    if (std::isfinite(v)) p.layout += std::string(p.layout.empty() ? "" : " ") + k + format_count(v);
  }
  read_breakdown(j, p);
  read_extras(j, source, path, p);
  if (j.contains("intervals") && j["intervals"].is_object()) {
    const Json& iv = j["intervals"];
    auto pair = [&](const char* k, double& lo, double& hi) {
      if (iv.contains(k) && iv[k].is_array() && iv[k].size() == 2 && iv[k][0].is_number() && iv[k][1].is_number())
        lo = iv[k][0].get<double>(), hi = iv[k][1].get<double>();
    };
    pair("step_time_s", p.step_lo, p.step_hi);
    pair("speedup", p.speedup_lo, p.speedup_hi);
    pair("efficiency", p.eff_lo, p.eff_hi);
  }
  return p;
}

// What the study modelled, read once from the points (and the scenario's settings) so that the
// answer, the charts and the assumptions say the same. The scenario is the same on every point.
struct Modelled {
  const Point* energy_of = nullptr;    // the first point with energy
  const Point* cost_of = nullptr;      // ... with a cost object
  bool priced = false;                 // some point has a price per million tokens
  const Point* run_of = nullptr;       // ... with a whole run (cost.run)
  const Point* failures_of = nullptr;  // ... with failures
  // Stragglers: a point's "stragglers", the scenario's key, or a straggler part in a breakdown.
  bool stragglers = false;
  const Point* stragglers_of = nullptr;       // a point with "stragglers" (its parameters)
  const Json* stragglers_scenario = nullptr;  // the scenario's "stragglers" settings
  const Point* most_straggled = nullptr;      // the largest straggler share of a step (> 0)
};

struct Study {
  std::string mode, cause, question;
  double baseline = 0, threshold = 0.8;
  int knee = -1;
  std::vector<Point> points;
  const Json* scenario = nullptr;  // "scenario" or "scenario_json" (knee sweep --json), an object
  Modelled m;
  // knee sweep --samples N: the draws, and where the knee fell in them (GPUs, NAN: no knee; share).
  int samples = 0;
  std::vector<std::pair<double, double>> knee_shares;
  const Point* knee_point() const { return knee >= 0 ? &points[static_cast<std::size_t>(knee)] : nullptr; }
  const Point* baseline_point() const {
    for (const auto& p : points)
      if (p.gpus == baseline) return &p;
    return nullptr;
  }
};

Modelled read_modelled(const std::vector<Point>& points, const Json* scenario) {
  Modelled m;
  double share = 0;
  bool straggled = false;  // a breakdown with a straggler part (which may be < 0: GPUs faster than profiled)
  for (const auto& p : points) {
    if (!p.feasible) continue;
    if (p.energy && !m.energy_of) m.energy_of = &p;
    if (p.cost && !m.cost_of) m.cost_of = &p;
    if (p.run && !m.run_of) m.run_of = &p;
    if (p.failures && !m.failures_of) m.failures_of = &p;
    if (p.stragglers && !m.stragglers_of) m.stragglers_of = &p;
    m.priced = m.priced || std::isfinite(p.usd_per_million_tokens);
    straggled = straggled || p.straggler_s != 0;
    if (p.straggler_s / p.step_time_s > share) share = p.straggler_s / p.step_time_s, m.most_straggled = &p;
  }
  if (scenario && scenario->contains("stragglers") && (*scenario)["stragglers"].is_object())
    m.stragglers_scenario = &(*scenario)["stragglers"];
  m.stragglers = m.stragglers_of || m.stragglers_scenario || straggled;
  return m;
}

Study read_study(const Json& sweep, const ReportContext& ctx) {
  const std::string& src = ctx.source;
  JsonObject root(sweep, src, "$");
  Study s;
  s.mode = root.one_of("mode", {"strong", "weak"});
  JsonArray pts = root.array("points");
  if (pts.empty()) pts.fail_here("at least one point");
  for (std::size_t i = 0; i < pts.size(); ++i) s.points.push_back(read_point(pts.raw(i), src, pts.path_of(i)));
  s.baseline = root.has("baseline_gpus") ? root.positive("baseline_gpus") : s.points.front().gpus;
  s.threshold = root.has("threshold") ? root.positive("threshold") : 0.8;
  if (root.has("knee") && sweep["knee"].is_number_integer()) s.knee = sweep["knee"].get<int>();
  // `knee sweep --json` names the knee by its GPU count.
  if (s.knee < 0 && root.has("knee_gpus") && sweep["knee_gpus"].is_number())
    for (std::size_t i = 0; i < s.points.size() && s.knee < 0; ++i)
      if (s.points[i].gpus == sweep["knee_gpus"].get<double>()) s.knee = static_cast<int>(i);
  if (s.knee >= static_cast<int>(s.points.size()))
    throw_input_error(src, "$.knee", "an index into $.points", std::to_string(s.knee));
  if (sweep.contains("knee_cause") && sweep["knee_cause"].is_string()) s.cause = sweep["knee_cause"].get<std::string>();
  for (const char* k : {"scenario", "scenario_json"})
    if (!s.scenario && sweep.contains(k) && sweep[k].is_object()) s.scenario = &sweep[k];
  if (sweep.contains("intervals") && sweep["intervals"].is_object() && sweep["intervals"].contains("samples") &&
      sweep["intervals"]["samples"].is_number_integer())
    s.samples = sweep["intervals"]["samples"].get<int>();
  if (sweep.contains("knee_distribution") && sweep["knee_distribution"].is_array())
    for (const auto& k : sweep["knee_distribution"])
      if (k.is_object() && k.contains("share") && k["share"].is_number())
        s.knee_shares.emplace_back(k.contains("gpus") && k["gpus"].is_number() ? k["gpus"].get<double>() : NAN,
                                   k["share"].get<double>());
  s.m = read_modelled(s.points, s.scenario);
  s.question = ctx.question;
  if (s.question.empty())
    s.question = "How does this training job scale (" + s.mode + " scaling, " + format_count(s.points.front().gpus) +
                 " to " + gpus_of(s.points.back().gpus) + "), and where does the scaling curve bend?";
  return s;
}

std::string kv_table(const Json& j) {
  std::string o = "<table class=\"kv\">";
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    if (it.value().is_object()) v = it.value().dump(1);
    o += "<tr><th>" + html_escape(it.key()) + "</th><td><code>" + html_escape(v) + "</code></td></tr>";
  }
  return o + "</table>";
}

std::string section_head(const Study& s) {
  std::string h = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>knee capacity-planning report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}table.kv td,table.kv th{text-align:left}.bad{color:#999}.knee{background:#fde2e2}
.note{background:#f7f7e8;padding:.6em 1em;border-left:4px solid #cc9}code{font-size:90%}figure{margin:1em 0}
figure svg{display:block;width:100%;height:auto}
</style></head><body>
<h1>Capacity-planning report</h1>
)";
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
  for (const auto& p : s.points) {
    if (!p.feasible || std::find(r.x.begin(), r.x.end(), p.gpus) == r.x.end()) continue;
    if (!std::isfinite(p.*lo)) break;
    r.lo.push_back(p.*lo);
    r.hi.push_back(p.*hi);
  }
  if (r.lo.size() != r.x.size()) r.lo.clear(), r.hi.clear();
  return r;
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
  Json repro = Json::object();
  repro["report_made_by"] = std::string("knee ") + knee_version() + " (" + knee_git_revision() + ")";
  repro["report_command"] = ctx.command_line;
  repro["sweep_file"] = ctx.source;
  for (const char* k : {"version", "git_revision", "command_line", "seed"})
    if (sweep.contains(k)) repro[std::string("sweep_") + k] = sweep[k];
  return "<h2>Reproducibility</h2>\n" + kv_table(repro);
}

}  // namespace

std::string render_report_html(const Json& sweep, const ReportContext& ctx) {
  const Study s = read_study(sweep, ctx);
  return section_head(s) + section_answer(s) + section_table(s) + section_charts(s) + section_assumptions(s) +
         section_provenance(sweep, s) + section_reproducibility(sweep, ctx) + "</body></html>\n";
}

}  // namespace knee
