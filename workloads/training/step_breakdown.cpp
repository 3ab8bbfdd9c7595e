#include "workloads/training/step_breakdown.hpp"

#include <algorithm>

namespace knee::workload {

double pipeline_bubble_s(const StageLog& XL, const StageLog* YL, double idle_s, double partner_wait_s) {
  if (!YL) return idle_s;
  TimePs b = 0;
  for (std::size_t i = 0; i < XL.ops.size() && i < YL->ops.size(); ++i)
    b += std::min(XL.ops[i].data_wait, YL->ops[i].data_wait);
  return std::min(idle_s - partner_wait_s, ps_to_s(b)) + partner_wait_s;
}

void fill_step_breakdown(const StageStats& X, double bubble_s, double idle_s, double optimizer_s, SimResult& r) {
  r.step_time_s = X.end_s;
  Breakdown& B = r.breakdown;
  B.compute_s = X.compute_s + X.gap_s;
  B.launch_gap_s = X.gap_s;
  B.sm_sharing_s = X.scaled_extra_s;
  B.forward_s = X.fwd_s;
  B.backward_s = X.bwd_s;
  B.optimizer_s = optimizer_s;
  B.bubble_s = std::max(0.0, bubble_s);
  B.pp_s = std::max(0.0, idle_s - B.bubble_s);
  B.tp_s = X.exposed[kTP];
  B.cp_s = X.exposed[kCP];
  B.ep_s = X.exposed[kEP];
  B.dp_s = X.dp_exposed_s;
  r.comm_total_s[kTP] = X.busy[kTP];
  r.comm_total_s[kCP] = X.busy[kCP];
  r.comm_total_s[kEP] = X.busy[kEP];
  r.comm_total_s[kPP] = X.pp_busy_s;
  r.comm_total_s[kDP] = X.dp_busy_s;
  double comm_all = 0;
  for (double c : r.comm_total_s) comm_all += c;
  r.comm_to_compute = B.compute_s > 0 ? comm_all / B.compute_s : 0;
}

}  // namespace knee::workload
