#include "calibrate/derive_profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>

#include "calibrate/profile_json.hpp"
#include "common/error.hpp"
#include "profile/profile.hpp"

namespace knee {

// Output tiles a tensor-core kernel is split into, one per SM at a time: 128x128 is the common
// CUTLASS/cuBLAS bf16 tile on Ampere and Hopper (assumed: cuBLAS picks per shape, and split-K or
// stream-K kernels fill the last wave better than this counts). Flash attention's forward runs
// one 128-query block of one (batch, head) per SM (FlashAttention-2's block size).
constexpr double kTile = 128;

double DeriveRatios::tensor(const std::string& dtype, double tiles) const {
  const double pf = from->peak(dtype), pt = to->peak(dtype);
  const double sf = from->sm_count, st = to->sm_count;
  const double waves_f = std::ceil(std::max(1.0, tiles) / sf), waves_t = std::ceil(std::max(1.0, tiles) / st);
  return (waves_t / waves_f) * ((pf / sf) / (pt / st));
}

DeriveRatios derive_ratios(const Datasheet& from, const Datasheet& to) {
  DeriveRatios r;
  r.from = &from;
  r.to = &to;
  r.hbm = from.hbm_bandwidth_Bps / to.hbm_bandwidth_Bps;
  r.sm = (from.sm_count * from.boost_clock_MHz) / (to.sm_count * to.boost_clock_MHz);
  return r;
}

double derive_tensor_time_s(double t_s, double floor_s, double bytes, double flops, double copy_Bps,
                            double achieved_flops_per_s, double hbm_ratio, double tensor_ratio) {
  const double g = std::max(0.0, t_s - floor_s);  // GPU-side time above the launch floor
  const double hbm_s = bytes / copy_Bps;
  const double sm_s = g > hbm_s ? g : std::min(g, flops / achieved_flops_per_s);
  return floor_s + std::max(std::min(hbm_s, g) * hbm_ratio, sm_s * tensor_ratio);
}

namespace {
OrderedJson derived(double v, const std::string& note) {
  return {{"value", v}, {"provenance", "derived"}, {"note", note}};
}

// How a derivation scales: the base profile's name, the two datasheets, and the notes' wording.
struct Derivation {
  std::string base;  // "h200's" in notes
  const Datasheet &from, &to;
  // "989/2250 (dense_TFLOPs.bf16 of datasheets h200 / b200)": the factor a base value is multiplied by.
  std::string ratio(const std::string& field, double num_v, double den_v, bool from_over_to) const {
    return num(num_v) + "/" + num(den_v) + " (" + field + " of datasheets " + (from_over_to ? from.key : to.key) +
           " / " + (from_over_to ? to.key : from.key) + ")";
  }
};

// How one curve's per-byte time becomes the target's: `beta_of(beta)` the value, `rule(beta)` the
// words after "s/B" in its note (" x RATIO", or the roofline of an SM-bound op).
struct BetaRule {
  std::function<double(double)> beta_of;
  std::function<std::string(double)> rule;
};

OrderedJson scale_curve(const OrderedJson& c, const std::string& path, const BetaRule& r, const std::string& summary,
                        const Derivation& dv) {
  const std::string of = "derived from " + dv.base + " " + path;
  OrderedJson o = {{"provenance", "derived"}, {"note", of + " curve: " + summary + ", alpha not scaled"}};
  const double alpha = c["alpha_s"]["value"].get<double>(), base_beta = c["beta_s_per_byte"]["value"].get<double>();
  o["alpha_s"] = derived(alpha, of + ".alpha_s " + num(alpha) + " s, not scaled (latency is host/launch-bound)");
  const double beta = r.beta_of(base_beta);
  o["beta_s_per_byte"] = derived(beta, of + ".beta_s_per_byte " + num(base_beta) + " s/B" + r.rule(base_beta));
  o["bandwidth_Bps"] = derived(1 / beta, "1 / beta_s_per_byte (" + of + ".beta_s_per_byte" + r.rule(base_beta) + ")");
  OrderedJson segs = OrderedJson::array();
  for (std::size_t i = 0; i < c["segments"].size(); ++i) {
    const auto& s = c["segments"][i];
    const std::string sp = of + ".segments[" + std::to_string(i) + "]";
    const double sa = s["alpha_s"]["value"].get<double>(), sb = s["beta_s_per_byte"]["value"].get<double>();
    segs.push_back(
        {{"from_bytes", s["from_bytes"]},
         {"to_bytes", s["to_bytes"]},
         {"points", s["points"]},
         {"alpha_s", derived(sa, sp + ".alpha_s " + num(sa) + " s, not scaled")},
         {"beta_s_per_byte", derived(r.beta_of(sb), sp + ".beta_s_per_byte " + num(sb) + " s/B" + r.rule(sb))}});
  }
  o["segments"] = segs;
  return o;
}
BetaRule times(double scale, const std::string& ratio) {
  return {[scale](double b) { return b * scale; }, [ratio](double) { return " x " + ratio; }};
}
// A memory-bound op's curve: a per-byte time at or below the copy's (`copy_beta`, HBM's on the
// base) is HBM-bound and scales by the HBM ratio; one above it was bound by the SMs on the base
// (its arithmetic, reductions or random numbers took longer than its bytes) and becomes the
// roofline max(copy_beta x HBM ratio, beta x SM ratio) on the target.
BetaRule op_roofline(double copy_beta, double hbm, const std::string& hbm_text, double sm, const std::string& sm_text,
                     const std::string& copy_path) {
  return {[=](double b) { return b > copy_beta ? std::max(copy_beta * hbm, b * sm) : b * hbm; },
          [=](double b) {
            if (!(b > copy_beta))
              return ", HBM-bound there (at most " + copy_path + " " + num(copy_beta) + " s/B) x " + hbm_text;
            return ", SM-bound there (above " + copy_path + " " + num(copy_beta) + " s/B): max(" + num(copy_beta) +
                   " x " + hbm_text + ", " + num(b) + " x " + sm_text + ")";
          }};
}

std::string dtype_list(const OrderedJson& gemm) {
  std::string s;
  for (auto it = gemm.begin(); it != gemm.end(); ++it) s += (s.empty() ? "" : ", ") + it.key();
  return s.empty() ? "none" : s;
}
}  // namespace

OrderedJson derive_profile(const OrderedJson& base, const std::string& target, const FitOptions& opt) {
  std::string key;
  for (char c : target) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const Datasheet* to = find_datasheet(key);
  if (!to || to->key != key) {  // a key, not a GPU name
    std::string keys;
    for (const auto& k : datasheet_keys()) keys += (keys.empty() ? "" : ", ") + k;
    throw InputError("knee fit: --derive: expected a built-in datasheet (" + keys + ") or --datasheet FILE, got '" +
                     target + "'");
  }
  return derive_profile(base, *to, opt, nullptr, true);
}

OrderedJson derive_profile(const OrderedJson& base, const Datasheet& to, const FitOptions& opt,
                           const Datasheet* from_sheet, bool skip_unmeasured) {
  const std::string base_name = base.value("name", std::string()), base_gpu = base.value("gpu", std::string());
  const Datasheet* fp = from_sheet ? from_sheet : find_datasheet(base_gpu);
  if (!fp) {
    std::string keys;
    for (const auto& k : datasheet_keys()) keys += (keys.empty() ? "" : ", ") + k;
    throw InputError("knee fit: base profile: $.gpu: expected a GPU with a built-in datasheet (" + keys +
                     ") or --base-datasheet FILE, got '" + base_gpu + "'");
  }
  const Datasheet& from = *fp;
  const Derivation dv{"'" + base_name + "'", from, to};
  const OrderedJson& bc = base["compute"];

  // Every dtype the base measured needs both peaks; every dtype the target has, a base table.
  for (auto it = bc["gemm"].begin(); it != bc["gemm"].end(); ++it) {
    const std::string dt = it.key();
    if (!to.gives_peak(dt))
      throw_input_error(
          to.origin, "$.dense_TFLOPs." + dt,
          "the dense " + dt + " TFLOP/s (0 if the GPU has none): base profile '" + base_name + "' measured " + dt,
          "no such field");
    if (to.peak(dt) > 0 && !(from.peak(dt) > 0))
      throw_input_error(
          from.origin, "$.dense_TFLOPs." + dt,
          "the base GPU's dense " + dt + " TFLOP/s > 0 (base profile '" + base_name + "' measured " + dt + ")",
          from.gives_peak(dt) ? num(from.peak(dt)) : "no such field");
  }
  std::string skipped;
  for (const auto& [dt, v] : to.dense_TFLOPs)
    if (v > 0 && !bc["gemm"].contains(dt) && skip_unmeasured) skipped += (skipped.empty() ? "" : ", ") + dt;
    else if (v > 0 && !bc["gemm"].contains(dt))
      throw_input_error(to.origin, "$.dense_TFLOPs." + dt,
                        "a dtype base profile '" + base_name + "' measured (" + dtype_list(bc["gemm"]) +
                            "), or 0 to derive without " + dt,
                        num(v) + " for " + dt + ", which the base never measured");
  const bool has_attention = base.contains("attention") && !base["attention"]["samples"].empty();
  if (has_attention && !(to.peak("bf16") > 0 && from.peak("bf16") > 0))
    throw_input_error(to.origin, "$.dense_TFLOPs.bf16",
                      "a dense bf16 TFLOP/s > 0 in both datasheets (attention scales by the bf16 ratio)",
                      num(to.peak("bf16")));

  OrderedJson p;
  p["schema_version"] = 1;
  p["name"] = opt.name.empty() ? to.key : opt.name;
  p["gpu"] = to.gpu;
  p["description"] = "derived from profile '" + base_name + "' (" + base_gpu + ") by mechanism and the datasheets " +
                     from.origin + " and " + to.origin + "; see docs/calibration.md";
  p["derivation"] = {{"method",
                      "mechanisms: HBM/SM rooflines per kernel, tensor waves over the SMs, datasheet ratios "
                      "(docs/calibration.md, \"Derived profiles\")"},
                     {"base_profile", base_name},
                     {"base_gpu", base_gpu},
                     {"base_state", parameters_state_of(base)},
                     {"base_datasheet", from.origin},
                     {"datasheet", to.origin},
                     {"datasheet_gpu", to.gpu}};
  if (!skipped.empty())
    p["derivation"]["dtypes_not_derived"] =
        skipped + ": the datasheet gives them, base profile '" + base_name + "' never measured them";
  OrderedJson m = base["manifest"];
  m.erase("parameters_digest");
  m["gpu_name"] = to.gpu;
  m["command_line"] = opt.command_line;
  m["git_revision"] = opt.git_revision;
  m["power_limit_W"] = to.tdp_W;
  m["clocks"] = {{"datasheet_boost_MHz", to.boost_clock_MHz}};
  if (to.base_clock_MHz > 0) m["clocks"]["datasheet_base_MHz"] = to.base_clock_MHz;
  m["extra"] = {{"derived_from", base_name}, {"base_manifest_date", m["date"]}};
  p["manifest"] = m;

  const DeriveRatios R = derive_ratios(from, to);
  const std::string hbm_text = dv.ratio("hbm_bandwidth_Bps", from.hbm_bandwidth_Bps, to.hbm_bandwidth_Bps, true);
  const std::string sm_text = num(from.sm_count) + "*" + num(from.boost_clock_MHz) + "/" + num(to.sm_count) + "*" +
                              num(to.boost_clock_MHz) + " (sm_count x boost_clock_MHz of datasheets " + from.key +
                              " / " + to.key + ")";
  const OrderedJson& bm = base["memory"];
  // The base's HBM, as its copies measured it: the per-byte time every kernel's bytes are held against.
  const double copy_beta = bm["copy"]["beta_s_per_byte"]["value"].get<double>();

  // compute: each GEMM sample split into its HBM part (A, B and C once at the copy bandwidth) and
  // its tensor part (waves of tiles at the per-SM peak), derive_tensor_time_s.
  OrderedJson peak = OrderedJson::object(), gemm = OrderedJson::object();
  double bf16_floor = 0;
  for (auto it = bc["gemm"].begin(); it != bc["gemm"].end(); ++it) {
    const std::string dt = it.key();
    const double pt = to.peak(dt), pf = from.peak(dt);
    if (pt <= 0) continue;  // the target has no such tensor-core mode
    const std::string field = "dense_TFLOPs." + dt;
    const double ratio = pt / pf;
    const double floor = it.value()["floor_s"]["value"].get<double>();
    if (dt == "bf16") bf16_floor = floor;
    const double achieved = bc["peak_tflops"][dt]["achieved"]["value"].get<double>();
    OrderedJson samples = OrderedJson::array();
    int hbm_bound = 0;
    for (const auto& s : it.value()["samples"]) {
      const double m = s["m"].get<double>(), n = s["n"].get<double>(), k = s["k"].get<double>();
      const double flops = 2.0 * m * n * k, bytes = (m * k + k * n + m * n) * elt_bytes(dt);
      const double tr = R.tensor(dt, std::ceil(m / kTile) * std::ceil(n / kTile));
      auto derive = [&](double t) {
        return derive_tensor_time_s(t, floor, bytes, flops, 1 / copy_beta, achieved * 1e12, R.hbm, tr);
      };
      const double t0 = s["median_s"].get<double>();
      hbm_bound += !(t0 - floor > bytes * copy_beta);
      const double t = derive(t0);
      samples.push_back({{"m", s["m"]},
                         {"n", s["n"]},
                         {"k", s["k"]},
                         {"label", s["label"]},
                         {"median_s", t},
                         {"ci95_s", {derive(s["ci95_s"][0].get<double>()), derive(s["ci95_s"][1].get<double>())}},
                         {"reps", 0},
                         {"outliers", 0},
                         {"tflops", flops / t / 1e12}});
    }
    const std::string of = "derived from " + dv.base + " compute.gemm." + dt;
    OrderedJson fl = derived(floor, of + ".floor_s " + num(floor) + " s, not scaled (the launch floor is host time)");
    gemm[dt] = {
        {"provenance", "derived"},
        {"floor_s", fl},
        {"samples", samples},
        {"note", of + ".samples: each median and interval end t as floor_s + max(H x " + hbm_text +
                     ", S x waves_target/waves_base x per-SM peak " + dv.ratio(field, pf, pt, true) + " x " +
                     num(to.sm_count) + "/" + num(from.sm_count) +
                     "), H = (mk + kn + mn) bytes at memory.copy's rate (capped at t - floor_s), S = t - floor_s when "
                     "above H, else min(t - floor_s, 2mnk at the achieved peak); waves = ceil(tiles / sm_count) of "
                     "128x128 output tiles (assumed); " +
                     std::to_string(hbm_bound) + " of " + std::to_string(samples.size()) + " samples HBM-bound on " +
                     dv.base}};
    peak[dt] = {
        {"achieved", derived(achieved * ratio, "derived from " + dv.base + " compute.peak_tflops." + dt + ".achieved " +
                                                   num(achieved) + " TFLOP/s x " + dv.ratio(field, pt, pf, false))},
        {"datasheet", sheet_param(to, field, pt)}};
  }
  p["compute"] = {{"interpolation", bc["interpolation"]}, {"peak_tflops", peak}, {"gemm", gemm}};

  // memory: the copy is HBM's own curve; each op is HBM- or SM-bound as the base measured it.
  OrderedJson mem;
  mem["capacity_bytes"] = sheet_param(to, "hbm_capacity_bytes", to.hbm_capacity_bytes);
  if (to.l2_bytes > 0) mem["l2_bytes"] = sheet_param(to, "l2_bytes", to.l2_bytes);
  mem["datasheet_bandwidth_Bps"] = sheet_param(to, "hbm_bandwidth_Bps", to.hbm_bandwidth_Bps);
  mem["copy"] = scale_curve(bm["copy"], "memory.copy", times(R.hbm, hbm_text), "beta x " + hbm_text, dv);
  OrderedJson ops = OrderedJson::object();
  const BetaRule roof = op_roofline(copy_beta, R.hbm, hbm_text, R.sm, sm_text, "memory.copy.beta_s_per_byte");
  for (auto it = bm["ops"].begin(); it != bm["ops"].end(); ++it)
    ops[it.key()] = scale_curve(it.value(), "memory.ops." + it.key(), roof,
                                "each beta HBM-bound (x the HBM ratio) or SM-bound (roofline) as on the base", dv);
  mem["ops"] = ops;
  p["memory"] = mem;

  // attention: flash kernels split like a bf16 GEMM. Bytes: Q, K, V read and O written (forward),
  // and again Q, K, V, O, dO read with dQ, dK, dV written (backward); FLOPs: 4 b h s^2 d, half of it
  // when causal, x 3.5 with the backward (2.5 forwards); tiles: one per 128 queries of a (b, h).
  const std::string bf16_ratio_text =
      has_attention ? dv.ratio("dense_TFLOPs.bf16", from.peak("bf16"), to.peak("bf16"), true) : "";
  OrderedJson att = {
      {"provenance", "derived"},
      {"samples", OrderedJson::array()},
      {"note",
       "derived from " + dv.base + " attention.samples: t as the bf16 floor_s " + num(bf16_floor) + " s + max(H x " +
           hbm_text + ", S x waves_target/waves_base x per-SM peak " + bf16_ratio_text +
           "), H the kernel's Q, K, V, O (and gradient) bytes at memory.copy's rate, S the rest (as for GEMMs)"}};
  if (base.contains("attention")) {
    const double achieved = bc["peak_tflops"].contains("bf16")
                                ? bc["peak_tflops"]["bf16"]["achieved"]["value"].get<double>() * 1e12
                                : from.peak("bf16") * 1e12;
    for (std::size_t i = 0; i < base["attention"]["samples"].size(); ++i) {
      const auto& s = base["attention"]["samples"][i];
      OrderedJson e = {{"batch", s["batch"]},
                       {"heads", s["heads"]},
                       {"seq", s["seq"]},
                       {"head_dim", s["head_dim"]},
                       {"causal", s["causal"]}};
      const double b = s["batch"].get<double>(), h = s["heads"].get<double>(), q = s["seq"].get<double>(),
                   d = s["head_dim"].get<double>();
      const double tr = R.tensor("bf16", b * h * std::ceil(q / kTile));
      const double fwd_flops = 4 * b * h * q * q * d * (s["causal"].get<bool>() ? 0.5 : 1);
      for (const char* k : {"fwd", "fwd_bwd"}) {
        const bool bwd = std::string(k) == "fwd_bwd";
        const double bytes = (bwd ? 12 : 4) * b * h * q * d * 2, flops = fwd_flops * (bwd ? 3.5 : 1);
        const double t = s[k]["value"].get<double>();
        const double td = derive_tensor_time_s(t, bf16_floor, bytes, flops, 1 / copy_beta, achieved, R.hbm, tr);
        e[k] = derived(td, "derived from " + dv.base + " attention.samples[" + std::to_string(i) + "]." + k + " " +
                               num(t) + " s: floor_s + max(H x " + hbm_text + ", S x " + num(tr) +
                               " (waves and per-SM peak " + bf16_ratio_text + "))");
      }
      att["samples"].push_back(e);
    }
  }
  p["attention"] = att;

  OrderedJson launch = OrderedJson::object();
  for (auto it = base["launch"].begin(); it != base["launch"].end(); ++it) {
    const double v = it.value()["value"].get<double>();
    launch[it.key()] = derived(
        v, "derived from " + dv.base + " launch." + it.key() + " " + num(v) + " s, not scaled (host-side cost)");
  }
  p["launch"] = launch;

  OrderedJson links = OrderedJson::object();
  const double pcie = std::pow(2.0, from.pcie_gen - to.pcie_gen);  // each PCIe generation doubles the rate
  const std::string pcie_ratio = "2^(" + std::to_string(from.pcie_gen) + " - " + std::to_string(to.pcie_gen) +
                                 ") (pcie_gen of datasheets " + from.key + " / " + to.key + ")";
  for (auto it = base["links"].begin(); it != base["links"].end(); ++it) {
    if (it.key().rfind("host_", 0) != 0) continue;
    links[it.key()] = scale_curve(it.value(), "links." + it.key(), times(pcie, pcie_ratio), "beta x " + pcie_ratio, dv);
  }
  add_datasheet_links(links, to);
  p["links"] = links;

  const OrderedJson& bp = base["power"];
  OrderedJson pw;
  const double pr = to.tdp_W / from.tdp_W;
  for (const char* k : {"idle_W", "compute_W", "memory_W"}) {
    const double v = bp[k]["value"].get<double>();
    pw[k] = derived(v * pr, "derived from " + dv.base + " power." + k + " " + num(v) + " W x " +
                                dv.ratio("tdp_W", to.tdp_W, from.tdp_W, false));
  }
  pw["tdp_W"] = sheet_param(to, "tdp_W", to.tdp_W);
  pw["note"] = bp["note"];
  p["power"] = pw;
  if (base.contains("variability")) {  // assumed the same on the target: a fleet's spread, not the chip's
    OrderedJson v = OrderedJson::object();
    for (auto it = base["variability"].begin(); it != base["variability"].end(); ++it) {
      const double x = it.value()["value"].get<double>();
      v[it.key()] = derived(x, "derived from " + dv.base + " variability." + it.key() + " " + num(x) +
                                   ", not scaled (a fleet's spread, not the chip's)");
    }
    p["variability"] = v;
  }
  if (base.contains("interference")) {  // dimensionless costs: assumed the same on the target
    const OrderedJson& bi = base["interference"];
    OrderedJson in;
    for (const char* k : {"held_sm_cost", "hbm_share_cost"}) {
      const double x = bi[k]["value"].get<double>();
      in[k] = derived(x, "derived from " + dv.base + " interference." + k + " " + num(x) +
                             ", not scaled (a cost per held SM or per byte of HBM share)");
    }
    in["sm_count"] = to.sm_count;
    p["interference"] = in;
  }
  stamp_parameters_digest(p);
  return p;
}

}  // namespace knee
