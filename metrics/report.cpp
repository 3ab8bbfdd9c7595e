#include "metrics/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/json_reader.hpp"
#include "common/parse.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

std::string fmt(double v, const char* f = "%.3g") {
  if (!std::isfinite(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// A sweep point as the report reads it. Values may sit on the point or in its "result".
struct Point {
  double gpus = 0;
  bool feasible = true;
  std::string reason;
  double step_time_s = NAN, tokens_per_s = NAN, speedup = NAN, efficiency = NAN, mfu = NAN, c2c = NAN;
  double global_batch = NAN;
  std::string layout;
  double compute_s = NAN, exposed_comm_s = NAN, bubble_s = NAN, optimizer_s = NAN;
  double straggler_s = 0;  // absent before stragglers existed; 0 without a straggler model
  // Energy and cost (absent in sweeps of older versions; null without a power model or a price).
  bool energy = false, cost = false;
  double avg_power_W = NAN, J_per_token = NAN, pue = NAN, other_W_per_gpu = NAN;
  std::string power_model;
  double usd_per_gpu_hour = NAN, usd_per_kWh = NAN, usd_per_million_tokens = NAN;
  // A whole run (the scenario's cost.train_tokens): NAN when absent.
  double train_tokens = NAN, run_days = NAN, run_usd = NAN, run_MWh = NAN;
  double goodput = NAN;  // the scenario's failures: useful training time / wall time
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
  for (const char* k : {"tp", "pp", "dp", "cp", "ep"}) {
    double v = num_of(j, k);
    if (std::isfinite(v)) p.layout += std::string(p.layout.empty() ? "" : " ") + k + fmt(v, "%.0f");
  }
  if (const Json* b = find(j, "breakdown"); b && b->is_object()) {
    auto g = [&](const char* k) { return b->contains(k) && (*b)[k].is_number() ? (*b)[k].get<double>() : NAN; };
    p.compute_s = g("compute_s");
    p.exposed_comm_s = g("exposed_comm_s");
    p.bubble_s = g("bubble_s");
    p.optimizer_s = g("optimizer_s");
    if (std::isfinite(g("straggler_s"))) p.straggler_s = g("straggler_s");
  }
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
    p.goodput = nullable(o, "goodput");
  }
  if (const Json* c = find(j, "cost"); c && !c->is_null()) {
    JsonObject o(*c, source, path_of(j, "cost", path));
    p.cost = true;
    p.usd_per_gpu_hour = nullable(o, "usd_per_gpu_hour");
    p.usd_per_kWh = nullable(o, "usd_per_kWh");
    p.usd_per_million_tokens = nullable(o, "usd_per_million_tokens");
    if (o.has("run") && !o.raw("run").is_null()) {
      JsonObject r = o.object("run");
      p.train_tokens = nullable(r, "train_tokens");
      p.run_days = nullable(r, "days");
      p.run_usd = nullable(r, "usd");
      p.run_MWh = nullable(r, "facility_MWh");
    }
  }
  return p;
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

}  // namespace

std::string render_report_html(const Json& sweep, const ReportContext& ctx) {
  const std::string& src = ctx.source;
  JsonObject root(sweep, src, "$");
  std::string mode = root.one_of("mode", {"strong", "weak"});
  JsonArray pts = root.array("points");
  if (pts.empty()) pts.fail_here("at least one point");
  std::vector<Point> points;
  for (std::size_t i = 0; i < pts.size(); ++i) points.push_back(read_point(pts.raw(i), src, pts.path_of(i)));
  double baseline = root.has("baseline_gpus") ? root.positive("baseline_gpus") : points.front().gpus;
  double threshold = root.has("threshold") ? root.positive("threshold") : 0.8;
  int knee = -1;
  if (root.has("knee") && sweep["knee"].is_number_integer()) knee = sweep["knee"].get<int>();
  // `knee sweep --json` names the knee by its GPU count.
  if (knee < 0 && root.has("knee_gpus") && sweep["knee_gpus"].is_number())
    for (std::size_t i = 0; i < points.size() && knee < 0; ++i)
      if (points[i].gpus == sweep["knee_gpus"].get<double>()) knee = static_cast<int>(i);
  if (knee >= static_cast<int>(points.size())) throw_input_error(src, "$.knee", "an index into $.points", std::to_string(knee));
  // Energy and cost only where the sweep carries them (older sweep files and profiles without a
  // power model render as they always did). The assumptions are the scenario's, the same on every point.
  const Point* energy_of = nullptr;
  const Point* cost_of = nullptr;
  bool priced = false;
  for (const auto& p : points) {
    if (p.energy && !energy_of) energy_of = &p;
    if (p.cost && !cost_of) cost_of = &p;
    priced = priced || std::isfinite(p.usd_per_million_tokens);
  }
  std::string cause = sweep.contains("knee_cause") && sweep["knee_cause"].is_string() ? sweep["knee_cause"].get<std::string>() : "";

  std::string question = ctx.question;
  if (question.empty())
    question = std::string("How does this training job scale (") + mode + " scaling, " + fmt(points.front().gpus, "%.0f") +
               " to " + fmt(points.back().gpus, "%.0f") + " GPUs), and where does the scaling curve bend?";

  // Plots.
  LineChart speed;
  speed.title = "Speedup against the " + fmt(baseline, "%.0f") + "-GPU baseline";
  speed.x_label = "GPUs";
  speed.y_label = "speedup";
  speed.log2_x = true;
  LineChart eff = speed;
  eff.title = "Scaling efficiency (threshold " + fmt(threshold, "%.2f") + ")";
  eff.y_label = "efficiency";
  LineChart c2c = speed;
  c2c.title = "Communication-to-computation ratio";
  c2c.y_label = "comm / compute";
  Series s_speed{"simulated", {}, {}, false}, s_ideal{"ideal (linear)", {}, {}, true}, s_eff{"simulated", {}, {}, false},
      s_thr{"threshold", {}, {}, true}, s_c2c{"simulated", {}, {}, false};
  StackedBars bars;
  // Shares, not seconds: step times span orders of magnitude across a sweep.
  bars.title = "Where a step's time goes (share of the step)";
  bars.y_label = "share of step time";
  bars.parts = {"compute", "exposed communication", "pipeline bubble", "optimizer"};
  // Stragglers get their own part only when some point has them (older reports stay as they were).
  const bool stragglers = std::any_of(points.begin(), points.end(), [](const Point& p) { return p.straggler_s != 0; });
  if (stragglers) bars.parts.push_back("stragglers");
  bars.values.assign(bars.parts.size(), {});
  LineChart energy = speed;
  energy.title = "Facility energy per token";
  if (energy_of && std::isfinite(energy_of->pue)) energy.title += " (PUE " + fmt(energy_of->pue, "%g") + ")";
  energy.y_label = "J per token";
  Series s_energy{"simulated", {}, {}, false};
  for (const auto& p : points) {
    if (!p.feasible) continue;
    s_speed.x.push_back(p.gpus);
    s_speed.y.push_back(p.speedup);
    s_ideal.x.push_back(p.gpus);
    s_ideal.y.push_back(mode == "strong" ? p.gpus / baseline : p.gpus / baseline);
    s_eff.x.push_back(p.gpus);
    s_eff.y.push_back(p.efficiency);
    s_thr.x.push_back(p.gpus);
    s_thr.y.push_back(threshold);
    s_c2c.x.push_back(p.gpus);
    s_c2c.y.push_back(p.c2c);
    bars.categories.push_back(fmt(p.gpus, "%.0f"));
    bars.values[0].push_back(p.compute_s / p.step_time_s);
    bars.values[1].push_back(p.exposed_comm_s / p.step_time_s);
    bars.values[2].push_back(p.bubble_s / p.step_time_s);
    bars.values[3].push_back(p.optimizer_s / p.step_time_s);
    if (stragglers) bars.values[4].push_back(std::max(0.0, p.straggler_s) / p.step_time_s);
    if (p.energy) {
      s_energy.x.push_back(p.gpus);
      s_energy.y.push_back(p.J_per_token);
    }
  }
  speed.series = {s_speed, s_ideal};
  eff.series = {s_eff, s_thr};
  c2c.series = {s_c2c};
  energy.series = {s_energy};
  if (knee >= 0) {
    speed.mark_x = eff.mark_x = c2c.mark_x = energy.mark_x = points[knee].gpus;
    speed.mark_label = eff.mark_label = c2c.mark_label = energy.mark_label = "knee";
  }

  std::string h = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>knee capacity-planning report</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}table.kv td,table.kv th{text-align:left}.bad{color:#999}.knee{background:#fde2e2}
.note{background:#f7f7e8;padding:.6em 1em;border-left:4px solid #cc9}code{font-size:90%}figure{margin:1em 0}
</style></head><body>
<h1>Capacity-planning report</h1>
)";
  h += "<p class=\"note\"><b>Simulated, not measured.</b> Every figure below comes from knee's event-driven simulation "
       "with the calibration profile named under <i>Provenance</i>. Baseline: " +
       fmt(baseline, "%.0f") + " GPUs. Mode: <b>" + mode + " scaling</b> (" +
       (mode == "strong" ? "the global batch is held fixed" : "the global batch grows with data parallelism") + ").</p>\n";
  h += "<h2>The question</h2><p>" + html_escape(question) + "</p>\n";

  h += "<h2>The answer: where the curve bends</h2>\n";
  if (knee >= 0)
    h += "<p>Scaling efficiency first falls below " + fmt(threshold, "%.2f") + " at <b>" + fmt(points[knee].gpus, "%.0f") +
         " GPUs</b> (efficiency " + fmt(points[knee].efficiency, "%.3f") + ")." +
         (cause.empty() ? "" : " The cost that grew: <b>" + html_escape(cause) + "</b>.") + "</p>\n";
  else
    h += "<p>Efficiency stays at or above " + fmt(threshold, "%.2f") + " over the whole range studied: no knee.</p>\n";
  if (energy_of || priced) {
    // Energy and cost per token at the baseline and at the knee (or the largest point with them).
    auto has = [&](const Point& p) { return p.energy || std::isfinite(p.usd_per_million_tokens); };
    const Point* base = nullptr;
    const Point* at = nullptr;
    for (const auto& p : points) {
      if (!has(p)) continue;
      if (!base || p.gpus == baseline) base = &p;
      at = &p;
    }
    if (knee >= 0 && has(points[knee])) at = &points[knee];
    auto where = [&](const Point* p, std::string note) {
      if (p->gpus == baseline) note = "the baseline" + std::string(note.empty() ? "" : ", ") + note;
      else if (knee >= 0 && p == &points[knee]) note = "the knee" + std::string(note.empty() ? "" : ", ") + note;
      return fmt(p->gpus, "%.0f") + " GPUs" + (note.empty() ? "" : " (" + note + ")");
    };
    auto compare = [&](double Point::*v, const std::string& pre, const std::string& post) {
      std::string o = "<b>" + pre + fmt(base->*v, "%.3g") + post + "</b> at " + where(base, "");
      if (at != base) {
        const double more = at->*v / base->*v - 1;
        o += ", <b>" + pre + fmt(at->*v, "%.3g") + post + "</b> at " +
             where(at, !std::isfinite(more) ? "" : fmt(std::fabs(more) * 100, "%.0f") + (more >= 0 ? "% more" : "% less"));
      }
      return o + ".";
    };
    h += "<p>";
    if (energy_of) h += "Facility energy per token: " + compare(&Point::J_per_token, "", " J");
    if (energy_of && priced) h += " ";
    if (priced) h += "Cost per million tokens: " + compare(&Point::usd_per_million_tokens, "$", "");
    h += "</p>\n";
    // A whole run (cost.train_tokens): what the faster, dearer configuration means in days and money.
    if (std::isfinite(base->run_days) && std::isfinite(at->run_days)) {
      h += "<p>A run of " + fmt(base->train_tokens, "%.3g") + " tokens" +
           (std::isfinite(base->goodput) && std::isfinite(at->goodput)
                ? " (with failures: goodput " + fmt(100 * base->goodput, "%.1f") + "% at " + fmt(base->gpus, "%.0f") +
                      " GPUs, " + fmt(100 * at->goodput, "%.1f") + "% at " + fmt(at->gpus, "%.0f") + ")"
                : std::string(" (no failures modelled)")) +
           ": " + compare(&Point::run_days, "", " days");
      if (std::isfinite(base->run_usd) && std::isfinite(at->run_usd)) h += " " + compare(&Point::run_usd, "$", "");
      if (std::isfinite(base->run_MWh) && std::isfinite(at->run_MWh))
        h += " Facility energy: " + compare(&Point::run_MWh, "", " MWh");
      h += "</p>\n";
    }
  }

  // Smaller type for the wider table with energy and cost, so it stays within the page.
  h += std::string("<h2>Scaling table</h2><table") + (energy_of || priced ? " style=\"font-size:85%\"" : "") +
       "><tr><th>GPUs</th><th>layout</th><th>global batch</th><th>step (s)</th><th>tokens/s</th>"
       "<th>speedup</th><th>efficiency</th><th>MFU</th><th>comm/compute</th>" +
       std::string(energy_of ? "<th>W/GPU</th><th>J/token</th>" : "") + (priced ? "<th>$/M tokens</th>" : "") +
       "<th>note</th></tr>\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    std::string cls = !p.feasible ? " class=\"bad\"" : (static_cast<int>(i) == knee ? " class=\"knee\"" : "");
    std::string note = !p.feasible ? "infeasible: " + p.reason
                       : static_cast<int>(i) == knee ? "knee" : (p.gpus == baseline ? "baseline" : "");
    h += "<tr" + cls + "><td>" + fmt(p.gpus, "%.0f") + "</td><td>" + html_escape(p.layout) + "</td><td>" +
         fmt(p.global_batch, "%.0f") + "</td><td>" + fmt(p.step_time_s, "%.4g") + "</td><td>" + fmt(p.tokens_per_s, "%.4g") +
         "</td><td>" + fmt(p.speedup, "%.3g") + "</td><td>" + fmt(p.efficiency, "%.3f") + "</td><td>" + fmt(p.mfu, "%.3f") +
         "</td><td>" + fmt(p.c2c, "%.3g") + "</td>" +
         (energy_of ? "<td>" + fmt(p.avg_power_W, "%.0f") + "</td><td>" + fmt(p.J_per_token, "%.3g") + "</td>" : "") +
         (priced ? "<td>" + fmt(p.usd_per_million_tokens, "%.3g") + "</td>" : "") +
         "<td style=\"text-align:left\">" + html_escape(note) + "</td></tr>\n";
  }
  h += "</table>\n";
  h += "<h2>Plots</h2>\n<figure>" + speed.svg() + "</figure>\n<figure>" + eff.svg() + "</figure>\n<figure>" + bars.svg() +
       "</figure>\n<figure>" + c2c.svg() + "</figure>\n";
  if (energy_of) h += "<figure>" + energy.svg() + "</figure>\n";

  h += "<h2>Scenario and assumptions</h2>\n";
  // The scenario as JSON: "scenario" itself, or "scenario_json" beside its file name (knee sweep --json).
  if (sweep.contains("scenario") && sweep["scenario"].is_object()) h += kv_table(sweep["scenario"]);
  else if (sweep.contains("scenario_json") && sweep["scenario_json"].is_object()) h += kv_table(sweep["scenario_json"]);
  h += "<ul><li>Compute kernels are timed from the calibration profile (GEMMs by shape, attention, memory-bound ops, "
       "launch overheads); communication runs as flows on the simulated fabric (max-min fair sharing), so contention "
       "emerges rather than being assumed.</li><li>The flow-level network leaves out packet-level effects "
       "(congestion control, PFC pauses, adaptive routing).</li>";
  h += stragglers ? "<li>Stragglers: per-GPU variation was modelled (the scenario's <code>stragglers</code>): every "
                    "data-parallel replica runs its own pipeline, each op at its slowest tensor-parallel GPU, and the "
                    "replicas meet in the gradient reductions; the breakdown's stragglers part is the step less the "
                    "step with every GPU at the profile's speed.</li><li>Failures are not part of a step.</li>"
                  : "<li>Stragglers and failures are not modelled in this study.</li>";
  if (energy_of) {
    const Point& e = *energy_of;
    h += "<li>Energy: each GPU draws the calibration profile's power (" +
         html_escape(e.power_model.empty() ? "unstated" : e.power_model) +
         " power model) at each kernel's compute and memory utilization, and idle power during launch gaps, "
         "pipeline bubbles and waits; communication that overlaps compute is not charged on top. Facility energy = "
         "(GPU energy + " +
         fmt(std::isfinite(e.other_W_per_gpu) ? e.other_W_per_gpu : 0, "%g") +
         " W per GPU of other IT power) &times; PUE " + fmt(std::isfinite(e.pue) ? e.pue : 1, "%g") + ".</li>";
  } else if (priced) {
    h += "<li>Energy: the calibration profile has no power model, so no energy figures.</li>";
  }
  if (priced) {
    const Point& c = *cost_of;
    h += "<li>Prices: " +
         (std::isfinite(c.usd_per_gpu_hour) ? "$" + fmt(c.usd_per_gpu_hour, "%g") + " per GPU-hour"
                                            : std::string("no GPU-hour price")) +
         ", " +
         (std::isfinite(c.usd_per_kWh) ? "$" + fmt(c.usd_per_kWh, "%g") + " per kWh of facility energy"
                                       : std::string("no electricity price")) +
         ".</li>";
  } else if (energy_of) {
    h += "<li>No prices given (the scenario's <code>cost</code>): no dollar figures.</li>";
  }
  h += "</ul>\n";

  h += "<h2>Provenance</h2>\n";
  if (sweep.contains("provenance") && sweep["provenance"].is_object()) h += kv_table(sweep["provenance"]);
  else if (!points.empty() && pts.raw(0).contains("result") && pts.raw(0)["result"].contains("provenance"))
    h += kv_table(pts.raw(0)["result"]["provenance"]);
  else
    h += "<p>The sweep file carries no provenance block.</p>";
  if (energy_of)
    h += "<p>Power model of the calibration profile: <code>" +
         html_escape(energy_of->power_model.empty() ? "unstated" : energy_of->power_model) + "</code>.</p>";

  h += "<h2>Reproducibility</h2>\n";
  Json repro = Json::object();
  repro["report_made_by"] = std::string("knee ") + knee_version() + " (" + knee_git_revision() + ")";
  repro["report_command"] = ctx.command_line;
  repro["sweep_file"] = src;
  for (const char* k : {"version", "git_revision", "command_line", "seed"})
    if (sweep.contains(k)) repro[std::string("sweep_") + k] = sweep[k];
  h += kv_table(repro);
  h += "</body></html>\n";
  return h;
}

}  // namespace knee
