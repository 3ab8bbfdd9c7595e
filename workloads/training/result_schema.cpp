#include "workloads/training/result_schema.hpp"

namespace knee {

const std::vector<SweepColumn>& sweep_columns() {
  static const std::vector<SweepColumn> cols = {
      {"gpus", "/gpus", "GPUs", "GPU count of the point"},
      {"tp", "/tp", "", "tensor-parallel size"},
      {"pp", "/pp", "", "pipeline stages"},
      {"dp", "/dp", "", "data-parallel replicas"},
      {"cp", "/cp", "", "context-parallel size"},
      {"global_batch", "/global_batch", "samples", "global batch of the point (grows with dp in weak scaling)"},
      {"feasible", "/feasible", "", "the layout exists at this GPU count"},
      {"reason", "/reason", "", "why not feasible"},
      {"step_time_s", "/step_time_s", "s", "simulated time of one step"},
      {"tokens_per_s", "/tokens_per_s", "tokens/s", "throughput"},
      {"speedup", "/speedup", "x", "throughput / the baseline point's throughput"},
      {"efficiency", "/efficiency", "share", "speedup / (gpus / baseline gpus)"},
      {"mfu", "/mfu", "share", "model FLOPs / (step time x GPUs x datasheet peak)"},
      {"comm_to_compute", "/comm_to_compute", "ratio", "all communication time (hidden or not) / compute time"},
      {"compute_s", "/breakdown/compute_s", "s", "compute of the critical stage (launch gaps included)"},
      {"forward_s", "/breakdown/forward_s", "s", "of compute_s: the forward ops"},
      {"backward_s", "/breakdown/backward_s", "s",
       "of compute_s: the backward ops (activation recomputation included)"},
      {"exposed_comm_s", "/breakdown/exposed_comm_s", "s", "communication not hidden behind compute"},
      {"exposed_tp_s", "/breakdown/exposed_comm_by_group_s/tp", "s", "exposed tensor-parallel communication"},
      {"exposed_pp_s", "/breakdown/exposed_comm_by_group_s/pp", "s", "exposed pipeline transfers"},
      {"exposed_dp_s", "/breakdown/exposed_comm_by_group_s/dp", "s", "exposed data-parallel communication"},
      {"exposed_cp_s", "/breakdown/exposed_comm_by_group_s/cp", "s", "exposed context-parallel communication"},
      {"exposed_ep_s", "/breakdown/exposed_comm_by_group_s/ep", "s", "exposed expert-parallel communication"},
      {"bubble_s", "/breakdown/bubble_s", "s", "pipeline bubble"},
      {"optimizer_s", "/breakdown/optimizer_s", "s", "optimizer step"},
      {"launch_gap_s", "/breakdown/launch_gap_s", "s", "GPU idle waiting for host launches (part of compute_s)"},
      {"sm_sharing_s", "/breakdown/sm_sharing_s", "s",
       "compute slowed by communication kernels holding SMs and HBM bandwidth (part of compute_s)"},
      {"straggler_s", "/breakdown/straggler_s", "s", "step time with per-GPU variation less the step without"},
      {"memory_per_gpu_bytes", "/memory_per_gpu_bytes", "bytes", "of the worst stage's GPU"},
      {"avg_power_per_gpu_W", "/energy/avg_power_per_gpu_W", "W", "average GPU power over the step"},
      {"facility_J_per_token", "/energy/facility_J_per_token", "J/token", "facility energy (PUE, other W) per token"},
      {"usd_per_million_tokens", "/cost/usd_per_million_tokens", "USD", "cost of a million tokens"},
      {"run_days", "/cost/run/days", "days", "a whole run of cost.train_tokens (failures included when modelled)"},
      {"run_usd", "/cost/run/usd", "USD", "cost of that run"},
      {"goodput", "/failures/goodput", "share", "useful training time / wall time under failures"},
      {"step_time_s_lo", "/intervals/step_time_s/0", "s", "95% interval of step_time_s, low end (with samples)"},
      {"step_time_s_hi", "/intervals/step_time_s/1", "s", "95% interval of step_time_s, high end"},
      {"tokens_per_s_lo", "/intervals/tokens_per_s/0", "tokens/s", "95% interval of tokens_per_s, low end"},
      {"tokens_per_s_hi", "/intervals/tokens_per_s/1", "tokens/s", "95% interval of tokens_per_s, high end"},
      {"speedup_lo", "/intervals/speedup/0", "x", "95% interval of speedup, low end"},
      {"speedup_hi", "/intervals/speedup/1", "x", "95% interval of speedup, high end"},
      {"efficiency_lo", "/intervals/efficiency/0", "share", "95% interval of efficiency, low end"},
      {"efficiency_hi", "/intervals/efficiency/1", "share", "95% interval of efficiency, high end"},
      {"mfu_lo", "/intervals/mfu/0", "share", "95% interval of mfu, low end"},
      {"mfu_hi", "/intervals/mfu/1", "share", "95% interval of mfu, high end"},
      {"knee", "", "", "the knee's point: the first below the efficiency threshold"},
  };
  return cols;
}

nlohmann::ordered_json sweep_column_value(const SweepColumn& c, const nlohmann::ordered_json& point, bool is_knee) {
  if (c.pointer[0] == '\0') return is_knee;
  // Walk the pointer by hand: a null object on the way (no power model, no price) means no value.
  const nlohmann::ordered_json* at = &point;
  std::string path = c.pointer;
  std::size_t i = 1;
  while (i <= path.size()) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    const std::string key = path.substr(i, j - i);
    if (at->is_array() && !key.empty() && key.find_first_not_of("0123456789") == std::string::npos) {
      const std::size_t k = std::stoul(key);  // an interval's [lo, hi]
      if (k >= at->size()) return nullptr;
      at = &(*at)[k];
    } else if (!at->is_object() || !at->contains(key)) {
      return nullptr;
    } else {
      at = &at->at(key);
    }
    i = j + 1;
  }
  return *at;
}

}  // namespace knee
