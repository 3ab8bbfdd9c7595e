// Jobs sharing a cluster (workloads/cluster, docs/workloads.md "Jobs sharing a cluster"): two DP
// rings through one link at half its rate each (closed form), the cluster's faults (a degraded,
// a failed link, a failed NIC) for every job, one job alone equal to
// --every-rank bit for bit, packed against spread on an oversubscribed fabric, placement rules
// and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tests/common/error_of.hpp"
#include "tests/common/source_path.hpp"
#include "workloads/cluster/cluster_result_schema.hpp"
#include "workloads/cluster/cluster_sim.hpp"
#include "workloads/cluster/placement.hpp"
#include "workloads/training/training.hpp"

namespace knee::cluster {
namespace {

using nlohmann::json;

ClusterFile cf(const json& j) { return parse_cluster_file(j, "c.json", ""); }
std::string err(const json& j) {
  return test::error_of([&] { simulate_cluster(cf(j)); });
}

// A small GPT: 2 layers, hidden 1024, vocab 32000; tp 8 in a server, dp 2 over two servers;
// gradients (fp32, one bucket) reduced after the whole backward, exposed.
json small_job() {
  return json::parse(R"({
    "model": {"layers": 2, "hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 32000},
    "parallelism": {"tp": 8, "dp": 2, "micro_batch": 1, "global_batch": 2},
    "training": {"overlap_grad_reduce": false}})");
}

// Torus of 5 servers in a ring (dims 5 x 1): servers 0 and 2 are two hops apart through router 1
// only, servers 1 and 3 through router 2 only; so job a's DP ring (servers 0, 2) and job b's
// (servers 1, 3) share the link between routers 1 and 2, in both directions, and nothing else.
json torus_two_jobs() {
  json c = {{"system", "dgx-h100"}, {"nodes", 5}, {"fabric", {{"type", "torus"}, {"dims", {5, 1}}}}};
  c["jobs"] = {{{"name", "a"}, {"scenario", small_job()}, {"placement", {{"nodes", {{0, 0}, {2, 2}}}}}},
               {{"name", "b"}, {"scenario", small_job()}, {"placement", {{"nodes", {{1, 1}, {3, 3}}}}}}};
  return c;
}

TEST(Cluster, TwoRingsThroughOneLinkShareItsRate) {
  const ClusterResult r = simulate_cluster(cf(torus_two_jobs()));
  ASSERT_EQ(r.jobs.size(), 2u);
  // Independently of the simulator: gradient bytes per GPU = 4 (fp32) x parameters per GPU, with
  // parameters per GPU = (layers (12 h^2 + 13 h) + vocab h) / tp + 2 h (final layernorm).
  const double h = 1024, L = 2, V = 32000, tp = 8;
  const double params = (L * (12 * h * h + 13 * h) + V * h) / tp + 2 * h;  // 7,247,104
  const double B = 4 * params;      // a 2-rank all-reduce sends B each way per TP rank
  const double job_bytes = tp * B;  // each job, each direction of the shared link: 231,907,328
  // The hot link is the shared one, carrying both jobs' bytes in each direction.
  ASSERT_GE(r.hot_links.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    const LinkUse& l = r.hot_links[static_cast<std::size_t>(k)];
    EXPECT_TRUE(l.between_switches) << l.from << " -> " << l.to;
    EXPECT_NEAR(l.bytes, 2 * job_bytes, 1e-6 * job_bytes) << l.from << " -> " << l.to;
    // Each job's share of it: its own bytes, the same closed form.
    const auto& jb = r.hot_links[static_cast<std::size_t>(k)].bytes_by_job;
    ASSERT_EQ(jb.size(), 2u);
    EXPECT_EQ(jb[0].first, "a");
    EXPECT_EQ(jb[1].first, "b");
    for (const auto& [name, b] : jb) EXPECT_NEAR(b, job_bytes, 1e-6 * job_bytes) << name;
  }
  // Alone a job has the link's whole capacity C, together half: its step grows by the time the
  // other job's bytes take there, job_bytes / C (C = the NIC line rate as the network runs it).
  // C: the router link at the NIC line rate, 400 Gb/s = 50 GB/s, at NCCL's network link
  // efficiency 0.94 (sim/collectives/nccl_params): 47 GB/s. So 4.934198 ms more per step (2026-12-07:
  // alone 6.068061 ms, together 11.002260 ms, 4.934199 ms more).
  const double C = 50e9 * 0.94;
  EXPECT_NEAR(r.hot_links[0].capacity_Bps, C, 1e-6 * C);
  for (const JobResult& j : r.jobs) {
    const double extra = j.together_step_time_s - j.alone_step_time_s;
    EXPECT_NEAR(extra, job_bytes / C, 1e-5 * job_bytes / C) << j.name;
    EXPECT_GT(j.slowdown, 1);
    EXPECT_NEAR(j.alone_switch_link_bytes, 4 * job_bytes, 1e-6 * job_bytes);  // two router hops each way
  }
  EXPECT_EQ(r.jobs[0].together_step_time_s, r.jobs[1].together_step_time_s);  // symmetric
}

// The job bytes each direction of a router link of the torus case: tp x 4 (fp32) x params per GPU
// (as in TwoRingsThroughOneLinkShareItsRate, derived from the model, not the simulator).
double torus_job_bytes() {
  const double h = 1024, L = 2, V = 32000, tp = 8;
  return tp * 4 * ((L * (12 * h * h + 13 * h) + V * h) / tp + 2 * h);
}

const HotLink* find_link(const ClusterResult& r, const std::string& from, const std::string& to) {
  for (const HotLink& l : r.hot_links)
    if (l.from == from && l.to == to) return &l;
  return nullptr;
}

// The shared router link at half its bandwidth (the cluster's faults, for both jobs): alone each
// job's ring now takes job_bytes / (C / 2) there, job_bytes / C longer than on the healthy
// cluster; together each waits for the other's bytes at C / 2: job_bytes / (C / 2) more than alone.
TEST(Cluster, DegradedSharedLinkSlowsBothByTheHalfRateClosedForm) {
  const ClusterResult healthy = simulate_cluster(cf(torus_two_jobs()));
  json c = torus_two_jobs();
  c["faults"] = {{"degraded_links", {{{"between", {"s1.router", "s2.router"}}, {"factor", 0.5}}}}};
  const ClusterResult r = simulate_cluster(cf(c));
  const double job_bytes = torus_job_bytes(), C = 50e9 * 0.94, half = C / 2;
  ASSERT_EQ(r.faults.degraded_links.size(), 1u);
  EXPECT_EQ(r.faults.degraded_links[0].factor, 0.5);
  for (const auto& [from, to] : {std::pair{"s1.router", "s2.router"}, std::pair{"s2.router", "s1.router"}}) {
    const HotLink* l = find_link(r, from, to);
    ASSERT_NE(l, nullptr) << from << " -> " << to;
    EXPECT_NEAR(l->capacity_Bps, half, 1e-9 * half) << from << " -> " << to;
    EXPECT_NEAR(l->bytes, 2 * job_bytes, 1e-6 * job_bytes) << from << " -> " << to;
  }
  for (std::size_t i = 0; i < 2; ++i) {
    const JobResult& j = r.jobs[i];
    EXPECT_NEAR(j.together_step_time_s - j.alone_step_time_s, job_bytes / half, 1e-5 * job_bytes / half) << j.name;
    EXPECT_NEAR(j.alone_step_time_s - healthy.jobs[i].alone_step_time_s, job_bytes / half - job_bytes / C,
                1e-5 * job_bytes / C)
        << j.name;
  }
  EXPECT_EQ(to_json(r)["faults"]["degraded_links"][0]["between"], json({"s1.router", "s2.router"}));
}

// The shared router link failed: each ring takes the other way round the torus (a: 0-4-3-2, b:
// 1-0-4-3, three hops each way), so no byte crosses s1-s2, each job's switch bytes grow from 2 to
// 3 hops' worth, and the rings now meet on s0-s4 and s4-s3: still one link's worth of the other
// job's bytes more together.
TEST(Cluster, FailedLinkReroutesTheRings) {
  json c = torus_two_jobs();
  c["faults"] = {{"failed_links", {{{"between", {"s2.router", "s1.router"}}}}}};
  const ClusterResult r = simulate_cluster(cf(c));
  const double job_bytes = torus_job_bytes(), C = 50e9 * 0.94;
  EXPECT_EQ(find_link(r, "s1.router", "s2.router"), nullptr);
  EXPECT_EQ(find_link(r, "s2.router", "s1.router"), nullptr);
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"s0.router", "s4.router"},
                                                                                 {"s4.router", "s0.router"},
                                                                                 {"s4.router", "s3.router"},
                                                                                 {"s3.router", "s4.router"}}) {
    const HotLink* l = find_link(r, from, to);
    ASSERT_NE(l, nullptr) << from << " -> " << to;
    EXPECT_NEAR(l->bytes, 2 * job_bytes, 1e-6 * job_bytes) << from << " -> " << to;
    for (const auto& [name, b] : l->bytes_by_job) EXPECT_NEAR(b, job_bytes, 1e-6 * job_bytes) << name;
  }
  for (const JobResult& j : r.jobs) {
    EXPECT_NEAR(j.alone_switch_link_bytes, 6 * job_bytes, 1e-6 * job_bytes) << j.name;
    EXPECT_NEAR(j.together_step_time_s - j.alone_step_time_s, job_bytes / C, 1e-5 * job_bytes / C) << j.name;
  }
  EXPECT_EQ(to_json(r)["faults"]["failed_links"].dump(), R"([{"between":["s2.router","s1.router"]}])");
}

// A failed NIC: its GPU's traffic relayed through a peer's NIC (PXN); the job still runs.
TEST(Cluster, FailedNicIsAppliedAndReported) {
  json c = torus_two_jobs();
  c["faults"] = {{"failed_nics", {{{"node", 0}, {"gpu", 3}}}}};
  const ClusterResult r = simulate_cluster(cf(c));
  EXPECT_EQ(find_link(r, "s0.nic3", "s0.router"), nullptr);
  EXPECT_GT(r.jobs[0].alone_step_time_s, 0);
  EXPECT_EQ(to_json(r)["faults"]["failed_nics"].dump(), R"([{"node":0,"gpu":3,"nic":"s0.nic3"}])");
  EXPECT_EQ(to_json(simulate_cluster(cf(torus_two_jobs())))["faults"].dump(),
            R"({"degraded_links":[],"failed_links":[],"failed_nics":[]})");
}

TEST(Cluster, BadFaultsNameTheFaultsKey) {
  json c = torus_two_jobs();
  // s1-s2 and s0-s4 down split the ring into {0, 1} and {2, 3, 4}: job a (servers 0, 2) is cut
  // off once the second is down.
  c["faults"] = {
      {"failed_links", {{{"between", {"s1.router", "s2.router"}}}, {{"between", {"s0.router", "s4.router"}}}}}};
  EXPECT_EQ(err(c),
            "c.json: $.faults.failed_links[1]: expected failed links and NICs that leave every parallel group "
            "connected, got job \"a\" ($.jobs[0]): the dp group of GPUs [0, 16] cut off: GPU 0 (s0.gpu0) cannot "
            "reach GPU 16 (s2.gpu0)");
  c["faults"] = {{"degraded_links", {{{"between", {"s1.router", "s2.router"}}, {"factor", 0}}}}};
  EXPECT_EQ(err(c),
            "c.json: $.faults.degraded_links[0].factor: expected a fraction of the link's bandwidth in (0, 1], got 0");
  c["faults"] = {{"degraded_links", {{{"between", {"s1.router", "s9.router"}}, {"factor", 0.5}}}}};
  EXPECT_EQ(err(c),
            "c.json: $.faults.degraded_links[0].between: expected two nodes of the topology joined by a link (e.g. "
            "s0.nic0 and rail0.leaf0), got s1.router and s9.router");
  c["faults"] = {{"failed_nics", {{{"node", 5}, {"gpu", 0}}}}};
  EXPECT_EQ(err(c),
            "c.json: $.faults.failed_nics[0]: expected a NIC of the topology: node (server) in [0, 5), gpu in [0, 8) "
            "naming sNODE.nicGPU, got node 5, gpu 0");
  c["faults"] = {{"broken_links", json::array()}};
  EXPECT_NE(err(c).find("c.json: $.faults.broken_links"), std::string::npos) << err(c);
  c = torus_two_jobs();
  c["jobs"][1]["scenario"]["simulation"] = {{"failed_links", {{{"between", {"s1.router", "s2.router"}}}}}};
  EXPECT_EQ(err(c),
            "c.json: $.jobs[1].scenario: $.simulation.failed_links: expected none in a job of a cluster file (put "
            "them in the cluster file's \"faults\"), got 1 entries");
}

TEST(Cluster, OneJobAloneIsEveryRankBitForBit) {
  const json s = json::parse(R"({
    "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 51200},
    "parallelism": {"tp": 8, "pp": 2, "dp": 2, "micro_batch": 1, "global_batch": 16, "sequence_parallel": true,
                    "zero": 1}})");
  json c = {{"system", "dgx-h100"}, {"nodes", 4}};
  c["jobs"] = {{{"name", "only"}, {"scenario", s}}};
  const ClusterResult r = simulate_cluster(cf(c));
  json full = s;
  full["system"] = "dgx-h100";
  full["nodes"] = 4;
  SimOptions opt;
  opt.every_rank = true;
  const SimResult e = simulate(parse_scenario(full, "<test>"), opt);
  EXPECT_EQ(r.jobs[0].alone_step_time_s, e.step_time_s);
  EXPECT_EQ(r.jobs[0].together_step_time_s, e.step_time_s);
  EXPECT_EQ(r.jobs[0].slowdown, 1);
  EXPECT_EQ(r.jobs[0].nodes, (std::vector<std::int64_t>{0, 1, 2, 3}));
}

// Rail-optimized fabric, radix 4: two servers under each leaf of a rail, uplinks at a quarter of
// the NIC rate. Packed, the DP ring turns at the leaf; spread (servers 0 and 2), it crosses the
// oversubscribed uplinks.
json rail_one_job(const json& placement) {
  json c = {{"system", "dgx-h100"},
            {"nodes", 4},
            {"fabric", {{"type", "rail-fat-tree"}, {"radix", 4}, {"oversubscription", 4}}}};
  c["jobs"] = {{{"name", "j"}, {"scenario", small_job()}, {"placement", placement}}};
  return c;
}

TEST(Cluster, SpreadIsSlowerThanPackedThroughTheUplinks) {
  const ClusterResult p = simulate_cluster(cf(rail_one_job("packed")));
  const ClusterResult s = simulate_cluster(cf(rail_one_job("spread")));
  EXPECT_EQ(p.jobs[0].nodes, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(s.jobs[0].nodes, (std::vector<std::int64_t>{0, 2}));
  // The reason: packed sends nothing between switches; spread sends each TP rank's ring through
  // leaf -> spine -> leaf.
  EXPECT_EQ(p.jobs[0].alone_switch_link_bytes, 0);
  EXPECT_GT(s.jobs[0].alone_switch_link_bytes, 0);
  EXPECT_GT(s.jobs[0].alone_step_time_s, p.jobs[0].alone_step_time_s);
}

// Bytes are conserved: on every hot link the jobs' own bytes (from their alone runs) sum to what the
// shared run put there, exactly (routes do not depend on load), and a job never on a link has 0.
TEST(Cluster, HotLinkBytesSplitByJobSumToTheLink) {
  json c = torus_two_jobs();
  c["jobs"][1]["placement"] = {{"nodes", {{3, 3}, {4, 4}}}};  // b's ring now avoids a's links
  const ClusterResult r = simulate_cluster(cf(c));
  ASSERT_FALSE(r.hot_links.empty());
  for (const HotLink& l : r.hot_links) {
    double sum = 0;
    int nonzero = 0;
    for (const auto& [name, b] : l.bytes_by_job) sum += b, nonzero += b > 0;
    EXPECT_DOUBLE_EQ(sum, l.bytes) << l.from << " -> " << l.to;
    EXPECT_EQ(nonzero, 1) << l.from << " -> " << l.to;  // no link carries both jobs here
  }
}

// The same where ECMP spreads both jobs over shared spines (the shipped two-job example): the
// split is counted in the shared run itself, so it still sums to each link's bytes, and some
// link carries both jobs.
TEST(Cluster, HotLinkBytesSplitByJobSumToTheLinkUnderEcmp) {
  const ClusterResult r =
      simulate_cluster(load_cluster_file(test::source_path("examples/scenarios/two-jobs-rail-fat-tree.json")));
  ASSERT_FALSE(r.hot_links.empty());
  int shared = 0;
  for (const HotLink& l : r.hot_links) {
    double sum = 0;
    int nonzero = 0;
    for (const auto& [name, b] : l.bytes_by_job) sum += b, nonzero += b > 0;
    EXPECT_NEAR(sum, l.bytes, 1e-9 * l.bytes) << l.from << " -> " << l.to;
    shared += nonzero == 2;
  }
  EXPECT_GT(shared, 0);
}

TEST(Cluster, PlacementRules) {
  json c = {{"system", "dgx-h100"}, {"nodes", 8}};
  const json j = small_job();  // 2 nodes each
  c["jobs"] = {{{"name", "x"}, {"scenario", j}, {"placement", {{"nodes", {3, 4}}}}},
               {{"name", "p"}, {"scenario", j}, {"placement", "packed"}},
               {{"name", "s"}, {"scenario", j}, {"placement", "spread"}},
               {{"name", "r"}, {"scenario", j}, {"placement", "random"}, {"seed", 7}}};
  const auto placed = place_jobs(cf(c));
  EXPECT_EQ(placed[0], (std::vector<std::int64_t>{3, 4}));  // explicit first
  EXPECT_EQ(placed[1], (std::vector<std::int64_t>{0, 1}));  // lowest free
  EXPECT_EQ(placed[2], (std::vector<std::int64_t>{2, 6}));  // free 2, 5, 6, 7: strided
  EXPECT_EQ(placed[3].size(), 2u);                          // of 5, 7: what is left
  EXPECT_EQ(placed[3], (std::vector<std::int64_t>{5, 7}));
  EXPECT_EQ(place_jobs(cf(c)), placed);  // deterministic
  EXPECT_EQ(gpu_map({2, 0}, 2), (std::vector<std::uint32_t>{4, 5, 0, 1}));
}

TEST(Cluster, RandomIsSeeded) {
  json c = {{"system", "dgx-h100"}, {"nodes", 16}};
  c["jobs"] = {{{"name", "r"}, {"scenario", small_job()}, {"placement", "random"}, {"seed", 1}}};
  const auto a = place_jobs(cf(c));
  EXPECT_EQ(place_jobs(cf(c)), a);  // the same seed, the same nodes
  c["jobs"][0]["seed"] = 2;
  EXPECT_NE(place_jobs(cf(c)), a);
}

TEST(Cluster, BadInputNamesFileFieldAndExpectation) {
  json base = torus_two_jobs();
  json c = base;
  c["jobs"][1]["placement"]["nodes"] = {{1, 1}, {5, 5}};  // the cluster has nodes 0-4
  EXPECT_EQ(err(c),
            "c.json: $.jobs[1].placement.nodes: expected node ranges [first, last] within 0-4 (the "
            "cluster's 5 nodes), first <= last, got [5, 5]");
  c = base;
  c["jobs"][1]["placement"]["nodes"] = {{2, 3}};  // node 2 is job a's
  EXPECT_EQ(err(c),
            "c.json: $.jobs[1].placement.nodes: expected nodes no other placement holds, got node 2, also "
            "held by job \"a\"");
  c = base;
  c["nodes"] = 3;
  c["fabric"]["dims"] = {3, 1};
  c["jobs"][0]["placement"] = "packed";
  c["jobs"][1]["placement"] = "packed";
  EXPECT_EQ(err(c), "c.json: $.jobs: expected jobs needing at most the cluster's 3 nodes, got 4 nodes (a 2, b 2)");
  c = base;
  c["jobs"][0]["placment"] = "packed";
  EXPECT_NE(err(c).find("$.jobs[0].placment"), std::string::npos) << err(c);
  c = base;
  c["jobs"][0]["scenario"]["system"] = "dgx-h200";
  EXPECT_EQ(err(c),
            "c.json: $.jobs[0].scenario.system: expected the cluster's system (\"dgx-h100\") or none (a job "
            "runs on the cluster's), got \"dgx-h200\"");
  c = base;
  c["jobs"][0]["scenario"]["system"] = "dgx-h100";  // agreeing is fine
  EXPECT_EQ(err(c), "(no InputError)");
  c = base;
  c["jobs"][0]["scenario"]["parallelism"].erase("dp");
  EXPECT_NE(err(c).find("$.jobs[0].scenario.parallelism.dp: expected an integer in a job"), std::string::npos)
      << err(c);
  c = base;
  c["jobs"][1]["name"] = "a";
  EXPECT_NE(err(c).find("$.jobs[1].name: expected a name no other job has"), std::string::npos) << err(c);
  c = base;
  c["jobs"][0]["placement"] = "tight";
  EXPECT_NE(err(c).find("$.jobs[0].placement"), std::string::npos) << err(c);
}

TEST(Cluster, JsonFieldsComeFromTheSchema) {
  const ClusterResult r = simulate_cluster(cf(rail_one_job("packed")));
  const auto j = to_json(r);
  std::size_t i = 0;
  for (auto it = j.begin(); it != j.end(); ++it, ++i) EXPECT_EQ(it.key(), cluster_result_fields()[i].key);
  EXPECT_EQ(i, cluster_result_fields().size());
  EXPECT_EQ(j["jobs"][0].size(), job_columns().size());
  EXPECT_EQ(j["jobs"][0]["name"], "j");
  EXPECT_EQ(to_json(simulate_cluster(cf(rail_one_job("packed")))).dump(), j.dump());  // bit-identical rerun
}

}  // namespace
}  // namespace knee::cluster
