// One training step (docs/workloads.md): the stages' plans derived from the scenario, the
// pipeline run as events with every kind of traffic timed on the flow network (and their
// contention), the critical stage's breakdown, stragglers, energy and cost, and the timeline.
#include <algorithm>
#include <memory>
#include <string>

#include "common/error.hpp"
#include "profile/profile_origin.hpp"
#include "workloads/training/contention.hpp"
#include "workloads/training/energy_cost.hpp"
#include "workloads/training/every_rank_step.hpp"
#include "workloads/training/memory_model.hpp"
#include "workloads/training/params.hpp"
#include "workloads/training/prediction_intervals.hpp"
#include "workloads/training/sm_sharing.hpp"
#include "workloads/training/stage_plans.hpp"
#include "workloads/training/step_breakdown.hpp"
#include "workloads/training/step_timeline.hpp"
#include "workloads/training/stragglers.hpp"
#include "workloads/training/training.hpp"

namespace knee {
using namespace workload;

namespace {

// The critical stage (the one that finishes last) and where its time went. Bubble: of each wait
// for an op's input, the part that remains when transfers are free (the same schedule re-run with
// zero-time sends, kept in *free_sim); the rest is exposed pipeline communication.
int fill_breakdown(const StepPlan& plan, const PipelineRun& run, std::unique_ptr<PipelineSim>* free_sim, SimResult& r) {
  const int pp = plan.pp, v = plan.v, m = plan.m;
  const auto& ops = plan.ops;
  const auto& plans = plan.stages;
  const double p2p_s = plan.p2p_s;
  int crit = 0;
  for (int i = 1; i < pp; ++i)
    if (run.stats[static_cast<std::size_t>(i)].end_s > run.stats[static_cast<std::size_t>(crit)].end_s) crit = i;
  const StageStats& X = run.stats[static_cast<std::size_t>(crit)];
  const StageLog& XL = run.sim->logs()[static_cast<std::size_t>(crit)];
  double idle = X.end_s - X.busy_s - X.dp_exposed_s - plans[static_cast<std::size_t>(crit)].optimizer_s;
  const StageLog* YL = nullptr;
  if (pp > 1 && p2p_s > 0) {
    *free_sim = std::make_unique<PipelineSim>(ops, plans, pp, v, m,
                                              std::vector<TimePs>(static_cast<std::size_t>(pp), 0), run.dp_scale);
    if (!run.op_scale.empty()) (*free_sim)->set_op_scale(&run.op_scale);
    (*free_sim)->run(&r.events);
    YL = &(*free_sim)->logs()[static_cast<std::size_t>(crit)];
  }
  r.simulated = true;
  r.critical_stage = crit;
  fill_step_breakdown(X, pipeline_bubble_s(XL, YL, idle, X.partner_wait_s), idle,
                      plans[static_cast<std::size_t>(crit)].optimizer_s, r);
  return crit;
}

}  // namespace

namespace {
SimResult simulate_step(const Scenario& s, const SimOptions& opt) {
  validate_scenario(s);
  // Degraded or failed links, failed NICs and slow GPUs break the symmetry folding needs: such a
  // scenario runs every rank by itself.
  const bool asymmetric = s.simulation.asymmetric();
  const bool every_rank = s.simulation.every_rank || opt.every_rank || asymmetric;
  if (every_rank) check_every_rank(s, opt);
  SimResult r;
  r.folded = !every_rank;
  r.gpus = s.gpus;
  r.dp = s.par.dp;
  r.global_batch = s.par.global_batch;
  r.microbatches = s.microbatches();
  const Profile prof = load_scenario_profile(s);
  r.memory = memory_model(s);
  r.memory.capacity_bytes = prof.hbm_capacity_bytes();
  r.memory.fits = r.memory.per_gpu_bytes <= r.memory.capacity_bytes;
  r.model_flops_per_step = step_flops(s, false);
  r.hardware_flops_per_step = step_flops(s, true);

  r.provenance["profile"] = prof.name();
  r.provenance["profile_gpu"] = prof.gpu();
  r.provenance["profile_description"] = prof.description();
  // "edited" when the parameters no longer match the digest knee fit wrote (docs/calibration.md).
  r.provenance["profile_parameters"] = prof.parameters_state();
  if (!prof.derivation_datasheet().empty()) r.provenance["profile_datasheet"] = prof.derivation_datasheet();
  r.provenance["profile_origin"] = profile_origin(prof);  // how its numbers were made (fitted, derived, edited)
  r.provenance["peak_tflops_datasheet"] = prof.peak_tflops(s.model.dtype);
  r.provenance["system"] = s.system.name;
  r.provenance["placement"] = [&] {
    std::string o;
    for (const auto& g : s.placement) o += (o.empty() ? "" : "-") + g;
    return o;
  }();
  if (!r.memory.fits && !opt.simulate_if_not_fits) return r;

  FabricOptions fo = s.fabric;
  fo.nodes = s.nodes;
  if (s.nodes == 1) fo.kind = FabricKind::single_node;
  const Topology topo = build_topology(s.system, fo);
  const NcclParams P = nccl_params_for_gpu(s.system.gpu_model);
  r.provenance["nccl_params"] = P.provenance;
  r.provenance["fabric"] = to_string(fo.kind);
  r.provenance["oversubscription"] = fo.oversubscription;
  CommTimer timer(s, topo, P);
  // Throughput, MFU, energy and cost from the step time (either mode).
  auto rates = [&](const StepPlan& plan) {
    const double tokens = double(s.par.global_batch) * s.model.seq_len;
    r.tokens_per_s = tokens / r.step_time_s;
    r.samples_per_s = double(s.par.global_batch) / r.step_time_s;
    r.tflops_per_gpu = r.hardware_flops_per_step / r.step_time_s / double(s.gpus) * 1e-12;
    r.mfu = r.model_flops_per_step / (r.step_time_s * double(s.gpus) * prof.peak_tflops(s.model.dtype) * 1e12);
    r.comm_timings = timer.timings();
    energy_and_cost(s, prof, plan.ops, plan.stages, r);
  };
  r.provenance["simulation"] = every_rank ? "every_rank" : "folded";
  if (every_rank) {
    const StepPlan plan = plan_step(s, prof, timer, opt.trace != nullptr);
    every_rank_step(s, plan, timer, topo, P, opt, r);
    // Stragglers: the same draws as folded mode, one every-rank run per simulated step.
    if (s.stragglers.enabled()) apply_stragglers_every_rank(s, prof, timer, plan, topo, r);
    std::string broken;  // what breaks the symmetry, in the scenario's order of keys
    for (const auto& [on, what] : {std::pair{!s.simulation.degraded_links.empty(), "degraded links"},
                                   std::pair{!s.simulation.failed_links.empty(), "failed links"},
                                   std::pair{!s.simulation.failed_nics.empty(), "failed NICs"},
                                   std::pair{!s.simulation.slow_gpus.empty(), "slow GPUs"}})
      if (on) broken += (broken.empty() ? "" : " and ") + std::string(what);
    r.every_rank["why"] = s.simulation.every_rank || opt.every_rank
                              ? "asked"
                              : broken + " break the symmetry folding needs (run by itself)";
    // Where the two modes differ, by how much: the folded step of the same scenario (nominal
    // links, SM sharing included), milliseconds beside the every-rank run.
    Scenario folded = s;
    folded.simulation = SimulationSpec{};
    SimOptions fo;
    fo.simulate_if_not_fits = true;
    const SimResult f = simulate(folded, fo);
    r.every_rank["folded_step_time_s"] = f.step_time_s;
    r.every_rank["vs_folded"] = r.step_time_s / f.step_time_s - 1;
    rates(plan);
    return r;
  }
  const bool tracing = opt.trace != nullptr;
  const StepPlan plan = plan_step(s, prof, timer, tracing);
  PipelineRun run = run_with_contention(plan, timer, s.ablate, &r.events);
  if (!s.ablate.no_sm_sharing) apply_sm_sharing(s, prof, plan, timer, run, &r.events);
  {
    const CommInterference ci = prof.comm_interference();
    r.provenance["sm_sharing"] = {{"sm_count", ci.sm_count},
                                  {"held_sm_cost", ci.held_sm_cost},
                                  {"hbm_share_cost", ci.hbm_share_cost},
                                  {"provenance", ci.provenance},
                                  {"applied", !s.ablate.no_sm_sharing}};
  }
  r.provenance["contention"] = {{"dp_with_other_stages_dp", run.contention.dp_dp},
                                {"dp_with_pp", run.contention.dp_pp},
                                {"pp_with_dp", run.contention.pp_dp}};
  std::unique_ptr<PipelineSim> free_sim;
  const int crit = fill_breakdown(plan, run, &free_sim, r);
  if (s.stragglers.enabled()) apply_stragglers(s, prof, timer, plan, run, r);
  rates(plan);
  if (tracing)
    write_step_timeline(s, plan, timer, run.sim->logs(), free_sim ? free_sim->logs() : run.sim->logs(), crit,
                        run.op_scale.empty() ? nullptr : &run.op_scale, opt, r);
  return r;
}

}  // namespace

SimResult simulate(const Scenario& s, const SimOptions& opt) {
  if (opt.interval_seeds_only && opt.interval_samples != 0 && !s.stragglers.enabled())
    throw InputError(s.source +
                     ": $.stragglers: expected a straggler model when only seeds vary (a step's only "
                     "stochastic part), got none");
  SimResult r = simulate_step(s, opt);
  if (opt.interval_samples != 0 && r.simulated)
    r.intervals =
        prediction_intervals(
            s, opt, r, {opt.interval_samples, opt.interval_seeds_only ? DrawSources{false, false} : DrawSources{}})
            .to_json();
  return r;
}

}  // namespace knee
