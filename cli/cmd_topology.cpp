// knee topology: builds a system + fabric (or loads a topology file) and prints its size and
// bisection bandwidth.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "topologies/fabric.hpp"

namespace knee::cli {
namespace {

int run_topology(const Args& args) {
  auto sys_name = args.value("system");
  auto file = args.value("file");
  if (sys_name.has_value() == file.has_value())
    throw InputError("knee topology: --system/--file: expected exactly one of --system NAME and --file PATH, got " +
                     std::string(sys_name ? "both" : "neither"));
  if (!args.positional().empty())
    throw InputError("knee topology: expected only flags, got '" + args.positional().front() + "'");

  auto t0 = std::chrono::steady_clock::now();
  Topology topo;
  if (file) {
    for (const char* f : {"nodes", "fabric", "oversubscription", "radix", "dims"})
      if (args.value(f)) throw InputError(args.what(f) + ": expected no fabric options with --file, got one");
    topo = load_topology_file(*file);
  } else {
    auto with_command = [](const InputError& e) {  // "--nodes: ..." gets the command name
      std::string m = e.what();
      return InputError(m.rfind("--", 0) == 0 ? "knee topology: " + m : m);
    };
    SystemSpec sys;
    try {
      sys = load_system(*sys_name);
    } catch (const InputError& e) {
      throw with_command(e);
    }
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
    try {
      topo = build_topology(sys, opt);
    } catch (const InputError& e) {
      throw with_command(e);
    }
  }
  double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto j = topo.summary();
  j["build_time_s"] = build_s;

  if (args.flag("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    std::printf("%-18s %s\n", it.key().c_str(), v.c_str());
  }
  return 0;
}

KNEE_COMMAND("topology", "build a cluster topology and print its size and bisection bandwidth",
             "(--system NAME|PATH --nodes N [--fabric F] | --file TOPO.json) [--json]",
             {{"system", true, "built-in system (dgx-a100, dgx-h100, dgx-h200, hgx-b200, gb200-nvl72) or a system JSON file"},
              {"file", true, "topology JSON file (format in docs/topologies.md)"},
              {"nodes", true, "number of servers (GB200 NVL72: racks); default 1, or the product of --dims"},
              {"fabric", true, "single-node, rail-fat-tree, fat-tree or torus (default: the system's)"},
              {"oversubscription", true, "leaf/edge oversubscription >= 1 (default 1: non-blocking)"},
              {"radix", true, "switch ports, even (default 64; fat-tree: at least 2 x GPUs per server)"},
              {"dims", true, "torus sizes, e.g. 4,4,4 (product = --nodes)"},
              {"json", false, "print JSON instead of a table"}},
             run_topology);

}  // namespace
}  // namespace knee::cli
