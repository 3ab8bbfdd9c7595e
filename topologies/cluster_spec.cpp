// Strict reading of a scenario's cluster keys (moved here from the training scenario so that
// every workload reads them the same way).
#include "topologies/cluster_spec.hpp"

#include "common/json_reader.hpp"

namespace knee {
namespace {
std::string str(std::int64_t v) { return std::to_string(v); }
}  // namespace

ClusterSpec parse_cluster_spec(JsonObject& root, const Json& j, const std::string& source) {
  ClusterSpec c;
  c.system_name = root.string("system");
  try {
    c.system = load_system(c.system_name);
  } catch (const InputError& e) { throw InputError(source + ": $.system: " + e.what()); }
  const std::int64_t gpn = c.system.gpus_per_node;
  if (!root.has("nodes") && !root.has("gpus"))
    throw_input_error(source, "$.nodes", "nodes or gpus (or both)", "neither");
  c.gpus = root.integer_or("gpus", 0, 1, 1 << 22);
  c.nodes = root.integer_or("nodes", (c.gpus + gpn - 1) / gpn, 1, 1 << 20);
  if (!root.has("gpus")) c.gpus = c.nodes * gpn;
  if (c.gpus > c.nodes * gpn)
    throw_input_error(source, "$.gpus", "at most nodes x GPUs per node (" + str(c.nodes) + " x " + str(gpn) + ")",
                      str(c.gpus));

  c.fabric.kind =
      c.nodes > 1 ? parse_fabric(c.system.default_fabric, source + ": system default fabric") : FabricKind::single_node;
  c.fabric.nodes = c.nodes;
  if (root.has("fabric")) {
    JsonObject f = root.object("fabric");
    if (f.has("type")) c.fabric.kind = parse_fabric(f.string("type"), source + ": $.fabric.type");
    c.fabric.oversubscription = f.number_or("oversubscription", 1.0);
    if (c.fabric.oversubscription < 1)
      throw_input_error(source, "$.fabric.oversubscription", "a number >= 1",
                        describe_json(j["fabric"]["oversubscription"]));
    c.fabric.radix = f.integer_or("radix", 0, 0, 1 << 16);
    c.fabric.pod_gpus = f.integer_or("pod_gpus", 0, 0, 1 << 21);
    c.fabric.pod_oversubscription = f.number_or("pod_oversubscription", 1.0);
    if (c.fabric.pod_oversubscription < 1)
      throw_input_error(source, "$.fabric.pod_oversubscription", "a number >= 1",
                        describe_json(j["fabric"]["pod_oversubscription"]));
    if (f.has("dims")) {
      JsonArray d = f.array("dims");
      for (std::size_t i = 0; i < d.size(); ++i) c.fabric.dims.push_back(d.integer(i, 1));
    }
    f.finish();
  }
  return c;
}

}  // namespace knee
