// Collective test helpers shared by the suites: a built-in system on a fabric, and communicators
// of evenly spaced ranks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "topologies/fabric.hpp"

namespace knee::test {

inline Topology cluster(const std::string& system, int nodes, FabricKind kind = FabricKind::rail_fat_tree,
                        double oversubscription = 1.0) {
  FabricOptions o;
  o.kind = kind;
  o.nodes = nodes;
  o.oversubscription = oversubscription;
  return build_topology(load_system(system), o);
}

// n ranks 0, stride, 2 stride, ...: stride 1 is the first n GPUs, stride 8 one GPU per DGX server.
inline std::vector<std::uint32_t> strided(std::uint32_t n, std::uint32_t stride = 1) {
  std::vector<std::uint32_t> r(n);
  for (std::uint32_t i = 0; i < n; ++i) r[i] = i * stride;
  return r;
}

}  // namespace knee::test
