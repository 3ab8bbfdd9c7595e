#include "calibrate/fitter.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "calibrate/fit.hpp"
#include "calibrate/profile_json.hpp"
#include "common/parse.hpp"
#include "profile/profile.hpp"

namespace knee {

namespace {

OrderedJson param(double v, const std::string& prov) { return {{"value", v}, {"provenance", prov}}; }
OrderedJson param(double v, const std::string& prov, double lo, double hi) {
  OrderedJson p = param(v, prov);
  p["ci95"] = {lo, hi};
  return p;
}
OrderedJson param(const Summary& s, const std::string& prov) {
  OrderedJson p = param(s.median, prov, s.ci_lo, s.ci_hi);
  p["reps"] = s.reps;
  p["outliers"] = s.outliers;
  if (s.ci_method != "order-statistic") p["ci_method"] = s.ci_method;
  return p;
}
void add_run_to_run(OrderedJson& p, double other) {
  const double v = p["value"].get<double>();
  p["run_to_run"] = {{"other_value", other}, {"rel_diff", v != 0 ? std::fabs(other - v) / std::fabs(v) : 0.0}};
}

OrderedJson sample_json(double bytes, const Summary& s) {
  OrderedJson j = {{"bytes", bytes},
                   {"median_s", s.median},
                   {"ci95_s", {s.ci_lo, s.ci_hi}},
                   {"reps", s.reps},
                   {"outliers", s.outliers}};
  if (s.ci_method != "order-statistic") j["ci_method"] = s.ci_method;
  return j;
}

struct CurveFit {
  std::vector<AlphaBetaFit> segs;
};

CurveFit fit_cases(const std::vector<SizeCase>& cases) {
  std::vector<double> x, t;
  for (const auto& c : cases) {
    x.push_back(c.bytes);
    t.push_back(c.r.summary.median);
  }
  return {fit_regimes(x, t)};
}

// GPU kernels (copies, memory-bound ops) are event-timed call by call; when a call's GPU work is
// shorter than an isolated tiny kernel (launch plus completion) the time measures the host
// (dispatch and event overhead), not the GPU. The simulator charges launches on the host
// separately, so a kernel's curve is fitted on the GPU-bound samples only: those whose bytes at
// the per-byte time of the two largest samples take at least the tiny-kernel time.
struct GpuSide {
  double tiny_kernel_s = 0;  // isolated launch + completion; 0: not a GPU kernel curve
  double kernel_s = 0;       // GPU-side time of a tiny kernel (per kernel of a CUDA graph)
};
std::vector<SizeCase> gpu_bound(const std::vector<SizeCase>& cases, double tiny_kernel_s) {
  if (tiny_kernel_s <= 0 || cases.size() < 3) return cases;
  std::vector<SizeCase> sorted = cases;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  const SizeCase &y = sorted[sorted.size() - 2], &z = sorted.back();
  double per_byte = (z.r.summary.median - y.r.summary.median) / (z.bytes - y.bytes);
  if (!(per_byte > 0)) per_byte = z.r.summary.median / z.bytes;
  std::vector<SizeCase> out;
  for (const auto& c : sorted)
    if (c.bytes * per_byte >= tiny_kernel_s) out.push_back(c);
  return out.size() >= 2 ? out : cases;
}

// fit_cases, and for GPU kernels the guard against an implausible fixed cost (below).
void add_note(std::string& n, const std::string& more) { n += (n.empty() ? "" : "; ") + more; }
CurveFit fit_curve(const std::vector<SizeCase>& cases, GpuSide gpu, std::string* note) {
  CurveFit f = fit_cases(cases);
  if (gpu.tiny_kernel_s <= 0 || f.segs.empty()) return f;
  // The free fit's fixed cost stands only when it is a kernel's and the samples resolve it: at most
  // an isolated tiny kernel (more is the op's rate varying with shape, as a row softmax with the row
  // width, not latency), at least the GPU-side time of a tiny kernel, and its 95% interval clear of
  // that time. Otherwise the measured GPU-side time of a tiny kernel is the better fixed cost, and
  // the per-byte time is fitted through it (weights 1/t^2, as fit_alpha_beta). With several
  // segments this concerns the first (the smallest sizes), refitted on its own samples.
  const AlphaBetaFit& free_fit = f.segs[0];
  const bool too_high = free_fit.alpha_s > gpu.tiny_kernel_s;
  const bool unresolved =
      free_fit.alpha_s < gpu.kernel_s || (free_fit.alpha_ci[0] <= gpu.kernel_s && gpu.kernel_s <= free_fit.alpha_ci[1]);
  if (too_high || unresolved) {
    AlphaBetaFit& g = f.segs[0];
    const double fitted = g.alpha_s;
    const double fitted_lo = g.alpha_ci[0], fitted_hi = g.alpha_ci[1];
    std::vector<SizeCase> mine;
    for (const auto& c : cases)
      if (f.segs.size() == 1 || (c.bytes >= g.from_bytes && c.bytes <= g.to_bytes)) mine.push_back(c);
    double num = 0, den = 0;
    for (const auto& c : mine) {
      const double w = 1 / (c.r.summary.median * c.r.summary.median);
      num += w * c.bytes * (c.r.summary.median - gpu.kernel_s);
      den += w * c.bytes * c.bytes;
    }
    g.alpha_s = gpu.kernel_s;
    g.alpha_ci[0] = g.alpha_ci[1] = gpu.kernel_s;
    g.beta_s_per_byte = num / den;
    double lo = INFINITY, hi = 0;  // the spread of the samples' own per-byte times
    for (const auto& c : mine) {
      const double b = (c.r.summary.median - gpu.kernel_s) / c.bytes;
      lo = std::min(lo, b);
      hi = std::max(hi, b);
    }
    g.beta_ci[0] = lo;
    g.beta_ci[1] = hi;
    if (note)
      add_note(*note, "the free fit's intercept (" + std::to_string(fitted * 1e6) + " us, 95% " +
                          std::to_string(fitted_lo * 1e6) + " to " + std::to_string(fitted_hi * 1e6) + " us) " +
                          (too_high ? "exceeds a tiny kernel" : "does not resolve a kernel's fixed cost") +
                          ": alpha fixed at the GPU-side time of a tiny kernel, beta fitted through it, its "
                          "interval the range of the samples' own per-byte times");
  }
  return f;
}

// Hockney form for the simulator: alpha is the latency of the smallest-size regime, beta the
// per-byte time of the largest-size regime; the segments keep the whole measured curve. For GPU
// kernels (gpu.tiny_kernel_s > 0) host-bound samples are kept but not fitted.
OrderedJson curve_json(const std::vector<SizeCase>& all_cases, const std::vector<SizeCase>* other_all,
                       const std::string& note, GpuSide gpu = {}) {
  OrderedJson j;
  j["provenance"] = "fitted";
  const std::vector<SizeCase> cases = gpu_bound(all_cases, gpu.tiny_kernel_s);
  std::vector<SizeCase> other_cases;
  if (other_all) other_cases = gpu_bound(*other_all, gpu.tiny_kernel_s);
  const std::vector<SizeCase>* other = other_all ? &other_cases : nullptr;
  std::string n = note;
  if (cases.size() < all_cases.size())
    add_note(
        n, "GPU-side curve: fitted on the " + std::to_string(cases.size()) + " of " + std::to_string(all_cases.size()) +
               " samples whose GPU work exceeds an isolated tiny kernel; the shorter ones are host-bound "
               "(dispatch and event overhead, which the simulator charges as launch time) and kept in samples only");
  CurveFit f = fit_curve(cases, gpu, &n);
  if (!n.empty()) j["note"] = n;
  const AlphaBetaFit& first = f.segs.front();
  const AlphaBetaFit& last = f.segs.back();
  j["alpha_s"] = param(std::max(0.0, first.alpha_s), "fitted", first.alpha_ci[0], first.alpha_ci[1]);
  if (first.alpha_s < 0)  // a negative intercept: the latency is below what the sizes resolve
    j["alpha_s"]["note"] = "fitted intercept " + std::to_string(first.alpha_s) + " s clamped to 0";
  j["beta_s_per_byte"] = param(last.beta_s_per_byte, "fitted", last.beta_ci[0], last.beta_ci[1]);
  j["bandwidth_Bps"] = param(1 / last.beta_s_per_byte, "fitted", last.beta_ci[1] > 0 ? 1 / last.beta_ci[1] : 0,
                             last.beta_ci[0] > 0 ? 1 / last.beta_ci[0] : INFINITY);
  if (!std::isfinite(j["bandwidth_Bps"]["ci95"][1].get<double>()))
    j["bandwidth_Bps"]["ci95"][1] = 1e30;  // the interval of beta reaches zero: no upper bound
  if (other && other->size() >= 2) {
    CurveFit g = fit_curve(*other, gpu, nullptr);
    add_run_to_run(j["alpha_s"], g.segs.front().alpha_s);
    add_run_to_run(j["beta_s_per_byte"], g.segs.back().beta_s_per_byte);
    add_run_to_run(j["bandwidth_Bps"], 1 / g.segs.back().beta_s_per_byte);
  }
  OrderedJson segs = OrderedJson::array();
  for (const auto& s : f.segs)
    segs.push_back({{"from_bytes", s.from_bytes},
                    {"to_bytes", s.to_bytes},
                    {"points", s.points},
                    {"alpha_s", param(s.alpha_s, "fitted", s.alpha_ci[0], s.alpha_ci[1])},
                    {"beta_s_per_byte", param(s.beta_s_per_byte, "fitted", s.beta_ci[0], s.beta_ci[1])}});
  j["segments"] = segs;
  OrderedJson samples = OrderedJson::array();
  std::vector<SizeCase> sorted = all_cases;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.bytes < b.bytes; });
  for (const auto& c : sorted) samples.push_back(sample_json(c.bytes, c.r.summary));
  j["samples"] = samples;
  return j;
}

std::string manifest_string(const OrderedJson& m, const char* key) {
  if (m.contains(key) && m[key].is_string()) return m[key].get<std::string>();
  return "not recorded";
}

OrderedJson build_manifest(const RawRun& a, const RawRun* b, const FitOptions& opt) {
  OrderedJson m;
  const OrderedJson& r = a.manifest;
  m["gpu_name"] = manifest_string(r, "gpu_name");
  m["gpu_count"] = r.contains("gpu_count") ? r["gpu_count"] : OrderedJson(a.device_kind == "gpu" ? 1 : 0);
  for (const char* k : {"driver", "cuda", "nccl", "cublas"}) m[k] = manifest_string(r, k);
  m["clocks"] = r.contains("clocks") ? r["clocks"] : OrderedJson::object();
  m["power_limit_W"] = a.power_limit_W;
  m["host"] = r.contains("host") ? manifest_string(r, "host") : manifest_string(r, "platform");
  m["date"] = manifest_string(r, "date");
  m["command_line"] = opt.command_line;
  m["git_revision"] = opt.git_revision;
  OrderedJson src = OrderedJson::array();
  src.push_back(a.source);
  if (b) src.push_back(b->source);
  m["source_files"] = src;
  m["measurement"] = manifest_string(r, "method");
  OrderedJson extra = OrderedJson::object();
  std::set<std::string> used = {"gpu_name", "gpu_count", "driver", "cuda",   "nccl",         "cublas",
                                "clocks",   "host",      "date",   "method", "power_limit_W"};
  for (auto it = r.begin(); it != r.end(); ++it)
    if (!used.count(it.key())) extra[it.key()] = it.value();
  if (b) extra["second_run"] = {{"source", b->source}, {"date", manifest_string(b->manifest, "date")}};
  m["extra"] = extra;
  return m;
}

// ---- compute -----------------------------------------------------------------------------------
std::string gemm_key(const GemmCase& g) {
  return g.dtype + ":" + std::to_string(g.batch) + "*" + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" +
         std::to_string(g.k) + ":" + g.label;
}

// Strided-batched GEMMs are their own table: batch small products per call do not interpolate
// with single GEMMs of the same m, n, k.
OrderedJson fit_batched(const RawRun& a, const RawRun* b) {
  std::map<std::string, double> other;
  if (b)
    for (const auto& g : b->gemm) other[gemm_key(g)] = g.r.summary.median;
  OrderedJson out = OrderedJson::object();
  for (const auto& g : a.gemm) {
    if (g.batch <= 1) continue;
    const Summary& s = g.r.summary;
    const double flops = 2.0 * double(g.batch) * g.m * g.n * g.k;
    OrderedJson e = {{"batch", g.batch},
                     {"m", g.m},
                     {"n", g.n},
                     {"k", g.k},
                     {"label", g.label},
                     {"median_s", s.median},
                     {"ci95_s", {s.ci_lo, s.ci_hi}},
                     {"reps", s.reps},
                     {"outliers", s.outliers},
                     {"tflops", flops / s.median / 1e12}};
    if (auto it = other.find(gemm_key(g)); it != other.end()) e["other_run_median_s"] = it->second;
    if (!out.contains(g.dtype))
      out[g.dtype] = {
          {"provenance", "measured"},
          {"note", "strided-batched GEMM (cublasGemmStridedBatchedEx): batch products of m x n x k per call"},
          {"samples", OrderedJson::array()}};
    out[g.dtype]["samples"].push_back(e);
  }
  return out;
}

OrderedJson fit_compute(const RawRun& a, const RawRun* b, const Datasheet* ds) {
  std::map<std::string, double> other;
  if (b)
    for (const auto& g : b->gemm) other[gemm_key(g)] = g.r.summary.median;
  std::vector<std::string> order;
  std::map<std::string, std::vector<const GemmCase*>> by;
  for (const auto& g : a.gemm) {
    if (g.batch > 1) continue;
    if (!by.count(g.dtype)) order.push_back(g.dtype);
    by[g.dtype].push_back(&g);
  }
  OrderedJson peak = OrderedJson::object(), gemm = OrderedJson::object();
  for (const auto& dt : order) {
    const GemmCase* best = nullptr;
    double best_tf = 0, floor = INFINITY;
    OrderedJson samples = OrderedJson::array();
    for (const GemmCase* g : by[dt]) {
      const double flops = 2.0 * g->m * g->n * g->k;
      const Summary& s = g->r.summary;
      const double tf = flops / s.median / 1e12;
      if (tf > best_tf) {
        best_tf = tf;
        best = g;
      }
      floor = std::min(floor, s.median);
      OrderedJson e = {{"m", g->m},
                       {"n", g->n},
                       {"k", g->k},
                       {"label", g->label},
                       {"median_s", s.median},
                       {"ci95_s", {s.ci_lo, s.ci_hi}},
                       {"reps", s.reps},
                       {"outliers", s.outliers},
                       {"tflops", tf}};
      if (s.ci_method != "order-statistic") e["ci_method"] = s.ci_method;
      if (auto it = other.find(gemm_key(*g)); it != other.end()) e["other_run_median_s"] = it->second;
      samples.push_back(e);
    }
    const double flops = 2.0 * best->m * best->n * best->k;
    const Summary& s = best->r.summary;
    OrderedJson achieved = param(best_tf, "measured", flops / s.ci_hi / 1e12, flops / s.ci_lo / 1e12);
    achieved["note"] = "the fastest measured shape: " + std::to_string(best->m) + "x" + std::to_string(best->n) + "x" +
                       std::to_string(best->k) + " (" + best->label + ")";
    if (auto it = other.find(gemm_key(*best)); it != other.end()) add_run_to_run(achieved, flops / it->second / 1e12);
    OrderedJson pk = {{"achieved", achieved}};
    if (ds && ds->peak(dt) > 0) pk["datasheet"] = sheet_param(*ds, "dense_TFLOPs." + dt, ds->peak(dt));
    peak[dt] = pk;
    OrderedJson fl = param(floor, "measured");
    fl["note"] = "shortest median of any GEMM of this dtype: launch-bound, a lower bound for every call";
    gemm[dt] = {{"provenance", "measured"}, {"floor_s", fl}, {"samples", samples}};
  }
  OrderedJson c = {{"interpolation", "idw-log-mnk"}, {"peak_tflops", peak}, {"gemm", gemm}};
  OrderedJson batched = fit_batched(a, b);
  if (!batched.empty()) c["batched_gemm"] = batched;
  return c;
}

// ---- power -------------------------------------------------------------------------------------
OrderedJson fit_power(const RawRun& a, const RawRun* b, double settle_s, const Datasheet* ds) {
  OrderedJson p = OrderedJson::object();
  if (a.power.empty()) {
    p["note"] = "not measured by this backend";
    return p;
  }
  auto phases = [&](const RawRun& r, int& excluded) {
    std::map<std::string, std::vector<double>> w;
    std::string cur;
    double start = 0;
    excluded = 0;
    for (const auto& s : r.power) {
      if (s.phase != cur) {
        cur = s.phase;
        start = s.t_s;
      }
      if (s.t_s - start < settle_s) {
        ++excluded;
        continue;
      }
      w[s.phase == "idle_after" ? "idle" : s.phase].push_back(s.watts);
    }
    return w;
  };
  int excl = 0, excl_b = 0;
  auto w = phases(a, excl);
  std::map<std::string, std::vector<double>> wb;
  if (b && !b->power.empty()) wb = phases(*b, excl_b);
  for (const auto& [phase, key] : std::vector<std::pair<std::string, std::string>>{
           {"idle", "idle_W"}, {"compute", "compute_W"}, {"memory", "memory_W"}}) {
    if (!w.count(phase) || w[phase].empty())
      throw InputError(a.source + ": power: expected samples of the " + phase + " phase after " +
                       std::to_string(settle_s) + " s of settling, got none");
    OrderedJson q = param(summarize(w[phase]), "measured");
    if (wb.count(phase) && !wb[phase].empty()) add_run_to_run(q, median_of(wb[phase]));
    p[key] = q;
  }
  if (ds) p["tdp_W"] = sheet_param(*ds, "tdp_W", ds->tdp_W);
  else p["tdp_W"] = param(a.power_limit_W > 0 ? a.power_limit_W : p["compute_W"]["value"].get<double>(), "measured");
  p["calibration_rates"] = {{"compute_tflops", a.power_gemm_tflops}, {"memory_Bps", a.power_copy_Bps}};
  p["settle_s"] = settle_s;
  p["samples_excluded"] = excl;
  p["note"] =
      "power_W = idle + (compute_W - idle) * compute_util + (memory_W - idle) * mem_util, clamped to "
      "[idle, tdp]; util 1 is the calibration workload (compute: bf16 GEMM at calibration_rates."
      "compute_tflops; memory: a device copy at calibration_rates.memory_Bps)";
  return p;
}

// ---- communication beside compute ---------------------------------------------------------------
// Least squares through the origin, y = c x: c = sum(x y) / sum(x^2), and the t interval of c from
// the residuals (df = points - 1; none for one point).
struct OriginFit {
  double c = 0, lo = 0, hi = 0;
};
OriginFit fit_through_origin(const std::vector<double>& x, const std::vector<double>& y) {
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  OriginFit f;
  f.c = f.lo = f.hi = sxy / sxx;
  if (x.size() >= 2) {
    double r2 = 0;
    for (std::size_t i = 0; i < x.size(); ++i) r2 += (y[i] - f.c * x[i]) * (y[i] - f.c * x[i]);
    const int df = static_cast<int>(x.size()) - 1;
    const double half = student_t975(df) * std::sqrt(r2 / df / sxx);
    f.lo = f.c - half;
    f.hi = f.c + half;
  }
  return f;
}

// The slowdown model the simulator applies (workloads/training/sm_sharing.*), fitted per cost:
//   compute-bound: t_beside / t_alone = n / (n - a k)     <=>  1 - t_alone / t_beside = a (k / n)
//   memory-bound:  t_beside / t_alone = 1 / (1 - b H / B)  <=>  1 - t_alone / t_beside = b (H / B)
// with k the side kernel's CTAs, n the SMs, H its bytes/s beside the memory-bound kernel and B
// `copy_Bps` (the profile's device-copy bandwidth). Both are linear in the cost, so a and b are
// least squares through the origin over the cases. ci95: the wider of the regression's t interval
// and the fits of the slowdowns taken at the ends of their medians' 95% intervals (all at once).
OrderedJson fit_interference(const InterferenceRun& r, double copy_Bps, const std::string& source) {
  if (!(copy_Bps > 0))
    throw InputError(source + ": interference: expected a device copy bandwidth to scale H by, got none");
  const double n = r.sm_count;
  struct Series {
    std::vector<double> x, y, lo, hi;
  } sa, sb;
  // 1 - alone / beside: from the medians, and at the ends of their intervals.
  auto add = [](Series& s, double x, const Reps& alone, const Reps& beside) {
    s.x.push_back(x);
    s.y.push_back(1 - alone.summary.median / beside.summary.median);
    s.lo.push_back(1 - alone.summary.ci_hi / beside.summary.ci_lo);
    s.hi.push_back(1 - alone.summary.ci_lo / beside.summary.ci_hi);
  };
  OrderedJson samples = OrderedJson::array();
  int min_reps = 1 << 30;
  bool shared_sms = false;
  for (const auto& c : r.cases) {
    const double H = c.side_beside_copy_Bps.summary.median;
    add(sa, c.side_ctas / n, c.gemm_alone, c.gemm_beside);
    add(sb, H / copy_Bps, c.copy_alone, c.copy_beside);
    for (const Reps* x : {&c.gemm_alone, &c.gemm_beside, &c.copy_alone, &c.copy_beside})
      min_reps = std::min(min_reps, x->summary.reps);
    shared_sms = shared_sms || c.distinct_sms < c.side_ctas;
    samples.push_back({{"side_ctas", c.side_ctas},
                       {"distinct_sms", c.distinct_sms},
                       {"gemm_alone_s", c.gemm_alone.summary.median},
                       {"gemm_beside_s", c.gemm_beside.summary.median},
                       {"copy_alone_s", c.copy_alone.summary.median},
                       {"copy_beside_s", c.copy_beside.summary.median},
                       {"side_alone_Bps", c.side_alone_Bps.summary.median},
                       {"side_beside_gemm_Bps", c.side_beside_gemm_Bps.summary.median},
                       {"side_beside_copy_Bps", H},
                       {"held_sm_cost", sa.y.back() / sa.x.back()},
                       {"hbm_share_cost", sb.y.back() / sb.x.back()}});
  }
  const std::string cases = std::to_string(r.cases.size()) + " case" + (r.cases.size() > 1 ? "s" : "");
  auto cost = [&](const Series& s, const std::string& what) {
    const OriginFit f = fit_through_origin(s.x, s.y);
    const OriginFit lo = fit_through_origin(s.x, s.lo), hi = fit_through_origin(s.x, s.hi);
    OrderedJson q = param(std::max(0.0, f.c), "measured", std::min(f.lo, lo.c), std::max(f.hi, hi.c));
    q["reps"] = min_reps;
    std::string note = what + "; least squares through the origin over " + cases +
                       " (samples), ci95 the wider of the regression's t interval and the fits at the ends of the "
                       "medians' intervals; reps: the fewest repetitions of any median";
    if (f.c < 0) note += "; fitted " + std::to_string(f.c) + " clamped to 0 (the kernel ran no slower beside)";
    q["note"] = note;
    return q;
  };
  OrderedJson j;
  j["held_sm_cost"] = cost(
      sa, "a in t_beside / t_alone = n / (n - a k): a " + std::to_string(r.gemm_m) + "x" + std::to_string(r.gemm_n) +
              "x" + std::to_string(r.gemm_k) + " " + r.gemm_dtype + " cuBLAS GEMM beside k CTAs of a copy loop (" +
              std::to_string(r.side_threads) + " threads each, one per SM, as NCCL runs one CTA per channel)" +
              (shared_sms ? "; in some cases CTAs shared an SM (samples[].distinct_sms < side_ctas)" : ""));
  j["hbm_share_cost"] = cost(sb, "b in t_beside / t_alone = 1 / (1 - b H / B): the '" + r.copy_kernel + "' kernel (" +
                                     format_bytes(Bytes(r.copy_bytes_moved)) +
                                     " moved per call) beside the copy loop, H the loop's bytes/s beside it, B the "
                                     "device-copy bandwidth (memory.copy.bandwidth_Bps)");
  j["sm_count"] = r.sm_count;
  j["samples"] = samples;
  return j;
}

}  // namespace

// Variation for the straggler model (docs/workloads.md, "Stragglers"). op_cv: of the mean time of
// consecutive repetitions of the noise GEMM, in blocks of about one op (10 ms): variation that lasts
// that long is what stretches an op. gpu_cv: GPU to GPU, from the GEMMs longer than 1 ms measured on
// both machines: for two independent draws the median |difference| is 0.954 sigma.
double block_cv(const std::vector<double>& t, double block_s) {
  const double med = median_of(t);
  std::size_t n = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(block_s / med)));
  n = std::min(n, t.size() / 5);  // at least five blocks
  std::vector<double> means;
  for (std::size_t i = 0; i + n <= t.size(); i += n) {
    double s = 0;
    for (std::size_t j = i; j < i + n; ++j) s += t[j];
    means.push_back(s / double(n));
  }
  double mean = 0, var = 0;
  for (double x : means) mean += x;
  mean /= double(means.size());
  for (double x : means) var += (x - mean) * (x - mean);
  return std::sqrt(var / double(means.size() - 1)) / mean;
}

OrderedJson fit_variability(const RawRun& a, const RawRun* b) {
  OrderedJson v = OrderedJson::object();
  constexpr double kOpBlock_s = 0.010;
  if (a.noise.m > 0 && a.noise.r.times_s.size() >= 20) {
    OrderedJson q = param(block_cv(a.noise.r.times_s, kOpBlock_s), "measured");
    q["note"] = "coefficient of variation of the mean time of consecutive ~10 ms blocks of " +
                std::to_string(a.noise.r.times_s.size()) + " back-to-back " + std::to_string(a.noise.m) + "^3 " +
                a.noise.dtype + " GEMMs (one GPU)";
    if (b && b->noise.m > 0 && b->noise.r.times_s.size() >= 20)
      add_run_to_run(q, block_cv(b->noise.r.times_s, kOpBlock_s));
    v["op_cv"] = q;
  }
  if (b) {
    std::map<std::string, double> other;
    for (const auto& g : b->gemm) other[gemm_key(g)] = g.r.summary.median;
    std::vector<double> d;
    for (const auto& g : a.gemm)
      if (auto it = other.find(gemm_key(g)); it != other.end() && g.r.summary.median > 1e-3 && it->second > 1e-3)
        d.push_back(std::fabs(it->second - g.r.summary.median) / g.r.summary.median);
    if (d.size() >= 5) {
      OrderedJson q = param(median_of(d) / 0.9539, "fitted");
      q["note"] = "from two GPUs only (median |difference| of " + std::to_string(d.size()) +
                  " GEMM medians longer than 1 ms, / 0.954): a fleet's own spread, measured, should replace it";
      v["gpu_cv"] = q;
    }
  }
  return v;
}

OrderedJson fit_size_curve(const std::vector<SizeCase>& cases, const std::vector<SizeCase>* other,
                           const std::string& note, double tiny_kernel_s, double gpu_kernel_s) {
  return curve_json(cases, other, note, GpuSide{tiny_kernel_s, gpu_kernel_s});
}

OrderedJson fit_profile(const RawRun& a, const RawRun* b, const FitOptions& opt) {
  if (a.gemm.empty()) throw InputError(a.source + ": $.gemm: expected at least one GEMM case, got none");
  if (a.copy.size() < 2)
    throw InputError(a.source + ": copy: expected a device copy sweep of >= 2 sizes, got " +
                     std::to_string(a.copy.size()));
  const std::string gpu = manifest_string(a.manifest, "gpu_name");
  const Datasheet* ds = a.device_kind == "gpu" ? find_datasheet(gpu) : nullptr;
  OrderedJson p;
  p["schema_version"] = 1;
  p["name"] = opt.name;
  p["gpu"] = gpu;
  p["description"] = std::string("fitted by knee fit from ") + a.source + (b ? " and " + b->source : std::string()) +
                     (b ? "; values from the first run, run_to_run from the second" : "");
  p["manifest"] = build_manifest(a, b, opt);
  p["compute"] = fit_compute(a, b, ds);

  OrderedJson mem;
  if (a.capacity_bytes > 0) mem["capacity_bytes"] = param(a.capacity_bytes, "measured");
  if (a.l2_bytes > 0) mem["l2_bytes"] = param(a.l2_bytes, "measured");
  if (ds) mem["datasheet_bandwidth_Bps"] = sheet_param(*ds, "hbm_bandwidth_Bps", ds->hbm_bandwidth_Bps);
  const GpuSide kernel_side{a.tiny_kernel.summary.median, a.graph_per_kernel.summary.median};
  mem["copy"] = curve_json(a.copy, b ? &b->copy : nullptr,
                           "device-to-device copy; bytes are bytes moved (read + write)", kernel_side);
  OrderedJson ops = OrderedJson::object();
  for (const auto& [op, cases] : a.ops) {
    if (cases.size() < 2) continue;
    const std::vector<SizeCase>* oc = b && b->ops.count(op) ? &b->ops.at(op) : nullptr;
    ops[op] = curve_json(cases, oc, "bytes are the least traffic the op needs (bytes_moved_min)", kernel_side);
  }
  mem["ops"] = ops;
  p["memory"] = mem;
  if (a.interference.sm_count > 0)  // absent raw section: no $.interference (the simulator assumes 1, 1)
    p["interference"] = fit_interference(a.interference, mem["copy"]["bandwidth_Bps"]["value"].get<double>(), a.source);

  OrderedJson att = {{"provenance", "measured"}, {"samples", OrderedJson::array()}};
  for (std::size_t i = 0; i < a.attention.size(); ++i) {
    const auto& c = a.attention[i];
    OrderedJson e = {{"batch", c.batch},
                     {"heads", c.heads},
                     {"seq", c.seq},
                     {"head_dim", c.head_dim},
                     {"causal", c.causal},
                     {"fwd", param(c.fwd.summary, "measured")},
                     {"fwd_bwd", param(c.fwd_bwd.summary, "measured")}};
    if (b && i < b->attention.size() && b->attention[i].seq == c.seq && b->attention[i].batch == c.batch) {
      add_run_to_run(e["fwd"], b->attention[i].fwd.summary.median);
      add_run_to_run(e["fwd_bwd"], b->attention[i].fwd_bwd.summary.median);
    }
    att["samples"].push_back(e);
  }
  att["note"] = "fwd_bwd counts 3.5x the forward FLOPs; causal counts half the score matrix";
  if (a.attention.empty() && !a.attention_unfused.empty())
    att["note"] =
        "fused attention not measured (attention_time_s falls back to a bf16 GEMM of the same FLOPs); "
        "unfused_samples time the unfused reference path (attention_unfused_time_s)";
  if (!a.attention_unfused.empty()) {
    OrderedJson u = OrderedJson::array();
    for (std::size_t i = 0; i < a.attention_unfused.size(); ++i) {
      const auto& c = a.attention_unfused[i];
      OrderedJson e = {{"batch", c.batch},       {"heads", c.heads},   {"seq", c.seq},
                       {"head_dim", c.head_dim}, {"causal", c.causal}, {"fwd", param(c.fwd.summary, "measured")}};
      if (b && i < b->attention_unfused.size() && b->attention_unfused[i].seq == c.seq &&
          b->attention_unfused[i].batch == c.batch)
        add_run_to_run(e["fwd"], b->attention_unfused[i].fwd.summary.median);
      u.push_back(e);
    }
    att["unfused_samples"] = u;
    att["unfused_note"] =
        "unfused reference forward, bf16: S = QK^T (strided-batched cuBLAS GEMM, full seq x seq), "
        "a row softmax kernel (causal mask applied there), O = PV (strided-batched GEMM)";
  }
  p["attention"] = att;

  OrderedJson launch = OrderedJson::object();
  auto launch_param = [&](const char* key, const Reps& ra, const Reps* rb, const std::string& note) {
    if (ra.summary.reps == 0) return;
    OrderedJson q = param(ra.summary, "measured");
    q["note"] = note;
    if (rb && rb->summary.reps > 0) add_run_to_run(q, rb->summary.median);
    launch[key] = q;
  };
  const bool cpu = a.device_kind == "cpu";
  launch_param("host_launch_s", a.host_launch, b ? &b->host_launch : nullptr,
               cpu ? "thread wake-up, one way (the CPU analogue of launching work)"
                   : "host time per launch when launches run back to back (the eager-mode cost per kernel)");
  launch_param("tiny_kernel_s", a.tiny_kernel, b ? &b->tiny_kernel : nullptr,
               cpu ? "one call through std::function" : "one tiny kernel timed alone (launch plus completion)");
  launch_param("graph_per_kernel_s", a.graph_per_kernel, b ? &b->graph_per_kernel : nullptr,
               "per kernel of a replayed CUDA graph");
  if (!launch.contains("host_launch_s"))
    throw InputError(a.source + ": launch: expected a host launch measurement, got none");
  p["launch"] = launch;

  OrderedJson links = OrderedJson::object();
  for (const auto& [cls, cases] : a.links) {
    if (cases.size() < 2) continue;
    const std::vector<SizeCase>* oc = b && b->links.count(cls) ? &b->links.at(cls) : nullptr;
    auto note = a.link_notes.count(cls) ? a.link_notes.at(cls) : std::string();
    links[cls] = curve_json(cases, oc, note);
  }
  if (ds) add_datasheet_links(links, *ds);
  p["links"] = links;
  p["power"] = fit_power(a, b, opt.power_settle_s, ds);
  if (OrderedJson v = fit_variability(a, b); !v.empty()) p["variability"] = v;
  stamp_parameters_digest(p);
  return p;
}

}  // namespace knee
