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
  bool in_network_reduction = false;  // allow collnet (SHARP) in auto selection
  int slices = 0;                     // 0: automatic pipeline slicing
  std::vector<std::vector<Bytes>> alltoallv;
  bool record_transfers = false;  // fill CollResult::transfers (for timelines)
};

struct CollChoice {
  CollAlgo algo;
  CollProto proto;
  int channels;
  double predicted_s;  // closed-form estimate (no contention)
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

// The algorithm, protocol and channel count that minimize predicted time, fixing what `opt` fixes.
CollChoice select_collective(const Topology& topo, const NcclParams& params, const CollOptions& opt,
                             const std::vector<std::uint32_t>& ranks, const std::string& what);

// Selects (if needed), builds and simulates. `what` prefixes error messages ("knee collective").
CollResult simulate_collective(const Topology& topo, const NcclParams& params, const CollOptions& opt,
                               const std::string& what);

}  // namespace knee
