// The topology file format (docs/topologies.md), read strictly: every problem is an InputError
// naming the file, the JSON path and what was expected.
#include <unordered_map>

#include "common/json_reader.hpp"
#include "topologies/topology.hpp"

namespace knee {

namespace {
constexpr double kMaxLatencyNs = 1e12;     // 1000 s: keeps picoseconds far from overflow
constexpr double kMaxBandwidthGBps = 1e6;  // 1 PB/s: keeps max-flow sums in 64 bits

double bandwidth(JsonObject& o, const std::string& key) {
  double v = o.positive(key);
  if (v > kMaxBandwidthGBps) o.fail(key, "a finite number in (0, 1e6]");
  return v;
}
}  // namespace

namespace {
Topology from_json(const Json& j, const std::string& source) {
  JsonObject root = JsonObject::root(j, source);
  std::string name = root.string_or("name", "file");
  root.ignore("comment");
  JsonArray nodes = root.array("nodes");
  JsonArray links = root.array("links");
  root.finish();

  Topology t;
  t.reserve(nodes.size(), links.size());
  std::unordered_map<std::string, std::uint32_t> ids;
  ids.reserve(nodes.size());
  static const std::vector<std::string> kinds = {"gpu", "switch", "nic", "host"};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    JsonObject n = nodes.object(i);
    std::string id = n.string("id");
    if (id.empty()) n.fail("id", "a non-empty string");
    std::string k = n.one_of("kind", kinds);
    n.ignore("comment");
    n.finish();
    auto [it, fresh] = ids.emplace(id, static_cast<std::uint32_t>(i));
    if (!fresh) n.fail("id", "a unique node id (also used by $.nodes[" + std::to_string(it->second) + "])");
    NodeKind nk = k == "gpu"      ? NodeKind::gpu
                  : k == "switch" ? NodeKind::sw
                  : k == "nic"    ? NodeKind::nic
                                  : NodeKind::host;
    t.add_node(nk, id);
  }
  if (t.num_gpus() == 0) throw_input_error(source, "$.nodes", "at least one node of kind \"gpu\"", "none");

  static const std::vector<std::string> classes = {"nvlink", "pcie", "network"};
  for (std::size_t i = 0; i < links.size(); ++i) {
    JsonObject l = links.object(i);
    auto end = [&](const char* key) {
      std::string s = l.string(key);
      auto it = ids.find(s);
      if (it == ids.end()) l.fail(key, "the id of a node in $.nodes");
      return it->second;
    };
    std::uint32_t a = end("a"), b = end("b");
    if (a == b) l.fail("b", "a node other than \"a\" (no self-loops)");
    double ab = bandwidth(l, "bandwidth_GBps");
    double ba = l.has("bandwidth_ba_GBps") ? bandwidth(l, "bandwidth_ba_GBps") : ab;
    double ns = l.non_negative("latency_ns");
    if (ns > kMaxLatencyNs) l.fail("latency_ns", "a finite number in [0, 1e12]");
    // Default class from the kinds joined: NIC to GPU/host is PCIe, GPU to GPU/switch NVLink.
    NodeKind ka = t.kind(a), kb = t.kind(b);
    auto either = [&](NodeKind x, NodeKind y) { return (ka == x && kb == y) || (ka == y && kb == x); };
    std::string def = "network";
    if (either(NodeKind::nic, NodeKind::gpu) || either(NodeKind::nic, NodeKind::host)) def = "pcie";
    else if (either(NodeKind::gpu, NodeKind::gpu) || either(NodeKind::gpu, NodeKind::sw)) def = "nvlink";
    std::string c = l.one_of_or("class", classes, def);
    l.ignore("comment");
    l.finish();
    LinkClass lc = c == "nvlink" ? LinkClass::nvlink : c == "pcie" ? LinkClass::pcie : LinkClass::network;
    t.add_link(a, b, GBps_to_Bps(ab), GBps_to_Bps(ba), ns_to_ps(ns), lc);
  }

  auto [x, y] = t.first_unreachable_pair();
  if (x >= 0) {
    auto gx = static_cast<std::uint32_t>(x), gy = static_cast<std::uint32_t>(y);
    if (t.kind(gx) != NodeKind::gpu && t.kind(gy) == NodeKind::gpu) std::swap(gx, gy);
    throw_input_error(source, "$.nodes[" + std::to_string(gx) + "]",
                      "a connected topology in which every GPU and host reaches every other (GPUs and hosts "
                      "never forward traffic)",
                      "\"" + t.name(gx) + "\", which cannot reach \"" + t.name(gy) + "\"");
  }
  t.set_description(name, "unknown", "file", nlohmann::ordered_json::object());
  return t;
}
}  // namespace

Topology parse_topology_json(const std::string& text, const std::string& source) {
  return from_json(parse_json_text(text, source), source);
}

Topology load_topology_file(const std::string& path) {
  return from_json(parse_json_file(path), path);  // missing file or bad JSON: an InputError naming it
}

}  // namespace knee
