#include "sim/collectives/lower_bound.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <tuple>

namespace knee {

namespace {

bool is_endpoint(NodeKind k) { return k == NodeKind::gpu || k == NodeKind::nic; }

// A node's role without its coordinates ("rail0.leaf3" -> "leaf", "s12.nvswitch" -> "nvswitch"):
// the note names a tier, not one switch among thousands.
std::string role(const std::string& name) {
  std::string s;
  for (char c : name)
    if (!std::isdigit(static_cast<unsigned char>(c))) s += c;
  while (!s.empty() && s.back() == '.') s.pop_back();
  auto dot = s.rfind('.');
  return dot == std::string::npos ? s : s.substr(dot + 1);
}

}  // namespace

CollBound collective_lower_bound(const Topology& topo, const std::vector<DirectedLink>& links,
                                 const CollSchedule& sched, std::uint32_t instance) {
  CollBound b;
  b.start_latency_s = ps_to_s(sched.start_latency_ps);
  const auto& edges = sched.edges();
  const auto& tasks = sched.tasks();

  // Route every edge the way the executor does (same hash), so the bytes counted here are the
  // bytes the network carried (FlowNetwork::link_bytes after the run; tested).
  std::vector<std::vector<std::uint32_t>> routes(edges.size());
  std::vector<TimePs> phys_ps(edges.size(), 0);
  std::vector<bool> used(edges.size(), false);
  for (const CollTask& t : tasks) used[t.edge] = true;
  std::vector<double> link_bytes(links.size(), 0);
  std::vector<std::uint32_t> link_flows(links.size(), 0);
  for (std::size_t e = 0; e < edges.size(); ++e) {
    if (!used[e] || edges[e].src == edges[e].dst) continue;
    routes[e] = topo.route(edges[e].src, edges[e].dst, (static_cast<std::uint64_t>(instance) << 20) ^ edges[e].channel);
    phys_ps[e] = topo.path_latency_ps(routes[e]);
    for (auto d : routes[e]) {
      if (d >= links.size()) throw std::logic_error("collective_lower_bound: route outside the link set");
      ++link_flows[d];
    }
  }
  for (const CollTask& t : tasks)
    for (auto d : routes[t.edge]) link_bytes[d] += static_cast<double>(t.wire_bytes);

  for (std::uint32_t d = 0; d < links.size(); ++d) {
    if (link_bytes[d] <= 0) continue;
    double s = link_bytes[d] / links[d].capacity_Bps;
    const Link& l = topo.link(d / 2);
    bool endpoint = is_endpoint(topo.kind(l.a)) || is_endpoint(topo.kind(l.b));
    if (endpoint) b.ideal_bandwidth_s = std::max(b.ideal_bandwidth_s, s);
    // Ties go to the endpoint link: a fabric link only "explains" what the endpoints do not.
    if (s > b.bandwidth_s || (s == b.bandwidth_s && endpoint && !b.busiest_is_endpoint)) {
      b.bandwidth_s = s;
      b.busiest_link = d;
      b.busiest_link_flows = link_flows[d];
      b.busiest_link_bytes = link_bytes[d];
      b.busiest_is_endpoint = endpoint;
    }
  }

  // Earliest start of each task with instant transfers, relative to the start latency. Tasks
  // depend only on earlier tasks, so index order is a topological order. As the executor
  // releases them: a data dependent after the dependency's last byte (>= its start) plus
  // max(task latency, path latency); an order dependent after the last byte (>= its start); a
  // start dependent cut_through_ps after the start; a join's dependents as soon as it begins.
  const auto& idx = sched.succ_index();
  const auto& succ = sched.successors();
  // The same walk twice: with instant transfers (latency path), and with each capped task taking
  // at least its bytes at its per-flow cap (rate path: NCCL's per-channel bandwidth, the NVLS
  // rate), which a flow never beats whatever the links allow.
  auto longest_path = [&](bool with_caps) {
    std::vector<TimePs> ready(tasks.size(), 0);
    TimePs longest_ps = 0;
    for (std::uint32_t t = 0; t < tasks.size(); ++t) {
      const CollTask& task = tasks[t];
      const CollEdge& e = edges[task.edge];
      bool join = e.src == e.dst && task.wire_bytes == 0 && task.latency_ps == 0;
      const TimePs send = with_caps && !join && task.cap_Bps > 0
                              ? static_cast<TimePs>(static_cast<double>(task.wire_bytes) / task.cap_Bps *
                                                    static_cast<double>(kPsPerS) * (1 - 1e-9))
                              : 0;
      TimePs arrive = ready[t] + send + (join ? 0 : std::max(task.latency_ps, phys_ps[task.edge]));
      longest_ps = std::max(longest_ps, arrive);
      for (std::uint32_t k = idx[t]; k < idx[t + 1]; ++k) {
        std::uint32_t s = succ[k] & CollSchedule::kTaskMask;
        TimePs at = arrive;
        if (!join && (succ[k] & CollSchedule::kOrderBit)) at = ready[t] + send;
        if (!join && (succ[k] & CollSchedule::kStartBit)) at = ready[t] + task.cut_through_ps;
        ready[s] = std::max(ready[s], at);
      }
    }
    return ps_to_s(longest_ps);
  };
  b.latency_path_s = longest_path(false);
  b.rate_path_s = longest_path(true);
  // All terms follow the start latency: the executor starts no flow before it.
  b.bound_s = b.start_latency_s + std::max(b.bandwidth_s, b.rate_path_s);
  return b;
}

LinkCrowding peak_crowding(const Topology& topo, const std::vector<DirectedLink>& links,
                           const std::vector<TransferRecord>& transfers, std::uint32_t instance) {
  // Routes of the transfers (one per edge, as the executor routes them), then per link the
  // intervals [first byte, last byte) bucketed by link and swept in time order. At equal times
  // departures go first, so back-to-back slices of one edge do not count twice.
  struct Key {
    std::uint32_t src, dst, channel;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>()((static_cast<std::uint64_t>(k.src) << 32 | k.dst) * 0x9e3779b97f4a7c15ull ^
                                        k.channel);
    }
  };
  std::unordered_map<Key, std::uint32_t, KeyHash> route_of;
  std::vector<std::vector<std::uint32_t>> routes;
  std::vector<std::uint32_t> transfer_route(transfers.size(), UINT32_MAX);
  std::vector<std::uint32_t> per_link(links.size() + 1, 0);
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    const TransferRecord& t = transfers[i];
    if (t.src == t.dst || t.sent_ps <= t.start_ps) continue;
    auto [it, fresh] = route_of.try_emplace(Key{t.src, t.dst, t.channel}, static_cast<std::uint32_t>(routes.size()));
    if (fresh) routes.push_back(topo.route(t.src, t.dst, (static_cast<std::uint64_t>(instance) << 20) ^ t.channel));
    transfer_route[i] = it->second;
    for (auto d : routes[it->second]) per_link[d + 1] += 2;
  }
  for (std::size_t d = 0; d < links.size(); ++d) per_link[d + 1] += per_link[d];
  // (time, +1 / -1), one segment per link.
  std::vector<std::pair<TimePs, int>> ev(per_link.back());
  std::vector<std::uint32_t> fill(per_link.begin(), per_link.end() - 1);
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    if (transfer_route[i] == UINT32_MAX) continue;
    for (auto d : routes[transfer_route[i]]) {
      ev[fill[d]++] = {transfers[i].start_ps, +1};
      ev[fill[d]++] = {transfers[i].sent_ps, -1};
    }
  }
  LinkCrowding c;
  double fabric_per_Bps = 0, endpoint_per_Bps = 0;
  for (std::uint32_t d = 0; d < links.size(); ++d) {
    if (per_link[d] == per_link[d + 1]) continue;
    std::sort(ev.begin() + per_link[d], ev.begin() + per_link[d + 1]);
    int now = 0, peak = 0;
    for (std::uint32_t k = per_link[d]; k < per_link[d + 1]; ++k) peak = std::max(peak, now += ev[k].second);
    const Link& l = topo.link(d / 2);
    const double per_Bps = peak / links[d].capacity_Bps;
    if (is_endpoint(topo.kind(l.a)) || is_endpoint(topo.kind(l.b))) {
      if (per_Bps > endpoint_per_Bps) {
        endpoint_per_Bps = per_Bps;
        c.endpoint_flows = static_cast<std::uint32_t>(peak);
      }
    } else if (per_Bps > fabric_per_Bps) {
      fabric_per_Bps = per_Bps;
      c.fabric_link = d;
      c.fabric_flows = static_cast<std::uint32_t>(peak);
    }
  }
  c.ratio = endpoint_per_Bps > 0 ? fabric_per_Bps / endpoint_per_Bps : 0;
  return c;
}

std::string bound_note(const Topology& topo, const CollBound& b, double time_s, const LinkCrowding* crowding,
                       double tolerance) {
  if (b.bound_s <= 0 || time_s <= b.bound_s * (1 + tolerance)) return "";
  char buf[320];
  const double ratio = time_s / b.bound_s, excess_s = time_s - b.bound_s;
  auto tier = [&](std::uint32_t d) {
    const Link& l = topo.link(d / 2);
    std::uint32_t from = d % 2 == 0 ? l.a : l.b, to = d % 2 == 0 ? l.b : l.a;
    return role(topo.name(from)) + "->" + role(topo.name(to)) + " " + to_string(l.cls);
  };
  const bool bandwidth_binds = b.bandwidth_s >= b.latency_path_s;
  if (bandwidth_binds && !b.busiest_is_endpoint && b.busiest_link != UINT32_MAX &&
      b.bandwidth_s > b.ideal_bandwidth_s * (1 + tolerance)) {
    std::snprintf(buf, sizeof buf,
                  "ECMP hash collisions: %u flows share one %s link, %.2fx the endpoint bound's bytes per capacity; "
                  "simulated %.2fx the bound",
                  b.busiest_link_flows, tier(b.busiest_link).c_str(), b.bandwidth_s / b.ideal_bandwidth_s, ratio);
  } else if (bandwidth_binds && crowding && crowding->fabric_link != UINT32_MAX && crowding->ratio > 1 + tolerance) {
    std::snprintf(buf, sizeof buf,
                  "ECMP hash collisions: up to %u flows at once on one %s link against %u on the busiest GPU/NIC "
                  "link (%.2fx per capacity); simulated %.2fx the bound",
                  crowding->fabric_flows, tier(crowding->fabric_link).c_str(), crowding->endpoint_flows,
                  crowding->ratio, ratio);
  } else if (std::min(b.bandwidth_s, b.latency_path_s) >= 0.5 * excess_s) {
    std::snprintf(buf, sizeof buf,
                  "latency steps: a %.1f us latency path does not overlap %.1f us of transfers; simulated %.2fx the "
                  "bound",
                  b.latency_path_s * 1e6, b.bandwidth_s * 1e6, ratio);
  } else {
    std::snprintf(buf, sizeof buf,
                  "contention / pipeline dependencies: links idle while dependencies wait; simulated %.2fx the bound",
                  ratio);
  }
  return buf;
}

}  // namespace knee
