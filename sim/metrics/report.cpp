#include "sim/metrics/report.hpp"

#include <cmath>
#include <cstdio>

#include "sim/common/json_reader.hpp"
#include "sim/common/parse.hpp"
#include "sim/metrics/svg_chart.hpp"

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
  bars.values.assign(4, {});
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
  }
  speed.series = {s_speed, s_ideal};
  eff.series = {s_eff, s_thr};
  c2c.series = {s_c2c};
  if (knee >= 0) {
    speed.mark_x = eff.mark_x = c2c.mark_x = points[knee].gpus;
    speed.mark_label = eff.mark_label = c2c.mark_label = "knee";
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

  h += "<h2>Scaling table</h2><table><tr><th>GPUs</th><th>layout</th><th>global batch</th><th>step (s)</th><th>tokens/s</th>"
       "<th>speedup</th><th>efficiency</th><th>MFU</th><th>comm/compute</th><th>note</th></tr>\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    std::string cls = !p.feasible ? " class=\"bad\"" : (static_cast<int>(i) == knee ? " class=\"knee\"" : "");
    std::string note = !p.feasible ? "infeasible: " + p.reason
                       : static_cast<int>(i) == knee ? "knee" : (p.gpus == baseline ? "baseline" : "");
    h += "<tr" + cls + "><td>" + fmt(p.gpus, "%.0f") + "</td><td>" + html_escape(p.layout) + "</td><td>" +
         fmt(p.global_batch, "%.0f") + "</td><td>" + fmt(p.step_time_s, "%.4g") + "</td><td>" + fmt(p.tokens_per_s, "%.4g") +
         "</td><td>" + fmt(p.speedup, "%.3g") + "</td><td>" + fmt(p.efficiency, "%.3f") + "</td><td>" + fmt(p.mfu, "%.3f") +
         "</td><td>" + fmt(p.c2c, "%.3g") + "</td><td style=\"text-align:left\">" + html_escape(note) + "</td></tr>\n";
  }
  h += "</table>\n";
  h += "<h2>Plots</h2>\n<figure>" + speed.svg() + "</figure>\n<figure>" + eff.svg() + "</figure>\n<figure>" + bars.svg() +
       "</figure>\n<figure>" + c2c.svg() + "</figure>\n";

  h += "<h2>Scenario and assumptions</h2>\n";
  if (sweep.contains("scenario") && sweep["scenario"].is_object()) h += kv_table(sweep["scenario"]);
  h += "<ul><li>Compute kernels are timed from the calibration profile (GEMMs by shape, attention, memory-bound ops, "
       "launch overheads); communication runs as flows on the simulated fabric (max-min fair sharing), so contention "
       "emerges rather than being assumed.</li><li>The flow-level network leaves out packet-level effects "
       "(congestion control, PFC pauses, adaptive routing).</li><li>Stragglers and failures are not modelled in this "
       "study.</li></ul>\n";

  h += "<h2>Provenance</h2>\n";
  if (sweep.contains("provenance") && sweep["provenance"].is_object()) h += kv_table(sweep["provenance"]);
  else if (!points.empty() && pts.raw(0).contains("result") && pts.raw(0)["result"].contains("provenance"))
    h += kv_table(pts.raw(0)["result"]["provenance"]);
  else
    h += "<p>The sweep file carries no provenance block.</p>";

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
