// A profile document read strictly once (docs/calibration.md, "Profile format"): every key
// checked, unknown keys refused, each parameter with its provenance.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>

#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"
#include "profile/profile_impl.hpp"

namespace knee {

namespace {

const std::vector<std::string> kProvenances = {"measured", "fitted", "derived", "datasheet", "assumed"};
const std::vector<std::string> kDtypes = {"bf16", "fp16", "fp8", "tf32", "fp32", "fp64"};

enum class Sign { any, non_negative, positive };

void check_sign(JsonObject& o, const std::string& key, double v, Sign s) {
  if (s == Sign::positive && !(v > 0)) o.fail(key, "a finite number > 0");
  if (s == Sign::non_negative && !(v >= 0)) o.fail(key, "a finite number >= 0");
}

void read_interval(JsonObject& o, const std::string& key, Sign s) {
  JsonArray a = o.array(key);
  if (a.size() != 2) a.fail_here("[lo, hi], two numbers");
  const double lo = a.number(0), hi = a.number(1);
  if (lo > hi) a.fail(0, "lo <= hi");
  if (s == Sign::positive && !(lo > 0)) a.fail(0, "a finite number > 0");
}

// {"value", "provenance", "ci95"?, "run_to_run"?, "reps"?, "outliers"?, "ci_method"?, "note"?}
double read_param(JsonObject& parent, const std::string& key, Sign s, std::string* prov = nullptr) {
  JsonObject o = parent.object(key);
  const double v = o.number("value");
  check_sign(o, "value", v, s);
  std::string p = o.one_of("provenance", kProvenances);
  if (prov) *prov = p;
  if (o.has("ci95")) read_interval(o, "ci95", Sign::any);
  if (o.has("run_to_run")) {
    JsonObject r = o.object("run_to_run");
    r.number("other_value");
    r.non_negative("rel_diff");
    r.finish();
  }
  o.integer_or("reps", 0, 0);
  o.integer_or("outliers", 0, 0);
  o.string_or("ci_method", "");
  o.string_or("note", "");
  o.finish();
  return v;
}

}  // namespace

namespace {
const char* const kGemmRoles[] = {"none", "fwd", "bwd_data", "bwd_weight"};
}  // namespace

const char* to_string(GemmRole r) { return kGemmRoles[static_cast<int>(r)]; }

GemmRole parse_gemm_role(const std::string& text, const std::string& what) {
  for (int i = 0; i < 4; ++i)
    if (text == kGemmRoles[i]) return static_cast<GemmRole>(i);
  throw InputError(what + ": expected one of none, fwd, bwd_data, bwd_weight, got '" + text + "'");
}

namespace {

// The role a GEMM sample's label gives it: LAYER.ROLE as its first word ("fc2.bwd_weight
// hidden=12288 tokens=8192", "qkv.fwd h=4096 t=8192": what knee calibrate and the PyTorch data
// write), ROLE one of fwd, bwd_data, bwd_weight; a first word without a dot ("square", "noise") is
// role-less. A dotted first word naming no role is an error: a misspelt role would otherwise
// silently time the sample as role-less.
GemmRole role_of_label(const JsonObject& s, const std::string& label) {
  const std::string word = label.substr(0, label.find(' '));
  const auto dot = word.rfind('.');
  if (dot == std::string::npos) return GemmRole::none;
  const std::string role = word.substr(dot + 1);
  for (int i = 1; i < 4; ++i)
    if (role == kGemmRoles[i]) return static_cast<GemmRole>(i);
  s.fail("label", "a first word LAYER.ROLE with ROLE one of fwd, bwd_data, bwd_weight, or one without a dot");
}

Profile::Impl::Curve read_curve(JsonObject o) {
  Profile::Impl::Curve c;
  c.provenance = o.one_of("provenance", kProvenances);
  o.string_or("note", "");
  c.alpha = read_param(o, "alpha_s", Sign::non_negative);
  c.beta = read_param(o, "beta_s_per_byte", Sign::positive);
  if (o.has("bandwidth_Bps")) read_param(o, "bandwidth_Bps", Sign::positive);
  if (o.has("segments")) {
    JsonArray a = o.array("segments");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject s = a.object(i);
      Profile::Impl::Segment seg;
      seg.from = s.positive("from_bytes");
      seg.to = s.positive("to_bytes");
      if (seg.to < seg.from) s.fail("to_bytes", "a size >= from_bytes");
      if (!c.segs.empty() && seg.from < c.segs.back().to)
        s.fail("from_bytes", "a size >= the previous segment's to_bytes");
      s.integer_or("points", 0, 0);
      seg.alpha = read_param(s, "alpha_s", Sign::any);
      seg.beta = read_param(s, "beta_s_per_byte", Sign::any);
      s.finish();
      c.segs.push_back(seg);
    }
  }
  if (o.has("samples")) {
    JsonArray a = o.array("samples");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject s = a.object(i);
      s.positive("bytes");
      s.positive("median_s");
      read_interval(s, "ci95_s", Sign::positive);
      s.integer("reps", 0);
      s.integer("outliers", 0);
      s.string_or("ci_method", "");
      s.finish();
    }
  }
  o.finish();
  return c;
}

void read_manifest(JsonObject m, Profile::Impl& p) {
  m.string("gpu_name");
  m.integer("gpu_count", 0);
  for (const char* k :
       {"driver", "cuda", "nccl", "cublas", "host", "date", "command_line", "git_revision", "measurement"})
    m.string(k);
  m.object("clocks");  // free-form: whatever clocks the backend could read
  m.non_negative("power_limit_W");
  JsonArray src = m.array("source_files");
  for (std::size_t i = 0; i < src.size(); ++i) src.string(i);
  if (m.has("parameters_digest")) {
    const std::string d = m.string("parameters_digest");
    const bool ok = d.size() == 24 && d.rfind("fnv1a64:", 0) == 0 && std::all_of(d.begin() + 8, d.end(), [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c));
                    });
    if (!ok) m.fail("parameters_digest", "\"fnv1a64:\" and 16 hex digits (what knee fit writes)");
  }
  if (m.has("extra")) {  // free-form, but for the keys the simulator reads
    JsonObject e = m.object("extra");
    if (e.has("sm_count")) p.manifest_sm_count = static_cast<int>(e.integer("sm_count", 1, 1 << 20));
  }
  m.finish();
}

// $.interference: what knee fit writes from the CUDA backend's interference section (or derives).
void read_interference(JsonObject o, Profile::Impl& p) {
  CommInterference& c = p.interference;
  std::string pa, pb;
  c.held_sm_cost = read_param(o, "held_sm_cost", Sign::non_negative, &pa);
  c.hbm_share_cost = read_param(o, "hbm_share_cost", Sign::non_negative, &pb);
  c.sm_count = static_cast<int>(o.integer("sm_count", 2, 1 << 20));
  const auto rank = [](const std::string& v) { return std::find(kProvenances.begin(), kProvenances.end(), v); };
  c.provenance = rank(pa) >= rank(pb) ? pa : pb;  // the less certain of the two
  o.string_or("note", "");
  if (o.has("samples")) {  // per case, as knee fit writes them; read so that typos still fail
    JsonArray a = o.array("samples");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject s = a.object(i);
      const std::int64_t k = s.integer("side_ctas", 1, c.sm_count - 1);
      s.integer("distinct_sms", 1, k);
      for (const char* key : {"gemm_alone_s", "gemm_beside_s", "copy_alone_s", "copy_beside_s", "side_alone_Bps",
                              "side_beside_gemm_Bps", "side_beside_copy_Bps"})
        s.positive(key);
      s.number("held_sm_cost");
      s.number("hbm_share_cost");
      s.finish();
    }
  }
  o.finish();
  c.note = "$.interference (" + c.provenance + "): held_sm_cost " + std::to_string(c.held_sm_cost) +
           ", hbm_share_cost " + std::to_string(c.hbm_share_cost) + ", sm_count " + std::to_string(c.sm_count);
  p.has_interference = true;
}

void check_dtype_keys(const JsonObject& o, const Json& raw) {
  for (auto it = raw.begin(); it != raw.end(); ++it)
    if (std::find(kDtypes.begin(), kDtypes.end(), it.key()) == kDtypes.end())
      throw_input_error(o.source(), o.path_of(it.key()), "a dtype (" + profile_detail::key_list(kDtypes) + ")",
                        "\"" + it.key() + "\"");
}

void read_compute(JsonObject c, Profile::Impl& p) {
  c.one_of("interpolation", {"idw-log-mnk"});
  const Json& praw = c.raw("peak_tflops");
  JsonObject peaks = c.object("peak_tflops");
  check_dtype_keys(peaks, praw);
  std::map<std::string, double> achieved;
  for (auto it = praw.begin(); it != praw.end(); ++it) {
    JsonObject e = peaks.object(it.key());
    achieved[it.key()] = read_param(e, "achieved", Sign::positive);
    if (e.has("datasheet")) read_param(e, "datasheet", Sign::positive);
    e.finish();
  }
  peaks.finish();
  const Json& graw = c.raw("gemm");
  JsonObject gemm = c.object("gemm");
  check_dtype_keys(gemm, graw);
  for (auto it = graw.begin(); it != graw.end(); ++it) {
    JsonObject t = gemm.object(it.key());
    if (!achieved.count(it.key())) t.fail_here("a matching entry in $.compute.peak_tflops");
    Profile::Impl::GemmTable tab;
    tab.peak_tflops = achieved[it.key()];
    t.one_of("provenance", kProvenances);
    t.string_or("note", "");
    tab.floor_s = read_param(t, "floor_s", Sign::positive);
    JsonArray a = t.array("samples");
    if (a.empty()) a.fail_here("at least one GEMM sample");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject s = a.object(i);
      const double m = static_cast<double>(s.integer("m", 1)), n = static_cast<double>(s.integer("n", 1)),
                   k = static_cast<double>(s.integer("k", 1));
      const GemmRole role = role_of_label(s, s.string("label"));
      const double med = s.positive("median_s");
      read_interval(s, "ci95_s", Sign::positive);
      s.integer("reps", 0);
      s.integer("outliers", 0);
      s.positive("tflops");
      s.string_or("ci_method", "");
      s.positive_or("other_run_median_s", 1);
      s.finish();
      tab.samples.push_back(
          {{0.0, std::log(m), std::log(n), std::log(k)}, med, std::log(2 * m * n * k / med / 1e12), role});
      tab.has_role[static_cast<int>(role)] = true;
    }
    t.finish();
    // Each labelled sample against every sample at its shape (what gemm_time_s without a role
    // returns there: the geometric mean of their medians).
    for (auto& smp : tab.samples) {
      if (smp.role == GemmRole::none) continue;
      double lsum = 0;
      int cnt = 0;
      for (const auto& o : tab.samples) {
        double d2 = 0;
        for (std::size_t i = 0; i < 4; ++i) d2 += (o.x[i] - smp.x[i]) * (o.x[i] - smp.x[i]);
        if (d2 < 1e-12) {
          lsum += std::log(o.median_s);
          ++cnt;
        }
      }
      smp.log_role_ratio = std::log(smp.median_s) - lsum / cnt;
    }
    p.gemm[it.key()] = std::move(tab);
  }
  gemm.finish();
  if (c.has("batched_gemm")) {  // interpolated by batched_gemm_time_s, never mixed with single GEMMs
    const Json& braw = c.raw("batched_gemm");
    JsonObject bg = c.object("batched_gemm");
    check_dtype_keys(bg, braw);
    for (auto it = braw.begin(); it != braw.end(); ++it) {
      JsonObject t = bg.object(it.key());
      t.one_of("provenance", kProvenances);
      t.string_or("note", "");
      JsonArray a = t.array("samples");
      Profile::Impl::GemmTable tab;
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject s = a.object(i);
        double d[4];
        int j = 0;
        for (const char* k : {"batch", "m", "n", "k"}) d[j++] = static_cast<double>(s.integer(k, 1));
        s.string("label");
        const double med = s.positive("median_s");
        tab.samples.push_back({{std::log(d[0]), std::log(d[1]), std::log(d[2]), std::log(d[3])},
                               med,
                               std::log(2 * d[0] * d[1] * d[2] * d[3] / med / 1e12)});
        read_interval(s, "ci95_s", Sign::positive);
        s.integer("reps", 0);
        s.integer("outliers", 0);
        s.positive("tflops");
        s.positive_or("other_run_median_s", 1);
        s.finish();
      }
      t.finish();
      // The launch floor is the dtype's single-GEMM floor, lowered to the shortest batched median
      // (a floor is a lower bound on every call); the peak is the achieved one, raised to the
      // fastest batched sample (the roofline must not exclude a measurement).
      double floor_s = INFINITY, peak = 0;
      if (auto g = p.gemm.find(it.key()); g != p.gemm.end()) floor_s = g->second.floor_s;
      if (auto pk = achieved.find(it.key()); pk != achieved.end()) peak = pk->second;
      for (const auto& smp : tab.samples) {
        floor_s = std::min(floor_s, smp.median_s);
        peak = std::max(peak, std::exp(smp.log_tflops));
      }
      tab.floor_s = floor_s;
      tab.peak_tflops = peak;
      if (!tab.samples.empty()) p.batched[it.key()] = std::move(tab);
    }
    bg.finish();
  }
  c.finish();
}

void read_memory(JsonObject m, Profile::Impl& p) {
  if (m.has("capacity_bytes")) p.capacity = read_param(m, "capacity_bytes", Sign::positive);
  if (m.has("l2_bytes")) read_param(m, "l2_bytes", Sign::positive);
  if (m.has("datasheet_bandwidth_Bps")) read_param(m, "datasheet_bandwidth_Bps", Sign::positive);
  p.copy = read_curve(m.object("copy"));
  const Json& raw = m.raw("ops");
  JsonObject ops = m.object("ops");
  for (auto it = raw.begin(); it != raw.end(); ++it) p.ops[it.key()] = read_curve(ops.object(it.key()));
  ops.finish();
  m.finish();
}

void read_attention(JsonObject a, Profile::Impl& p) {
  a.one_of("provenance", kProvenances);
  a.string_or("note", "");
  JsonArray s = a.array("samples");
  for (std::size_t i = 0; i < s.size(); ++i) {
    JsonObject e = s.object(i);
    const double b = static_cast<double>(e.integer("batch", 1)), h = static_cast<double>(e.integer("heads", 1)),
                 q = static_cast<double>(e.integer("seq", 1)), d = static_cast<double>(e.integer("head_dim", 1));
    const bool causal = e.boolean("causal");
    const double f = 4 * b * h * q * q * d * (causal ? 0.5 : 1.0);
    const double tf = read_param(e, "fwd", Sign::positive), tb = read_param(e, "fwd_bwd", Sign::positive);
    e.finish();
    p.attention.push_back({std::log(f), std::log(f / tf / 1e12), std::log(3.5 * f / tb / 1e12)});
  }
  std::sort(p.attention.begin(), p.attention.end(), [](auto& x, auto& y) { return x.log_x < y.log_x; });
  if (a.has("unfused_samples")) {  // the unfused reference path: attention_unfused_time_s
    JsonArray u = a.array("unfused_samples");
    for (std::size_t i = 0; i < u.size(); ++i) {
      JsonObject e = u.object(i);
      double d[4];
      int j = 0;
      for (const char* k : {"batch", "heads", "seq", "head_dim"}) d[j++] = static_cast<double>(e.integer(k, 1));
      e.boolean("causal");  // recorded; the GEMMs compute the whole score matrix either way
      const double scores = d[0] * d[1] * d[2] * d[2];
      const double tf = read_param(e, "fwd", Sign::positive);
      e.finish();
      p.attention_unfused.push_back({std::log(scores), std::log(scores / tf), 0.0});
    }
    std::stable_sort(p.attention_unfused.begin(), p.attention_unfused.end(),
                     [](auto& x, auto& y) { return x.log_x < y.log_x; });
  }
  a.string_or("unfused_note", "");
  a.finish();
}

void read_power(JsonObject w, Profile::Impl& p) {
  w.string_or("note", "");
  if (w.has("idle_W") || w.has("compute_W") || w.has("memory_W") || w.has("tdp_W")) {
    p.has_power = true;
    p.idle_W = read_param(w, "idle_W", Sign::positive);
    p.compute_W = read_param(w, "compute_W", Sign::positive);
    p.memory_W = read_param(w, "memory_W", Sign::positive);
    p.tdp_W = read_param(w, "tdp_W", Sign::positive);
  }
  if (w.has("calibration_rates")) {
    JsonObject r = w.object("calibration_rates");
    p.calib_flops_per_s = r.non_negative("compute_tflops") * 1e12;
    p.calib_memory_Bps = r.non_negative("memory_Bps");
    r.finish();
  }
  w.non_negative_or("settle_s", 0);
  w.integer_or("samples_excluded", 0, 0);
  w.finish();
}

Profile::Impl parse(const nlohmann::ordered_json& doc, const std::string& source) {
  Profile::Impl p;
  p.source = source;
  const Json j(doc);  // JsonObject reads knee::Json; the ordered document converts losslessly
  JsonObject root = JsonObject::root(j, source);
  root.integer("schema_version", 1, 1);
  p.name = root.string("name");
  p.gpu = root.string("gpu");
  root.string_or("description", "");
  if (root.has("derivation")) {  // a derived profile: what it was derived from, by which datasheets
    JsonObject d = root.object("derivation");
    for (const char* k : {"method", "base_profile", "base_gpu", "base_state", "base_datasheet", "datasheet_gpu"})
      d.string(k);
    p.derivation_datasheet = d.string("datasheet");
    d.string_or("dtypes_not_derived", "");
    d.finish();
  }
  read_manifest(root.object("manifest"), p);
  read_compute(root.object("compute"), p);
  read_memory(root.object("memory"), p);
  if (root.has("attention")) read_attention(root.object("attention"), p);
  JsonObject l = root.object("launch");
  p.launch_s = read_param(l, "host_launch_s", Sign::positive);
  if (l.has("tiny_kernel_s")) read_param(l, "tiny_kernel_s", Sign::positive);
  if (l.has("graph_per_kernel_s")) read_param(l, "graph_per_kernel_s", Sign::positive);
  l.finish();
  const Json& lraw = root.raw("links");
  JsonObject links = root.object("links");
  for (auto it = lraw.begin(); it != lraw.end(); ++it) p.links[it.key()] = read_curve(links.object(it.key()));
  links.finish();
  read_power(root.object("power"), p);
  if (root.has("variability")) {  // optional: straggler parameters (op_cv, gpu_cv), each in [0, 1)
    JsonObject v = root.object("variability");
    for (const char* k : {"op_cv", "gpu_cv"})
      if (v.has(k)) {
        const double x = read_param(v, k, Sign::any);
        if (!(x >= 0 && x < 1)) v.fail(k, "a coefficient of variation in [0, 1)");
        p.variability[k] = x;
      }
    v.finish();
  }
  if (root.has("interference")) read_interference(root.object("interference"), p);
  root.finish();
  p.doc = doc;
  p.description = doc.value("description", std::string());
  p.state = parameters_state_of(doc);
  return p;
}

}  // namespace

namespace profile_detail {

Profile::Impl parse_profile(const nlohmann::ordered_json& doc, const std::string& source) { return parse(doc, source); }

std::string key_list(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s.empty() ? "none" : s;
}

}  // namespace profile_detail
}  // namespace knee
