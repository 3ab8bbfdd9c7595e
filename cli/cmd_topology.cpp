// knee topology: builds a system + fabric (or loads a topology file) and prints its size and
// bisection bandwidth.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/cluster_args.hpp"
#include "cli/command.hpp"

namespace knee::cli {
namespace {

int run_topology(const Args& args) {
  if (!args.positional().empty())
    throw InputError("knee topology: expected only flags, got '" + args.positional().front() + "'");
  auto t0 = std::chrono::steady_clock::now();
  Topology topo = topology_from_args(args);
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

std::vector<FlagSpec> topology_flags() {
  auto f = cluster_flags();
  f.push_back({"json", false, "print JSON instead of a table"});
  return f;
}

KNEE_COMMAND("topology", "build a cluster topology and print its size and bisection bandwidth",
             "(--system NAME|PATH --nodes N [--fabric F] | --file TOPO.json) [--json]", topology_flags(), run_topology);

}  // namespace
}  // namespace knee::cli
