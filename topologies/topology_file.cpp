// The topology file format (docs/topologies.md), read strictly: every problem is an InputError
// naming the file, the JSON path and what was expected.
#include <optional>
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
// The file's degraded and failed links (docs/topologies.md, "Topology file"): the machine as it
// is. Each entry resolved to the first link joining its two nodes, in file order.
struct BrokenLinks {
  std::vector<std::pair<std::uint32_t, double>> degraded;  // link, factor
  std::vector<std::uint32_t> failed;                       // links, in entry order
};

std::uint32_t link_between(const Topology& t, const std::unordered_map<std::string, std::uint32_t>& ids, JsonObject& e,
                           const char* example) {
  JsonArray ends = e.array("between");
  if (ends.size() != 2) ends.fail_here(std::string("two node ids of $.nodes, e.g. ") + example);
  std::uint32_t end[2];
  for (std::size_t k = 0; k < 2; ++k) {
    auto it = ids.find(ends.string(k));
    if (it == ids.end()) ends.fail(k, "the id of a node in $.nodes");
    end[k] = it->second;
  }
  for (std::uint32_t l = 0; l < t.num_links(); ++l) {
    const Link& k = t.link(l);
    if ((k.a == end[0] && k.b == end[1]) || (k.a == end[1] && k.b == end[0])) return l;
  }
  e.fail("between", "two nodes joined by a link in $.links");
}

BrokenLinks read_broken_links(const Topology& t, const std::unordered_map<std::string, std::uint32_t>& ids,
                              const std::optional<JsonArray>& degraded, const std::optional<JsonArray>& failed) {
  BrokenLinks b;
  for (std::size_t i = 0; degraded && i < degraded->size(); ++i) {
    JsonObject e = degraded->object(i);
    const std::uint32_t l = link_between(t, ids, e, "[\"n0\", \"leaf0\"]");
    const double f = e.number("factor");
    if (!(f > 0 && f <= 1)) e.fail("factor", "a fraction of the link's bandwidth in (0, 1]");
    e.ignore("comment");
    e.finish();
    b.degraded.emplace_back(l, f);
  }
  for (std::size_t i = 0; failed && i < failed->size(); ++i) {
    JsonObject e = failed->object(i);
    b.failed.push_back(link_between(t, ids, e, "[\"leaf0\", \"spine1\"]"));
    e.ignore("comment");
    e.finish();
  }
  return b;
}

// `t` rebuilt with the degraded links at their fraction of capacity, both directions (the same
// multiplication as a scenario's simulation.degraded_links on the every-rank network), and the
// failed ones down (Topology::fail_link). InputError at $.failed_links[i] for the first failure
// after which some GPU or host cannot reach another.
Topology apply_broken_links(Topology t, const BrokenLinks& broken, const std::string& source) {
  if (broken.degraded.empty() && broken.failed.empty()) return t;  // no keys: the file's links as written
  std::vector<Link> links = t.links();
  for (std::size_t i = 0; i < broken.degraded.size(); ++i) {
    const auto [l, f] = broken.degraded[i];
    links[l].bw_ab_Bps *= f;
    links[l].bw_ba_Bps *= f;
    if (!(links[l].bw_ab_Bps > 0 && links[l].bw_ba_Bps > 0))  // a tiny bandwidth times a tiny factor
      throw_input_error(source, "$.degraded_links[" + std::to_string(i) + "].factor",
                        "a factor that leaves the link a bandwidth above 0", std::to_string(f));
  }
  auto rebuild = [&](const std::vector<bool>& down) {
    Topology r;
    r.reserve(t.num_nodes(), links.size());
    for (std::uint32_t n = 0; n < t.num_nodes(); ++n) r.add_node(t.kind(n), t.name(n));
    for (std::uint32_t l = 0; l < links.size(); ++l)
      if (down.empty() || !down[l])
        r.add_link(links[l].a, links[l].b, links[l].bw_ab_Bps, links[l].bw_ba_Bps, links[l].latency_ps, links[l].cls);
    return r;
  };
  std::vector<bool> down(links.size(), false);
  for (std::size_t i = 0; i < broken.failed.size(); ++i) {
    down[broken.failed[i]] = true;
    const Topology left = rebuild(down);
    auto [x, y] = left.first_unreachable_pair();
    if (x >= 0)
      throw_input_error(source, "$.failed_links[" + std::to_string(i) + "]",
                        "failed links that leave every GPU and host reaching every other",
                        "\"" + t.name(static_cast<std::uint32_t>(x)) + "\" cut off from \"" +
                            t.name(static_cast<std::uint32_t>(y)) + "\"");
  }
  Topology r = rebuild({});
  for (std::uint32_t l : broken.failed) r.fail_link(l);
  return r;
}

Topology from_json(const Json& j, const std::string& source) {
  JsonObject root = JsonObject::root(j, source);
  std::string name = root.string_or("name", "file");
  root.ignore("comment");
  JsonArray nodes = root.array("nodes");
  JsonArray links = root.array("links");
  std::optional<JsonArray> degraded, failed;
  if (root.has("degraded_links")) degraded.emplace(root.array("degraded_links"));
  if (root.has("failed_links")) failed.emplace(root.array("failed_links"));
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
  const BrokenLinks broken = read_broken_links(t, ids, degraded, failed);

  auto [x, y] = t.first_unreachable_pair();
  if (x >= 0) {
    auto gx = static_cast<std::uint32_t>(x), gy = static_cast<std::uint32_t>(y);
    if (t.kind(gx) != NodeKind::gpu && t.kind(gy) == NodeKind::gpu) std::swap(gx, gy);
    throw_input_error(source, "$.nodes[" + std::to_string(gx) + "]",
                      "a connected topology in which every GPU and host reaches every other (GPUs and hosts "
                      "never forward traffic)",
                      "\"" + t.name(gx) + "\", which cannot reach \"" + t.name(gy) + "\"");
  }
  Topology out = apply_broken_links(std::move(t), broken, source);
  out.set_description(name, "unknown", "file", nlohmann::ordered_json::object());
  return out;
}
}  // namespace

Topology parse_topology_json(const std::string& text, const std::string& source) {
  return from_json(parse_json_text(text, source), source);
}

Topology load_topology_file(const std::string& path) {
  return from_json(parse_json_file(path), path);  // missing file or bad JSON: an InputError naming it
}

}  // namespace knee
