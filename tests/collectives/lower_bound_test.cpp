#include "sim/collectives/lower_bound.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "common/error.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/executor.hpp"
#include "tests/collectives/collective_util.hpp"
#include "topologies/fabric.hpp"

using namespace knee;
using test::strided;

namespace {
Topology cluster(int nodes) { return test::cluster("dgx-h100", nodes); }
CollOptions options(CollOp op, Bytes bytes, CollAlgo a, CollProto p, int channels, std::vector<std::uint32_t> ranks) {
  CollOptions o;
  o.op = op;
  o.bytes = bytes;
  o.algo = a;
  o.proto = p;
  o.channels = channels;
  o.ranks = std::move(ranks);
  return o;
}
}  // namespace

// The bound is a bound: no algorithm, protocol or size beats it, on one server, four, and 48
// servers with one GPU each (a communicator that spans two rail leaves).
TEST(LowerBound, NeverAboveSimulatedTime) {
  const NcclParams P = nccl_params_for_gpu("h100");
  struct Shape {
    int nodes;
    std::vector<std::uint32_t> ranks;
  };
  const std::vector<Shape> shapes = {{1, strided(8, 1)}, {4, strided(32, 1)}, {48, strided(48, 8)}};
  const std::vector<std::pair<CollAlgo, std::vector<CollOp>>> algos = {
      {CollAlgo::ring, {CollOp::allreduce, CollOp::allgather, CollOp::reducescatter}},
      {CollAlgo::tree, {CollOp::allreduce}},
      {CollAlgo::rhd, {CollOp::allreduce}},
      {CollAlgo::pat, {CollOp::allgather, CollOp::reducescatter}},
      {CollAlgo::hierarchical, {CollOp::allreduce}},
      {CollAlgo::nvls, {CollOp::allreduce}},
      {CollAlgo::direct, {CollOp::sendrecv, CollOp::alltoall}}};
  int checked = 0;
  for (const Shape& sh : shapes) {
    Topology t = cluster(sh.nodes);
    for (const auto& [algo, ops] : algos)
      for (CollOp op : ops)
        for (auto [proto, channels] : {std::pair{CollProto::simple, 8}, std::pair{CollProto::ll, 2}})
          for (Bytes bytes : {Bytes{4 * kKiB}, Bytes{48 * kMiB}}) {
            if (proto != CollProto::simple && (algo == CollAlgo::nvls || op == CollOp::alltoall)) continue;
            CollResult r;
            try {
              r = simulate_collective(t, P, options(op, bytes, algo, proto, channels, sh.ranks), "test");
            } catch (const InputError&) {
              continue;  // not offered on this shape (nvls across servers, rhd on 48 ranks, ...)
            }
            std::string what = std::string(to_string(algo)) + " " + to_string(op) + " " + to_string(proto) + " " +
                               std::to_string(bytes) + " B on " + std::to_string(sh.nodes) + " servers";
            EXPECT_GT(r.lower_bound_s, 0) << what;
            EXPECT_LE(r.lower_bound_s, r.time_s) << what;
            EXPECT_EQ(r.lower_bound_s, r.bound.bound_s) << what;
            EXPECT_LE(r.bound.ideal_bandwidth_s, r.bound.bandwidth_s) << what;
            EXPECT_LE(r.bound.start_latency_s + r.bound.latency_path_s, r.time_s) << what;
            EXPECT_EQ(r.bound_note.empty(), r.time_s <= r.lower_bound_s * (1 + kBoundTolerance)) << what;
            ++checked;
          }
  }
  EXPECT_GE(checked, 60);  // the skips above leave most combinations
}

// The bytes the bound counts per link are the bytes the network carried: it routes as the
// executor does.
TEST(LowerBound, CountsTheBytesTheNetworkCarried) {
  const NcclParams P = nccl_params_for_gpu("h100");
  Topology t = cluster(48);
  CollRequest q;
  q.op = CollOp::reducescatter;
  q.bytes = 48 * kMiB;
  q.ranks = strided(48, 8);
  q.algo = CollAlgo::pat;
  q.proto = CollProto::simple;
  q.channels = 4;
  auto sched = build_schedule(t, P, q, "test");
  std::vector<DirectedLink> links = effective_links(t, P);
  Engine engine;
  FlowNetwork net(engine, links);
  CollectiveExecutor ex(engine, net, t);
  auto id = ex.launch(sched);
  engine.run();
  CollBound b = collective_lower_bound(t, links, *sched, id);
  double busiest_s = 0;
  for (LinkId d = 0; d < net.num_links(); ++d)
    busiest_s = std::max(busiest_s, net.link_bytes(d) / links[d].capacity_Bps);
  EXPECT_NEAR(b.bandwidth_s, busiest_s, 1e-12 * busiest_s);
  EXPECT_LE(b.bound_s, ps_to_s(ex.stats(id).end_ps - ex.stats(id).start_ps));
}

// A ring all-reduce inside one server is bandwidth-bound on NVLink: each GPU sends and receives
// 2(n-1)/n of the buffer. The bound's bandwidth term is that closed form, at the NVLink rate the
// system file gives times the NVLink efficiency, and the simulation reaches it within 5%.
TEST(LowerBound, RingAllReduceOnOneServerIsAtTheBound) {
  const NcclParams P = nccl_params_for_gpu("h100");
  Topology t = cluster(1);
  const Bytes S = 1 * kGiB;
  const double n = 8;
  CollResult r = simulate_collective(
      t, P, options(CollOp::allreduce, S, CollAlgo::ring, CollProto::simple, 16, strided(8, 1)), "test");
  const double nvlink_Bps = load_system("dgx-h100").nvlink_Bps * P.link_efficiency_nvlink;  // 450 GB/s x 0.8
  const double oracle_s = 2 * (n - 1) / n * static_cast<double>(S) / nvlink_Bps;
  EXPECT_NEAR(r.bound.bandwidth_s, oracle_s, 1e-6 * oracle_s);
  EXPECT_TRUE(r.bound.busiest_is_endpoint);
  EXPECT_DOUBLE_EQ(r.bound.bandwidth_s, r.bound.ideal_bandwidth_s);
  EXPECT_LE(r.lower_bound_s, r.time_s);
  EXPECT_LE(r.time_s, r.lower_bound_s * 1.05);
  EXPECT_EQ(r.bound_note, "");
  std::printf(
      "ring allreduce 1 GiB, 8 GPUs: bound %.4f ms (bandwidth %.4f ms, latency path %.4f ms), simulated %.4f ms\n",
      r.lower_bound_s * 1e3, r.bound.bandwidth_s * 1e3, r.bound.latency_path_s * 1e3, r.time_s * 1e3);
}

// PAT over 48 servers, one GPU each: the communicator spans two rail leaves, so the steps that
// cross them hash several flows onto one leaf->spine link. Over the whole run no fabric link
// carries more bytes than a NIC (the bound is the NIC's), but in each step some uplink carries
// more flows at once than a NIC does: the simulation is slower and the note says why.
TEST(LowerBound, PatAcrossTwoLeavesNamesHashCollisions) {
  const NcclParams P = nccl_params_for_gpu("h100");
  Topology t = cluster(48);
  CollResult r = simulate_collective(
      t, P, options(CollOp::reducescatter, 192 * kMiB, CollAlgo::pat, CollProto::simple, 4, strided(48, 8)), "test");
  EXPECT_LE(r.lower_bound_s, r.time_s);
  EXPECT_GT(r.time_s, r.lower_bound_s * (1 + kBoundTolerance));
  EXPECT_NE(r.bound_note.find("ECMP hash collisions"), std::string::npos) << r.bound_note;
  EXPECT_NE(r.bound_note.find("leaf->spine"), std::string::npos) << r.bound_note;
  std::printf(
      "pat reducescatter 192 MiB, 48 servers x 1 GPU: bound %.4f ms (bandwidth %.4f, ideal %.4f, latency path "
      "%.4f ms), simulated %.4f ms\n  note: %s\n",
      r.lower_bound_s * 1e3, r.bound.bandwidth_s * 1e3, r.bound.ideal_bandwidth_s * 1e3, r.bound.latency_path_s * 1e3,
      r.time_s * 1e3, r.bound_note.c_str());
}

// The reasons, from the terms alone: within the tolerance none; latency and transfers that
// together cover the excess; neither.
TEST(LowerBound, NotesNameTheReason) {
  Topology t = cluster(1);
  CollBound b;
  b.start_latency_s = 1e-6;
  b.bandwidth_s = 10e-6;
  b.ideal_bandwidth_s = 10e-6;
  b.latency_path_s = 10e-6;
  b.bound_s = 11e-6;
  b.busiest_is_endpoint = true;
  EXPECT_EQ(bound_note(t, b, 11.5e-6), "");  // within 5%
  EXPECT_NE(bound_note(t, b, 20e-6).find("latency steps"), std::string::npos);
  b.latency_path_s = 0.1e-6;
  b.bound_s = 11e-6;
  EXPECT_NE(bound_note(t, b, 20e-6).find("contention / pipeline dependencies"), std::string::npos);
}

// Inside one leaf there is no fabric link to collide on: the same PAT over 16 servers (one rail-0
// leaf) names no collision, and the crowding sweep finds no fabric link.
TEST(LowerBound, PatWithinOneLeafNamesNoCollision) {
  const NcclParams P = nccl_params_for_gpu("h100");
  Topology t = cluster(16);
  CollOptions o = options(CollOp::reducescatter, 64 * kMiB, CollAlgo::pat, CollProto::simple, 4, strided(16, 8));
  o.record_transfers = true;
  CollResult r = simulate_collective(t, P, o, "test");
  EXPECT_LE(r.lower_bound_s, r.time_s);
  EXPECT_EQ(r.bound_note.find("ECMP"), std::string::npos) << r.bound_note;
  EXPECT_EQ(peak_crowding(t, effective_links(t, P), r.transfers).fabric_link, UINT32_MAX);
}

// A fabric link that carries more bytes per capacity than any endpoint over the whole run: the
// note names its tier and the routes on it.
TEST(LowerBound, RoutedCollisionNamesTheTier) {
  Topology t = cluster(48);
  std::uint32_t fabric = UINT32_MAX;
  for (std::uint32_t i = 0; i < t.num_links() && fabric == UINT32_MAX; ++i)
    if (t.kind(t.link(i).a) == NodeKind::sw && t.kind(t.link(i).b) == NodeKind::sw &&
        t.name(t.link(i).a).find("leaf") != std::string::npos)
      fabric = 2 * i;
  ASSERT_NE(fabric, UINT32_MAX);
  CollBound b;
  b.bandwidth_s = 2e-3;
  b.ideal_bandwidth_s = 1e-3;
  b.latency_path_s = 0.1e-3;
  b.bound_s = 2e-3;
  b.busiest_link = fabric;
  b.busiest_link_flows = 6;
  std::string note = bound_note(t, b, 3e-3);
  EXPECT_NE(note.find("ECMP hash collisions: 6 flows share one leaf->spine network link, 2.00x"), std::string::npos)
      << note;
}
