// Failed links (Topology::fail_link, every-rank mode's simulation.failed_links / failed_nics):
// routes avoid them, shortest over what is left with ECMP among the equal ones; a GPU without a
// way out of its server is relayed over NVLink through the next peer GPU's NIC; and where no path
// is left try_route says so.
#include <set>

#include "tests/topology/test_util.hpp"

using namespace knee;
using namespace knee::test;

namespace {

std::uint32_t node_named(const Topology& t, const std::string& name) {
  for (std::uint32_t n = 0; n < t.num_nodes(); ++n)
    if (t.name(n) == name) return n;
  ADD_FAILURE() << "no node " << name;
  return 0;
}

std::uint32_t link_between(const Topology& t, const std::string& a, const std::string& b) {
  for (std::uint32_t l = 0; l < t.num_links(); ++l) {
    const std::string x = t.name(t.link(l).a), y = t.name(t.link(l).b);
    if ((x == a && y == b) || (x == b && y == a)) return l;
  }
  ADD_FAILURE() << "no link " << a << " - " << b;
  return 0;
}

// The nodes a path visits after its source, by name.
std::vector<std::string> hops(const Topology& t, const std::vector<std::uint32_t>& path) {
  std::vector<std::string> out;
  for (std::uint32_t d : path) out.push_back(t.name(d % 2 ? t.link(d / 2).a : t.link(d / 2).b));
  return out;
}

}  // namespace

// Rail fat-tree of radix 4: two servers per leaf, two spines. s0 and s2 sit under different
// leaves of rail 0, so s0.gpu0 -> s2.gpu0 is gpu, nic, leaf0, spine (either), leaf1, nic, gpu:
// 6 links, ECMP over the two spines. With rail0.leaf0 - spine0 failed every route takes spine1,
// still 6 links, and none crosses the failed link in either direction.
TEST(FailedLinks, SpineUplinkFailedRoutesTakeTheOther) {
  Topology t = build_topology(load_system("dgx-h100"), fabric(FabricKind::rail_fat_tree, 4, 1, 4));
  const std::uint32_t a = t.gpu_node(0), b = t.gpu_node(16);
  ASSERT_EQ(t.name(b), "s2.gpu0");
  std::set<std::string> spines;
  for (std::uint64_t h = 0; h < 64; ++h) spines.insert(hops(t, t.route(a, b, h))[2]);
  EXPECT_EQ(spines, (std::set<std::string>{"spine0", "spine1"})) << "nominal ECMP uses both spines";
  const std::uint32_t up = link_between(t, "rail0.leaf0", "spine0");
  t.fail_link(up);
  EXPECT_TRUE(t.has_failed_links());
  EXPECT_TRUE(t.link_failed(up));
  for (std::uint64_t h = 0; h < 64; ++h)
    for (auto [s, d] : {std::pair{a, b}, std::pair{b, a}}) {
      const auto p = t.route(s, d, h);
      EXPECT_EQ(check_path(t, s, d, p), "");
      ASSERT_EQ(p.size(), 6u);
      EXPECT_EQ(hops(t, p)[2], "spine1");
      for (std::uint32_t l : p) EXPECT_NE(l / 2, up);
    }
  // A route the failure does not touch keeps its length: same rail, same leaf.
  EXPECT_EQ(t.route(t.gpu_node(0), t.gpu_node(8), 0).size(), 4u);
}

// A failed NIC (both of its links) in a rail-optimized fabric: s0.gpu3 reaches s1.gpu3 over NVLink
// to its next peer s0.gpu4, that GPU's NIC on rail 4, a spine, and rail 3's leaf; the way back
// ends the same way reversed. Traffic inside the server is untouched.
TEST(FailedLinks, FailedNicRelaysOverNvlinkThroughTheNextPeer) {
  Topology t = build_topology(load_system("dgx-h100"), fabric(FabricKind::rail_fat_tree, 2));
  const std::uint32_t nic = node_named(t, "s0.nic3");
  for (std::uint32_t l = 0; l < t.num_links(); ++l)
    if (t.link(l).a == nic || t.link(l).b == nic) t.fail_link(l);
  const std::uint32_t g3 = t.gpu_node(3), peer = t.gpu_node(11);
  for (std::uint64_t h = 0; h < 8; ++h) {
    const auto out = hops(t, t.route(g3, peer, h));
    ASSERT_EQ(out.size(), 8u);
    EXPECT_EQ(std::vector<std::string>(out.begin(), out.begin() + 4),
              (std::vector<std::string>{"s0.nvswitch", "s0.gpu4", "s0.nic4", "rail4.leaf0"}));
    EXPECT_EQ(std::vector<std::string>(out.begin() + 5, out.end()),
              (std::vector<std::string>{"rail3.leaf0", "s1.nic3", "s1.gpu3"}));
    const auto back = hops(t, t.route(peer, g3, h));
    ASSERT_EQ(back.size(), 8u);
    EXPECT_EQ(std::vector<std::string>(back.begin() + 4, back.end()),
              (std::vector<std::string>{"s0.nic4", "s0.gpu4", "s0.nvswitch", "s0.gpu3"}));
  }
  EXPECT_EQ(hops(t, t.route(g3, t.gpu_node(5), 0)), (std::vector<std::string>{"s0.nvswitch", "s0.gpu5"}));
  // s0.gpu7's NIC also down: its next peer is s0.gpu0 (cyclic).
  const std::uint32_t nic7 = node_named(t, "s0.nic7");
  for (std::uint32_t l = 0; l < t.num_links(); ++l)
    if (t.link(l).a == nic7 || t.link(l).b == nic7) t.fail_link(l);
  EXPECT_EQ(hops(t, t.route(t.gpu_node(7), t.gpu_node(15), 0))[2], "s0.nic0");
}

// One GPU per server: no peer to relay through. With both uplinks of s0's leaf down, s0 cannot
// reach s2 (under the other leaf), but still s1 (same leaf).
TEST(FailedLinks, NoPathLeftIsReported) {
  Topology t = build_topology(toy_system(1), fabric(FabricKind::rail_fat_tree, 4, 1, 4));
  t.fail_link(link_between(t, "rail0.leaf0", "spine0"));
  t.fail_link(link_between(t, "rail0.leaf0", "spine1"));
  std::vector<std::uint32_t> p{1, 2, 3};
  EXPECT_FALSE(t.try_route(t.gpu_node(0), t.gpu_node(2), 0, &p));
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(t.try_route(t.gpu_node(0), t.gpu_node(1), 0, &p));
  EXPECT_EQ(p.size(), 4u);
  EXPECT_THROW(t.route(t.gpu_node(2), t.gpu_node(0), 0), std::runtime_error);
  const Topology copy = t;  // failures travel with a copy
  EXPECT_FALSE(copy.try_route(copy.gpu_node(0), copy.gpu_node(3), 0, &p));
}
