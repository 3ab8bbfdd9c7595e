// The cluster file once per placement (placement_sweep.hpp).
#include "workloads/cluster/placement_sweep.hpp"

#include "common/error.hpp"
#include "workloads/cluster/cluster_result_schema.hpp"
#include "workloads/cluster/cluster_sim.hpp"

namespace knee::cluster {

std::vector<PlacementKind> parse_placement_list(const std::string& text, const std::string& what) {
  std::vector<PlacementKind> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    const std::size_t j = std::min(text.find(',', i), text.size());
    const std::string w = text.substr(i, j - i);
    if (w == "packed") out.push_back(PlacementKind::packed);
    else if (w == "spread") out.push_back(PlacementKind::spread);
    else if (w == "random") out.push_back(PlacementKind::random);
    else throw InputError(what + ": expected a comma-separated list of packed, spread, random, got '" + text + "'");
    i = j + 1;
  }
  return out;
}

std::vector<PlacementPoint> sweep_placements(const ClusterFile& c, const std::vector<PlacementKind>& placements) {
  std::vector<PlacementPoint> out;
  for (PlacementKind k : placements) {
    ClusterFile p = c;
    for (JobSpec& j : p.jobs) {
      j.placement.kind = k;
      j.placement.ranges.clear();
    }
    out.push_back({k, simulate_cluster(p)});
  }
  return out;
}

nlohmann::ordered_json to_json(const std::vector<PlacementPoint>& points) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const PlacementPoint& p : points) {
    nlohmann::ordered_json o;
    o["placement"] = to_string(p.placement);
    const nlohmann::ordered_json r = to_json(p.result);
    for (auto it = r.begin(); it != r.end(); ++it) o[it.key()] = it.value();
    a.push_back(std::move(o));
  }
  return {{"placements", a}};
}

}  // namespace knee::cluster
