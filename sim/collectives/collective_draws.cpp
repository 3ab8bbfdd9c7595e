// Collectives simulated again on drawn link parameters, and the intervals of their figures.
#include "sim/collectives/collective_draws.hpp"

#include <array>

#include "common/draw_interval.hpp"
#include "common/error.hpp"
#include "common/parallel_draws.hpp"
#include "common/random.hpp"

namespace knee {
namespace {

using Json = nlohmann::ordered_json;

bool has_class(const Profile& p, const std::string& cls) {
  for (const auto& c : p.link_classes())
    if (c == cls) return true;
  return false;
}

// b / a, exactly 1 when they are equal (a value without an interval is not drawn).
double ratio(double b, double a) { return b == a || !(a > 0) ? 1.0 : b / a; }

}  // namespace

LinkDrawFactors link_draw_factors(const Profile& base, const Profile& drawn) {
  LinkDrawFactors f;
  if (has_class(base, "nvlink")) {
    const auto a = base.link("nvlink"), b = drawn.link("nvlink");
    f.nvlink_bw = ratio(a.beta_s_per_byte, b.beta_s_per_byte);
    f.nvlink_latency = ratio(b.alpha_s, a.alpha_s);
  }
  if (has_class(base, "network")) {
    const auto a = base.link("network"), b = drawn.link("network");
    f.network_bw = ratio(a.beta_s_per_byte, b.beta_s_per_byte);
    f.network_latency = ratio(b.alpha_s, a.alpha_s);
  }
  return f;
}

Topology drawn_topology(const Topology& topo, const LinkDrawFactors& f) {
  Topology t = topo;
  t.scale_links(LinkClass::nvlink, f.nvlink_bw, f.nvlink_latency);
  t.scale_links(LinkClass::network, f.network_bw, f.network_latency);
  return t;
}

std::vector<std::uint64_t> collective_draw_seeds(std::uint64_t seed, int samples) {
  Random r(seed ^ 0xc011ec7e5d4a3b21ULL);
  std::vector<std::uint64_t> out;
  for (int i = 0; i < samples; ++i) out.push_back(r.next());
  return out;
}

std::vector<Json> collective_intervals(const Topology& topo, const NcclParams& params, const CollOptions& o,
                                       const std::vector<CollResult>& nominal, const Profile& profile,
                                       const CollectiveDrawOptions& d, const std::string& what) {
  if (d.samples < 2)
    throw InputError(what + ": samples: expected 0 (no intervals) or an integer >= 2, got " +
                     std::to_string(d.samples));
  const auto seeds = collective_draw_seeds(d.seed, d.samples);
  struct Drawn {
    LinkDrawFactors f;
    std::vector<std::array<double, 3>> v;  // time, algbw, busbw per size
  };
  const std::vector<Drawn> drawn = parallel_draws<Drawn>(
      d.samples,
      [&](int i) {
        Drawn out;
        CollOptions od = o;  // each draw its own (they run on several threads)
        od.record_transfers = false;
        const Profile p = Profile::from_json(
            draw_profile(profile.json(), seeds[static_cast<std::size_t>(i)], d.sources), profile.name() + " (a draw)");
        out.f = link_draw_factors(profile, p);
        const LinkDrawFactors& f = out.f;
        const bool same = f.nvlink_bw == 1 && f.nvlink_latency == 1 && f.network_bw == 1 && f.network_latency == 1;
        const Topology t = same ? Topology() : drawn_topology(topo, f);
        for (const CollResult& n : nominal) {
          if (same) {  // nothing moved: the nominal result, exactly
            out.v.push_back({n.time_s, n.algbw_GBps, n.busbw_GBps});
            continue;
          }
          od.bytes = n.bytes;
          const CollResult r = simulate_collective(t, params, od, what);
          out.v.push_back({r.time_s, r.algbw_GBps, r.busbw_GBps});
        }
        return out;
      },
      d.threads);

  bool moved[4] = {false, false, false, false};  // nvlink bw, latency, network bw, latency
  for (const auto& x : drawn) {
    moved[0] |= x.f.nvlink_bw != 1;
    moved[1] |= x.f.nvlink_latency != 1;
    moved[2] |= x.f.network_bw != 1;
    moved[3] |= x.f.network_latency != 1;
  }
  Json head;
  head["level"] = 0.95;
  head["samples"] = d.samples;
  head["method"] =
      "Monte Carlo over draws of the profile's link parameters, applied to the topology's links as ratios: mean -/+ "
      "t(0.975, samples - 1) x sd x sqrt(1 + 1/samples) of each figure (docs/uncertainty.md)";
  head["profile"] = profile.name();
  Json sources = Json::array(), excluded = Json::array();
  const char* names[4] = {"nvlink beta (bandwidth)", "nvlink alpha (latency)", "network beta (bandwidth)",
                          "network alpha (latency)"};
  for (int k = 0; k < 4; ++k) {
    if (moved[k])
      sources.push_back(std::string("profile ") + profile.name() + "'s " + names[k] + ": its ci95 and run-to-run");
    else
      excluded.push_back(std::string(names[k]) + ": no interval in profile " + profile.name() +
                         " (datasheet or assumed: held fixed)");
  }
  excluded.push_back("PCIe links (GPU to NIC): datasheet values");
  excluded.push_back("NCCL's tuning constants (published), the link efficiencies and per-channel caps (assumed)");
  excluded.push_back("the model's own error against nccl-tests");
  head["sources"] = sources;
  head["excluded"] = excluded;

  std::vector<Json> out;
  const char* keys[3] = {"time_s", "algbw_GBps", "busbw_GBps"};
  for (std::size_t s = 0; s < nominal.size(); ++s) {
    Json j = head;
    for (int k = 0; k < 3; ++k) {
      std::vector<double> v;
      for (const auto& x : drawn) v.push_back(x.v[s][static_cast<std::size_t>(k)]);
      const DrawInterval iv = prediction_interval(v);
      j[keys[k]] = Json::array({iv.lo, iv.hi});
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace knee
