// Flow-level network model on top of the Engine. Links are directed; a flow crosses a path of
// link ids, first waits the sum of the link latencies, then shares bandwidth max-min fairly
// (progressive filling, honoring per-flow rate caps) until its bytes are sent. Only the part of
// the network an arrival, departure or capacity change can affect is re-solved (selective update,
// see docs/network.md), and the network keeps a single engine event pending for its earliest
// completion.
//
// Timing contract: a flow of S bytes alone on its path completes at
// start + latency(path) + ceil_ps(S / bottleneck). Rates of flows that become active at an instant
// are solved once, by an event at that same instant queued after the events already pending there,
// so that many flows starting together cost one solve (rate_Bps() reads 0 until that event ran).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "common/units.hpp"
#include "sim/engine/engine.hpp"

namespace knee {

using LinkId = std::uint32_t;
using FlowId = std::uint64_t;  // never 0; ids of finished flows are not reused

struct DirectedLink {
  BytesPerSec capacity_Bps;  // finite, > 0
  TimePs latency_ps;         // >= 0
};

// Completion notification: delivered as the engine event (sink, tag, payload) at the instant the
// flow's last byte is sent. Flows completing in the same picosecond notify in start order.
struct FlowDone {
  SinkId sink;
  std::uint32_t tag;
  std::uint64_t payload;
};

class FlowNetwork {
 public:
  // Throws InputError on a non-finite or non-positive capacity or a negative latency.
  FlowNetwork(Engine& engine, std::vector<DirectedLink> links);
  ~FlowNetwork();
  FlowNetwork(const FlowNetwork&) = delete;
  FlowNetwork& operator=(const FlowNetwork&) = delete;

  // Starts a flow at engine.now(). max_rate_Bps <= 0 or infinite means uncapped. An empty path
  // (src == dst) takes size / max_rate_Bps when capped, no time otherwise. Throws InputError on a
  // link id out of range, a link repeated in the path, a negative size or a NaN cap.
  FlowId start_flow(std::vector<LinkId> path, Bytes size, FlowDone notify, BytesPerSec max_rate_Bps = 0);

  BytesPerSec rate_Bps(FlowId flow) const;       // 0 in the latency phase or once finished
  double link_bytes(LinkId link) const;          // bytes carried so far, up to date at now()
  BytesPerSec link_load_Bps(LinkId link) const;  // sum of the rates of the flows crossing it
  BytesPerSec link_capacity_Bps(LinkId link) const;
  std::size_t active_flows() const;  // started and not yet completed (any phase)
  std::uint64_t flows_completed() const;
  double bytes_delivered() const;  // over all flows, up to date at now()
  std::size_t num_links() const;

  // Changes a link's capacity now (failure or degradation); re-solves the affected flows.
  void set_link_capacity(LinkId link, BytesPerSec capacity_Bps);

  // Re-solves every active flow from scratch (benchmark baseline and test oracle for the
  // selective update; the result is the same max-min allocation up to rounding).
  void solve_all();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace knee
