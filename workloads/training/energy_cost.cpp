#include "workloads/training/energy_cost.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "workloads/training/params.hpp"

namespace knee::workload {

// Energy of the step and what it costs (docs/workloads.md, "Energy and cost"). Every GPU of a
// stage runs that stage's ops (its TP, CP and DP peers run the same kernels in the model); a GPU
// draws the profile's power for each kernel's utilization while its ops run, idle power for launch
// gaps and for the rest of the step (bubbles, waits, the time after it finishes). Communication
// that overlaps compute is not charged on top.
void energy_and_cost(const Scenario& s, const Profile& prof, const std::vector<std::vector<PipeOp>>& ops,
                     const std::vector<StagePlan>& plans, SimResult& r) {
  r.cost_inputs = s.cost;
  if (!r.simulated) return;
  const double gpus = double(s.gpus), tokens = double(s.par.global_batch) * s.model.seq_len;
  EnergyReport& e = r.energy;
  if (prof.has_power()) {
    e.available = true;
    e.power_provenance = prof.power_provenance();
    const double idle_W = prof.power_W(0, 0);
    const double per_stage = double(s.par.tp * s.par.cp * s.par.dp);
    for (std::size_t st = 0; st < plans.size(); ++st) {
      const StagePlan& P = plans[st];
      double joules = 0, busy = 0;
      for (const PipeOp& o : ops[st]) {
        const OpCost& c = (o.fwd ? P.fwd : P.bwd)[static_cast<std::size_t>(o.chunk)];
        joules += c.energy_J;
        busy += c.total_s;
      }
      joules += P.optimizer_J + std::max(0.0, r.step_time_s - busy - P.optimizer_s) * idle_W;
      e.gpu_J_per_step += joules * per_stage;
    }
    e.avg_power_per_gpu_W = e.gpu_J_per_step / (r.step_time_s * gpus);
    e.facility_J_per_step = (e.gpu_J_per_step + s.cost.other_W_per_gpu * gpus * r.step_time_s) * s.cost.pue;
    e.facility_J_per_token = e.facility_J_per_step / tokens;
  } else if (s.cost.usd_per_kWh >= 0) {
    throw_input_error(s.source, "$.cost.usd_per_kWh",
                      "a profile with a power model (profile '" + prof.name() + "' has none)", "an electricity price");
  }
  // Failures over a run (Daly 2006: exponential failures of mean M, checkpoints of cost delta every
  // tau of training, restarts of cost R): wall time per tau = M e^(R/M) (e^((tau + delta)/M) - 1).
  if (s.failures.enabled()) {
    const FailureSpec& F = s.failures;
    FailureReport& f = r.failures;
    f.enabled = true;
    const bool mixed = s.train.precision == Precision::mixed, adam = s.train.optimizer == Optimizer::adamw;
    f.checkpoint_bytes = total_params(s) * (2 + (adam ? (mixed ? 12 : 4) : (mixed ? 8 : 2)));
    f.checkpoint_write_s =
        F.checkpoint_write_s > 0 ? F.checkpoint_write_s : f.checkpoint_bytes / (F.storage_write_GBps * 1e9);
    const double M = F.gpu_mtbf_hours * 3600 / gpus, d = f.checkpoint_write_s, R = F.restart_s;
    f.system_mtbf_s = M;
    f.interval_optimal = !(F.checkpoint_interval_s > 0);
    if (!f.interval_optimal) f.checkpoint_interval_s = F.checkpoint_interval_s;
    else if (d < 2 * M)
      f.checkpoint_interval_s = std::sqrt(2 * d * M) * (1 + std::sqrt(d / (2 * M)) / 3 + d / (2 * M) / 9) - d;
    else f.checkpoint_interval_s = M;
    const double tau = f.checkpoint_interval_s;
    f.goodput = tau / (M * std::exp(R / M) * std::expm1((tau + d) / M));
  }
  const double slow = r.failures.enabled ? 1 / r.failures.goodput : 1;  // wall time per unit of training
  CostReport& c = r.cost;
  const double gpu_hours_per_step = gpus * r.step_time_s / 3600;
  const double kWh_per_step = e.facility_J_per_step / 3.6e6;  // 0 without a power model (then unpriced)
  c.priced = s.cost.usd_per_gpu_hour >= 0 || s.cost.usd_per_kWh >= 0;
  if (c.priced) {
    c.usd_per_step =
        std::max(0.0, s.cost.usd_per_gpu_hour) * gpu_hours_per_step + std::max(0.0, s.cost.usd_per_kWh) * kWh_per_step;
    c.usd_per_million_tokens = c.usd_per_step / tokens * 1e6;
  }
  if (s.cost.train_tokens > 0) {
    c.run = true;
    c.run_steps = std::ceil(s.cost.train_tokens / tokens);
    c.run_days = c.run_steps * r.step_time_s / 86400 * slow;
    c.run_gpu_hours = c.run_steps * gpu_hours_per_step * slow;
    // Lost work, checkpoints and restarts are charged at the step's average power and price.
    c.run_facility_MWh = e.available ? c.run_steps * kWh_per_step / 1000 * slow : NAN;
    c.run_usd = c.run_steps * c.usd_per_step * slow;
  }
}

}  // namespace knee::workload
