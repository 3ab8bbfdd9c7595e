// A cluster file (docs/scenarios.md, "Cluster files"): the system, nodes and fabric once, then
// "jobs", each a training scenario with its placement; read strictly once. Every job's scenario
// becomes a Scenario on its own nodes with the cluster's system and fabric; the cluster's "faults"
// (a scenario's simulation.degraded_links, failed_links, failed_nics) apply to every job.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "topologies/cluster_spec.hpp"
#include "workloads/training/scenario.hpp"

namespace knee::cluster {

enum class PlacementKind { packed, spread, random, nodes };

struct PlacementSpec {
  PlacementKind kind = PlacementKind::packed;
  std::uint64_t seed = 0;                                     // random
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // nodes: [first, last], inclusive, in rank order
};

struct JobSpec {
  std::string name;
  std::string path;   // "$.jobs[i]", for messages
  Scenario scenario;  // gpus = tp x pp x dp x cp, nodes = gpus / GPUs per node
  PlacementSpec placement;
};

struct ClusterFile {
  std::string source;
  ClusterSpec spec;  // nodes and gpus: the whole cluster
  std::vector<JobSpec> jobs;
  Faults faults;  // $.faults: degraded links, failed links and NICs, for every job (a broken cable is everyone's)
};

// A scenario file with a "jobs" key is a cluster file.
bool is_cluster_file(const nlohmann::json& j);
// `base_dir`: where job scenarios given as paths are looked up (the cluster file's folder).
// InputErrors name the file, the key ("$.jobs[1].placement.nodes") and what was expected.
ClusterFile parse_cluster_file(const nlohmann::json& j, const std::string& source, const std::string& base_dir);
ClusterFile load_cluster_file(const std::string& path);

const char* to_string(PlacementKind k);
// "packed", "random (seed 3)", "nodes 0-1,4-5".
std::string describe(const PlacementSpec& p);

}  // namespace knee::cluster
