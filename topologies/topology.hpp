// A cluster topology: GPUs, switches, NICs and hosts joined by full-duplex links. Built either
// from a system design plus a fabric (topologies/fabric.hpp) or from a JSON file (load_topology_file).
//
// Link i joins nodes a and b; its directed halves have ids 2i (a->b) and 2i+1 (b->a). Those ids
// are what the network model consumes: directed_links() gives capacity and latency per directed
// id and route() gives a path as a vector of directed ids.
//
// Routing: shortest paths by hop count; GPUs and hosts never forward traffic, and a NIC forwards
// only traffic of the endpoint (GPU or host) it is wired to. Among equal-cost next hops the choice
// is a deterministic hash of (src, dst, flow_hash, hop), so a route is a pure function of its
// arguments (ECMP).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/units.hpp"

namespace knee {

enum class NodeKind : std::uint8_t { gpu, sw, nic, host };
// Link classes select alpha/beta parameters from calibration profiles.
enum class LinkClass : std::uint8_t { nvlink, pcie, network };

const char* to_string(NodeKind k);
const char* to_string(LinkClass c);

// One direction of a link as the network model sees it.
struct DirectedLinkSpec {
  BytesPerSec capacity_Bps;
  TimePs latency_ps;
};

struct Link {
  std::uint32_t a, b;
  BytesPerSec bw_ab_Bps, bw_ba_Bps;
  TimePs latency_ps;
  LinkClass cls;
};

namespace detail {
struct FabricLayout;  // coordinates of a built fabric, for O(path) structured routing
struct RouteCache;    // BFS distance tables of recent destinations (file topologies)
}  // namespace detail

class Topology {
 public:
  Topology();
  ~Topology();
  Topology(const Topology&);
  Topology& operator=(const Topology&);
  Topology(Topology&&) noexcept;
  Topology& operator=(Topology&&) noexcept;

  // ---- construction -----------------------------------------------------------------------
  std::uint32_t add_node(NodeKind kind, std::string name);
  // Symmetric link. Bandwidths must be finite and > 0, latency >= 0 (std::invalid_argument
  // otherwise: callers reading user input validate first and throw InputError).
  std::uint32_t add_link(std::uint32_t a, std::uint32_t b, BytesPerSec bw_Bps, TimePs latency_ps, LinkClass cls);
  std::uint32_t add_link(std::uint32_t a, std::uint32_t b, BytesPerSec bw_ab_Bps, BytesPerSec bw_ba_Bps,
                         TimePs latency_ps, LinkClass cls);
  void reserve(std::size_t nodes, std::size_t links);

  // ---- structure --------------------------------------------------------------------------
  std::size_t num_nodes() const { return kind_.size(); }
  std::size_t num_links() const { return links_.size(); }
  std::size_t num_directed_links() const { return 2 * links_.size(); }
  std::size_t num_gpus() const { return gpus_.size(); }
  std::size_t num_switches() const { return count_[static_cast<int>(NodeKind::sw)]; }
  std::size_t num_nics() const { return count_[static_cast<int>(NodeKind::nic)]; }
  std::size_t num_hosts() const { return count_[static_cast<int>(NodeKind::host)]; }
  NodeKind kind(std::uint32_t node) const { return kind_.at(node); }
  std::string name(std::uint32_t node) const;
  const Link& link(std::uint32_t link_id) const { return links_.at(link_id); }
  const std::vector<Link>& links() const { return links_; }
  // Directed link id for traversing `link_id` starting at node `from`.
  std::uint32_t directed_id(std::uint32_t link_id, std::uint32_t from) const;

  // GPU node ids in rank order (creation order).
  const std::vector<std::uint32_t>& gpus() const { return gpus_; }
  std::uint32_t gpu_node(std::uint32_t rank) const { return gpus_.at(rank); }
  // Placement: the server (system "node") a GPU rank sits in and its index inside the server.
  // File topologies carry no server structure: each GPU is its own server (gpus_per_node() == 1).
  std::uint32_t gpus_per_node() const { return gpus_per_node_; }
  std::uint32_t num_servers() const { return static_cast<std::uint32_t>(gpus_.size() / gpus_per_node_); }
  std::uint32_t node_of_gpu(std::uint32_t rank) const { return rank / gpus_per_node_; }
  std::uint32_t local_index(std::uint32_t rank) const { return rank % gpus_per_node_; }

  // ---- network-model view -----------------------------------------------------------------
  std::vector<DirectedLinkSpec> directed_links() const;
  // Directed link ids of one shortest path from src to dst (empty when src == dst). Throws
  // std::out_of_range for a bad node id and std::runtime_error when dst is unreachable (loaders
  // reject such topologies, so that means a topology built by hand with a hole in it).
  std::vector<std::uint32_t> route(std::uint32_t src_node, std::uint32_t dst_node, std::uint64_t flow_hash) const;
  // The same routing rules by breadth-first search, ignoring any structured layout: the reference
  // that structured routes are tested against, and what file topologies use.
  std::vector<std::uint32_t> route_by_search(std::uint32_t src_node, std::uint32_t dst_node,
                                             std::uint64_t flow_hash) const;
  TimePs path_latency_ps(const std::vector<std::uint32_t>& path) const;

  // ---- failed links (every-rank mode's simulation.failed_links / failed_nics) -------------------
  // A failed link carries no traffic. With any, route() searches shortest paths over the links
  // left (the rules and ECMP hashing above, as route_by_search; structured routes are not used),
  // and where that finds no path it relays a GPU's traffic over NVLink through a peer GPU of its
  // server and that peer's NIC (NCCL's PXN): at the source the peers tried are local index +1,
  // +2, ... (cyclic), at the destination likewise, one relay before two, the first that works.
  // Bisection and max-flow ignore failures.
  void fail_link(std::uint32_t link_id);
  // Every link of class `cls` with its bandwidths times `bw_factor` (> 0) and its latency times
  // `latency_factor` (>= 0, rounded to ps): a draw of the link parameters (sim/collectives/
  // collective_draws.hpp). Routes are unchanged; a built fabric's analytic bisection is not rescaled.
  void scale_links(LinkClass cls, double bw_factor, double latency_factor);
  bool link_failed(std::uint32_t link_id) const { return !failed_.empty() && failed_[link_id]; }
  bool has_failed_links() const { return !failed_.empty(); }
  // route() without throwing when dst is unreachable (returns false, `path` empty).
  bool try_route(std::uint32_t src_node, std::uint32_t dst_node, std::uint64_t flow_hash,
                 std::vector<std::uint32_t>* path) const;

  // ---- analysis ---------------------------------------------------------------------------
  // Every endpoint (GPU, host) can reach every other under the routing rules.
  bool connected() const;
  // An endpoint that cannot reach some other endpoint (-1 if connected()), and that other one.
  std::pair<std::int64_t, std::int64_t> first_unreachable_pair() const;
  // One-direction bisection bandwidth: max flow from the GPUs of rank < bisection_split() to the
  // rest. Built fabrics compute it analytically (docs/topologies.md), file topologies by max-flow.
  double bisection_Bps() const;
  std::uint32_t bisection_split() const;
  // Max flow (Boost push-relabel) from GPU ranks [0, split) to [split, n). Capacities are rounded
  // to whole bytes/s; hosts and unowned NICs forward nothing, as in routing.
  double max_flow_Bps(std::uint32_t split) const;

  // Counts, system/fabric description, bisection. Keys: system, gpu_model, fabric, nodes,
  // gpus_per_node, gpus, switches, nics, hosts, links, bisection_GBps, and fabric parameters.
  nlohmann::ordered_json summary() const;
  // Approximate heap bytes held by this object (benchmarks, memory budgets).
  std::size_t memory_bytes() const;

  // Descriptive fields set by builders and loaders.
  void set_description(std::string system, std::string gpu_model, std::string fabric,
                       nlohmann::ordered_json fabric_params);
  void set_gpus_per_node(std::uint32_t g);
  // Used by fabric builders only: attaches the coordinates that structured routing and the
  // analytic bisection read. `analytic_bisection_Bps` < 0 means "compute by max-flow".
  void set_layout(std::unique_ptr<detail::FabricLayout> layout, double analytic_bisection_Bps);

 private:
  std::vector<std::uint32_t> structured_route(std::uint32_t src, std::uint32_t dst, std::uint64_t h) const;
  void ensure_adjacency() const;
  bool search_route(std::uint32_t src, std::uint32_t dst, std::uint64_t h, std::vector<std::uint32_t>& path) const;
  bool relayed_route(std::uint32_t src, std::uint32_t dst, std::uint64_t h, std::vector<std::uint32_t>& path) const;
  void invalidate_cache();  // after a structural change (tables are built lazily)

  std::vector<NodeKind> kind_;
  std::vector<std::uint32_t> name_end_;  // names packed in name_pool_, node i ends at name_end_[i]
  std::string name_pool_;
  std::vector<Link> links_;
  std::vector<bool> failed_;  // per link; empty when none failed
  std::vector<std::uint32_t> gpus_;
  std::size_t count_[4] = {0, 0, 0, 0};
  std::uint32_t gpus_per_node_ = 1;
  std::string system_ = "file", gpu_model_ = "unknown", fabric_ = "file";
  nlohmann::ordered_json fabric_params_ = nlohmann::ordered_json::object();
  double analytic_bisection_Bps_ = -1;
  std::unique_ptr<detail::FabricLayout> layout_;
  std::unique_ptr<detail::RouteCache> cache_;  // lazily built adjacency + BFS tables
};

// Reads a topology file (format in docs/topologies.md). Every problem is an InputError
// "FILE: $.json.path: expected WHAT, got GOT".
Topology load_topology_file(const std::string& path);
Topology parse_topology_json(const std::string& text, const std::string& source);

}  // namespace knee
