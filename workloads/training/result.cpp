#include "workloads/training/result.hpp"

#include "workloads/training/groups.hpp"
#include "workloads/training/result_schema.hpp"

namespace knee {
using namespace workload;
using Json = nlohmann::ordered_json;

namespace {

Json breakdown_json(const SimResult& r) {
  const Breakdown& breakdown = r.breakdown;
  Json b;
  b["compute_s"] = breakdown.compute_s;
  b["forward_s"] = breakdown.forward_s;
  b["backward_s"] = breakdown.backward_s;
  b["exposed_comm_s"] = breakdown.exposed_comm_s();
  b["exposed_comm_by_group_s"] = {{"tp", breakdown.tp_s},
                                  {"pp", breakdown.pp_s},
                                  {"dp", breakdown.dp_s},
                                  {"cp", breakdown.cp_s},
                                  {"ep", breakdown.ep_s}};
  b["bubble_s"] = breakdown.bubble_s;
  b["optimizer_s"] = breakdown.optimizer_s;
  b["launch_gap_s"] = breakdown.launch_gap_s;
  b["sm_sharing_s"] = breakdown.sm_sharing_s;
  b["straggler_s"] = breakdown.straggler_s;
  b["critical_stage"] = r.critical_stage;
  return b;
}

Json memory_json(const MemoryReport& memory) {
  Json mj;
  mj["fits"] = memory.fits;
  mj["per_gpu_bytes"] = memory.per_gpu_bytes;
  mj["capacity_bytes"] = memory.capacity_bytes;
  mj["worst_stage"] = memory.worst_stage;
  mj["weights_bytes"] = memory.weights_bytes;
  mj["gradients_bytes"] = memory.gradients_bytes;
  mj["optimizer_bytes"] = memory.optimizer_bytes;
  mj["activations_bytes"] = memory.activations_bytes;
  mj["buffers_bytes"] = memory.buffers_bytes;
  mj["inflight_microbatches"] = memory.inflight_microbatches;
  return mj;
}

Json stragglers_json(const SimResult& r) {
  const StragglerReport& stragglers = r.stragglers;
  if (!stragglers.enabled) return nullptr;
  const double step_time_s = r.step_time_s;
  return Json({{"nominal_step_time_s", stragglers.nominal_step_time_s},
               {"slowdown", step_time_s / stragglers.nominal_step_time_s},
               {"slowest_gpu", stragglers.slowest_gpu},
               {"slowest_gpu_factor", stragglers.slowest_gpu_factor},
               {"slowest_stage", stragglers.slowest_stage},
               {"slowest_replica", stragglers.slowest_replica},
               {"replicas_simulated", stragglers.replicas},
               {"gpu_cv", stragglers.gpu_cv},
               {"gpu_cv_from", stragglers.gpu_cv_from},
               {"op_cv", stragglers.op_cv},
               {"op_cv_from", stragglers.op_cv_from},
               {"steps", stragglers.steps},
               {"step_time_s",
                {{"mean", step_time_s},
                 {"sd", stragglers.step_sd_s},
                 {"min", stragglers.step_min_s},
                 {"p5", stragglers.step_p5_s},
                 {"p50", stragglers.step_p50_s},
                 {"p95", stragglers.step_p95_s},
                 {"max", stragglers.step_max_s}}}});
}

// Null when the profile has no power model.
Json energy_json(const SimResult& r) {
  const EnergyReport& energy = r.energy;
  const CostSpec& cost_inputs = r.cost_inputs;
  if (!energy.available) return nullptr;
  Json e;
  e["gpu_J_per_step"] = energy.gpu_J_per_step;
  e["avg_power_per_gpu_W"] = energy.avg_power_per_gpu_W;
  e["facility_J_per_step"] = energy.facility_J_per_step;
  e["facility_J_per_token"] = energy.facility_J_per_token;
  e["pue"] = cost_inputs.pue;
  e["other_W_per_gpu"] = cost_inputs.other_W_per_gpu;
  e["power_model"] = energy.power_provenance;
  return e;
}

// Null unless a price was given or a whole run asked for.
Json cost_json(const SimResult& r) {
  const CostReport& cost = r.cost;
  const CostSpec& cost_inputs = r.cost_inputs;
  const EnergyReport& energy = r.energy;
  Json c = nullptr;
  if (cost.priced || cost.run) {
    c = Json::object();
    auto price = [](double v) { return v >= 0 ? Json(v) : Json(); };
    c["usd_per_gpu_hour"] = price(cost_inputs.usd_per_gpu_hour);
    c["usd_per_kWh"] = price(cost_inputs.usd_per_kWh);
    c["usd_per_step"] = cost.priced ? Json(cost.usd_per_step) : Json();
    c["usd_per_million_tokens"] = cost.priced ? Json(cost.usd_per_million_tokens) : Json();
    if (cost.run) {
      c["run"] = {{"train_tokens", cost_inputs.train_tokens},
                  {"steps", cost.run_steps},
                  {"days", cost.run_days},
                  {"gpu_hours", cost.run_gpu_hours},
                  {"facility_MWh", energy.available ? Json(cost.run_facility_MWh) : Json()},
                  {"usd", cost.priced ? Json(cost.run_usd) : Json()}};
    }
  }
  return c;
}

Json failures_json(const SimResult& r) {
  const FailureReport& failures = r.failures;
  if (!failures.enabled) return nullptr;
  const double tokens_per_s = r.tokens_per_s;
  return Json({{"system_mtbf_h", failures.system_mtbf_s / 3600},
               {"checkpoint_bytes", failures.checkpoint_bytes},
               {"checkpoint_write_s", failures.checkpoint_write_s},
               {"checkpoint_interval_s", failures.checkpoint_interval_s},
               {"interval", failures.interval_optimal ? "Daly's optimum" : "given"},
               {"goodput", failures.goodput},
               {"effective_tokens_per_s", tokens_per_s * failures.goodput}});
}

}  // namespace

// The top-level keys of `knee simulate --json`, in order: the one definition that the JSON, the
// fields of Python's knee.SimulationResult and the docs' table come from.
const std::vector<ResultField<SimResult>>& simulate_result_fields() {
  using F = ResultField<SimResult>;
  using R = const SimResult&;
  static const std::vector<F> fields = {
      {"simulated", "", "false only when memory does not fit and the run was not forced",
       [](R r) { return Json(r.simulated); }},
      {"step_time_s", "s", "simulated time of one training step", [](R r) { return Json(r.step_time_s); }},
      {"tokens_per_s", "tokens/s", "global batch x sequence length / step time",
       [](R r) { return Json(r.tokens_per_s); }},
      {"samples_per_s", "samples/s", "global batch / step time", [](R r) { return Json(r.samples_per_s); }},
      {"model_flops_per_step", "FLOP", "forward + backward, no recompute",
       [](R r) { return Json(r.model_flops_per_step); }},
      {"hardware_flops_per_step", "FLOP", "with recomputation, as Megatron counts TFLOP/s",
       [](R r) { return Json(r.hardware_flops_per_step); }},
      {"tflops_per_gpu", "TFLOP/s", "hardware FLOPs / (step time x GPUs)", [](R r) { return Json(r.tflops_per_gpu); }},
      {"mfu", "share", "model FLOPs / (step time x GPUs x datasheet peak)", [](R r) { return Json(r.mfu); }},
      {"memory_per_gpu_bytes", "bytes", "of the worst stage's GPU", [](R r) { return Json(r.memory.per_gpu_bytes); }},
      {"comm_to_compute", "ratio", "all communication time (hidden or not) / compute time",
       [](R r) { return Json(r.comm_to_compute); }},
      {"breakdown", "s",
       "the critical stage's step: compute_s, exposed_comm_s (and by group), bubble_s, optimizer_s, "
       "launch_gap_s, straggler_s, critical_stage",
       breakdown_json},
      {"comm_busy_s", "s", "per group (tp, pp, dp, cp, ep): communication time, hidden or not",
       [](R r) {
         return Json({{"tp", r.comm_total_s[kTP]},
                      {"pp", r.comm_total_s[kPP]},
                      {"dp", r.comm_total_s[kDP]},
                      {"cp", r.comm_total_s[kCP]},
                      {"ep", r.comm_total_s[kEP]}});
       }},
      {"memory", "bytes", "fits, per_gpu_bytes, capacity_bytes and the worst stage's components",
       [](R r) { return memory_json(r.memory); }},
      {"batch", "", "gpus, dp, global_batch, microbatches",
       [](R r) {
         return Json(
             {{"gpus", r.gpus}, {"dp", r.dp}, {"global_batch", r.global_batch}, {"microbatches", r.microbatches}});
       }},
      {"stragglers", "",
       "nominal_step_time_s, slowdown, the slowest GPU, stage and replica, the spread of step "
       "times; null without a straggler model",
       stragglers_json},
      {"energy", "",
       "gpu_J_per_step, avg_power_per_gpu_W, facility_J_per_step, facility_J_per_token, pue, "
       "other_W_per_gpu, power_model; null when the profile has no power model",
       energy_json},
      {"cost", "USD",
       "usd_per_gpu_hour, usd_per_kWh, usd_per_step, usd_per_million_tokens and run (with "
       "cost.train_tokens); null unless the scenario gives a price or train_tokens",
       cost_json},
      {"failures", "", "system_mtbf_h, checkpoints, goodput, effective_tokens_per_s; null without a failure model",
       failures_json},
      {"provenance", "", "profile, system, network, layout and contention factors the numbers rest on",
       [](R r) { return r.provenance; }},
      {"events", "", "discrete events simulated", [](R r) { return Json(r.events); }},
      {"comm_timings", "", "collectives simulated on the flow network (cached by group, op and bytes)",
       [](R r) { return Json(r.comm_timings); }},
      {"folded", "",
       "true: one representative per stage, collective timings cached; false: every rank on one network "
       "(every-rank mode)",
       [](R r) { return Json(r.folded); }},
      {"flows", "", "flows simulated on the step's one network (every-rank mode; 0 when folded)",
       [](R r) { return Json(r.flows); }},
      {"every_rank", "",
       "every-rank mode: units (TP groups in lockstep), collectives launched, the critical unit (stage, dp, cp, "
       "and slow_gpu: the slow GPU that set its pace, node, gpu, rank, factor, via tp or cp, null if none), "
       "why, what stays inside op costs; null when folded",
       [](R r) { return r.every_rank; }},
      {"intervals", "",
       "95% intervals [lo, hi] of the headline figures, at their places in this result, over profile draws, with "
       "their sources and what they exclude (docs/uncertainty.md); null without samples",
       [](R r) { return r.intervals; }},
  };
  return fields;
}

Json SimResult::to_json() const {
  Json j;
  for (const auto& f : simulate_result_fields()) j[f.key] = f.value(*this);
  return j;
}

}  // namespace knee
