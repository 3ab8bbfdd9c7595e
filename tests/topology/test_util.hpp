// Helpers shared by the topology tests.
#pragma once
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "tests/common/error_of.hpp"
#include "topologies/fabric.hpp"

namespace knee::test {

using knee::test::error_of;  // tests/common/error_of.hpp

// A small custom system: G GPUs per server, round numbers so that max-flow values are exact.
inline SystemSpec toy_system(std::uint32_t G, double nvlink_GBps = 100, double pcie_GBps = 40, double nic_GBps = 25) {
  SystemSpec s;
  s.name = "toy";
  s.gpu_model = "toy";
  s.provenance = "test";
  s.gpus_per_node = G;
  s.nvlink_Bps = GBps_to_Bps(nvlink_GBps);
  s.nvlink_latency_ps = 300'000;
  s.pcie_Bps = GBps_to_Bps(pcie_GBps);
  s.pcie_latency_ps = 500'000;
  s.nic_Bps = GBps_to_Bps(nic_GBps);
  s.network_latency_ps = 600'000;
  return s;
}

inline FabricOptions fabric(FabricKind k, std::int64_t nodes, double over = 1, std::int64_t radix = 0,
                            std::vector<std::int64_t> dims = {}) {
  FabricOptions o;
  o.kind = k;
  o.nodes = nodes;
  o.oversubscription = over;
  o.radix = radix;
  o.dims = std::move(dims);
  return o;
}

// Checks that `path` is a walk from src to dst whose intermediate nodes obey the forwarding rules
// (switches; NICs wired to src or dst). Returns an empty string when valid.
inline std::string check_path(const Topology& t, std::uint32_t src, std::uint32_t dst,
                              const std::vector<std::uint32_t>& path) {
  std::uint32_t cur = src;
  for (std::size_t i = 0; i < path.size(); ++i) {
    std::uint32_t d = path[i];
    if (d >= t.num_directed_links()) return "link id out of range";
    const Link& l = t.link(d / 2);
    std::uint32_t from = d % 2 ? l.b : l.a, to = d % 2 ? l.a : l.b;
    if (from != cur) return "hop " + std::to_string(i) + " does not start where the previous ended";
    cur = to;
    if (i + 1 < path.size()) {
      NodeKind k = t.kind(cur);
      if (k == NodeKind::gpu || k == NodeKind::host) return "transit through endpoint " + t.name(cur);
      if (k == NodeKind::nic) {
        bool own = false;
        for (const auto& x : t.links())
          if ((x.a == cur && (x.b == src || x.b == dst)) || (x.b == cur && (x.a == src || x.a == dst))) own = true;
        if (!own) return "transit through a NIC of another endpoint: " + t.name(cur);
      }
    }
  }
  if (cur != dst) return "path ends at " + t.name(cur) + ", not " + t.name(dst);
  return "";
}

}  // namespace knee::test
