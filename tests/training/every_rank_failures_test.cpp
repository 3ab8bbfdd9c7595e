// Failed links and NICs in every-rank mode (simulation.failed_links, failed_nics; docs/workloads.md,
// "Failed links and NICs"): traffic rerouted by the fabric's routing, the step slowing as the new
// bottleneck predicts, closed forms from link capacities and bytes; a group cut off is one
// InputError naming the entry.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "sim/collectives/collective.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "tests/training/scenario_util.hpp"
#include "topologies/fabric.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

using test::scen;

SimResult run(const nlohmann::json& j) {
  Scenario s = scen(j);
  s.ablate.no_sm_sharing = true;
  SimOptions o;
  o.simulate_if_not_fits = true;
  return simulate(s, o);
}

// The effective capacity (what the flow network runs at) of the link joining two named nodes.
double capacity_Bps(const Scenario& s, const std::string& a, const std::string& b) {
  FabricOptions fo = s.fabric;
  fo.nodes = s.nodes;
  const Topology topo = build_topology(s.system, fo);
  const auto links = effective_links(topo, nccl_params_for_gpu(s.system.gpu_model));
  for (std::uint32_t l = 0; l < topo.num_links(); ++l) {
    const std::string x = topo.name(topo.link(l).a), y = topo.name(topo.link(l).b);
    if ((x == a && y == b) || (x == b && y == a)) return links[2 * l].capacity_Bps;
  }
  ADD_FAILURE() << "no link " << a << " - " << b;
  return 1;
}

// fp32 gradient bytes one GPU reduces: 4 bytes per parameter it holds (weights are bf16).
double grad_bytes(const SimResult& r) { return r.memory.weights_bytes / 2 * 4; }

// 2 DGX H100 servers, tp 8, dp 2: eight 2-rank DP groups, one per rail, each all-reducing its
// B bytes of gradients in one bucket after the backward: B per direction over its rail's NIC
// links, so nominal DP time ~ B / C (C: a NIC link's capacity).
nlohmann::json rails_json() {
  return nlohmann::json::parse(R"({
    "system": "dgx-h100", "nodes": 2, "gpus": 16,
    "model": {"layers": 2, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 8, "pp": 1, "dp": 2, "micro_batch": 1, "global_batch": 2},
    "training": {"overlap_grad_reduce": false, "ddp_bucket_params": 1000000000}})");
}

// s0's NIC 3 fails: rail 3's group reaches the network over NVLink through s0.gpu4 and its NIC,
// which now carries rail 3's B and rail 4's B per direction: the DP part becomes 2B / C, B / C
// more than nominal. (PCIe to that NIC, 64 GB/s, and the spines stay below that.)
TEST(EveryRankFailures, FailedNicMovesItsRailAndDoublesThatNicsLoad) {
  auto j = rails_json();
  j["simulation"]["every_rank"] = true;
  const SimResult nominal = run(j);
  j["simulation"] = {{"failed_nics", {{{"node", 0}, {"gpu", 3}}}}};
  const SimResult failed = run(j);
  EXPECT_FALSE(failed.folded);
  EXPECT_EQ(failed.every_rank["why"], "failed NICs break the symmetry folding needs (run by itself)");
  const double B = grad_bytes(failed), C = capacity_Bps(scen(j), "s0.nic4", "rail4.leaf0");
  const double dp0 = nominal.breakdown.dp_s, dp1 = failed.breakdown.dp_s;
  std::printf("B %.0f bytes, C %.3f GB/s: nominal dp %.6f s (B/C %.6f), NIC failed %.6f s (2B/C %.6f)\n", B, C / 1e9,
              dp0, B / C, dp1, 2 * B / C);
  EXPECT_GE(dp0, B / C);
  EXPECT_LE(dp0, B / C * 1.03);  // + latency and protocol bytes
  EXPECT_GE(dp1, 2 * B / C);
  EXPECT_LE(dp1, 2 * B / C * 1.02);
  EXPECT_NEAR(dp1 - dp0, B / C, 0.01 * B / C);
  const auto& hot = failed.every_rank["busiest_link"];
  EXPECT_EQ(hot["from"], "s0.nic4");
  EXPECT_EQ(hot["to"], "rail4.leaf0");
  EXPECT_EQ(hot["bytes"].get<double>(), 2 * nominal.every_rank["busiest_link"]["bytes"].get<double>());
  // Everything else is the nominal step's: compute untouched.
  EXPECT_EQ(failed.breakdown.compute_s, nominal.breakdown.compute_s);
}

// Four one-GPU H100 servers on a rail fat-tree of radix 4: s0, s1 under rail0.leaf0, s2, s3 under
// leaf1, two spines; a dp 4 ring reduces B bytes of gradients: each ring edge carries
// 2 (n-1)/n B = 1.5 B per direction, two of them cross between the leaves (one each way through
// leaf0's uplinks). With rail0.leaf0 - spine0 failed all of that takes the uplink to spine1:
// - oversubscription 1: that uplink has the NIC's capacity C and carries the same 1.5 B as each
//   NIC link: the step is exactly the nominal one;
// - oversubscription 2: the uplink left runs at C / 2 and carries 1.5 B: DP part = 3 B / C, twice
//   the nominal NIC bound 1.5 B / C, and exactly the step with both of leaf0's uplinks at half
//   capacity (the leaf's uplink capacity halved; the nominal split over the two is even).
TEST(EveryRankFailures, FailedSpineUplinkMovesTrafficToTheOther) {
  const std::string sys = ::testing::TempDir() + "knee_failures_h100_1gpu.json";
  std::ofstream(sys) << R"({"name": "h100-1gpu", "provenance": "test", "gpu_model": "h100", "gpus_per_node": 1,
    "default_fabric": "rail-fat-tree", "nvlink": {"bandwidth_GBps": 450, "latency_ns": 350},
    "pcie": {"bandwidth_GBps": 64, "latency_ns": 500}, "network": {"nic_bandwidth_Gbps": 400, "latency_ns": 600}})";
  auto j = nlohmann::json::parse(R"({
    "nodes": 4, "gpus": 4, "fabric": {"type": "rail-fat-tree", "radix": 4},
    "model": {"layers": 2, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 0},
    "parallelism": {"tp": 1, "pp": 1, "dp": 4, "micro_batch": 1, "global_batch": 4},
    "training": {"overlap_grad_reduce": false, "ddp_bucket_params": 1000000000}})");
  j["system"] = sys;
  const nlohmann::json fail = {{"failed_links", {{{"between", {"rail0.leaf0", "spine0"}}}}}};
  for (int o : {1, 2}) {
    j["fabric"]["oversubscription"] = o;
    j["simulation"] = {{"every_rank", true}};
    const SimResult nominal = run(j);
    j["simulation"] = fail;
    const SimResult failed = run(j);
    EXPECT_EQ(failed.every_rank["why"], "failed links break the symmetry folding needs (run by itself)");
    const double B = grad_bytes(failed), C = capacity_Bps(scen(j), "s0.nic0", "rail0.leaf0");
    const double up = capacity_Bps(scen(j), "rail0.leaf0", "spine1");
    EXPECT_DOUBLE_EQ(up, C / o);
    const double dp0 = nominal.breakdown.dp_s, dp1 = failed.breakdown.dp_s;
    std::printf(
        "oversubscription %d: B %.0f, 1.5B/C %.6f s: nominal dp %.6f s, uplink failed %.6f s (1.5B/(C/o) %.6f)\n", o, B,
        1.5 * B / C, dp0, dp1, 1.5 * B / up);
    EXPECT_GE(dp0, 1.5 * B / C);
    EXPECT_LE(dp0, 1.5 * B / C * 1.01);
    EXPECT_GE(dp1, 1.5 * B / up);
    EXPECT_LE(dp1, 1.5 * B / up * 1.01);
    const auto& hot = failed.every_rank["busiest_link"];
    if (o == 1) {
      EXPECT_EQ(failed.step_time_s, nominal.step_time_s);
    } else {
      EXPECT_TRUE((hot["from"] == "rail0.leaf0" && hot["to"] == "spine1") ||
                  (hot["from"] == "spine1" && hot["to"] == "rail0.leaf0"))
          << hot.dump();
      EXPECT_NEAR(dp1 / dp0, 2, 0.02);
      j["simulation"] = {{"degraded_links",
                          {{{"between", {"rail0.leaf0", "spine0"}}, {"factor", 0.5}},
                           {{"between", {"rail0.leaf0", "spine1"}}, {"factor", 0.5}}}}};
      EXPECT_EQ(run(j).step_time_s, failed.step_time_s);
    }
  }
  // Both uplinks of leaf0 down: s0 and s1 (one GPU each, no NVLink peer to relay through) are cut
  // off from s2 and s3; the second entry is the one after which the dp group is cut.
  j["simulation"] = {
      {"failed_links", {{{"between", {"rail0.leaf0", "spine0"}}}, {{"between", {"spine1", "rail0.leaf0"}}}}}};
  EXPECT_EQ(test::error_of([&] { run(j); }),
            "<test>: $.simulation.failed_links[1]: expected failed links and NICs that leave every parallel group "
            "connected, got the dp group of ranks [0, 1, 2, 3] cut off: rank 0 (s0.gpu0) cannot reach rank 2 "
            "(s2.gpu0)");
  j["simulation"] = {{"failed_nics", {{{"node", 2}, {"gpu", 0}}}}};
  EXPECT_NE(test::error_of([&] { run(j); })
                .find("$.simulation.failed_nics[0]: expected failed links and NICs that "
                      "leave every parallel group connected, got the dp group"),
            std::string::npos);
}

// A GPU with its NVLink and its NIC down is cut off from its tp group; with the NVLink alone down
// it still reaches it (through its NIC and the network), so the second entry is named.
TEST(EveryRankFailures, IsolatedGpuCutsItsTensorParallelGroup) {
  auto j = rails_json();
  j["simulation"] = {{"failed_links", {{{"between", {"s0.gpu3", "s0.nvswitch"}}}}},
                     {"failed_nics", {{{"node", 0}, {"gpu", 3}}}}};
  EXPECT_EQ(test::error_of([&] { run(j); }),
            "<test>: $.simulation.failed_nics[0]: expected failed links and NICs that leave every parallel group "
            "connected, got the tp group of ranks [0, 1, 2, 3, 4, 5, 6, 7] cut off: rank 0 (s0.gpu0) cannot reach "
            "rank 3 (s0.gpu3)");
}

TEST(EveryRankFailures, BadNamesAndEntries) {
  auto j = rails_json();
  j["simulation"] = {{"failed_links", {{{"between", {"s0.nic0", "s1.nic0"}}}}}};
  EXPECT_NE(test::error_of([&] { run(j); })
                .find("<test>: $.simulation.failed_links[0].between: expected two nodes of the topology joined by a "
                      "link"),
            std::string::npos);
  j["simulation"] = {{"failed_nics", {{{"node", 2}, {"gpu", 0}}}}};
  EXPECT_EQ(test::error_of([&] { run(j); }),
            "<test>: $.simulation.failed_nics[0]: expected a NIC of the topology: node (server) in [0, 2), gpu in "
            "[0, 8) naming sNODE.nicGPU, got node 2, gpu 0");
  j["simulation"] = {{"failed_nics", {{{"node", 0}, {"gpu", 0}, {"port", 1}}}}};
  EXPECT_NE(test::scenario_error(j).find("$.simulation.failed_nics[0].port"), std::string::npos);
  j["simulation"] = {{"failed_links", {{{"between", {"a"}}}}}};
  EXPECT_NE(test::scenario_error(j).find("$.simulation.failed_links[0].between"), std::string::npos);
}

// Same inputs, same JSON, with failures too.
TEST(EveryRankFailures, Deterministic) {
  auto j = rails_json();
  j["simulation"] = {{"failed_nics", {{{"node", 1}, {"gpu", 6}}}}};
  EXPECT_EQ(run(j).to_json().dump(), run(j).to_json().dump());
}

}  // namespace
}  // namespace knee
