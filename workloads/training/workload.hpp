// Transformer training workloads on a simulated cluster (docs/workloads.md): a scenario file
// (docs/scenarios.md) names a system, a model and a parallel layout; simulate() turns one training
// step into the kernels each layer launches (timed from a calibrated profile) and the collectives
// each parallel group sends (timed on the flow-level network), runs the pipeline schedule as
// events, and reports step time, throughput, MFU, memory and where the time went.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topologies/fabric.hpp"

namespace knee {

struct ModelSpec {
  std::int64_t layers = 0, hidden = 0, heads = 0, kv_heads = 0, ffn_hidden = 0;
  std::string ffn = "gelu";  // gelu (two matrices) or swiglu (three)
  std::int64_t seq_len = 0, vocab = 0;  // vocab 0: a bare layer stack
  std::string dtype = "bf16";
  // Dropout probability of the attention scores and of the two residual branches (GPT: 0.1;
  // Llama: 0, which launches no dropout kernel and stores no masks).
  double dropout = 0.1;
  std::int64_t experts = 0, top_k = 0;  // mixture of experts when experts > 0
};

struct ParallelSpec {
  std::int64_t tp = 1, pp = 1, dp = 1, cp = 1, ep = 1;
  std::int64_t micro_batch = 1, global_batch = 1;
  std::string schedule = "1f1b";  // 1f1b, interleaved, gpipe
  std::int64_t virtual_stages = 1;
  bool sequence_parallel = false;
  int zero = 0;  // 0..3
};

struct TrainingSpec {
  std::string precision = "mixed";  // bf16 or mixed
  std::string recompute = "none";   // none, selective, full
  std::string optimizer = "adamw";  // adamw or sgd
  std::string framework = "megatron";  // eager or megatron
  // flash (fused, no s x s scores: Megatron's, or eager PyTorch's scaled_dot_product_attention)
  // or unfused (batched GEMMs + softmax over stored scores: hand-written attention); default flash.
  std::string attention = "flash";
  // Data-parallel gradient reduction in buckets during the last backward (true) or after the
  // whole backward (false, as Megatron-LM did before its distributed data-parallel rewrite).
  bool overlap_grad_reduce = true;
  // Megatron-Core's --tp-comm-overlap (0.5 and later, with sequence parallelism): TP all-gathers
  // and reduce-scatters overlapped with the GEMMs next to them. Off by default, as in Megatron.
  bool tp_comm_overlap = false;
  // dtype of the gradient buffers and of their data-parallel reduction: fp32, bf16 or fp16.
  // Default as Megatron-LM: precision bf16 -> bf16; mixed with bf16 -> fp32 (Megatron forces
  // fp32 accumulation and all-reduce for bf16); mixed with fp16 -> fp16 (its default
  // accumulate_allreduce_grads_in_fp32 = false keeps the main gradients in the parameter dtype).
  std::string grad_reduce_dtype = "fp32";
};

// Energy and cost assumptions (docs/scenarios.md, "cost"): none is a default price; what is not
// given is not reported.
struct CostSpec {
  double usd_per_gpu_hour = -1;  // rental or amortized price of one GPU-hour; < 0: not given
  double usd_per_kWh = -1;       // electricity, applied to facility energy; < 0: not given
  double pue = 1;                // facility energy / IT energy (1: IT energy only)
  double other_W_per_gpu = 0;    // host CPUs, memory, NICs and switches, per GPU
  double train_tokens = 0;       // a whole run of this many tokens; 0: per step only
};

// Failures over a whole run (docs/workloads.md, "Failures"): exponential failures, checkpoint and
// restart (Daly 2006). Off when gpu_mtbf_hours is 0.
struct FailureSpec {
  double gpu_mtbf_hours = 0;        // mean time between job-stopping failures per GPU (its node's share included)
  double restart_s = 0;             // detect, reschedule, reload the last checkpoint
  double checkpoint_write_s = 0;    // time the job stops to write a checkpoint; 0: from storage_write_GBps
  double storage_write_GBps = 0;    // aggregate write bandwidth for the checkpoint
  double checkpoint_interval_s = 0; // 0: Daly's optimum
  bool enabled() const { return gpu_mtbf_hours > 0; }
};

// Per-GPU performance variation (docs/workloads.md, "Stragglers"); off when all are zero/empty.
struct StragglerSpec {
  double gpu_cv = 0;  // GPU-to-GPU variation of compute time (lognormal, mean 1), fixed for the step
  double op_cv = 0;   // variation of each op (a microbatch through a chunk) on each GPU, independent
  struct Slow {
    std::int64_t gpu;
    double slowdown;  // compute-time multiplier >= 1
  };
  std::vector<Slow> slow;  // named stragglers: a throttled GPU, a bad node
  // gpu_cv and op_cv not given in the scenario come from the profile's $.variability.
  bool from_profile = false, gpu_cv_given = false, op_cv_given = false;
  int steps = 1;  // steps simulated (new op draws each), for the spread of step times
  bool enabled() const { return from_profile || gpu_cv > 0 || op_cv > 0 || !slow.empty(); }
};

struct Scenario {
  std::string source;       // file name or "<json>", for messages
  std::string system_name;  // as written ("dgx-h100" or a path)
  SystemSpec system;
  std::int64_t nodes = 0, gpus = 0;
  FabricOptions fabric;
  ModelSpec model;
  ParallelSpec par;
  TrainingSpec train;
  std::string profile;                 // builtin name or path
  std::vector<std::string> placement;  // rank order, fastest varying first: tp, cp, dp, pp
  std::vector<std::int64_t> stages;    // layers per virtual stage; empty: the default split
  std::uint64_t seed = 0;
  CostSpec cost;
  StragglerSpec stragglers;
  FailureSpec failures;
  std::int64_t microbatches() const { return par.global_batch / (par.micro_batch * par.dp); }
};

// Reads a scenario (strict: unknown keys and every inconsistency are InputErrors naming the keys).
Scenario parse_scenario(const nlohmann::json& j, const std::string& source);
Scenario load_scenario(const std::string& path);
// Re-checks the layout after a change (the sweep edits gpus, nodes, dp, global_batch).
void validate_scenario(const Scenario& s);
// Layers of each virtual stage (pp x virtual_stages entries, in pipeline order).
std::vector<std::int64_t> stage_layers(const Scenario& s);

class Timeline;  // sim/engine/timeline.hpp

struct SimOptions {
  bool simulate_if_not_fits = false;  // memory over capacity: report only (default) or run anyway
  // Timeline (docs/workloads.md, Timelines): when set, the step is written to it, one process
  // per traced GPU. trace_ranks empty: one pipeline (tp 0, cp 0, dp 0 of every stage).
  Timeline* trace = nullptr;
  std::vector<std::uint32_t> trace_ranks;
};

struct MemoryReport {
  bool fits = true;
  double per_gpu_bytes = 0, capacity_bytes = 0;
  int worst_stage = 0;
  // Components of the worst stage.
  double weights_bytes = 0, gradients_bytes = 0, optimizer_bytes = 0, activations_bytes = 0,
         buffers_bytes = 0;
  int inflight_microbatches = 0;  // on the worst stage, from the schedule
};

struct Breakdown {
  // Of the stage that finishes last without stragglers; compute + exposed comm + bubble + optimizer
  // + straggler = step time.
  double compute_s = 0, launch_gap_s = 0, bubble_s = 0, optimizer_s = 0;
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
  double system_mtbf_s = 0;           // gpu MTBF / gpus
  double checkpoint_bytes = 0;        // bf16 weights + optimizer state of the whole model
  double checkpoint_write_s = 0;
  double checkpoint_interval_s = 0;   // of training between checkpoints
  bool interval_optimal = false;      // Daly's optimum (none was given)
  double goodput = 1;                 // useful training time / wall time
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
  nlohmann::ordered_json provenance;  // profile, system, network, layout
  nlohmann::ordered_json trace_metadata;  // traced ranks, folding, event counts (with a trace)
  nlohmann::ordered_json to_json() const;
};

SimResult simulate(const Scenario& s, const SimOptions& opt = {});
// Model FLOPs of one step: forward + backward (2x forward), no recompute; closed form in
// docs/workloads.md. With `recompute` the recomputed forward passes are added.
double step_flops(const Scenario& s, bool with_recompute);

struct SweepPoint {
  std::int64_t gpus = 0, tp = 0, pp = 0, dp = 0, cp = 0, global_batch = 0;
  bool feasible = false;
  std::string reason;  // why not feasible
  SimResult result;
  double speedup = 0, efficiency = 0;
};

struct SweepResult {
  std::string mode;  // strong or weak
  std::int64_t baseline_gpus = 0;
  double threshold = 0.8;
  std::vector<SweepPoint> points;
  int knee = -1;  // index of the first point below threshold, -1 if none
  std::string knee_cause;  // the cost that grew most from the baseline to the knee
  nlohmann::ordered_json to_json() const;
  std::string to_csv() const;
  std::string to_table() const;
};

// mode "strong" (global batch fixed) or "weak" (global batch grows with dp); baseline 0: the
// smallest feasible point. Infeasible points are kept with their reason.
SweepResult sweep(const Scenario& s, const std::vector<std::int64_t>& gpus, const std::string& mode,
                  std::int64_t baseline, double threshold);

// The pieces of sweep(), for callers that simulate points elsewhere (Python's process pools and
// Dask): check the arguments (returns the sorted, unique GPU counts), simulate one point, and
// assemble points simulated independently into the same JSON that sweep(...).to_json() gives.
std::vector<std::int64_t> check_sweep_args(const std::vector<std::int64_t>& gpus, const std::string& mode,
                                           std::int64_t baseline, double threshold);
SweepPoint sweep_point(const Scenario& base, std::int64_t gpus, const std::string& mode);
nlohmann::ordered_json sweep_point_json(const SweepPoint& p);  // one element of to_json()["points"]
nlohmann::ordered_json assemble_sweep_json(const std::vector<nlohmann::ordered_json>& points, const std::string& mode,
                                           std::int64_t baseline, double threshold);

}  // namespace knee
