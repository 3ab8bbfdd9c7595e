// Builders that decompose a collective into the transfers it really sends (docs/collectives.md).
#pragma once
#include <memory>
#include <vector>

#include "sim/collectives/collective_types.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "sim/collectives/schedule.hpp"
#include "topologies/topology.hpp"

namespace knee {

struct CollRequest {
  CollOp op = CollOp::allreduce;
  Bytes bytes = 0;                   // nccl-tests "size": the full buffer (all ranks' data for
                                     // all-gather and reduce-scatter, the vector for all-reduce)
  std::vector<std::uint32_t> ranks;  // GPU ranks of the communicator, in communicator order
  CollAlgo algo = CollAlgo::ring;
  CollProto proto = CollProto::simple;
  int channels = 1;
  int root = 0;                      // communicator index, for broadcast and reduce
  // Pipeline slices per channel: 0 picks as many as the step count allows within a task budget.
  int slices = 0;
  // all-to-all-v: bytes from communicator index i to j; empty means bytes / n^2 for every pair.
  std::vector<std::vector<Bytes>> alltoallv;
};

// Upper bound on tasks (flows) of one schedule when slices are chosen automatically: large
// communicators fold pipeline steps into fewer, larger transfers (same bytes, same latency sum).
inline constexpr std::size_t kTaskBudget = 1u << 18;

// Throws InputError when the algorithm cannot run on the communicator (e.g. nvls across NVLink
// domains, rhd on a non-power-of-two group, tree for all-gather). `what` prefixes messages.
std::shared_ptr<CollSchedule> build_schedule(const Topology& topo, const NcclParams& params,
                                             const CollRequest& req, const std::string& what);

// Whether `algo` implements `op` at all (independent of the communicator).
bool algo_supports(CollAlgo algo, CollOp op);

}  // namespace knee
