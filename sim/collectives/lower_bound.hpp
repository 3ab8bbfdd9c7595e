// An alpha-beta lower bound for one executed collective schedule: what the flow simulation of the
// same schedule on the same links can never beat. Where the simulation is slower than the bound
// by more than kBoundTolerance, bound_note() says which mechanism explains the excess.
//
// Two terms, each a lower bound on its own (the simulated time is at least their maximum):
// - bandwidth: every byte a task sends crosses every link of its route, and no link carries more
//   than its capacity, so the busiest link needs bytes / capacity after the start latency;
// - latency: no task starts before the tasks it depends on allow, even with instant transfers,
//   so the longest chain of task latencies (zero transfer time) follows the start latency; and
//   no flow beats its per-flow cap (NCCL's per-channel bandwidth, the NVLS rate), so the same
//   chain with each capped task at least bytes / cap is a bound too (the rate path).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/collectives/executor.hpp"
#include "sim/collectives/schedule.hpp"
#include "sim/network/flow_network.hpp"
#include "topologies/topology.hpp"

namespace knee {

// Simulated time within this fraction above the bound counts as "at the bound" (no note): the
// ring's 2(n-1) hop latencies and pipeline fill stay under it for bandwidth-bound sizes.
inline constexpr double kBoundTolerance = 0.05;

struct CollBound {
  double start_latency_s = 0;               // the schedule's base latency, before any transfer
  double bandwidth_s = 0;                   // busiest directed link on the routes taken: bytes / capacity
  double ideal_bandwidth_s = 0;             // busiest link touching a GPU or a NIC: what a fabric without
                                            // ECMP collisions would allow (those bytes do not depend on hashing)
  double latency_path_s = 0;                // longest latency-only path through the DAG (after the start)
  double rate_path_s = 0;                   // the same path with each capped task at least bytes / cap
                                            // (>= latency_path_s)
  double bound_s = 0;                       // start_latency_s + max(bandwidth_s, rate_path_s)
  std::uint32_t busiest_link = UINT32_MAX;  // directed link id behind bandwidth_s (none: UINT32_MAX)
  std::uint32_t busiest_link_flows = 0;     // distinct routes (src, dst, channel) crossing it
  double busiest_link_bytes = 0;
  bool busiest_is_endpoint = false;  // it touches a GPU or a NIC (so bandwidth_s == ideal_bandwidth_s)
};

// The bound of `sched` run as CollectiveExecutor instance `instance` (the route hash depends on
// it, as in the executor) on `links` (effective_links(): capacities as NCCL reaches them).
CollBound collective_lower_bound(const Topology& topo, const std::vector<DirectedLink>& links,
                                 const CollSchedule& sched, std::uint32_t instance = 0);

// Collisions that whole-run byte counts hide: a schedule of steps (PAT, rings across leaves) can
// put equal totals on every link yet crowd one fabric link in each step, a different one each
// time. From the transfers as they ran: the most flows sending at once on one fabric link (not
// touching a GPU or NIC), per unit of its capacity, against the most on any endpoint link.
struct LinkCrowding {
  std::uint32_t fabric_link = UINT32_MAX;  // directed id (UINT32_MAX: no fabric link used)
  std::uint32_t fabric_flows = 0;          // flows at once on it, at its peak
  std::uint32_t endpoint_flows = 0;        // flows at once on the most crowded endpoint link
  double ratio = 0;                        // (fabric_flows / its capacity) / (endpoint_flows / that link's capacity)
};
LinkCrowding peak_crowding(const Topology& topo, const std::vector<DirectedLink>& links,
                           const std::vector<TransferRecord>& transfers, std::uint32_t instance = 0);

// One line naming why `time_s` exceeds the bound by more than `tolerance` (a fraction); empty
// when it does not. Reasons, first that applies:
// - "ECMP hash collisions": bandwidth binds the bound (bandwidth_s >= latency_path_s) and either
//   the routed bandwidth term exceeds the ideal endpoint term by more than the tolerance (flows
//   hashed onto one fabric link for the whole run), or `crowding` (when given) shows a fabric link
//   with more flows at once per capacity than any endpoint link, by more than the tolerance;
// - "latency steps": the latency path and the bandwidth term together cover at least half the
//   excess (the simulation cannot overlap latency with transfers as the max() assumes);
// - "contention / pipeline dependencies": otherwise (links busy only part of the time).
std::string bound_note(const Topology& topo, const CollBound& bound, double time_s,
                       const LinkCrowding* crowding = nullptr, double tolerance = kBoundTolerance);

}  // namespace knee
