// Every-rank simulation of a training step (internal to workloads/training; docs/workloads.md,
// "Folding and its limits"): every pipeline replica's stages run their op lists as events on one
// engine and one flow network over the scenario's real topology. Every pipeline send is a set of
// flows between the real GPUs, every data-parallel group's bucket reductions and ZeRO gathers are
// collective schedules launched on one CollectiveExecutor when every member has them ready, and
// the tied-embedding all-reduce likewise: contention between them emerges from the links they
// share, no factor and no cached timing.
//
// The TP ranks of a (stage, dp, cp) index run in lockstep (exact: they run identical kernels and
// meet at every TP collective); TP, CP and EP collectives stay inside the op costs, timed as in
// folded mode (comm_timer.hpp), not on the shared network; SM sharing is not applied.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/collectives/executor.hpp"
#include "sim/network/flow_network.hpp"
#include "workloads/training/pipeline_sim.hpp"
#include "workloads/training/stage_plans.hpp"

namespace knee::workload {

// The pace of a unit with slow GPUs (simulation.slow_gpus; docs/workloads.md, "Slow GPUs"): its
// ops' kernels run `op` times as long (the slowest GPU of its TP group and of the CP units of its
// (stage, dp): they meet at every TP collective and every layer's CP exchange), its optimizer step
// `own` times (its own GPUs' slowest: no meeting after it). `slow`: the entry of slow_gpus that
// sets `op` (-1: none), `via_cp`: that GPU sits in another CP unit of the (stage, dp), not in this one.
struct UnitPace {
  double op = 1, own = 1;
  int slow = -1;
  bool via_cp = false;
};
// Per unit, (stage, dp, cp) in that order, through the ranks' GPUs (timer.rank: rank r on GPU r,
// server r / GPUs per node); empty without slow GPUs.
std::vector<UnitPace> unit_paces(const Scenario& s, const CommTimer& timer);

// Stragglers in every-rank mode (stragglers.hpp, apply_stragglers_every_rank), in place of the
// slow GPUs' paces: each op's kernels at `op`[dp / ep][stage][op index] (the slowest GPU of the
// unit's TP x CP x EP group, as folded stragglers), each unit's optimizer at `own`[unit].
struct EveryRankPaces {
  const std::vector<std::vector<std::vector<double>>>* op = nullptr;
  std::vector<double> own;  // per unit, (stage, dp, cp) in that order
};

struct EveryRankRun {
  std::vector<StageStats> stats;  // per unit (a TP group in lockstep): (stage, dp, cp) in that order
  std::vector<StageLog> logs;     // per unit: ops and sends (jobs are the stage's)
  std::uint64_t events = 0, flows = 0, collectives = 0;
  // The directed link busiest over the step: bytes it carried / its capacity (the hot link).
  std::uint32_t busiest_link = UINT32_MAX;
  double busiest_link_busy_s = 0, busiest_link_bytes = 0;
  int units_per_stage = 1;     // dp x cp
  std::vector<UnitPace> pace;  // per unit; empty without slow GPUs
};

// The engine, flow network and collective executor of an every-rank run, which the sims of
// several jobs on one cluster share (every_rank_jobs.hpp); one per run.
struct EveryRankNet {
  EveryRankNet(std::vector<DirectedLink> links, const Topology& topo)
      : net(engine, std::move(links)), ex(engine, net, topo) {}
  Engine engine;
  FlowNetwork net;
  CollectiveExecutor ex;
};

// `links` with the degraded links of `f` at their fraction of capacity, both directions;
// InputError naming `source` and `at` + ".degraded_links[i].between" when no link joins the two
// nodes (`at`: where the keys are, "$.simulation" in a scenario, "$.faults" in a cluster file).
std::vector<DirectedLink> degrade_links(const Faults& f, const std::string& source, const std::string& at,
                                        const Topology& topo, std::vector<DirectedLink> links);
// The scenario's (simulation.degraded_links).
std::vector<DirectedLink> degrade_links(const Scenario& s, const Topology& topo, std::vector<DirectedLink> links);

// A job whose parallel groups must stay connected: its scenario, its ranks' GPUs (`timer.rank`)
// and, in a cluster file, its name for messages ("job \"a\" ($.jobs[0])"; "" for a scenario).
struct GroupsOf {
  const Scenario* s = nullptr;
  const CommTimer* timer = nullptr;
  std::string job;
};

// A copy of `topo` with the failed links and NICs of `f` down, so that its routes avoid them
// (topology.hpp: shortest paths over the links left, a GPU without a way out relayed over NVLink
// through a peer's NIC). InputError naming `source` and the entry (`at` + ".failed_links[i]")
// when a name matches nothing, or when a tp, cp, dp or pp group of one of `jobs` can no longer
// reach one of its members: the field of the first failure after which it cannot, the job, the
// group's kind and ranks.
Topology with_failures(const Faults& f, const std::string& source, const std::string& at, const Topology& topo,
                       const std::vector<GroupsOf>& jobs);
// The scenario's (simulation.failed_links, failed_nics), its groups through `timer`.
Topology with_failures(const Scenario& s, const Topology& topo, const CommTimer& timer);

// The unit that ended the run: the first of those that finish last.
std::size_t critical_unit(const EveryRankRun& run);

// free_pp: pipeline sends arrive the instant they are sent (for the bubble split); `paces`:
// stragglers' paces (null: the slow GPUs' unit_paces, if any).
EveryRankRun run_every_rank(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const Topology& topo,
                            bool free_pp, const EveryRankPaces* paces = nullptr);

}  // namespace knee::workload
