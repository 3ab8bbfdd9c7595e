#include "cli/cluster_args.hpp"

namespace knee::cli {

std::vector<FlagSpec> cluster_flags() {
  return {
      {"system", true, "built-in system (dgx-a100, dgx-h100, dgx-h200, hgx-b200, gb200-nvl72) or a system JSON file"},
      {"file", true, "topology JSON file (format in docs/topologies.md)"},
      {"nodes", true, "number of servers (GB200 NVL72: racks); default 1, or the product of --dims"},
      {"fabric", true, "single-node, rail-fat-tree, fat-tree or torus (default: the system's)"},
      {"oversubscription", true, "leaf/edge oversubscription >= 1 (default 1: non-blocking)"},
      {"radix", true, "switch ports, even (default 64; fat-tree: at least 2 x GPUs per server)"},
      {"pod-gpus", true,
       "GPUs per pod (rail-fat-tree, fat-tree): pods joined by a core tier; 0 = no pod tier (default)"},
      {"pod-oversubscription", true, "core uplinks of a pod = its spine downlinks / this, >= 1 (default 1)"},
      {"dims", true, "torus sizes, e.g. 4,4,4 (product = --nodes)"}};
}

Topology topology_from_args(const Args& args, SystemSpec* system) {
  auto sys_name = args.value("system");
  auto file = args.value("file");
  const std::string cmd = "knee " + args.command();
  if (sys_name.has_value() == file.has_value())
    throw InputError(cmd + ": --system/--file: expected exactly one of --system NAME and --file PATH, got " +
                     std::string(sys_name ? "both" : "neither"));
  if (file) {
    for (const char* f : {"nodes", "fabric", "oversubscription", "radix", "dims", "pod-gpus", "pod-oversubscription"})
      if (args.value(f)) throw InputError(args.what(f) + ": expected no fabric options with --file, got one");
    if (system) *system = SystemSpec{};
    return load_topology_file(*file);
  }
  auto with_command = [&](const InputError& e) {  // "--nodes: ..." gets the command name
    std::string m = e.what();
    return InputError(m.rfind("--", 0) == 0 ? cmd + ": " + m : m);
  };
  SystemSpec sys;
  try {
    sys = load_system(*sys_name);
  } catch (const InputError& e) { throw with_command(e); }
  FabricOptions opt;
  opt.kind = parse_fabric(args.value_or("fabric", sys.default_fabric), args.what("fabric"));
  if (auto d = args.value("dims")) opt.dims = parse_integer_list(*d, args.what("dims"), 1);
  std::int64_t def_nodes = 1;
  if (opt.kind == FabricKind::torus)
    for (auto d : opt.dims) def_nodes *= d;
  opt.nodes = args.integer_or("nodes", def_nodes, 1);
  opt.oversubscription = args.number_or("oversubscription", 1.0);
  if (opt.oversubscription < 1)
    throw InputError(args.what("oversubscription") + ": expected a number >= 1, got '" +
                     *args.value("oversubscription") + "'");
  opt.radix = args.integer_or("radix", 0, 4, 65536);
  opt.pod_gpus = args.integer_or("pod-gpus", 0, 0);
  opt.pod_oversubscription = args.number_or("pod-oversubscription", 1.0);
  if (opt.pod_oversubscription < 1)
    throw InputError(args.what("pod-oversubscription") + ": expected a number >= 1, got '" +
                     *args.value("pod-oversubscription") + "'");
  if (system) *system = sys;
  try {
    return build_topology(sys, opt);
  } catch (const InputError& e) { throw with_command(e); }
}

}  // namespace knee::cli
