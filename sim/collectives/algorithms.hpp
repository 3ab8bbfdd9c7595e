// Builders that decompose a collective into the transfers it really sends (docs/collectives.md).
#pragma once
#include <memory>
#include <vector>

#include "sim/collectives/collective_types.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "sim/collectives/schedule.hpp"
#include "topologies/topology.hpp"

namespace knee {

// Upper bound on tasks (flows) of one schedule when slices are chosen automatically: large
// communicators fold pipeline steps into fewer, larger transfers (same bytes, same latency sum).
inline constexpr std::size_t kTaskBudget = 1u << 18;

struct CollRequest {
  CollOp op = CollOp::allreduce;
  Bytes bytes = 0;                   // nccl-tests "size": the full buffer (all ranks' data for
                                     // all-gather and reduce-scatter, the vector for all-reduce)
  std::vector<std::uint32_t> ranks;  // GPU ranks of the communicator, in communicator order
  CollAlgo algo = CollAlgo::ring;
  CollProto proto = CollProto::simple;
  int channels = 1;
  int root = 0;  // communicator index, for broadcast and reduce
  // Pipeline slices per channel: 0 picks as many as the step count allows within kTaskBudget.
  int slices = 0;
  // The budget instead for a ring of one GPU per server, whose edges all leave through a NIC and
  // run at one rate alone: folding its steps into fewer slices then changes no uncontended time
  // (each slice carries the bytes and the hop latencies of the steps it folds). Every-rank mode
  // lowers it, as it runs thousands of collectives at once.
  std::size_t uniform_ring_task_budget = kTaskBudget;
  // all-to-all-v: bytes from communicator index i to j; empty means bytes / n^2 for every pair.
  std::vector<std::vector<Bytes>> alltoallv;
};

// Throws InputError when the algorithm cannot run on the communicator (e.g. nvls across NVLink
// domains, rhd on a non-power-of-two group, tree for all-gather). `what` prefixes messages.
std::shared_ptr<CollSchedule> build_schedule(const Topology& topo, const NcclParams& params, const CollRequest& req,
                                             const std::string& what);

// NCCL's double binary tree (ncclGetDtree) over m positions (servers in communicator order):
// tree 0 is a binary tree whose odd positions are leaves; tree 1 mirrors it (m even) or shifts it
// by one (m odd), so that with m even every position is interior in at most one tree. Returns
// the parent position of each position, -1 for the root.
std::vector<int> dbt_parents(std::size_t m, int tree);
// Local index (within the server's GPUs sorted by local index) of the GPU heading `channel`'s
// tree chain, whose NIC carries the channel's inter-server traffic. Channels 2i and 2i+1 (trees
// 0 and 1) share it, as NCCL's duplicated tree channels share a NIC.
std::size_t tree_head(int channel, std::size_t gpus_per_server);

// Whether `algo` implements `op` at all (independent of the communicator).
bool algo_supports(CollAlgo algo, CollOp op);
// InputError "WHAT: expected an algorithm that implements OP, got 'ALGO'" unless algo_supports
// (a barrier runs as an all-reduce of one element); `what` names the option for the caller.
void require_algo_supports(CollAlgo algo, CollOp op, const std::string& what);

}  // namespace knee
