// Auto selection: the collective that runs is the one that was chosen (selection simulated), and
// NCCL's tuner model (selection nccl) as NCCL scores PAT.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "common/error.hpp"
#include "sim/collectives/collective.hpp"
#include "tests/collectives/collective_util.hpp"
#include "topologies/fabric.hpp"

using namespace knee;

namespace {

Topology cluster(const std::string& system, int nodes) {
  return test::cluster(system, nodes, nodes == 1 ? FabricKind::single_node : FabricKind::rail_fat_tree);
}
// One GPU per server (a data-parallel group under tensor parallelism 8).
std::vector<std::uint32_t> one_per_server(int nodes) { return test::strided(static_cast<std::uint32_t>(nodes), 8); }
std::vector<std::uint32_t> all(int gpus) { return test::strided(static_cast<std::uint32_t>(gpus)); }

CollResult run(const Topology& t, CollOp op, Bytes bytes, const std::vector<std::uint32_t>& ranks,
               std::optional<CollAlgo> algo = std::nullopt, CollSelection sel = CollSelection::simulated) {
  CollOptions o;
  o.op = op;
  o.bytes = bytes;
  o.ranks = ranks;
  o.algo = algo;
  o.selection = sel;
  return simulate_collective(t, nccl_params_for_gpu("h100"), o, "test");
}

struct Case {
  const char* name;
  int nodes;
  bool one_per_server;
  CollOp op;
  Bytes bytes;
  std::vector<CollAlgo> algos;  // what auto may choose for this shape
};

// Oracle: every algorithm auto could choose, forced and simulated on its own (its protocol and
// channels as the closed form prefers). The chosen one is never slower than a simulated
// alternative, and never slower than a pruned one by more than kSelectionPruneFactor.
TEST(Selection, ChosenCollectiveIsNeverSlowerThanARejectedOne) {
  const Bytes MB = 1000 * 1000;
  const std::vector<Case> cases = {
      {"RS 192 MB, 48 servers x 1 GPU (two leaves)",
       48,
       true,
       CollOp::reducescatter,
       192 * MB,
       {CollAlgo::ring, CollAlgo::pat}},
      {"AG 192 MB, 64 servers x 1 GPU", 64, true, CollOp::allgather, 192 * MB, {CollAlgo::ring, CollAlgo::pat}},
      {"AG 1 MB, 16 servers x 1 GPU", 16, true, CollOp::allgather, 1 * MB, {CollAlgo::ring, CollAlgo::pat}},
      {"AR 256 MB, 4 servers x 8 GPUs", 4, false, CollOp::allreduce, 256 * MB, {CollAlgo::ring, CollAlgo::tree}},
      {"AR 64 MB, 1 server", 1, false, CollOp::allreduce, 64 * MB, {CollAlgo::ring, CollAlgo::tree, CollAlgo::nvls}},
      {"RS 32 MB, 1 server", 1, false, CollOp::reducescatter, 32 * MB, {CollAlgo::ring, CollAlgo::nvls}},
  };
  for (const Case& c : cases) {
    const Topology t = cluster("dgx-h100", c.nodes);
    const auto ranks = c.one_per_server ? one_per_server(c.nodes) : all(8 * c.nodes);
    const CollResult chosen = run(t, c.op, c.bytes, ranks);
    ASSERT_EQ(chosen.choice.candidates.size(), c.algos.size()) << c.name;
    for (CollAlgo a : c.algos) {
      const CollResult alt = run(t, c.op, c.bytes, ranks, a);
      const CollCandidate* cand = nullptr;
      for (const auto& k : chosen.choice.candidates)
        if (k.algo == a) cand = &k;
      ASSERT_NE(cand, nullptr) << c.name << ": " << to_string(a);
      if (cand->simulated_s >= 0) {
        EXPECT_EQ(cand->simulated_s, alt.time_s) << c.name << ": " << to_string(a);  // the same run
        EXPECT_LE(chosen.time_s, alt.time_s) << c.name << ": " << to_string(a);
      } else {
        EXPECT_LE(chosen.time_s, alt.time_s * kSelectionPruneFactor) << c.name << ": " << to_string(a);
      }
    }
    // What was chosen is what ran.
    for (const auto& k : chosen.choice.candidates)
      if (k.algo == chosen.choice.algo) { EXPECT_EQ(k.simulated_s, chosen.time_s) << c.name; }
  }
}

// The held-out finding of issue 13: PAT's log-step exchange crosses the spine at every long step,
// and static ECMP puts several of its flows on one uplink; the ring crosses it twice. NCCL's model
// scores PAT at 3/4 of the ring bandwidth and picks ring here too; knee's closed form alone does not
// see the spine and would pick PAT.
TEST(Selection, RingBeatsPatAcrossTwoLeafSwitches) {
  const Topology t = cluster("dgx-h100", 48);
  const auto ranks = one_per_server(48);
  const Bytes bytes = 192 * 1000 * 1000;
  const CollResult sim = run(t, CollOp::reducescatter, bytes, ranks);
  const CollResult pat = run(t, CollOp::reducescatter, bytes, ranks, CollAlgo::pat);
  EXPECT_EQ(sim.choice.algo, CollAlgo::ring);
  EXPECT_GT(pat.time_s, 1.2 * sim.time_s);
  EXPECT_LT(pat.choice.predicted_s, sim.choice.predicted_s);  // the closed form prefers PAT
  EXPECT_EQ(run(t, CollOp::reducescatter, bytes, ranks, std::nullopt, CollSelection::nccl).choice.algo, CollAlgo::ring);
}

// NCCL 2.23's PAT score, computed here from its formula: 8 us + floor(log2 nodes) x (tree network
// hop, 14 us Simple) / 3.5 + 2.8 us per rank, plus the bandwidth term at 3/4 of knee's.
TEST(Selection, NcclModelScoresPatAsNcclsTuner) {
  const Topology t = cluster("dgx-h100", 16);
  const auto ranks = one_per_server(16);
  const NcclParams P = nccl_params_for_gpu("h100");
  const Bytes bytes = 64 * 1000 * 1000;
  const double pred = predict_collective_s(t, P, CollOp::allgather, CollAlgo::pat, CollProto::simple, 2, bytes, ranks);
  const double bandwidth_s = pred - 8.4e-6 - 4 * 14e-6;  // knee's closed form: base + log2(16) network hops
                                                         // (the tree's 14 us Simple hop: one GPU per server)
  const double expected = (8 + 4 * 14.0 / 3.5 + 2.8 * 16) * 1e-6 + bandwidth_s / 0.75;
  EXPECT_NEAR(nccl_model_s(t, P, CollOp::allgather, CollAlgo::pat, CollProto::simple, 2, bytes, ranks), expected,
              1e-12);
  // Other algorithms: the closed form, which (as NCCL) charges every network hop of a communicator
  // with one GPU per server the tree's latency: ring LL over 16 servers, 8 bytes, is 6.6 us base +
  // 15 hops x 5.0 us (not ring's 2.7) + 8 bytes on the wire.
  EXPECT_EQ(nccl_model_s(t, P, CollOp::allgather, CollAlgo::ring, CollProto::ll, 2, bytes, ranks),
            predict_collective_s(t, P, CollOp::allgather, CollAlgo::ring, CollProto::ll, 2, bytes, ranks));
  EXPECT_NEAR(predict_collective_s(t, P, CollOp::allgather, CollAlgo::ring, CollProto::ll, 1, 16, ranks),
              (6.6 + 15 * 5.0) * 1e-6, 0.01e-6);
  EXPECT_EQ(nccl_model_s(t, P, CollOp::allreduce, CollAlgo::tree, CollProto::simple, 2, bytes, ranks),
            predict_collective_s(t, P, CollOp::allreduce, CollAlgo::tree, CollProto::simple, 2, bytes, ranks));
  // Small messages: NCCL's tuner takes PAT for its log-step latency; nothing is simulated.
  const CollResult small = run(t, CollOp::allgather, 64 * 1024, ranks, std::nullopt, CollSelection::nccl);
  EXPECT_EQ(small.choice.algo, CollAlgo::pat);
  EXPECT_EQ(small.choice.selection, CollSelection::nccl);
  for (const auto& k : small.choice.candidates) EXPECT_LT(k.simulated_s, 0);
}

TEST(Selection, ParsedOnceAndNamed) {
  EXPECT_EQ(parse_coll_selection("nccl", "x"), CollSelection::nccl);
  EXPECT_EQ(parse_coll_selection("Simulated", "x"), CollSelection::simulated);
  EXPECT_STREQ(to_string(CollSelection::simulated), "simulated");
  EXPECT_THROW(parse_coll_selection("fastest", "x"), InputError);
}

// Wherever NCCL's tuner would pick an algorithm and protocol, knee's simulation of it agrees with
// NCCL's cost model: never more than 15% slower, and faster only by the per-hop latency that the
// model adds in full and the simulation overlaps with the transfers (a sender keeps several steps
// in flight: the model's bandwidth term alone is the floor).
TEST(Selection, SimulatedTimeAgreesWithNcclsModelWhereNcclWouldSelectIt) {
  const NcclParams P = nccl_params_for_gpu("h100");
  int checked = 0;
  for (int nodes : {1, 4, 16})
    for (int per : {8, 1}) {
      if (nodes == 1 && per == 1) continue;
      const Topology t = cluster("dgx-h100", nodes);
      std::vector<std::uint32_t> ranks;
      for (int i = 0; i < nodes; ++i)
        for (int g = 0; g < per; ++g) ranks.push_back(static_cast<std::uint32_t>(i * 8 + g));
      for (CollOp op : {CollOp::allreduce, CollOp::reducescatter, CollOp::allgather})
        for (Bytes bytes : {Bytes{64} * 1024, Bytes{1} << 20, Bytes{16} << 20, Bytes{256} << 20}) {
          const CollResult r = run(t, op, bytes, ranks, std::nullopt, CollSelection::nccl);
          const CollChoice& c = r.choice;
          const double model = nccl_model_s(t, P, op, c.algo, c.proto, c.channels, bytes, ranks);
          const double latency = nccl_model_s(t, P, op, c.algo, c.proto, c.channels, 1, ranks);
          const std::string what = std::to_string(nodes) + "x" + std::to_string(per) + " " + to_string(op) + " " +
                                   std::to_string(bytes) + " " + to_string(c.algo) + "/" + to_string(c.proto);
          EXPECT_LE(r.time_s, 1.15 * model) << what;
          // 5% below that floor is allowed: the model sends every channel over every GPU's NVLink,
          // where a multi-server ring's exit GPU sends over its NIC instead (4x8, 256 MB: -2%).
          EXPECT_GE(r.time_s, 0.95 * (model - latency)) << what;
          ++checked;
        }
    }
  EXPECT_EQ(checked, 60);
}

}  // namespace
