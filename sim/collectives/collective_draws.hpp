// 95% intervals on a collective's time, algbw and busbw from draws of the link parameters
// (docs/uncertainty.md, "Collectives"): a profile's nvlink and network alpha (latency) and beta
// (seconds per byte) drawn within their ci95 and run-to-run differences (profile/profile_draw.hpp),
// each draw applied to the topology's links of that class as a ratio to the profile's own value
// (bandwidth x beta / beta_drawn, latency x alpha_drawn / alpha), the collective simulated again
// on each, and each figure's spread turned into an interval (common/draw_interval.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile.hpp"
#include "profile/profile_draw.hpp"
#include "sim/collectives/collective.hpp"

namespace knee {

struct CollectiveDrawOptions {
  int samples = 0;  // N >= 2 profile draws; 0: none
  std::uint64_t seed = 0;
  DrawSources sources;
  int threads = 0;  // 0: every core (the output does not depend on it)
};

// A draw's factors on the topology's links: bandwidths and latencies of each class, relative to
// the nominal. 1 exactly where the profile's value has no interval.
struct LinkDrawFactors {
  double nvlink_bw = 1, nvlink_latency = 1, network_bw = 1, network_latency = 1;
};
// The factors of `drawn` (a draw of `base`): bw = beta(base) / beta(drawn), latency =
// alpha(drawn) / alpha(base), for the classes "nvlink" and "network" (1 where a class is absent).
LinkDrawFactors link_draw_factors(const Profile& base, const Profile& drawn);
// `topo` with the factors applied to its nvlink and network links.
Topology drawn_topology(const Topology& topo, const LinkDrawFactors& f);
// The profile seed of each draw, from `seed`.
std::vector<std::uint64_t> collective_draw_seeds(std::uint64_t seed, int samples);

// For each size (nominal[i] is simulate_collective at sizes[i]): the `intervals` object of its
// result, {"level": 0.95, "samples", "method", "profile", "sources", "excluded", "time_s": [lo, hi],
// "algbw_GBps": [lo, hi], "busbw_GBps": [lo, hi]}. samples < 2 is an InputError naming `what`.
std::vector<nlohmann::ordered_json> collective_intervals(const Topology& topo, const NcclParams& params,
                                                         const CollOptions& o, const std::vector<CollResult>& nominal,
                                                         const Profile& profile, const CollectiveDrawOptions& d,
                                                         const std::string& what);

}  // namespace knee
