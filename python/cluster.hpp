// The cluster object behind knee.Cluster: a built topology and the system it came from, kept so
// that a notebook runs many simulations on one build. Registered by bind_topology.cpp; other
// parts take it as an argument (const Cluster&).
#pragma once
#include <string>

#include "topologies/fabric.hpp"

namespace knee::python {

struct Cluster {
  Topology topo;
  SystemSpec system;        // name empty for a topology file
  double build_time_s = 0;  // wall time of the build (not simulated time)

  // "dgx-h100", or "file" for a topology file, as the CLI's JSON reports it.
  std::string system_name() const { return system.name.empty() ? "file" : system.name; }
  // The GPU generation NCCL parameters are chosen by (the CLI's default for files: h100).
  std::string gpu_model() const { return system.gpu_model.empty() ? "h100" : system.gpu_model; }
};

}  // namespace knee::python
