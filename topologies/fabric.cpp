#include "topologies/fabric.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "common/json_reader.hpp"
#include "topologies/fabric_layout.hpp"

namespace knee {

// (name, JSON text) of topologies/systems/*.json, compiled in by cmake/knee_embed_json.cmake.
const std::vector<std::pair<const char*, const char*>>& builtin_system_texts();

namespace {
// Limits that keep every id in 32 bits and every capacity sum in 64 bits.
constexpr std::int64_t kMaxGpus = std::int64_t{1} << 21;
constexpr double kMaxLatencyNs = 1e12;  // 1000 s
constexpr double kMaxBandwidthGBps = 1e6;

TimePs read_latency(JsonObject& o) {
  double ns = o.non_negative("latency_ns");
  if (ns > kMaxLatencyNs) o.fail("latency_ns", "a finite number in [0, 1e12]");
  return ns_to_ps(ns);
}
double read_bandwidth(JsonObject& o, const std::string& key) {
  double v = o.positive(key);
  if (v > kMaxBandwidthGBps) o.fail(key, "a finite number in (0, 1e6]");
  return v;
}
}  // namespace

// ---- systems ------------------------------------------------------------------------------------
std::vector<std::string> builtin_systems() {
  std::vector<std::string> v;
  for (const auto& [n, t] : builtin_system_texts()) v.push_back(n);
  std::sort(v.begin(), v.end());
  return v;
}

namespace {
SystemSpec system_from_json(const Json& j, const std::string& source) {
  JsonObject o = JsonObject::root(j, source);
  SystemSpec s;
  s.source = source;
  s.name = o.string("name");
  s.description = o.string_or("description", "");
  s.provenance = o.string("provenance");
  s.gpu_model = o.string("gpu_model");
  s.gpus_per_node = static_cast<std::uint32_t>(o.integer("gpus_per_node", 1, 4096));
  s.default_fabric = o.one_of_or("default_fabric", fabric_names(), "rail-fat-tree");
  {
    JsonObject nv = o.object("nvlink");
    s.nvlink_Bps = GBps_to_Bps(read_bandwidth(nv, "bandwidth_GBps"));
    s.nvlink_latency_ps = read_latency(nv);
    nv.finish();
  }
  {
    JsonObject pc = o.object("pcie");
    s.pcie_Bps = GBps_to_Bps(read_bandwidth(pc, "bandwidth_GBps"));
    s.pcie_latency_ps = read_latency(pc);
    pc.finish();
  }
  {
    JsonObject nw = o.object("network");
    s.nic_Bps = Gbitps_to_Bps(read_bandwidth(nw, "nic_bandwidth_Gbps"));
    s.network_latency_ps = read_latency(nw);
    nw.finish();
  }
  o.finish();
  return s;
}
}  // namespace

SystemSpec parse_system_json(const std::string& text, const std::string& source) {
  return system_from_json(parse_json_text(text, source), source);
}

SystemSpec load_system(const std::string& name_or_path) {
  bool is_path = name_or_path.find('/') != std::string::npos ||
                 (name_or_path.size() >= 5 && name_or_path.compare(name_or_path.size() - 5, 5, ".json") == 0);
  if (!is_path) {
    for (const auto& [n, t] : builtin_system_texts())
      if (n == name_or_path) return parse_system_json(t, "topologies/systems/" + std::string(n) + ".json");
    std::string names;
    for (const auto& n : builtin_systems()) names += (names.empty() ? "" : ", ") + n;
    throw InputError("--system: expected one of " + names + " or a path to a system JSON file, got '" + name_or_path +
                     "'");
  }
  return system_from_json(parse_json_file(name_or_path), name_or_path);  // file errors name the file
}

// ---- fabrics ------------------------------------------------------------------------------------
const std::vector<std::string>& fabric_names() {
  static const std::vector<std::string> n = {"single-node", "rail-fat-tree", "fat-tree", "torus"};
  return n;
}

const char* to_string(FabricKind k) {
  switch (k) {
    case FabricKind::single_node:
      return "single-node";
    case FabricKind::rail_fat_tree:
      return "rail-fat-tree";
    case FabricKind::fat_tree:
      return "fat-tree";
    case FabricKind::torus:
      return "torus";
  }
  return "?";
}

FabricKind parse_fabric(const std::string& text, const std::string& what) {
  static const FabricKind kinds[] = {FabricKind::single_node, FabricKind::rail_fat_tree, FabricKind::fat_tree,
                                     FabricKind::torus};
  for (auto k : kinds)
    if (text == to_string(k)) return k;
  throw InputError(what + ": expected one of single-node, rail-fat-tree, fat-tree, torus, got '" + text + "'");
}

namespace {

// Minimum cut of a tree whose nodes carry source/sink attachments (flow from S to T), by dynamic
// programming over "node on the S side / on the T side". Used on fabrics whose equivalent switches
// (spines, aggregation and core switches) are merged into one node with the summed capacity: every
// max-flow can be spread evenly over equivalent switches, so merging them loses nothing.
struct CutTree {
  struct N {
    std::int64_t parent;
    double up_cap, from_s, to_t;
  };
  std::vector<N> nodes;  // parents come before children
  std::size_t add(std::int64_t parent, double up_cap) {
    nodes.push_back({parent, up_cap, 0, 0});
    return nodes.size() - 1;
  }
  double min_cut() const {
    // cost[i][0]: i on the S side (pays its sink attachment), [1]: on the T side.
    std::vector<std::array<double, 2>> cost(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) cost[i] = {nodes[i].to_t, nodes[i].from_s};
    for (std::size_t i = nodes.size(); i-- > 1;) {
      const auto& n = nodes[i];
      auto& p = cost[static_cast<std::size_t>(n.parent)];
      p[0] += std::min(cost[i][0], cost[i][1] + n.up_cap);
      p[1] += std::min(cost[i][1], cost[i][0] + n.up_cap);
    }
    return std::min(cost[0][0], cost[0][1]);
  }
};

[[noreturn]] void bad_option(const std::string& flag, const std::string& expected, const std::string& got) {
  throw InputError("--" + flag + ": expected " + expected + ", got " + got);
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Checks that hold for every fabric kind; each kind's sizing checks its own.
void check_options(const SystemSpec& sys, const FabricOptions& opt) {
  const std::uint32_t G = sys.gpus_per_node;
  if (G == 0) bad_option("system", "a system with gpus_per_node >= 1", "0");
  if (opt.nodes < 1) bad_option("nodes", "an integer >= 1", std::to_string(opt.nodes));
  if (opt.nodes > kMaxGpus / G)
    bad_option("nodes", "at most " + std::to_string(kMaxGpus / G) + " servers (" + std::to_string(kMaxGpus) + " GPUs)",
               std::to_string(opt.nodes));
  if (!std::isfinite(opt.oversubscription) || opt.oversubscription < 1)
    bad_option("oversubscription", "a finite number >= 1", std::to_string(opt.oversubscription));
  if (opt.radix != 0 && (opt.radix < 4 || opt.radix % 2 != 0 || opt.radix > 65536))
    bad_option("radix", "an even integer in [4, 65536]", std::to_string(opt.radix));
  if (opt.kind != FabricKind::torus && !opt.dims.empty())
    bad_option("dims", "no --dims except with --fabric torus", "--dims");
  if (opt.pod_gpus < 0 || opt.pod_gpus > kMaxGpus)
    bad_option("pod-gpus", "an integer in [0, " + std::to_string(kMaxGpus) + "] (0: no pod tier)",
               std::to_string(opt.pod_gpus));
  if (!std::isfinite(opt.pod_oversubscription) || opt.pod_oversubscription < 1)
    bad_option("pod-oversubscription", "a finite number >= 1", number_text(opt.pod_oversubscription));
  if (opt.pod_gpus == 0 && opt.pod_oversubscription != 1)
    bad_option("pod-oversubscription", "1 without --pod-gpus (there is no pod tier to oversubscribe)",
               number_text(opt.pod_oversubscription));
  if (opt.pod_gpus > 0 && opt.kind == FabricKind::torus)
    bad_option("pod-gpus", "0 (no pod tier) with --fabric torus: pods exist in rail-fat-tree and fat-tree",
               std::to_string(opt.pod_gpus));
}

// The pod size in servers from --pod-gpus, which must be a multiple of `block` GPUs (`what`).
std::uint32_t pod_servers_of(const FabricOptions& opt, std::uint32_t G, std::uint32_t block_servers,
                             const std::string& what) {
  const std::int64_t block = std::int64_t{G} * block_servers;
  if (opt.pod_gpus % block != 0)
    bad_option("pod-gpus",
               "a multiple of " + std::to_string(block) + " (" + what + ": " + std::to_string(block_servers) +
                   " servers x " + std::to_string(G) + " GPUs)",
               std::to_string(opt.pod_gpus));
  return static_cast<std::uint32_t>(opt.pod_gpus / G);
}

// ---- sizing: switch counts of each kind into the layout, and the parameters the topology reports
void size_rail_fat_tree(const FabricOptions& opt, detail::FabricLayout& L, nlohmann::ordered_json& params) {
  const std::uint32_t G = L.gpn, N = L.servers;
  const auto radix = static_cast<std::uint32_t>(opt.radix ? opt.radix : 64);
  L.per_leaf = radix / 2;
  L.leaves_per_rail = (N + L.per_leaf - 1) / L.per_leaf;
  L.spines = N > 1 ? radix / 2 : 0;  // spines carry inter-leaf and cross-rail traffic
  L.pods = 1;
  L.leaves_per_pod = L.leaves_per_rail;
  if (opt.pod_gpus > 0) {  // pods of whole leaf groups, each with its own spines
    L.pod_servers = pod_servers_of(opt, G, L.per_leaf, "the GPUs under one leaf of every rail, radix/2");
    L.leaves_per_pod = L.pod_servers / L.per_leaf;
    L.pods = (L.leaves_per_rail + L.leaves_per_pod - 1) / L.leaves_per_pod;
    L.pod_oversubscription = opt.pod_oversubscription;
  }
  params["oversubscription"] = opt.oversubscription;
  params["radix"] = radix;
  params["leaves"] = G * L.leaves_per_rail;
  params["spines"] = L.pods * L.spines;
  if (opt.pod_gpus > 0) {
    params["pods"] = L.pods;
    params["cores"] = L.pods > 1 ? L.spines : 0;
  }
}

void size_fat_tree(const FabricOptions& opt, detail::FabricLayout& L, nlohmann::ordered_json& params) {
  const std::uint32_t G = L.gpn, N = L.servers;
  const auto radix = static_cast<std::uint32_t>(opt.radix ? opt.radix : std::max<std::int64_t>(64, 2 * G));
  L.half = radix / 2;
  if (G > L.half)
    bad_option("radix",
               "at least " + std::to_string(2 * G) + " so that the " + std::to_string(G) +
                   " NICs of a server fit on one edge switch",
               std::to_string(radix));
  L.per_edge = L.half / G;
  L.edges = (N + L.per_edge - 1) / L.per_edge;
  L.edges_per_pod = L.half;
  if (opt.pod_gpus > 0) {  // pods of whole edge switches, as many as --pod-gpus says
    L.pod_servers = pod_servers_of(opt, G, L.per_edge, "the GPUs of one edge switch, floor(radix/2 / G)");
    L.edges_per_pod = L.pod_servers / L.per_edge;
    L.pod_oversubscription = opt.pod_oversubscription;
  }
  L.pods = (L.edges + L.edges_per_pod - 1) / L.edges_per_pod;
  std::uint64_t max_servers = std::uint64_t{radix} * L.half * L.per_edge;
  // Small pods on a large radix multiply core links (pods x (radix/2)^2): keep them within the
  // plain fat-tree's reach (about one per GPU, at most 2^21) times four.
  constexpr std::uint64_t kMaxCoreLinks = std::uint64_t{4} * kMaxGpus;
  if (opt.pod_gpus > 0 && L.pods > 1 && std::uint64_t{L.pods} * L.half * L.half > kMaxCoreLinks)
    bad_option("pod-gpus",
               "pods large enough that pods x (radix/2)^2 core links stay within " + std::to_string(kMaxCoreLinks) +
                   " (raise --pod-gpus or lower --radix)",
               std::to_string(opt.pod_gpus) + " (" + std::to_string(L.pods) + " pods x " +
                   std::to_string(std::uint64_t{L.half} * L.half) + ")");
  if (L.pods > radix && opt.pod_gpus == 0)
    bad_option("nodes",
               "at most " + std::to_string(max_servers) + " servers for a 3-tier fat-tree of radix " +
                   std::to_string(radix) + " (raise --radix)",
               std::to_string(N));
  L.has_aggs = L.edges > 1;
  L.has_cores = L.pods > 1;
  params["oversubscription"] = opt.oversubscription;
  params["radix"] = radix;
  params["edges"] = L.edges;
  params["pods"] = L.has_aggs ? L.pods : 0;
  params["cores"] = L.has_cores ? L.half * L.half : 0;
}

void size_torus(const FabricOptions& opt, detail::FabricLayout& L, nlohmann::ordered_json& params) {
  if (opt.dims.size() != 2 && opt.dims.size() != 3)
    bad_option("dims", "2 or 3 torus sizes such as 4,4,4", std::to_string(opt.dims.size()) + " sizes");
  std::vector<std::uint32_t> dims;
  std::int64_t prod = 1;
  for (auto d : opt.dims) {
    if (d < 1 || d > kMaxGpus) bad_option("dims", "sizes >= 1", std::to_string(d));
    prod *= d;
    if (prod > kMaxGpus) bad_option("dims", "a product of at most " + std::to_string(kMaxGpus), "more");
    dims.push_back(static_cast<std::uint32_t>(d));
  }
  if (prod != opt.nodes)
    bad_option("nodes", "the product of --dims (" + std::to_string(prod) + ")", std::to_string(opt.nodes));
  L.dims = dims;
  nlohmann::ordered_json jd = nlohmann::ordered_json::array();
  for (auto d : dims) jd.push_back(d);
  params["dims"] = jd;
}

// ---- nodes and links, in the id order the layout (fabric_layout.hpp) promises -------------------
// Node ids: GPUs, NVSwitches, NICs, fabric switches.
void add_nodes(Topology& t, detail::FabricLayout& L) {
  const std::uint32_t G = L.gpn, N = L.servers, ngpu = N * G;
  std::size_t n_fabric_sw = 0;
  if (L.kind == FabricKind::rail_fat_tree)
    n_fabric_sw = std::size_t{G} * L.leaves_per_rail + std::size_t{L.pods} * L.spines + (L.pods > 1 ? L.spines : 0);
  if (L.kind == FabricKind::fat_tree)
    n_fabric_sw =
        L.edges + (L.has_aggs ? std::size_t{L.pods} * L.half : 0) + (L.has_cores ? std::size_t{L.half} * L.half : 0);
  if (L.kind == FabricKind::torus) n_fabric_sw = N;
  t.reserve(std::size_t{ngpu} * 2 + (L.nvswitch ? N : 0) + n_fabric_sw, std::size_t{ngpu} * 3 + n_fabric_sw * 32);

  for (std::uint32_t s = 0; s < N; ++s)
    for (std::uint32_t i = 0; i < G; ++i)
      t.add_node(NodeKind::gpu, "s" + std::to_string(s) + ".gpu" + std::to_string(i));
  L.nvsw_base = static_cast<std::uint32_t>(t.num_nodes());
  if (L.nvswitch)
    for (std::uint32_t s = 0; s < N; ++s) t.add_node(NodeKind::sw, "s" + std::to_string(s) + ".nvswitch");
  L.nic_base = static_cast<std::uint32_t>(t.num_nodes());
  for (std::uint32_t s = 0; s < N; ++s)
    for (std::uint32_t i = 0; i < G; ++i)
      t.add_node(NodeKind::nic, "s" + std::to_string(s) + ".nic" + std::to_string(i));
  L.sw_base = static_cast<std::uint32_t>(t.num_nodes());
  switch (L.kind) {
    case FabricKind::single_node:
      break;
    case FabricKind::rail_fat_tree:
      for (std::uint32_t r = 0; r < G; ++r)
        for (std::uint32_t l = 0; l < L.leaves_per_rail; ++l)
          t.add_node(NodeKind::sw, "rail" + std::to_string(r) + ".leaf" + std::to_string(l));
      if (L.pods == 1)
        for (std::uint32_t k = 0; k < L.spines; ++k) t.add_node(NodeKind::sw, "spine" + std::to_string(k));
      else {
        for (std::uint32_t p = 0; p < L.pods; ++p)
          for (std::uint32_t k = 0; k < L.spines; ++k)
            t.add_node(NodeKind::sw, "pod" + std::to_string(p) + ".spine" + std::to_string(k));
        for (std::uint32_t k = 0; k < L.spines; ++k) t.add_node(NodeKind::sw, "core" + std::to_string(k));
      }
      break;
    case FabricKind::fat_tree:
      for (std::uint32_t e = 0; e < L.edges; ++e) t.add_node(NodeKind::sw, "edge" + std::to_string(e));
      if (L.has_aggs)
        for (std::uint32_t p = 0; p < L.pods; ++p)
          for (std::uint32_t j = 0; j < L.half; ++j)
            t.add_node(NodeKind::sw, "pod" + std::to_string(p) + ".agg" + std::to_string(j));
      if (L.has_cores)
        for (std::uint32_t j = 0; j < L.half; ++j)
          for (std::uint32_t m = 0; m < L.half; ++m)
            t.add_node(NodeKind::sw, "core" + std::to_string(j) + "." + std::to_string(m));
      break;
    case FabricKind::torus:
      for (std::uint32_t s = 0; s < N; ++s) t.add_node(NodeKind::sw, "s" + std::to_string(s) + ".router");
      break;
  }
}

// The first switch of GPU g's NIC.
std::uint32_t nic_switch(const detail::FabricLayout& L, std::uint32_t g) {
  const std::uint32_t s = g / L.gpn, i = g % L.gpn;
  switch (L.kind) {
    case FabricKind::rail_fat_tree:
      return L.sw_base + i * L.leaves_per_rail + s / L.per_leaf;
    case FabricKind::fat_tree:
      return L.sw_base + s / L.per_edge;
    case FabricKind::torus:
      return L.sw_base + s;
    case FabricKind::single_node:
      break;
  }
  return 0;
}

// Bandwidth of one core link of pod p. Pod tier: the downlink capacity of the pod's spine
// (aggregation) switch divided by the pod oversubscription, spread over its core links (rail: one
// link, to core k; fat-tree: half links, to cores (j, 0 .. half-1)). Without one: the NIC rate
// (fat-tree; a rail-fat-tree has no core then).
BytesPerSec core_link_Bps(const detail::FabricLayout& L, BytesPerSec up, BytesPerSec nic, std::uint32_t p) {
  if (L.kind == FabricKind::rail_fat_tree) {
    const std::uint32_t leaves = std::min(L.leaves_per_pod, L.leaves_per_rail - p * L.leaves_per_pod);
    return double(L.gpn) * leaves * up / L.pod_oversubscription;
  }
  if (L.pod_servers == 0) return nic;
  const std::uint32_t edges = std::min(L.edges_per_pod, L.edges - p * L.edges_per_pod);
  return double(edges) * up / L.pod_oversubscription / L.half;
}

// Edge-to-aggregation links (at the oversubscribed `up` rate), then aggregation-to-core links.
void add_fat_tree_links(Topology& t, detail::FabricLayout& L, BytesPerSec up, BytesPerSec nic, TimePs net_lat) {
  const std::uint32_t agg0 = L.sw_base + L.edges;
  for (std::uint32_t e = 0; e < L.edges; ++e)
    for (std::uint32_t j = 0; j < L.half; ++j)
      t.add_link(L.sw_base + e, agg0 + (e / L.edges_per_pod) * L.half + j, up, net_lat, LinkClass::network);
  L.l_agg_core = static_cast<std::uint32_t>(t.num_links());
  if (L.has_cores) {
    const std::uint32_t core0 = agg0 + L.pods * L.half;
    for (std::uint32_t p = 0; p < L.pods; ++p) {
      const BytesPerSec cap = core_link_Bps(L, up, nic, p);
      for (std::uint32_t j = 0; j < L.half; ++j)
        for (std::uint32_t m = 0; m < L.half; ++m)
          t.add_link(agg0 + p * L.half + j, core0 + j * L.half + m, cap, net_lat, LinkClass::network);
    }
  }
}

// Each router to its +1 neighbour along every dimension, recorded in L.torus_link for routing.
void add_torus_links(Topology& t, detail::FabricLayout& L, BytesPerSec nic, TimePs net_lat) {
  const std::uint32_t N = L.servers;
  const std::vector<std::uint32_t>& dims = L.dims;
  const std::uint32_t D = static_cast<std::uint32_t>(dims.size());
  L.torus_link.assign(std::size_t{N} * D, detail::FabricLayout::kNone);
  std::vector<std::uint32_t> stride(D, 1);
  for (std::uint32_t d = D - 1; d-- > 0;) stride[d] = stride[d + 1] * dims[d + 1];
  for (std::uint32_t s = 0; s < N; ++s)
    for (std::uint32_t d = 0; d < D; ++d) {
      const std::uint32_t c = s / stride[d] % dims[d];
      if (dims[d] == 1 || (dims[d] == 2 && c == 1)) continue;  // no self-loops, no double links
      const std::uint32_t next = s - c * stride[d] + ((c + 1) % dims[d]) * stride[d];
      L.torus_link[std::size_t{s} * D + d] =
          t.add_link(L.sw_base + s, L.sw_base + next, nic, net_lat, LinkClass::network);
    }
}

void add_links(Topology& t, const SystemSpec& sys, const FabricOptions& opt, detail::FabricLayout& L) {
  const std::uint32_t G = L.gpn, ngpu = L.servers * G;
  const BytesPerSec nic = sys.nic_Bps, up = sys.nic_Bps / opt.oversubscription;
  const TimePs net_lat = sys.network_latency_ps;
  L.l_gpu_nvsw = 0;
  if (L.nvswitch)
    for (std::uint32_t g = 0; g < ngpu; ++g)
      t.add_link(g, L.nvsw_base + g / G, sys.nvlink_Bps, sys.nvlink_latency_ps, LinkClass::nvlink);
  L.l_gpu_nic = static_cast<std::uint32_t>(t.num_links());
  for (std::uint32_t g = 0; g < ngpu; ++g)
    t.add_link(g, L.nic_base + g, sys.pcie_Bps, sys.pcie_latency_ps, LinkClass::pcie);
  L.l_nic_sw = static_cast<std::uint32_t>(t.num_links());
  if (L.kind != FabricKind::single_node)
    for (std::uint32_t g = 0; g < ngpu; ++g)
      t.add_link(L.nic_base + g, nic_switch(L, g), nic, net_lat, LinkClass::network);
  L.l_fabric = static_cast<std::uint32_t>(t.num_links());
  if (L.kind == FabricKind::rail_fat_tree) {
    const std::uint32_t leaves = G * L.leaves_per_rail, spine0 = L.sw_base + leaves;
    for (std::uint32_t l = 0; l < leaves; ++l) {
      const std::uint32_t first = spine0 + (l % L.leaves_per_rail) / L.leaves_per_pod * L.spines;
      for (std::uint32_t k = 0; k < L.spines; ++k)
        t.add_link(L.sw_base + l, first + k, up, net_lat, LinkClass::network);
    }
    L.l_core = static_cast<std::uint32_t>(t.num_links());
    if (L.pods > 1) {  // spine k of every pod to core k
      const std::uint32_t core0 = spine0 + L.pods * L.spines;
      for (std::uint32_t p = 0; p < L.pods; ++p) {
        const BytesPerSec cap = core_link_Bps(L, up, nic, p);
        for (std::uint32_t k = 0; k < L.spines; ++k)
          t.add_link(spine0 + p * L.spines + k, core0 + k, cap, net_lat, LinkClass::network);
      }
    }
  }
  if (L.kind == FabricKind::fat_tree && L.has_aggs) add_fat_tree_links(t, L, up, nic, net_lat);
  if (L.kind == FabricKind::torus) add_torus_links(t, L, nic, net_lat);
}

// ---- bisection: max flow from the first half of the servers (GPUs) to the rest -------------------
// Of `count` servers from `first`, the GPU egress `e` of those in the first `half_servers` (a)
// and of the rest (b).
void split_count(std::uint32_t half_servers, double e, std::uint32_t first, std::uint32_t count, double& a, double& b) {
  std::uint32_t end = first + count;
  std::uint32_t in_a = end <= half_servers ? count : (first >= half_servers ? 0 : half_servers - first);
  a = in_a * e;
  b = (count - in_a) * e;
}

// The two fat-trees below: max flow from the GPUs of servers [0, half_servers) to the rest.
double rail_fat_tree_bisection(const detail::FabricLayout& L, double e, BytesPerSec up, BytesPerSec nic,
                               std::uint32_t half_servers) {
  const std::uint32_t G = L.gpn, N = L.servers;
  CutTree ct;
  ct.add(-1, 0);  // all spines merged (one pod), or all cores merged
  std::vector<std::int64_t> pod_node(L.pods, 0);
  if (L.pods > 1)  // a pod's spines merged; its core links carry the pod's uplink capacity
    for (std::uint32_t p = 0; p < L.pods; ++p)
      pod_node[p] = static_cast<std::int64_t>(ct.add(0, L.spines * core_link_Bps(L, up, nic, p)));
  for (std::uint32_t r = 0; r < G; ++r)
    for (std::uint32_t l = 0; l < L.leaves_per_rail; ++l) {
      auto i = ct.add(pod_node[l / L.leaves_per_pod], L.spines * up);
      std::uint32_t first = l * L.per_leaf, count = std::min(L.per_leaf, N - first);
      split_count(half_servers, e, first, count, ct.nodes[i].from_s, ct.nodes[i].to_t);
    }
  return ct.min_cut();
}

double fat_tree_bisection(const detail::FabricLayout& L, double e, BytesPerSec up, BytesPerSec nic,
                          std::uint32_t half_servers) {
  const std::uint32_t G = L.gpn, N = L.servers;
  CutTree ct;
  if (L.has_cores) ct.add(-1, 0);  // all cores merged
  std::vector<std::size_t> pod_node(L.pods);
  for (std::uint32_t p = 0; p < L.pods; ++p) {
    if (!L.has_aggs) break;  // single edge switch: it is the root
    // A pod's aggregation switches merged; half*half core links per pod.
    pod_node[p] =
        ct.add(L.has_cores ? 0 : -1, L.has_cores ? double(L.half) * L.half * core_link_Bps(L, up, nic, p) : 0);
    if (!L.has_cores) break;  // one pod and no core: that pod is the root
  }
  for (std::uint32_t ed = 0; ed < L.edges; ++ed) {
    std::size_t i =
        L.has_aggs ? ct.add(static_cast<std::int64_t>(pod_node[ed / L.edges_per_pod]), L.half * up) : ct.add(-1, 0);
    std::uint32_t first = ed * L.per_edge, count = std::min(L.per_edge, N - first);
    double a, b;
    split_count(half_servers, e, first, count, a, b);
    ct.nodes[i].from_s = a * G;
    ct.nodes[i].to_t = b * G;
  }
  return ct.min_cut();
}

// When a router's NICs carry more than all its torus links, the cheapest cut keeps every router
// with its server, so it is the torus links between the halves. Otherwise -1: max-flow decides.
double torus_bisection(const Topology& t, const detail::FabricLayout& L, double e, BytesPerSec nic) {
  const std::uint32_t G = L.gpn, N = L.servers, half_servers = N / 2;
  double bis = -1;
  std::size_t crossing = 0, max_degree = 0;
  std::vector<std::size_t> degree(N, 0);
  for (std::size_t l = L.l_fabric; l < t.num_links(); ++l) {
    auto sa = t.link(static_cast<std::uint32_t>(l)).a - L.sw_base,
         sb = t.link(static_cast<std::uint32_t>(l)).b - L.sw_base;
    crossing += (sa < half_servers) != (sb < half_servers);
    max_degree = std::max({max_degree, ++degree[sa], ++degree[sb]});
  }
  if (G * e >= max_degree * nic) bis = crossing * nic;  // otherwise max-flow (bis < 0)
  return bis;
}

// Analytic bisection: max flow from the GPUs of the first floor(N/2) servers to the rest (from
// the first floor(G/2) GPUs to the rest when N == 1); sets L.bisection_split. Negative when no
// closed form applies. docs/topologies.md derives each case.
double bisection(const Topology& t, const SystemSpec& sys, const FabricOptions& opt, detail::FabricLayout& L) {
  const std::uint32_t G = L.gpn, N = L.servers;
  const BytesPerSec nic = sys.nic_Bps, up = sys.nic_Bps / opt.oversubscription;
  const double e = std::min(sys.pcie_Bps, sys.nic_Bps);  // one GPU's way out: PCIe then NIC
  double bis = -1;
  if (N == 1) {
    const std::uint32_t a = G / 2;
    L.bisection_split = a;
    bis = a * sys.nvlink_Bps;  // through the NVSwitch
    bool shared_switch = L.kind == FabricKind::fat_tree || L.kind == FabricKind::torus;
    if (shared_switch) bis += a * e;  // and through the NICs' common edge switch or router
    if (G == 1) bis = 0;
  } else {
    L.bisection_split = N / 2 * G;
    if (L.kind == FabricKind::rail_fat_tree) bis = rail_fat_tree_bisection(L, e, up, nic, N / 2);
    else if (L.kind == FabricKind::fat_tree) bis = fat_tree_bisection(L, e, up, nic, N / 2);
    else if (L.kind == FabricKind::torus) bis = torus_bisection(t, L, e, nic);
  }
  return bis;
}

// The pod tier's figures for the summary: a full pod's uplink capacity to the core, and the max
// flow from the GPUs of the first floor(pods / 2) pods to the others (0 with one pod).
void pod_summary(const SystemSpec& sys, const FabricOptions& opt, const detail::FabricLayout& L,
                 nlohmann::ordered_json& params) {
  const BytesPerSec nic = sys.nic_Bps, up = sys.nic_Bps / opt.oversubscription;
  const double e = std::min(sys.pcie_Bps, sys.nic_Bps);
  const bool rail = L.kind == FabricKind::rail_fat_tree, cores = rail ? L.pods > 1 : L.has_cores;
  double uplink = 0, between = 0;
  if (cores) {
    uplink = rail ? L.spines * core_link_Bps(L, up, nic, 0) : double(L.half) * L.half * core_link_Bps(L, up, nic, 0);
    const std::uint32_t split = L.pods / 2 * L.pod_servers;
    between = rail ? rail_fat_tree_bisection(L, e, up, nic, split) : fat_tree_bisection(L, e, up, nic, split);
  }
  params["pod_gpus"] = opt.pod_gpus;
  params["pod_oversubscription"] = opt.pod_oversubscription;
  params["pod_uplink_GBps"] = Bps_to_GBps(uplink);
  params["pod_bisection_GBps"] = Bps_to_GBps(between);
}

}  // namespace

Topology build_topology(const SystemSpec& sys, const FabricOptions& opt) {
  check_options(sys, opt);
  const std::uint32_t G = sys.gpus_per_node;
  const auto N = static_cast<std::uint32_t>(opt.nodes);
  auto L = std::make_unique<detail::FabricLayout>();
  L->kind = opt.kind;
  L->servers = N;
  L->gpn = G;
  L->nvswitch = G > 1;

  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  switch (opt.kind) {
    case FabricKind::single_node:
      if (N != 1) bad_option("nodes", "1 with --fabric single-node", std::to_string(N));
      break;
    case FabricKind::rail_fat_tree:
      size_rail_fat_tree(opt, *L, params);
      break;
    case FabricKind::fat_tree:
      size_fat_tree(opt, *L, params);
      break;
    case FabricKind::torus:
      size_torus(opt, *L, params);
      break;
  }

  Topology t;
  add_nodes(t, *L);
  add_links(t, sys, opt, *L);
  const double bis = bisection(t, sys, opt, *L);
  if (opt.pod_gpus > 0 && opt.kind != FabricKind::single_node) pod_summary(sys, opt, *L, params);
  t.set_gpus_per_node(G);
  t.set_description(sys.name, sys.gpu_model, to_string(opt.kind), params);
  t.set_layout(std::move(L), bis);
  return t;
}

}  // namespace knee
