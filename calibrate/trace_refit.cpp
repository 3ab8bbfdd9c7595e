// knee fit --kineto: a trace's measured calls written into a base profile (calibrate/trace_refit.hpp).
#include "calibrate/trace_refit.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "calibrate/fitter.hpp"
#include "calibrate/profile_json.hpp"
#include "calibrate/stats.hpp"
#include "common/error.hpp"
#include "common/weighted_quantile.hpp"
#include "profile/profile.hpp"

namespace knee {

namespace {

// The calls of one distinct shape.
struct ShapeGroup {
  KernelShape shape;
  std::string op;
  std::vector<double> times_s;
};

// The calls one table times: their level against the base (r) and their shapes.
struct TableCalls {
  double measured_s = 0, predicted_s = 0;
  std::vector<std::pair<double, double>> ratios;  // (measured / predicted, measured) per call
  std::vector<ShapeGroup> shapes;
  std::map<std::string, std::size_t> index;  // shape key -> shapes[i]
  double r() const { return predicted_s > 0 ? measured_s / predicted_s : 1; }
};

std::string table_key(const KernelShape& s) {
  switch (s.kind) {
    case KernelKind::gemm:
      return "gemm." + s.dtype;
    case KernelKind::batched_gemm:
      return "batched_gemm." + s.dtype;
    case KernelKind::memory:
      return "memory." + s.curve;
    case KernelKind::attention:
      return s.backward ? "attention.bwd" : "attention.fwd";
    case KernelKind::none:
      break;
  }
  return "";
}

// Attention's forward and backward calls of one shape meet in one sample: the key leaves out
// the direction.
std::string shape_key(const KernelShape& s) {
  switch (s.kind) {
    case KernelKind::gemm:
    case KernelKind::batched_gemm:
      return std::to_string(s.batch) + "x" + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
             std::to_string(s.k);
    case KernelKind::memory:
      return num(s.bytes);
    case KernelKind::attention:
      return std::to_string(s.batch) + "x" + std::to_string(s.heads) + "x" + std::to_string(s.seq) + "x" +
             std::to_string(s.head_dim) + (s.causal ? "c" : "");
    case KernelKind::none:
      break;
  }
  return "";
}

void scale_interval(OrderedJson& j, const char* key, double f) {
  if (j.contains(key)) j[key] = {j[key][0].get<double>() * f, j[key][1].get<double>() * f};
}

// A parameter {value, ci95, ...} with its value multiplied by f; run_to_run (a second run's value,
// not re-measured) is dropped.
void scale_param(OrderedJson& p, double f) {
  p["value"] = p["value"].get<double>() * f;
  scale_interval(p, "ci95", f);
  p.erase("run_to_run");
}

OrderedJson summary_fields(const Summary& s) {
  OrderedJson j = {{"median_s", s.median}, {"ci95_s", {s.ci_lo, s.ci_hi}}, {"reps", s.reps}, {"outliers", s.outliers}};
  if (s.ci_method != "order-statistic") j["ci_method"] = s.ci_method;
  return j;
}

std::string label_of(const ShapeGroup& g, const std::string& source) { return "kineto " + g.op + " (" + source + ")"; }

void add_note(OrderedJson& j, const std::string& more) {
  const std::string n = j.contains("note") ? j["note"].get<std::string>() : "";
  j["note"] = n + (n.empty() ? "" : "; ") + more;
}

std::string refit_words(const TableCalls& t, const std::string& source, std::size_t kept) {
  return "refitted from kineto trace " + source + ": " + std::to_string(t.ratios.size()) + " calls at " +
         std::to_string(t.shapes.size()) + " shapes measured; the base profile's " + std::to_string(kept) +
         " other samples scaled by r = " + num(t.r()) + " (measured / base-predicted over the calls)";
}

// $.compute.gemm.<dtype> or $.compute.batched_gemm.<dtype>: base samples scaled, trace shapes added.
void refit_gemm_table(OrderedJson& tab, const TableCalls& t, bool batched, const std::string& source) {
  const double r = t.r();
  OrderedJson samples = OrderedJson::array();
  std::size_t kept = 0;
  if (tab.contains("samples"))
    for (OrderedJson s : tab["samples"]) {
      KernelShape k;
      k.kind = batched ? KernelKind::batched_gemm : KernelKind::gemm;
      k.batch = batched ? s["batch"].get<std::int64_t>() : 1;
      k.m = s["m"].get<std::int64_t>(), k.n = s["n"].get<std::int64_t>(), k.k = s["k"].get<std::int64_t>();
      if (t.index.count(shape_key(k))) continue;  // the trace measured this shape itself
      s["median_s"] = s["median_s"].get<double>() * r;
      scale_interval(s, "ci95_s", r);
      s["tflops"] = s["tflops"].get<double>() / r;
      if (s.contains("other_run_median_s")) s["other_run_median_s"] = s["other_run_median_s"].get<double>() * r;
      samples.push_back(s);
      ++kept;
    }
  for (const auto& g : t.shapes) {
    const Summary s = summarize(g.times_s);
    OrderedJson e;
    if (batched) e["batch"] = g.shape.batch;
    e["m"] = g.shape.m, e["n"] = g.shape.n, e["k"] = g.shape.k;
    e["label"] = label_of(g, source);
    e.update(summary_fields(s));
    e["tflops"] =
        2.0 * double(g.shape.batch) * double(g.shape.m) * double(g.shape.n) * double(g.shape.k) / s.median / 1e12;
    samples.push_back(e);
  }
  tab["samples"] = samples;
  if (!tab.contains("provenance")) tab["provenance"] = "measured";
  add_note(tab, refit_words(t, source, kept));
}

// The largest TFLOP/s of a refitted table becomes the achieved peak: a faster trace must not be
// clamped by the base's roofline.
void refit_peak(OrderedJson& peak, const OrderedJson& tab) {
  double best = 0;
  for (const auto& s : tab["samples"]) best = std::max(best, s["tflops"].get<double>());
  OrderedJson& a = peak["achieved"];
  const double old = a["value"].get<double>();
  scale_param(a, best / old);
  a["note"] = "the fastest sample of the refitted GEMM table";
}

SizeCase size_case(double bytes, const Summary& s) {
  SizeCase c;
  c.bytes = bytes;
  c.r.summary = s;
  return c;
}

// $.memory.copy or $.memory.ops.<curve>: its samples scaled, the trace's added, the curve refitted.
void refit_curve(OrderedJson& curve, const TableCalls& t, double tiny_kernel_s, double gpu_kernel_s,
                 const std::string& source) {
  const double r = t.r();
  std::vector<SizeCase> cases;
  std::size_t kept = 0;
  if (curve.contains("samples"))
    for (const auto& s : curve["samples"]) {
      KernelShape k;
      k.kind = KernelKind::memory;
      k.bytes = s["bytes"].get<double>();
      if (t.index.count(shape_key(k))) continue;
      Summary m;
      m.median = s["median_s"].get<double>() * r;
      m.ci_lo = s["ci95_s"][0].get<double>() * r;
      m.ci_hi = s["ci95_s"][1].get<double>() * r;
      m.reps = s["reps"].get<int>();
      m.outliers = s["outliers"].get<int>();
      m.ci_method = s.contains("ci_method") ? s["ci_method"].get<std::string>() : "order-statistic";
      cases.push_back(size_case(k.bytes, m));
      ++kept;
    }
  for (const auto& g : t.shapes) cases.push_back(size_case(g.shape.bytes, summarize(g.times_s)));
  if (cases.size() < 2) {
    // Nothing to fit a curve to (a derived curve keeps no samples): the curve itself times r.
    for (const char* k : {"alpha_s", "beta_s_per_byte"})
      if (curve.contains(k)) scale_param(curve[k], r);
    if (curve.contains("bandwidth_Bps")) scale_param(curve["bandwidth_Bps"], 1 / r);
    if (curve.contains("segments"))
      for (auto& seg : curve["segments"])
        for (const char* k : {"alpha_s", "beta_s_per_byte"}) scale_param(seg[k], r);
    OrderedJson samples = OrderedJson::array();
    for (const auto& c : cases) {
      OrderedJson e = {{"bytes", c.bytes}};
      e.update(summary_fields(c.r.summary));
      samples.push_back(e);
    }
    curve["samples"] = samples;
    add_note(curve, refit_words(t, source, kept) + "; one size only, so the curve's alpha and beta are scaled by r");
    return;
  }
  // The note's first clause says what the bytes count; what followed it described the old fit.
  std::string what = curve.contains("note") ? curve["note"].get<std::string>() : "";
  what = what.substr(0, what.find("; "));
  curve = fit_size_curve(
      cases, nullptr, what + (what.empty() ? "" : "; ") + refit_words(t, source, kept) + "; run_to_run not recomputed",
      tiny_kernel_s, gpu_kernel_s);
}

double param_value(const OrderedJson& j, const char* a, const char* b) {
  if (j.contains(a) && j[a].contains(b) && j[a][b].contains("value")) return j[a][b]["value"].get<double>();
  return 0;
}

// $.attention: base samples scaled (forward by the forward calls' r, the backward part by the
// backward calls'), each traced shape a sample (a direction the trace lacks from the scaled base).
void refit_attention(OrderedJson& att, const TableCalls* fwd, const TableCalls* bwd, const Profile& base,
                     const std::string& source) {
  const double rf = fwd ? fwd->r() : 1, rb = bwd ? bwd->r() : 1;
  std::map<std::string, std::pair<const ShapeGroup*, const ShapeGroup*>> traced;  // shape -> (fwd, bwd)
  std::vector<std::string> order;
  for (const TableCalls* t : {fwd, bwd}) {
    if (!t) continue;
    for (const auto& g : t->shapes) {
      const std::string k = shape_key(g.shape);
      if (!traced.count(k)) order.push_back(k);
      (g.shape.backward ? traced[k].second : traced[k].first) = &g;
    }
  }
  OrderedJson samples = OrderedJson::array();
  std::size_t kept = 0;
  if (att.contains("samples"))
    for (OrderedJson s : att["samples"]) {
      KernelShape k;
      k.kind = KernelKind::attention;
      k.batch = s["batch"].get<int>(), k.heads = s["heads"].get<int>(), k.seq = s["seq"].get<int>();
      k.head_dim = s["head_dim"].get<int>(), k.causal = s["causal"].get<bool>();
      if (traced.count(shape_key(k))) continue;
      const double f = s["fwd"]["value"].get<double>(), fb = s["fwd_bwd"]["value"].get<double>();
      scale_param(s["fwd"], rf);
      scale_param(s["fwd_bwd"], (f * rf + (fb - f) * rb) / fb);
      samples.push_back(s);
      ++kept;
    }
  for (const auto& key : order) {
    const auto [gf, gb] = traced[key];
    const KernelShape& k = (gf ? gf : gb)->shape;
    const int b = static_cast<int>(k.batch);
    const double base_f = base.attention_time_s(b, k.heads, k.seq, k.head_dim, k.causal, false);
    const double base_b = base.attention_time_s(b, k.heads, k.seq, k.head_dim, k.causal, true) - base_f;
    const Summary sf = gf ? summarize(gf->times_s) : Summary{base_f * rf, base_f * rf, base_f * rf, 0, 0, ""};
    const Summary sb = gb ? summarize(gb->times_s) : Summary{base_b * rb, base_b * rb, base_b * rb, 0, 0, ""};
    OrderedJson pf = {{"value", sf.median}, {"provenance", gf ? "measured" : "fitted"}};
    if (gf) {
      pf["ci95"] = {sf.ci_lo, sf.ci_hi};
      pf["reps"] = sf.reps;
    } else {
      pf["note"] = "not in the trace: the base profile's forward scaled by r = " + num(rf);
    }
    OrderedJson pfb = {{"value", sf.median + sb.median},
                       {"provenance", gf && gb ? "measured" : "fitted"},
                       {"ci95", {sf.ci_lo + sb.ci_lo, sf.ci_hi + sb.ci_hi}}};
    pfb["note"] = std::string("forward plus backward: ") + (gf ? "measured" : "scaled base") + " forward, " +
                  (gb ? "measured" : "base backward scaled by r = " + num(rb)) +
                  " backward; interval the sum of theirs";
    samples.push_back({{"batch", k.batch},
                       {"heads", k.heads},
                       {"seq", k.seq},
                       {"head_dim", k.head_dim},
                       {"causal", k.causal},
                       {"fwd", pf},
                       {"fwd_bwd", pfb}});
  }
  att["samples"] = samples;
  att["provenance"] = "measured";
  add_note(att, "refitted from kineto trace " + source + ": " + std::to_string(order.size()) +
                    " shapes measured; the base profile's " + std::to_string(kept) +
                    " other samples scaled (forward by r = " + num(rf) + ", backward by r = " + num(rb) + ")");
}

}  // namespace

OrderedJson refit_profile_from_trace(const OrderedJson& base_json, const std::vector<MeasuredKernel>& calls,
                                     const TraceRefitOptions& opt) {
  const Profile base = Profile::from_json(base_json, "base profile");
  std::map<std::string, TableCalls> tables;
  std::vector<std::string> order;
  std::size_t zero_time = 0;
  for (const auto& c : calls) {
    const std::string tk = table_key(c.shape);
    if (tk.empty()) continue;
    if (!(c.measured_s > 0)) {  // a kernel whose recorded duration rounds to 0 says nothing about its rate
      ++zero_time;
      continue;
    }
    const double pred = predict_s(base, c.shape);
    if (!tables.count(tk)) order.push_back(tk);
    TableCalls& t = tables[tk];
    t.measured_s += c.measured_s;
    t.predicted_s += pred;
    t.ratios.push_back({c.measured_s / pred, c.measured_s});
    const std::string sk = shape_key(c.shape);
    auto it = t.index.find(sk);
    if (it == t.index.end()) {
      it = t.index.emplace(sk, t.shapes.size()).first;
      t.shapes.push_back({c.shape, c.op, {}});
    }
    t.shapes[it->second].times_s.push_back(c.measured_s);
  }
  if (tables.empty())
    throw InputError(opt.trace_source +
                     ": expected GEMM, memory-bound or fused-attention calls the profile can time (knee analyze "
                     "--trace shows how each op was classified), got none");

  OrderedJson p = base_json;
  const double tiny = param_value(p, "launch", "tiny_kernel_s");
  const double gpu_kernel = param_value(p, "launch", "graph_per_kernel_s");
  OrderedJson record = OrderedJson::object();
  for (const auto& key : order) {
    const TableCalls& t = tables.at(key);
    const std::string kind = key.substr(0, key.find('.')), name = key.substr(key.find('.') + 1);
    if (kind == "gemm") {
      refit_gemm_table(p["compute"]["gemm"][name], t, false, opt.trace_source);
      refit_peak(p["compute"]["peak_tflops"][name], p["compute"]["gemm"][name]);
    } else if (kind == "batched_gemm") {
      refit_gemm_table(p["compute"]["batched_gemm"][name], t, true, opt.trace_source);
    } else if (kind == "memory") {
      refit_curve(name == "copy" ? p["memory"]["copy"] : p["memory"]["ops"][name], t, tiny, gpu_kernel,
                  opt.trace_source);
    }
    record[key] = {{"calls", t.ratios.size()},
                   {"shapes", t.shapes.size()},
                   {"measured_s", t.measured_s},
                   {"base_predicted_s", t.predicted_s},
                   {"r", t.r()},
                   {"ratio_p10", weighted_quantile(t.ratios, 0.1, 0)},
                   {"ratio_p50", weighted_quantile(t.ratios, 0.5, 0)},
                   {"ratio_p90", weighted_quantile(t.ratios, 0.9, 0)}};
  }
  const TableCalls* af = tables.count("attention.fwd") ? &tables.at("attention.fwd") : nullptr;
  const TableCalls* ab = tables.count("attention.bwd") ? &tables.at("attention.bwd") : nullptr;
  if (af || ab) refit_attention(p["attention"], af, ab, base, opt.trace_source);

  const std::string base_name = base_json.value("name", std::string("profile"));
  p["name"] = opt.name.empty() ? base_name + "-kineto" : opt.name;
  p["description"] = "refitted by knee fit --kineto from " + opt.trace_source + " on base profile '" + base_name +
                     "' (" + base_json.value("description", std::string()) + ")";
  OrderedJson& m = p["manifest"];
  m["command_line"] = opt.command_line;
  m["git_revision"] = opt.git_revision;
  m["source_files"].push_back(opt.trace_source);
  OrderedJson rec = {{"trace", opt.trace_source},
                     {"base_profile", base_name},
                     {"method",
                      "per table: r = measured / base-predicted over its calls; base samples scaled by r; each "
                      "traced shape a sample (median of its calls); memory curves refitted"},
                     {"calls_skipped_zero_time", zero_time},
                     {"tables", record}};
  if (!m.contains("extra")) m["extra"] = OrderedJson::object();
  m["extra"]["kineto_refit"] = rec;
  stamp_parameters_digest(p);
  Profile::from_json(p, "refitted profile");  // what knee fit writes, Profile must accept
  return p;
}

}  // namespace knee
