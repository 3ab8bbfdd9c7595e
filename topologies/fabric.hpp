// System designs (what is inside one server) and fabrics (how servers are wired), and the builder
// that turns the two into a Topology. Formats and design choices: docs/topologies.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "topologies/topology.hpp"

namespace knee {

// One server ("node") design, read from topologies/systems/NAME.json or a user file.
struct SystemSpec {
  std::string name, description, provenance, gpu_model, default_fabric, source;
  std::uint32_t gpus_per_node = 0;
  BytesPerSec nvlink_Bps = 0;    // per GPU per direction, GPU <-> NVSwitch
  TimePs nvlink_latency_ps = 0;  // per link (GPU -> GPU inside a server crosses two)
  BytesPerSec pcie_Bps = 0;      // GPU <-> its NIC, per direction
  TimePs pcie_latency_ps = 0;
  BytesPerSec nic_Bps = 0;        // NIC line rate per direction (one NIC per GPU)
  TimePs network_latency_ps = 0;  // per network link: NIC <-> switch and switch <-> switch
};

// Names of the built-in systems, sorted.
std::vector<std::string> builtin_systems();
// A built-in name ("dgx-h100") or a path to a system JSON file (anything containing '/' or
// ending in ".json"). Unknown names and bad files are InputErrors.
SystemSpec load_system(const std::string& name_or_path);
SystemSpec parse_system_json(const std::string& text, const std::string& source);

enum class FabricKind { single_node, rail_fat_tree, fat_tree, torus };
const std::vector<std::string>& fabric_names();  // "single-node", "rail-fat-tree", "fat-tree", "torus"
// Throws InputError "WHAT: expected one of ..., got 'TEXT'".
FabricKind parse_fabric(const std::string& text, const std::string& what);
const char* to_string(FabricKind k);

struct FabricOptions {
  FabricKind kind = FabricKind::rail_fat_tree;
  std::int64_t nodes = 1;          // servers (GB200 NVL72: racks)
  double oversubscription = 1.0;   // >= 1: leaf/edge uplink bandwidth = downlink / this
  std::int64_t radix = 0;          // switch ports; 0 = default (64, at least 2 x gpus_per_node)
  std::vector<std::int64_t> dims;  // torus only: 2 or 3 sizes whose product is nodes
  // Pod tier (rail-fat-tree, fat-tree; docs/topologies.md "Pods"): GPUs per pod, 0 = none. A
  // multiple of the GPUs under one leaf per rail (rail-fat-tree: radix/2 servers) or of one edge
  // switch (fat-tree); servers fill pods in rank order, the last pod may be partial. Pods are
  // joined by a core tier whose per-pod uplink capacity is the pod's spine (aggregation) downlink
  // capacity / pod_oversubscription (>= 1; other than 1 only with pod_gpus > 0).
  std::int64_t pod_gpus = 0;
  double pod_oversubscription = 1.0;
};

// Builds the topology; invalid options are InputErrors naming the option ("--nodes", ...).
// Node ids: GPUs first (rank order: server-major), then NVSwitches, NICs, fabric switches.
Topology build_topology(const SystemSpec& system, const FabricOptions& options);

}  // namespace knee
