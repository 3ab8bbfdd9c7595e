// knee simulate on a cluster file (one with a "jobs" key, docs/scenarios.md "Cluster files"): every
// job alone and all together on one network, per job its step times and slowdown, and the shared
// run's hot links; --json gives the result's fields (workloads/cluster/cluster_result_schema.hpp).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "workloads/cluster/cluster_result_schema.hpp"
#include "workloads/cluster/cluster_sim.hpp"

namespace knee::cli {

// "0-1,4" of a node list (also cli/cmd_sweep_cluster.cpp's).
std::string node_ranges(const std::vector<std::int64_t>& n) {
  std::string o;
  for (std::size_t i = 0; i < n.size();) {
    std::size_t k = i;
    while (k + 1 < n.size() && n[k + 1] == n[k] + 1) ++k;
    o += (o.empty() ? "" : ",") + std::to_string(n[i]) + (k > i ? "-" + std::to_string(n[k]) : "");
    i = k + 1;
  }
  return o;
}

namespace {

// "s0.nic0 - rail0.leaf0 at 0.5 of its bandwidth, link rail0.leaf0 - spine1 failed, NIC s1.nic3 failed".
std::string describe_faults(const Faults& f) {
  std::string o;
  char x[32];
  for (const auto& d : f.degraded_links) {
    std::snprintf(x, sizeof x, "%g", d.factor);
    o += (o.empty() ? "" : ", ") + d.a + " - " + d.b + " at " + x + " of its bandwidth";
  }
  for (const auto& l : f.failed_links)
    o += (o.empty() ? "" : ", ") + std::string("link ") + l.a + " - " + l.b + " failed";
  for (const auto& n : f.failed_nics)
    o += (o.empty() ? "" : ", ") + std::string("NIC s") + std::to_string(n.node) + ".nic" + std::to_string(n.gpu) +
         " failed";
  return o;
}

void print_cluster(const cluster::ClusterResult& r, double wall) {
  std::printf("# cluster %s: %s, %lld nodes (%lld GPUs), %s, oversubscription %g\n", r.source.c_str(), r.system.c_str(),
              static_cast<long long>(r.nodes), static_cast<long long>(r.gpus), r.fabric.c_str(), r.oversubscription);
  std::printf("# every rank of every job on one network, each job also alone (simulated, every-rank mode)\n");
  if (r.faults.any())
    std::printf("# faults, for every job alone and together: %s\n", describe_faults(r.faults).c_str());
  std::printf("%-16s %-18s %-12s %6s %12s %14s %9s\n", "job", "placement", "nodes", "GPUs", "alone ms", "together ms",
              "slowdown");
  for (const auto& j : r.jobs)
    std::printf("%-16s %-18s %-12s %6lld %12.3f %14.3f %8.3fx%s\n", j.name.c_str(), j.placement.c_str(),
                node_ranges(j.nodes).c_str(), static_cast<long long>(j.gpus), j.alone_step_time_s * 1e3,
                j.together_step_time_s * 1e3, j.slowdown, j.fits ? "" : "  (memory does not fit)");
  std::printf("hot links of the shared run (busiest first; busy = bytes / capacity):\n");
  for (const auto& l : r.hot_links) {
    std::string by;
    for (const auto& [name, b] : l.bytes_by_job)
      if (b > 0) {
        char gb[32];
        std::snprintf(gb, sizeof gb, " %.3f GB", b * 1e-9);
        by += (by.empty() ? "" : ", ") + name + gb;
      }
    std::printf("  %-22s -> %-22s %10.3f GB %10.3f ms busy %8.1f GB/s%s\n", l.from.c_str(), l.to.c_str(),
                l.bytes * 1e-9, l.busy_s * 1e3, l.capacity_Bps * 1e-9,
                l.between_switches ? "  (between switches)" : "");
    if (!by.empty()) std::printf("    by job: %s\n", by.c_str());
  }
  std::printf("# bytes between switches (uplinks, spines) in the shared run: %.3f GB\n", r.switch_link_bytes * 1e-9);
  std::printf("# simulated in %.3f s wall (shared run: %llu events, %llu flows)\n", wall,
              static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.flows));
}

}  // namespace

int run_simulate_cluster(const Args& args) {
  for (const char* f : {"force", "trace", "trace-ranks", "trace-max-events", "every-rank", "samples"})
    if (args.flag(f) || args.value(f))
      throw InputError(args.what(f) + ": expected none with a cluster file (" + args.positional()[0] +
                       " has \"jobs\"; every job runs every rank)");
  const auto c = cluster::load_cluster_file(args.positional()[0]);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = cluster::simulate_cluster(c);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.flag("json")) {
    auto j = cluster::to_json(r);
    j["scenario"] = args.positional()[0];
    j["simulated_wall_s"] = wall;
    std::cout << j.dump(2) << "\n";
  } else {
    print_cluster(r, wall);
  }
  return 0;
}

}  // namespace knee::cli
