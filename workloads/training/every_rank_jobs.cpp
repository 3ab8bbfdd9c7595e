// Several jobs' every-rank steps on one engine and one flow network (every_rank_jobs.hpp): each
// job's plan and timer built as `knee simulate --every-rank` builds them, over the cluster's
// topology with the job's GPU map; one EveryRankSim per job, all on one EveryRankNet.
#include "workloads/training/every_rank_jobs.hpp"

#include <algorithm>
#include <memory>
#include <numeric>

#include "common/error.hpp"
#include "workloads/training/every_rank_sim.hpp"
#include "workloads/training/every_rank_step.hpp"
#include "workloads/training/every_rank_units.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/training.hpp"

namespace knee {
using namespace workload;

namespace {

// What one job needs alive while the engine runs.
struct JobState {
  Profile prof;
  NcclParams P;
  std::unique_ptr<CommTimer> timer;
  std::unique_ptr<StepPlan> plan;
  std::unique_ptr<every_rank_detail::EveryRankSim> sim;
};

}  // namespace

JobsRun simulate_jobs(const std::vector<JobOnCluster>& jobs, const Topology& cluster, const ClusterFaults& faults) {
  JobsRun out;
  if (jobs.empty()) return out;
  std::vector<JobState> st;
  st.reserve(jobs.size());
  for (const JobOnCluster& j : jobs) {
    const Scenario& s = *j.scenario;
    validate_scenario(s);
    check_every_rank(s, SimOptions{});
    if (s.stragglers.enabled())
      throw_input_error(s.source, "$.stragglers", "none in a job of a cluster file (not simulated there yet)",
                        "a straggler model");
    // A cable is broken for every job on the cluster: the cluster file says so, once.
    if (!s.simulation.degraded_links.empty())
      throw_input_error(s.source, "$.simulation.degraded_links",
                        "none in a job of a cluster file (put them in the cluster file's \"faults\")",
                        std::to_string(s.simulation.degraded_links.size()) + " entries");
    if (!s.simulation.slow_gpus.empty())
      throw_input_error(s.source, "$.simulation.slow_gpus", "none in a job of a cluster file (not simulated there yet)",
                        std::to_string(s.simulation.slow_gpus.size()) + " entries");
    if (s.simulation.has_failures())
      throw_input_error(
          s.source, s.simulation.failed_links.empty() ? "$.simulation.failed_nics" : "$.simulation.failed_links",
          "none in a job of a cluster file (put them in the cluster file's \"faults\")",
          std::to_string(s.simulation.failed_links.size() + s.simulation.failed_nics.size()) + " entries");
    if (j.gpus.size() != static_cast<std::size_t>(s.gpus))
      throw std::logic_error("simulate_jobs: a GPU map of " + std::to_string(j.gpus.size()) + " GPUs for " +
                             std::to_string(s.gpus) + " ranks");
    st.push_back({load_scenario_profile(s), nccl_params_for_gpu(s.system.gpu_model), nullptr, nullptr, nullptr});
    JobState& J = st.back();
    J.timer = std::make_unique<CommTimer>(s, cluster, J.P);
    J.timer->set_gpu_map(j.gpus);
    J.plan = std::make_unique<StepPlan>(plan_step(s, J.prof, *J.timer, false));
    const MemoryReport m = memory_model(s);
    out.fits.push_back(m.per_gpu_bytes <= J.prof.hbm_capacity_bytes());
  }
  // The cluster's faults as every-rank mode applies a scenario's: degraded links on the network's
  // capacities, failed parts down in the topology its routes use (collectives keep what each
  // job's timer chose on the nominal fabric).
  const Faults& F = faults.faults;
  const bool broken = F.has_failures();
  std::vector<GroupsOf> groups;
  for (std::size_t i = 0; i < jobs.size(); ++i) groups.push_back({jobs[i].scenario, st[i].timer.get(), jobs[i].name});
  const Topology failed = broken ? with_failures(F, faults.source, "$.faults", cluster, groups) : Topology();
  EveryRankNet shared(degrade_links(F, faults.source, "$.faults", cluster, st.front().timer->links()),
                      broken ? failed : cluster);
  for (std::size_t i = 0; i < jobs.size(); ++i)
    st[i].sim =
        std::make_unique<every_rank_detail::EveryRankSim>(shared, *jobs[i].scenario, *st[i].plan, *st[i].timer, false);
  for (std::size_t i = 0; i < st.size(); ++i) st[i].sim->set_account(static_cast<std::uint32_t>(i));
  for (JobState& J : st) J.sim->start();
  shared.engine.run();
  for (JobState& J : st) {
    const EveryRankRun run = J.sim->collect();
    double end = 0;
    for (const StageStats& X : run.stats) end = std::max(end, X.end_s);
    out.step_time_s.push_back(end);
    out.collectives += run.collectives;
  }
  out.events = shared.engine.events_processed();
  out.flows = shared.net.flows_completed();
  const FlowNetwork& net = shared.net;
  std::vector<std::uint32_t> used;
  for (std::uint32_t l = 0; l < net.num_links(); ++l)
    if (net.link_bytes(l) > 0) used.push_back(l);
  auto busy = [&](std::uint32_t l) { return net.link_bytes(l) / net.link_capacity_Bps(l); };
  std::stable_sort(used.begin(), used.end(), [&](std::uint32_t a, std::uint32_t b) { return busy(a) > busy(b); });
  for (std::uint32_t l : used) {
    const Link& k = cluster.link(l / 2);
    const bool ab = l % 2 == 0;
    const std::uint32_t from = ab ? k.a : k.b, to = ab ? k.b : k.a;
    LinkUse u{cluster.name(from),       cluster.name(to),
              net.link_bytes(l),        busy(l),
              net.link_capacity_Bps(l), cluster.kind(from) == NodeKind::sw && cluster.kind(to) == NodeKind::sw};
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      const std::vector<double>& b = shared.ex.account_link_bytes(static_cast<std::uint32_t>(i));
      u.job_bytes.push_back(l < b.size() ? b[l] : 0.0);
    }
    if (u.between_switches) out.switch_link_bytes += u.bytes;
    out.links.push_back(std::move(u));
  }
  return out;
}

}  // namespace knee
