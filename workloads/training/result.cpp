#include "workloads/training/result.hpp"

#include "workloads/training/groups.hpp"

namespace knee {
using namespace workload;

nlohmann::ordered_json SimResult::to_json() const {
  nlohmann::ordered_json j;
  j["simulated"] = simulated;
  j["step_time_s"] = step_time_s;
  j["tokens_per_s"] = tokens_per_s;
  j["samples_per_s"] = samples_per_s;
  j["model_flops_per_step"] = model_flops_per_step;
  j["hardware_flops_per_step"] = hardware_flops_per_step;
  j["tflops_per_gpu"] = tflops_per_gpu;
  j["mfu"] = mfu;
  j["memory_per_gpu_bytes"] = memory.per_gpu_bytes;
  j["comm_to_compute"] = comm_to_compute;
  nlohmann::ordered_json b;
  b["compute_s"] = breakdown.compute_s;
  b["exposed_comm_s"] = breakdown.exposed_comm_s();
  b["exposed_comm_by_group_s"] = {{"tp", breakdown.tp_s}, {"pp", breakdown.pp_s}, {"dp", breakdown.dp_s},
                                  {"cp", breakdown.cp_s}, {"ep", breakdown.ep_s}};
  b["bubble_s"] = breakdown.bubble_s;
  b["optimizer_s"] = breakdown.optimizer_s;
  b["launch_gap_s"] = breakdown.launch_gap_s;
  b["straggler_s"] = breakdown.straggler_s;
  b["critical_stage"] = critical_stage;
  j["breakdown"] = b;
  j["comm_busy_s"] = {{"tp", comm_total_s[kTP]}, {"pp", comm_total_s[kPP]}, {"dp", comm_total_s[kDP]},
                      {"cp", comm_total_s[kCP]}, {"ep", comm_total_s[kEP]}};
  nlohmann::ordered_json mj;
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
  j["memory"] = mj;
  j["batch"] = {{"gpus", gpus}, {"dp", dp}, {"global_batch", global_batch}, {"microbatches", microbatches}};
  if (stragglers.enabled) {
    j["stragglers"] = {{"nominal_step_time_s", stragglers.nominal_step_time_s},
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
                       {"step_time_s", {{"mean", step_time_s}, {"sd", stragglers.step_sd_s},
                                        {"min", stragglers.step_min_s}, {"p5", stragglers.step_p5_s},
                                        {"p50", stragglers.step_p50_s}, {"p95", stragglers.step_p95_s},
                                        {"max", stragglers.step_max_s}}}};
  } else {
    j["stragglers"] = nullptr;
  }
  // Energy and cost: null when the profile has no power model (energy) or no price was given (cost).
  if (energy.available) {
    nlohmann::ordered_json e;
    e["gpu_J_per_step"] = energy.gpu_J_per_step;
    e["avg_power_per_gpu_W"] = energy.avg_power_per_gpu_W;
    e["facility_J_per_step"] = energy.facility_J_per_step;
    e["facility_J_per_token"] = energy.facility_J_per_token;
    e["pue"] = cost_inputs.pue;
    e["other_W_per_gpu"] = cost_inputs.other_W_per_gpu;
    e["power_model"] = energy.power_provenance;
    j["energy"] = e;
  } else {
    j["energy"] = nullptr;
  }
  nlohmann::ordered_json c = nullptr;
  if (cost.priced || cost.run) {
    c = nlohmann::ordered_json::object();
    auto price = [](double v) { return v >= 0 ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
    c["usd_per_gpu_hour"] = price(cost_inputs.usd_per_gpu_hour);
    c["usd_per_kWh"] = price(cost_inputs.usd_per_kWh);
    c["usd_per_step"] = cost.priced ? nlohmann::ordered_json(cost.usd_per_step) : nlohmann::ordered_json();
    c["usd_per_million_tokens"] =
        cost.priced ? nlohmann::ordered_json(cost.usd_per_million_tokens) : nlohmann::ordered_json();
    if (cost.run) {
      c["run"] = {{"train_tokens", cost_inputs.train_tokens}, {"steps", cost.run_steps}, {"days", cost.run_days},
                  {"gpu_hours", cost.run_gpu_hours},
                  {"facility_MWh", energy.available ? nlohmann::ordered_json(cost.run_facility_MWh) : nlohmann::ordered_json()},
                  {"usd", cost.priced ? nlohmann::ordered_json(cost.run_usd) : nlohmann::ordered_json()}};
    }
  }
  j["cost"] = c;
  if (failures.enabled) {
    j["failures"] = {{"system_mtbf_h", failures.system_mtbf_s / 3600},
                     {"checkpoint_bytes", failures.checkpoint_bytes},
                     {"checkpoint_write_s", failures.checkpoint_write_s},
                     {"checkpoint_interval_s", failures.checkpoint_interval_s},
                     {"interval", failures.interval_optimal ? "Daly's optimum" : "given"},
                     {"goodput", failures.goodput},
                     {"effective_tokens_per_s", tokens_per_s * failures.goodput}};
  } else {
    j["failures"] = nullptr;
  }
  j["provenance"] = provenance;
  j["events"] = events;
  j["comm_timings"] = comm_timings;
  return j;
}

}  // namespace knee
