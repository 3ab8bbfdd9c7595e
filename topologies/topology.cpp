#include "topologies/topology.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/graph/push_relabel_max_flow.hpp>

#include "topologies/fabric_layout.hpp"

namespace knee {

const char* to_string(NodeKind k) {
  switch (k) {
    case NodeKind::gpu:
      return "gpu";
    case NodeKind::sw:
      return "switch";
    case NodeKind::nic:
      return "nic";
    case NodeKind::host:
      return "host";
  }
  return "?";
}

const char* to_string(LinkClass c) {
  switch (c) {
    case LinkClass::nvlink:
      return "nvlink";
    case LinkClass::pcie:
      return "pcie";
    case LinkClass::network:
      return "network";
  }
  return "?";
}

namespace detail {

// Undirected adjacency in Boost's CSR form; the edge property is the link id. Out-edges of a
// node are in link-id order, which makes ECMP choices independent of construction details.
using Csr = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, std::uint32_t, boost::no_property,
                                               std::uint32_t, std::uint32_t>;

struct RouteCache {
  std::mutex mu;
  bool have_csr = false;
  Csr csr;
  // LRU of BFS distance tables keyed by destination node.
  std::list<std::uint32_t> lru;
  std::unordered_map<std::uint32_t, std::pair<std::vector<std::uint32_t>, std::list<std::uint32_t>::iterator>> dist;
  std::size_t max_tables = 2;
  bool have_bisection = false;
  double bisection_Bps = 0;
};

}  // namespace detail

namespace {
constexpr std::uint32_t kNone = 0xffffffffu;
constexpr std::uint32_t kUnreached = 0xffffffffu;

std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
std::uint64_t ecmp_hash(std::uint32_t src, std::uint32_t dst, std::uint64_t flow, std::uint32_t hop) {
  return mix64(mix64(mix64((std::uint64_t{src} << 32) | dst) ^ flow) ^ hop);
}
bool is_endpoint(NodeKind k) { return k == NodeKind::gpu || k == NodeKind::host; }
}  // namespace

// ---- construction / copying ------------------------------------------------------------------
Topology::Topology() : cache_(std::make_unique<detail::RouteCache>()) {}
Topology::~Topology() = default;
Topology::Topology(Topology&&) noexcept = default;
Topology& Topology::operator=(Topology&&) noexcept = default;
Topology::Topology(const Topology& o)
    : kind_(o.kind_),
      name_end_(o.name_end_),
      name_pool_(o.name_pool_),
      links_(o.links_),
      failed_(o.failed_),
      gpus_(o.gpus_),
      gpus_per_node_(o.gpus_per_node_),
      system_(o.system_),
      gpu_model_(o.gpu_model_),
      fabric_(o.fabric_),
      fabric_params_(o.fabric_params_),
      analytic_bisection_Bps_(o.analytic_bisection_Bps_),
      layout_(o.layout_ ? std::make_unique<detail::FabricLayout>(*o.layout_) : nullptr),
      cache_(std::make_unique<detail::RouteCache>()) {
  std::copy(std::begin(o.count_), std::end(o.count_), std::begin(count_));
}
Topology& Topology::operator=(const Topology& o) {
  if (this != &o) *this = Topology(o);
  return *this;
}

void Topology::reserve(std::size_t nodes, std::size_t links) {
  kind_.reserve(nodes);
  name_end_.reserve(nodes);
  links_.reserve(links);
}

std::uint32_t Topology::add_node(NodeKind k, std::string name) {
  if (kind_.size() >= kNone - 1) throw std::length_error("Topology: too many nodes");
  auto id = static_cast<std::uint32_t>(kind_.size());
  kind_.push_back(k);
  name_pool_ += name;
  name_end_.push_back(static_cast<std::uint32_t>(name_pool_.size()));
  ++count_[static_cast<int>(k)];
  if (k == NodeKind::gpu) gpus_.push_back(id);
  invalidate_cache();
  return id;
}

std::uint32_t Topology::add_link(std::uint32_t a, std::uint32_t b, BytesPerSec bw, TimePs lat, LinkClass c) {
  return add_link(a, b, bw, bw, lat, c);
}

std::uint32_t Topology::add_link(std::uint32_t a, std::uint32_t b, BytesPerSec bw_ab, BytesPerSec bw_ba, TimePs lat,
                                 LinkClass c) {
  if (a >= kind_.size() || b >= kind_.size()) throw std::out_of_range("Topology::add_link: bad node id");
  if (a == b) throw std::invalid_argument("Topology::add_link: self-loop");
  if (!(std::isfinite(bw_ab) && bw_ab > 0 && std::isfinite(bw_ba) && bw_ba > 0) || lat < 0)
    throw std::invalid_argument("Topology::add_link: bandwidth must be finite and > 0, latency >= 0");
  if (links_.size() >= 0x7fffffffu) throw std::length_error("Topology: too many links");
  links_.push_back({a, b, bw_ab, bw_ba, lat, c});
  invalidate_cache();
  return static_cast<std::uint32_t>(links_.size() - 1);
}

void Topology::fail_link(std::uint32_t l) {
  if (l >= links_.size()) throw std::out_of_range("Topology::fail_link: bad link id");
  failed_.resize(links_.size(), false);
  failed_[l] = true;
  invalidate_cache();
}

void Topology::scale_links(LinkClass cls, double bw_factor, double latency_factor) {
  if (!(bw_factor > 0) || !(latency_factor >= 0) || !std::isfinite(bw_factor) || !std::isfinite(latency_factor))
    throw std::invalid_argument("Topology::scale_links: expected factors > 0 (bandwidth) and >= 0 (latency)");
  if (bw_factor == 1 && latency_factor == 1) return;
  for (Link& k : links_)
    if (k.cls == cls) {
      k.bw_ab_Bps *= bw_factor;
      k.bw_ba_Bps *= bw_factor;
      k.latency_ps = static_cast<TimePs>(std::llround(static_cast<double>(k.latency_ps) * latency_factor));
    }
  invalidate_cache();
}

void Topology::invalidate_cache() {
  if (!cache_ || cache_->have_csr || cache_->have_bisection) cache_ = std::make_unique<detail::RouteCache>();
}

std::string Topology::name(std::uint32_t node) const {
  std::uint32_t end = name_end_.at(node), begin = node ? name_end_[node - 1] : 0;
  return name_pool_.substr(begin, end - begin);
}

std::uint32_t Topology::directed_id(std::uint32_t l, std::uint32_t from) const {
  const Link& k = links_.at(l);
  if (k.a == from) return 2 * l;
  if (k.b == from) return 2 * l + 1;
  throw std::invalid_argument("Topology::directed_id: node is not an end of the link");
}

void Topology::set_description(std::string system, std::string gpu_model, std::string fabric,
                               nlohmann::ordered_json params) {
  system_ = std::move(system);
  gpu_model_ = std::move(gpu_model);
  fabric_ = std::move(fabric);
  fabric_params_ = std::move(params);
}

void Topology::set_gpus_per_node(std::uint32_t g) {
  if (g == 0 || gpus_.size() % g != 0) throw std::invalid_argument("Topology: gpus_per_node must divide the GPU count");
  gpus_per_node_ = g;
}

void Topology::set_layout(std::unique_ptr<detail::FabricLayout> layout, double analytic) {
  layout_ = std::move(layout);
  analytic_bisection_Bps_ = analytic;
}

std::vector<DirectedLinkSpec> Topology::directed_links() const {
  std::vector<DirectedLinkSpec> out(2 * links_.size());
  for (std::size_t i = 0; i < links_.size(); ++i) {
    out[2 * i] = {links_[i].bw_ab_Bps, links_[i].latency_ps};
    out[2 * i + 1] = {links_[i].bw_ba_Bps, links_[i].latency_ps};
  }
  return out;
}

TimePs Topology::path_latency_ps(const std::vector<std::uint32_t>& path) const {
  TimePs t = 0;
  for (auto d : path) t += links_.at(d / 2).latency_ps;
  return t;
}

std::size_t Topology::memory_bytes() const {
  std::size_t b = sizeof(*this) + kind_.capacity() + name_end_.capacity() * 4 + name_pool_.capacity() +
                  links_.capacity() * sizeof(Link) + gpus_.capacity() * 4;
  if (layout_) b += sizeof(*layout_) + layout_->torus_link.capacity() * 4;
  return b;
}

// ---- adjacency and search routing -------------------------------------------------------------
void Topology::ensure_adjacency() const {
  auto& c = *cache_;
  if (c.have_csr) return;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  std::vector<std::uint32_t> props;
  edges.reserve(2 * links_.size());
  props.reserve(2 * links_.size());
  // Sorted by (source, link id): counting sort by source over links in id order.
  // Failed links are left out.
  std::vector<std::uint32_t> deg(kind_.size() + 1, 0);
  std::size_t live = 0;
  for (std::uint32_t i = 0; i < links_.size(); ++i)
    if (!link_failed(i)) ++deg[links_[i].a + 1], ++deg[links_[i].b + 1], ++live;
  for (std::size_t i = 1; i < deg.size(); ++i) deg[i] += deg[i - 1];
  edges.resize(2 * live);
  props.resize(2 * live);
  std::vector<std::uint32_t> pos(deg.begin(), deg.end() - 1);
  for (std::uint32_t i = 0; i < links_.size(); ++i) {
    if (link_failed(i)) continue;
    const auto& l = links_[i];
    edges[pos[l.a]] = {l.a, l.b};
    props[pos[l.a]++] = i;
    edges[pos[l.b]] = {l.b, l.a};
    props[pos[l.b]++] = i;
  }
  c.csr = detail::Csr(boost::edges_are_sorted, edges.begin(), edges.end(), props.begin(), kind_.size());
  // Distance tables: 4 bytes per node each, about 64 MiB in all.
  c.max_tables = std::clamp<std::size_t>((64u << 20) / (4 * std::max<std::size_t>(kind_.size(), 1)), 2, 4096);
  c.have_csr = true;
}

namespace {
// Is `v` allowed to forward traffic towards `dst`? Switches always; a NIC only for an endpoint it
// is wired to.
struct RelayRule {
  const std::vector<NodeKind>* kind;
  const detail::Csr* g;
  std::uint32_t dst;
  bool nic_touches(std::uint32_t nic, std::uint32_t endpoint) const {
    for (auto e : boost::make_iterator_range(boost::out_edges(nic, *g)))
      if (boost::target(e, *g) == endpoint) return true;
    return false;
  }
  bool relays(std::uint32_t v) const {
    NodeKind k = (*kind)[v];
    return k == NodeKind::sw || (k == NodeKind::nic && nic_touches(v, dst));
  }
};

struct ExpandFilter {  // keeps the out-edges of nodes that may forward (and of the BFS root)
  const RelayRule* rule = nullptr;
  template <class E>
  bool operator()(const E& e) const {
    auto u = boost::source(e, *rule->g);
    return u == rule->dst || rule->relays(static_cast<std::uint32_t>(u));
  }
};

struct DistVisitor : boost::default_bfs_visitor {
  std::vector<std::uint32_t>* dist;
  template <class E, class G>
  void tree_edge(const E& e, const G& g) const {
    (*dist)[boost::target(e, g)] = (*dist)[boost::source(e, g)] + 1;
  }
};
}  // namespace

std::vector<std::uint32_t> Topology::route_by_search(std::uint32_t src, std::uint32_t dst,
                                                     std::uint64_t flow_hash) const {
  if (src >= kind_.size() || dst >= kind_.size()) throw std::out_of_range("Topology::route: bad node id");
  std::vector<std::uint32_t> path;
  if (src == dst) return path;
  if (!search_route(src, dst, flow_hash, path))
    throw std::runtime_error("Topology::route: " + name(dst) + " is unreachable from " + name(src));
  return path;
}

bool Topology::search_route(std::uint32_t src, std::uint32_t dst, std::uint64_t flow_hash,
                            std::vector<std::uint32_t>& path) const {
  path.clear();
  if (src == dst) return true;
  auto& c = *cache_;
  std::lock_guard<std::mutex> lock(c.mu);
  ensure_adjacency();
  const detail::Csr& g = c.csr;
  RelayRule rule{&kind_, &g, dst};

  // Distances to dst, from the LRU cache or a fresh BFS.
  const std::vector<std::uint32_t>* dist = nullptr;
  if (auto it = c.dist.find(dst); it != c.dist.end()) {
    c.lru.splice(c.lru.begin(), c.lru, it->second.second);
    dist = &it->second.first;
  } else {
    if (c.dist.size() >= c.max_tables) {
      c.dist.erase(c.lru.back());
      c.lru.pop_back();
    }
    std::vector<std::uint32_t> d(kind_.size(), kUnreached);
    d[dst] = 0;
    ExpandFilter filter{&rule};
    boost::filtered_graph<detail::Csr, ExpandFilter> fg(g, filter);
    std::vector<boost::default_color_type> color(kind_.size(), boost::white_color);
    DistVisitor vis;
    vis.dist = &d;
    boost::breadth_first_search(fg, dst,
                                boost::visitor(vis).color_map(boost::make_iterator_property_map(
                                    color.begin(), boost::get(boost::vertex_index, g))));
    c.lru.push_front(dst);
    auto& slot = c.dist[dst];
    slot.first = std::move(d);
    slot.second = c.lru.begin();
    dist = &slot.first;
  }
  const auto& D = *dist;
  auto usable = [&](std::uint32_t v) { return v == dst || (D[v] != kUnreached && rule.relays(v)); };
  // A NIC wired to src forwards src's traffic even when BFS from dst did not expand it.
  auto first_hop_dist = [&](std::uint32_t v) -> std::uint32_t {
    if (usable(v)) return D[v];
    if (kind_[v] != NodeKind::nic) return kUnreached;
    std::uint32_t best = kUnreached;
    for (auto e : boost::make_iterator_range(boost::out_edges(v, g))) {
      auto w = static_cast<std::uint32_t>(boost::target(e, g));
      if (w != src && usable(w)) best = std::min(best, D[w] + 1);
    }
    return best;
  };

  std::uint32_t cur = src, hop = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> cand;  // (link, next node)
  // First hop: the neighbour(s) with the least distance.
  std::uint32_t best = kUnreached;
  for (auto e : boost::make_iterator_range(boost::out_edges(src, g))) {
    auto w = static_cast<std::uint32_t>(boost::target(e, g));
    std::uint32_t d = first_hop_dist(w);
    if (d == kUnreached) continue;
    if (d < best) best = d, cand.clear();
    if (d == best) cand.push_back({g[e], w});
  }
  if (cand.empty()) return false;
  std::uint32_t remaining = best;
  while (true) {
    auto [l, next] = cand[ecmp_hash(src, dst, flow_hash, hop) % cand.size()];
    path.push_back(directed_id(l, cur));
    cur = next;
    ++hop;
    if (cur == dst) break;
    cand.clear();
    for (auto e : boost::make_iterator_range(boost::out_edges(cur, g))) {
      auto w = static_cast<std::uint32_t>(boost::target(e, g));
      if (w != src && usable(w) && D[w] + 1 == remaining) cand.push_back({g[e], w});
    }
    if (cand.empty()) throw std::runtime_error("Topology::route: internal error: no next hop");
    --remaining;
  }
  return true;
}

bool Topology::relayed_route(std::uint32_t src, std::uint32_t dst, std::uint64_t h,
                             std::vector<std::uint32_t>& path) const {
  // A node, then (a GPU of a built fabric) the other GPUs of its server from the next local index on.
  auto with_peers = [&](std::uint32_t n) {
    std::vector<std::uint32_t> v{n};
    if (kind_[n] != NodeKind::gpu || gpus_per_node_ < 2 || n >= gpus_.size() || gpus_[n] != n) return v;
    const std::uint32_t G = gpus_per_node_, base = n / G * G;
    for (std::uint32_t k = 1; k < G; ++k) v.push_back(gpus_[base + (n - base + k) % G]);
    return v;
  };
  const auto A = with_peers(src), B = with_peers(dst);
  std::vector<std::uint32_t> leg1, mid, leg3;
  for (int relays = 1; relays <= 2; ++relays)
    for (std::uint32_t a : A)
      for (std::uint32_t b : B) {
        if (int(a != src) + int(b != dst) != relays || a == b) continue;
        if (!search_route(src, a, h, leg1) || !search_route(a, b, h, mid) || !search_route(b, dst, h, leg3)) continue;
        path = leg1;
        path.insert(path.end(), mid.begin(), mid.end());
        path.insert(path.end(), leg3.begin(), leg3.end());
        return true;
      }
  path.clear();
  return false;
}

bool Topology::try_route(std::uint32_t src, std::uint32_t dst, std::uint64_t flow_hash,
                         std::vector<std::uint32_t>* path) const {
  if (src >= kind_.size() || dst >= kind_.size()) throw std::out_of_range("Topology::route: bad node id");
  if (failed_.empty()) {
    if (layout_ && kind_[src] == NodeKind::gpu && kind_[dst] == NodeKind::gpu) {
      *path = structured_route(src, dst, flow_hash);
      return true;
    }
    return search_route(src, dst, flow_hash, *path);
  }
  return search_route(src, dst, flow_hash, *path) || relayed_route(src, dst, flow_hash, *path);
}

// ---- structured routing -----------------------------------------------------------------------
std::vector<std::uint32_t> Topology::route(std::uint32_t src, std::uint32_t dst, std::uint64_t flow_hash) const {
  if (src >= kind_.size() || dst >= kind_.size()) throw std::out_of_range("Topology::route: bad node id");
  if (failed_.empty() && layout_ && kind_[src] == NodeKind::gpu && kind_[dst] == NodeKind::gpu)
    return structured_route(src, dst, flow_hash);
  if (failed_.empty()) return route_by_search(src, dst, flow_hash);
  std::vector<std::uint32_t> path;
  if (!try_route(src, dst, flow_hash, &path))
    throw std::runtime_error("Topology::route: " + name(dst) + " is unreachable from " + name(src));
  return path;
}

std::vector<std::uint32_t> Topology::structured_route(std::uint32_t src, std::uint32_t dst, std::uint64_t h) const {
  const auto& L = *layout_;
  std::vector<std::uint32_t> p;
  if (src == dst) return p;
  const std::uint32_t G = L.gpn, s1 = src / G, s2 = dst / G;
  if (s1 == s2) {
    p = {2 * (L.l_gpu_nvsw + src), 2 * (L.l_gpu_nvsw + dst) + 1};
    return p;
  }
  p.reserve(10);
  p.push_back(2 * (L.l_gpu_nic + src));
  p.push_back(2 * (L.l_nic_sw + src));
  std::uint32_t hop = 2;
  switch (L.kind) {
    case FabricKind::rail_fat_tree: {
      std::uint32_t la = (src % G) * L.leaves_per_rail + s1 / L.per_leaf;
      std::uint32_t lb = (dst % G) * L.leaves_per_rail + s2 / L.per_leaf;
      if (la != lb) {
        std::uint32_t k = static_cast<std::uint32_t>(ecmp_hash(src, dst, h, hop) % L.spines);
        p.push_back(2 * (L.l_fabric + la * L.spines + k));
        if (L.pods > 1) {  // pod tier: spine k of one pod -> core k -> spine k of the other
          std::uint32_t pa = s1 / L.pod_servers, pb = s2 / L.pod_servers;
          if (pa != pb) {
            p.push_back(2 * (L.l_core + pa * L.spines + k));
            p.push_back(2 * (L.l_core + pb * L.spines + k) + 1);
          }
        }
        p.push_back(2 * (L.l_fabric + lb * L.spines + k) + 1);
      }
      break;
    }
    case FabricKind::fat_tree: {
      std::uint32_t ea = s1 / L.per_edge, eb = s2 / L.per_edge;
      if (ea != eb) {
        std::uint32_t j = static_cast<std::uint32_t>(ecmp_hash(src, dst, h, hop) % L.half);
        std::uint32_t pa = ea / L.edges_per_pod, pb = eb / L.edges_per_pod;
        p.push_back(2 * (L.l_fabric + ea * L.half + j));
        if (pa != pb) {
          std::uint32_t m = static_cast<std::uint32_t>(ecmp_hash(src, dst, h, hop + 1) % L.half);
          p.push_back(2 * (L.l_agg_core + (pa * L.half + j) * L.half + m));
          p.push_back(2 * (L.l_agg_core + (pb * L.half + j) * L.half + m) + 1);
        }
        p.push_back(2 * (L.l_fabric + eb * L.half + j) + 1);
      }
      break;
    }
    case FabricKind::torus: {
      const std::uint32_t D = static_cast<std::uint32_t>(L.dims.size());
      // Coordinates, row-major (last dimension fastest).
      std::uint32_t ca[3] = {0, 0, 0}, cb[3] = {0, 0, 0}, stride[3] = {1, 1, 1};
      for (std::uint32_t d = D; d-- > 0;) stride[d] = (d + 1 < D) ? stride[d + 1] * L.dims[d + 1] : 1;
      for (std::uint32_t d = 0; d < D; ++d) {
        ca[d] = s1 / stride[d] % L.dims[d];
        cb[d] = s2 / stride[d] % L.dims[d];
      }
      std::uint32_t cur = s1;
      for (std::uint32_t d = 0; d < D; ++d) {  // dimension order; ties in direction go by hash
        const std::uint32_t n = L.dims[d];
        std::uint32_t fwd = (cb[d] + n - ca[d]) % n;
        if (fwd == 0) continue;
        bool plus = fwd < n - fwd || (fwd == n - fwd && ecmp_hash(src, dst, h, hop + d) % 2 == 0);
        std::uint32_t steps = plus ? fwd : n - fwd, c = ca[d];
        for (std::uint32_t i = 0; i < steps; ++i) {
          std::uint32_t nc = plus ? (c + 1) % n : (c + n - 1) % n;
          std::uint32_t next = cur - c * stride[d] + nc * stride[d];
          std::uint32_t l = L.torus_link[cur * D + d];
          if (l == detail::FabricLayout::kNone || links_[l].b != L.sw_base + next) l = L.torus_link[next * D + d];
          p.push_back(directed_id(l, L.sw_base + cur));
          cur = next;
          c = nc;
        }
      }
      break;
    }
    case FabricKind::single_node:
      break;
  }
  p.push_back(2 * (L.l_nic_sw + dst) + 1);
  p.push_back(2 * (L.l_gpu_nic + dst) + 1);
  return p;
}

// ---- connectivity -------------------------------------------------------------------------------
std::pair<std::int64_t, std::int64_t> Topology::first_unreachable_pair() const {
  const std::size_t n = kind_.size();
  // Components of the switch-only graph (Boost connected_components).
  using UG = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  UG sg(n);
  for (const auto& l : links_)
    if (kind_[l.a] == NodeKind::sw && kind_[l.b] == NodeKind::sw) boost::add_edge(l.a, l.b, sg);
  std::vector<std::uint32_t> comp(n);
  boost::connected_components(sg, comp.data());

  std::vector<std::vector<std::uint32_t>> adj(n);
  for (const auto& l : links_) adj[l.a].push_back(l.b), adj[l.b].push_back(l.a);
  std::vector<std::uint32_t> endpoints;
  for (std::uint32_t v = 0; v < n; ++v)
    if (is_endpoint(kind_[v])) endpoints.push_back(v);
  if (endpoints.size() < 2) return {-1, -1};

  // reach(X): switch components X enters directly or through a NIC wired to it.
  std::vector<std::vector<std::uint32_t>> reach(endpoints.size());
  std::vector<std::uint32_t> count(n, 0);
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto& r = reach[i];
    for (auto w : adj[endpoints[i]]) {
      if (kind_[w] == NodeKind::sw) r.push_back(comp[w]);
      if (kind_[w] == NodeKind::nic)
        for (auto s : adj[w])
          if (kind_[s] == NodeKind::sw) r.push_back(comp[s]);
    }
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    for (auto x : r)
      if (++count[x] == endpoints.size()) return {-1, -1};  // one fabric reaches everyone
  }
  // Slow path (fragmented fabrics): endpoints whose reach sets are disjoint must be wired
  // together directly, through a shared NIC, or through their two NICs.
  auto local = [&](std::uint32_t x) {
    std::unordered_set<std::uint32_t> s;
    for (auto w : adj[x]) {
      if (is_endpoint(kind_[w])) s.insert(w);
      if (kind_[w] != NodeKind::nic) continue;
      for (auto y : adj[w]) {
        if (is_endpoint(kind_[y])) s.insert(y);
        if (kind_[y] == NodeKind::nic)
          for (auto z : adj[y])
            if (is_endpoint(kind_[z])) s.insert(z);
      }
    }
    return s;
  };
  std::map<std::vector<std::uint32_t>, std::vector<std::uint32_t>> groups;
  for (std::size_t i = 0; i < endpoints.size(); ++i) groups[reach[i]].push_back(endpoints[i]);
  auto disjoint = [](const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      if (a[i] == b[j]) return false;
      (a[i] < b[j]) ? ++i : ++j;
    }
    return true;
  };
  // Groups are visited in a fixed order (std::map), so the pair reported is deterministic.
  for (auto ga = groups.begin(); ga != groups.end(); ++ga) {
    for (auto gb = ga; gb != groups.end(); ++gb) {
      if (!disjoint(ga->first, gb->first)) continue;
      for (auto x : ga->second) {
        auto s = local(x);
        for (auto y : gb->second)
          if (y != x && !s.count(y)) return {std::min(x, y), std::max(x, y)};
      }
    }
  }
  return {-1, -1};
}

bool Topology::connected() const { return first_unreachable_pair().first < 0; }

// ---- bisection ----------------------------------------------------------------------------------
std::uint32_t Topology::bisection_split() const {
  if (layout_) return layout_->bisection_split;
  return static_cast<std::uint32_t>(gpus_.size() / 2);
}

double Topology::bisection_Bps() const {
  if (analytic_bisection_Bps_ >= 0) return analytic_bisection_Bps_;
  auto& c = *cache_;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.have_bisection) return c.bisection_Bps;
  }
  double v = max_flow_Bps(bisection_split());
  std::lock_guard<std::mutex> lock(c.mu);
  c.have_bisection = true;
  c.bisection_Bps = v;
  return v;
}

double Topology::max_flow_Bps(std::uint32_t split) const {
  if (split > gpus_.size()) throw std::out_of_range("Topology::max_flow_Bps: split beyond the GPU count");
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FG = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<boost::edge_capacity_t, std::int64_t,
                      boost::property<boost::edge_residual_capacity_t, std::int64_t,
                                      boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const std::size_t n = kind_.size();
  FG g(n + 2);
  const std::uint32_t S = static_cast<std::uint32_t>(n), T = S + 1;
  auto cap = boost::get(boost::edge_capacity, g);
  auto rev = boost::get(boost::edge_reverse, g);
  auto add = [&](std::uint32_t u, std::uint32_t v, std::int64_t c) {
    auto e = boost::add_edge(u, v, g).first, r = boost::add_edge(v, u, g).first;
    cap[e] = c;
    cap[r] = 0;
    rev[e] = r;
    rev[r] = e;
  };
  // Unowned NICs (wired to no endpoint) and hosts forward nothing, as in routing.
  std::vector<char> owned(n, 0);
  for (const auto& l : links_) {
    if (kind_[l.a] == NodeKind::nic && kind_[l.b] == NodeKind::gpu) owned[l.a] = 1;
    if (kind_[l.b] == NodeKind::nic && kind_[l.a] == NodeKind::gpu) owned[l.b] = 1;
  }
  auto usable = [&](std::uint32_t v) {
    return kind_[v] == NodeKind::gpu || kind_[v] == NodeKind::sw || (kind_[v] == NodeKind::nic && owned[v]);
  };
  std::int64_t total = 1;
  for (const auto& l : links_) {
    if (!usable(l.a) || !usable(l.b)) continue;
    auto ab = static_cast<std::int64_t>(std::llround(l.bw_ab_Bps));
    auto ba = static_cast<std::int64_t>(std::llround(l.bw_ba_Bps));
    add(l.a, l.b, ab);
    add(l.b, l.a, ba);
    total += ab + ba;
  }
  for (std::uint32_t r = 0; r < gpus_.size(); ++r) {
    if (r < split) add(S, gpus_[r], total);
    else add(gpus_[r], T, total);
  }
  return static_cast<double>(boost::push_relabel_max_flow(g, S, T));
}

// ---- summary ------------------------------------------------------------------------------------
nlohmann::ordered_json Topology::summary() const {
  nlohmann::ordered_json j;
  j["system"] = system_;
  j["gpu_model"] = gpu_model_;
  j["fabric"] = fabric_;
  j["nodes"] = num_servers();
  j["gpus_per_node"] = gpus_per_node_;
  j["gpus"] = num_gpus();
  j["switches"] = num_switches();
  j["nics"] = num_nics();
  j["hosts"] = num_hosts();
  j["links"] = num_links();
  j["bisection_GBps"] = Bps_to_GBps(bisection_Bps());
  for (auto it = fabric_params_.begin(); it != fabric_params_.end(); ++it) j[it.key()] = it.value();
  return j;
}

}  // namespace knee
