#include "workloads/training/every_rank_step.hpp"

#include <algorithm>
#include <future>

#include "common/error.hpp"
#include "workloads/training/every_rank_sim.hpp"
#include "workloads/training/step_breakdown.hpp"
#include "workloads/training/step_timeline.hpp"

namespace knee::workload {

void check_every_rank(const Scenario& s, const SimOptions& opt) {
  // Stragglers (with or without slow GPUs) run every rank too: apply_stragglers_every_rank.
  if (opt.trace && s.stragglers.enabled())
    throw_input_error(s.source, "$.stragglers",
                      "no stragglers with a timeline in every-rank mode (the timeline would show one step, not "
                      "their mean)",
                      "a straggler model");
}

namespace {

// The hot link of the step: from, to, seconds of transfer at full capacity, bytes.
nlohmann::ordered_json busiest_link_json(const Topology& topo, const EveryRankRun& run) {
  if (run.busiest_link == UINT32_MAX) return nullptr;
  const Link& k = topo.link(run.busiest_link / 2);
  const bool ab = run.busiest_link % 2 == 0;
  return {{"from", topo.name(ab ? k.a : k.b)},
          {"to", topo.name(ab ? k.b : k.a)},
          {"busy_s", run.busiest_link_busy_s},
          {"bytes", run.busiest_link_bytes}};
}

// The slow GPU that set the critical unit's pace (simulation.slow_gpus), null when none did:
// server, GPU, its factor, and "tp" (one of the unit's own GPUs) or "cp" (a GPU of another CP unit
// of the same (stage, dp), met at every layer's CP exchange).
nlohmann::ordered_json slow_gpu_json(const Scenario& s, const UnitPace& pace) {
  if (pace.slow < 0) return nullptr;
  const auto& g = s.simulation.slow_gpus[static_cast<std::size_t>(pace.slow)];
  return {{"node", g.node},
          {"gpu", g.gpu},
          {"rank", g.node * s.system.gpus_per_node + g.gpu},
          {"factor", g.factor},
          {"via", pace.via_cp ? "cp" : "tp"}};
}

}  // namespace

void every_rank_step(const Scenario& s, const StepPlan& plan, const CommTimer& timer, const Topology& topo,
                     const NcclParams& P, const SimOptions& opt, SimResult& r) {
  // The run with free pipeline sends (for the bubble split) is independent of the real one: on a
  // second thread, with its own copy of the topology (routing may fill caches) and a timer
  // over it; the plan and the scenario are only read.
  // Failed links and NICs: the network's routes avoid them (a copy of the topology with them
  // down); collectives keep what the timer chose on the nominal fabric.
  const bool broken = s.simulation.has_failures();
  const Topology failed = broken ? with_failures(s, topo, timer) : Topology();
  const Topology& net_topo = broken ? failed : topo;
  std::future<EveryRankRun> free_run;
  if (plan.pp > 1)
    free_run = std::async(std::launch::async, [&] {
      const Topology topo2 = topo, net2 = broken ? net_topo : Topology();
      const CommTimer timer2(s, topo2, P);
      return run_every_rank(s, plan, timer2, broken ? net2 : topo2, true);
    });
  const EveryRankRun run = run_every_rank(s, plan, timer, net_topo, false);
  const std::size_t crit = critical_unit(run);
  const StageStats& X = run.stats[crit];
  const StageLog& XL = run.logs[crit];
  const int stage = static_cast<int>(crit / static_cast<std::size_t>(run.units_per_stage));
  const int rep = static_cast<int>(crit % static_cast<std::size_t>(run.units_per_stage));
  const UnitPace pace = run.pace.empty() ? UnitPace{} : run.pace[crit];
  const double opt_s = plan.stages[static_cast<std::size_t>(stage)].optimizer_s * pace.own;
  const double idle = X.end_s - X.busy_s - X.dp_exposed_s - opt_s;
  std::uint64_t events = run.events, flows = run.flows;
  EveryRankRun free;
  const StageLog* YL = nullptr;
  if (plan.pp > 1) {  // bubble: of each input wait, what remains with pipeline sends free
    free = free_run.get();
    events += free.events;
    flows += free.flows;
    YL = &free.logs[crit];
  }
  r.simulated = true;
  r.folded = false;
  r.critical_stage = stage;
  fill_step_breakdown(X, pipeline_bubble_s(XL, YL, idle, X.partner_wait_s), idle, opt_s, r);
  r.events += events;
  r.flows = flows;
  r.every_rank = {
      {"units", run.stats.size()},
      {"unit", "the tp GPUs of one (stage, dp, cp) index, in lockstep"},
      {"collectives_launched", run.collectives},
      {"critical_unit",
       {{"stage", stage}, {"dp", rep / s.par.cp}, {"cp", rep % s.par.cp}, {"slow_gpu", slow_gpu_json(s, pace)}}},
      {"busiest_link", busiest_link_json(topo, run)},
      {"on_network", "pipeline sends, data-parallel gradient reductions and ZeRO gathers, tied-embedding all-reduce"},
      {"in_op_costs", "tp, cp and ep collectives, timed as folded (one group per size)"},
      {"not_modelled", "sm_sharing"},
  };
  if (opt.trace)
    write_every_rank_timeline(s, plan, timer, UnitLogs{run.logs, free.logs, run.units_per_stage}, stage, opt, r);
}

}  // namespace knee::workload
