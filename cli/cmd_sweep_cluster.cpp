// knee sweep on a cluster file with --placements (docs/workloads.md, "Jobs sharing a cluster"): the
// file simulated once per placement, every job placed by it; per placement and job the step alone
// and together and the slowdown. --json: {"placements": [{"placement", the cluster result's fields}]}.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "workloads/cluster/placement_sweep.hpp"

namespace knee::cli {

std::string node_ranges(const std::vector<std::int64_t>& n);  // cli/cmd_simulate_cluster.cpp

int run_sweep_cluster(const Args& args) {
  for (const char* f : {"gpus", "mode", "baseline", "threshold", "samples", "csv"})
    if (args.flag(f) || args.value(f))
      throw InputError(args.what(f) + ": expected none with a cluster file (" + args.positional()[0] +
                       " has \"jobs\"; its study is --placements)");
  const auto text = args.value("placements");
  if (!text)
    throw InputError(args.what("placements") +
                     ": expected a list such as packed,spread,random with a cluster file, "
                     "got nothing");
  const auto kinds = cluster::parse_placement_list(*text, args.what("placements"));
  const auto c = cluster::load_cluster_file(args.positional()[0]);
  const auto t0 = std::chrono::steady_clock::now();
  const auto points = cluster::sweep_placements(c, kinds);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.flag("json")) {
    auto j = cluster::to_json(points);
    j["scenario"] = args.positional()[0];
    j["simulated_wall_s"] = wall;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("# knee sweep %s --placements %s (every job placed alike; simulated every rank, not measured)\n",
              args.positional()[0].c_str(), text->c_str());
  std::printf("%-10s %-16s %-12s %12s %14s %9s %16s\n", "placement", "job", "nodes", "alone ms", "together ms",
              "slowdown", "alone uplink GB");
  for (const auto& p : points)
    for (const auto& j : p.result.jobs)
      std::printf("%-10s %-16s %-12s %12.3f %14.3f %8.3fx %16.3f\n", cluster::to_string(p.placement), j.name.c_str(),
                  node_ranges(j.nodes).c_str(), j.alone_step_time_s * 1e3, j.together_step_time_s * 1e3, j.slowdown,
                  j.alone_switch_link_bytes * 1e-9);
  std::printf("# %zu placements simulated in %.3f s wall\n", points.size(), wall);
  return 0;
}

}  // namespace knee::cli
