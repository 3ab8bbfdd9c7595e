#include "metrics/report_study.hpp"

#include "common/error.hpp"
#include "metrics/format.hpp"

namespace knee::report_detail {
namespace {

std::string gpus_of(double gpus) { return format_count(gpus) + " GPUs"; }

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
    p.pue = o.non_negative_or_nan("pue");
    p.other_W_per_gpu = o.non_negative_or_nan("other_W_per_gpu");
    if (o.has("power_model")) p.power_model = o.string("power_model");
  }
  if (const Json* f = find(j, "failures"); f && !f->is_null()) {
    JsonObject o(*f, source, path_of(j, "failures", path));
    p.failures = true;
    p.goodput = o.non_negative_or_nan("goodput");
    p.system_mtbf_h = o.non_negative_or_nan("system_mtbf_h");
    p.checkpoint_write_s = o.non_negative_or_nan("checkpoint_write_s");
    p.checkpoint_interval_s = o.non_negative_or_nan("checkpoint_interval_s");
    p.interval = string_of(o, "interval");
  }
  if (const Json* s = find(j, "stragglers"); s && !s->is_null()) {
    JsonObject o(*s, source, path_of(j, "stragglers", path));
    p.stragglers = true;
    p.gpu_cv = o.non_negative_or_nan("gpu_cv");
    p.op_cv = o.non_negative_or_nan("op_cv");
    p.gpu_cv_from = string_of(o, "gpu_cv_from");
    p.op_cv_from = string_of(o, "op_cv_from");
  }
  if (const Json* c = find(j, "cost"); c && !c->is_null()) {
    JsonObject o(*c, source, path_of(j, "cost", path));
    p.cost = true;
    p.usd_per_gpu_hour = o.non_negative_or_nan("usd_per_gpu_hour");
    p.usd_per_kWh = o.non_negative_or_nan("usd_per_kWh");
    p.usd_per_million_tokens = o.non_negative_or_nan("usd_per_million_tokens");
    if (o.has("run") && !o.raw("run").is_null()) {
      JsonObject r = o.object("run");
      p.run = true;
      p.train_tokens = r.non_negative_or_nan("train_tokens");
      p.run_days = r.non_negative_or_nan("days");
      p.run_usd = r.non_negative_or_nan("usd");
      p.run_MWh = r.non_negative_or_nan("facility_MWh");
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

}  // namespace

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
}  // namespace knee::report_detail
