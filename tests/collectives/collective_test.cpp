#include "sim/collectives/collective.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "sim/collectives/executor.hpp"
#include "tests/collectives/collective_util.hpp"
#include "topologies/fabric.hpp"

using namespace knee;
using test::cluster;

namespace {
std::vector<std::uint32_t> first(std::uint32_t n) { return test::strided(n); }
CollResult run(const Topology& t, CollOp op, Bytes bytes, CollAlgo a, CollProto p, int channels,
               std::vector<std::uint32_t> ranks = {}, int slices = 0) {
  CollOptions o;
  o.op = op;
  o.bytes = bytes;
  o.algo = a;
  o.proto = p;
  o.channels = channels;
  o.ranks = std::move(ranks);
  o.slices = slices;
  return simulate_collective(t, nccl_params_for_gpu("h100"), o, "test");
}
// A ring all-reduce's schedule of `bytes` over `ranks` on `channels` channels.
std::shared_ptr<const CollSchedule> ring_allreduce(const Topology& t, const NcclParams& P,
                                                   std::vector<std::uint32_t> ranks, Bytes bytes, int channels) {
  CollRequest q;
  q.op = CollOp::allreduce;
  q.bytes = bytes;
  q.ranks = std::move(ranks);
  q.algo = CollAlgo::ring;
  q.channels = channels;
  return std::shared_ptr<const CollSchedule>(build_schedule(t, P, q, "test"));
}
}  // namespace

// Without contention, a ring all-reduce is the closed form: base latency, then 2(n-1) steps each
// costing the hop latency plus one slice's bytes at the per-channel rate. One channel on a
// single NVSwitch server: every flow runs alone on its links at the per-channel cap.
TEST(Ring, AllReduceMatchesClosedFormExactly) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  NcclParams P = nccl_params_for_gpu("h100");
  const Bytes S = 64 * kMiB;
  const int n = 8, steps = 2 * (n - 1);
  CollResult r = run(t, CollOp::allreduce, S, CollAlgo::ring, CollProto::simple, 1);
  // Expected, computed as the model defines it: each step moves S/n bytes at min(cap, link).
  double rate = std::min(P.channel_Bps(CollAlgo::ring), GBps_to_Bps(450) * P.link_efficiency_nvlink);
  Bytes edge_bytes = static_cast<Bytes>(std::ceil(static_cast<double>(S) * steps / n));
  TimePs expect = us_to_ps(P.base_latency_us_of(CollAlgo::ring, CollProto::simple));
  for (int j = 0; j < steps; ++j) {
    Bytes b = edge_bytes * (j + 1) / steps - edge_bytes * j / steps;
    expect += static_cast<TimePs>(std::ceil(static_cast<double>(b) / rate * 1e12)) +
              us_to_ps(P.hop_latency_us(CollAlgo::ring, CollProto::simple, false));
  }
  // Exact up to the network's 1 ps rounding per transfer.
  EXPECT_NEAR(r.time_s * 1e12, static_cast<double>(expect), steps);
  EXPECT_EQ(r.flows, static_cast<std::uint64_t>(n * steps));
  EXPECT_NEAR(r.time_s, r.choice.predicted_s, 1e-9);  // the tuner's closed form agrees
}

// A large ring all-reduce reaches busbw = link bandwidth x link efficiency x protocol efficiency.
TEST(Ring, LargeAllReduceBusBandwidthIsLinkRateTimesProtocolEfficiency) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  NcclParams P = nccl_params_for_gpu("h100");
  for (auto proto : {CollProto::simple, CollProto::ll128}) {
    CollResult r = run(t, CollOp::allreduce, 8 * kGiB, CollAlgo::ring, proto, 16);
    double expect = 450 * P.link_efficiency_nvlink * P.proto_efficiency[static_cast<int>(proto)];
    EXPECT_NEAR(r.busbw_GBps, expect, expect * 0.005) << to_string(proto);  // latency is < 0.5%
  }
}

TEST(Ring, AllGatherAndReduceScatterMoveNMinusOneOverNOfTheData) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  NcclParams P = nccl_params_for_gpu("h100");
  CollRequest q;
  q.op = CollOp::allgather;
  q.bytes = 8 * kMiB;
  q.ranks = first(8);
  q.algo = CollAlgo::ring;
  q.channels = 2;
  auto s = build_schedule(t, P, q, "test");
  // Each of n ranks sends (n-1)/n of the buffer on each ring: total (n-1) x S.
  EXPECT_DOUBLE_EQ(s->payload_bytes, 7.0 * 8 * kMiB);
  CollRunStats st;
  run_schedule_alone(t, effective_links(t, P), s, &st);
  double wire = 0;
  for (auto& task : s->tasks()) wire += static_cast<double>(task.wire_bytes);
  EXPECT_DOUBLE_EQ(st.wire_bytes, wire);  // every byte scheduled was sent
}

TEST(Tree, SingleServerAgreesWithClosedFormWithinOnePercent) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  CollResult r = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::tree, CollProto::simple, 16);
  EXPECT_NEAR(r.time_s, r.choice.predicted_s, 0.01 * r.choice.predicted_s);
}

TEST(Nvls, MovesBufferPlusOneNthEachWayAndAgreesWithClosedForm) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  CollResult r = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::nvls, CollProto::simple, 1);
  // Within 1%: the simulation overlaps the 25 us hop latency with the first slices' transfers.
  EXPECT_NEAR(r.time_s, r.choice.predicted_s, 0.01 * r.choice.predicted_s);
  // Per GPU: S + S/n up and S/n + S down.
  EXPECT_NEAR(r.wire_bytes, 8 * 2 * (1.0 + 1.0 / 8) * kGiB, 8 * 4 * 64.0);
}

TEST(Rhd, PowerOfTwoOnlyAndHalvingBytesPerStep) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  EXPECT_THROW(run(t, CollOp::allreduce, kMiB, CollAlgo::rhd, CollProto::simple, 1, first(6)), InputError);
  CollRequest q;
  q.op = CollOp::allreduce;
  q.bytes = 8 * kMiB;
  q.ranks = first(8);
  q.algo = CollAlgo::rhd;
  auto s = build_schedule(t, nccl_params_for_gpu("h100"), q, "test");
  EXPECT_EQ(s->size(), 2u * 3u * 8u);  // 2 log2(8) steps, one transfer per rank each
  EXPECT_DOUBLE_EQ(s->payload_bytes, 2.0 * 8 * (7.0 / 8) * 8 * kMiB);
}

TEST(Algorithms, RefuseCommunicatorsTheyCannotRunOn) {
  Topology t = cluster("dgx-h100", 2);
  EXPECT_THROW(run(t, CollOp::allreduce, kMiB, CollAlgo::nvls, CollProto::simple, 1), InputError);
  EXPECT_THROW(run(t, CollOp::allgather, kMiB, CollAlgo::tree, CollProto::simple, 1), InputError);
  EXPECT_THROW(run(t, CollOp::allreduce, kMiB, CollAlgo::hierarchical, CollProto::simple, 1, first(8)), InputError);
  EXPECT_THROW(run(t, CollOp::allreduce, -1, CollAlgo::ring, CollProto::simple, 1), InputError);
  try {
    run(t, CollOp::allreduce, kMiB, CollAlgo::nvls, CollProto::simple, 1);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("one NVLink domain"), std::string::npos) << e.what();
  }
}

// Every algorithm that applies runs to completion on two servers and is deterministic.
TEST(Algorithms, AllRunAndAreDeterministic) {
  Topology t = cluster("dgx-h100", 2);
  struct Case {
    CollOp op;
    CollAlgo a;
  };
  for (Case c : {Case{CollOp::allreduce, CollAlgo::ring}, Case{CollOp::allreduce, CollAlgo::tree},
                 Case{CollOp::allreduce, CollAlgo::rhd}, Case{CollOp::allreduce, CollAlgo::hierarchical},
                 Case{CollOp::allreduce, CollAlgo::collnet}, Case{CollOp::allgather, CollAlgo::pat},
                 Case{CollOp::reducescatter, CollAlgo::pat}, Case{CollOp::broadcast, CollAlgo::ring},
                 Case{CollOp::reduce, CollAlgo::ring}, Case{CollOp::alltoall, CollAlgo::pairwise},
                 Case{CollOp::alltoall, CollAlgo::a2a_hierarchical}, Case{CollOp::sendrecv, CollAlgo::direct}}) {
    auto a = run(t, c.op, 16 * kMiB, c.a, CollProto::simple, 2);
    auto b = run(t, c.op, 16 * kMiB, c.a, CollProto::simple, 2);
    EXPECT_GT(a.time_s, 0) << to_string(c.a);
    EXPECT_EQ(a.time_s, b.time_s) << to_string(c.a);
    EXPECT_TRUE(std::isfinite(a.busbw_GBps));
  }
}

// Two all-reduces on the same GPUs share every link: each takes about twice as long as alone.
// Two on different servers share nothing: each takes exactly as long as alone.
TEST(Contention, ConcurrentCollectivesShareLinks) {
  Topology t = cluster("dgx-h100", 2);
  NcclParams P = nccl_params_for_gpu("h100");
  auto sched = [&](std::vector<std::uint32_t> ranks) { return ring_allreduce(t, P, std::move(ranks), 512 * kMiB, 16); };
  std::vector<std::uint32_t> s0 = first(8), s1;
  for (std::uint32_t i = 8; i < 16; ++i) s1.push_back(i);
  TimePs alone = run_schedule_alone(t, effective_links(t, P), sched(s0));
  auto both = [&](std::shared_ptr<const CollSchedule> a, std::shared_ptr<const CollSchedule> b) {
    Engine e;
    FlowNetwork net(e, effective_links(t, P));
    CollectiveExecutor ex(e, net, t);
    auto ia = ex.launch(a), ib = ex.launch(b);
    e.run();
    return std::make_pair(ex.stats(ia).end_ps, ex.stats(ib).end_ps);
  };
  auto same = both(sched(s0), sched(s0));
  EXPECT_NEAR(static_cast<double>(same.first), 2.0 * alone, 0.05 * 2.0 * alone);
  EXPECT_NEAR(static_cast<double>(same.second), 2.0 * alone, 0.05 * 2.0 * alone);
  auto apart = both(sched(s0), sched(s1));
  EXPECT_EQ(apart.first, alone);
  EXPECT_EQ(apart.second, run_schedule_alone(t, effective_links(t, P), sched(s1)));
}

// Bytes by account: two all-reduces over both servers (one per account) and one unaccounted; once
// run out, the accounts' bytes plus the unaccounted one's equal what the network carried on every
// link, and each account carried exactly its schedule's wire bytes times its route lengths (the
// sum over links of an account's bytes is its transfers' wire bytes x hops, counted independently).
TEST(Contention, AccountLinkBytesSumToTheNetworksAndItsTransfers) {
  Topology t = cluster("dgx-h100", 2);
  NcclParams P = nccl_params_for_gpu("h100");
  auto sched = [&](std::vector<std::uint32_t> ranks) { return ring_allreduce(t, P, std::move(ranks), 64 * kMiB, 4); };
  Engine e;
  FlowNetwork net(e, effective_links(t, P));
  CollectiveExecutor ex(e, net, t);
  ex.record_transfers(true);
  const std::vector<std::uint32_t> cross = {0, 8}, cross2 = {1, 9}, local = {2, 3};
  const auto i0 = ex.launch(sched(cross), FlowDone{UINT32_MAX, 0, 0}, 0);
  const auto i1 = ex.launch(sched(cross2), FlowDone{UINT32_MAX, 0, 0}, 1);
  ex.launch(sched(local));
  e.run();
  const auto &a = ex.account_link_bytes(0), &b = ex.account_link_bytes(1);
  ASSERT_EQ(a.size(), net.num_links());
  ASSERT_EQ(b.size(), net.num_links());
  EXPECT_TRUE(ex.account_link_bytes(7).empty());
  std::vector<double> local_bytes(net.num_links(), 0);
  // The local all-reduce (GPUs 2, 3) never leaves server 0's NVSwitch: a link either carries it
  // or an account's bytes, so where neither account sent, the network's bytes are the local one's.
  for (std::uint32_t l = 0; l < net.num_links(); ++l) {
    const double got = a[l] + b[l];
    if (got > 0) EXPECT_NEAR(got, net.link_bytes(l), 1e-9 * net.link_bytes(l)) << l;
  }
  for (auto [inst, acct] : {std::pair{i0, &a}, std::pair{i1, &b}}) {
    double hop_bytes = 0, sum = 0;
    for (const TransferRecord& r : ex.transfers(inst))
      hop_bytes += r.wire_bytes * static_cast<double>(t.route(r.src, r.dst, 0).size());
    for (double x : *acct) sum += x;
    EXPECT_NEAR(sum, hop_bytes, 1e-9 * hop_bytes);
  }
}

// Cross-rail all-to-all: a rail-optimized non-blocking fabric beats a 4:1 oversubscribed fat-tree,
// and on the oversubscribed fabric the time is bounded below by bisection bandwidth.
TEST(Contention, AllToAllIsBoundedByBisection) {
  Topology rail = cluster("dgx-h100", 8, FabricKind::rail_fat_tree, 1.0);
  Topology fat = cluster("dgx-h100", 8, FabricKind::fat_tree, 4.0);
  NcclParams P = nccl_params_for_gpu("h100");
  const Bytes S = 256 * kMiB;
  auto a = run(rail, CollOp::alltoall, S, CollAlgo::pairwise, CollProto::simple, 1);
  auto b = run(fat, CollOp::alltoall, S, CollAlgo::pairwise, CollProto::simple, 1);
  EXPECT_GT(b.time_s, 1.5 * a.time_s);
  // Half the ranks send half their buffer across the cut, in each direction.
  double n = 64, cross_bytes = n / 2 * S / 2;
  double bound = cross_bytes / (fat.bisection_Bps() * P.link_efficiency_network);
  EXPECT_GE(b.time_s, bound * (1 - 1e-9));
}

TEST(Types, BusBandwidthFactorsAsNcclTests) {
  EXPECT_DOUBLE_EQ(busbw_factor(CollOp::allreduce, 8), 2.0 * 7 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor(CollOp::allgather, 8), 7.0 / 8);
  EXPECT_DOUBLE_EQ(busbw_factor(CollOp::reducescatter, 4), 3.0 / 4);
  EXPECT_DOUBLE_EQ(busbw_factor(CollOp::alltoall, 2), 0.5);
  EXPECT_DOUBLE_EQ(busbw_factor(CollOp::broadcast, 8), 1.0);
  EXPECT_THROW(parse_coll_op("allreduse", "--op"), InputError);
  EXPECT_EQ(parse_coll_algo("sharp", "--algo"), CollAlgo::collnet);
  EXPECT_EQ(parse_coll_proto("ll128", "--proto"), CollProto::ll128);
}

TEST(Auto, PicksLowLatencyProtocolForSmallAndBandwidthForLarge) {
  Topology t = cluster("dgx-h100", 1, FabricKind::single_node);
  CollOptions o;
  o.op = CollOp::allreduce;
  o.bytes = 8;
  auto small = simulate_collective(t, nccl_params_for_gpu("h100"), o, "test");
  EXPECT_EQ(small.choice.proto, CollProto::ll);
  o.bytes = 4 * kGiB;
  auto large = simulate_collective(t, nccl_params_for_gpu("h100"), o, "test");
  EXPECT_EQ(large.choice.proto, CollProto::simple);
  EXPECT_GT(large.busbw_GBps, 300);
}

// NCCL's double binary tree (ncclGetDtree): tree 0 has odd positions as leaves and root 0 with one
// child; tree 1 mirrors it for an even count, so no server is interior in both.
TEST(Tree, DoubleBinaryTreeIsNcclsAndEachServerIsInteriorInAtMostOneTree) {
  auto t0 = dbt_parents(16, 0), t1 = dbt_parents(16, 1);
  EXPECT_EQ(t0[0], -1);
  EXPECT_EQ(t0[8], 0);
  EXPECT_EQ(t0[4], 8);
  EXPECT_EQ(t0[12], 8);
  EXPECT_EQ(t0[1], 2);
  EXPECT_EQ(t1[15], -1);
  EXPECT_EQ(t1[14], 13);  // mirror of 1 -> 2
  for (std::size_t m : {2u, 4u, 6u, 16u, 128u}) {
    auto a = dbt_parents(m, 0), b = dbt_parents(m, 1);
    std::vector<int> kids_a(m, 0), kids_b(m, 0), roots(2, 0);
    for (std::size_t g = 0; g < m; ++g) {
      if (a[g] < 0) ++roots[0];
      else ++kids_a[a[g]];
      if (b[g] < 0) ++roots[1];
      else ++kids_b[b[g]];
    }
    EXPECT_EQ(roots[0], 1);
    EXPECT_EQ(roots[1], 1);
    for (std::size_t g = 0; g < m; ++g) {
      EXPECT_FALSE(kids_a[g] > 0 && kids_b[g] > 0) << "m=" << m << " position " << g;
      EXPECT_LE(kids_a[g], 2);
    }
  }
  // Odd counts shift by one: still one root and a parent for every other position.
  auto s = dbt_parents(5, 1);
  EXPECT_EQ(std::count(s.begin(), s.end(), -1), 1);
  EXPECT_EQ(s[1], -1);
}

// Multi-server tree all-reduce agrees with its closed form, which counts the flows on the busiest
// NIC (channels 2i and 2i+1 share a head GPU's NIC) and NVLink. Tolerance 2%: what remains is the
// pipeline fill of the slices. 8 channels use half the NICs of 16: about twice the time.
TEST(Tree, MultiServerAllReduceAgreesWithClosedForm) {
  for (int nodes : {2, 4}) {
    Topology t = cluster("dgx-h100", nodes);
    auto r16 = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::tree, CollProto::simple, 16);
    EXPECT_NEAR(r16.time_s, r16.choice.predicted_s, 0.02 * r16.choice.predicted_s) << nodes;
    if (nodes == 4) {
      auto r8 = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::tree, CollProto::simple, 8);
      EXPECT_NEAR(r8.time_s, r8.choice.predicted_s, 0.02 * r8.choice.predicted_s);
      EXPECT_GT(r8.time_s, 1.9 * r16.time_s);
    }
  }
}

// 16 servers: the tree is 4 servers deep. With 256 slices per channel the fill is within 3%. Coarser
// slices (what the task budget allows at scale) are forwarded cut-through, a chunk at a time, so
// they agree with the closed form too instead of paying one whole slice per tree level.
TEST(Tree, SixteenServersAgreeWithinThreePercentFineOrCoarse) {
  Topology t = cluster("dgx-h100", 16);
  auto fine = run(t, CollOp::allreduce, 256 * kMiB, CollAlgo::tree, CollProto::simple, 2, {}, 256);
  EXPECT_NEAR(fine.time_s, fine.choice.predicted_s, 0.03 * fine.choice.predicted_s);
  auto coarse = run(t, CollOp::allreduce, 256 * kMiB, CollAlgo::tree, CollProto::simple, 2, {}, 64);
  EXPECT_NEAR(coarse.time_s, coarse.choice.predicted_s, 0.03 * coarse.choice.predicted_s);
  EXPECT_NEAR(coarse.time_s, fine.time_s, 0.03 * fine.time_s);
  auto coarser = run(t, CollOp::allreduce, 256 * kMiB, CollAlgo::tree, CollProto::simple, 2, {}, 16);
  EXPECT_NEAR(coarser.time_s, coarser.choice.predicted_s, 0.03 * coarser.choice.predicted_s);
}

// Hierarchical and collnet on 4 servers: every channel's stage 2 uses every NIC, so a NIC carries
// one flow per channel. Hierarchical is exact to 0.1%; collnet within 2% (slice pipelining of
// its switch tree).
TEST(Hierarchical, FourServersAgreeWithClosedForm) {
  Topology t = cluster("dgx-h100", 4);
  for (int C : {1, 16}) {
    auto h = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::hierarchical, CollProto::simple, C);
    EXPECT_NEAR(h.time_s, h.choice.predicted_s, 0.001 * h.choice.predicted_s) << C;
    auto s = run(t, CollOp::allreduce, 1 * kGiB, CollAlgo::collnet, CollProto::simple, C);
    EXPECT_NEAR(s.time_s, s.choice.predicted_s, 0.02 * s.choice.predicted_s) << C;
  }
}

// NCCL's all-to-all posts every send at once: on two servers each GPU's NIC carries half its
// buffer, the NVLink the rest; with no other traffic the simulation equals that closed form.
TEST(AllToAll, DirectIsNicBoundAndAutoPicksItForSmallGroups) {
  Topology t = cluster("dgx-h100", 2);
  NcclParams P = nccl_params_for_gpu("h100");
  auto r = run(t, CollOp::alltoall, 1 * kGiB, CollAlgo::direct, CollProto::simple, 1);
  double nic = GBps_to_Bps(50) * P.link_efficiency_network;
  double expect = P.base_latency_us_of(CollAlgo::direct, CollProto::simple) * 1e-6 +
                  P.hop_latency_us(CollAlgo::direct, CollProto::simple, true) * 1e-6 + (1.0 * kGiB / 16 * 8) / nic;
  EXPECT_NEAR(r.time_s, expect, 1e-9);
  EXPECT_EQ(r.flows, 16u * 15u);
  CollOptions o;
  o.op = CollOp::alltoall;
  o.bytes = 64 * kMiB;
  EXPECT_EQ(simulate_collective(t, P, o, "test").choice.algo, CollAlgo::direct);
  // Rounds that wait for each other are slower than everything in flight at once.
  auto pw = run(t, CollOp::alltoall, 1 * kGiB, CollAlgo::pairwise, CollProto::simple, 1);
  EXPECT_GT(pw.time_s, r.time_s);
}
