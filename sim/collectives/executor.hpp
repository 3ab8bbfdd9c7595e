// Runs communication schedules as flows on a FlowNetwork. Several schedules may run at once (two
// communicators, or two jobs): they share links through the network's max-min allocation, which is
// how contention between collectives emerges rather than being assumed.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/collectives/schedule.hpp"
#include "sim/engine/engine.hpp"
#include "sim/network/flow_network.hpp"
#include "topologies/topology.hpp"

namespace knee {

struct CollRunStats {
  TimePs start_ps = 0, end_ps = kTimeNever;
  std::uint64_t flows = 0;
  double wire_bytes = 0;
};

// One transfer as it happened, for timelines.
struct TransferRecord {
  std::uint32_t src, dst, channel;  // topology nodes
  Bytes wire_bytes;
  TimePs start_ps, sent_ps, arrived_ps;  // first byte, last byte, data usable at dst
};

class CollectiveExecutor {
 public:
  CollectiveExecutor(Engine& engine, FlowNetwork& network, const Topology& topology);
  ~CollectiveExecutor();
  CollectiveExecutor(const CollectiveExecutor&) = delete;
  CollectiveExecutor& operator=(const CollectiveExecutor&) = delete;

  // Starts `schedule` at engine.now(); returns its instance id. When it completes, `notify` (if
  // its sink is valid, i.e. not UINT32_MAX) is delivered as an engine event.
  // `account` (optional) names who sent it (a job of a cluster, say): see account_link_bytes.
  std::uint32_t launch(std::shared_ptr<const CollSchedule> schedule, FlowDone notify = FlowDone{UINT32_MAX, 0, 0},
                       std::uint32_t account = kNoAccount);
  static constexpr std::uint32_t kNoAccount = UINT32_MAX;
  bool done(std::uint32_t instance) const;
  const CollRunStats& stats(std::uint32_t instance) const;
  // Instances launched while on keep a TransferRecord of every transfer (joins excluded), in
  // start order: plain data for trace writers, nothing is called back.
  void record_transfers(bool on);
  const std::vector<TransferRecord>& transfers(std::uint32_t instance) const;
  // Bytes per directed link (the network's link ids) sent by the instances launched with
  // `account`: each transfer adds its wire bytes to every link of its route when it starts (a flow
  // crosses each link of its path with all of its bytes by the time it completes, so once the
  // engine has run out the accounts sum to FlowNetwork::link_bytes). Empty when it sent nothing.
  const std::vector<double>& account_link_bytes(std::uint32_t account) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience: runs one schedule alone on a fresh engine and a network of `links` (see
// effective_links()) over `topology`; returns its duration in ps (start latency included).
TimePs run_schedule_alone(const Topology& topology, std::vector<DirectedLink> links,
                          std::shared_ptr<const CollSchedule> schedule, CollRunStats* stats = nullptr);

}  // namespace knee
