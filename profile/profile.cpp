#include "profile/profile.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"
#include "profile/embedded_profiles.hpp"

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

std::string key_list(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s.empty() ? "none" : s;
}

}  // namespace

struct Profile::Impl {
  struct Segment {
    double from, to, alpha, beta;
  };
  struct Curve {
    double alpha = 0, beta = 0;
    std::string provenance;
    std::vector<Segment> segs;
    // Each segment's line inside its own size range; between two segments, log-log interpolation
    // from the end of one line to the start of the next (continuous); beyond the ends, the end
    // segments' lines.
    double time(double x) const {
      double t = alpha + beta * x;
      if (!segs.empty()) {
        auto at = [](const Segment& s, double b) { return s.alpha + s.beta * b; };
        std::size_t i = 0;
        while (i + 1 < segs.size() && x > segs[i].to) ++i;
        t = at(segs[i], x);
        if (i > 0 && x < segs[i].from) {  // in the gap after segment i-1
          const Segment &a = segs[i - 1], &b = segs[i];
          const double ta = std::max(at(a, a.to), 1e-12), tb = std::max(at(b, b.from), 1e-12);
          const double u = std::log(x / a.to) / std::log(b.from / a.to);
          t = std::exp(std::log(ta) + u * (std::log(tb) - std::log(ta)));
        }
      }
      return std::max(t, alpha);  // never under the small-size latency
    }
  };
  // x = (log batch, log m, log n, log k); single GEMMs have batch 1 (log 0), so one interpolation
  // serves both tables.
  struct GemmSample {
    std::array<double, 4> x;
    double median_s, log_tflops;
    GemmRole role = GemmRole::none;  // from the label's first word LAYER.ROLE; batched: none
    // log(median_s) less the mean log median of every sample at this shape (all roles): how this
    // role's kernel differs from the shape's estimate without roles; 0 for role-less samples.
    double log_role_ratio = 0;
  };
  struct GemmTable {
    double floor_s = 0, peak_tflops = 0;
    std::vector<GemmSample> samples;
    bool has_role[4] = {false, false, false, false};  // indexed by GemmRole
  };
  // Fused: x = FLOPs of the forward pass, rates in TFLOP/s (forward; forward + backward).
  // Unfused: x = score elements b h s^2, rate in scores per second (forward; fb unused).
  struct AttSample {
    double log_x, log_rate_fwd, log_rate_fb;
  };

  nlohmann::ordered_json doc;
  std::string description;
  std::string name, gpu, source;
  std::string state = "no digest";  // parameters_state()
  std::string derivation_datasheet;
  std::map<std::string, GemmTable> gemm, batched;  // batched: floor and peak filled after parsing
  Curve copy;
  std::map<std::string, Curve> ops, links;
  std::vector<AttSample> attention, attention_unfused;
  double launch_s = 0, capacity = 0;
  bool has_power = false;
  double idle_W = 0, compute_W = 0, memory_W = 0, tdp_W = 0;
  double calib_flops_per_s = 0, calib_memory_Bps = 0;  // 0: not measured
  std::map<std::string, double> variability;           // op_cv, gpu_cv when present
  bool has_interference = false;                       // $.interference present
  CommInterference interference;                       // its values when present
  int manifest_sm_count = 0;                           // $.manifest.extra.sm_count; 0: absent
  Profile::PowerReference power_ref{0, 0};             // filled once the profile is built

  [[noreturn]] void fail(const std::string& path, const std::string& expected, const std::string& got) const {
    throw_input_error(source, path, expected, got);
  }
};

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
      throw_input_error(o.source(), o.path_of(it.key()), "a dtype (" + key_list(kDtypes) + ")", "\"" + it.key() + "\"");
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

std::string parameters_digest(const nlohmann::ordered_json& profile) {
  Json j(profile);  // std::map keys: sorted, so the key order of the file does not matter
  if (j.is_object()) {
    j.erase("name");
    j.erase("description");
    if (j.contains("manifest") && j["manifest"].is_object())  // how it was invoked is not a parameter
      for (const char* k : {"parameters_digest", "command_line", "git_revision"}) j["manifest"].erase(k);
  }
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : j.dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return buf;
}

void stamp_parameters_digest(nlohmann::ordered_json& profile) {
  // Of the document as it reads back from its text (numbers round-trip exactly through dump).
  profile["manifest"]["parameters_digest"] = parameters_digest(nlohmann::ordered_json::parse(profile.dump()));
}

std::string parameters_state_of(const nlohmann::ordered_json& profile) {
  if (!profile.contains("manifest") || !profile["manifest"].is_object() ||
      !profile["manifest"].contains("parameters_digest") || !profile["manifest"]["parameters_digest"].is_string())
    return "no digest";
  return profile["manifest"]["parameters_digest"].get<std::string>() == parameters_digest(profile) ? "unedited"
                                                                                                   : "edited";
}

double elt_bytes(const std::string& dtype) {
  if (dtype == "fp8") return 1;
  if (dtype == "bf16" || dtype == "fp16") return 2;
  if (dtype == "fp64") return 8;
  return 4;
}

namespace {

using GemmNear = std::vector<std::pair<double, const Profile::Impl::GemmSample*>>;

// The samples `keep` accepts by squared distance from x, the 8 nearest first (ties by address,
// for a deterministic order).
template <class Keep>
GemmNear nearest_gemm_samples(const Profile::Impl::GemmTable& tab, const std::array<double, 4>& x, Keep keep) {
  GemmNear near;
  near.reserve(tab.samples.size());
  for (const auto& s : tab.samples) {
    if (!keep(s)) continue;
    double d2 = 0;
    for (std::size_t i = 0; i < 4; ++i) d2 += (x[i] - s.x[i]) * (x[i] - s.x[i]);
    near.push_back({d2, &s});
  }
  const std::size_t kn = std::min<std::size_t>(8, near.size());
  std::partial_sort(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(kn), near.end(),
                    [](auto& a, auto& b) { return a.first < b.first || (a.first == b.first && a.second < b.second); });
  return near;
}

// The geometric mean of the samples at x itself (distance < 1e-6 in log space); `near` sorted as
// nearest_gemm_samples gives it, its first one at x.
double median_at_sample(const GemmNear& near) {
  double lsum = 0;
  int cnt = 0;
  for (std::size_t i = 0; i < near.size() && near[i].first < 1e-12; ++i, ++cnt)
    lsum += std::log(near[i].second->median_s);
  return std::exp(lsum / cnt);
}

// Monotone envelope over the samples `keep` accepts: more work in every dimension is never
// faster. `t` no shorter than any sample it contains, no longer than any sample containing it
// (the upper bound wins when noisy launch-bound samples contradict each other); then never under
// `roof` or the table's floor.
template <class Keep>
double within_envelope(const Profile::Impl::GemmTable& tab, const std::array<double, 4>& x, double t, double roof,
                       Keep keep) {
  double lower = 0, upper = INFINITY;
  for (const auto& s : tab.samples) {
    if (!keep(s)) continue;
    bool inside = true, contains = true;
    for (std::size_t i = 0; i < 4; ++i) {
      inside = inside && s.x[i] <= x[i];
      contains = contains && s.x[i] >= x[i];
    }
    if (inside) lower = std::max(lower, s.median_s);
    if (contains) upper = std::min(upper, s.median_s);
  }
  t = std::min(std::max(t, lower), upper);
  return std::max({t, roof, tab.floor_s});
}

// GEMM time at x = (log batch, log m, log n, log k) doing `flops`, from a table: inverse squared
// distance over the 8 nearest samples of log TFLOP/s, inside the samples' monotone envelope, never
// under `roof` or the table's floor; exact hits return their (geometric mean) median; farther than
// 4x from every sample, roofline + floor.
double interpolate_gemm(const Profile::Impl::GemmTable& tab, const std::array<double, 4>& x, double flops,
                        double roof) {
  auto all = [](const Profile::Impl::GemmSample&) { return true; };
  const GemmNear near = nearest_gemm_samples(tab, x, all);
  if (near[0].first < 1e-12) return median_at_sample(near);
  if (std::sqrt(near[0].first) > std::log(4.0)) return roof + tab.floor_s;  // outside the table
  const std::size_t kn = std::min<std::size_t>(8, near.size());
  double wsum = 0, lsum = 0;
  for (std::size_t i = 0; i < kn; ++i) {
    const double w = 1 / near[i].first;
    wsum += w;
    lsum += w * near[i].second->log_tflops;
  }
  return within_envelope(tab, x, flops / (std::exp(lsum / wsum) * 1e12), roof, all);
}

// The same GEMM as interpolate_gemm, timed for one role of a layer's GEMMs (docs/calibration.md,
// "GEMM roles"). Where the role measured this shape: the role's (geometric mean) median. Elsewhere
// the role-less estimate g(x) times exp(c(x)), c the inverse-squared-distance average over the
// role's 8 nearest samples of their log_role_ratio (log of the sample's median over the mean of
// all samples at its shape); then kept inside the monotone envelope of the role's and the
// role-less samples, above the roofline and the floor. Why a ratio and not the role's samples
// alone: the shape dependence (tiles, waves, launch) is learnt from every sample, and a role adds
// only what it measurably does differently where it can be compared at the same shape; a role
// sample measured at a shape no other sample has carries ratio 0 (nothing to compare), so it pulls
// the correction towards none. The correction is used only within 4x of a sample of the role
// (the table's own reach), and a table with no sample of the role gives the role-less result.
double interpolate_gemm_role(const Profile::Impl::GemmTable& tab, const std::array<double, 4>& x, double flops,
                             double roof, GemmRole role) {
  const double g = interpolate_gemm(tab, x, flops, roof);
  if (role == GemmRole::none || !tab.has_role[static_cast<int>(role)]) return g;
  const GemmNear near =
      nearest_gemm_samples(tab, x, [&](const Profile::Impl::GemmSample& s) { return s.role == role; });
  if (near[0].first < 1e-12) return median_at_sample(near);  // measured by this role: its own median
  if (std::sqrt(near[0].first) > std::log(4.0)) return g;    // no sample of the role near enough
  const std::size_t kn = std::min<std::size_t>(8, near.size());
  double wsum = 0, csum = 0;
  for (std::size_t i = 0; i < kn; ++i) {
    const double w = 1 / near[i].first;
    wsum += w;
    csum += w * near[i].second->log_role_ratio;
  }
  return within_envelope(tab, x, g * std::exp(csum / wsum), roof, [&](const Profile::Impl::GemmSample& s) {
    return s.role == role || s.role == GemmRole::none;
  });
}

// Log rate at log x `lx`, piecewise-linear between samples sorted by log_x, constant beyond both
// ends; `rate` picks the sample's log rate (forward or forward + backward).
template <class Rate>
double interpolate_log_rate(const std::vector<Profile::Impl::AttSample>& a, double lx, Rate rate) {
  if (lx <= a.front().log_x) return rate(a.front());
  if (lx >= a.back().log_x) return rate(a.back());
  std::size_t i = 1;
  while (a[i].log_x < lx) ++i;
  const double u = (lx - a[i - 1].log_x) / (a[i].log_x - a[i - 1].log_x);
  return rate(a[i - 1]) + u * (rate(a[i]) - rate(a[i - 1]));
}

}  // namespace

Profile Profile::from_json(const nlohmann::ordered_json& j, const std::string& source) {
  auto impl = std::make_shared<Impl>(parse(j, source));
  Profile p;
  p.impl_ = impl;
  // What utilization 1 means for power_W, once: the workload model asks for every kernel.
  PowerReference& r = impl->power_ref;
  r = {impl->calib_flops_per_s, impl->calib_memory_Bps};
  if (!(r.flops_per_s > 0)) {
    const auto dts = p.gemm_dtypes();
    if (!dts.empty()) {
      const std::string dt = std::find(dts.begin(), dts.end(), "bf16") != dts.end() ? "bf16" : dts.front();
      r.flops_per_s = p.gemm_tflops(8192, 8192, 8192, dt) * 1e12;
    }
  }
  if (!(r.memory_Bps > 0)) r.memory_Bps = p.memory_bandwidth_Bps();
  return p;
}

Profile Profile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": expected a readable profile (JSON file), got no such file or no permission");
  std::ostringstream ss;
  ss << in.rdbuf();
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(ss.str());  // ordered, so json() keeps the file's key order
  } catch (const nlohmann::ordered_json::parse_error&) {
    parse_json_text(ss.str(), path);  // throws the InputError in the project's shape
  }
  return from_json(j, path);
}

Profile Profile::builtin(const std::string& name) {
  for (const auto& [n, text] : embedded_profiles())
    if (name == n) return from_json(nlohmann::ordered_json::parse(text), std::string("builtin:") + n);
  throw InputError("profile '" + name + "': expected a built-in profile (" + key_list(builtin_names()) +
                   ") or a profile file, got an unknown name");
}

std::vector<std::string> Profile::builtin_names() {
  std::vector<std::string> v;
  for (const auto& e : embedded_profiles()) v.push_back(e.first);
  return v;
}

const std::string& Profile::name() const { return impl_->name; }
const std::string& Profile::gpu() const { return impl_->gpu; }
const nlohmann::ordered_json& Profile::json() const { return impl_->doc; }

const std::string& Profile::description() const { return impl_->description; }
const std::string& Profile::parameters_state() const { return impl_->state; }
const std::string& Profile::derivation_datasheet() const { return impl_->derivation_datasheet; }

bool Profile::measured_on_cpu() const {
  const auto& doc = impl_->doc;
  const auto& m = doc.contains("manifest") ? doc.at("manifest") : doc;
  const bool no_gpus = m.contains("gpu_count") && m.at("gpu_count").is_number() && m.at("gpu_count").get<double>() == 0;
  return impl_->gpu.rfind("cpu:", 0) == 0 || no_gpus;
}

double Profile::peak_tflops(const std::string& dtype) const {
  const auto& pk = impl_->doc.at("compute").at("peak_tflops");
  if (pk.contains(dtype)) {
    const auto& e = pk.at(dtype);
    if (e.contains("datasheet")) return e.at("datasheet").at("value").get<double>();
    if (e.contains("achieved")) return e.at("achieved").at("value").get<double>();
  }
  return gemm_tflops(8192, 8192, 8192, dtype);
}

std::string Profile::power_provenance() const {
  if (!impl_->has_power) return "";
  const auto& pw = impl_->doc.at("power");
  return pw.contains("compute_W") ? pw.at("compute_W").value("provenance", std::string()) : "";
}

std::vector<std::string> Profile::gemm_dtypes() const {
  std::vector<std::string> v;
  for (const auto& [k, t] : impl_->gemm) v.push_back(k);
  return v;
}

double Profile::gemm_time_s(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
                            GemmRole role) const {
  auto it = impl_->gemm.find(dtype);
  if (it == impl_->gemm.end())
    impl_->fail("$.compute.gemm." + dtype, "a dtype this profile has (" + key_list(gemm_dtypes()) + ")",
                "none for '" + dtype + "'");
  if (m < 1 || n < 1 || k < 1)
    throw InputError("gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                     ": expected dimensions >= 1");
  const auto& tab = it->second;
  const double dm = static_cast<double>(m), dn = static_cast<double>(n), dk = static_cast<double>(k);
  const double flops = 2 * dm * dn * dk;
  const double bytes = (dm * dk + dk * dn + dm * dn) * elt_bytes(dtype);
  const double roof = std::max(flops / (tab.peak_tflops * 1e12), bytes / memory_bandwidth_Bps());
  return interpolate_gemm_role(tab, {0.0, std::log(dm), std::log(dn), std::log(dk)}, flops, roof, role);
}

bool Profile::has_batched_gemm(const std::string& dtype) const { return impl_->batched.count(dtype) > 0; }

double Profile::batched_gemm_time_s(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k,
                                    const std::string& dtype) const {
  const std::string shape =
      std::to_string(batch) + " x " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k);
  if (batch < 1) throw InputError("batched gemm " + shape + ": batch: expected an integer >= 1");
  if (m < 1 || n < 1 || k < 1) throw InputError("batched gemm " + shape + ": expected dimensions m, n, k >= 1");
  const double db = static_cast<double>(batch), dm = static_cast<double>(m), dn = static_cast<double>(n),
               dk = static_cast<double>(k);
  const double flops = 2 * db * dm * dn * dk;
  const double bytes = db * (dm * dk + dk * dn + dm * dn) * elt_bytes(dtype);
  auto it = impl_->batched.find(dtype);
  if (it == impl_->batched.end()) {
    // No batched measurement: one GEMM with the batch folded into m (same FLOPs, same A and C
    // traffic), but never faster than moving every product's own operands (B is read batch times).
    if (m > std::numeric_limits<std::int64_t>::max() / batch)
      throw InputError("batched gemm " + shape + ": expected batch x m to fit in 64 bits");
    return std::max(gemm_time_s(batch * m, n, k, dtype), bytes / memory_bandwidth_Bps());
  }
  const auto& tab = it->second;
  const double roof = std::max(flops / (tab.peak_tflops * 1e12), bytes / memory_bandwidth_Bps());
  return interpolate_gemm(tab, {std::log(db), std::log(dm), std::log(dn), std::log(dk)}, flops, roof);
}

double Profile::gemm_tflops(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
                            GemmRole role) const {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) /
         gemm_time_s(m, n, k, dtype, role) / 1e12;
}

double Profile::memory_bound_time_s(double bytes_moved, const std::string& op) const {
  if (!(bytes_moved >= 0) || !std::isfinite(bytes_moved))
    throw InputError("memory_bound_time_s: bytes_moved: expected a finite number >= 0");
  if (op == "copy") return impl_->copy.time(bytes_moved);
  auto it = impl_->ops.find(op);
  if (it == impl_->ops.end()) {
    std::vector<std::string> names = {"copy"};
    for (const auto& [k, c] : impl_->ops) names.push_back(k);
    impl_->fail("$.memory.ops." + op, "an op this profile has (" + key_list(names) + ")", "none for '" + op + "'");
  }
  return it->second.time(bytes_moved);
}

double Profile::attention_time_s(int batch, int heads, int seq, int head_dim, bool causal, bool backward) const {
  if (batch < 1 || heads < 1 || seq < 1 || head_dim < 1)
    throw InputError("attention: expected batch, heads, seq and head_dim >= 1");
  const double flops =
      4.0 * batch * heads * double(seq) * seq * head_dim * (causal ? 0.5 : 1.0) * (backward ? 3.5 : 1.0);
  const auto& a = impl_->attention;
  const double floor = impl_->gemm.count("bf16") ? impl_->gemm.at("bf16").floor_s : launch_overhead_s();
  if (a.empty()) {  // no measurement: a bf16 GEMM of the same FLOPs at the achieved peak
    auto it = impl_->gemm.find("bf16");
    if (it == impl_->gemm.end()) impl_->fail("$.attention", "attention samples or a bf16 GEMM table", "neither");
    return flops / (it->second.peak_tflops * 1e12) + floor;
  }
  // Piecewise-linear log TFLOP/s over log FLOPs (of the forward pass), clamped at both ends.
  const double lf = std::log(flops / (backward ? 3.5 : 1.0));
  const double ltf =
      interpolate_log_rate(a, lf, [&](const Impl::AttSample& s) { return backward ? s.log_rate_fb : s.log_rate_fwd; });
  return std::max(flops / (std::exp(ltf) * 1e12), floor);
}

bool Profile::has_attention_unfused() const { return !impl_->attention_unfused.empty(); }

double Profile::attention_unfused_time_s(int batch, int heads, int seq, int head_dim) const {
  if (batch < 1 || heads < 1 || seq < 1 || head_dim < 1)
    throw InputError("attention_unfused: expected batch, heads, seq and head_dim >= 1");
  const auto& a = impl_->attention_unfused;
  if (a.empty())
    impl_->fail("$.attention.unfused_samples", "unfused attention samples (measured by the CUDA backend)", "none");
  const double bhs2 = double(batch) * heads * double(seq) * seq;
  const double flops = 4.0 * bhs2 * head_dim;
  const auto bf16 = impl_->gemm.find("bf16");
  const bool has_bf16 = bf16 != impl_->gemm.end();
  // Roofline: the FLOPs at the bf16 achieved peak; the bf16 scores written once and read once.
  const double roof =
      std::max(has_bf16 ? flops / (bf16->second.peak_tflops * 1e12) : 0.0, 2 * 2 * bhs2 / memory_bandwidth_Bps());
  const double floor = has_bf16 ? bf16->second.floor_s : launch_overhead_s();
  // Interpolated in score elements, not FLOPs: the path is bound by the score matrix's traffic
  // (written, softmaxed in place, read: >= 8 bytes per score against 4 d FLOPs), so shapes of
  // another head_dim compare better per score than per FLOP.
  const double lr = interpolate_log_rate(a, std::log(bhs2), [](const Impl::AttSample& s) { return s.log_rate_fwd; });
  return std::max({bhs2 / std::exp(lr), roof, floor});
}

double Profile::launch_overhead_s() const { return impl_->launch_s; }
double Profile::hbm_capacity_bytes() const {
  if (impl_->capacity <= 0) impl_->fail("$.memory.capacity_bytes", "a memory capacity", "none");
  return impl_->capacity;
}
double Profile::memory_bandwidth_Bps() const { return 1 / impl_->copy.beta; }

std::vector<std::string> Profile::link_classes() const {
  std::vector<std::string> v;
  for (const auto& [k, c] : impl_->links) v.push_back(k);
  return v;
}

Profile::AlphaBeta Profile::link(const std::string& cls) const {
  auto it = impl_->links.find(cls);
  if (it == impl_->links.end())
    impl_->fail("$.links." + cls, "a link class this profile has (" + key_list(link_classes()) + ")",
                "none for '" + cls + "'");
  return {it->second.alpha, it->second.beta, it->second.provenance};
}

double Profile::link_time_s(const std::string& cls, double bytes) const {
  link(cls);
  return impl_->links.at(cls).time(bytes);
}

double Profile::power_W(double compute_util, double mem_util) const {
  const Impl& p = *impl_;
  if (!p.has_power) p.fail("$.power", "a power model (idle_W, compute_W, memory_W, tdp_W)", "none (not measured)");
  const double cu = std::clamp(compute_util, 0.0, 1.0), mu = std::clamp(mem_util, 0.0, 1.0);
  const double w = p.idle_W + (p.compute_W - p.idle_W) * cu + (p.memory_W - p.idle_W) * mu;
  return std::clamp(w, p.idle_W, p.tdp_W);
}

bool Profile::has_power() const { return impl_->has_power; }

double Profile::variability_cv(const std::string& which) const {
  auto it = impl_->variability.find(which);
  return it == impl_->variability.end() ? -1 : it->second;
}

Profile::PowerReference Profile::power_reference() const { return impl_->power_ref; }

CommInterference Profile::comm_interference() const {
  const Impl& p = *impl_;
  if (p.has_interference) return p.interference;
  CommInterference c;
  c.held_sm_cost = 1;
  c.hbm_share_cost = 1;
  c.provenance = "assumed";
  std::string from;
  if (p.manifest_sm_count > 0) {
    c.sm_count = p.manifest_sm_count;
    from = "$.manifest.extra.sm_count (measured)";
  } else {
    // The built-in datasheet of the GPU model, by $.gpu, else by the profile's name.
    const Datasheet* d = find_datasheet(p.gpu);
    if (!d) d = find_datasheet(p.name);
    if (!d) {
      std::string keys;
      for (const auto& k : datasheet_keys()) keys += (keys.empty() ? "" : ", ") + k;
      p.fail("$.interference",
             "an interference measurement, $.manifest.extra.sm_count or a GPU with a built-in datasheet (" + keys +
                 ") to model communication beside compute",
             "none for gpu '" + p.gpu + "'");
    }
    c.sm_count = d->sm_count;
    from = "the datasheet (" + d->origin + ")";
  }
  c.note =
      "held_sm_cost and hbm_share_cost assumed 1 (no $.interference in this profile; knee calibrate "
      "--backend cuda measures them); sm_count ";
  c.note += std::to_string(c.sm_count) + " from " + from;
  return c;
}

}  // namespace knee
