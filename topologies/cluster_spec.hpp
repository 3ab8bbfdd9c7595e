// The cluster a scenario runs on: $.system, $.nodes, $.gpus and $.fabric of a scenario file
// (docs/scenarios.md), read strictly once for every kind of workload (training, serving).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "topologies/fabric.hpp"

namespace knee {

class JsonObject;  // common/json_reader.hpp

struct ClusterSpec {
  std::string system_name;  // as written ("dgx-h100" or a path)
  SystemSpec system;
  std::int64_t nodes = 0, gpus = 0;
  FabricOptions fabric;
};

// Reads system, nodes, gpus and fabric from `root` (the scenario object `j`, from `source`);
// InputErrors name the key ("$.gpus", "$.fabric.oversubscription").
ClusterSpec parse_cluster_spec(JsonObject& root, const nlohmann::json& j, const std::string& source);

}  // namespace knee
