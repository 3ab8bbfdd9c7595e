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

// Two servers of two GPUs, each GPU with its own NIC, both NICs of a server on one leaf, two
// spines. GPUs of a server share an NVLink switch.
inline const char* const kTwoServers = R"({
  "name": "two-servers",
  "nodes": [
    {"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}, {"id": "g2", "kind": "gpu"}, {"id": "g3", "kind": "gpu"},
    {"id": "nv0", "kind": "switch"}, {"id": "nv1", "kind": "switch"},
    {"id": "n0", "kind": "nic"}, {"id": "n1", "kind": "nic"}, {"id": "n2", "kind": "nic"}, {"id": "n3", "kind": "nic"},
    {"id": "leaf0", "kind": "switch"}, {"id": "leaf1", "kind": "switch"},
    {"id": "spine0", "kind": "switch"}, {"id": "spine1", "kind": "switch"}
  ],
  "links": [
    {"a": "g0", "b": "nv0", "bandwidth_GBps": 450, "latency_ns": 350},
    {"a": "g1", "b": "nv0", "bandwidth_GBps": 450, "latency_ns": 350},
    {"a": "g2", "b": "nv1", "bandwidth_GBps": 450, "latency_ns": 350},
    {"a": "g3", "b": "nv1", "bandwidth_GBps": 450, "latency_ns": 350},
    {"a": "g0", "b": "n0", "bandwidth_GBps": 64, "latency_ns": 500},
    {"a": "g1", "b": "n1", "bandwidth_GBps": 64, "latency_ns": 500},
    {"a": "g2", "b": "n2", "bandwidth_GBps": 64, "latency_ns": 500},
    {"a": "g3", "b": "n3", "bandwidth_GBps": 64, "latency_ns": 500},
    {"a": "n0", "b": "leaf0", "bandwidth_GBps": 50, "latency_ns": 600},
    {"a": "n1", "b": "leaf0", "bandwidth_GBps": 50, "latency_ns": 600},
    {"a": "n2", "b": "leaf1", "bandwidth_GBps": 50, "latency_ns": 600},
    {"a": "n3", "b": "leaf1", "bandwidth_GBps": 50, "latency_ns": 600},
    {"a": "leaf0", "b": "spine0", "bandwidth_GBps": 30, "latency_ns": 600},
    {"a": "leaf0", "b": "spine1", "bandwidth_GBps": 30, "latency_ns": 600},
    {"a": "leaf1", "b": "spine0", "bandwidth_GBps": 30, "latency_ns": 600},
    {"a": "leaf1", "b": "spine1", "bandwidth_GBps": 30, "latency_ns": 600, "bandwidth_ba_GBps": 20, "class": "network"}
  ]
})";

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

// Every GPU pair (and `hashes` flow hashes): the structured route is valid, the BFS route is
// valid, and both have the same hop count (structured routes are shortest paths).
inline void expect_routes_valid_and_shortest(const Topology& t, std::uint64_t hashes = 3) {
  ASSERT_TRUE(t.connected());
  for (std::uint32_t a = 0; a < t.num_gpus(); ++a)
    for (std::uint32_t b = 0; b < t.num_gpus(); ++b)
      for (std::uint64_t h = 0; h < hashes; ++h) {
        auto p = t.route(t.gpu_node(a), t.gpu_node(b), h);
        ASSERT_EQ(check_path(t, t.gpu_node(a), t.gpu_node(b), p), "") << a << "->" << b;
        auto ref = t.route_by_search(t.gpu_node(a), t.gpu_node(b), h);
        ASSERT_EQ(check_path(t, t.gpu_node(a), t.gpu_node(b), ref), "") << a << "->" << b;
        ASSERT_EQ(p.size(), ref.size()) << a << "->" << b << " structured route is not a shortest path";
      }
}

// The analytic bisection of a built fabric equals Boost's max-flow over the same cut.
inline void expect_analytic_equals_max_flow(const Topology& t) {
  double analytic = t.bisection_Bps();
  double flow = t.max_flow_Bps(t.bisection_split());
  EXPECT_EQ(analytic, flow) << t.summary().dump();  // integer capacities: exact
  EXPECT_GT(flow, 0);
}

}  // namespace knee::test
