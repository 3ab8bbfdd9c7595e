// Topology and system files: strict validation (each error case names file, JSON path and the
// expectation), search routing with the forwarding rules, max-flow bisection.
#include <fstream>
#include <set>

#include "tests/topology/test_util.hpp"

using namespace knee;
using namespace knee::test;

namespace {
std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

// The error message for loading `text` as "bad.json"; checks the three parts every message has.
std::string load_error(const std::string& text, const std::string& path, const std::string& expected) {
  std::string e = error_of([&] { parse_topology_json(text, "bad.json"); });
  EXPECT_EQ(e.rfind("bad.json: " + path + ": expected ", 0), 0u) << e;
  EXPECT_NE(e.find(expected), std::string::npos) << e;
  return e;
}
}  // namespace

TEST(TopologyFile, LoadsNodesLinksAndClasses) {
  Topology t = parse_topology_json(kTwoServers, "two.json");
  EXPECT_EQ(t.num_gpus(), 4u);
  EXPECT_EQ(t.num_switches(), 6u);
  EXPECT_EQ(t.num_nics(), 4u);
  EXPECT_EQ(t.num_links(), 16u);
  EXPECT_EQ(t.name(t.gpu_node(2)), "g2");
  EXPECT_EQ(t.link(0).cls, LinkClass::nvlink);  // GPU-switch default
  EXPECT_EQ(t.link(4).cls, LinkClass::pcie);    // GPU-NIC default
  EXPECT_EQ(t.link(8).cls, LinkClass::network);
  EXPECT_EQ(t.link(0).latency_ps, 350'000);
  auto d = t.directed_links();
  EXPECT_EQ(d[2 * 15].capacity_Bps, GBps_to_Bps(30));      // leaf1 -> spine1
  EXPECT_EQ(d[2 * 15 + 1].capacity_Bps, GBps_to_Bps(20));  // spine1 -> leaf1
  EXPECT_EQ(t.summary()["system"], "two-servers");
  EXPECT_EQ(t.summary()["fabric"], "file");
  EXPECT_EQ(t.gpus_per_node(), 1u);
}

TEST(TopologyFile, RoutesAreShortestEcmpAndObeyForwardingRules) {
  Topology t = parse_topology_json(kTwoServers, "two.json");
  // Same NVLink switch: 2 hops.
  auto p = t.route(0, 1, 0);
  EXPECT_EQ(p, (std::vector<std::uint32_t>{0, 2 * 1 + 1}));
  // Across servers: g0 n0 leaf0 spine leaf1 n2 g2 = 6 hops, ECMP over the two spines.
  std::set<std::uint32_t> spines;
  for (std::uint64_t h = 0; h < 64; ++h) {
    auto q = t.route(0, 2, h);
    ASSERT_EQ(check_path(t, 0, 2, q), "");
    ASSERT_EQ(q.size(), 6u);
    spines.insert(t.link(q[2] / 2).b);
    EXPECT_EQ(q, t.route(0, 2, h));
  }
  EXPECT_EQ(spines.size(), 2u);
  // g0 -> g1 never takes the shortcut through another GPU, and g0 -> g3 never crosses n1.
  for (std::uint64_t h = 0; h < 16; ++h) EXPECT_EQ(check_path(t, 0, 3, t.route(0, 3, h)), "");
  EXPECT_THROW(t.route(0, 99, 0), std::out_of_range);
}

TEST(TopologyFile, GpusDoNotForwardTraffic) {
  // g0 - g1 - g2 wired in a line: g0 cannot reach g2 without g1 forwarding.
  std::string text =
      R"({"nodes": [{"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}, {"id": "g2", "kind": "gpu"}],
    "links": [{"a": "g0", "b": "g1", "bandwidth_GBps": 1, "latency_ns": 0},
              {"a": "g1", "b": "g2", "bandwidth_GBps": 1, "latency_ns": 0}]})";
  std::string e = load_error(text, "$.nodes[0]", "a connected topology");
  EXPECT_NE(e.find("got \"g0\", which cannot reach \"g2\""), std::string::npos) << e;
  // Wired in a triangle every pair is direct: fine.
  std::string tri = replace(text, "]}", R"(, {"a": "g0", "b": "g2", "bandwidth_GBps": 1, "latency_ns": 0}]})");
  EXPECT_TRUE(parse_topology_json(tri, "tri.json").connected());
}

TEST(TopologyFile, NicsForwardOnlyForTheirOwnEndpoint) {
  // sw0 - n0 - sw1 with n0 owned by g0: g1 (on sw0) cannot use n0 to reach g2 (on sw1).
  std::string text =
      R"({"nodes": [{"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}, {"id": "g2", "kind": "gpu"},
      {"id": "n0", "kind": "nic"}, {"id": "sw0", "kind": "switch"}, {"id": "sw1", "kind": "switch"}],
    "links": [{"a": "g0", "b": "n0", "bandwidth_GBps": 1, "latency_ns": 0},
              {"a": "n0", "b": "sw0", "bandwidth_GBps": 1, "latency_ns": 0},
              {"a": "n0", "b": "sw1", "bandwidth_GBps": 1, "latency_ns": 0},
              {"a": "g1", "b": "sw0", "bandwidth_GBps": 1, "latency_ns": 0},
              {"a": "g2", "b": "sw1", "bandwidth_GBps": 1, "latency_ns": 0}]})";
  std::string e = load_error(text, "$.nodes[1]", "a connected topology");
  EXPECT_NE(e.find("\"g1\", which cannot reach \"g2\""), std::string::npos) << e;
}

TEST(TopologyFile, BisectionIsMaxFlowOfFirstHalfOfGpus) {
  Topology t = parse_topology_json(kTwoServers, "two.json");
  // g0,g1 -> g2,g3: leaf0 has 2 x 30 GB/s up; spine1 -> leaf1 is 20 GB/s: 30 + 20.
  EXPECT_EQ(t.bisection_split(), 2u);
  EXPECT_DOUBLE_EQ(t.bisection_Bps(), GBps_to_Bps(50));
  EXPECT_DOUBLE_EQ(t.summary()["bisection_GBps"].get<double>(), 50.0);
}

TEST(TopologyFile, ReadsFromDisk) {
  std::string path = std::string(KNEE_BINARY_DIR) + "/topology_file_test.json";
  { std::ofstream(path) << kTwoServers; }
  EXPECT_EQ(load_topology_file(path).num_gpus(), 4u);
  std::string e = error_of([] { load_topology_file("/nonexistent/x.json"); });
  EXPECT_EQ(e.rfind("/nonexistent/x.json: expected a readable JSON file", 0), 0u) << e;
}

// ---- one test per error case ------------------------------------------------------------------
TEST(TopologyFileErrors, TruncatedFile) {
  std::string text = std::string(kTwoServers).substr(0, 200);
  std::string e = error_of([&] { parse_topology_json(text, "bad.json"); });
  EXPECT_EQ(e.rfind("bad.json: expected valid JSON, got ", 0), 0u) << e;
}

TEST(TopologyFileErrors, NotJson) {
  std::string e = error_of([&] { parse_topology_json("nodes: []", "bad.json"); });
  EXPECT_EQ(e.rfind("bad.json: expected valid JSON", 0), 0u) << e;
  load_error("[1, 2]", "$", "an object");
}

TEST(TopologyFileErrors, UnknownKey) {
  load_error(replace(kTwoServers, "\"latency_ns\": 350}", "\"latency_ns\": 350, \"bandwith_GBps\": 3}"),
             "$.links[0].bandwith_GBps", "one of the known keys");
  load_error(replace(kTwoServers, "\"name\"", "\"nmae\""), "$.nmae", "one of the known keys");
}

TEST(TopologyFileErrors, WrongType) {
  load_error(replace(kTwoServers, "\"bandwidth_GBps\": 450", "\"bandwidth_GBps\": \"450\""),
             "$.links[0].bandwidth_GBps", "a finite number > 0, got \"450\"");
  load_error(replace(kTwoServers, "\"kind\": \"nic\"", "\"kind\": \"router\""), "$.nodes[6].kind",
             "one of \"gpu\", \"switch\", \"nic\", \"host\"");
  load_error(replace(kTwoServers, "\"id\": \"g1\"", "\"id\": 1"), "$.nodes[1].id", "a string, got 1");
  load_error(R"({"nodes": {}, "links": []})", "$.nodes", "an array");
}

TEST(TopologyFileErrors, NonPositiveOrNonFiniteBandwidth) {
  std::string e = load_error(replace(kTwoServers, "\"bandwidth_GBps\": 64, \"latency_ns\": 500}",
                                     "\"bandwidth_GBps\": -5, \"latency_ns\": 500}"),
                             "$.links[4].bandwidth_GBps", "a finite number > 0");
  EXPECT_EQ(e, "bad.json: $.links[4].bandwidth_GBps: expected a finite number > 0, got -5");
  load_error(replace(kTwoServers, "\"bandwidth_GBps\": 450", "\"bandwidth_GBps\": 0"), "$.links[0].bandwidth_GBps",
             "> 0, got 0");
  // 1e400 is no double: the JSON reader refuses it (an InputError, not a crash).
  e = error_of([&] {
    parse_topology_json(replace(kTwoServers, "\"bandwidth_GBps\": 450", "\"bandwidth_GBps\": 1e400"), "bad.json");
  });
  EXPECT_EQ(e.rfind("bad.json: expected valid JSON, got number overflow", 0), 0u) << e;
  load_error(replace(kTwoServers, "\"bandwidth_GBps\": 450", "\"bandwidth_GBps\": 1e300"), "$.links[0].bandwidth_GBps",
             "(0, 1e6]");
  load_error(replace(kTwoServers, "\"bandwidth_ba_GBps\": 20", "\"bandwidth_ba_GBps\": -1"),
             "$.links[15].bandwidth_ba_GBps", "a finite number > 0");
}

TEST(TopologyFileErrors, NegativeLatency) {
  load_error(replace(kTwoServers, "\"latency_ns\": 350}", "\"latency_ns\": -1}"), "$.links[0].latency_ns",
             "a finite number >= 0, got -1");
  load_error(replace(kTwoServers, "\"bandwidth_GBps\": 450, \"latency_ns\": 350}", "\"bandwidth_GBps\": 450}"),
             "$.links[0].latency_ns", "required key is missing");
}

TEST(TopologyFileErrors, DuplicateId) {
  std::string e =
      load_error(replace(kTwoServers, "{\"id\": \"g3\"", "{\"id\": \"g0\""), "$.nodes[3].id", "a unique node id");
  EXPECT_NE(e.find("$.nodes[0]"), std::string::npos) << e;
}

TEST(TopologyFileErrors, LinkToMissingNode) {
  load_error(replace(kTwoServers, "\"b\": \"spine1\", \"bandwidth_GBps\": 30, \"latency_ns\": 600}",
                     "\"b\": \"spine9\", \"bandwidth_GBps\": 30, \"latency_ns\": 600}"),
             "$.links[13].b", "the id of a node in $.nodes, got \"spine9\"");
}

TEST(TopologyFileErrors, SelfLoop) {
  load_error(replace(kTwoServers, "{\"a\": \"g0\", \"b\": \"nv0\"", "{\"a\": \"g0\", \"b\": \"g0\""), "$.links[0].b",
             "no self-loops");
}

TEST(TopologyFileErrors, Disconnected) {
  // Drop g3's NIC cable: g3 keeps its NVLink to g2 but cannot reach g0 or g1.
  std::string text = replace(kTwoServers, R"({"a": "n3", "b": "leaf1", "bandwidth_GBps": 50, "latency_ns": 600},)", "");
  std::string e = load_error(text, "$.nodes[0]", "a connected topology");
  EXPECT_NE(e.find("got \"g0\", which cannot reach \"g3\""), std::string::npos) << e;
}

TEST(TopologyFileErrors, NoGpus) {
  load_error(R"({"nodes": [{"id": "s", "kind": "switch"}], "links": []})", "$.nodes",
             "at least one node of kind \"gpu\", got none");
}

TEST(TopologyFileErrors, BadClass) {
  load_error(replace(kTwoServers, "\"class\": \"network\"", "\"class\": \"ethernet\""), "$.links[15].class",
             "one of \"nvlink\"");
}

// ---- system files ------------------------------------------------------------------------------
TEST(SystemFiles, BuiltinsAreDatasheetValues) {
  auto names = builtin_systems();
  EXPECT_EQ(names, (std::vector<std::string>{"dgx-a100", "dgx-h100", "dgx-h200", "gb200-nvl72", "hgx-b200"}));
  for (const auto& n : names) {
    SystemSpec s = load_system(n);
    EXPECT_EQ(s.name, n);
    EXPECT_EQ(s.provenance, "datasheet");
    EXPECT_EQ(s.default_fabric, "rail-fat-tree");
  }
  SystemSpec h = load_system("dgx-h100");
  EXPECT_EQ(h.gpu_model, "h100");
  EXPECT_EQ(h.gpus_per_node, 8u);
  EXPECT_DOUBLE_EQ(h.nvlink_Bps, 450e9);
  EXPECT_DOUBLE_EQ(h.nic_Bps, 50e9);  // 400 Gb/s
  EXPECT_DOUBLE_EQ(h.pcie_Bps, 64e9);
  SystemSpec a = load_system("dgx-a100");
  EXPECT_DOUBLE_EQ(a.nvlink_Bps, 300e9);
  EXPECT_DOUBLE_EQ(a.nic_Bps, 25e9);
  EXPECT_DOUBLE_EQ(a.pcie_Bps, 32e9);
  EXPECT_DOUBLE_EQ(load_system("hgx-b200").nvlink_Bps, 900e9);
  EXPECT_EQ(load_system("gb200-nvl72").gpus_per_node, 72u);
  EXPECT_EQ(load_system(std::string(KNEE_SOURCE_DIR) + "/topologies/systems/dgx-h200.json").gpu_model, "h200");
}

TEST(SystemFiles, ErrorsNameFilePathAndExpectation) {
  const std::string good = R"({"name": "x", "provenance": "user", "gpu_model": "h100", "gpus_per_node": 4,
    "nvlink": {"bandwidth_GBps": 450, "latency_ns": 350}, "pcie": {"bandwidth_GBps": 64, "latency_ns": 500},
    "network": {"nic_bandwidth_Gbps": 400, "latency_ns": 600}})";
  EXPECT_EQ(parse_system_json(good, "my.json").gpus_per_node, 4u);
  auto err = [&](const std::string& from, const std::string& to) {
    return error_of([&] { parse_system_json(replace(good, from, to), "my.json"); });
  };
  EXPECT_EQ(err("\"gpus_per_node\": 4", "\"gpus_per_node\": 0"),
            "my.json: $.gpus_per_node: expected an integer in [1, 4096], got 0");
  EXPECT_EQ(err("\"nic_bandwidth_Gbps\": 400", "\"nic_bandwidth_Gbps\": -400")
                .rfind("my.json: $.network.nic_bandwidth_Gbps: expected a finite number > 0", 0),
            0u);
  EXPECT_EQ(err("\"latency_ns\": 350}", "\"latency_ns\": 350, \"x\": 1}")
                .rfind("my.json: $.nvlink.x: expected one of the known keys", 0),
            0u);
  EXPECT_EQ(
      err("\"gpu_model\": \"h100\", ", "").rfind("my.json: $.gpu_model: expected a value (required key is missing)", 0),
      0u);
  std::string e = error_of([] { load_system("dgx-h900"); });
  EXPECT_EQ(e.rfind("--system: expected one of dgx-a100, dgx-h100", 0), 0u) << e;
  EXPECT_NE(e.find("got 'dgx-h900'"), std::string::npos) << e;
}

TEST(SystemFiles, UserSystemBuilds) {
  SystemSpec s = toy_system(4);
  Topology t = build_topology(s, fabric(FabricKind::fat_tree, 3));
  EXPECT_EQ(t.summary()["system"], "toy");
  EXPECT_EQ(t.num_gpus(), 12u);
}
