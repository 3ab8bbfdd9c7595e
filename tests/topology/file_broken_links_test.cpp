// A topology file's degraded_links and failed_links (docs/topologies.md, "Topology file"): the
// machine as it is. A degraded link is the written one at its fraction of capacity (the
// multiplication a scenario's simulation.degraded_links does on the every-rank network), a failed
// one is Topology::fail_link of the same link, bit for bit; without the keys nothing changes; bad
// entries are one InputError naming the file and $.degraded_links[i].field.
#include <string>

#include "tests/topology/test_util.hpp"
#include "topologies/topology.hpp"

using namespace knee;
using namespace knee::test;

namespace {
constexpr std::uint32_t kN0Leaf0 = 8, kLeaf0Spine0 = 12, kLeaf1Spine1 = 15;  // link ids, file order

// kTwoServers (test_util.hpp) with `extra` keys (", \"degraded_links\": [...]") before its closing brace.
std::string with(const std::string& extra) {
  std::string text = kTwoServers;
  text.insert(text.rfind('}'), extra);
  return text;
}
Topology file(const std::string& extra = "") { return parse_topology_json(with(extra), "t.json"); }

std::string error(const std::string& extra) {
  return error_of([&] { parse_topology_json(with(extra), "bad.json"); });
}

void expect_same_links(const std::vector<DirectedLinkSpec>& a, const std::vector<DirectedLinkSpec>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t d = 0; d < a.size(); ++d) {
    EXPECT_EQ(a[d].capacity_Bps, b[d].capacity_Bps) << "directed link " << d;  // bit for bit
    EXPECT_EQ(a[d].latency_ps, b[d].latency_ps) << "directed link " << d;
  }
}

void expect_same_routes(const Topology& a, const Topology& b) {
  for (std::uint32_t x : a.gpus())
    for (std::uint32_t y : a.gpus())
      for (std::uint64_t h = 0; h < 4; ++h) EXPECT_EQ(a.route(x, y, h), b.route(x, y, h)) << x << "->" << y;
}
}  // namespace

TEST(TopologyFileBrokenLinks, WithoutTheKeysNothingChanges) {
  const Topology plain = file();
  EXPECT_FALSE(plain.has_failed_links());
  const auto d = plain.directed_links();
  EXPECT_EQ(d[2 * kN0Leaf0].capacity_Bps, GBps_to_Bps(50));  // as written
  EXPECT_EQ(d[2 * kLeaf1Spine1 + 1].capacity_Bps, GBps_to_Bps(20));
  const Topology empty = file(R"(, "degraded_links": [], "failed_links": [])");
  EXPECT_FALSE(empty.has_failed_links());
  expect_same_links(plain.directed_links(), empty.directed_links());
  expect_same_routes(plain, empty);
  EXPECT_EQ(plain.bisection_Bps(), empty.bisection_Bps());
}

TEST(TopologyFileBrokenLinks, DegradedLinkIsTheWrittenOneAtItsFraction) {
  const Topology plain = file();
  // Both directions, either order of the two ends, a comment allowed; two entries on one link multiply.
  const Topology t = file(R"(, "degraded_links": [{"between": ["leaf0", "n0"], "factor": 0.3, "comment": "bad cable"},
                                                 {"between": ["leaf1", "spine1"], "factor": 0.5},
                                                 {"between": ["spine1", "leaf1"], "factor": 0.7}])");
  auto want = plain.directed_links();
  for (std::uint32_t d : {2 * kN0Leaf0, 2 * kN0Leaf0 + 1}) want[d].capacity_Bps *= 0.3;
  for (std::uint32_t d : {2 * kLeaf1Spine1, 2 * kLeaf1Spine1 + 1})
    want[d].capacity_Bps = want[d].capacity_Bps * 0.5 * 0.7;
  expect_same_links(t.directed_links(), want);
  EXPECT_FALSE(t.has_failed_links());
  expect_same_routes(plain, t);  // degrading reroutes nothing
}

TEST(TopologyFileBrokenLinks, FailedLinkIsFailLinkOfTheSameLink) {
  Topology want = file();
  want.fail_link(kLeaf0Spine0);
  const Topology t = file(R"(, "failed_links": [{"between": ["spine0", "leaf0"]}])");
  EXPECT_TRUE(t.link_failed(kLeaf0Spine0));
  for (std::uint32_t l = 0; l < t.num_links(); ++l) EXPECT_EQ(t.link_failed(l), l == kLeaf0Spine0) << l;
  expect_same_links(t.directed_links(), want.directed_links());
  expect_same_routes(t, want);
  for (std::uint32_t x : t.gpus())  // no route crosses the failed link
    for (std::uint32_t y : t.gpus())
      for (std::uint64_t h = 0; h < 8; ++h)
        for (std::uint32_t d : t.route(x, y, h)) EXPECT_NE(d / 2, kLeaf0Spine0);
}

TEST(TopologyFileBrokenLinks, DegradedAndFailedTogether) {
  Topology want = file(R"(, "degraded_links": [{"between": ["n1", "leaf0"], "factor": 0.25}])");
  want.fail_link(kLeaf0Spine0);
  const Topology t = file(R"(, "degraded_links": [{"between": ["n1", "leaf0"], "factor": 0.25}],
                               "failed_links": [{"between": ["leaf0", "spine0"]}])");
  expect_same_links(t.directed_links(), want.directed_links());
  expect_same_routes(t, want);
}

TEST(TopologyFileBrokenLinks, BadEntriesAreOneLineNamingTheField) {
  auto check = [](const std::string& extra, const std::string& path, const std::string& expected) {
    const std::string e = error(extra);
    EXPECT_EQ(e.rfind("bad.json: " + path + ": expected ", 0), 0u) << e;
    EXPECT_NE(e.find(expected), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  };
  check(R"(, "degraded_links": [{"between": ["n0", "leaf0"], "factor": 0}])", "$.degraded_links[0].factor",
        "in (0, 1]");
  check(
      R"(, "degraded_links": [{"between": ["n0", "leaf0"], "factor": 1}, {"between": ["n0", "leaf0"], "factor": 1.5}])",
      "$.degraded_links[1].factor", "in (0, 1]");
  check(R"(, "degraded_links": [{"between": ["n0", "leaf0"]}])", "$.degraded_links[0].factor", "");
  check(R"(, "degraded_links": [{"between": ["n0", "leaf0"], "factor": 0.5, "speed": 1}])", "$.degraded_links[0].speed",
        "got unknown key");
  check(R"(, "degraded_links": [{"between": ["n0", "leaf9"], "factor": 0.5}])", "$.degraded_links[0].between[1]",
        "the id of a node in $.nodes");
  check(R"(, "degraded_links": [{"between": ["g0", "g3"], "factor": 0.5}])", "$.degraded_links[0].between",
        "two nodes joined by a link in $.links");
  check(R"(, "degraded_links": [{"between": ["n0"], "factor": 0.5}])", "$.degraded_links[0].between",
        "two node ids of $.nodes");
  check(R"(, "degraded_links": {"between": ["n0", "leaf0"]})", "$.degraded_links", "");
  check(R"(, "failed_links": [{"between": ["leaf0", "spine0"], "factor": 0.5}])", "$.failed_links[0].factor",
        "got unknown key");
  check(R"(, "failed_links": [{"between": ["leaf0", "nv1"]}])", "$.failed_links[0].between",
        "two nodes joined by a link in $.links");
  {  // 1e-200 GB/s at a factor of 1e-200 underflows to zero
    const std::string tiny = R"({"nodes": [{"id": "g0", "kind": "gpu"}, {"id": "g1", "kind": "gpu"}],
      "links": [{"a": "g0", "b": "g1", "bandwidth_GBps": 1e-200, "latency_ns": 1}],
      "degraded_links": [{"between": ["g0", "g1"], "factor": 1e-200}]})";
    const std::string e = error_of([&] { parse_topology_json(tiny, "bad.json"); });
    EXPECT_EQ(e.rfind("bad.json: $.degraded_links[0].factor: expected a factor that leaves", 0), 0u) << e;
  }
  check(R"(, "broken_links": [])", "$.broken_links", "got unknown key");
  // A failure that cuts a GPU off: the entry after which it is cut.
  check(R"(, "failed_links": [{"between": ["n0", "leaf0"]}])", "$.failed_links[0]",
        "failed links that leave every GPU and host reaching every other");
  check(R"(, "failed_links": [{"between": ["leaf0", "spine0"]}, {"between": ["leaf0", "spine1"]}])",
        "$.failed_links[1]", "cut off from");
}
