// A placement study (`knee sweep CLUSTER.json --placements packed,spread,random`, docs/workloads.md
// "Jobs sharing a cluster"): the cluster file simulated once per placement, every job placed by it
// (explicit node ranges replaced; random with each job's seed), so that each job's slowdown can be
// read across placements.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/cluster/cluster_file.hpp"
#include "workloads/cluster/cluster_result.hpp"

namespace knee::cluster {

struct PlacementPoint {
  PlacementKind placement;
  ClusterResult result;
};

// `placements` from a list such as "packed,spread,random"; InputError naming `what` otherwise.
std::vector<PlacementKind> parse_placement_list(const std::string& text, const std::string& what);

std::vector<PlacementPoint> sweep_placements(const ClusterFile& c, const std::vector<PlacementKind>& placements);

// {"placements": [{"placement": ..., and the cluster result's fields}, ...]}.
nlohmann::ordered_json to_json(const std::vector<PlacementPoint>& points);

}  // namespace knee::cluster
