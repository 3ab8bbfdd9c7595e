// The pod tier of the rail and 3-tier fat-trees (FabricOptions::pod_gpus, pod_oversubscription):
// link counts and capacities of 2-pod builds in closed form, routes valid and as short as the BFS
// reference, bisection in closed form and against max-flow, the summary, option errors.
#include <set>

#include "tests/topology/test_util.hpp"

using namespace knee;
using namespace knee::test;

namespace {
FabricOptions pods(FabricKind k, std::int64_t nodes, std::int64_t pod_gpus, double pod_over, double over = 1,
                   std::int64_t radix = 0) {
  FabricOptions o = fabric(k, nodes, over, radix);
  o.pod_gpus = pod_gpus;
  o.pod_oversubscription = pod_over;
  return o;
}
std::size_t count_named(const Topology& t, const std::string& prefix) {
  std::size_t n = 0;
  for (std::uint32_t v = 0; v < t.num_nodes(); ++v) n += t.name(v).rfind(prefix, 0) == 0;
  return n;
}
bool is_core(const Topology& t, std::uint32_t v) { return t.name(v).rfind("core", 0) == 0; }
}  // namespace

// ---- counts and capacities ----------------------------------------------------------------------
// Rail: toy servers of G = 2 GPUs (NIC 25 GB/s), radix 8: 4 servers per leaf, 4 spines per pod.
// 16 servers in pods of 16 GPUs (8 servers, 2 leaves per rail): 2 pods, 2 x 4 spines, 4 cores.
TEST(PodCounts, RailFatTreeTwoPodsClosedForm) {
  Topology t = build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 16, 16, 2, 1, 8));
  const std::size_t gpus = 32, leaves = 2 * 4, S = 4, P = 2;
  EXPECT_EQ(t.num_gpus(), gpus);
  EXPECT_EQ(t.num_switches(), 16 + leaves + P * S + S);  // NVSwitches, leaves, pod spines, cores
  EXPECT_EQ(t.num_links(), gpus * 3 + leaves * S + P * S);
  EXPECT_EQ(count_named(t, "pod1.spine"), S);
  EXPECT_EQ(count_named(t, "core"), S);
  std::size_t leaf_spine = 0, spine_core = 0;
  for (const auto& l : t.links()) {
    if (t.name(l.a).find(".leaf") != std::string::npos && t.name(l.b).find(".spine") != std::string::npos) {
      ++leaf_spine;
      EXPECT_EQ(l.bw_ab_Bps, GBps_to_Bps(25));  // NIC rate / oversubscription 1
      // A leaf of pod p (leaf index / 2 per rail) goes to the spines of pod p only.
      const std::string la = t.name(l.a), sb = t.name(l.b);
      EXPECT_EQ(sb.substr(0, 4), "pod" + std::to_string(std::stoi(la.substr(la.find(".leaf") + 5)) / 2));
    }
    if (is_core(t, l.b)) {
      ++spine_core;
      // A spine's downlinks: 2 rails x 2 leaves x 25 GB/s = 100 GB/s; / 2 = 50 GB/s to its core.
      EXPECT_EQ(l.bw_ab_Bps, GBps_to_Bps(50));
      EXPECT_EQ(l.cls, LinkClass::network);
    }
  }
  EXPECT_EQ(leaf_spine, leaves * S);
  EXPECT_EQ(spine_core, P * S);
  auto j = t.summary();
  EXPECT_EQ(j["pods"], 2);
  EXPECT_EQ(j["cores"], 4);
  EXPECT_EQ(j["spines"], 8);
  EXPECT_EQ(j["pod_gpus"], 16);
  EXPECT_DOUBLE_EQ(j["pod_oversubscription"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(j["pod_uplink_GBps"].get<double>(), 200.0);     // 4 core links x 50 GB/s
  EXPECT_DOUBLE_EQ(j["pod_bisection_GBps"].get<double>(), 200.0);  // pod 0 to pod 1: its uplink
}

// Fat-tree: G = 2, radix 8: 2 servers per edge, 4 aggregation switches per pod, 16 cores. 8
// servers in pods of 8 GPUs (2 edges): 2 pods.
TEST(PodCounts, FatTreeTwoPodsClosedForm) {
  Topology t = build_topology(toy_system(2), pods(FabricKind::fat_tree, 8, 8, 2, 1, 8));
  const std::size_t gpus = 16, edges = 4, half = 4, P = 2;
  EXPECT_EQ(t.num_switches(), 8 + edges + P * half + half * half);
  EXPECT_EQ(t.num_links(), gpus * 3 + edges * half + P * half * half);
  std::size_t core_links = 0;
  for (const auto& l : t.links())
    if (is_core(t, l.b)) {
      ++core_links;
      // An aggregation switch's downlinks: 2 edges x 25 GB/s; / 2, over its 4 core links.
      EXPECT_EQ(l.bw_ab_Bps, GBps_to_Bps(6.25));
    }
  EXPECT_EQ(core_links, P * half * half);
  auto j = t.summary();
  EXPECT_EQ(j["pods"], 2);
  EXPECT_EQ(j["cores"], 16);
  EXPECT_DOUBLE_EQ(j["pod_uplink_GBps"].get<double>(), 100.0);
}

// A pod tier whose pods are the k-ary fat-tree's own full pods, at 1:1, is the plain fat-tree.
// (A partly filled last pod differs: the plain fat-tree gives its core links the NIC rate, the
// pod tier its downlink capacity / pod oversubscription.)
TEST(PodCounts, FatTreeNaturalPodsAtOneToOneAreThePlainFatTree) {
  SystemSpec s = toy_system(2);
  Topology plain = build_topology(s, fabric(FabricKind::fat_tree, 16, 1, 8));
  Topology pod = build_topology(s, pods(FabricKind::fat_tree, 16, 16, 1, 1, 8));  // 4 edges x 4 GPUs
  ASSERT_EQ(plain.num_links(), pod.num_links());
  for (std::uint32_t i = 0; i < plain.num_links(); ++i) {
    EXPECT_EQ(plain.link(i).a, pod.link(i).a);
    EXPECT_EQ(plain.link(i).b, pod.link(i).b);
    EXPECT_EQ(plain.link(i).bw_ab_Bps, pod.link(i).bw_ab_Bps);
  }
  EXPECT_EQ(plain.bisection_Bps(), pod.bisection_Bps());
  for (std::uint64_t h = 0; h < 4; ++h) EXPECT_EQ(plain.route(0, 31, h), pod.route(0, 31, h));
}

// The last pod may be partly filled, down to one server; its core links carry its own downlink
// capacity / pod oversubscription.
TEST(PodCounts, LastPodPartlyFilled) {
  // Rail: 9 servers, pods of 8: pod 1 holds one server (one leaf per rail).
  Topology t = build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 9, 16, 2, 1, 8));
  EXPECT_EQ(t.summary()["pods"], 2);
  EXPECT_TRUE(t.connected());
  std::set<double> caps;
  for (const auto& l : t.links())
    if (is_core(t, l.b)) caps.insert(l.bw_ab_Bps);
  EXPECT_EQ(caps, (std::set<double>{GBps_to_Bps(25), GBps_to_Bps(50)}));  // 2 x 1 x 25 / 2, 2 x 2 x 25 / 2
  // More GPUs per pod than servers: one partial pod, no core tier.
  Topology one = build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 5, 64, 7, 1, 8));
  EXPECT_EQ(one.summary()["pods"], 1);
  EXPECT_EQ(one.summary()["cores"], 0);
  EXPECT_EQ(count_named(one, "core"), 0u);
  EXPECT_DOUBLE_EQ(one.summary()["pod_bisection_GBps"].get<double>(), 0.0);
}

// Meta's Llama 3 cluster (docs/topologies.md, "Pods"): 24,576 H100 in 8 pods of 3,072, 1:7.
TEST(PodCounts, Llama3Cluster) {
  Topology t = build_topology(load_system("dgx-h100"), pods(FabricKind::rail_fat_tree, 3072, 3072, 7));
  auto j = t.summary();
  EXPECT_EQ(t.num_gpus(), 24576u);
  EXPECT_EQ(j["pods"], 8);
  EXPECT_EQ(j["leaves"], 8 * 96);  // 12 leaves per rail per pod
  EXPECT_EQ(j["spines"], 8 * 32);
  EXPECT_EQ(j["cores"], 32);
  const double pod_up = 3072 * 50.0 / 7;  // GB/s
  EXPECT_NEAR(j["pod_uplink_GBps"].get<double>(), pod_up, 1e-6);
  // The first 4 pods against the other 4: their uplinks; the rank-order bisection is the same cut.
  EXPECT_NEAR(j["pod_bisection_GBps"].get<double>(), 4 * pod_up, 1e-6);
  EXPECT_NEAR(Bps_to_GBps(t.bisection_Bps()), 4 * pod_up, 1e-6);
}

// ---- routing ------------------------------------------------------------------------------------
TEST(PodRouting, RoutesAreValidAndAsShortAsSearch) {
  SystemSpec s2 = toy_system(2);
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::rail_fat_tree, 16, 16, 2, 1, 8)));
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::rail_fat_tree, 13, 16, 7, 2, 8)), 2);
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::rail_fat_tree, 12, 8, 3, 1, 8)), 2);  // 3 pods
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::fat_tree, 8, 8, 2, 1, 8)));
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::fat_tree, 11, 4, 7, 2, 8)), 2);  // 6 pods
  // Pods larger than the k-ary pod (6 edges on aggregation switches of 4 down ports).
  expect_routes_valid_and_shortest(build_topology(s2, pods(FabricKind::fat_tree, 20, 24, 2, 1, 8)), 2);
}

TEST(PodRouting, CrossPodRoutesClimbToACoreAndSpreadOverThem) {
  Topology t = build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 16, 16, 2, 1, 8));
  std::set<std::uint32_t> cores;
  for (std::uint64_t h = 0; h < 64; ++h) {
    auto p = t.route(t.gpu_node(0), t.gpu_node(31), h);  // server 0 (pod 0) to server 15 (pod 1)
    ASSERT_EQ(p.size(), 8u);  // PCIe, NIC-leaf, leaf-spine, spine-core, core-spine, spine-leaf, ...
    const Link& up = t.link(p[3] / 2);
    ASSERT_TRUE(is_core(t, up.b));
    cores.insert(up.b);
    EXPECT_EQ(t.name(t.link(p[2] / 2).b).substr(0, 5), "pod0.");
    EXPECT_EQ(t.name(t.link(p[4] / 2).a).substr(0, 5), "pod1.");
  }
  EXPECT_EQ(cores.size(), 4u);
  // Inside a pod: leaf, spine of the pod, leaf; no core.
  auto q = t.route(t.gpu_node(0), t.gpu_node(2 * 7 + 1), 0);  // server 0 to server 7, cross-rail
  ASSERT_EQ(q.size(), 6u);
  for (auto d : q) EXPECT_FALSE(is_core(t, t.link(d / 2).b));
}

// ---- bisection ----------------------------------------------------------------------------------
TEST(PodBisection, ClosedForm) {
  // Two full pods, split at the pod boundary: pod 0's uplink, pod_gpus x NIC / (o x pod_o).
  EXPECT_DOUBLE_EQ(build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 16, 16, 2, 1, 8)).bisection_Bps(),
                   GBps_to_Bps(16 * 25.0 / 2));
  EXPECT_DOUBLE_EQ(build_topology(toy_system(2), pods(FabricKind::fat_tree, 8, 8, 2, 1, 8)).bisection_Bps(),
                   GBps_to_Bps(8 * 25.0 / 2));
  // Leaf oversubscription 2 and pod oversubscription 4 multiply.
  EXPECT_DOUBLE_EQ(build_topology(toy_system(2), pods(FabricKind::rail_fat_tree, 16, 16, 4, 2, 8)).bisection_Bps(),
                   GBps_to_Bps(16 * 25.0 / 8));
  // DGX H100, 2 pods of 256 GPUs at 1:7: 256 x 50 GB/s / 7.
  Topology h = build_topology(load_system("dgx-h100"), pods(FabricKind::rail_fat_tree, 64, 256, 7));
  EXPECT_NEAR(h.bisection_Bps(), GBps_to_Bps(256 * 50.0 / 7), 1.0);
  // 1:1 between pods: a non-blocking fabric, half the GPUs x e, as without pods.
  EXPECT_DOUBLE_EQ(build_topology(load_system("dgx-h100"), pods(FabricKind::rail_fat_tree, 64, 256, 1)).bisection_Bps(),
                   256 * GBps_to_Bps(50));
}

TEST(PodBisection, AnalyticEqualsMaxFlow) {
  SystemSpec s2 = toy_system(2), s1 = toy_system(1);
  for (double over : {1.0, 2.0}) {
    for (double pod_over : {1.0, 2.0, 4.0}) {
      expect_analytic_equals_max_flow(build_topology(s2, pods(FabricKind::rail_fat_tree, 16, 16, pod_over, over, 8)));
      expect_analytic_equals_max_flow(build_topology(s2, pods(FabricKind::rail_fat_tree, 13, 16, pod_over, over, 8)));
      expect_analytic_equals_max_flow(build_topology(s2, pods(FabricKind::rail_fat_tree, 20, 8, pod_over, over, 8)));
      expect_analytic_equals_max_flow(build_topology(s2, pods(FabricKind::fat_tree, 8, 8, pod_over, over, 8)));
      expect_analytic_equals_max_flow(build_topology(s2, pods(FabricKind::fat_tree, 14, 8, pod_over, over, 8)));
      expect_analytic_equals_max_flow(build_topology(s1, pods(FabricKind::fat_tree, 37, 16, pod_over, over, 8)));
    }
  }
  // The summary's bisection between pods is the max flow from the first floor(pods/2) pods.
  Topology t = build_topology(s2, pods(FabricKind::rail_fat_tree, 20, 8, 4, 1, 8));  // 5 pods: 2 | 3
  EXPECT_DOUBLE_EQ(GBps_to_Bps(t.summary()["pod_bisection_GBps"].get<double>()), t.max_flow_Bps(2 * 8));
  Topology f = build_topology(s2, pods(FabricKind::fat_tree, 14, 8, 2, 1, 8));  // 4 pods: 2 | 2
  EXPECT_DOUBLE_EQ(GBps_to_Bps(f.summary()["pod_bisection_GBps"].get<double>()), f.max_flow_Bps(2 * 8));
}

// ---- options and errors -------------------------------------------------------------------------
TEST(PodErrors, BadOptionsNameTheFlag) {
  SystemSpec s = load_system("dgx-h100");
  auto err = [&](FabricOptions o) { return error_of([&] { build_topology(s, o); }); };
  auto has = [](const std::string& e, const std::string& what) {
    EXPECT_NE(e.find(what), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };
  has(err(pods(FabricKind::rail_fat_tree, 64, 100, 7)),
      "--pod-gpus: expected a multiple of 256 (the GPUs under one leaf of every rail, radix/2: 32 servers x 8 GPUs), "
      "got 100");
  has(err(pods(FabricKind::rail_fat_tree, 64, 96, 7, 1, 16)), "--pod-gpus: expected a multiple of 64");
  has(err(pods(FabricKind::fat_tree, 64, 48, 7)), "--pod-gpus: expected a multiple of 32 (the GPUs of one edge");
  has(err(pods(FabricKind::rail_fat_tree, 64, -256, 7)), "--pod-gpus: expected an integer in [0, 2097152]");
  has(err(pods(FabricKind::torus, 4, 256, 7)), "--pod-gpus: expected 0 (no pod tier) with --fabric torus");
  has(err(pods(FabricKind::rail_fat_tree, 64, 256, 0.5)),
      "--pod-oversubscription: expected a finite number >= 1, got 0.5");
  has(err(pods(FabricKind::rail_fat_tree, 64, 256, std::nan(""))), "--pod-oversubscription: expected a finite number");
  has(err(pods(FabricKind::rail_fat_tree, 64, 0, 7)), "--pod-oversubscription: expected 1 without --pod-gpus");
  // Tiny pods on a large radix: too many core links.
  has(err(pods(FabricKind::fat_tree, 1024, 2048, 2, 1, 4096)), "--pod-gpus: expected pods large enough");
  // A single server is one pod: the options are accepted (scenarios of one server become single-node).
  EXPECT_EQ(build_topology(s, pods(FabricKind::single_node, 1, 3072, 7)).num_gpus(), 8u);
}
