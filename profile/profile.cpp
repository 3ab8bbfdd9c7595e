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
#include "profile/profile_impl.hpp"

namespace knee {

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
  auto impl = std::make_shared<Impl>(profile_detail::parse_profile(j, source));
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
  throw InputError("profile '" + name + "': expected a built-in profile (" + profile_detail::key_list(builtin_names()) +
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
    impl_->fail("$.compute.gemm." + dtype, "a dtype this profile has (" + profile_detail::key_list(gemm_dtypes()) + ")",
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
    impl_->fail("$.memory.ops." + op, "an op this profile has (" + profile_detail::key_list(names) + ")",
                "none for '" + op + "'");
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
    impl_->fail("$.links." + cls, "a link class this profile has (" + profile_detail::key_list(link_classes()) + ")",
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
