// Shared by the benchmark programs: the reference cluster and peak memory.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

#include "topologies/fabric.hpp"

namespace knee::bench {

// dgx-h100 servers on a non-blocking rail-optimized fat-tree, `gpus` / 8 of them.
inline Topology dgx_h100_rail(std::int64_t gpus) {
  FabricOptions o;
  o.kind = FabricKind::rail_fat_tree;
  o.nodes = gpus / 8;
  return build_topology(load_system("dgx-h100"), o);
}

// Peak resident set of the process (kB), from /proc/self/status.
inline double vm_hwm_kB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

}  // namespace knee::bench
