// The flags that describe a cluster (--system, --nodes, --fabric, ... or --file), shared by the
// commands that build one.
#pragma once
#include <vector>

#include "cli/command.hpp"
#include "topologies/fabric.hpp"

namespace knee::cli {

// Flag specs to append to a command's own.
std::vector<FlagSpec> cluster_flags();
// Builds the topology the flags describe; bad or conflicting flags are InputErrors naming them.
// `system` (if not null) receives the system design (empty name for --file).
Topology topology_from_args(const Args& args, SystemSpec* system = nullptr);

}  // namespace knee::cli
