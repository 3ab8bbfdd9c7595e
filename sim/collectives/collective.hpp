// One collective on a simulated cluster, as nccl-tests would report it: choose the algorithm,
// protocol and channel count (NCCL-tuner style, or as given), build the flows it sends, simulate
// them on the flow-level network, and report time, algbw and busbw.
#pragma once
#include <optional>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/collectives/algorithms.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/collectives/lower_bound.hpp"
#include "sim/network/flow_network.hpp"

namespace knee {

struct CollOptions {
  CollOp op = CollOp::allreduce;
  Bytes bytes = 0;
  std::vector<std::uint32_t> ranks;  // empty: every GPU of the topology
  std::optional<CollAlgo> algo;      // empty: auto
  std::optional<CollProto> proto;    // empty: auto
  int channels = 0;                  // 0: auto
  int root = 0;
  bool in_network_reduction = false;                   // allow collnet (SHARP) in auto selection
  CollSelection selection = CollSelection::simulated;  // how auto selection decides
  int slices = 0;                                      // 0: automatic pipeline slicing
  std::vector<std::vector<Bytes>> alltoallv;
  bool record_transfers = false;  // fill CollResult::transfers (for timelines)
};

// One shortlisted candidate of auto selection: an algorithm with the protocol and channel count
// its closed form prefers.
struct CollCandidate {
  CollAlgo algo;
  CollProto proto;
  int channels;
  double predicted_s;       // knee's closed form (no contention)
  double scored_s;          // what the selector compared: predicted_s, or NCCL's model under nccl
  double simulated_s = -1;  // flow simulation alone; -1: not run (pruned, or selection nccl)
};

struct CollChoice {
  CollAlgo algo;
  CollProto proto;
  int channels;
  double predicted_s;  // closed-form estimate (no contention)
  CollSelection selection = CollSelection::simulated;
  // Every algorithm auto selection weighed, in the order it scored them (empty when the caller
  // fixed algorithm, protocol and channels).
  std::vector<CollCandidate> candidates;
};

struct CollResult {
  CollOp op;
  Bytes bytes;
  int nranks;
  CollChoice choice;
  double time_s;
  double algbw_GBps, busbw_GBps;
  std::uint64_t flows;
  double wire_bytes;
  // The alpha-beta lower bound of the schedule's links and latencies (lower_bound.hpp): never above
  // time_s. bound_note says in one line why time_s exceeds it by more than kBoundTolerance (empty
  // when it does not).
  double lower_bound_s = 0;
  std::string bound_note;
  CollBound bound;                        // the bound's terms, for tests and diagnostics
  std::vector<TransferRecord> transfers;  // when CollOptions::record_transfers
  // As `knee collective --json` prints one result (and the Python API returns it).
  nlohmann::ordered_json to_json() const;
};

// Link capacities as NCCL's kernels can use them: the wire rate times the link class's efficiency.
// Latencies are zero: the executor adds each transfer's latency after its last byte.
std::vector<DirectedLink> effective_links(const Topology& topo, const NcclParams& params);

// Closed-form time of one collective without contention (NCCL's model: latency x steps +
// bytes / bandwidth, with this topology's link rates). Used by auto-selection.
double predict_collective_s(const Topology& topo, const NcclParams& params, CollOp op, CollAlgo algo, CollProto proto,
                            int channels, Bytes bytes, const std::vector<std::uint32_t>& ranks);

// Time NCCL's tuner gives a candidate: the closed form with the refinements NCCL's cost model
// applies on top of it (src/graph/tuning.cc, docs/collectives.md "Auto selection").
double nccl_model_s(const Topology& topo, const NcclParams& params, CollOp op, CollAlgo algo, CollProto proto,
                    int channels, Bytes bytes, const std::vector<std::uint32_t>& ranks);

// A candidate whose score exceeds the fastest simulated candidate by more than this factor is not
// simulated under selection simulated: the flow simulation has not been seen to beat a closed form
// by more (docs/collectives.md), so the chooser may pick a collective up to this much slower than
// a pruned alternative, and never slower than a simulated one.
inline constexpr double kSelectionPruneFactor = 1.1;

// The algorithm, protocol and channel count that auto selection picks (opt.selection), fixing what
// `opt` fixes.
CollChoice select_collective(const Topology& topo, const NcclParams& params, const CollOptions& opt,
                             const std::vector<std::uint32_t>& ranks, const std::string& what);

// Selects (if needed), builds and simulates. `what` prefixes error messages ("knee collective").
CollResult simulate_collective(const Topology& topo, const NcclParams& params, const CollOptions& opt,
                               const std::string& what);

}  // namespace knee
