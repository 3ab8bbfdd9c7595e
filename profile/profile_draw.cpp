#include "profile/profile_draw.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "common/random.hpp"

namespace knee {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kZ975 = 1.959963984540054;

std::uint64_t fnv1a64(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// The standard normal of `family` for one source in the draw `seed`: from these alone.
double family_z(std::uint64_t seed, const std::string& family, const char* source) {
  Random r(seed ^ fnv1a64(family + "|" + source));
  r.next();  // decorrelate neighbouring seeds before the first normal
  return r.normal();
}

double sd_from_interval(double v, double lo, double hi) {
  if (!(hi > lo)) return 0;
  if (lo > 0) return std::min(1.0, std::log(hi / lo) / (2 * kZ975));
  return std::min(1.0, (hi - lo) / (2 * kZ975 * v));
}

double sd_from_second_run(double v, double other) {
  if (!(other > 0)) return 0;
  return std::min(1.0, std::fabs(std::log(other / v)) / std::sqrt(2.0));
}

bool is_number(const Json& o, const char* key) { return o.contains(key) && o.at(key).is_number(); }

struct Walker {
  std::uint64_t seed;
  DrawSources sources;
  DrawCounts counts;
  std::set<std::string> families;

  // value *= exp(z_ci s_ci + z_rr s_rr); returns the multiplier (1 when nothing was drawn).
  double draw(const std::string& family, double s_ci, double s_rr) {
    double e = 0;
    if (sources.parameters && s_ci > 0) e += family_z(seed, family, "ci95") * s_ci;
    if (sources.run_to_run && s_rr > 0) e += family_z(seed, family, "run_to_run") * s_rr;
    if (e == 0) {
      ++counts.without_interval;
      return 1;
    }
    ++counts.drawn;
    families.insert(family);
    return std::exp(e);
  }

  static std::string family_of(const std::vector<std::string>& path) {
    std::string f;
    for (const auto& k : path)
      if (k != "segments") f += "/" + k;
    return f;
  }

  // A GEMM (or copy) sample: {"median_s", "ci95_s"?, "other_run_median_s"?, "tflops"?, ...}.
  void sample(Json& o, std::vector<std::string>& path) {
    const double v = o.at("median_s").get<double>();
    if (!(v > 0)) return;
    double s_ci = 0, s_rr = 0;
    if (o.contains("ci95_s") && o.at("ci95_s").size() == 2)
      s_ci = sd_from_interval(v, o.at("ci95_s")[0].get<double>(), o.at("ci95_s")[1].get<double>());
    if (is_number(o, "other_run_median_s")) s_rr = sd_from_second_run(v, o.at("other_run_median_s").get<double>());
    path.push_back("median_s");
    const double m = draw(family_of(path), s_ci, s_rr);
    path.pop_back();
    o["median_s"] = v * m;
    if (is_number(o, "tflops")) o["tflops"] = o.at("tflops").get<double>() / m;
  }

  // A parameter: {"value", "provenance", "ci95"?, "run_to_run"?, ...}.
  void parameter(Json& o, const std::vector<std::string>& path) {
    const double v = o.at("value").get<double>();
    if (!(v > 0)) return;
    double s_ci = 0, s_rr = 0;
    if (o.contains("ci95") && o.at("ci95").is_array() && o.at("ci95").size() == 2)
      s_ci = sd_from_interval(v, o.at("ci95")[0].get<double>(), o.at("ci95")[1].get<double>());
    if (o.contains("run_to_run") && is_number(o.at("run_to_run"), "other_value"))
      s_rr = sd_from_second_run(v, o.at("run_to_run").at("other_value").get<double>());
    o["value"] = v * draw(family_of(path), s_ci, s_rr);
  }

  void walk(Json& node, std::vector<std::string>& path) {
    if (node.is_array()) {
      for (auto& e : node) walk(e, path);
      return;
    }
    if (!node.is_object()) return;
    if (is_number(node, "median_s")) return sample(node, path);
    if (is_number(node, "value")) return parameter(node, path);
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string& k = it.key();
      if (path.empty() && (k == "manifest" || k == "derivation")) continue;
      // Datasheet figures are not measurements; bandwidth_Bps follows beta_s_per_byte below.
      if (k == "datasheet" || k == "datasheet_bandwidth_Bps" || k == "bandwidth_Bps") continue;
      path.push_back(k);
      walk(it.value(), path);
      path.pop_back();
    }
    if (node.contains("beta_s_per_byte") && node.contains("bandwidth_Bps") && node.at("bandwidth_Bps").is_object() &&
        is_number(node.at("beta_s_per_byte"), "value") && node.at("beta_s_per_byte").at("value").get<double>() > 0)
      node["bandwidth_Bps"]["value"] = 1 / node.at("beta_s_per_byte").at("value").get<double>();
  }
};

}  // namespace

Json draw_profile(const Json& profile, std::uint64_t seed, const DrawSources& sources, DrawCounts* counts) {
  Json out = profile;
  Walker w{seed, sources, {}, {}};
  std::vector<std::string> path;
  w.walk(out, path);
  w.counts.families = static_cast<int>(w.families.size());
  if (counts) *counts = w.counts;
  return out;
}

}  // namespace knee
