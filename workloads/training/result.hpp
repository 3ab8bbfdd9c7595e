// What simulating one training step gives (docs/workloads.md): step time, throughput, MFU,
// where the time went, memory, stragglers, energy, cost and failures. The JSON of a result
// (to_json) is the one form front ends print, plot and convert (Python, the report).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "workloads/training/scenario.hpp"

namespace knee {

struct MemoryReport {
  bool fits = true;
  double per_gpu_bytes = 0, capacity_bytes = 0;
  int worst_stage = 0;
  // Components of the worst stage.
  double weights_bytes = 0, gradients_bytes = 0, optimizer_bytes = 0, activations_bytes = 0, buffers_bytes = 0;
  int inflight_microbatches = 0;  // on the worst stage, from the schedule
};

struct Breakdown {
  // Of the stage that finishes last without stragglers; compute + exposed comm + bubble + optimizer
  // + straggler = step time.
  double compute_s = 0, launch_gap_s = 0, bubble_s = 0, optimizer_s = 0;
  // Of compute_s: kernel time added by communication kernels holding SMs and HBM bandwidth while
  // they overlap it (docs/workloads.md, "SM sharing").
  double sm_sharing_s = 0;
  // compute_s by phase: forward ops and backward ops (activation recomputation runs inside the
  // backward op, so it counts there), launch gaps and SM sharing included; forward_s + backward_s
  // = compute_s. The optimizer step is optimizer_s.
  double forward_s = 0, backward_s = 0;
  double tp_s = 0, pp_s = 0, dp_s = 0, cp_s = 0, ep_s = 0;  // exposed, by group
  // Step time with per-GPU variation less the step without (0 without a straggler model; negative
  // when the sampled GPUs happen to be faster than the profiled one).
  double straggler_s = 0;
  double exposed_comm_s() const { return tp_s + pp_s + dp_s + cp_s + ep_s; }
};

// What per-GPU variation did to the step (scenario key "stragglers").
struct StragglerReport {
  bool enabled = false;
  double nominal_step_time_s = 0;  // every GPU as the profile
  std::int64_t slowest_gpu = 0;    // the largest compute-time factor, and its value
  double slowest_gpu_factor = 1;
  int slowest_stage = 0, slowest_replica = 0;  // whose end ended the step
  int replicas = 0;                            // pipelines simulated (dp / ep)
  double gpu_cv = 0, op_cv = 0;                // as used
  std::string gpu_cv_from, op_cv_from;         // "scenario" or "profile"
  // Over `steps` simulated steps (the same GPUs, new op draws each step; step_time_s is their mean).
  int steps = 1;
  double step_sd_s = 0, step_min_s = 0, step_p5_s = 0, step_p50_s = 0, step_p95_s = 0, step_max_s = 0;
};

// Energy of one step from the profile's power model (docs/workloads.md, "Energy and cost").
struct EnergyReport {
  bool available = false;        // false: the profile has no power model
  std::string power_provenance;  // of the profile's power model: measured, derived, ...
  double gpu_J_per_step = 0;     // all GPUs
  double avg_power_per_gpu_W = 0;
  double facility_J_per_step = 0;  // (GPUs + other_W_per_gpu) x pue
  double facility_J_per_token = 0;
};
struct CostReport {
  bool priced = false;  // a price was given (usd_per_gpu_hour and/or usd_per_kWh)
  double usd_per_step = 0, usd_per_million_tokens = 0;
  // Whole run (cost.train_tokens > 0): steps rounded up.
  bool run = false;  // days, GPU-hours, energy and dollars include failures when modelled (/ goodput)
  double run_steps = 0, run_days = 0, run_gpu_hours = 0, run_facility_MWh = 0, run_usd = 0;
};

struct FailureReport {
  bool enabled = false;
  double system_mtbf_s = 0;     // gpu MTBF / gpus
  double checkpoint_bytes = 0;  // bf16 weights + optimizer state of the whole model
  double checkpoint_write_s = 0;
  double checkpoint_interval_s = 0;  // of training between checkpoints
  bool interval_optimal = false;     // Daly's optimum (none was given)
  double goodput = 1;                // useful training time / wall time
};

struct SimResult {
  bool simulated = false;  // false when memory does not fit (and not forced)
  double step_time_s = 0, tokens_per_s = 0, samples_per_s = 0;
  double model_flops_per_step = 0;     // 3 passes (forward + backward), no recompute
  double hardware_flops_per_step = 0;  // with recomputation, as Megatron counts TFLOP/s
  double tflops_per_gpu = 0;           // hardware flops / (step x gpus)
  double mfu = 0;                      // model flops / (step x gpus x datasheet peak)
  double comm_to_compute = 0;          // all communication time (hidden or not) / compute time
  Breakdown breakdown;
  StragglerReport stragglers;
  double comm_total_s[5] = {0, 0, 0, 0, 0};  // tp, pp, dp, cp, ep: busy time, hidden or not
  MemoryReport memory;
  EnergyReport energy;
  CostReport cost;
  CostSpec cost_inputs;
  FailureReport failures;  // echoed with the result
  std::int64_t gpus = 0, dp = 0, global_batch = 0, microbatches = 0;
  int critical_stage = 0;
  std::uint64_t events = 0, comm_timings = 0;
  // Every-rank mode (docs/workloads.md, "Folding and its limits"): folded false, the flows of
  // every collective and send on the one network, and what was simulated how (null when folded).
  bool folded = true;
  std::uint64_t flows = 0;
  nlohmann::ordered_json every_rank;
  // 95% intervals over profile draws (PredictionIntervals::to_json, docs/uncertainty.md); null
  // when not asked for (SimOptions::interval_samples 0).
  nlohmann::ordered_json intervals;
  nlohmann::ordered_json provenance;      // profile, system, network, layout
  nlohmann::ordered_json trace_metadata;  // traced ranks, folding, event counts (with a trace)
  nlohmann::ordered_json to_json() const;
};

}  // namespace knee
