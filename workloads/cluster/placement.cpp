// Placement of a cluster file's jobs on its nodes (placement.hpp).
#include "workloads/cluster/placement.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"
#include "common/random.hpp"

namespace knee::cluster {

std::vector<std::vector<std::int64_t>> place_jobs(const ClusterFile& c) {
  const std::int64_t N = c.spec.nodes;
  std::int64_t need = 0;
  std::string each;
  for (const JobSpec& j : c.jobs) {
    need += j.scenario.nodes;
    each += (each.empty() ? "" : ", ") + j.name + " " + std::to_string(j.scenario.nodes);
  }
  if (need > N)
    throw_input_error(c.source, "$.jobs", "jobs needing at most the cluster's " + std::to_string(N) + " nodes",
                      std::to_string(need) + " nodes (" + each + ")");
  std::vector<int> owner(static_cast<std::size_t>(N), -1);
  std::vector<std::vector<std::int64_t>> out(c.jobs.size());
  for (std::size_t i = 0; i < c.jobs.size(); ++i) {
    const JobSpec& j = c.jobs[i];
    if (j.placement.kind != PlacementKind::nodes) continue;
    const std::string at = j.path + ".placement.nodes";
    for (const auto& [a, b] : j.placement.ranges)
      for (std::int64_t n = a; n <= b; ++n) {
        int& o = owner[static_cast<std::size_t>(n)];
        if (o >= 0)
          throw_input_error(
              c.source, at, "nodes no other placement holds",
              "node " + std::to_string(n) + ", also held by " +
                  (o == static_cast<int>(i) ? std::string("this job")
                                            : "job \"" + c.jobs[static_cast<std::size_t>(o)].name + "\""));
        o = static_cast<int>(i);
        out[i].push_back(n);
      }
    if (static_cast<std::int64_t>(out[i].size()) != j.scenario.nodes)
      throw_input_error(c.source, at,
                        std::to_string(j.scenario.nodes) + " nodes (the job's tp x pp x dp x cp / GPUs per node)",
                        std::to_string(out[i].size()) + " nodes");
  }
  for (std::size_t i = 0; i < c.jobs.size(); ++i) {
    const JobSpec& j = c.jobs[i];
    if (j.placement.kind == PlacementKind::nodes) continue;
    std::vector<std::int64_t> free;
    for (std::int64_t n = 0; n < N; ++n)
      if (owner[static_cast<std::size_t>(n)] < 0) free.push_back(n);
    const std::size_t n = static_cast<std::size_t>(j.scenario.nodes), F = free.size();
    std::vector<std::int64_t>& got = out[i];
    switch (j.placement.kind) {
      case PlacementKind::packed:
        got.assign(free.begin(), free.begin() + static_cast<std::ptrdiff_t>(n));
        break;
      case PlacementKind::spread:
        for (std::size_t k = 0; k < n; ++k) got.push_back(free[k * F / n]);
        break;
      case PlacementKind::random: {
        Random rng(j.placement.seed);
        for (std::size_t k = F; k > 1; --k) std::swap(free[k - 1], free[rng.next() % k]);  // Fisher-Yates
        got.assign(free.begin(), free.begin() + static_cast<std::ptrdiff_t>(n));
        std::sort(got.begin(), got.end());
        break;
      }
      case PlacementKind::nodes:
        break;
    }
    for (std::int64_t x : got) owner[static_cast<std::size_t>(x)] = static_cast<int>(i);
  }
  return out;
}

std::vector<std::uint32_t> gpu_map(const std::vector<std::int64_t>& nodes, std::int64_t gpus_per_node) {
  std::vector<std::uint32_t> g;
  for (std::int64_t n : nodes)
    for (std::int64_t k = 0; k < gpus_per_node; ++k) g.push_back(static_cast<std::uint32_t>(n * gpus_per_node + k));
  return g;
}

}  // namespace knee::cluster
