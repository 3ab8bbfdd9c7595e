// A cluster file's jobs alone and together (cluster_sim.hpp).
#include "workloads/cluster/cluster_sim.hpp"

#include <utility>

#include "profile/profile_origin.hpp"
#include "workloads/cluster/placement.hpp"

namespace knee::cluster {

ClusterResult simulate_cluster(const ClusterFile& c) {
  ClusterResult r;
  r.source = c.source;
  r.system = c.spec.system_name;
  r.nodes = c.spec.nodes;
  r.gpus = c.spec.gpus;
  FabricOptions fo = c.spec.fabric;
  fo.nodes = c.spec.nodes;
  if (c.spec.nodes == 1) fo.kind = FabricKind::single_node;
  r.fabric = to_string(fo.kind);
  r.oversubscription = fo.oversubscription;
  r.faults = c.faults;
  const auto placed = place_jobs(c);
  const Topology topo = build_topology(c.spec.system, fo);
  // "The job alone" is the job by itself on the same broken cluster: every run sees the faults.
  const ClusterFaults faults{c.faults, c.source};
  std::vector<JobOnCluster> all;
  for (std::size_t i = 0; i < c.jobs.size(); ++i)
    all.push_back({&c.jobs[i].scenario, gpu_map(placed[i], c.spec.system.gpus_per_node),
                   "job \"" + c.jobs[i].name + "\" (" + c.jobs[i].path + ")"});
  for (std::size_t i = 0; i < c.jobs.size(); ++i) {
    const JobSpec& j = c.jobs[i];
    const JobsRun alone = simulate_jobs({all[i]}, topo, faults);
    JobResult J;
    J.name = j.name;
    J.placement = describe(j.placement);
    J.nodes = placed[i];
    J.gpus = j.scenario.gpus;
    J.fits = alone.fits[0];
    J.alone_step_time_s = alone.step_time_s[0];
    J.alone_switch_link_bytes = alone.switch_link_bytes;
    if (!alone.links.empty()) J.alone_busiest_link = alone.links[0].from + " -> " + alone.links[0].to;
    const Profile prof = load_scenario_profile(j.scenario);
    J.profile = prof.name();
    J.profile_origin = profile_origin(prof);
    r.jobs.push_back(std::move(J));
  }
  const JobsRun together = simulate_jobs(all, topo, faults);
  for (std::size_t i = 0; i < c.jobs.size(); ++i) {
    r.jobs[i].together_step_time_s = together.step_time_s[i];
    r.jobs[i].slowdown = together.step_time_s[i] / r.jobs[i].alone_step_time_s;
  }
  for (std::size_t k = 0; k < std::min(kHotLinks, together.links.size()); ++k) {
    HotLink h;
    static_cast<LinkUse&>(h) = together.links[k];
    for (std::size_t i = 0; i < c.jobs.size(); ++i) h.bytes_by_job.emplace_back(c.jobs[i].name, h.job_bytes[i]);
    r.hot_links.push_back(std::move(h));
  }
  r.switch_link_bytes = together.switch_link_bytes;
  r.events = together.events;
  r.flows = together.flows;
  r.collectives = together.collectives;
  return r;
}

}  // namespace knee::cluster
